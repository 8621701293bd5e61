//! `verity bench runner`: the parallel execution engine against its baselines, same run.
//!
//! a. no-op jobs: the executor vs a bare `futures::stream::buffer_unordered` of the same
//!    blocking-pool no-ops;
//! b. CPU-bound jobs: 2 workers vs 1;
//! c. latency-bound jobs (10 ms each) at 64 concurrent vs the ideal 6,400 jobs/s;
//! d. the original design — a std `Mutex<VecDeque>` queue, CPU work inside tokio tasks — on the
//!    loads of b and c;
//! e. real validation cases of the text types through the embedded engine (`--corpus`,
//!    default the sample corpus): `--jobs 2` against `--jobs 1` in throughput, CPU time and
//!    case latency.

use std::collections::VecDeque;
use std::hint::black_box;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use verity_runner::{
    Deadline, JobError, ParallelConfig, ParallelExecutor, TestPriority, Validator, Verdict,
};

use serde::Serialize;

use crate::error::BenchError;
use crate::stats::median;

/// What `verity bench runner` measures.
#[derive(Debug, Clone)]
pub struct RunnerBench {
    /// Timed repetitions of each benchmark; the median is reported.
    pub repetitions: usize,
    /// Scales every job count (0.1 for a quick look).
    pub scale: f64,
    /// The corpus of the engine workload (e).
    pub corpus: PathBuf,
    /// Validation cases of the engine workload.
    pub cases: usize,
}

/// One row of the table: a benchmark, Verity's figure, the baseline's, their ratio, and the
/// target the ratio is held to.
#[derive(Debug, Clone, Serialize)]
pub struct RunnerRow {
    /// Which benchmark (`a. no-op jobs, 8 concurrent`).
    pub benchmark: String,
    /// Jobs (or cases) it ran.
    pub jobs: usize,
    /// The runner's figure, with its unit.
    pub verity: String,
    /// The baseline's figure, named.
    pub baseline: String,
    /// The ratio of the two.
    pub ratio: String,
    /// What the ratio should be.
    pub target: String,
}

impl RunnerRow {
    /// The row as a line of the Markdown table.
    pub fn markdown(&self) -> String {
        format!(
            "| {} | {} | {} | {} | {} | {} |",
            self.benchmark, self.jobs, self.verity, self.baseline, self.ratio, self.target
        )
    }
}

/// The head of the Markdown table [`RunnerRow::markdown`] lines fill.
pub const TABLE_HEAD: &str =
    "| benchmark | jobs | verity | baseline | ratio | target |\n|---|---:|---:|---:|---:|---|";

/// What `verity bench runner` measured.
#[derive(Debug, Clone, Serialize)]
pub struct RunnerReport {
    /// The rows, in the order measured.
    pub rows: Vec<RunnerRow>,
    /// Repetitions per benchmark.
    pub repetitions: usize,
    /// The engine workload's corpus and case count.
    pub corpus: String,
    /// Cases of the engine workload.
    pub cases: usize,
}

impl RunnerReport {
    /// The line under the table: how the figures were taken.
    pub fn footer(&self) -> String {
        format!(
            "medians of {} runs; tokio runtime with 2 worker threads; e: {} ({} cases)",
            self.repetitions, self.corpus, self.cases
        )
    }
}

/// A row from its cells.
fn row(
    benchmark: &str,
    jobs: usize,
    verity: String,
    baseline: String,
    ratio: String,
    target: &str,
) -> RunnerRow {
    RunnerRow {
        benchmark: benchmark.to_owned(),
        jobs,
        verity,
        baseline,
        ratio,
        target: target.to_owned(),
    }
}

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

/// Runs every benchmark; `on_row` sees each row as soon as it is measured (they take seconds
/// each).
pub fn run(
    args: &RunnerBench,
    on_row: &mut dyn FnMut(&RunnerRow),
) -> Result<RunnerReport, BenchError> {
    let reps = args.repetitions;
    let scale = args.scale.max(0.01);
    let scaled = |n: usize| ((n as f64 * scale) as usize).max(10);
    let mut rows = Vec::new();
    let mut push = |r: RunnerRow| {
        on_row(&r);
        rows.push(r);
    };

    let n = scaled(100_000);
    let ours = med(reps, || executor(n, Work::Noop, 8));
    let base = med(reps, || buffer_unordered(n, Work::Noop, 8));
    push(row(
        "a. no-op jobs, 8 concurrent",
        n,
        format!("{:.0} jobs/s", n as f64 / ours),
        format!("buffer_unordered {:.0} jobs/s", n as f64 / base),
        format!("{:.2}× the time", ours / base),
        "≤ 1.5×",
    ));

    let n = scaled(400);
    let cpu = Work::Cpu(2_000_000);
    let one = med(reps, || executor(n, cpu, 1));
    let two = med(reps, || executor(n, cpu, 2));
    push(row(
        "b. CPU-bound jobs, 2 workers vs 1",
        n,
        format!("{:.0} jobs/s", n as f64 / two),
        format!("1 worker {:.0} jobs/s", n as f64 / one),
        format!("{:.2}× speed-up", one / two),
        "≥ 1.8×",
    ));

    let n = scaled(3_200);
    let sleep = Work::Sleep(Duration::from_millis(10));
    let lat = med(reps, || executor(n, sleep, 64));
    push(row(
        "c. 10 ms latency-bound jobs, 64 concurrent",
        n,
        format!("{:.0} jobs/s", n as f64 / lat),
        "ideal 6400 jobs/s".to_owned(),
        format!("{:.1}% of ideal", (n as f64 / lat) / 6400.0 * 100.0),
        "≥ 90%",
    ));

    let n = scaled(400);
    let orig_cpu = med(reps, || original_design(n, cpu, 2));
    push(row(
        "d1. CPU-bound, original design (2 tasks)",
        n,
        format!("{:.0} jobs/s", n as f64 / two),
        format!("original {:.0} jobs/s", n as f64 / orig_cpu),
        format!("{:.2}×", orig_cpu / two),
        "—",
    ));
    let n = scaled(3_200);
    let orig_lat = med(reps, || original_design(n, sleep, 64));
    push(row(
        "d2. 10 ms latency-bound, original design (64 tasks)",
        n,
        format!("{:.0} jobs/s", n as f64 / lat),
        format!("original {:.0} jobs/s", n as f64 / orig_lat),
        format!("{:.1}×", orig_lat / lat),
        "—",
    ));

    let corpus = &args.corpus;
    let tmp = tempfile::tempdir()
        .map_err(|e| BenchError::internal(format!("temporary directory: {e}")))?;
    let (cases, validator) =
        engine_workload::prepare(corpus, &tmp.path().join("index"), args.cases)?;
    let n = cases.len();
    let runs = |jobs| -> Vec<engine_workload::Figures> {
        (0..reps.max(1))
            .map(|_| engine_workload::measure(&cases, &validator, jobs))
            .collect()
    };
    let (one, two) = (runs(1), runs(2));
    let pick = |v: &[engine_workload::Figures], f: fn(&engine_workload::Figures) -> f64| {
        let mut x: Vec<f64> = v.iter().map(f).collect();
        median(&mut x)
    };
    let (w1, w2) = (pick(&one, |f| f.wall), pick(&two, |f| f.wall));
    let (c1, c2) = (pick(&one, |f| f.cpu), pick(&two, |f| f.cpu));
    let (l1, l2) = (pick(&one, |f| f.median_ms), pick(&two, |f| f.median_ms));
    push(row(
        "e1. engine cases, --jobs 2 vs 1",
        n,
        format!("{:.0} cases/s", n as f64 / w2),
        format!("--jobs 1 {:.0} cases/s", n as f64 / w1),
        format!("{:.2}× speed-up", w1 / w2),
        "≥ 1.8×",
    ));
    push(row(
        "e2. CPU time of e1, --jobs 2 vs 1",
        n,
        format!("{c2:.2} s"),
        format!("--jobs 1 {c1:.2} s"),
        format!("{:.2}×", c2 / c1),
        "within 5%",
    ));
    push(row(
        "e3. median case latency, --jobs 2 vs 1",
        n,
        format!("{l2:.2} ms"),
        format!("--jobs 1 {l1:.2} ms"),
        format!("{:.2}×", l2 / l1),
        "within 10%",
    ));
    Ok(RunnerReport {
        rows,
        repetitions: reps,
        corpus: corpus.display().to_string(),
        cases: n,
    })
}

/// The engine workload: real validation cases (the text types) through the embedded engine,
/// `--jobs 1` and `--jobs 2`. What `--jobs` must mean: twice the throughput on two cores, the
/// same CPU time, and case latencies as under one job.
mod engine_workload {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use verity_engine::{BuildOptions, CodeIndex};
    use verity_oracle::{Corpus, CorpusRules};
    use verity_runner::{ParallelConfig, ParallelExecutor};
    use verity_validation::parallel::CaseValidator;
    use verity_validation::{
        generate, CorrectnessValidator, EngineBackend, GeneratorOptions, GroundTruthCase,
        ValidatorOptions,
    };

    use crate::error::BenchError;

    /// One measurement: wall seconds, CPU seconds, median case latency (ms).
    pub struct Figures {
        pub wall: f64,
        pub cpu: f64,
        pub median_ms: f64,
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

    /// The corpus's text cases and a validator over a text-only index of it (in `dir`).
    pub fn prepare(
        corpus_dir: &std::path::Path,
        dir: &std::path::Path,
        cases: usize,
    ) -> Result<(Vec<GroundTruthCase>, Arc<CaseValidator>), BenchError> {
        let corpus = Corpus::load(corpus_dir, &CorpusRules::default())
            .map_err(|e| BenchError::input(format!("corpus {}: {e}", corpus_dir.display())))?;
        let truth = generate(
            &corpus,
            &GeneratorOptions {
                cases,
                seed: 7,
                vectors: None,
            },
        );
        let (index, _) = CodeIndex::build(corpus_dir, dir, &BuildOptions::default())?;
        let validator = CorrectnessValidator::new(
            Arc::new(EngineBackend::new(index)),
            ValidatorOptions::default(),
        );
        Ok((truth.cases, Arc::new(CaseValidator(validator))))
    }

    /// Runs every case with `jobs` workers.
    pub fn measure(
        cases: &[GroundTruthCase],
        validator: &Arc<CaseValidator>,
        jobs: usize,
    ) -> Figures {
        let cfg = ParallelConfig {
            max_concurrent_tests: jobs,
            retry_attempts: 0,
            resource_monitoring: false,
            test_timeout_seconds: 60.0,
            ..ParallelConfig::default()
        };
        let mut ex = ParallelExecutor::new(cfg, validator.clone());
        ex.add_test_cases(cases.to_vec());
        let rt = super::runtime();
        let (cpu0, t0) = (cpu_time(), Instant::now());
        rt.block_on(ex.execute_all());
        let wall = t0.elapsed().as_secs_f64();
        let cpu = (cpu_time() - cpu0).as_secs_f64();
        let mut lat: Vec<f64> = ex.results().iter().map(|r| r.duration_ms).collect();
        Figures {
            wall,
            cpu,
            median_ms: super::median(&mut lat),
        }
    }
}
