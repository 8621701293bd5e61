//! `verity bench`: flags into a benchmark's configuration, the report onto the terminal.
//!
//! The measuring is `verity-bench`'s; here are only the defaults that depend on where the
//! command runs (the sample corpus, `$VERITY_MINILM_DIR`, `$VERITY_TREC_EVAL`, this
//! executable for the per-process runs) and the choice between JSON and Markdown.

use std::path::PathBuf;
use std::process::ExitCode;

use verity_bench::search::{BenchQuery, ColdRuns, HttpRuns, PeerKind, SearchBench};
use verity_bench::BenchError;
use verity_engine::{BuildOptions, EmbedderSpec};

use crate::exit::{CmdResult, Failure};
use crate::out::{out, outln};
use crate::{
    BenchEvalArgs, BenchPeer, BenchRunnerArgs, BenchSearchArgs, BenchSemanticArgs, BenchVectorArgs,
};

impl From<BenchError> for Failure {
    fn from(e: BenchError) -> Self {
        Failure::classified(e.is_user_error(), e)
    }
}

/// Progress notes go to stderr, where they do not mix with the report.
fn note(line: &str) {
    eprintln!("{line}");
}

/// This executable, which the per-process measurements run.
fn this_exe() -> Result<PathBuf, Failure> {
    std::env::current_exe().map_err(|e| Failure::internal(format!("finding this executable: {e}")))
}

/// The MiniLM model directory: the flag, else `$VERITY_MINILM_DIR`.
fn minilm_dir(flag: &Option<PathBuf>) -> Option<PathBuf> {
    flag.clone()
        .or_else(|| std::env::var_os("VERITY_MINILM_DIR").map(PathBuf::from))
}

fn print_json(report: &impl serde::Serialize) -> Result<(), Failure> {
    outln!(
        "{}",
        serde_json::to_string_pretty(report).expect("a report serializes")
    )
}

/// `verity bench search`.
pub fn search(args: &BenchSearchArgs) -> CmdResult {
    let queries: Vec<BenchQuery> = match (&args.queries, &args.truth) {
        (Some(q), None) => verity_bench::search::read_queries(q)?,
        (None, Some(t)) => {
            verity_bench::search::truth_queries(&crate::inputs::load_truth(t)?.cases)
        }
        _ => {
            return Err(Failure::input(
                "give exactly one of --queries FILE and --truth FILE",
            ))
        }
    };
    if args.clients == 0 {
        return Err(Failure::input("--clients must be at least 1"));
    }
    let cfg = SearchBench {
        corpus: args.corpus.clone(),
        queries,
        index: args.index.clone(),
        build: BuildOptions {
            walk: args.walk.options(),
            vectors: args.vectors.config()?,
            ..BuildOptions::default()
        },
        iterations: args.iterations,
        warmup: args.warmup,
        limit: args.limit,
        rg: !args.no_rg,
        rg_iterations: args.rg_iterations,
        clients: args.clients,
        throughput_queries: args.throughput_queries,
        incremental: args.incremental,
        cold: match args.cold {
            true => Some(ColdRuns {
                exe: this_exe()?,
                iterations: args.cold_iterations,
            }),
            false => None,
        },
        peer: args.peer.map(|p| match p {
            BenchPeer::Csearch => PeerKind::Csearch,
        }),
        http: args.http.as_ref().map(|url| HttpRuns {
            url: url.clone(),
            rate: args.http_rate,
            seconds: args.http_seconds,
        }),
    };
    let report = verity_bench::search::run(&cfg, &note)?;
    if let Some(path) = &args.html {
        std::fs::write(path, report.html())
            .map_err(|e| Failure::input(format!("{}: {e}", path.display())))?;
        note(&format!("wrote {}", path.display()));
    }
    if args.json {
        print_json(&report)?;
    } else {
        out!("{}", report.markdown())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `verity bench runner`.
pub fn runner(args: &BenchRunnerArgs) -> CmdResult {
    let cfg = verity_bench::runner::RunnerBench {
        repetitions: args.repetitions,
        scale: args.scale,
        corpus: args.corpus.clone().unwrap_or_else(super::sample_corpus),
        cases: args.cases,
    };
    outln!("{}", verity_bench::runner::TABLE_HEAD)?;
    // Each row as soon as it is measured; a closed pipe stops the printing, not the run.
    let mut printing = Ok(());
    let report = verity_bench::runner::run(&cfg, &mut |row| {
        if printing.is_ok() {
            printing = outln!("{}", row.markdown());
        }
    })?;
    printing?;
    outln!("\n{}", report.footer())?;
    Ok(ExitCode::SUCCESS)
}

/// `verity bench vector`.
pub fn vector(args: &BenchVectorArgs) -> CmdResult {
    if args.k == 0 || args.queries == 0 || args.ef.is_empty() || args.ef.contains(&0) {
        return Err(Failure::input(
            "--k, --queries and every --ef must be at least 1",
        ));
    }
    let embedder = match &args.model {
        Some(dir) if args.minilm => EmbedderSpec::MiniLm { dir: dir.clone() },
        None if args.minilm => return Err(Failure::input("--minilm needs --model DIR")),
        _ => EmbedderSpec::default(),
    };
    let cfg = verity_bench::vector::VectorBench {
        chunks: args.chunks,
        queries: args.queries,
        k: args.k,
        ef: args.ef.clone(),
        embedder,
        hnsw_m: args.hnsw_m,
        hnsw_ef_construction: args.hnsw_ef_construction,
        scalar: args.vector_scalar.map(Into::into),
        minilm_model: minilm_dir(&args.model),
        minilm_sample: args.minilm_sample,
        seed: args.seed,
    };
    let report = verity_bench::vector::run(&cfg, &note)?;
    if args.json {
        print_json(&report)?;
    } else {
        out!("{}", report.markdown())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `verity bench semantic`.
pub fn semantic(args: &BenchSemanticArgs) -> CmdResult {
    let root = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."));
    let cfg = verity_bench::semantic::SemanticBench {
        corpus: args.corpus.clone().unwrap_or_else(super::sample_corpus),
        questions: args
            .questions
            .clone()
            .unwrap_or_else(|| root.join("benches/semantic/questions.tsv")),
        qrels: args
            .qrels
            .clone()
            .unwrap_or_else(|| root.join("benches/semantic/qrels.txt")),
        minilm_model: minilm_dir(&args.model),
    };
    let report = verity_bench::semantic::run(&cfg)?;
    if args.json {
        print_json(&report)?;
    } else {
        out!("{}", report.markdown())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `verity bench eval`: fails (after printing the figures) when the outputs differ.
pub fn eval(args: &BenchEvalArgs) -> CmdResult {
    let cfg = verity_bench::trec_eval::EvalBench {
        verity: this_exe()?,
        trec_eval: args
            .trec_eval
            .clone()
            .or_else(|| std::env::var_os("VERITY_TREC_EVAL").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("trec_eval")),
        queries: args.queries,
        docs_per_query: args.docs_per_query,
        rounds: args.rounds,
        seed: args.seed,
    };
    let report = verity_bench::trec_eval::run(&cfg)?;
    if args.json {
        print_json(&report)?;
    } else {
        out!("{}", report.markdown())?;
    }
    if !report.identical_output() {
        return Err(Failure::internal(
            "verity eval and trec_eval printed different output",
        ));
    }
    Ok(ExitCode::SUCCESS)
}
