//! # verity
//!
//! The command-line front of Verity: a thin layer over `verity-engine` (indexing and search) and
//! `verity-validation` (ground truth and validation). Each subcommand lives in its own module
//! under `commands/`; this file only parses arguments and maps errors to exit codes.

mod commands;
mod config;
mod exit;
mod inputs;
mod out;
mod render;
mod signals;
mod vector_flags;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::exit::Failure;
use verity_engine::VectorSearch;
use verity_vector::store::{ChunkSettings, HnswParams};

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
    /// Validate the engine: build the index, load or generate the truth, run every case in
    /// parallel and write reports. With no arguments: the built-in sample corpus.
    Validate(Box<ValidateArgs>),
    /// Show or merge validation reports.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Evaluate a TREC run against qrels exactly as trec_eval does; compare two runs.
    Eval(EvalArgs),
    /// Make corpora for scale tests.
    #[command(subcommand)]
    Corpus(CorpusCommand),
    /// Build or update the index of a directory of source files.
    Index(IndexArgs),
    /// Search an index (literal, boolean, phrase, proximity, wildcard and regex queries).
    Search(SearchArgs),
    /// Index the built-in sample corpus and run an example query of every type.
    Demo(DemoArgs),
    /// Serve an index over HTTP: a JSON search API, a search page at /, health, stats and
    /// Prometheus metrics, and the backend protocol at /api/protocol (docs/serve.md). It
    /// follows the index as `verity index` updates it. With --stdio: the backend protocol on
    /// stdin/stdout instead (docs/backends.md).
    Serve(ServeArgs),
    /// Generate, check and convert ground truth.
    #[command(subcommand)]
    Truth(TruthCommand),
    /// Measure the engine against a named baseline in the same run.
    #[command(subcommand)]
    Bench(BenchCommand),
}

#[derive(Debug, Subcommand)]
pub enum TruthCommand {
    /// Mine cases of every query type from a corpus; the oracle computes expected files.
    Generate {
        /// The corpus directory.
        corpus: PathBuf,
        /// Number of cases (balanced across the query types: eight text types, plus Vector and
        /// Hybrid unless --embedder none).
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
        #[command(flatten)]
        vectors: VectorArgs,
    },
    /// Check a ground-truth file; with --corpus, also its fingerprint and the oracle's agreement
    /// (Vector and Hybrid cases with the embedder and chunking of the --embedder flags).
    Check {
        truth: PathBuf,
        #[arg(long, value_name = "DIR")]
        corpus: Option<PathBuf>,
        #[command(flatten)]
        walk: WalkArgs,
        #[command(flatten)]
        vectors: VectorArgs,
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

#[derive(Debug, Args)]
#[command(
    after_help = "Exit codes: 0 every case passed and thresholds met; 1 validation failures; 2 usage, config or input error; 3 infrastructure error (index or backend unusable); 130 interrupted (a partial report is written).\nSettings come from built-in defaults, then [profile.default] of verity.toml, then the chosen --profile, then flags. See docs/ci.md."
)]
pub struct ValidateArgs {
    /// The engine to validate: `verity` (the embedded engine), `exec:COMMAND` (a process
    /// speaking the backend protocol, docs/backends.md), `http://HOST:PORT/PATH` (a service
    /// speaking it), or a built-in adapter: `rg`, `grep`, `git-grep`, `ugrep`, `csearch`
    /// [default: verity].
    #[arg(long, value_name = "SPEC")]
    pub backend: Option<String>,
    /// Corpus directory [default: the built-in sample corpus].
    #[arg(long, value_name = "DIR")]
    pub corpus: Option<PathBuf>,
    /// Ground-truth file [default: generate truth for the corpus with the oracle].
    #[arg(long, value_name = "FILE")]
    pub truth: Option<PathBuf>,
    /// Index directory, built or updated in place [default: a temporary directory].
    #[arg(long, value_name = "PATH")]
    pub index: Option<PathBuf>,
    /// Cases to generate when no --truth is given [default: 1000].
    #[arg(long, value_name = "N")]
    pub cases: Option<usize>,
    /// Generator seed [default: 1].
    #[arg(long, value_name = "SEED")]
    pub seed: Option<u64>,
    /// Cases run at once [default: CPUs, at most 8].
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Per-attempt timeout in seconds [default: 30].
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// Retries after an error (never after a wrong answer) [default: 2].
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,
    /// A previous report.json: its durations order the queue longest first.
    #[arg(long, value_name = "REPORT")]
    pub history: Option<PathBuf>,
    /// Run only the cases that did not pass in this report.json (failed, errored, timed out
    /// or cancelled there).
    #[arg(long, value_name = "REPORT")]
    pub rerun_failed: Option<PathBuf>,
    /// Run each selected case N times, concurrently (stress mode); a case whose runs end
    /// differently is reported as flaky, with the count of each outcome [default: 1].
    #[arg(long, value_name = "N")]
    pub repeat: Option<usize>,
    /// Stop dispatching after N failed cases.
    #[arg(long, value_name = "N")]
    pub max_fail: Option<usize>,
    /// Stop dispatching after the first failed case.
    #[arg(long)]
    pub fail_fast: bool,
    /// Minimum percentage of cases that must pass, per query type [default: 100].
    #[arg(long, value_name = "PERCENT")]
    pub min_accuracy: Option<f64>,
    /// Minimum mean recall@k (0 to 1) of a ranked type answered approximately (HNSW)
    /// [default: 0.99].
    #[arg(long, value_name = "FRACTION")]
    pub min_recall: Option<f64>,
    /// How vector and hybrid queries find the nearest chunks: exact (every chunk scored;
    /// answers must equal the oracle's), hnsw (the graph; judged by mean recall@k), or auto
    /// (exact up to 500,000 chunks) [default: auto].
    #[arg(long, value_name = "MODE")]
    pub vector_search: Option<VectorSearch>,
    /// Run only this share of the cases: hash:M/N, count:M/N, or time:M/N (balanced by the
    /// durations in --history) (docs/ci.md).
    #[arg(long, value_name = "SPEC")]
    pub partition: Option<String>,
    /// Directory for the reports [default: verity-report].
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Report formats, comma-separated: json, junit, md, html, trec [default: all].
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub format: Option<Vec<String>>,
    /// Only these query types, comma-separated (for example Regex,BooleanNot).
    #[arg(long = "type", value_name = "TYPES", value_delimiter = ',')]
    pub types: Option<Vec<String>>,
    /// Only cases with any of these tags, comma-separated.
    #[arg(long = "tag", value_name = "TAGS", value_delimiter = ',')]
    pub tags: Option<Vec<String>>,
    /// Lower concurrency while this process's resident memory is above SIZE (for example 2G).
    #[arg(long, value_name = "SIZE")]
    pub max_rss: Option<String>,
    /// Stop the whole run after this many seconds (unfinished cases are cancelled).
    #[arg(long, value_name = "SECONDS")]
    pub global_timeout: Option<f64>,
    /// Seconds between progress lines when stderr is not a terminal [default: 5].
    #[arg(long, value_name = "SECONDS")]
    pub progress_interval: Option<f64>,
    /// No progress output.
    #[arg(long)]
    pub no_progress: bool,
    /// Config file [default: verity.toml in the current directory, if present].
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Profile of the config file [default: default].
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    #[command(flatten)]
    pub walk: WalkArgs,
    #[command(flatten)]
    pub vectors: VectorArgs,
}

#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    after_help = "Measures (-m): official (the default), all_trec, a family (map, P, ndcg_cut, ...), a family with cut-offs (P.5,10) or one measure (P_10). Families: runid num_q num_ret num_rel num_rel_ret map gm_map Rprec bpref recip_rank iprec_at_recall P relstring recall gm_bpref Rprec_mult utility 11pt_avg ndcg ndcg_cut map_cut relative_P success set_P set_relative_P set_recall set_map set_F num_nonrel_judged_ret.\nOutput: trec_eval's, one `MEASURE<TAB>QUERY<TAB>VALUE` line each. See docs/eval.md."
)]
pub struct EvalArgs {
    #[command(subcommand)]
    pub command: Option<EvalCommand>,
    /// Relevance judgments: QID ITER DOCNO REL per line.
    pub qrels: Option<PathBuf>,
    /// The run: QID ITER DOCNO RANK SCORE RUNID per line.
    pub run: Option<PathBuf>,
    /// Measures to print (repeatable) [default: official].
    #[arg(short = 'm', long = "measure", value_name = "MEASURE")]
    pub measures: Vec<String>,
    /// Print every query's values before the summary.
    #[arg(short = 'q')]
    pub per_query: bool,
    /// Average over every query in the qrels (a query missing from the run scores 0).
    #[arg(short = 'c')]
    pub complete: bool,
    /// Evaluate only the first N documents of each ranking.
    #[arg(short = 'M', value_name = "N")]
    pub max_retrieved: Option<usize>,
    /// Judged documents only: take documents without a judgment out of each ranking.
    #[arg(short = 'J')]
    pub judged_only: bool,
    /// Documents in the collection (used only by utility's fourth coefficient).
    #[arg(short = 'N', value_name = "N", default_value_t = 0)]
    pub num_docs: i64,
    /// Lowest relevance value that counts as relevant.
    #[arg(
        short = 'l',
        value_name = "LEVEL",
        default_value_t = 1,
        allow_negative_numbers = true
    )]
    pub level: i64,
    /// JSON instead of trec_eval's text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// Write a synthetic run and qrels (for measuring evaluation speed).
    Generate {
        /// Queries.
        #[arg(long, default_value_t = 2000)]
        queries: usize,
        /// Retrieved documents per query.
        #[arg(long, default_value_t = 500)]
        docs_per_query: usize,
        /// No tied scores (by default scores come in steps of 0.01, with many ties).
        #[arg(long)]
        distinct_scores: bool,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Directory for run.trec and qrels.trec.
        #[arg(short, long, value_name = "DIR")]
        output: PathBuf,
    },
    /// Compare two runs: per-query differences, paired t-test and randomisation test.
    Compare {
        run_a: PathBuf,
        run_b: PathBuf,
        #[arg(long, value_name = "FILE")]
        qrels: PathBuf,
        /// Measures (repeatable) [default: map, P_10, ndcg_cut_10, recip_rank].
        #[arg(short = 'm', long = "measure", value_name = "MEASURE")]
        measures: Vec<String>,
        /// Also list every query's values and difference.
        #[arg(short = 'q')]
        per_query: bool,
        #[arg(short = 'c')]
        complete: bool,
        #[arg(
            short = 'l',
            value_name = "LEVEL",
            default_value_t = 1,
            allow_negative_numbers = true
        )]
        level: i64,
        /// Sign flips of the randomisation test.
        #[arg(long, default_value_t = 10_000)]
        permutations: usize,
        /// Seed of the randomisation test.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum CorpusCommand {
    /// Write a large, realistic synthetic source tree (Rust, TOML, Markdown).
    Synth {
        /// Number of files.
        #[arg(long, default_value_t = 100_000)]
        files: usize,
        /// Random seed: the same seed gives the same tree.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Output directory (created; must be empty or absent).
        dir: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Print a report.json again (exit code as the run's).
    Show {
        report: PathBuf,
        /// text, md, html, junit, json, run (TREC run) or qrels.
        #[arg(long, default_value = "text")]
        format: String,
    },
    /// Merge the reports of a partitioned run into one.
    Merge {
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        /// Directory for the merged reports.
        #[arg(short, long, value_name = "DIR")]
        output: PathBuf,
        /// Report formats, comma-separated: json, junit, md, html, trec [default: all].
        #[arg(long, value_name = "LIST", value_delimiter = ',')]
        format: Option<Vec<String>>,
    },
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Indexing (cold and incremental), latency per query type, throughput with concurrent
    /// clients, `rg -l` side by side, and the performance targets.
    Search(BenchSearchArgs),
    /// The parallel execution engine against buffer_unordered, 1 worker, the ideal rate and
    /// the original design.
    Runner(BenchRunnerArgs),
    /// The HNSW vector index against exact search: recall@k and queries/s for several search
    /// expansions on a synthetic corpus, embedding throughput, vector query latency.
    Vector(BenchVectorArgs),
    /// Retrieval quality on labelled natural-language questions: nDCG@10 and MRR of BM25,
    /// hash and MiniLM embeddings and hybrids, side by side.
    Semantic(BenchSemanticArgs),
    /// `verity eval` against the trec_eval binary on generated runs (tied and tie-free):
    /// time per process, speed-up, and whether the outputs are identical.
    Eval(BenchEvalArgs),
}

#[derive(Debug, Args)]
pub struct BenchEvalArgs {
    /// The trec_eval binary [default: $VERITY_TREC_EVAL, else `trec_eval` on the PATH].
    #[arg(long, value_name = "PATH")]
    pub trec_eval: Option<PathBuf>,
    /// Queries per generated run.
    #[arg(long, default_value_t = 2000)]
    pub queries: usize,
    /// Retrieved documents per query.
    #[arg(long, default_value_t = 1000)]
    pub docs_per_query: usize,
    /// Timed rounds (each runs both programs once; the median is reported).
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchVectorArgs {
    /// Chunks in the synthetic corpus (about; files are written to reach it).
    #[arg(long, default_value_t = 50_000)]
    pub chunks: usize,
    /// Queries (words of random corpus lines).
    #[arg(long, default_value_t = 500)]
    pub queries: usize,
    /// Neighbours per query.
    #[arg(long, default_value_t = 10)]
    pub k: usize,
    /// Search expansions to measure (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = vec![16, 32, 64, 128, 256, 512, 1024])]
    pub ef: Vec<usize>,
    /// Index with MiniLM instead of the hash embedder (slow: about 10 chunks/s on 2 cores).
    #[arg(long)]
    pub minilm: bool,
    /// HNSW edges per node (M) [default: the index default].
    #[arg(long, value_name = "N")]
    pub hnsw_m: Option<usize>,
    /// HNSW candidate list while building (efConstruction) [default: the index default].
    #[arg(long, value_name = "N")]
    pub hnsw_ef_construction: Option<usize>,
    /// How the graph stores vector components [default: the embedder's default]. Recall and
    /// similarities are measured against the embedder's own f32 vectors either way.
    #[arg(long, value_enum, value_name = "KIND")]
    pub vector_scalar: Option<ScalarKind>,
    /// MiniLM model directory [default: $VERITY_MINILM_DIR]; its throughput is measured when
    /// given.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Chunks embedded by MiniLM for its throughput figure.
    #[arg(long, default_value_t = 256)]
    pub minilm_sample: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchSemanticArgs {
    /// Corpus [default: the sample corpus].
    #[arg(long, value_name = "DIR")]
    pub corpus: Option<PathBuf>,
    /// Questions, `ID<TAB>QUESTION` per line [default: benches/semantic/questions.tsv].
    #[arg(long, value_name = "FILE")]
    pub questions: Option<PathBuf>,
    /// TREC qrels of the questions [default: benches/semantic/qrels.txt].
    #[arg(long, value_name = "FILE")]
    pub qrels: Option<PathBuf>,
    /// MiniLM model directory [default: $VERITY_MINILM_DIR]; without it the MiniLM rows are
    /// left out.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchRunnerArgs {
    /// Runs per measurement (the median is reported).
    #[arg(long, default_value_t = 3)]
    pub repetitions: usize,
    /// Multiply every job count by this (0.01 for a smoke run).
    #[arg(long, default_value_t = 1.0)]
    pub scale: f64,
    /// Corpus of the engine workload (e) [default: the built-in sample corpus].
    #[arg(long, value_name = "DIR")]
    pub corpus: Option<PathBuf>,
    /// Generated cases of the engine workload (its text cases run).
    #[arg(long, default_value_t = 400)]
    pub cases: usize,
}

#[derive(Debug, Args)]
pub struct BenchSearchArgs {
    /// Directory to index and search.
    #[arg(long, value_name = "DIR")]
    pub corpus: PathBuf,
    /// Query file: `QUERY` or `TYPE<TAB>QUERY` per line (`lit:` and `regex:` queries are also
    /// run through rg).
    #[arg(long, value_name = "FILE")]
    pub queries: Option<PathBuf>,
    /// Take the queries (and their types) from a ground-truth file instead.
    #[arg(long, value_name = "FILE", conflicts_with = "queries")]
    pub truth: Option<PathBuf>,
    /// Where to build the index [default: a temporary directory].
    #[arg(long, value_name = "PATH")]
    pub index: Option<PathBuf>,
    /// Timed runs per query.
    #[arg(long, default_value_t = 20)]
    pub iterations: usize,
    /// The "best N" mode asks for this many files, as `verity search --limit N` does (the
    /// other mode asks for every matching file, as `verity search -l`).
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub limit: usize,
    /// Untimed runs per query before timing.
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
    /// Timed runs of rg per query.
    #[arg(long, default_value_t = 3)]
    pub rg_iterations: usize,
    /// Concurrent clients of the throughput measurement.
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Queries of the throughput measurement (the query list, cycled).
    #[arg(long, default_value_t = 2000)]
    pub throughput_queries: usize,
    /// Also measure an incremental update after 1% of the files change (on a copy of the
    /// corpus, made first).
    #[arg(long)]
    pub incremental: bool,
    /// Do not run ripgrep.
    #[arg(long)]
    pub no_rg: bool,
    /// Also run every query as a fresh `verity search -l` process, the way people run it (open
    /// the index, search, print, exit), timed per process beside `rg -l` in the same run.
    #[arg(long)]
    pub cold: bool,
    /// Timed processes per query with --cold.
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub cold_iterations: usize,
    /// An indexed peer in the same run: `csearch` (Russ Cox's codesearch; `cindex` and
    /// `csearch` on PATH). Its index is built from the same corpus (time, size), and every
    /// query it can express runs as a `csearch -l` process, timed like --cold's.
    #[arg(long, value_name = "PEER")]
    pub peer: Option<BenchPeer>,
    /// Also run the queries through a `verity serve` at this URL (`http://HOST:PORT`), serving
    /// an index of the same tree: one at a time beside the in-process latency, then an
    /// open-loop load from --clients clients, latency counted from each request's intended
    /// send time.
    #[arg(long, value_name = "URL")]
    pub http: Option<String>,
    /// With --http: requests per second in the load phase.
    #[arg(long, value_name = "N", default_value_t = 200.0)]
    pub http_rate: f64,
    /// With --http: how long the load phase lasts, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub http_seconds: f64,
    /// Print JSON instead of Markdown tables.
    #[arg(long)]
    pub json: bool,
    /// Also write an HTML page with charts (latency CDF per query type, speed-up over rg).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    #[command(flatten)]
    pub walk: WalkArgs,
    #[command(flatten)]
    pub vectors: VectorArgs,
}

/// An indexed engine measured beside Verity by `verity bench search --peer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchPeer {
    /// Russ Cox's codesearch: `cindex`, then `csearch -l` per query.
    Csearch,
}

/// How the index stores the texts of the files it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TextCompressionArg {
    /// lz4 blocks: about a third of the corpus on real code; reads decompress.
    Lz4,
    /// Raw: about the corpus's size; reads come straight from the mapped file.
    None,
}

impl From<TextCompressionArg> for verity_engine::TextCompression {
    fn from(a: TextCompressionArg) -> Self {
        match a {
            TextCompressionArg::Lz4 => verity_engine::TextCompression::Lz4,
            TextCompressionArg::None => verity_engine::TextCompression::None,
        }
    }
}

/// Which embedder makes chunk vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EmbedderKind {
    /// Built in, no download: feature hashing of identifier sub-words and trigrams (lexical).
    Hash,
    /// all-MiniLM-L6-v2 from a local model directory (--model or VERITY_MINILM_DIR).
    Minilm,
    /// No vector index: vector: and hybrid: queries are unavailable.
    None,
}

/// How the vector graph stores each component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScalarKind {
    /// 4 bytes a component.
    F32,
    /// 2 bytes a component; similarities move by about 1e-4.
    F16,
    /// 1 byte a component; exact for the hash embedder, rounded for MiniLM.
    I8,
}

impl From<ScalarKind> for verity_vector::scalar::Scalar {
    fn from(k: ScalarKind) -> Self {
        use verity_vector::scalar::Scalar;
        match k {
            ScalarKind::F32 => Scalar::F32,
            ScalarKind::F16 => Scalar::F16,
            ScalarKind::I8 => Scalar::I8,
        }
    }
}

/// The vector index: embedder, chunking and HNSW parameters (docs/query-language.md §5).
#[derive(Debug, Args, Clone)]
pub struct VectorArgs {
    /// Embedder for vector: and hybrid: queries.
    #[arg(long, value_enum, default_value_t = EmbedderKind::Hash)]
    pub embedder: EmbedderKind,
    /// MiniLM model directory (config.json, tokenizer.json, model.safetensors)
    /// [default: $VERITY_MINILM_DIR].
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    /// Dimensions of the hash embedder.
    #[arg(long, value_name = "N", default_value_t = 256)]
    pub hash_dim: usize,
    /// Lines per chunk.
    #[arg(long, value_name = "N", default_value_t = ChunkSettings::default().lines)]
    pub chunk_lines: usize,
    /// Lines shared by consecutive chunks.
    #[arg(long, value_name = "N", default_value_t = ChunkSettings::default().overlap)]
    pub chunk_overlap: usize,
    /// HNSW edges per node (M).
    #[arg(long, value_name = "N", default_value_t = HnswParams::default().connectivity)]
    pub hnsw_m: usize,
    /// HNSW candidate list while building (efConstruction).
    #[arg(long, value_name = "N", default_value_t = HnswParams::default().expansion_add)]
    pub hnsw_ef_construction: usize,
    /// HNSW candidate list while searching (ef).
    #[arg(long, value_name = "N", default_value_t = HnswParams::default().expansion_search)]
    pub hnsw_ef: usize,
    /// How the graph stores vector components [default: i8 for the hash embedder (lossless
    /// there), f16 for MiniLM].
    #[arg(long, value_enum, value_name = "KIND")]
    pub vector_scalar: Option<ScalarKind>,
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
    #[arg(required_unless_present = "verify")]
    pub dir: Option<PathBuf>,
    /// Where the index lives [default: DIR/.verity].
    #[arg(long, value_name = "PATH")]
    pub index: Option<PathBuf>,
    /// Discard an existing index and build from scratch.
    #[arg(long)]
    pub rebuild: bool,
    #[command(flatten)]
    pub walk: WalkArgs,
    #[command(flatten)]
    pub vectors: VectorArgs,
    /// List every skipped and lossily decoded file.
    #[arg(short, long)]
    pub verbose: bool,
    /// Print the build report as JSON.
    #[arg(long)]
    pub json: bool,
    /// How searches of this index find the nearest chunks unless they say otherwise: exact
    /// (every chunk scored), hnsw (the graph, approximate) or auto (exact up to 100,000
    /// chunks).
    #[arg(long, value_name = "MODE", default_value_t = VectorSearch::Auto)]
    pub vector_search: VectorSearch,
    /// Indexing threads [default: number of CPUs, at most 4].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// How the texts of the files this run reads are stored: none (about the corpus's size,
    /// read in place) or lz4 (about a third of that on real code; searches that read many
    /// files take up to twice as long). Texts already indexed keep theirs until --rebuild.
    #[arg(long, value_enum, value_name = "HOW", default_value_t = TextCompressionArg::None)]
    pub text_compression: TextCompressionArg,
    /// Check the index instead of building it: read every file of its current generation and
    /// compare it with the checksums recorded when it was written. Exit 0 when intact, 1 when
    /// damaged (the damaged files are listed).
    #[arg(long, conflicts_with_all = ["rebuild"])]
    pub verify: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Index directory.
    #[arg(long, value_name = "PATH", default_value = ".verity")]
    pub index: PathBuf,
    /// Speak the Verity backend protocol on stdin and stdout, one JSON object per line,
    /// instead of serving HTTP.
    #[arg(long, conflicts_with_all = ["listen", "max_concurrent", "max_queued", "timeout"])]
    pub stdio: bool,
    /// Where to listen: IP:PORT, [IPv6]:PORT, localhost:PORT or a port (loopback). Port 0
    /// picks a free one. An address other machines can reach is served only when named here.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7700")]
    pub listen: String,
    /// Searches running at once [default: number of CPUs].
    #[arg(long, value_name = "N")]
    pub max_concurrent: Option<usize>,
    /// Searches waiting for a slot; past this the server answers 503 with Retry-After
    /// [default: 64 per CPU].
    #[arg(long, value_name = "N")]
    pub max_queued: Option<usize>,
    /// The longest any search may take, in seconds, queueing included; a request's
    /// `timeout_ms` can only shorten it.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0)]
    pub timeout: f64,
    /// How vector searches find chunks: exact, hnsw or auto [default: the index's setting].
    #[arg(long, value_name = "MODE")]
    pub vector_search: Option<VectorSearch>,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The query (see docs/query-language.md).
    pub query: String,
    /// The index to search.
    #[arg(long, value_name = "PATH", default_value = ".verity")]
    pub index: PathBuf,
    /// Show at most N files (all by default): the N best, found without verifying the rest,
    /// so the total shown is then a lower bound.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    /// Show at most N matching lines per file.
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub max_lines: usize,
    /// Print only the paths of matching files (each file's check stops at its first match).
    #[arg(short = 'l', long)]
    pub files_only: bool,
    /// Print results as JSON.
    #[arg(long)]
    pub json: bool,
    /// Give up after this many seconds (exit code 3).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// How vector and hybrid queries find the nearest chunks: exact, hnsw or auto
    /// [default: the mode the index was built with, auto unless set].
    #[arg(long, value_name = "MODE")]
    pub vector_search: Option<VectorSearch>,
    /// Print where the time went to standard error: opening the index, the search (with its
    /// candidates), printing, and the whole process so far.
    #[arg(long)]
    pub stats: bool,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Corpus to run the demo on [default: the built-in sample corpus].
    #[arg(long, value_name = "DIR")]
    pub corpus: Option<PathBuf>,
}

/// When `main` began: `search --stats` says how long the process took up to each step.
pub static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

fn main() -> ExitCode {
    STARTED.get_or_init(std::time::Instant::now);
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
        Command::Serve(args) => commands::serve::run(&args),
        Command::Validate(args) => commands::validate::run(&args),
        Command::Report(cmd) => commands::report::run(&cmd),
        Command::Eval(args) => commands::eval::run(&args),
        Command::Corpus(cmd) => commands::corpus::run(&cmd),
        Command::Bench(BenchCommand::Search(args)) => commands::bench::search(&args),
        Command::Bench(BenchCommand::Runner(args)) => commands::bench::runner(&args),
        Command::Bench(BenchCommand::Vector(args)) => commands::bench::vector(&args),
        Command::Bench(BenchCommand::Semantic(args)) => commands::bench::semantic(&args),
        Command::Bench(BenchCommand::Eval(args)) => commands::bench::eval(&args),
        Command::Truth(cmd) => commands::truth::run(&cmd),
    };
    match result {
        Ok(code) => code,
        // The reader of our output went away: stop quietly, like grep.
        Err(f) if f.is_closed_pipe() => ExitCode::SUCCESS,
        Err(Failure { code, message }) => {
            eprintln!("verity: {message}");
            ExitCode::from(code)
        }
    }
}
