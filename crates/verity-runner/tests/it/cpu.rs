//! The runner owns the CPU: a case's own parallel work (rayon inside the validator, as the
//! engine's verification is) stays on its worker's executor, so `max_concurrent_tests`, and
//! the throttle that lowers it, bound the cores in use. Read from the process's CPU time and
//! the measured peak concurrency, not from the configuration.

use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use verity_runner::monitor::{Probe, Reading};
use verity_runner::{
    Deadline, JobError, ParallelConfig, ParallelExecutor, TestPriority, Validator, Verdict,
};

/// A validator whose every case is data-parallel CPU work, split by rayon.
struct ParallelWork;

impl Validator for ParallelWork {
    type Case = usize;
    type Output = u64;

    fn case_id(&self, c: &usize) -> String {
        format!("work-{c}")
    }

    fn category(&self, _: &usize) -> String {
        "work".into()
    }

    fn priority(&self, _: &usize) -> TestPriority {
        TestPriority::Normal
    }

    fn validate(&self, c: &usize, _: &Deadline) -> Result<Verdict<u64>, JobError> {
        // About 20-40 ms of arithmetic in 64 pieces: rayon would spread it over every core.
        let sum = (0..64u64)
            .into_par_iter()
            .map(|i| {
                let mut x = i ^ (*c as u64);
                for _ in 0..400_000 {
                    x = x
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                }
                x
            })
            .reduce(|| 0, u64::wrapping_add);
        Ok(Verdict {
            passed: true,
            output: sum,
        })
    }
}

/// User plus system CPU time of this process so far.
fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into the struct we pass and reads nothing else.
    let usage = unsafe {
        let mut u: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut u);
        u
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Reports memory pressure on every reading.
struct AlwaysPressed;

impl Probe for AlwaysPressed {
    fn read(&mut self) -> Reading {
        Reading {
            process_rss: 1,
            system_used: 99,
            system_total: 100,
            cpu_percent: 0.0,
        }
    }
}

/// Runs `cases` cases; returns (CPU time / wall time, peak concurrency, lowest limit).
fn run(jobs: usize, cases: usize, probe: Option<Box<dyn Probe>>) -> (f64, usize, usize) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cfg = ParallelConfig {
        max_concurrent_tests: jobs,
        retry_attempts: 0,
        resource_monitoring: probe.is_some(),
        monitor_interval: Duration::from_millis(5),
        ..ParallelConfig::default()
    };
    let mut ex = ParallelExecutor::new(cfg, Arc::new(ParallelWork));
    if let Some(p) = probe {
        ex = ex.with_probe(p);
    }
    ex.add_test_cases((0..cases).collect::<Vec<usize>>());
    let (cpu0, t0) = (cpu_time(), Instant::now());
    rt.block_on(ex.execute_all());
    let ratio = (cpu_time() - cpu0).as_secs_f64() / t0.elapsed().as_secs_f64();
    let s = ex.get_stats();
    assert_eq!(s.passed, cases);
    (ratio, s.peak_concurrency, s.min_concurrency)
}

/// Runs `run(jobs, cases, pressure)` in a process of its own (this test binary again, with
/// only the `measure` test selected), so that the CPU reading covers nothing but that run:
/// the other tests of this binary run in parallel in this process.
fn measured_alone(jobs: usize, cases: usize, pressure: bool) -> (f64, usize, usize) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "cpu::measure", "--nocapture", "--test-threads=1"])
        .env(
            "VERITY_CPU_MEASURE",
            format!("{jobs},{cases},{}", u8::from(pressure)),
        )
        .output()
        .expect("the test binary runs");
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text
        .lines()
        .find_map(|l| l.split("measured: ").nth(1))
        .unwrap_or_else(|| {
            panic!(
                "no measurement in:\n{text}\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let v: Vec<f64> = line.split(',').map(|x| x.parse().unwrap()).collect();
    (v[0], v[1] as usize, v[2] as usize)
}

/// The measuring side of [`measured_alone`]; does nothing when run as a test of its own.
#[test]
fn measure() {
    let Ok(spec) = std::env::var("VERITY_CPU_MEASURE") else {
        return;
    };
    let v: Vec<usize> = spec.split(',').map(|x| x.parse().unwrap()).collect();
    let probe: Option<Box<dyn Probe>> = (v[2] == 1).then(|| Box::new(AlwaysPressed) as _);
    let (ratio, peak, lowest) = run(v[0], v[1], probe);
    println!("measured: {ratio},{peak},{lowest}");
}

/// `--jobs 1` keeps one core busy even though every case asks rayon for all of them. (The
/// bound holds on a loaded machine too: load only lowers the ratio.)
#[test]
fn one_job_means_one_core_of_work() {
    let (ratio, peak, _) = measured_alone(1, 12, false);
    assert_eq!(peak, 1);
    assert!(
        ratio < 1.3,
        "CPU time was {ratio:.2}x wall time with --jobs 1"
    );
}

/// Under memory pressure the throttle halves the limit down to one, and the CPU in use falls
/// with it: the limit governs engine work, not only dispatching.
#[test]
fn the_throttle_lowers_real_cpu_use() {
    let (ratio, _, lowest) = measured_alone(2, 12, true);
    assert_eq!(lowest, 1);
    assert!(
        ratio < 1.3,
        "CPU time was {ratio:.2}x wall time under pressure"
    );
}

#[test]
fn the_peak_is_measured_and_within_the_bound() {
    let (_, peak, _) = run(2, 8, None);
    assert!((1..=2).contains(&peak), "peak {peak}");
}
