//! `verity bench runner`: the parallel execution engine against its baselines, same run.
//!
//! a. no-op jobs: the executor vs a bare `futures::stream::buffer_unordered` of the same
//!    blocking-pool no-ops;
//! b. CPU-bound jobs: 2 workers vs 1;
//! c. latency-bound jobs (10 ms each) at 64 concurrent vs the ideal 6,400 jobs/s;
//! d. the original design — a std `Mutex<VecDeque>` queue, CPU work inside tokio tasks — on the
//!    loads of b and c.

use std::collections::VecDeque;
use std::hint::black_box;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use verity_runner::{
    Deadline, JobError, ParallelConfig, ParallelExecutor, TestPriority, Validator, Verdict,
};

use super::bench::median;
use crate::exit::CmdResult;
use crate::out::outln;
use crate::BenchRunnerArgs;

#[derive(Clone, Copy)]
enum Work {
    Noop,
    /// Spin for about this many hash rounds.
    Cpu(u64),
    /// Wait this long (a remote backend's latency).
    Sleep(Duration),
}

fn do_work(w: Work) {
    match w {
        Work::Noop => {}
        Work::Cpu(rounds) => {
            let mut x = 0x9E37_79B9_7F4A_7C15u64;
            for i in 0..rounds {
                x = (x ^ i).wrapping_mul(0xBF58_476D_1CE4_E5B9).rotate_left(31);
            }
            black_box(x);
        }
        Work::Sleep(d) => std::thread::sleep(d),
    }
}

struct BenchValidator(Work);

impl Validator for BenchValidator {
    type Case = usize;
    type Output = ();

    fn case_id(&self, case: &usize) -> String {
        case.to_string()
    }

    fn category(&self, _: &usize) -> String {
        "bench".into()
    }

    fn priority(&self, _: &usize) -> TestPriority {
        TestPriority::Normal
    }

    fn validate(&self, _: &usize, _: &Deadline) -> Result<Verdict<()>, JobError> {
        do_work(self.0);
        Ok(Verdict {
            passed: true,
            output: (),
        })
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// Seconds for the executor to run `n` jobs of `work` with `workers` workers.
fn executor(n: usize, work: Work, workers: usize) -> f64 {
    let cfg = ParallelConfig {
        max_concurrent_tests: workers,
        retry_attempts: 0,
        resource_monitoring: false,
        progress: false,
        test_timeout_seconds: 60.0,
        ..ParallelConfig::default()
    };
    let mut ex = ParallelExecutor::new(cfg, Arc::new(BenchValidator(work)));
    ex.add_test_cases(0..n);
    let rt = runtime();
    let t = Instant::now();
    rt.block_on(ex.execute_all());
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(ex.get_stats().passed, n, "every bench job passes");
    secs
}

/// Seconds for `buffer_unordered(workers)` over the same blocking-pool jobs.
fn buffer_unordered(n: usize, work: Work, workers: usize) -> f64 {
    let rt = runtime();
    let t = Instant::now();
    rt.block_on(async {
        futures::stream::iter(0..n)
            .map(|_| tokio::task::spawn_blocking(move || do_work(work)))
            .buffer_unordered(workers)
            .for_each(|r| {
                r.expect("job");
                async {}
            })
            .await;
    });
    t.elapsed().as_secs_f64()
}

/// The original design: a std Mutex around a VecDeque, work inline in tokio tasks.
fn original_design(n: usize, work: Work, workers: usize) -> f64 {
    let rt = runtime();
    let queue = Arc::new(Mutex::new((0..n).collect::<VecDeque<usize>>()));
    let t = Instant::now();
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..workers {
            let q = queue.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    let job = q.lock().expect("queue").pop_front();
                    if job.is_none() {
                        break;
                    }
                    do_work(work);
                }
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
    });
    t.elapsed().as_secs_f64()
}

fn med(reps: usize, mut f: impl FnMut() -> f64) -> f64 {
    let mut v: Vec<f64> = (0..reps.max(1)).map(|_| f()).collect();
    median(&mut v)
}

pub fn run(args: &BenchRunnerArgs) -> CmdResult {
    let reps = args.repetitions;
    let scale = args.scale.max(0.01);
    let scaled = |n: usize| ((n as f64 * scale) as usize).max(10);
    outln!("| benchmark | jobs | verity | baseline | ratio | target |")?;
    outln!("|---|---:|---:|---:|---:|---|")?;

    let n = scaled(100_000);
    let ours = med(reps, || executor(n, Work::Noop, 8));
    let base = med(reps, || buffer_unordered(n, Work::Noop, 8));
    outln!(
        "| a. no-op jobs, 8 concurrent | {n} | {:.0} jobs/s | buffer_unordered {:.0} jobs/s | {:.2}× the time | ≤ 1.5× |",
        n as f64 / ours,
        n as f64 / base,
        ours / base
    )?;

    let n = scaled(400);
    let cpu = Work::Cpu(2_000_000);
    let one = med(reps, || executor(n, cpu, 1));
    let two = med(reps, || executor(n, cpu, 2));
    outln!(
        "| b. CPU-bound jobs, 2 workers vs 1 | {n} | {:.0} jobs/s | 1 worker {:.0} jobs/s | {:.2}× speed-up | ≥ 1.8× |",
        n as f64 / two,
        n as f64 / one,
        one / two
    )?;

    let n = scaled(3_200);
    let sleep = Work::Sleep(Duration::from_millis(10));
    let lat = med(reps, || executor(n, sleep, 64));
    outln!(
        "| c. 10 ms latency-bound jobs, 64 concurrent | {n} | {:.0} jobs/s | ideal 6400 jobs/s | {:.1}% of ideal | ≥ 90% |",
        n as f64 / lat,
        (n as f64 / lat) / 6400.0 * 100.0
    )?;

    let n = scaled(400);
    let orig_cpu = med(reps, || original_design(n, cpu, 2));
    outln!(
        "| d1. CPU-bound, original design (2 tasks) | {n} | {:.0} jobs/s | original {:.0} jobs/s | {:.2}× | — |",
        n as f64 / two,
        n as f64 / orig_cpu,
        orig_cpu / two
    )?;
    let n = scaled(3_200);
    let orig_lat = med(reps, || original_design(n, sleep, 64));
    outln!(
        "| d2. 10 ms latency-bound, original design (64 tasks) | {n} | {:.0} jobs/s | original {:.0} jobs/s | {:.1}× | — |",
        n as f64 / lat,
        n as f64 / orig_lat,
        orig_lat / lat
    )?;
    outln!("\nmedians of {reps} runs; tokio runtime with 2 worker threads")?;
    Ok(ExitCode::SUCCESS)
}
