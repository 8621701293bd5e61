//! # verity-runner
//!
//! The parallel test execution engine. It runs thousands of validation jobs concurrently and
//! returns every result exactly once, in a deterministic order, while keeping the machine
//! healthy. It is generic over [`Validator`], so it runs the correctness validator in
//! production and fake validators of controlled latency, failure, panic, hang and flakiness in
//! tests.
//!
//! Shape (after cargo-nextest's runner): the [`ParallelExecutor`] owns the run; its
//! *dispatcher* hands jobs from a shared priority queue to worker tasks; each job attempt
//! executes on its worker's own executor thread (CPU work never runs on the async workers),
//! under a [`Deadline`] the validator honours, so a timeout really stops the work. Outcomes are
//! an exhaustive enum ([`JobStatus`]); why a run stopped early is an ordered [`CancelReason`].
//! The runner draws nothing: it reports what happens as [`RunEvent`]s to an [`EventSink`]
//! (verity-report's progress reporter draws them).
//!
//! Modules, in dependency order (none imports one listed after it):
//!
//! * [`config`] — [`ParallelConfig`] and the retry [`Backoff`];
//! * [`job`] — jobs, attempts, statuses, results;
//! * [`events`] — [`RunEvent`] and the [`EventSink`] that receives them;
//! * [`stats`] — [`ExecutionStats`], computed from results only;
//! * [`monitor`] — real memory readings (sysinfo) and the AIMD concurrency limit;
//! * `state` — what one run shares between the dispatcher and the executors;
//! * `executor` — one attempt of one job, on the worker's own threads; retries;
//! * [`dispatcher`] — the run: queue, workers, watchers, results and events.

#![warn(missing_docs)]

pub mod config;
pub mod dispatcher;
pub mod events;
mod executor;
pub mod job;
pub mod monitor;
mod state;
pub mod stats;

pub use config::{Backoff, ParallelConfig};
pub use dispatcher::{
    run_parallel_validation, run_parallel_validation_with, ParallelExecutor, QueueStatus,
};
pub use events::{Counts, EventSink, FinishedJob, RunEvent};
pub use job::{
    Attempt, AttemptOutcome, CancelReason, ExecutionResult, JobError, JobStatus, TestJob,
    TestPriority, Verdict,
};
pub use stats::{ExecutionStats, SeedStats};
pub use verity_core::{CancelToken, Deadline};

/// What the executor runs: one validation per case.
///
/// `validate` runs on an executor thread. It must return promptly once `deadline` passes
/// (`deadline.check()` in its loops); the executor frees the job's slot at the deadline either
/// way and counts work that is still running.
pub trait Validator: Send + Sync + 'static {
    /// What one job validates (a ground-truth case).
    type Case: Send + Sync + 'static;
    /// What a validation reports about its case.
    type Output: Clone + Send + Sync + 'static;

    /// A stable, unique id for the case (job ids come from here).
    fn case_id(&self, case: &Self::Case) -> String;
    /// A grouping for statistics (the query type).
    fn category(&self, case: &Self::Case) -> String;
    /// The case's priority.
    fn priority(&self, case: &Self::Case) -> TestPriority;
    /// Runs the case. `Ok` with a verdict when it ran (passed or failed: failures are never
    /// retried); `Err` when it could not run (retried when the error is retryable).
    fn validate(
        &self,
        case: &Self::Case,
        deadline: &Deadline,
    ) -> Result<Verdict<Self::Output>, JobError>;
}
