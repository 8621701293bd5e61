//! `verity bench eval`: `verity eval` against the trec_eval binary on the same generated runs,
//! in the same session, each measured per process as people run them: a run with many tied
//! scores and a tie-free one, every `all_trec` measure, per query (`-q`). The two outputs must
//! be identical byte for byte; the medians of interleaved rounds and their ratio are reported.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::Serialize;
use verity_eval::synth::Scores;

use crate::error::BenchError;
use crate::stats::median;

/// What `verity bench eval` measures.
#[derive(Debug, Clone)]
pub struct EvalBench {
    /// The `verity` executable (its `eval` command is what is measured).
    pub verity: PathBuf,
    /// The trec_eval binary.
    pub trec_eval: PathBuf,
    /// Queries per generated run.
    pub queries: usize,
    /// Retrieved documents per query.
    pub docs_per_query: usize,
    /// Timed rounds; each runs both programs once.
    pub rounds: usize,
    /// Seed of the generated runs.
    pub seed: u64,
}

/// What `verity bench eval` measured: serialized as `--json` prints it, or rendered by
/// [`EvalReport::markdown`].
#[derive(Debug, Serialize)]
pub struct EvalReport {
    queries: usize,
    docs_per_query: usize,
    rounds: usize,
    trec_eval: String,
    workloads: Vec<Workload>,
}

#[derive(Debug, Serialize)]
struct Workload {
    name: &'static str,
    run_lines: usize,
    run_bytes: u64,
    verity_median_s: f64,
    trec_eval_median_s: f64,
    speedup: f64,
    identical_output: bool,
    verity_s: Vec<f64>,
    trec_eval_s: Vec<f64>,
}

/// Runs `cmd` once, returning its wall time and standard output.
fn timed(program: &Path, args: &[&std::ffi::OsStr]) -> Result<(f64, Vec<u8>), BenchError> {
    let started = Instant::now();
    let out = Command::new(program)
        .args(args)
        .stderr(Stdio::piped())
        .output()
        .map_err(|e| BenchError::input(format!("{}: {e}", program.display())))?;
    let secs = started.elapsed().as_secs_f64();
    if !out.status.success() {
        return Err(BenchError::internal(format!(
            "{} failed: {}",
            program.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok((secs, out.stdout))
}

/// Checks that `candidate` runs as trec_eval; an error says how to build one.
pub fn check_trec_eval(candidate: &Path) -> Result<(), BenchError> {
    match Command::new(candidate)
        .arg("-v")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
    {
        Ok(_) => Ok(()),
        Err(e) => Err(BenchError::input(format!(
            "no trec_eval at `{}` ({e}): build it with ../shared/peers/trec_eval/build-trec_eval.sh DIR and pass --trec-eval DIR/trec_eval",
            candidate.display()
        ))),
    }
}

/// Runs the benchmark. The report says whether the outputs were identical
/// ([`EvalReport::identical_output`]); the caller decides what a difference means.
pub fn run(args: &EvalBench) -> Result<EvalReport, BenchError> {
    check_trec_eval(&args.trec_eval)?;
    let (te, me) = (&args.trec_eval, &args.verity);
    let tmp = tempfile::tempdir().map_err(|e| BenchError::internal(e.to_string()))?;
    let mut workloads = Vec::new();
    for (name, scores) in [
        ("tied scores", Scores::Tied),
        ("distinct scores", Scores::Distinct),
    ] {
        let dir = tmp.path().join(name.replace(' ', "-"));
        std::fs::create_dir_all(&dir).map_err(|e| BenchError::internal(e.to_string()))?;
        let (run_path, qrels_path) = (dir.join("run.trec"), dir.join("qrels.trec"));
        let io = |e: std::io::Error| BenchError::internal(format!("{}: {e}", dir.display()));
        let mut run = std::io::BufWriter::new(std::fs::File::create(&run_path).map_err(io)?);
        let mut qrels = std::io::BufWriter::new(std::fs::File::create(&qrels_path).map_err(io)?);
        let lines = verity_eval::synth::write(
            &mut run,
            &mut qrels,
            args.queries,
            args.docs_per_query,
            scores,
            args.seed,
        )
        .map_err(io)?;
        drop((run, qrels));
        let run_bytes = std::fs::metadata(&run_path).map_err(io)?.len();
        let te_args: Vec<&std::ffi::OsStr> = vec![
            "-q".as_ref(),
            "-m".as_ref(),
            "all_trec".as_ref(),
            qrels_path.as_os_str(),
            run_path.as_os_str(),
        ];
        let mut verity_args = vec!["eval".as_ref()];
        verity_args.extend(te_args.iter().copied());
        // Warm the page cache and compare the outputs once.
        let (_, ours) = timed(me, &verity_args)?;
        let (_, theirs) = timed(te, &te_args)?;
        let identical_output = ours == theirs;
        let (mut v, mut t) = (Vec::new(), Vec::new());
        for _ in 0..args.rounds.max(1) {
            v.push(timed(me, &verity_args)?.0);
            t.push(timed(te, &te_args)?.0);
        }
        let (vm, tm) = (median(&mut v.clone()), median(&mut t.clone()));
        workloads.push(Workload {
            name,
            run_lines: lines,
            run_bytes,
            verity_median_s: vm,
            trec_eval_median_s: tm,
            speedup: tm / vm,
            identical_output,
            verity_s: v,
            trec_eval_s: t,
        });
    }
    Ok(EvalReport {
        queries: args.queries,
        docs_per_query: args.docs_per_query,
        rounds: args.rounds,
        trec_eval: te.display().to_string(),
        workloads,
    })
}

impl EvalReport {
    /// Did both programs print the same bytes on every workload?
    pub fn identical_output(&self) -> bool {
        self.workloads.iter().all(|w| w.identical_output)
    }

    /// The report as the terminal shows it: a line about the runs, then a Markdown table.
    pub fn markdown(&self) -> String {
        use std::fmt::Write;
        let (args, workloads, mut out) = (self, &self.workloads, String::new());
        let _ = writeln!(out,
            "verity eval against {} ({} queries × {} documents, `-q -m all_trec`, median of {} interleaved rounds, per process)\n",
            args.trec_eval,
            args.queries,
            args.docs_per_query,
            args.rounds
        );
        let _ = writeln!(
            out,
            "| run | lines | MB | verity eval s | trec_eval s | speed-up | identical output |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---|");
        for w in workloads {
            let _ = writeln!(
                out,
                "| {} | {} | {:.0} | {:.2} | {:.2} | {:.2}× | {} |",
                w.name,
                w.run_lines,
                w.run_bytes as f64 / 1e6,
                w.verity_median_s,
                w.trec_eval_median_s,
                w.speedup,
                if w.identical_output { "yes" } else { "NO" }
            );
        }
        out
    }
}
