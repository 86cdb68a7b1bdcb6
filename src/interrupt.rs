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
//! [`set_phase`] keeps a short description of what the invocation is doing,
//! so the interruption can be logged as "while waiting for the server
//! (attempt 2/3)".

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::error::{Error, Signal};

static PHASE: Mutex<String> = Mutex::new(String::new());

/// Records what the invocation is doing now, for the interruption message.
pub fn set_phase(phase: impl Into<String>) {
    if let Ok(mut current) = PHASE.lock() {
        *current = phase.into();
    }
}

fn phase() -> String {
    PHASE
        .lock()
        .map(|p| p.clone())
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| "starting".into())
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
        let Ok(mut signals) = Signals::new([SIGINT, SIGTERM]) else {
            // Without handlers only the log line is lost.
            log::debug!("cannot install signal handlers; running without them");
            return Watch { events: None };
        };
        let (sender, receiver) = mpsc::channel();
        let on_signal = sender.clone();
        thread::spawn(move || {
            for number in signals.forever() {
                if on_signal.send(Event::Signal(number)).is_err() {
                    break;
                }
            }
        });
        Watch {
            events: Some((sender, receiver)),
        }
    }

    /// Runs `work` on a worker thread and returns its result, unless SIGINT
    /// or SIGTERM arrives first (or arrived since the last step): then it
    /// returns [`Error::Interrupted`] at once, leaving the worker to die
    /// with the process.
    pub fn run<T, F>(&self, work: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let Some((sender, receiver)) = &self.events else {
            return Ok(work());
        };
        let result = Arc::new(Mutex::new(None));
        let (done, slot) = (sender.clone(), result.clone());
        thread::spawn(move || {
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
        match receiver.recv() {
            Ok(Event::Signal(number)) => Err(Error::Interrupted {
                signal: if number == SIGINT {
                    Signal::Int
                } else {
                    Signal::Term
                },
                during: format!("while {}", phase()),
            }),
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
