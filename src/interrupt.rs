//! SIGINT and SIGTERM: stop at once, say where, exit 130 or 143.
//!
//! An invocation spends nearly all its time blocked in a socket read or
//! sleeping before a retry, and neither can be woken portably from a signal
//! handler. So each interruptible step (the start ping, the jobs, the finish
//! ping) runs on a worker thread while the main thread waits for whichever
//! comes first: the step's end or a signal (delivered by signal-hook's own
//! thread, outside any handler). On a signal the main thread returns and the
//! process exits; the OS closes the socket and releases the `--lock-file`
//! lock.
//!
//! One [`Watch`] serves the whole invocation, from before the start ping to
//! the end of the finish ping: once signal-hook has replaced the default
//! action, a signal that nobody waited for would be swallowed, and a signal
//! before it is installed would kill the process without a word. A signal
//! that arrives between two steps is kept and cuts the next one short.
//!
//! A [`Phase`], handed to each step and by it to whatever the step waits
//! on, keeps a short description of what the invocation is doing, so the
//! interruption can be logged as "while waiting for the server (attempt
//! 2/3)". It is a value the invocation owns and passes down, not a global:
//! whoever sets it is in the call.
//!
//! Threads are a resource a service manager limits (`TasksMax=`, a pids
//! cgroup, `RLIMIT_NPROC`), and under a tight address-space limit none is
//! started ([`threads_allowed`]). Without the signal thread the watch is
//! off and the default actions apply; without a worker a step runs on the
//! calling thread, and a signal that comes meanwhile cuts the next step
//! short instead. Either way the run goes on and reports as usual.
//!
//! SIGXFSZ, which a file-size limit (`LimitFSIZE=`, `ulimit -f`) sends on a
//! write past it, is ignored ([`ignore_file_size_signal`]): the write then
//! fails with `EFBIG`, an I/O error each writer reports and cleans up after,
//! instead of a death that leaves a temporary file and sends no finish
//! ping.

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::error::{Error, Signal};

/// What the invocation is doing now ("waiting for … (attempt 1/3)"), for
/// the interruption message. One per invocation, shared by the steps (in
/// order) and the threads a step runs on; cloning it shares it. Until a
/// step says otherwise it is "starting".
#[derive(Clone, Debug, Default)]
pub struct Phase(Arc<Mutex<String>>);

impl Phase {
    /// Records what the invocation is doing now.
    pub fn set(&self, doing: impl Into<String>) {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = doing.into();
    }

    /// What the invocation was doing, as "while …" completes it.
    fn doing(&self) -> String {
        let doing = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if doing.is_empty() {
            "starting".into()
        } else {
            doing.clone()
        }
    }
}

/// Makes a write past a file-size limit an error (`EFBIG`) rather than a
/// death by SIGXFSZ. Called once, before anything is written.
pub fn ignore_file_size_signal() {
    // SAFETY: SIG_IGN installs no handler code; signal() has no other
    // preconditions, and nothing else in the process handles SIGXFSZ.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}

/// An address-space limit (`LimitAS=`, `ulimit -v`) under which no thread
/// is started: each reserves 2 MiB of stack, and under a tight limit the
/// stacks took what an allocation later needed, which ends a process
/// (SIGABRT, "memory allocation failed") rather than failing a call.
const THREADS_NEED_ADDRESS_SPACE: u64 = 64 * 1024 * 1024;

/// Whether threads may be started at all: not under a tight address-space
/// limit (see [`THREADS_NEED_ADDRESS_SPACE`]). Asked once.
pub(crate) fn threads_allowed() -> bool {
    static ALLOWED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ALLOWED.get_or_init(|| {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes one rlimit through a valid pointer.
        let known = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) } == 0;
        let tight = known
            && limit.rlim_cur != libc::RLIM_INFINITY
            && limit.rlim_cur < THREADS_NEED_ADDRESS_SPACE;
        if tight {
            log::debug!(
                "address space limited to {} KiB; working on one thread",
                limit.rlim_cur / 1024
            );
        }
        !tight
    })
}

/// A thread named for `what`, or `None` (with a debug line) where none can
/// be had: the caller then does the work itself.
pub(crate) fn spawn<F>(what: &str, work: F) -> Option<thread::JoinHandle<()>>
where
    F: FnOnce() + Send + 'static,
{
    if !threads_allowed() {
        return None;
    }
    match thread::Builder::new().spawn(work) {
        Ok(handle) => Some(handle),
        Err(e) => {
            log::debug!("cannot start a thread for {what} ({e}); doing it on this one");
            None
        }
    }
}

enum Event {
    /// The step running on the worker thread has ended.
    Done,
    Signal(i32),
}

/// SIGINT and SIGTERM, watched from [`Watch::start`] until the process ends.
pub struct Watch {
    /// `None` where the handlers could not be installed: steps then run on
    /// the calling thread, and the default action (terminate) applies.
    events: Option<(Sender<Event>, Receiver<Event>)>,
}

impl Watch {
    /// Installs the handlers and the thread that forwards signals.
    pub fn start() -> Watch {
        let (sender, receiver) = mpsc::channel();
        let on_signal = sender.clone();
        // The thread first, the handlers after: handlers with nobody to
        // forward their signals would swallow them.
        let (give, take) = mpsc::channel::<Signals>();
        let forwarder = spawn("signals", move || {
            let Ok(mut signals) = take.recv() else {
                return;
            };
            for number in signals.forever() {
                if on_signal.send(Event::Signal(number)).is_err() {
                    break;
                }
            }
        });
        if forwarder.is_none() {
            return Watch { events: None };
        }
        let Ok(signals) = Signals::new([SIGINT, SIGTERM]) else {
            // Without handlers only the log line is lost. Dropping `give`
            // ends the forwarding thread.
            log::debug!("cannot install signal handlers; running without them");
            return Watch { events: None };
        };
        if give.send(signals).is_err() {
            return Watch { events: None };
        }
        Watch {
            events: Some((sender, receiver)),
        }
    }

    /// Runs `work` on a worker thread and returns its result, unless SIGINT
    /// or SIGTERM arrives first (or arrived since the last step): then it
    /// returns [`Error::Interrupted`] at once, saying what `phase` said the
    /// invocation was doing, and leaves the worker to die with the process.
    pub fn run<T, F>(&self, phase: &Phase, work: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let Some((sender, receiver)) = &self.events else {
            return Ok(work());
        };
        let result = Arc::new(Mutex::new(None));
        let (done, slot) = (sender.clone(), result.clone());
        // Handed back if no worker can be had, to run here instead.
        let work = Arc::new(Mutex::new(Some(work)));
        let for_worker = work.clone();
        let worker = spawn("the step", move || {
            let Some(work) = for_worker.lock().ok().and_then(|mut w| w.take()) else {
                return;
            };
            // Says "done" when dropped, so that a worker that panics (in a
            // debug build; release builds abort) is not waited for forever.
            struct SayDone(Sender<Event>);
            impl Drop for SayDone {
                fn drop(&mut self) {
                    let _ = self.0.send(Event::Done);
                }
            }
            let _done = SayDone(done);
            let value = work();
            if let Ok(mut slot) = slot.lock() {
                *slot = Some(value);
            }
        });
        let inline = match worker {
            Some(_) => None,
            None => work.lock().unwrap_or_else(|p| p.into_inner()).take(),
        };
        if let Some(work) = inline {
            // A signal since the last step still cuts this one short; one
            // that comes during it waits for the next.
            return match receiver.try_recv() {
                Ok(Event::Signal(number)) => Err(interrupted(number, phase)),
                _ => Ok(work()),
            };
        }
        match receiver.recv() {
            Ok(Event::Signal(number)) => Err(interrupted(number, phase)),
            Ok(Event::Done) => {
                let value = result.lock().ok().and_then(|mut slot| slot.take());
                // The worker stores its value before it says it is done;
                // only a panic leaves none.
                Ok(value.expect("the step panicked"))
            }
            // The watch keeps a sender, so the channel cannot close.
            Err(_) => unreachable!("the signal channel closed"),
        }
    }
}

fn interrupted(number: i32, phase: &Phase) -> Error {
    Error::Interrupted {
        signal: if number == SIGINT {
            Signal::Int
        } else {
            Signal::Term
        },
        during: format!("while {}", phase.doing()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interruption_says_what_the_phase_last_said() {
        let phase = Phase::default();
        let during = |phase: &Phase| match interrupted(SIGTERM, phase) {
            Error::Interrupted { signal, during } => (signal == Signal::Term, during),
            other => panic!("{other:?}"),
        };
        assert_eq!(during(&phase), (true, "while starting".into()));
        let shared = phase.clone();
        shared.set("sending the start ping");
        assert_eq!(during(&phase).1, "while sending the start ping");
        assert!(matches!(
            interrupted(SIGINT, &phase),
            Error::Interrupted {
                signal: Signal::Int,
                ..
            }
        ));
    }
}
