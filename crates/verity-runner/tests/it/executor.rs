//! The parallel executor, driven by fake validators of controlled latency, failure, panic,
//! hang and flakiness.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use verity_runner::monitor::{Probe, Reading};
use verity_runner::{
    AttemptOutcome, Backoff, CancelReason, Deadline, JobError, JobStatus, ParallelConfig,
    ParallelExecutor, TestPriority, Validator, Verdict,
};

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Behaviour {
    Pass,
    Fail,
    /// Errors this many times, then passes.
    Flaky(usize),
    AlwaysError,
    NonRetryable,
    Panic,
    /// Spins until the deadline (honours it), then reports a timeout.
    Hang,
    /// Ignores the deadline entirely and blocks for this long.
    Stuck(u64),
    /// Works for this many ms, then passes.
    Busy(u64),
}

#[derive(Debug, Clone)]
pub(crate) struct Case {
    pub(crate) id: String,
    pub(crate) behaviour: Behaviour,
    pub(crate) priority: TestPriority,
}

#[derive(Default)]
pub(crate) struct Fake {
    running: AtomicUsize,
    max_running: AtomicUsize,
    calls: Mutex<HashMap<String, usize>>,
    order: Mutex<Vec<String>>,
}

impl Validator for Fake {
    type Case = Case;
    type Output = String;

    fn case_id(&self, c: &Case) -> String {
        c.id.clone()
    }

    fn category(&self, c: &Case) -> String {
        format!("{:?}", c.behaviour)
            .split('(')
            .next()
            .unwrap()
            .to_string()
    }

    fn priority(&self, c: &Case) -> TestPriority {
        c.priority
    }

    fn validate(&self, c: &Case, deadline: &Deadline) -> Result<Verdict<String>, JobError> {
        let now = self.running.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_running.fetch_max(now, Ordering::SeqCst);
        self.order.lock().unwrap().push(c.id.clone());
        let call = {
            let mut calls = self.calls.lock().unwrap();
            let n = calls.entry(c.id.clone()).or_insert(0);
            *n += 1;
            *n
        };
        let r = match c.behaviour {
            Behaviour::Pass => Ok(Verdict {
                passed: true,
                output: c.id.clone(),
            }),
            Behaviour::Fail => Ok(Verdict {
                passed: false,
                output: c.id.clone(),
            }),
            Behaviour::Flaky(n) if call <= n => Err(JobError::retryable("transient")),
            Behaviour::Flaky(_) => Ok(Verdict {
                passed: true,
                output: c.id.clone(),
            }),
            Behaviour::AlwaysError => Err(JobError::retryable("backend unavailable")),
            Behaviour::NonRetryable => Err(JobError::fatal("bad input")),
            Behaviour::Panic => {
                self.running.fetch_sub(1, Ordering::SeqCst);
                // Unwinds like `panic!` without running the panic hook, whose backtrace
                // printing can take longer than the short timeouts used here.
                std::panic::resume_unwind(Box::new(format!("validator exploded on {}", c.id)));
            }
            Behaviour::Hang => loop {
                if deadline.check().is_err() {
                    break Err(JobError::timeout());
                }
                std::thread::sleep(Duration::from_millis(1));
            },
            Behaviour::Stuck(ms) => {
                std::thread::sleep(Duration::from_millis(ms));
                Ok(Verdict {
                    passed: true,
                    output: c.id.clone(),
                })
            }
            Behaviour::Busy(ms) => {
                std::thread::sleep(Duration::from_millis(ms));
                Ok(Verdict {
                    passed: true,
                    output: c.id.clone(),
                })
            }
        };
        self.running.fetch_sub(1, Ordering::SeqCst);
        r
    }
}

pub(crate) fn config(workers: usize, retries: u32) -> ParallelConfig {
    ParallelConfig {
        max_concurrent_tests: workers,
        retry_attempts: retries,
        test_timeout_seconds: 0.2,
        backoff: Backoff::Fixed(Duration::from_millis(1)),
        resource_monitoring: false,
        grace_period: Duration::from_millis(50),
        ..ParallelConfig::default()
    }
}

pub(crate) fn cases(behaviours: &[Behaviour]) -> Vec<Case> {
    behaviours
        .iter()
        .enumerate()
        .map(|(i, b)| Case {
            id: format!("case-{i:03}"),
            behaviour: *b,
            priority: [TestPriority::High, TestPriority::Normal, TestPriority::Low][i % 3],
        })
        .collect()
}

pub(crate) fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

fn behaviour() -> impl Strategy<Value = Behaviour> {
    prop_oneof![
        6 => Just(Behaviour::Pass),
        2 => Just(Behaviour::Fail),
        2 => (1usize..3).prop_map(Behaviour::Flaky),
        1 => Just(Behaviour::AlwaysError),
        1 => Just(Behaviour::NonRetryable),
        1 => Just(Behaviour::Panic),
        1 => Just(Behaviour::Hang),
        1 => (0u64..3).prop_map(Behaviour::Busy),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn invariants_hold_for_any_mix(
        bs in prop::collection::vec(behaviour(), 0..40),
        workers in 1usize..6,
        retries in 0u32..3,
        batch in 1usize..12,
    ) {
        let fake = Arc::new(Fake::default());
        let mut cfg = config(workers, retries);
        cfg.batch_size = batch;
        let mut ex = ParallelExecutor::new(cfg, fake.clone());
        let input = cases(&bs);
        ex.add_test_cases(input.clone());
        let results = rt().block_on(ex.execute_all()).to_vec();
        let s = ex.get_stats().clone();

        // Every job exactly once, ids from the cases, in input order.
        prop_assert_eq!(results.len(), input.len());
        for (r, c) in results.iter().zip(&input) {
            prop_assert_eq!(&r.job_id, &c.id);
        }
        prop_assert_eq!(s.total, s.passed + s.failed + s.errored + s.timed_out + s.cancelled);
        prop_assert_eq!(s.cancelled, 0);
        prop_assert!(fake.max_running.load(Ordering::SeqCst) <= workers);
        for (r, c) in results.iter().zip(&input) {
            let expected = match c.behaviour {
                Behaviour::Pass | Behaviour::Busy(_) | Behaviour::Stuck(_) => JobStatus::Passed,
                Behaviour::Fail | Behaviour::Panic => JobStatus::Failed,
                Behaviour::Flaky(n) if n as u32 <= retries => JobStatus::Passed,
                Behaviour::Flaky(_) | Behaviour::AlwaysError | Behaviour::NonRetryable => JobStatus::Errored,
                Behaviour::Hang => JobStatus::TimedOut,
            };
            prop_assert_eq!(r.status, expected, "{:?}", c);
            // Failures are never retried; errors are, up to the limit.
            let attempts = match c.behaviour {
                Behaviour::Flaky(n) => (n as u32).min(retries) as usize + 1,
                Behaviour::AlwaysError | Behaviour::Hang => retries as usize + 1,
                _ => 1,
            };
            prop_assert_eq!(r.attempts.len(), attempts, "{:?}", c);
            prop_assert_eq!(r.retry_count as usize, attempts - 1);
            prop_assert_eq!(r.flaky, matches!(c.behaviour, Behaviour::Flaky(n) if n as u32 <= retries));
        }
        prop_assert_eq!(s.flaky, results.iter().filter(|r| r.flaky).count());
    }
}

#[test]
fn panics_are_failures_with_the_message() {
    let fake = Arc::new(Fake::default());
    let mut ex = ParallelExecutor::new(config(2, 2), fake);
    ex.add_test_cases(cases(&[Behaviour::Panic, Behaviour::Pass]));
    let results = rt().block_on(ex.execute_all()).to_vec();
    assert_eq!(results[0].status, JobStatus::Failed);
    assert_eq!(
        results[0].attempts[0].outcome,
        AttemptOutcome::Panicked("validator exploded on case-000".into())
    );
    assert_eq!(results[1].status, JobStatus::Passed);
    assert_eq!(ex.get_failed_jobs().len(), 1);
    assert_eq!(ex.get_successful_jobs().len(), 1);
}

#[test]
fn a_stuck_validator_loses_its_slot_at_the_deadline_and_is_counted() {
    let fake = Arc::new(Fake::default());
    let mut cfg = config(1, 0);
    cfg.test_timeout_seconds = 0.1;
    let mut ex = ParallelExecutor::new(cfg, fake);
    ex.add_test_cases(cases(&[Behaviour::Stuck(400), Behaviour::Pass]));
    let results = rt().block_on(ex.execute_all()).to_vec();
    assert_eq!(results[0].status, JobStatus::TimedOut);
    // The slot is free within 100 ms of the deadline even though the work goes on.
    assert!(
        results[0].attempts[0].duration_ms < 200.0,
        "{:?}",
        results[0].attempts
    );
    assert_eq!(results[1].status, JobStatus::Passed);
    assert_eq!(ex.get_stats().abandoned_attempts, 1);
}

#[test]
fn priorities_then_history_order_dispatch() {
    let fake = Arc::new(Fake::default());
    let mut cfg = config(1, 0);
    cfg.history = [
        ("case-003".to_string(), 50.0),
        ("case-006".to_string(), 90.0),
    ]
    .into();
    let mut ex = ParallelExecutor::new(cfg, fake.clone());
    ex.add_test_cases(cases(&[Behaviour::Pass; 9]));
    let status = ex.queue_status();
    assert_eq!(
        (status.queued, status.high, status.normal, status.low),
        (9, 3, 3, 3)
    );
    rt().block_on(ex.execute_all());
    let order = fake.order.lock().unwrap().clone();
    assert_eq!(
        order,
        [
            "case-006", "case-003", "case-000", "case-001", "case-004", "case-007", "case-002",
            "case-005", "case-008"
        ]
    );
    // Results still come back in input order.
    let ids: Vec<&str> = ex.results().iter().map(|r| r.job_id.as_str()).collect();
    assert_eq!(ids[0], "case-000");
    assert_eq!(ex.queue_status().completed, 9);
}

#[test]
fn fail_fast_stops_dispatching_and_cancels_the_rest() {
    let fake = Arc::new(Fake::default());
    let mut cfg = config(1, 0);
    cfg.fail_fast = true;
    let mut ex = ParallelExecutor::new(cfg, fake);
    let mut bs = vec![Behaviour::Fail];
    bs.extend([Behaviour::Pass; 20]);
    // All High priority so the failing case runs first.
    let input: Vec<Case> = cases(&bs)
        .into_iter()
        .map(|mut c| {
            c.priority = TestPriority::High;
            c
        })
        .collect();
    ex.add_test_cases(input);
    let results = rt().block_on(ex.execute_all()).to_vec();
    let s = ex.get_stats();
    assert_eq!(results[0].status, JobStatus::Failed);
    assert_eq!(s.failed, 1);
    assert!(s.cancelled >= 19, "{s:?}");
    assert_eq!(s.total, 21);
    assert_eq!(ex.cancel_reason(), Some(CancelReason::TestFailure));
}

#[test]
fn max_fail_allows_n_failures() {
    let fake = Arc::new(Fake::default());
    let mut cfg = config(1, 0);
    cfg.max_fail = Some(3);
    let mut ex = ParallelExecutor::new(cfg, fake);
    let input: Vec<Case> = cases(&[Behaviour::Fail; 10])
        .into_iter()
        .map(|mut c| {
            c.priority = TestPriority::Normal;
            c
        })
        .collect();
    ex.add_test_cases(input);
    rt().block_on(ex.execute_all());
    let s = ex.get_stats();
    assert_eq!((s.failed, s.cancelled), (3, 7));
}

#[test]
fn interruption_keeps_what_finished_and_cancels_the_rest() {
    let fake = Arc::new(Fake::default());
    let mut ex = ParallelExecutor::new(config(2, 0), fake);
    let mut bs = vec![Behaviour::Pass; 4];
    bs.extend([Behaviour::Hang; 2]);
    bs.extend([Behaviour::Busy(50); 30]);
    ex.add_test_cases(cases(&bs));
    let token = ex.interrupt_token();
    let runtime = rt();
    runtime.spawn(async move {
        tokio::time::sleep(Duration::from_millis(60)).await;
        token.cancel();
    });
    let results = runtime.block_on(ex.execute_all()).to_vec();
    let s = ex.get_stats();
    assert_eq!(ex.cancel_reason(), Some(CancelReason::Interrupt));
    assert!(s.passed >= 1 && s.cancelled >= 20, "{s:?}");
    assert_eq!(s.total, 36);
    assert_eq!(results.len(), 36);
}

/// An interrupt that came before the run (while the caller built its index) starts no case:
/// every one is cancelled, and the validator is never called.
#[test]
fn an_interrupt_before_the_run_starts_no_case() {
    let fake = Arc::new(Fake::default());
    let token = verity_core::CancelToken::new();
    token.cancel();
    let mut ex = ParallelExecutor::new(config(4, 0), fake.clone()).with_interrupt(token);
    ex.add_test_cases(cases(&[Behaviour::Pass; 50]));
    let results = rt().block_on(ex.execute_all()).to_vec();
    assert_eq!(ex.cancel_reason(), Some(CancelReason::Interrupt));
    assert_eq!(results.len(), 50);
    let statuses: Vec<JobStatus> = results.iter().map(|r| r.status).collect();
    assert!(
        statuses.iter().all(|s| *s == JobStatus::Cancelled),
        "{statuses:?}"
    );
    assert!(fake.calls.lock().unwrap().is_empty(), "a case ran");
}

#[test]
fn global_timeout_stops_the_run() {
    let fake = Arc::new(Fake::default());
    let mut cfg = config(1, 0);
    cfg.global_timeout = Some(Duration::from_millis(50));
    let mut ex = ParallelExecutor::new(cfg, fake);
    ex.add_test_cases(cases(&[Behaviour::Busy(20); 40]));
    rt().block_on(ex.execute_all());
    assert_eq!(ex.cancel_reason(), Some(CancelReason::GlobalTimeout));
    assert!(ex.get_stats().cancelled > 0);
}

/// Reports memory pressure for the first readings, then none.
pub(crate) struct Scripted(pub(crate) usize);

impl Probe for Scripted {
    fn read(&mut self) -> Reading {
        self.0 += 1;
        Reading {
            process_rss: 1,
            system_used: if self.0 <= 3 { 95 } else { 10 },
            system_total: 100,
            cpu_percent: 0.0,
        }
    }
}

#[test]
fn memory_pressure_lowers_concurrency_and_is_counted() {
    let fake = Arc::new(Fake::default());
    let mut cfg = config(4, 0);
    cfg.resource_monitoring = true;
    cfg.monitor_interval = Duration::from_millis(5);
    let mut ex = ParallelExecutor::new(cfg, fake).with_probe(Box::new(Scripted(0)));
    ex.add_test_cases(cases(&[Behaviour::Busy(5); 60]));
    rt().block_on(ex.execute_all());
    let s = ex.get_stats();
    assert_eq!(s.passed, 60);
    assert!(s.throttle_events >= 2, "{s:?}");
    assert_eq!(s.min_concurrency, 1);
    assert_eq!(s.worker_busy_ms.len(), 4);
}

#[test]
fn stats_have_latency_percentiles_and_categories() {
    let fake = Arc::new(Fake::default());
    let mut ex = ParallelExecutor::new(config(2, 1), fake);
    ex.add_test_cases(cases(&[
        Behaviour::Pass,
        Behaviour::Fail,
        Behaviour::Flaky(1),
        Behaviour::AlwaysError,
    ]));
    rt().block_on(ex.execute_all());
    let s = ex.get_stats();
    assert_eq!(
        (s.passed, s.failed, s.errored, s.flaky, s.retries),
        (2, 1, 1, 1, 2)
    );
    assert_eq!(s.per_category["Flaky"].flaky, 1);
    assert!(s.max_ms >= s.p99_ms && s.p99_ms >= s.p50_ms);
    assert!(s.throughput > 0.0);
}

#[test]
fn run_parallel_validation_helper_runs_everything() {
    let fake = Arc::new(Fake::default());
    let (results, stats) =
        verity_runner::run_parallel_validation(cases(&[Behaviour::Pass; 5]), fake);
    assert_eq!(results.len(), 5);
    assert_eq!(stats.passed, 5);
}
