//! # verity
//!
//! The command-line front of Verity: a thin layer over `verity-engine` (indexing and search) and
//! `verity-validation` (ground truth and validation). Each subcommand lives in its own module
//! under `commands/`; this file only parses arguments and maps errors to exit codes.

mod commands;
mod exit;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::exit::Failure;

/// Verity: a code-search engine and the system that proves it right.
#[derive(Debug, Parser)]
#[command(name = "verity", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 success, 1 no match, 2 usage, query or input error, 3 internal error or timeout.\nQuery syntax: docs/query-language.md."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build or update the index of a directory of source files.
    Index(IndexArgs),
    /// Search an index (literal, boolean, phrase, proximity, wildcard and regex queries).
    Search(SearchArgs),
    /// Index the built-in sample corpus and run an example query of every type.
    Demo(DemoArgs),
    /// Generate, check and convert ground truth.
    #[command(subcommand)]
    Truth(TruthCommand),
    /// Measure the engine against a named baseline in the same run.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Subcommand)]
pub enum TruthCommand {
    /// Mine cases of every text query type from a corpus; the oracle computes expected files.
    Generate {
        /// The corpus directory.
        corpus: PathBuf,
        /// Number of cases (balanced across the eight text query types).
        #[arg(long, default_value_t = 1000)]
        cases: usize,
        /// Random seed: the same seed and corpus give the same truth.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output file.
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        #[command(flatten)]
        walk: WalkArgs,
    },
    /// Check a ground-truth file; with --corpus, also its fingerprint and the oracle's agreement.
    Check {
        truth: PathBuf,
        #[arg(long, value_name = "DIR")]
        corpus: Option<PathBuf>,
        #[command(flatten)]
        walk: WalkArgs,
    },
    /// Print the JSON Schema of ground-truth files.
    Schema,
    /// Write the truth as TREC qrels.
    ExportQrels {
        truth: PathBuf,
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Build truth from TREC qrels and a topics file (ID<TAB>QUERY_TYPE<TAB>QUERY per line).
    ImportQrels {
        qrels: PathBuf,
        #[arg(long, value_name = "FILE")]
        topics: PathBuf,
        #[arg(long, value_name = "DIR")]
        corpus: PathBuf,
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
        #[command(flatten)]
        walk: WalkArgs,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Index build figures, then per-query latency beside `rg -l` with file-set comparison.
    Search(BenchSearchArgs),
    /// The parallel execution engine against buffer_unordered, 1 worker, the ideal rate and
    /// the original design.
    Runner(BenchRunnerArgs),
}

#[derive(Debug, Args)]
pub struct BenchRunnerArgs {
    /// Runs per measurement (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub repetitions: usize,
    /// Multiply every job count by this (0.01 for a smoke run).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
}

#[derive(Debug, Args)]
pub struct BenchSearchArgs {
    /// Directory to index and search.
    #[arg(long, value_name = "DIR")]
    pub corpus: PathBuf,
    /// Query file: one query per line (`lit:` and `regex:` queries are also run through rg).
    #[arg(long, value_name = "FILE")]
    pub queries: PathBuf,
    /// Where to build the index [default: a temporary directory].
    #[arg(long, value_name = "PATH")]
    pub index: Option<PathBuf>,
    /// Timed runs per query and tool.
    #[arg(long, default_value_t = 5)]
    pub iterations: usize,
    /// Untimed runs per query and tool before timing.
    #[arg(long, default_value_t = 1)]
    pub warmup: usize,
    /// Do not run ripgrep.
    #[arg(long)]
    pub no_rg: bool,
    /// Print JSON instead of a Markdown table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub walk: WalkArgs,
}

/// Which files of the tree are indexed (ripgrep's defaults unless changed).
#[derive(Debug, Args, Clone)]
pub struct WalkArgs {
    /// Also index hidden files and directories.
    #[arg(long)]
    pub hidden: bool,
    /// Do not honour .gitignore, .ignore and .git/info/exclude files.
    #[arg(long)]
    pub no_ignore: bool,
    /// Do not skip directories named .git, target and node_modules.
    #[arg(long)]
    pub no_default_excludes: bool,
    /// Skip files larger than this many bytes.
    #[arg(long, value_name = "BYTES", default_value_t = verity_engine::walk::DEFAULT_MAX_FILE_SIZE)]
    pub max_filesize: u64,
}

#[derive(Debug, Args)]
pub struct IndexArgs {
    /// Directory of source files to index.
    pub dir: PathBuf,
    /// Where the index lives [default: DIR/.verity].
    #[arg(long, value_name = "PATH")]
    pub index: Option<PathBuf>,
    /// Discard an existing index and build from scratch.
    #[arg(long)]
    pub rebuild: bool,
    #[command(flatten)]
    pub walk: WalkArgs,
    /// List every skipped and lossily decoded file.
    #[arg(short, long)]
    pub verbose: bool,
    /// Print the build report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Indexing threads [default: number of CPUs, at most 4].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The query (see docs/query-language.md).
    pub query: String,
    /// The index to search.
    #[arg(long, value_name = "PATH", default_value = ".verity")]
    pub index: PathBuf,
    /// Show at most N files (all by default).
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Show at most N matching lines per file.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub max_lines: usize,
    /// Print only the paths of matching files.
    #[arg(short = 'l', long)]
    pub files_only: bool,
    /// Print results as JSON.
    #[arg(long)]
    pub json: bool,
    /// Give up after this many seconds (exit code 3).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Corpus to run the demo on [default: the built-in sample corpus].
    #[arg(long, value_name = "DIR")]
    pub corpus: Option<PathBuf>,
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VERITY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Index(args) => commands::index::run(&args),
        Command::Search(args) => commands::search::run(&args),
        Command::Demo(args) => commands::demo::run(&args),
        Command::Bench(BenchCommand::Search(args)) => commands::bench::run(&args),
        Command::Bench(BenchCommand::Runner(args)) => commands::bench_runner::run(&args),
        Command::Truth(cmd) => commands::truth::run(&cmd),
    };
    match result {
        Ok(code) => code,
        Err(Failure { code, message }) => {
            eprintln!("verity: {message}");
            ExitCode::from(code)
        }
    }
}
