//! Deadlines and cancellation for searches.
//!
//! A search is handed a [`Deadline`] and checks it inside its collectors and its verification
//! loop, so a caller (the parallel validation engine, a CLI `--timeout`, Ctrl-C) can stop it
//! promptly and get a distinct error back rather than a late answer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A shared flag that asks running searches to stop.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks everything holding a clone of this token to stop.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Has [`cancel`](Self::cancel) been called on any clone?
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Why a search stopped before finishing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupted {
    /// The deadline passed.
    TimedOut,
    /// The cancel token was set.
    Cancelled,
}

/// When a search must give up: an instant, a cancel token, both or neither.
#[derive(Debug, Clone, Default)]
pub struct Deadline {
    at: Option<Instant>,
    cancel: Option<CancelToken>,
}

impl Deadline {
    /// A deadline that never passes.
    pub fn none() -> Self {
        Self::default()
    }

    /// A deadline `timeout` from now.
    pub fn after(timeout: Duration) -> Self {
        Deadline {
            at: Instant::now().checked_add(timeout),
            cancel: None,
        }
    }

    /// A deadline at `instant`.
    pub fn at(instant: Instant) -> Self {
        Deadline {
            at: Some(instant),
            cancel: None,
        }
    }

    /// The same deadline, also stopped by `token`.
    pub fn with_cancel(mut self, token: CancelToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// The instant, if any.
    pub fn instant(&self) -> Option<Instant> {
        self.at
    }

    /// `Err` once the deadline has passed or the token is cancelled.
    #[inline]
    pub fn check(&self) -> Result<(), Interrupted> {
        if let Some(token) = &self.cancel {
            if token.is_cancelled() {
                return Err(Interrupted::Cancelled);
            }
        }
        match self.at {
            Some(at) if Instant::now() >= at => Err(Interrupted::TimedOut),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passed_deadline_and_cancel_are_distinct() {
        assert!(Deadline::none().check().is_ok());
        assert!(Deadline::after(Duration::from_secs(3600)).check().is_ok());
        assert_eq!(
            Deadline::at(Instant::now()).check(),
            Err(Interrupted::TimedOut)
        );
        let t = CancelToken::new();
        let d = Deadline::none().with_cancel(t.clone());
        assert!(d.check().is_ok());
        t.cancel();
        assert_eq!(d.check(), Err(Interrupted::Cancelled));
    }
}
