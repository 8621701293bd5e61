//! The dispatcher and the executors.
//!
//! The dispatcher owns the run: a queue sorted by priority (then longest expected duration
//! first, then input order), worker tasks that claim jobs from it, and the tasks that watch
//! memory, the global timeout and interruption. Each attempt of a job executes on its worker's
//! own executor thread (never on the async workers), bounded by a deadline the validator honours;
//! at the deadline the worker moves on at once even if the validator does not, and attempts
//! that outlive their deadline are counted and bound how much new work is dispatched, so hung
//! validators cannot pile up threads.
//!
//! Timing uses real clocks: tokio's paused test clock would advance past deadlines while work
//! runs on executor threads, which it cannot see.

use std::collections::VecDeque;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::Rng;
use tokio::sync::{mpsc, watch};

use crate::config::ParallelConfig;
use crate::job::{
    Attempt, AttemptOutcome, CancelReason, ExecutionResult, JobStatus, TestJob, TestPriority,
};
use crate::monitor::{under_pressure, Limiter, Probe, SysinfoProbe};
use crate::progress::{Reporter, Snapshot};
use crate::stats::ExecutionStats;
use crate::{CancelToken, Deadline, Validator};

/// How long an attempt past its deadline gets to return before it is abandoned: enough for a
/// validator that checks its deadline, well inside the 100 ms in which a slot must be free.
const SETTLE_AFTER_DEADLINE: Duration = Duration::from_millis(50);

/// What is waiting in the queue.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueStatus {
    /// Jobs not yet dispatched.
    pub queued: usize,
    /// Of those, `High` priority.
    pub high: usize,
    /// Of those, `Normal` priority.
    pub normal: usize,
    /// Of those, `Low` priority.
    pub low: usize,
    /// Jobs with a result.
    pub completed: usize,
}

/// State shared by the dispatcher's tasks during one run.
struct Shared {
    queue: Mutex<VecDeque<TestJob<usize>>>,
    limiter: Limiter,
    running: AtomicUsize,
    /// Attempts whose validator is running now, and the most there ever were at once.
    attempts_running: AtomicUsize,
    peak_attempts: AtomicUsize,
    /// Attempts past their deadline whose blocking work has not returned yet.
    abandoned_running: AtomicUsize,
    abandoned_total: AtomicUsize,
    failures: AtomicUsize,
    passed: AtomicUsize,
    stop: Mutex<Option<CancelReason>>,
    /// Becomes true when dispatching stops; `hard` when running attempts must give up too.
    stopping: watch::Sender<bool>,
    hard: watch::Sender<bool>,
    /// Cancels running attempts through their deadlines.
    attempt_cancel: CancelToken,
}

impl Shared {
    fn request_stop(&self, reason: CancelReason) {
        let mut s = self.stop.lock().expect("stop lock");
        // Keep the most serious reason.
        if s.is_none_or(|old| reason > old) {
            *s = Some(reason);
        }
        drop(s);
        // `send_replace`, not `send`: `send` leaves the value unchanged while nothing has
        // subscribed yet, and a stop requested before the watchers start would be lost.
        self.stopping.send_replace(true);
    }

    fn stopping(&self) -> bool {
        *self.stopping.borrow()
    }
}

/// Runs validation jobs in parallel. See the crate documentation.
pub struct ParallelExecutor<V: Validator> {
    config: ParallelConfig,
    validator: Arc<V>,
    cases: Vec<Arc<V::Case>>,
    pending: Vec<TestJob<usize>>,
    results: Vec<ExecutionResult<V::Output>>,
    stats: ExecutionStats,
    interrupt: CancelToken,
    cancel_reason: Option<CancelReason>,
    probe: Option<Box<dyn Probe>>,
}

impl<V: Validator> ParallelExecutor<V> {
    /// An executor that runs `validator` under `config`, with nothing queued yet.
    pub fn new(config: ParallelConfig, validator: Arc<V>) -> Self {
        ParallelExecutor {
            config,
            validator,
            cases: Vec::new(),
            pending: Vec::new(),
            results: Vec::new(),
            stats: ExecutionStats::default(),
            interrupt: CancelToken::new(),
            cancel_reason: None,
            probe: None,
        }
    }

    /// Replaces the sysinfo probe (tests script memory pressure with this).
    pub fn with_probe(mut self, probe: Box<dyn Probe>) -> Self {
        self.probe = Some(probe);
        self
    }

    /// Uses `token` as the run's interrupt token: the caller's own (set by its signal handler),
    /// so an interrupt that came before the run started stops it before any case runs.
    pub fn with_interrupt(mut self, token: CancelToken) -> Self {
        self.interrupt = token;
        self
    }

    /// Setting this token (on Ctrl-C) stops the run gracefully.
    pub fn interrupt_token(&self) -> CancelToken {
        self.interrupt.clone()
    }

    /// Queues cases; job ids come from the cases.
    pub fn add_test_cases(&mut self, cases: impl IntoIterator<Item = V::Case>) {
        for case in cases {
            let index = self.cases.len();
            let id = self.validator.case_id(&case);
            let expected_ms = self.config.history.get(&id).copied();
            self.pending.push(TestJob {
                category: self.validator.category(&case),
                priority: self.validator.priority(&case),
                id,
                test_case: index,
                retry_count: 0,
                index,
                expected_ms,
            });
            self.cases.push(Arc::new(case));
        }
    }

    /// What is waiting, by priority, and how many jobs have a result.
    pub fn queue_status(&self) -> QueueStatus {
        let count = |p| self.pending.iter().filter(|j| j.priority == p).count();
        QueueStatus {
            queued: self.pending.len(),
            high: count(TestPriority::High),
            normal: count(TestPriority::Normal),
            low: count(TestPriority::Low),
            completed: self.results.len(),
        }
    }

    /// What the last run measured.
    pub fn get_stats(&self) -> &ExecutionStats {
        &self.stats
    }

    /// Results so far, in input order.
    pub fn results(&self) -> &[ExecutionResult<V::Output>] {
        &self.results
    }

    /// Results of the jobs that did not pass (failed, errored, timed out, cancelled,
    /// unsupported), in input order.
    pub fn get_failed_jobs(&self) -> Vec<&ExecutionResult<V::Output>> {
        self.results.iter().filter(|r| !r.is_success()).collect()
    }

    /// Results of the jobs that passed, flaky ones included, in input order.
    pub fn get_successful_jobs(&self) -> Vec<&ExecutionResult<V::Output>> {
        self.results.iter().filter(|r| r.is_success()).collect()
    }

    /// Why the last run stopped early, if it did.
    pub fn cancel_reason(&self) -> Option<CancelReason> {
        self.cancel_reason
    }

    /// Runs every queued job.
    pub async fn execute_all(&mut self) -> &[ExecutionResult<V::Output>] {
        let n = self.pending.len();
        self.execute_batch(n).await
    }

    /// Runs the next `n` queued jobs in dispatch order (priority, longest first, input order).
    pub async fn execute_batch(&mut self, n: usize) -> &[ExecutionResult<V::Output>] {
        sort_for_dispatch(&mut self.pending);
        let rest = self.pending.split_off(n.min(self.pending.len()));
        let batch = std::mem::replace(&mut self.pending, rest);
        let run = self.run(batch).await;
        self.results.extend(run);
        self.results.sort_by_key(|r| r.index);
        let mut stats = ExecutionStats::from_results(&self.results);
        stats.throttle_events = self.stats.throttle_events;
        stats.min_concurrency = self.stats.min_concurrency;
        stats.wall_time_ms = self.stats.wall_time_ms;
        stats.worker_busy_ms = std::mem::take(&mut self.stats.worker_busy_ms);
        stats.abandoned_attempts = self.stats.abandoned_attempts;
        stats.peak_concurrency = self.stats.peak_concurrency;
        stats.throughput = stats.total as f64 / (stats.wall_time_ms / 1000.0).max(1e-9);
        self.stats = stats;
        &self.results
    }

    async fn run(&mut self, jobs: Vec<TestJob<usize>>) -> Vec<ExecutionResult<V::Output>> {
        let started = Instant::now();
        let total = jobs.len();
        let workers = self.config.max_concurrent_tests.max(1);
        let (stopping, _) = watch::channel(false);
        let (hard, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            queue: Mutex::new(jobs.into()),
            limiter: Limiter::new(workers),
            running: AtomicUsize::new(0),
            attempts_running: AtomicUsize::new(0),
            peak_attempts: AtomicUsize::new(0),
            abandoned_running: AtomicUsize::new(0),
            abandoned_total: AtomicUsize::new(0),
            failures: AtomicUsize::new(0),
            passed: AtomicUsize::new(0),
            stop: Mutex::new(None),
            stopping,
            hard,
            attempt_cancel: CancelToken::new(),
        });
        let (tx, mut rx) = mpsc::unbounded_channel();
        let cfg = Arc::new(self.config.clone());
        // Interrupted before the start: no case may begin (the watcher below would notice
        // only after the workers had taken some).
        if self.interrupt.is_cancelled() {
            shared.request_stop(CancelReason::Interrupt);
        }

        let mut handles = Vec::with_capacity(workers);
        for worker in 0..workers {
            let (shared, tx, cfg) = (shared.clone(), tx.clone(), cfg.clone());
            let (validator, cases) = (self.validator.clone(), self.cases.clone());
            handles.push(tokio::spawn(async move {
                worker_loop(worker, workers, shared, tx, cfg, validator, cases).await
            }));
        }
        drop(tx);

        // Watchers: memory, global timeout, interruption, grace period after a stop.
        let mut watchers = Vec::new();
        if self.config.resource_monitoring {
            let mut probe = self
                .probe
                .take()
                .unwrap_or_else(|| Box::new(SysinfoProbe::default()));
            let (shared, cfg) = (shared.clone(), cfg.clone());
            watchers.push(tokio::spawn(async move {
                let mut tick = tokio::time::interval(cfg.monitor_interval);
                loop {
                    tick.tick().await;
                    let r = probe.read();
                    shared.limiter.adjust(under_pressure(
                        &r,
                        cfg.memory_threshold,
                        cfg.max_rss_bytes,
                    ));
                }
            }));
        }
        if let Some(limit) = self.config.global_timeout {
            let shared = shared.clone();
            watchers.push(tokio::spawn(async move {
                tokio::time::sleep(limit).await;
                shared.request_stop(CancelReason::GlobalTimeout);
            }));
        }
        {
            let (shared, interrupt) = (shared.clone(), self.interrupt.clone());
            watchers.push(tokio::spawn(async move {
                loop {
                    if interrupt.is_cancelled() {
                        shared.request_stop(CancelReason::Interrupt);
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }));
        }
        {
            let (shared, grace) = (shared.clone(), self.config.grace_period);
            let mut stopping = shared.stopping.subscribe();
            watchers.push(tokio::spawn(async move {
                if stopping.wait_for(|s| *s).await.is_ok() {
                    tokio::time::sleep(grace).await;
                    shared.attempt_cancel.cancel();
                    shared.hard.send_replace(true);
                }
            }));
        }

        // Collect results as they come, drawing progress.
        let mut reporter = Reporter::new(
            total,
            self.config.progress,
            verity_core::seconds(self.config.progress_reporting_interval.max(0.1)),
        );
        let mut results = Vec::with_capacity(total);
        let mut failed = 0;
        while let Some(r) = rx.recv().await {
            let r: ExecutionResult<V::Output> = r;
            if r.is_problem() {
                failed += 1;
            }
            results.push(r);
            reporter.update(&Snapshot {
                done: results.len(),
                total,
                passed: shared.passed.load(Ordering::Relaxed),
                failed,
                running: shared.running.load(Ordering::Relaxed),
            });
        }
        reporter.finish();
        let mut busy = vec![0.0; workers];
        for (i, h) in handles.into_iter().enumerate() {
            busy[i] = h.await.unwrap_or(0.0);
        }
        for w in watchers {
            w.abort();
        }
        // Whatever was never claimed is cancelled.
        let left: Vec<TestJob<usize>> =
            shared.queue.lock().expect("queue lock").drain(..).collect();
        for job in left {
            results.push(cancelled_result(&job));
        }
        results.sort_by_key(|r| r.index);

        self.cancel_reason = *shared.stop.lock().expect("stop lock");
        self.stats.throttle_events += shared.limiter.throttle_events();
        self.stats.min_concurrency = shared.limiter.lowest();
        self.stats.wall_time_ms += started.elapsed().as_secs_f64() * 1000.0;
        self.stats.worker_busy_ms = busy;
        self.stats.abandoned_attempts += shared.abandoned_total.load(Ordering::Relaxed);
        self.stats.peak_concurrency = self
            .stats
            .peak_concurrency
            .max(shared.peak_attempts.load(Ordering::Relaxed));
        results
    }
}

/// Dispatch order: priority, then longest expected first, then input order.
fn sort_for_dispatch<C>(jobs: &mut [TestJob<C>]) {
    jobs.sort_by(|a, b| {
        a.priority
            .cmp(&b.priority)
            .then_with(|| {
                b.expected_ms
                    .unwrap_or(0.0)
                    .total_cmp(&a.expected_ms.unwrap_or(0.0))
            })
            .then_with(|| a.index.cmp(&b.index))
    });
}

fn cancelled_result<O>(job: &TestJob<usize>) -> ExecutionResult<O> {
    ExecutionResult {
        job_id: job.id.clone(),
        index: job.index,
        category: job.category.clone(),
        priority: job.priority,
        status: JobStatus::Cancelled,
        flaky: false,
        retry_count: job.retry_count,
        attempts: Vec::new(),
        output: None,
        duration_ms: 0.0,
        worker: None,
    }
}

/// One worker: claim a batch, run it, repeat. Returns its busy time in ms.
async fn worker_loop<V: Validator>(
    worker: usize,
    workers: usize,
    shared: Arc<Shared>,
    tx: mpsc::UnboundedSender<ExecutionResult<V::Output>>,
    cfg: Arc<ParallelConfig>,
    validator: Arc<V>,
    cases: Vec<Arc<V::Case>>,
) -> f64 {
    let mut busy = 0.0;
    let mut exec = match ExecThread::spawn(worker, cfg.threads_per_worker) {
        Ok(e) => e,
        Err(e) => {
            tracing::error!("cannot start an executor thread: {e}");
            shared.request_stop(CancelReason::ExecutorUnavailable);
            return busy;
        }
    };
    loop {
        // A slot: under the concurrency limit, and not while too much hung work is running.
        loop {
            if shared.stopping() {
                return busy;
            }
            let running = shared.running.load(Ordering::Acquire);
            let hung = shared.abandoned_running.load(Ordering::Acquire);
            if running < shared.limiter.current()
                && hung < workers
                && shared
                    .running
                    .compare_exchange(running, running + 1, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        let claimed: Vec<TestJob<usize>> = {
            let mut q = shared.queue.lock().expect("queue lock");
            let fair_share = q.len().div_ceil(workers).max(1);
            let n = cfg.batch_size.max(1).min(fair_share);
            let k = n.min(q.len());
            q.drain(..k).collect()
        };
        if claimed.is_empty() {
            shared.running.fetch_sub(1, Ordering::AcqRel);
            return busy;
        }
        for job in claimed {
            if shared.stopping() {
                let _ = tx.send(cancelled_result(&job));
                continue;
            }
            let case = cases[job.test_case].clone();
            let r = run_job(
                &shared,
                &mut exec,
                &cfg,
                validator.clone(),
                case,
                job,
                worker,
            )
            .await;
            busy += r.duration_ms;
            if r.is_success() {
                shared.passed.fetch_add(1, Ordering::Relaxed);
            } else if r.is_problem() {
                let f = shared.failures.fetch_add(1, Ordering::AcqRel) + 1;
                if cfg.fail_fast || cfg.max_fail.is_some_and(|m| f >= m) {
                    shared.request_stop(CancelReason::TestFailure);
                }
            }
            let _ = tx.send(r);
        }
        shared.running.fetch_sub(1, Ordering::AcqRel);
    }
}

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
struct ExecThread {
    pool: rayon::ThreadPool,
}

impl ExecThread {
    /// A worker's executor: a rayon pool of `threads` threads. Attempts run on it one at a
    /// time (the worker awaits each), and any rayon work a validator does inside (the
    /// engine's parallel verification) stays on this pool instead of the global one: so the
    /// runner, not rayon's default of one thread per CPU, decides how many cores are busy.
    fn spawn(worker: usize, threads: usize) -> std::io::Result<ExecThread> {
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
async fn run_job<V: Validator>(
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

/// Runs `test_cases` with `validator` under the default configuration and returns the
/// results (in input order) and the statistics.
pub fn run_parallel_validation<V: Validator>(
    test_cases: Vec<V::Case>,
    validator: Arc<V>,
) -> (Vec<ExecutionResult<V::Output>>, ExecutionStats) {
    run_parallel_validation_with(test_cases, validator, ParallelConfig::default())
}

/// [`run_parallel_validation`] with a configuration.
pub fn run_parallel_validation_with<V: Validator>(
    test_cases: Vec<V::Case>,
    validator: Arc<V>,
    config: ParallelConfig,
) -> (Vec<ExecutionResult<V::Output>>, ExecutionStats) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut ex = ParallelExecutor::new(config, validator);
    ex.add_test_cases(test_cases);
    rt.block_on(ex.execute_all());
    (ex.results().to_vec(), ex.get_stats().clone())
}
