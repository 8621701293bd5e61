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

/// The longest span of time Verity's flags and settings take, in seconds: about 31 years.
/// Longer spans cannot be added to an `Instant` on every platform, and mean "no limit" anyway.
pub const MAX_SECONDS: f64 = 1e9;

/// A number of seconds as a [`Duration`]: negative and NaN become zero, and anything past
/// [`MAX_SECONDS`] (infinity included) becomes `MAX_SECONDS`. Never panics, unlike
/// `Duration::from_secs_f64`.
pub fn seconds(s: f64) -> Duration {
    if s.is_nan() || s <= 0.0 {
        return Duration::ZERO;
    }
    Duration::from_secs_f64(s.min(MAX_SECONDS))
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
    fn seconds_never_panic_and_stay_in_range() {
        assert_eq!(seconds(1.5), Duration::from_millis(1500));
        for s in [0.0, -1.0, f64::NAN, f64::NEG_INFINITY] {
            assert_eq!(seconds(s), Duration::ZERO, "{s}");
        }
        for s in [1e20, 1e300, f64::INFINITY] {
            assert_eq!(seconds(s), Duration::from_secs(1_000_000_000), "{s}");
            assert!(Deadline::after(seconds(s)).instant().is_some());
        }
    }

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
