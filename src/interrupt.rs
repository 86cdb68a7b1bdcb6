//! SIGINT and SIGTERM: stop at once, say where, exit 130 or 143.
//!
//! A run spends nearly all its time blocked in a socket read or sleeping
//! before a retry, and neither can be woken portably from a signal handler.
//! So the run happens on a worker thread while the main thread waits for
//! whichever comes first: the run's result or a signal (delivered by
//! signal-hook's own thread, outside any handler). On a signal the main thread
//! returns and the process exits; the OS closes the socket and releases the
//! `--lock-file` lock.
//!
//! [`set_phase`] keeps a short description of what the run is doing, so the
//! interruption can be logged as "while waiting for the server (attempt 2/3)".

use std::sync::Mutex;
use std::sync::mpsc;
use std::thread;

use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::error::{Error, Signal};

static PHASE: Mutex<String> = Mutex::new(String::new());

/// Records what the run is doing now, for the interruption message.
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

enum Event<T> {
    Done(T),
    Signal(i32),
}

/// Runs `work` on a worker thread and returns its result, unless SIGINT or
/// SIGTERM arrives first: then it returns [`Error::Interrupted`] at once,
/// leaving the worker to die with the process.
pub fn run_until_signal<T, F>(work: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let Ok(mut signals) = Signals::new([SIGINT, SIGTERM]) else {
        // Without handlers the default action (terminate) still applies;
        // only the log line is lost.
        log::debug!("cannot install signal handlers; running without them");
        return Ok(work());
    };
    let (events, event) = mpsc::channel();
    let on_signal = events.clone();
    thread::spawn(move || {
        if let Some(number) = signals.forever().next() {
            let _ = on_signal.send(Event::Signal(number));
        }
    });
    thread::spawn(move || {
        let _ = events.send(Event::Done(work()));
    });
    match event.recv() {
        Ok(Event::Done(result)) => Ok(result),
        Ok(Event::Signal(number)) => Err(Error::Interrupted {
            signal: if number == SIGINT {
                Signal::Int
            } else {
                Signal::Term
            },
            during: phase(),
        }),
        // Both senders gone without a word: the worker panicked.
        Err(_) => panic!("the run ended without a result"),
    }
}
