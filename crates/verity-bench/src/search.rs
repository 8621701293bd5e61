//! `verity bench search`: the performance phase of validation, measured the way users feel it.
//!
//! 1. **Indexing**: a cold build (files/s, MiB/s, index size, peak RSS), and with
//!    `--incremental` an update after 1% of the files change (on a copy of the corpus: the
//!    user's files are never touched).
//! 2. **Latency**: every query after `--warmup` untimed runs, `--iterations` timed runs; p50,
//!    p95, p99 and max per query type and overall, in each of two modes — the way users ask:
//!    the best `--limit` files with their lines (`verity search --limit N`), and every
//!    matching file (`verity search -l`, the peer of `rg -l`).
//! 3. **Throughput**: `--clients` concurrent clients driven by the parallel execution engine,
//!    in each mode.
//! 4. **Baseline**: literal and regex queries also through `rg -l` over the same tree with the
//!    same walk rules, in the same run; speed-up per query and whether the file sets agree.
//! 5. **Targets** (from the plan Verity grew from), each reported as met or not.
//!
//! Output: a terminal (Markdown) table, `--json`, and `--html FILE` with a latency CDF per query
//! type and the speed-up over ripgrep per query.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use verity_engine::{BuildOptions, BuildReport, CodeIndex, Deadline, SearchOptions};
use verity_runner::{JobError, ParallelConfig, ParallelExecutor, TestPriority, Validator, Verdict};
use verity_validation::adapter::{Tool, ToolBackend};
use verity_validation::protocol::WalkRules;
use verity_validation::{BackendQuery, QueryType, SearchBackend};

use crate::error::BenchError;
use crate::peer::Peer;
use crate::stats::{latency, median, Latency};

/// One query of the benchmark and the query type it is counted under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BenchQuery {
    /// The query type's name (`Literal`, `Regex`, …; `Query` when the file gave none).
    pub query_type: String,
    /// The query, in Verity's query language.
    pub query: String,
}

/// Reads a query file: `QUERY` or `TYPE<TAB>QUERY` per line; blank lines and lines starting
/// with `#` are skipped. Untyped queries are typed `Query`.
pub fn read_queries(path: &Path) -> Result<Vec<BenchQuery>, BenchError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| BenchError::input(format!("{}: {e}", path.display())))?;
    let mut qs = Vec::new();
    for (n, l) in text.lines().enumerate() {
        if l.trim().is_empty() || l.starts_with('#') {
            continue;
        }
        let (query_type, query) = match l.split_once('\t') {
            Some((t, q)) => {
                let t = t
                    .parse::<QueryType>()
                    .map_err(|e| BenchError::input(format!("{}:{}: {e}", path.display(), n + 1)))?;
                (t.name().to_string(), q)
            }
            None => ("Query".to_string(), l),
        };
        qs.push(BenchQuery {
            query_type,
            query: query.to_owned(),
        });
    }
    if qs.is_empty() {
        return Err(BenchError::input(format!("{}: no queries", path.display())));
    }
    Ok(qs)
}

/// The queries of a ground-truth file's unranked cases (a ranked case has no file set to time
/// against `rg -l`).
pub fn truth_queries(cases: &[verity_validation::GroundTruthCase]) -> Vec<BenchQuery> {
    cases
        .iter()
        .filter(|c| !c.query_type.is_ranked())
        .map(|c| BenchQuery {
            query_type: c.query_type.name().to_string(),
            query: c.query.clone(),
        })
        .collect()
}

/// An indexed engine measured beside Verity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerKind {
    /// Russ Cox's codesearch: `cindex`, then `csearch -l` per query.
    Csearch,
}

/// `--cold`: every query also as a fresh `verity search -l` process.
#[derive(Debug, Clone)]
pub struct ColdRuns {
    /// The `verity` executable to run.
    pub exe: PathBuf,
    /// Timed processes per query (after one untimed).
    pub iterations: usize,
}

/// `--http`: the queries through a `verity serve` over the same tree.
#[derive(Debug, Clone)]
pub struct HttpRuns {
    /// `http://HOST:PORT`.
    pub url: String,
    /// Requests per second in the load phase.
    pub rate: f64,
    /// How long the load phase lasts, in seconds.
    pub seconds: f64,
}

/// What `verity bench search` measures, and how.
#[derive(Debug, Clone)]
pub struct SearchBench {
    /// The directory to index and search.
    pub corpus: PathBuf,
    /// The queries, in order.
    pub queries: Vec<BenchQuery>,
    /// Where to build the index; a temporary directory when none.
    pub index: Option<PathBuf>,
    /// How to build it (walk rules and vectors); it is always rebuilt.
    pub build: BuildOptions,
    /// Timed runs per query and mode.
    pub iterations: usize,
    /// Untimed runs per query before timing.
    pub warmup: usize,
    /// The best-N mode asks for this many files.
    pub limit: usize,
    /// Run `lit:` and `regex:` queries through `rg -l` too.
    pub rg: bool,
    /// Timed runs of rg per query (also the peer's runs per query).
    pub rg_iterations: usize,
    /// Concurrent clients of the throughput phase.
    pub clients: usize,
    /// Queries of the throughput phase (the list, cycled).
    pub throughput_queries: usize,
    /// Also time an update after 1% of the files change (on a copy of the corpus).
    pub incremental: bool,
    /// Also time every query as a process of its own.
    pub cold: Option<ColdRuns>,
    /// An indexed peer in the same run.
    pub peer: Option<PeerKind>,
    /// The queries through HTTP too.
    pub http: Option<HttpRuns>,
}

#[derive(Debug, Serialize)]
struct QueryFigures {
    query_type: String,
    query: String,
    /// Matching files (the exact total, from the all-files mode).
    files: usize,
    candidates: usize,
    /// Median of the best-N mode.
    top_median_ms: f64,
    /// Median of the all-files mode: what `rg -l` is compared with.
    verity_median_ms: f64,
    rg_median_ms: Option<f64>,
    speedup: Option<f64>,
    same_files: Option<bool>,
    /// With --cold: the median wall time of a whole `verity search -l` process, ms.
    #[serde(skip_serializing_if = "Option::is_none")]
    process_median_ms: Option<f64>,
    /// rg's median over the process's.
    #[serde(skip_serializing_if = "Option::is_none")]
    process_speedup: Option<f64>,
    /// Did the process print the files the in-process search found?
    #[serde(skip_serializing_if = "Option::is_none")]
    process_same_files: Option<bool>,
    /// Of the process's time, the medians of opening the index and of the search itself, as
    /// its `--stats` line tells them (the rest: starting, printing, exiting).
    #[serde(skip_serializing_if = "Option::is_none")]
    process_open_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    process_search_ms: Option<f64>,
    /// With --peer: the same query through the peer.
    #[serde(skip_serializing_if = "Option::is_none")]
    peer: Option<crate::peer::PeerQuery>,
    /// Every timed run of each mode, ms.
    #[serde(skip)]
    top_times: Vec<f64>,
    #[serde(skip)]
    times: Vec<f64>,
}

/// One way of asking: its options, and the latency and throughput it gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The best N files with up to 20 lines each: `verity search --limit N`.
    Top(usize),
    /// Every matching file, without lines: `verity search -l`.
    AllFiles,
}

impl Mode {
    fn name(self) -> String {
        match self {
            Mode::Top(n) => format!("best {n}"),
            Mode::AllFiles => "all files".to_string(),
        }
    }

    fn options(self, deadline: Deadline) -> SearchOptions {
        match self {
            Mode::Top(n) => SearchOptions {
                limit: Some(n),
                deadline,
                max_lines_per_file: Some(20),
                files_only: false,
                vector_search: None,
            },
            Mode::AllFiles => SearchOptions {
                deadline,
                files_only: true,
                ..SearchOptions::default()
            },
        }
    }
}

#[derive(Debug, Serialize)]
struct ModeFigures {
    mode: String,
    /// Per query type.
    latency: BTreeMap<String, Latency>,
    overall: Latency,
    queries_per_second: f64,
}

#[derive(Debug, Serialize)]
struct BuildFigures {
    kind: &'static str,
    files_indexed: usize,
    mib_read: f64,
    seconds: f64,
    files_per_second: f64,
    mib_per_second: f64,
    index_bytes: u64,
    /// Of `index_bytes`, the vector index's (`vectors/`: chunk tables, graph, vectors).
    vector_bytes: u64,
    peak_rss_bytes: Option<u64>,
    /// Chunks in the vector index (0 without vectors) and files embedded in this build.
    chunks: usize,
    files_embedded: usize,
}

#[derive(Debug, Serialize)]
struct Target {
    name: String,
    value: String,
    met: Option<bool>,
}

/// What `verity bench search` measured: serialized as `--json` prints it, or rendered by
/// [`SearchReport::markdown`] and [`SearchReport::html`].
#[derive(Debug, Serialize)]
pub struct SearchReport {
    corpus: String,
    files: usize,
    bytes: u64,
    builds: Vec<BuildFigures>,
    iterations: usize,
    warmup: usize,
    limit: usize,
    /// The best-N mode first, then the all-files mode.
    modes: Vec<ModeFigures>,
    clients: usize,
    throughput_queries: usize,
    query_phase_peak_rss_bytes: Option<u64>,
    queries: Vec<QueryFigures>,
    verity_median_of_medians_ms: f64,
    rg_median_of_medians_ms: Option<f64>,
    median_speedup: Option<f64>,
    identical_file_sets: Option<String>,
    /// With --peer: the peer's index build, and the median over the queries both ran of the
    /// peer's per-process time over Verity's (per process with --cold, else in-process).
    #[serde(skip_serializing_if = "Option::is_none")]
    peer_build: Option<crate::peer::PeerBuild>,
    #[serde(skip_serializing_if = "Option::is_none")]
    peer_median_speedup: Option<f64>,
    /// With --cold: the median of the per-process medians, and of their speed-ups over rg.
    #[serde(skip_serializing_if = "Option::is_none")]
    process_median_of_medians_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    process_median_speedup: Option<f64>,
    /// With --http: the queries through a `verity serve`.
    #[serde(skip_serializing_if = "Option::is_none")]
    http: Option<crate::http::HttpFigures>,
    targets: Vec<Target>,
}

/// One `verity search -l --stats` process: its wall time, the parts its `--stats` line names
/// (ms), and the files it printed.
struct ProcessRun {
    wall_ms: f64,
    open_ms: f64,
    search_ms: f64,
    files: BTreeSet<String>,
}

/// The number after `name ` in a `--stats` line (`open 3.20 ms`).
fn stat(line: &str, name: &str) -> Option<f64> {
    let rest = line.split(&format!("{name} ")).nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

/// Runs `verity search -l QUERY` as a process of its own (this executable), as people run it.
fn run_process(exe: &Path, index: &Path, query: &str) -> Result<ProcessRun, BenchError> {
    let started = Instant::now();
    let out = Command::new(exe)
        .arg("search")
        .arg("-l")
        .arg("--stats")
        .arg("--index")
        .arg(index)
        .arg("--")
        .arg(query)
        .output()
        .map_err(|e| BenchError::input(format!("running {}: {e}", exe.display())))?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    if !matches!(out.status.code(), Some(0 | 1)) {
        return Err(BenchError::input(format!(
            "verity search {query:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let files = out
        .stdout
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| verity_core::path::from_bytes(l).into_owned())
        .collect();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("stats: "))
        .ok_or_else(|| BenchError::input(format!("verity search {query:?} printed no stats")))?;
    Ok(ProcessRun {
        wall_ms: ms,
        open_ms: stat(line, "open").unwrap_or(f64::NAN),
        search_ms: stat(line, "search").unwrap_or(f64::NAN),
        files,
    })
}

/// Peak resident memory of this process since the last reset (Linux: VmHWM), in bytes.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Resets the peak so the next phase is measured alone (Linux: `5` into clear_refs).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Writes what earlier work left dirty in the page cache to disk (`sync`, where there is
/// one), so that the build timed next does not pay for it: a build that follows one that
/// wrote half a gigabyte spent twice the system time waiting on that writeback
/// (docs/BENCHMARKS.md, session 28), which made whichever engine built first look slower.
pub(crate) fn settle_writes() {
    let _ = std::process::Command::new("sync")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
}

fn build_figures(kind: &'static str, r: &BuildReport, index: &CodeIndex) -> BuildFigures {
    let secs = r.elapsed.as_secs_f64().max(1e-9);
    let mib = r.bytes_indexed as f64 / 1048576.0;
    BuildFigures {
        kind,
        files_indexed: r.added + r.updated,
        mib_read: mib,
        seconds: secs,
        files_per_second: (r.added + r.updated) as f64 / secs,
        mib_per_second: mib / secs,
        index_bytes: index.size_on_disk(),
        vector_bytes: index.vectors_size_on_disk(),
        peak_rss_bytes: peak_rss(),
        chunks: r.chunks,
        files_embedded: r.embedded_files,
    }
}

/// Copies the files of `src` selected by the walk into `dst`.
fn copy_corpus(
    src: &Path,
    dst: &Path,
    opts: &verity_engine::WalkOptions,
) -> Result<(), BenchError> {
    let walk = verity_engine::walk::walk(src, opts, None);
    for f in &walk.files {
        let to = dst.join(&f.rel);
        if let Some(p) = to.parent() {
            std::fs::create_dir_all(p)
                .map_err(|e| BenchError::input(format!("{}: {e}", p.display())))?;
        }
        std::fs::copy(&f.abs, &to)
            .map_err(|e| BenchError::input(format!("{}: {e}", f.abs.display())))?;
    }
    Ok(())
}

/// Changes every 100th file of the copy (1%), in path order; returns how many.
fn change_one_percent(root: &Path, opts: &verity_engine::WalkOptions) -> Result<usize, BenchError> {
    use std::io::Write;
    let walk = verity_engine::walk::walk(root, opts, None);
    let mut n = 0;
    for f in walk.files.iter().step_by(100) {
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&f.abs)
            .map_err(|e| BenchError::input(format!("{}: {e}", f.abs.display())))?;
        writeln!(file, "\n// changed by verity bench")
            .map_err(|e| BenchError::input(format!("{}: {e}", f.abs.display())))?;
        n += 1;
    }
    Ok(n)
}

/// A throughput client: one search per job.
struct SearchJob(Arc<CodeIndex>, Mode);

impl Validator for SearchJob {
    type Case = (usize, String);
    type Output = ();

    fn case_id(&self, c: &(usize, String)) -> String {
        c.0.to_string()
    }

    fn category(&self, _: &(usize, String)) -> String {
        "query".into()
    }

    fn priority(&self, _: &(usize, String)) -> TestPriority {
        TestPriority::Normal
    }

    fn validate(&self, c: &(usize, String), deadline: &Deadline) -> Result<Verdict<()>, JobError> {
        match self.0.search(&c.1, &self.1.options(deadline.clone())) {
            Ok(_) => Ok(Verdict {
                passed: true,
                output: (),
            }),
            Err(e) => Err(JobError::fatal(e.to_string())),
        }
    }
}

/// Runs the benchmark. `note` hears what is happening (building, copying), for a person
/// watching; the figures are in the report.
pub fn run(args: &SearchBench, note: &dyn Fn(&str)) -> Result<SearchReport, BenchError> {
    let queries: Vec<(String, String)> = args
        .queries
        .iter()
        .map(|q| (q.query_type.clone(), q.query.clone()))
        .collect();
    if queries.is_empty() {
        return Err(BenchError::input("no queries to measure"));
    }
    let tmp =
        tempfile::tempdir().map_err(|e| BenchError::input(format!("temporary directory: {e}")))?;
    let index_dir: PathBuf = args
        .index
        .clone()
        .unwrap_or_else(|| tmp.path().join("index"));
    let walk_opts = args.build.walk.clone();
    // With --incremental the corpus is copied, so that 1% of it can be changed.
    let corpus: PathBuf = if args.incremental {
        let copy = tmp.path().join("corpus");
        note(&format!(
            "copying {} for the incremental measurement …",
            args.corpus.display()
        ));
        copy_corpus(&args.corpus, &copy, &walk_opts)?;
        copy
    } else {
        args.corpus.clone()
    };
    let opts = BuildOptions {
        rebuild: true,
        ..args.build.clone()
    };
    note(&format!("building the index of {} …", corpus.display()));
    settle_writes();
    reset_peak_rss();
    let (mut index, build) = CodeIndex::build(&corpus, &index_dir, &opts)?;
    let mut builds = vec![build_figures("cold", &build, &index)];
    if args.incremental {
        let changed = change_one_percent(&corpus, &walk_opts)?;
        note(&format!("changed {changed} files; updating …"));
        drop(index);
        settle_writes();
        reset_peak_rss();
        let (i2, b2) = CodeIndex::build(
            &corpus,
            &index_dir,
            &BuildOptions {
                rebuild: false,
                ..opts.clone()
            },
        )?;
        builds.push(build_figures("incremental (1% changed)", &b2, &i2));
        index = i2;
    }

    let walk = WalkRules {
        hidden: walk_opts.hidden,
        ignore_files: walk_opts.respect_ignore_files,
        default_excludes: walk_opts.default_excludes,
        max_filesize: walk_opts.max_file_size,
        files: None,
    };
    // The baseline: ripgrep through the adapter `verity validate --backend rg` uses, with
    // the same walk rules as the index.
    let rg = match args.rg {
        false => None,
        true => match ToolBackend::new(Tool::Ripgrep, &corpus, &walk) {
            Ok(rg) => Some(rg),
            Err(e) => {
                note(&format!("no ripgrep baseline: {e}"));
                None
            }
        },
    };
    // The peer, built from the same corpus in the same run.
    let peer = match args.peer {
        Some(PeerKind::Csearch) => {
            note(&format!(
                "building codesearch's index of {} …",
                corpus.display()
            ));
            Some(Peer::csearch(&corpus, &walk)?)
        }
        None => None,
    };
    let universe: BTreeSet<String> = match &peer {
        Some(_) => index.files()?.into_iter().map(|(p, _)| p).collect(),
        None => BTreeSet::new(),
    };

    reset_peak_rss();
    let modes = [Mode::Top(args.limit), Mode::AllFiles];
    let mut figures = Vec::new();
    for (qtype, q) in &queries {
        let timed = |mode: Mode| -> Result<(Vec<f64>, verity_engine::SearchResults), BenchError> {
            let opts = mode.options(Deadline::none());
            for _ in 0..args.warmup {
                index.search(q, &opts)?;
            }
            let mut times = Vec::new();
            let mut last = None;
            for _ in 0..args.iterations.max(1) {
                let t = Instant::now();
                let r = index.search(q, &opts)?;
                times.push(t.elapsed().as_secs_f64() * 1000.0);
                last = Some(r);
            }
            Ok((times, last.expect("at least one iteration")))
        };
        let (top_times, _) = timed(Mode::Top(args.limit))?;
        let (times, last) = timed(Mode::AllFiles)?;
        let ours: BTreeSet<String> = last.hits.iter().map(|h| h.path.clone()).collect();
        let (mut rg_median, mut same) = (None, None);
        // rg is the baseline of the queries it reads the same way: literals and regexes.
        let rg = rg
            .as_ref()
            .filter(|_| q.starts_with("lit:") || q.starts_with("regex:"));
        if let Some(rg) = rg {
            let ask = BackendQuery {
                id: "bench",
                query: q,
                query_type: QueryType::SpecialCharacters,
                k: None,
            };
            let once = || -> Result<BTreeSet<String>, BenchError> {
                let r = rg
                    .search(&ask, &Deadline::none())
                    .map_err(|e| BenchError::input(format!("rg on {q:?}: {e}")))?;
                Ok(r.hits.into_iter().map(|h| h.path).collect())
            };
            for _ in 0..args.warmup.min(1) {
                once()?;
            }
            let mut rg_times = Vec::new();
            let mut theirs = BTreeSet::new();
            for _ in 0..args.rg_iterations.max(1) {
                let t = Instant::now();
                theirs = once()?;
                rg_times.push(t.elapsed().as_secs_f64() * 1000.0);
            }
            rg_median = Some(median(&mut rg_times));
            same = Some(theirs == ours);
            if theirs != ours {
                let only_ours: Vec<_> = ours.difference(&theirs).take(5).collect();
                let only_rg: Vec<_> = theirs.difference(&ours).take(5).collect();
                note(&format!(
                    "file sets differ for {q}: only verity {only_ours:?}, only rg {only_rg:?}"
                ));
            }
        }
        let ours_median = median(&mut times.clone());
        // Per process: the whole command, as a user runs it (warm page cache, as rg's).
        let (mut process_median, mut process_same, mut process_parts) = (None, None, None);
        if let Some(cold) = &args.cold {
            let _ = run_process(&cold.exe, &index_dir, q)?;
            let (mut ts, mut opens, mut searches) = (Vec::new(), Vec::new(), Vec::new());
            let mut printed = BTreeSet::new();
            for _ in 0..cold.iterations.max(1) {
                let run = run_process(&cold.exe, &index_dir, q)?;
                ts.push(run.wall_ms);
                opens.push(run.open_ms);
                searches.push(run.search_ms);
                printed = run.files;
            }
            process_median = Some(median(&mut ts));
            process_parts = Some((median(&mut opens), median(&mut searches)));
            process_same = Some(printed == ours);
        }
        figures.push(QueryFigures {
            query_type: qtype.clone(),
            query: q.clone(),
            files: last.total,
            candidates: last.candidates,
            top_median_ms: median(&mut top_times.clone()),
            verity_median_ms: ours_median,
            rg_median_ms: rg_median,
            speedup: rg_median.map(|r| r / ours_median),
            same_files: same,
            process_median_ms: process_median,
            process_speedup: rg_median.zip(process_median).map(|(r, p)| r / p),
            process_same_files: process_same,
            process_open_ms: process_parts.map(|p| p.0),
            process_search_ms: process_parts.map(|p| p.1),
            peer: peer
                .as_ref()
                .map(|p| p.run(q, args.rg_iterations, &ours, &universe)),
            top_times,
            times,
        });
    }

    // Throughput: the queries, cycled, through the parallel engine with C clients, per mode.
    let index = Arc::new(index);
    let n = args.throughput_queries.max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| BenchError::internal(format!("async runtime: {e}")))?;
    let mut mode_figures = Vec::new();
    for mode in modes {
        let jobs: Vec<(usize, String)> = (0..n)
            .map(|i| (i, queries[i % queries.len()].1.clone()))
            .collect();
        let cfg = ParallelConfig {
            max_concurrent_tests: args.clients,
            retry_attempts: 0,
            resource_monitoring: false,
            ..ParallelConfig::default()
        };
        let mut ex = ParallelExecutor::new(cfg, Arc::new(SearchJob(index.clone(), mode)));
        ex.add_test_cases(jobs);
        let t = Instant::now();
        rt.block_on(ex.execute_all());
        let qps = n as f64 / t.elapsed().as_secs_f64();
        if ex.get_stats().passed != n {
            return Err(BenchError::input(format!(
                "{} of {n} throughput queries failed",
                n - ex.get_stats().passed
            )));
        }
        let times_of = |f: &QueryFigures| -> Vec<f64> {
            match mode {
                Mode::Top(_) => f.top_times.clone(),
                Mode::AllFiles => f.times.clone(),
            }
        };
        let mut by_type: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for f in &figures {
            by_type
                .entry(f.query_type.clone())
                .or_default()
                .extend(times_of(f));
        }
        let mut all: Vec<f64> = figures.iter().flat_map(times_of).collect();
        mode_figures.push(ModeFigures {
            mode: mode.name(),
            latency: by_type
                .iter_mut()
                .map(|(k, v)| (k.clone(), latency(v)))
                .collect(),
            overall: latency(&mut all),
            queries_per_second: qps,
        });
    }
    let query_rss = peak_rss();

    // Through HTTP: the same queries, best-N, against a server over the same tree.
    let http = match &args.http {
        None => None,
        Some(h) => {
            let top = Mode::Top(args.limit);
            let mut expected = Vec::with_capacity(queries.len());
            for (_, q) in &queries {
                let r = index
                    .search(q, &top.options(Deadline::none()))
                    .map_err(|e| BenchError::input(format!("{q:?}: {e}")))?;
                expected.push((q.clone(), r.hits.into_iter().map(|h| h.path).collect()));
            }
            Some(crate::http::measure(
                &h.url,
                &expected,
                args.iterations,
                args.limit,
                args.clients,
                h.rate,
                h.seconds,
            )?)
        }
    };

    let mut meds: Vec<f64> = figures.iter().map(|f| f.verity_median_ms).collect();
    let mut rg_meds: Vec<f64> = figures.iter().filter_map(|f| f.rg_median_ms).collect();
    let ours_mm = median(&mut meds);
    let rg_mm = (!rg_meds.is_empty()).then(|| median(&mut rg_meds));
    let compared: Vec<bool> = figures.iter().filter_map(|f| f.same_files).collect();
    let mut process_meds: Vec<f64> = figures.iter().filter_map(|f| f.process_median_ms).collect();
    let mut process_ratios: Vec<f64> = figures.iter().filter_map(|f| f.process_speedup).collect();
    let process_mm = (!process_meds.is_empty()).then(|| median(&mut process_meds));
    // The peer against Verity as the user runs it: per process when measured, else in-process.
    let mut peer_ratios: Vec<f64> = figures
        .iter()
        .filter_map(|f| {
            let theirs = f.peer.as_ref()?.median_ms?;
            Some(theirs / f.process_median_ms.unwrap_or(f.verity_median_ms))
        })
        .collect();
    let peer_speedup = (!peer_ratios.is_empty()).then(|| median(&mut peer_ratios));
    let process_speedup = (!process_ratios.is_empty()).then(|| median(&mut process_ratios));
    let peak_build = builds.iter().filter_map(|b| b.peak_rss_bytes).max();
    let mem_peak = peak_build.max(query_rss);
    let mib = |b: u64| b as f64 / 1048576.0;
    let mut targets = Vec::new();
    for m in &mode_figures {
        let o = &m.overall;
        for (name, value, limit) in [
            ("p50 < 50 ms", o.p50_ms, 50.0),
            ("p95 < 100 ms", o.p95_ms, 100.0),
            ("p99 < 200 ms", o.p99_ms, 200.0),
        ] {
            targets.push(Target {
                name: format!("{}: {name}", m.mode),
                value: format!("{value:.2} ms"),
                met: Some(value < limit),
            });
        }
        targets.push(Target {
            name: format!("{}: > 100 queries/s", m.mode),
            value: format!(
                "{:.0} queries/s with {} clients",
                m.queries_per_second, args.clients
            ),
            met: Some(m.queries_per_second > 100.0),
        });
    }
    if let (Some(h), Some(top)) = (&http, mode_figures.first()) {
        let gap = h.serial.p99_ms - top.overall.p99_ms;
        targets.push(Target {
            name: format!("HTTP {}: p99 within 5 ms of in-process", top.mode),
            value: format!(
                "{:.2} ms over HTTP, {:.2} ms in process ({gap:+.2} ms); outside the search: p99 {:.2} ms",
                h.serial.p99_ms, top.overall.p99_ms, h.serial_overhead.p99_ms
            ),
            met: Some(gap <= 5.0),
        });
        targets.push(Target {
            name: format!(
                "HTTP load: {} clients, no errors, none dropped",
                h.load.clients
            ),
            value: format!(
                "{} of {} answered 200 at {:.0}/s",
                h.load.answered_200, h.load.scheduled, h.load.rate_per_second
            ),
            met: Some(h.load.errors == 0),
        });
    }
    targets.push(Target {
        name: "< 1 GB memory for 100,000 documents".into(),
        value: match mem_peak {
            Some(b) => format!("{:.0} MiB peak for {} documents", mib(b), build.files),
            None => "peak RSS not readable here".into(),
        },
        // Only a corpus of at least 100,000 documents can show it.
        met: mem_peak
            .filter(|_| build.files >= 100_000)
            .map(|b| b < 1_000_000_000),
    });
    let report = SearchReport {
        corpus: args.corpus.display().to_string(),
        files: build.files,
        bytes: build.bytes_indexed,
        builds,
        iterations: args.iterations,
        warmup: args.warmup,
        limit: args.limit,
        modes: mode_figures,
        clients: args.clients,
        throughput_queries: n,
        query_phase_peak_rss_bytes: query_rss,
        median_speedup: rg_mm.map(|r| r / ours_mm),
        verity_median_of_medians_ms: ours_mm,
        rg_median_of_medians_ms: rg_mm,
        identical_file_sets: (!compared.is_empty()).then(|| {
            format!(
                "{}/{}",
                compared.iter().filter(|s| **s).count(),
                compared.len()
            )
        }),
        queries: figures,
        process_median_of_medians_ms: process_mm,
        process_median_speedup: process_speedup,
        peer_build: peer.as_ref().map(|p| p.build.clone()),
        peer_median_speedup: peer_speedup,
        http,
        targets,
    };
    Ok(report)
}

impl SearchReport {
    /// The report as Markdown tables, as the terminal shows it.
    pub fn markdown(&self) -> String {
        markdown(self)
    }

    /// A page with a latency CDF per query type and the speed-up over ripgrep per query.
    pub fn html(&self) -> String {
        html(self)
    }
}

fn opt(v: Option<f64>, d: usize) -> String {
    v.map_or("–".to_string(), |v| format!("{v:.d$}"))
}

fn markdown(r: &SearchReport) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    let mib = |b: u64| b as f64 / 1048576.0;
    let _ = writeln!(
        s,
        "corpus: {} ({} files, {:.1} MiB)\n",
        r.corpus,
        r.files,
        mib(r.bytes)
    );
    let _ = writeln!(s, "| build | files indexed | MiB read | seconds | files/s | MiB/s | index MiB | text MiB (× corpus) | vectors MiB (× corpus) | peak RSS MiB | chunks | files embedded |");
    let _ = writeln!(
        s,
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    );
    let per_corpus = |b: u64| b as f64 / r.bytes.max(1) as f64;
    for b in &r.builds {
        let text = b.index_bytes.saturating_sub(b.vector_bytes);
        let _ = writeln!(
            s,
            "| {} | {} | {:.1} | {:.2} | {:.0} | {:.1} | {:.1} | {:.1} ({:.2}×) | {:.1} ({:.2}×) | {} | {} | {} |",
            b.kind,
            b.files_indexed,
            b.mib_read,
            b.seconds,
            b.files_per_second,
            b.mib_per_second,
            mib(b.index_bytes),
            mib(text),
            per_corpus(text),
            mib(b.vector_bytes),
            per_corpus(b.vector_bytes),
            opt(b.peak_rss_bytes.map(mib), 0),
            b.chunks,
            b.files_embedded
        );
    }
    for m in &r.modes {
        let _ = writeln!(
            s,
            "\n{}: latency after {} warm-up runs, {} timed runs per query:\n",
            m.mode, r.warmup, r.iterations
        );
        let _ = writeln!(
            s,
            "| query type | runs | p50 ms | p95 ms | p99 ms | max ms |"
        );
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|");
        for (t, l) in m
            .latency
            .iter()
            .chain(std::iter::once((&"all".to_string(), &m.overall)))
        {
            let _ = writeln!(
                s,
                "| {t} | {} | {:.3} | {:.3} | {:.3} | {:.3} |",
                l.runs, l.p50_ms, l.p95_ms, l.p99_ms, l.max_ms
            );
        }
        let _ = writeln!(
            s,
            "\n{}: throughput {:.0} queries/s ({} queries, {} concurrent clients through the parallel engine)",
            m.mode, m.queries_per_second, r.throughput_queries, r.clients
        );
    }
    let _ = writeln!(s);
    let _ = writeln!(s, "| type | query | files | candidates | best {} median ms | all files median ms | rg -l median ms | speed-up | same files |", r.limit);
    let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---:|---:|:---:|");
    for f in &r.queries {
        let _ = writeln!(
            s,
            "| {} | `{}` | {} | {} | {:.2} | {:.2} | {} | {} | {} |",
            f.query_type,
            f.query.replace('|', "\\|"),
            f.files,
            f.candidates,
            f.top_median_ms,
            f.verity_median_ms,
            opt(f.rg_median_ms, 1),
            opt(f.speedup, 1),
            f.same_files.map_or("–", |s| if s { "yes" } else { "NO" })
        );
    }
    let _ = writeln!(
        s,
        "\nmedian of medians (all files): verity {:.2} ms, rg {} ms, speed-up {}; identical file sets: {}\n",
        r.verity_median_of_medians_ms,
        opt(r.rg_median_of_medians_ms, 1),
        opt(r.median_speedup, 1),
        r.identical_file_sets.as_deref().unwrap_or("not compared")
    );
    if r.process_median_of_medians_ms.is_some() {
        let _ = writeln!(
            s,
            "Per process (`verity search -l QUERY --index …`, a fresh process per run, page cache warm; `rg -l` as above):\n"
        );
        let _ = writeln!(s, "| type | query | files | process median ms | of which open | of which search | rg -l median ms | speed-up | same files |");
        let _ = writeln!(s, "|---|---|---:|---:|---:|---:|---:|---:|:---:|");
        for f in &r.queries {
            let _ = writeln!(
                s,
                "| {} | `{}` | {} | {} | {} | {} | {} | {} | {} |",
                f.query_type,
                f.query.replace('|', "\\|"),
                f.files,
                opt(f.process_median_ms, 1),
                opt(f.process_open_ms, 2),
                opt(f.process_search_ms, 1),
                opt(f.rg_median_ms, 1),
                opt(f.process_speedup, 1),
                f.process_same_files
                    .map_or("–", |s| if s { "yes" } else { "NO" })
            );
        }
        let _ = writeln!(
            s,
            "\nper process: median {} ms; median speed-up over rg -l {}\n",
            opt(r.process_median_of_medians_ms, 1),
            opt(r.process_median_speedup, 1)
        );
    }
    if let Some(b) = &r.peer_build {
        let ours = r.builds.first();
        let _ = writeln!(
            s,
            "Peer: {} indexed {} files in {:.2} s, index {:.1} MiB ({:.2}× the corpus); Verity: {} files in {} s, index {} MiB ({}×).\n",
            b.name,
            b.files,
            b.seconds,
            mib(b.index_bytes),
            b.index_bytes as f64 / r.bytes.max(1) as f64,
            ours.map_or(0, |o| o.files_indexed),
            opt(ours.map(|o| o.seconds), 2),
            opt(ours.map(|o| mib(o.index_bytes)), 1),
            opt(ours.map(|o| o.index_bytes as f64 / r.bytes.max(1) as f64), 2),
        );
        let per_process = r.process_median_of_medians_ms.is_some();
        let _ = writeln!(
            s,
            "| type | query | files | verity {} ms | csearch -l ms | speed-up | same files (both index) | outside the other's files | note |",
            if per_process { "per process" } else { "in-process" }
        );
        let _ = writeln!(s, "|---|---|---:|---:|---:|---:|:---:|---:|---|");
        for f in &r.queries {
            let Some(p) = &f.peer else { continue };
            let ours = f.process_median_ms.unwrap_or(f.verity_median_ms);
            let _ = writeln!(
                s,
                "| {} | `{}` | {} | {:.1} | {} | {} | {} | {} | {} |",
                f.query_type,
                f.query.replace('|', "\\|"),
                f.files,
                ours,
                opt(p.median_ms, 1),
                opt(p.median_ms.map(|t| t / ours), 1),
                p.same_files.map_or("–", |s| if s { "yes" } else { "NO" }),
                p.explained,
                p.note.as_deref().unwrap_or("").replace('|', "\\|")
            );
        }
        let _ = writeln!(
            s,
            "\nmedian speed-up over codesearch: {}\n",
            opt(r.peer_median_speedup, 1)
        );
    }
    if let Some(h) = &r.http {
        let l = &h.load;
        let mib = |b: Option<u64>| opt(b.map(|b| b as f64 / 1048576.0), 0);
        let _ = writeln!(
            s,
            "\n## Through HTTP ({})\n\n| phase | runs | p50 ms | p95 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|",
            h.url
        );
        for (name, lat) in [
            ("one at a time, best N".to_string(), &h.serial),
            (
                "… of which outside the engine's search".to_string(),
                &h.serial_overhead,
            ),
            (
                format!(
                    "open loop, {:.0}/s, {} clients (from intended send time)",
                    l.rate_per_second, l.clients
                ),
                &l.latency,
            ),
        ] {
            let _ = writeln!(
                s,
                "| {name} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
                lat.runs, lat.p50_ms, lat.p95_ms, lat.p99_ms, lat.max_ms
            );
        }
        let _ = writeln!(
            s,
            "\nsame files as in process: {}; load: {} scheduled over {:.0} s, {} answered 200, {} errors, {:.1}/s achieved; server RSS {} MiB before, {} MiB after, {} MiB peak\n",
            h.same_answers,
            l.scheduled,
            l.seconds,
            l.answered_200,
            l.errors,
            l.achieved_per_second,
            mib(l.server_rss_before_bytes),
            mib(l.server_rss_after_bytes),
            mib(l.server_peak_rss_bytes),
        );
        if !l.server_rss_samples_bytes.is_empty() {
            let series: Vec<String> = l
                .server_rss_samples_bytes
                .iter()
                .map(|b| format!("{:.0}", *b as f64 / 1048576.0))
                .collect();
            let _ = writeln!(s, "server RSS every 5 s, MiB: {}\n", series.join(" "));
        }
    }
    let _ = writeln!(s, "| target | measured | met |\n|---|---|---|");
    for t in &r.targets {
        let _ = writeln!(
            s,
            "| {} | {} | {} |",
            t.name,
            t.value,
            match t.met {
                Some(true) => "yes",
                Some(false) => "**no**",
                None => "not measurable here",
            }
        );
    }
    s
}

fn html(r: &SearchReport) -> String {
    use verity_report::svg::{escape, latency_cdf, ratio_bars};
    let cdf_of = |top: bool| {
        let mut by_type: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for f in &r.queries {
            by_type
                .entry(f.query_type.clone())
                .or_default()
                .extend(if top { &f.top_times } else { &f.times });
        }
        latency_cdf(&by_type.into_iter().collect::<Vec<_>>())
    };
    let cdf = format!(
        "<h3>best {}</h3>{}<h3>all files</h3>{}",
        r.limit,
        cdf_of(true),
        cdf_of(false)
    );
    let ratios: Vec<(String, f64)> = r
        .queries
        .iter()
        .filter_map(|f| f.speedup.map(|s| (f.query.clone(), s)))
        .collect();
    let md = markdown(r);
    format!(
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head><meta charset=\"utf-8\"/><title>verity bench</title><style>body{{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px}}pre{{white-space:pre-wrap}}svg .lbl,svg .val,svg .tick{{font:12px sans-serif;fill:#333}}svg .grid{{stroke:#ddd}}</style></head><body>\n<h1>verity bench</h1>\n<h2>Latency distribution per query type</h2>\n<figure>{cdf}<figcaption>Share of timed runs answered within the time on the x axis (logarithmic).</figcaption></figure>\n<h2>Speed-up over rg -l</h2>\n<figure>{}</figure>\n<h2>Figures</h2>\n<pre>{}</pre>\n</body></html>\n",
        if ratios.is_empty() {
            "<p>ripgrep was not run.</p>".to_string()
        } else {
            ratio_bars(&ratios)
        },
        escape(&md)
    )
}
