//! Jobs, attempts and what became of them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Scheduling priority: all `High` jobs are dispatched before `Normal`, before `Low`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TestPriority {
    /// Dispatched first: the checks whose failure matters most.
    High,
    /// The default.
    Normal,
    /// Dispatched last: the slow or less critical cases.
    Low,
}

/// The verdict of a validation that ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict<O> {
    /// Did the engine answer correctly?
    pub passed: bool,
    /// What the validator reports about the case (its result, for the report).
    pub output: O,
}

/// A validation that could not run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    /// What went wrong, for the report.
    pub message: String,
    /// Worth another attempt (timeouts, I/O, unavailable backends).
    pub retryable: bool,
    /// The deadline passed.
    pub timed_out: bool,
    /// The case cannot be expressed for this validator's backend (a query type a grep has no
    /// syntax for): final, and neither a pass nor a failure.
    pub unsupported: bool,
}

impl JobError {
    /// An error worth another attempt (I/O, an unavailable backend).
    pub fn retryable(message: impl Into<String>) -> Self {
        JobError {
            message: message.into(),
            retryable: true,
            timed_out: false,
            unsupported: false,
        }
    }

    /// An error no retry can mend (a bad case, a refused query).
    pub fn fatal(message: impl Into<String>) -> Self {
        JobError {
            message: message.into(),
            retryable: false,
            timed_out: false,
            unsupported: false,
        }
    }

    /// The case cannot be expressed for the backend: reported as unsupported, never retried.
    pub fn unsupported(message: impl Into<String>) -> Self {
        JobError {
            message: message.into(),
            retryable: false,
            timed_out: false,
            unsupported: true,
        }
    }

    /// The deadline passed: retryable, and the job is timed out when every attempt is.
    pub fn timeout() -> Self {
        JobError {
            message: "timed out".into(),
            retryable: true,
            timed_out: true,
            unsupported: false,
        }
    }
}

/// A unit of work: one case, with its id (from the case), priority and retries so far.
#[derive(Debug, Clone)]
pub struct TestJob<C> {
    /// The case's id: unique within a run.
    pub id: String,
    /// The case itself.
    pub test_case: C,
    /// When it is dispatched relative to other jobs.
    pub priority: TestPriority,
    /// Retries made so far.
    pub retry_count: u32,
    /// Position in the input: the order results come back in.
    pub index: usize,
    /// The group its statistics are kept under (the query type).
    pub category: String,
    /// Expected duration from history, for longest-first ordering.
    pub expected_ms: Option<f64>,
}

/// How one attempt ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// The validation ran and the answer was right.
    Passed,
    /// The validation ran and the answer was wrong.
    Failed,
    /// The validation could not run; the message says why.
    Error(String),
    /// The deadline passed first.
    TimedOut,
    /// The validator panicked; the message is the panic's.
    Panicked(String),
    /// The run stopped before this attempt finished.
    Cancelled,
    /// The backend cannot express the case; the message says why.
    Unsupported(String),
}

/// One attempt of a job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attempt {
    /// How it ended.
    pub outcome: AttemptOutcome,
    /// How long it took, ms.
    pub duration_ms: f64,
}

/// What became of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobStatus {
    /// The last attempt passed (see `flaky` for passes after errors).
    Passed,
    /// The validation ran and the answer was wrong, or the validator panicked.
    Failed,
    /// It could not run (non-retryable error, or retries exhausted on errors).
    Errored,
    /// Every attempt ran out of time.
    TimedOut,
    /// Never finished: the run stopped first.
    Cancelled,
    /// Not run to a verdict: the backend cannot express the case (its query type, its
    /// regex dialect). Counted apart, neither passed nor failed.
    Unsupported,
}

impl fmt::Display for JobStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            JobStatus::Passed => "passed",
            JobStatus::Failed => "failed",
            JobStatus::Errored => "errored",
            JobStatus::TimedOut => "timed out",
            JobStatus::Cancelled => "cancelled",
            JobStatus::Unsupported => "unsupported",
        })
    }
}

/// Why a run stopped before every job ran, most serious last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CancelReason {
    /// `fail_fast` or `max_fail` was reached.
    TestFailure,
    /// The global timeout passed.
    GlobalTimeout,
    /// An executor thread could not be started (the system is out of threads).
    ExecutorUnavailable,
    /// The caller (Ctrl-C) asked to stop.
    Interrupt,
}

impl fmt::Display for CancelReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CancelReason::TestFailure => "the failure limit was reached",
            CancelReason::GlobalTimeout => "the global timeout passed",
            CancelReason::ExecutorUnavailable => "no executor thread could be started",
            CancelReason::Interrupt => "interrupted",
        })
    }
}

/// The result of one job: every job appears exactly once.
#[derive(Debug, Clone, Serialize)]
pub struct ExecutionResult<O> {
    /// The job's (the case's) id.
    pub job_id: String,
    /// Position in the input: results are returned in this order.
    pub index: usize,
    /// The group its statistics are kept under.
    pub category: String,
    /// Its scheduling priority.
    pub priority: TestPriority,
    /// What became of it.
    pub status: JobStatus,
    /// Passed after at least one errored attempt.
    pub flaky: bool,
    /// Retries made (attempts after the first).
    pub retry_count: u32,
    /// Every attempt, in order.
    pub attempts: Vec<Attempt>,
    /// The last verdict's output, when an attempt ran to a verdict.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output: Option<O>,
    /// Sum of attempt durations.
    pub duration_ms: f64,
    /// The worker that ran it (none if never started).
    pub worker: Option<usize>,
}

impl<O> ExecutionResult<O> {
    /// Did the job pass (flaky or not)?
    pub fn is_success(&self) -> bool {
        self.status == JobStatus::Passed
    }

    /// Does the job count against `fail_fast` and `max_fail`: did it run and not pass?
    /// (Cancelled and unsupported jobs never ran to a verdict.)
    pub fn is_problem(&self) -> bool {
        !matches!(
            self.status,
            JobStatus::Passed | JobStatus::Cancelled | JobStatus::Unsupported
        )
    }

    /// The worker that ran the job (the seed design's `worker_id`).
    pub fn worker_id(&self) -> Option<usize> {
        self.worker
    }

    /// The time the job took, all attempts (the seed design's `execution_time`).
    pub fn execution_time(&self) -> std::time::Duration {
        verity_core::seconds(self.duration_ms / 1000.0)
    }

    /// The validator's verdict of the last attempt that ran to one (the seed design's
    /// `validation_result`).
    pub fn validation_result(&self) -> Option<&O> {
        self.output.as_ref()
    }

    /// Why the job did not pass, when it errored, timed out, panicked or is unsupported (the
    /// seed design's `error`).
    pub fn error(&self) -> Option<String> {
        self.message()
    }

    /// A short explanation of a non-passing result.
    pub fn message(&self) -> Option<String> {
        match self.attempts.last().map(|a| &a.outcome) {
            Some(AttemptOutcome::Error(m))
            | Some(AttemptOutcome::Panicked(m))
            | Some(AttemptOutcome::Unsupported(m)) => Some(m.clone()),
            Some(AttemptOutcome::TimedOut) => Some("timed out".into()),
            _ => None,
        }
    }
}
