//! What happens during a run, as events a reporter consumes.
//!
//! The dispatcher does not draw anything: it emits a [`RunEvent`] when the run starts, when
//! each job ends, when the concurrency limit moves, when the run is asked to stop and when it
//! ends, and whoever watches (a progress bar, plain log lines, a test) implements
//! [`EventSink`]. Events reach the sink on the thread that drives the run, one at a time and in
//! the order the dispatcher saw them: `Started` first, `Finished` last, and one `JobFinished`
//! per job whose `counts.done` goes up by one each time. Jobs never started (cancelled when
//! the run stopped) have no `JobFinished`; `Finished` counts them.

use crate::job::{CancelReason, JobStatus};

/// Counters at one moment of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Jobs with a result.
    pub done: usize,
    /// Jobs in the run.
    pub total: usize,
    /// Of the done jobs, those that passed.
    pub passed: usize,
    /// Of the done jobs, those that ran and did not pass (failed, errored, timed out;
    /// not cancelled or unsupported).
    pub failed: usize,
    /// Jobs running now.
    pub running: usize,
}

/// One job that ended.
#[derive(Debug, Clone, PartialEq)]
pub struct FinishedJob {
    /// The job's id (its case id).
    pub job_id: String,
    /// Its category (the query type).
    pub category: String,
    /// How it ended.
    pub status: JobStatus,
    /// Passed after an error.
    pub flaky: bool,
    /// Retries it took.
    pub retry_count: u32,
    /// Time over all its attempts, ms.
    pub duration_ms: f64,
}

/// Something that happened during a run.
#[derive(Debug, Clone, PartialEq)]
pub enum RunEvent {
    /// The run begins: `total` jobs, at most `workers` at once.
    Started {
        /// Jobs in the run.
        total: usize,
        /// Worker tasks (the concurrency limit's maximum).
        workers: usize,
    },
    /// A job ended (passed, failed, errored, timed out, cancelled while running, unsupported).
    JobFinished {
        /// The job.
        job: FinishedJob,
        /// The counters just after it.
        counts: Counts,
    },
    /// The resource monitor moved the concurrency limit: down under memory pressure, up by
    /// one once it eases.
    ConcurrencyChanged {
        /// The limit before.
        from: usize,
        /// The limit now.
        to: usize,
    },
    /// Dispatching stops: no new job starts, running jobs get the grace period. Emitted again
    /// only when a more serious reason arrives.
    Stopping {
        /// Why.
        reason: CancelReason,
    },
    /// The run ended; every job has a result.
    Finished {
        /// The final counters (jobs never started are counted as done and not passed).
        counts: Counts,
        /// Why the run stopped early, if it did.
        cancel_reason: Option<CancelReason>,
    },
}

/// Receives a run's events. Closures `FnMut(&RunEvent)` are sinks.
pub trait EventSink {
    /// Called once per event, in order, on the thread that drives the run.
    fn event(&mut self, event: &RunEvent);
}

impl<F: FnMut(&RunEvent)> EventSink for F {
    fn event(&mut self, event: &RunEvent) {
        self(event)
    }
}

/// A sink that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Discard;

impl EventSink for Discard {
    fn event(&mut self, _: &RunEvent) {}
}
