//! The dispatcher: it owns a run.
//!
//! A queue sorted by priority (then longest expected duration first, then input order),
//! worker tasks that claim jobs from it and hand each to their executor (the `executor` module),
//! and the tasks that watch memory, the global timeout and interruption. It collects results
//! as they come and reports what happens as [`RunEvent`]s to the caller's [`EventSink`]; it
//! draws nothing itself.
//!
//! Timing uses real clocks: tokio's paused test clock would advance past deadlines while work
//! runs on executor threads, which it cannot see.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, watch};

use crate::config::ParallelConfig;
use crate::events::{Counts, Discard, EventSink, FinishedJob, RunEvent};
use crate::executor::{run_job, ExecThread};
use crate::job::{CancelReason, ExecutionResult, JobStatus, TestJob, TestPriority};
use crate::monitor::{under_pressure, Limiter, Probe, SysinfoProbe};
use crate::state::Shared;
use crate::stats::ExecutionStats;
use crate::{CancelToken, Validator};

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
        self.execute_all_with(&mut Discard).await
    }

    /// Runs every queued job, reporting what happens to `events`.
    pub async fn execute_all_with(
        &mut self,
        events: &mut dyn EventSink,
    ) -> &[ExecutionResult<V::Output>] {
        let n = self.pending.len();
        self.execute_batch_with(n, events).await
    }

    /// Runs the next `n` queued jobs in dispatch order (priority, longest first, input order).
    pub async fn execute_batch(&mut self, n: usize) -> &[ExecutionResult<V::Output>] {
        self.execute_batch_with(n, &mut Discard).await
    }

    /// [`ParallelExecutor::execute_batch`], reporting what happens to `events`.
    pub async fn execute_batch_with(
        &mut self,
        n: usize,
        events: &mut dyn EventSink,
    ) -> &[ExecutionResult<V::Output>] {
        sort_for_dispatch(&mut self.pending);
        let rest = self.pending.split_off(n.min(self.pending.len()));
        let batch = std::mem::replace(&mut self.pending, rest);
        let run = self.run(batch, events).await;
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

    async fn run(
        &mut self,
        jobs: Vec<TestJob<usize>>,
        events: &mut dyn EventSink,
    ) -> Vec<ExecutionResult<V::Output>> {
        let started = Instant::now();
        let total = jobs.len();
        let workers = self.config.max_concurrent_tests.max(1);
        events.event(&RunEvent::Started { total, workers });
        let (stopping, _) = watch::channel(false);
        let (hard, _) = watch::channel(false);
        let (notices_tx, mut notices) = mpsc::unbounded_channel();
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
            notices: notices_tx,
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
                    let pressure = under_pressure(&r, cfg.memory_threshold, cfg.max_rss_bytes);
                    if let Some((from, to)) = shared.limiter.adjust(pressure) {
                        let _ = shared
                            .notices
                            .send(RunEvent::ConcurrencyChanged { from, to });
                    }
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

        // Collect results as they come, and tell the sink, in the order they arrive, about
        // them and about what the other tasks noticed (stops, the limit's moves).
        let mut results = Vec::with_capacity(total);
        let mut counts = Counts {
            total,
            ..Counts::default()
        };
        loop {
            tokio::select! {
                // Notices first: a stop is reported before the cancelled jobs it causes.
                biased;
                Some(notice) = notices.recv() => events.event(&notice),
                r = rx.recv() => {
                    let Some(r) = r else { break };
                    let r: ExecutionResult<V::Output> = r;
                    counts.done += 1;
                    counts.passed += usize::from(r.is_success());
                    counts.failed += usize::from(r.is_problem());
                    counts.running = shared.running.load(Ordering::Relaxed);
                    events.event(&RunEvent::JobFinished {
                        job: FinishedJob {
                            job_id: r.job_id.clone(),
                            category: r.category.clone(),
                            status: r.status,
                            flaky: r.flaky,
                            retry_count: r.retry_count,
                            duration_ms: r.duration_ms,
                        },
                        counts,
                    });
                    results.push(r);
                }
            }
        }
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
        while let Ok(notice) = notices.try_recv() {
            events.event(&notice);
        }
        events.event(&RunEvent::Finished {
            counts: Counts {
                done: results.len(),
                total,
                passed: results.iter().filter(|r| r.is_success()).count(),
                failed: results.iter().filter(|r| r.is_problem()).count(),
                running: 0,
            },
            cancel_reason: self.cancel_reason,
        });
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
