//! The executors: one attempt of one job at a time, on the worker's own threads.
//!
//! Each attempt of a job executes on its worker's own executor thread (never on the async
//! workers), bounded by a deadline the validator honours; at the deadline the worker moves on
//! at once even if the validator does not, and attempts that outlive their deadline are
//! counted and bound how much new work is dispatched, so hung validators cannot pile up
//! threads. Errors are retried with backoff; failures and panics are final.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng;

use crate::config::ParallelConfig;
use crate::job::{Attempt, AttemptOutcome, ExecutionResult, JobStatus, TestJob};
use crate::state::Shared;
use crate::{CancelReason, Deadline, Validator};

/// How long an attempt past its deadline gets to return before it is abandoned: enough for a
/// validator that checks its deadline, well inside the 100 ms in which a slot must be free.
const SETTLE_AFTER_DEADLINE: Duration = Duration::from_millis(50);

/// What an attempt hands back: the validator's answer or its panic; `RecvError` if the
/// executor thread vanished without answering.
type Joined<O> = Result<
    std::thread::Result<Result<crate::Verdict<O>, crate::JobError>>,
    tokio::sync::oneshot::error::RecvError,
>;

/// A worker's own executor (a rayon pool of `threads_per_worker` threads, one by default):
/// every attempt of the worker runs here, off the async runtime.
///
/// Why not tokio's blocking pool: `spawn_blocking` hands each attempt to whichever pool thread
/// is idle, so consecutive jobs of one worker hop between threads, and the kernel often wakes
/// the chosen thread on the core where the *other* worker's job is running. Two CPU-bound jobs
/// then share one core for a scheduler period (measured: median job 2.9 ms, p95 5.9 ms with
/// 2 workers, speed-up 1.6× instead of 2×). A thread per worker keeps running on its own core.
pub(crate) struct ExecThread {
    pool: rayon::ThreadPool,
}

impl ExecThread {
    /// A worker's executor: a rayon pool of `threads` threads. Attempts run on it one at a
    /// time (the worker awaits each), and any rayon work a validator does inside (the
    /// engine's parallel verification) stays on this pool instead of the global one: so the
    /// runner, not rayon's default of one thread per CPU, decides how many cores are busy.
    pub(crate) fn spawn(worker: usize, threads: usize) -> std::io::Result<ExecThread> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .thread_name(move |i| format!("verity-exec-{worker}-{i}"))
            .build()
            .map_err(std::io::Error::other)?;
        Ok(ExecThread { pool })
    }

    /// Runs `f` on the pool; the receiver yields its value. `f` must not panic (attempts
    /// catch their validator's panics): a panic in a pool task aborts the process.
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> tokio::sync::oneshot::Receiver<T> {
        let (otx, orx) = tokio::sync::oneshot::channel();
        // A pool left behind by an abandoned attempt ends once that attempt returns: dropping
        // a rayon pool lets its threads finish their work and exit.
        self.pool.spawn(move || {
            let _ = otx.send(f());
        });
        orx
    }
}

enum Ran<O> {
    Verdict(bool, O),
    Error(String, bool),
    TimedOut,
    Panicked(String),
    Cancelled,
    Unsupported(String),
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".into()
    }
}

/// Runs one attempt on the worker's executor thread, giving up at its deadline.
async fn attempt<V: Validator>(
    shared: &Arc<Shared>,
    exec: &mut ExecThread,
    worker: usize,
    threads: usize,
    timeout: Duration,
    validator: Arc<V>,
    case: Arc<V::Case>,
) -> Ran<V::Output> {
    let deadline = Deadline::after(timeout).with_cancel(shared.attempt_cancel.clone());
    // Counted while the validator runs, on the executor itself: an abandoned attempt still
    // running past its deadline still counts, so the peak is what really ran at once.
    let running = shared.attempts_running.fetch_add(1, Ordering::AcqRel) + 1;
    shared.peak_attempts.fetch_max(running, Ordering::AcqRel);
    let counter = shared.clone();
    let mut handle = exec.run(move || {
        let r = std::panic::catch_unwind(AssertUnwindSafe(|| validator.validate(&case, &deadline)));
        counter.attempts_running.fetch_sub(1, Ordering::AcqRel);
        r
    });
    let mut hard = shared.hard.subscribe();
    // Leaves a hung attempt running on its thread, which ends once the attempt returns, and
    // gives the worker a fresh thread. Hung threads are counted and bound dispatching.
    let mut abandon = |handle: tokio::sync::oneshot::Receiver<_>| {
        shared.abandoned_running.fetch_add(1, Ordering::AcqRel);
        shared.abandoned_total.fetch_add(1, Ordering::Relaxed);
        let shared2 = shared.clone();
        tokio::spawn(async move {
            let _ = handle.await;
            shared2.abandoned_running.fetch_sub(1, Ordering::AcqRel);
        });
        match ExecThread::spawn(worker, threads) {
            Ok(fresh) => *exec = fresh,
            Err(e) => {
                // The worker's next attempts would wait behind the hung one: stop cleanly.
                tracing::error!("cannot start an executor thread: {e}");
                shared.request_stop(CancelReason::ExecutorUnavailable);
            }
        }
    };
    let settle = |joined: Joined<V::Output>| match joined {
        Ok(Ok(Ok(v))) => Ran::Verdict(v.passed, v.output),
        Ok(Ok(Err(_))) if shared.attempt_cancel.is_cancelled() => Ran::Cancelled,
        Ok(Ok(Err(e))) if e.timed_out => Ran::TimedOut,
        Ok(Ok(Err(e))) if e.unsupported => Ran::Unsupported(e.message),
        Ok(Ok(Err(e))) => Ran::Error(e.message, e.retryable),
        Ok(Err(p)) => Ran::Panicked(panic_message(p)),
        Err(_) => Ran::Panicked("the executor thread ended without an answer".into()),
    };
    tokio::select! {
        joined = &mut handle => settle(joined),
        _ = tokio::time::sleep(timeout) => {
            // A validator that honours its deadline returns within moments: wait that long
            // so it does not overlap the next job; only then give up on it.
            match tokio::time::timeout(SETTLE_AFTER_DEADLINE, &mut handle).await {
                Ok(joined) => match settle(joined) {
                    Ran::Verdict(..) | Ran::Error(..) => Ran::TimedOut,
                    other => other,
                },
                Err(_) => {
                    abandon(handle);
                    Ran::TimedOut
                }
            }
        }
        // The watch guard must not live across the awaits below (it is not Send).
        _ = async { let _ = hard.wait_for(|h| *h).await; } => {
            match tokio::time::timeout(SETTLE_AFTER_DEADLINE, &mut handle).await {
                Ok(_) => {}
                Err(_) => abandon(handle),
            }
            Ran::Cancelled
        }
    }
}

/// Runs a job with retries on errors; failures and panics are final.
pub(crate) async fn run_job<V: Validator>(
    shared: &Arc<Shared>,
    exec: &mut ExecThread,
    cfg: &ParallelConfig,
    validator: Arc<V>,
    case: Arc<V::Case>,
    mut job: TestJob<usize>,
    worker: usize,
) -> ExecutionResult<V::Output> {
    let mut attempts = Vec::new();
    let mut output = None;
    let mut had_error = false;
    let status = loop {
        let t = Instant::now();
        let ran = attempt(
            shared,
            exec,
            worker,
            cfg.threads_per_worker,
            cfg.test_timeout(),
            validator.clone(),
            case.clone(),
        )
        .await;
        let duration_ms = t.elapsed().as_secs_f64() * 1000.0;
        let (outcome, status, retryable) = match ran {
            Ran::Verdict(true, o) => {
                output = Some(o);
                (AttemptOutcome::Passed, Some(JobStatus::Passed), false)
            }
            Ran::Verdict(false, o) => {
                output = Some(o);
                (AttemptOutcome::Failed, Some(JobStatus::Failed), false)
            }
            Ran::Panicked(m) => (AttemptOutcome::Panicked(m), Some(JobStatus::Failed), false),
            Ran::Cancelled => (AttemptOutcome::Cancelled, Some(JobStatus::Cancelled), false),
            Ran::Unsupported(m) => (
                AttemptOutcome::Unsupported(m),
                Some(JobStatus::Unsupported),
                false,
            ),
            Ran::TimedOut => (AttemptOutcome::TimedOut, None, true),
            Ran::Error(m, retryable) => (AttemptOutcome::Error(m), None, retryable),
        };
        let timed_out = outcome == AttemptOutcome::TimedOut;
        attempts.push(Attempt {
            outcome,
            duration_ms,
        });
        if let Some(s) = status {
            break s;
        }
        had_error = true;
        let retries = attempts.len() as u32 - 1;
        if !retryable || retries >= cfg.retry_attempts || shared.stopping() {
            break if timed_out {
                JobStatus::TimedOut
            } else {
                JobStatus::Errored
            };
        }
        job.retry_count += 1;
        let unit: f64 = rand::rng().random();
        tokio::time::sleep(cfg.backoff.delay(job.retry_count, unit)).await;
    };
    ExecutionResult {
        job_id: job.id,
        index: job.index,
        category: job.category,
        priority: job.priority,
        flaky: status == JobStatus::Passed && had_error,
        status,
        retry_count: job.retry_count,
        duration_ms: attempts.iter().map(|a| a.duration_ms).sum(),
        attempts,
        output,
        worker: Some(worker),
    }
}
