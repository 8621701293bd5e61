//! `verity validate`: the whole validation run — index, truth, the parallel engine, reports.
//!
//! The steps, each with its own exit code on failure (docs/ci.md): settings (2), corpus and
//! truth (2), index (2 or 3), the run, the reports. A run interrupted with Ctrl-C still writes
//! every report, marked incomplete, and exits with 130.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use verity_engine::{BuildOptions, CodeIndex, VectorSearch};
use verity_report::model::{Environment, RunFigures, RunSettings, Selection};
use verity_report::{CaseReport, Format, Partition, Report, REPORT_VERSION};
use verity_runner::{ExecutionResult, ParallelConfig, ParallelExecutor};
use verity_validation::adapter::ToolBackend;
use verity_validation::exec::{ExecBackend, ExecOptions};
use verity_validation::http::HttpBackend;
use verity_validation::parallel::CaseValidator;
use verity_validation::protocol::WalkRules;
use verity_validation::{
    generate, BackendSpec, CorrectnessValidator, EngineBackend, GeneratorOptions, GroundTruthCase,
    QueryType, SearchBackend, ValidationResult, ValidatorOptions,
};

use crate::config::{self, MinAccuracy};
use crate::exit::{CmdResult, Failure, INTERNAL_ERROR};
use crate::out::{out, outln};
use crate::ValidateArgs;

/// Settings after config file, profile and flags.
struct Settings {
    profile: String,
    backend: BackendSpec,
    corpus: PathBuf,
    builtin_corpus: bool,
    truth: Option<PathBuf>,
    index: Option<PathBuf>,
    cases: usize,
    seed: u64,
    jobs: usize,
    timeout: f64,
    retries: u32,
    history: Option<PathBuf>,
    max_fail: Option<usize>,
    fail_fast: bool,
    min_accuracy: BTreeMap<String, f64>,
    min_recall: f64,
    vector_search: VectorSearch,
    partition: Option<Partition>,
    output: PathBuf,
    formats: Vec<Format>,
    types: Vec<QueryType>,
    tags: Vec<String>,
    max_rss: Option<u64>,
    global_timeout: Option<f64>,
    progress_interval: f64,
}

fn positive(name: &str, v: f64) -> Result<f64, Failure> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(Failure::input(format!(
            "{name} must be a positive number of seconds, not {v}"
        )))
    }
}

fn resolve(args: &ValidateArgs) -> Result<Settings, Failure> {
    let file = config::locate(args.config.as_deref());
    let profile_name = args.profile.clone().unwrap_or_else(|| "default".into());
    let p = config::load(file.as_deref(), &profile_name)?;

    let corpus_given = args.corpus.clone().or(p.corpus);
    let builtin_corpus = corpus_given.is_none();
    let corpus = corpus_given.unwrap_or_else(super::sample_corpus);
    let default_jobs = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let jobs = args.jobs.or(p.jobs).unwrap_or(default_jobs);
    if jobs == 0 {
        return Err(Failure::input("--jobs must be at least 1"));
    }
    let timeout = positive("--timeout", args.timeout.or(p.timeout).unwrap_or(30.0))?;
    let global_timeout = args
        .global_timeout
        .or(p.global_timeout)
        .map(|t| positive("--global-timeout", t))
        .transpose()?;
    let progress_interval = positive(
        "--progress-interval",
        args.progress_interval
            .or(p.progress_interval)
            .unwrap_or(5.0),
    )?;

    // Accuracy thresholds: 100% for every type unless set.
    let mut min_accuracy: BTreeMap<String, f64> = QueryType::ALL
        .iter()
        .map(|t| (t.name().to_string(), 100.0))
        .collect();
    match (args.min_accuracy, p.min_accuracy) {
        (Some(all), _) | (None, Some(MinAccuracy::All(all))) => {
            for v in min_accuracy.values_mut() {
                *v = all;
            }
        }
        (None, Some(MinAccuracy::PerType(m))) => {
            for (k, v) in m {
                let t = k
                    .parse::<QueryType>()
                    .map_err(|e| Failure::input(format!("min-accuracy: {e}")))?;
                min_accuracy.insert(t.name().to_string(), v);
            }
        }
        (None, None) => {}
    }
    if let Some((t, v)) = min_accuracy
        .iter()
        .find(|(_, v)| !(0.0..=100.0).contains(*v))
    {
        return Err(Failure::input(format!(
            "minimum accuracy for {t} must be between 0 and 100, not {v}"
        )));
    }

    let min_recall = args
        .min_recall
        .or(p.min_recall)
        .unwrap_or(verity_report::model::DEFAULT_MIN_RECALL);
    if !(0.0..=1.0).contains(&min_recall) {
        return Err(Failure::input(format!(
            "minimum recall must be between 0 and 1, not {min_recall}"
        )));
    }
    let vector_search = match (args.vector_search, &p.vector_search) {
        (Some(m), _) => m,
        (None, Some(name)) => name
            .parse::<VectorSearch>()
            .map_err(|e| Failure::input(format!("vector-search: {e}")))?,
        (None, None) => VectorSearch::default(),
    };

    let partition = match args.partition.clone().or(p.partition) {
        Some(s) => Some(s.parse::<Partition>().map_err(Failure::input)?),
        None => None,
    };
    let formats = match (&args.format, p.format) {
        (Some(f), _) if !f.is_empty() => f.clone(),
        (_, Some(f)) => f,
        _ => vec![
            "json".into(),
            "junit".into(),
            "md".into(),
            "html".into(),
            "trec".into(),
        ],
    };
    let mut fs = Vec::new();
    for f in &formats {
        let f: Format = f.parse().map_err(Failure::input)?;
        if !fs.contains(&f) {
            fs.push(f);
        }
    }
    let types = args
        .types
        .clone()
        .filter(|t| !t.is_empty())
        .or(p.types)
        .unwrap_or_default()
        .iter()
        .map(|t| {
            t.parse::<QueryType>()
                .map_err(|e| Failure::input(e.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let max_rss = match args.max_rss.clone().or(p.max_rss) {
        Some(s) => {
            Some(config::parse_size(&s).map_err(|e| Failure::input(format!("--max-rss: {e}")))?)
        }
        None => None,
    };
    let backend = match args.backend.clone().or(p.backend) {
        Some(spec) => spec
            .parse::<BackendSpec>()
            .map_err(|e| Failure::input(format!("--backend: {e}")))?,
        None => BackendSpec::Verity,
    };
    Ok(Settings {
        profile: profile_name,
        backend,
        corpus,
        builtin_corpus,
        truth: args.truth.clone().or(p.truth),
        index: args.index.clone().or(p.index),
        cases: args.cases.or(p.cases).unwrap_or(1000),
        seed: args.seed.or(p.seed).unwrap_or(1),
        jobs,
        timeout,
        retries: args.retries.or(p.retries).unwrap_or(2),
        history: args.history.clone().or(p.history),
        max_fail: args.max_fail.or(p.max_fail),
        fail_fast: args.fail_fast || p.fail_fast.unwrap_or(false),
        min_accuracy,
        min_recall,
        vector_search,
        partition,
        output: args
            .output
            .clone()
            .or(p.output)
            .unwrap_or_else(|| PathBuf::from("verity-report")),
        formats: fs,
        types,
        tags: args
            .tags
            .clone()
            .filter(|t| !t.is_empty())
            .or(p.tags)
            .unwrap_or_default(),
        max_rss,
        global_timeout,
        progress_interval,
    })
}

fn machine() -> (String, String, usize, u64, String) {
    let mut sys = sysinfo::System::new();
    sys.refresh_memory();
    (
        std::env::consts::OS.to_string(),
        std::env::consts::ARCH.to_string(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        sys.total_memory(),
        sysinfo::System::host_name().unwrap_or_else(|| "unknown".into()),
    )
}

/// Reports, printed summary and exit code for a finished (or interrupted) run.
pub fn finish(report: &Report, output: &Path, formats: &[Format]) -> CmdResult {
    out!("{}", verity_report::terminal::render(report))?;
    let written = verity_report::write_reports(report, output, formats).map_err(|e| Failure {
        code: INTERNAL_ERROR,
        message: format!("writing reports: {e}"),
    })?;
    let names: Vec<String> = written
        .iter()
        .filter_map(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    if !names.is_empty() {
        outln!("reports: {} ({})", output.display(), names.join(", "))?;
    }
    Ok(ExitCode::from(report.outcome().exit_code()))
}

pub fn run(args: &ValidateArgs) -> CmdResult {
    let created_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();
    let s = resolve(args)?;

    // An external backend first: it says which files it searches, and the truth must be
    // computed over the same files.
    let wanted = WalkRules::from(&args.walk.corpus_rules());
    let external: Option<Arc<dyn SearchBackend>> = match &s.backend {
        BackendSpec::Verity => None,
        BackendSpec::Exec(cmd) => Some(Arc::new(
            ExecBackend::start(cmd, &s.corpus, ExecOptions::default())
                .map_err(|e| Failure::input(format!("--backend {}: {e}", s.backend)))?,
        )),
        BackendSpec::Http(url) => Some(Arc::new(
            HttpBackend::connect(url, &s.corpus, Duration::from_secs(30))
                .map_err(|e| Failure::input(format!("--backend {}: {e}", s.backend)))?,
        )),
        BackendSpec::Tool(tool) => Some(Arc::new(
            ToolBackend::new(*tool, &s.corpus, &wanted)
                .map_err(|e| Failure::input(format!("--backend {}: {e}", s.backend)))?,
        )),
    };
    let walk = external
        .as_ref()
        .and_then(|b| b.walk_rules())
        .unwrap_or_else(|| wanted.clone());
    if walk != wanted {
        eprintln!(
            "note: {} searches other files than asked (hidden {}, ignore files {}, default excludes {}, max file size {}); the truth is computed over the files it searches",
            s.backend,
            walk.hidden,
            walk.ignore_files,
            walk.default_excludes,
            if walk.max_filesize == u64::MAX { "none".to_string() } else { format!("{} bytes", walk.max_filesize) }
        );
    }

    // Corpus and truth.
    let mut corpus = verity_oracle::Corpus::load(&s.corpus, &(&walk).into())
        .map_err(|e| Failure::input(format!("corpus {}: {e}", s.corpus.display())))?;
    if let Some(list) = &walk.files {
        // The backend searches a list of its own (an index that skipped some files): the
        // truth covers the walk's files that are in it.
        let listed: std::collections::BTreeSet<&str> = list.iter().map(String::as_str).collect();
        let all = corpus.files().len();
        let kept: Vec<_> = corpus
            .files()
            .iter()
            .filter(|f| listed.contains(f.path.as_str()))
            .cloned()
            .collect();
        eprintln!(
            "note: {} searches {} files it listed; the truth covers the {} of the walk's {all} files that are among them",
            s.backend,
            list.len(),
            kept.len()
        );
        corpus = verity_oracle::Corpus::from_files(kept);
    }
    let fingerprint = corpus.fingerprint();
    let vector_config = args.vectors.config()?;
    let (truth, truth_generator) = match &s.truth {
        Some(path) => {
            let ds = super::truth::load_truth(path)?;
            if ds.corpus_fingerprint != fingerprint {
                return Err(Failure::input(format!(
                    "{}: the truth was made for another corpus (truth {}, corpus {} is {}); regenerate it or pass the right --corpus",
                    path.display(),
                    ds.corpus_fingerprint,
                    s.corpus.display(),
                    fingerprint
                )));
            }
            super::vectors::check_settings(path, &ds, vector_config.as_ref())?;
            (ds, None)
        }
        None => {
            let vectors = match &vector_config {
                Some(config) => Some(super::vectors::vector_truth(&corpus, config)?),
                None => None,
            };
            let ds = generate(
                &corpus,
                &GeneratorOptions {
                    cases: s.cases,
                    seed: s.seed,
                    vectors,
                },
            );
            (
                ds,
                Some(format!("generated: {} cases, seed {}", s.cases, s.seed)),
            )
        }
    };
    let truth_fingerprint = truth.fingerprint();
    let truth_chunking = truth
        .vectors
        .as_ref()
        .map(|v| (v.chunk_lines, v.chunk_overlap));
    let truth_cases = truth.cases.len();

    // Filters, then the partition.
    let selected: Vec<GroundTruthCase> = truth
        .cases
        .into_iter()
        .filter(|c| s.types.is_empty() || s.types.contains(&c.query_type))
        .filter(|c| s.tags.is_empty() || c.tags.iter().any(|t| s.tags.contains(t)))
        .collect();
    let n_selected = selected.len();
    if n_selected == 0 {
        // Filters that select nothing are a mistake, not a pass. (An empty *partition* of a
        // non-empty selection is normal for small truths, and runs.)
        return Err(Failure::input(format!(
            "no cases selected: the truth has {truth_cases} cases, none of type {} with tag {}",
            if s.types.is_empty() {
                "any".to_string()
            } else {
                s.types
                    .iter()
                    .map(|t| t.name())
                    .collect::<Vec<_>>()
                    .join(" or ")
            },
            if s.tags.is_empty() {
                "any".to_string()
            } else {
                s.tags.join(" or ")
            }
        )));
    }
    let mine = match s.partition {
        Some(p) => {
            let ids: Vec<&str> = selected.iter().map(|c| c.id.as_str()).collect();
            p.select(&ids)
        }
        None => vec![true; n_selected],
    };
    let cases: Vec<(usize, GroundTruthCase)> = selected
        .into_iter()
        .enumerate()
        .zip(mine)
        .filter_map(|(c, keep)| keep.then_some(c))
        .collect();

    // The index.
    let tmp = tempfile::tempdir().map_err(|e| Failure {
        code: INTERNAL_ERROR,
        message: format!("temporary directory: {e}"),
    })?;
    let index_dir = s.index.clone().unwrap_or_else(|| tmp.path().join("index"));
    let opts = BuildOptions {
        walk: args.walk.options(),
        vectors: vector_config.clone(),
        vector_search: s.vector_search,
        ..BuildOptions::default()
    };
    let partition_note = s
        .partition
        .map(|p| format!(", {} in partition {p}", cases.len()))
        .unwrap_or_default();
    // The backend: an external one as started above, or the embedded engine over an index
    // built (or updated) now.
    let (backend, built): (Arc<dyn SearchBackend>, Option<BuiltIndex>) = match external {
        Some(b) => {
            eprintln!(
                "backend: {}; {} cases selected of {}{partition_note}",
                b.name(),
                n_selected,
                truth_cases
            );
            (b, None)
        }
        None => {
            let (index, build) = CodeIndex::build(&s.corpus, &index_dir, &opts)?;
            eprintln!(
                "index: {} files in {:.2}s; {} cases selected of {}{partition_note}",
                build.files,
                build.elapsed.as_secs_f64(),
                n_selected,
                truth_cases,
            );
            let built = BuiltIndex {
                files: build.files,
                bytes: index.size_on_disk(),
                build_ms: build.elapsed.as_secs_f64() * 1000.0,
                chunks: index.vector_index().map(|v| v.len()),
            };
            (
                Arc::new(EngineBackend::new(index).with_vector_search(Some(s.vector_search))),
                Some(built),
            )
        }
    };

    // The run.
    let history = match &s.history {
        Some(path) => Report::load(path)
            .map_err(|e| Failure::input(format!("--history: {e}")))?
            .durations(),
        None => Default::default(),
    };
    let config = ParallelConfig {
        max_concurrent_tests: s.jobs,
        test_timeout_seconds: s.timeout,
        retry_attempts: s.retries,
        max_rss_bytes: s.max_rss,
        progress_reporting_interval: s.progress_interval,
        progress: !args.no_progress,
        fail_fast: s.fail_fast,
        max_fail: s.max_fail,
        global_timeout: s.global_timeout.map(Duration::from_secs_f64),
        history,
        ..ParallelConfig::default()
    };
    let chunks = built.as_ref().and_then(|b| b.chunks);
    let validator = CorrectnessValidator::new(
        backend.clone(),
        ValidatorOptions {
            chunking: truth_chunking.or_else(|| {
                vector_config
                    .as_ref()
                    .map(|c| (c.chunk.lines, c.chunk.overlap))
            }),
            ..ValidatorOptions::default()
        },
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure {
            code: INTERNAL_ERROR,
            message: format!("async runtime: {e}"),
        })?;
    let ordinals: Vec<usize> = cases.iter().map(|(o, _)| *o).collect();
    let case_list: Vec<GroundTruthCase> = cases.iter().map(|(_, c)| c.clone()).collect();
    let mut ex = ParallelExecutor::new(config, Arc::new(CaseValidator(validator)));
    ex.add_test_cases(case_list.clone());
    let interrupt = ex.interrupt_token();
    let started = Instant::now();
    rt.block_on(async {
        // Registered before the first case runs, so an early Ctrl-C is never the default
        // (report-less) termination.
        let interrupted = interrupt_signal().map_err(|e| Failure {
            code: INTERNAL_ERROR,
            message: format!("installing the Ctrl-C handler: {e}"),
        })?;
        let watcher = tokio::spawn(async move {
            interrupted.await;
            eprintln!("interrupted: letting running cases finish, then writing a partial report");
            interrupt.cancel();
        });
        ex.execute_all().await;
        watcher.abort();
        Ok::<(), Failure>(())
    })?;
    let wall = started.elapsed();

    // The report.
    let stats = ex.get_stats().clone();
    let results: Vec<ExecutionResult<ValidationResult>> = ex.results().to_vec();
    let report_cases: Vec<CaseReport> = results
        .into_iter()
        .map(|r| {
            let case = &case_list[r.index];
            case_report(case, ordinals[r.index], r)
        })
        .collect();
    let (os, arch, cpus, memory_bytes, hostname) = machine();
    let mut report = Report {
        report_version: REPORT_VERSION,
        complete: ex.cancel_reason().is_none(),
        cancel_reason: ex.cancel_reason(),
        created_at,
        environment: Environment {
            verity_version: env!("CARGO_PKG_VERSION").to_string(),
            engine: match &s.backend {
                BackendSpec::Verity => format!("verity-engine {}", verity_engine::VERSION),
                spec => format!("{} ({spec})", backend.name()),
            },
            corpus_path: if s.builtin_corpus {
                "sample-corpus (built in)".to_string()
            } else {
                s.corpus.display().to_string()
            },
            corpus_fingerprint: fingerprint,
            corpus_files: corpus.files().len(),
            truth_path: s.truth.as_ref().map(|p| p.display().to_string()),
            truth_fingerprint,
            truth_generator,
            index_path: s.index.as_ref().map(|p| p.display().to_string()),
            index_settings: if built.is_none() {
                format!(
                    "no index: the backend searches the corpus itself (hidden files {}, ignore files {}, skip .git/target/node_modules {}, max file size {})",
                    walk.hidden,
                    walk.ignore_files,
                    walk.default_excludes,
                    if walk.max_filesize == u64::MAX { "none".to_string() } else { format!("{} bytes", walk.max_filesize) }
                )
            } else {
                format!(
                "format {}; hidden files {}; ignore files {}; skip .git/target/node_modules {}; max file size {} bytes",
                verity_engine::FORMAT_VERSION,
                args.walk.hidden,
                !args.walk.no_ignore,
                !args.walk.no_default_excludes,
                args.walk.max_filesize
            ) + "; "
                + &super::vectors::describe(vector_config.as_ref())
            },
            index_files: built.as_ref().map_or(0, |b| b.files),
            index_bytes: built.as_ref().map_or(0, |b| b.bytes),
            index_build_ms: built.as_ref().map_or(0.0, |b| b.build_ms),
            os,
            arch,
            cpus,
            memory_bytes,
            hostname,
        },
        settings: RunSettings {
            profile: s.profile.clone(),
            jobs: s.jobs,
            timeout_seconds: s.timeout,
            retries: s.retries,
            fail_fast: s.fail_fast,
            max_fail: s.max_fail,
            min_accuracy: s.min_accuracy.clone(),
            min_recall: s.min_recall,
            vector_search: chunks.map(|n| {
                format!(
                    "{} ({} for {n} chunks)",
                    s.vector_search,
                    if s.vector_search.is_exact_for(n) {
                        "exact"
                    } else {
                        "hnsw"
                    }
                )
            }),
            types: s.types.iter().map(|t| t.name().to_string()).collect(),
            tags: s.tags.clone(),
        },
        selection: Selection {
            truth_cases,
            selected: n_selected,
            partition: s.partition,
        },
        summary: Default::default(),
        per_type: Default::default(),
        thresholds: Vec::new(),
        recall_checks: Vec::new(),
        run: RunFigures {
            wall_time_ms: wall.as_secs_f64() * 1000.0,
            // Cases that ran: cancelled ones took no time.
            throughput: (stats.total - stats.cancelled) as f64 / wall.as_secs_f64().max(1e-9),
            throttle_events: stats.throttle_events,
            min_concurrency: stats.min_concurrency,
            worker_busy_ms: stats.worker_busy_ms.clone(),
            abandoned_attempts: stats.abandoned_attempts,
        },
        sources: Vec::new(),
        cases: report_cases,
    };
    report.summarise();
    finish(&report, &s.output, &s.formats)
}

/// What the run needs to report about the index it built for the embedded engine.
struct BuiltIndex {
    files: usize,
    bytes: u64,
    build_ms: f64,
    chunks: Option<usize>,
}

/// A future that resolves on the first SIGINT (Ctrl-C). The handler is installed now, not at
/// the first poll.
#[cfg(unix)]
fn interrupt_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send> {
    let mut sig = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
    Ok(async move {
        sig.recv().await;
    })
}

#[cfg(not(unix))]
fn interrupt_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

fn case_report(
    case: &GroundTruthCase,
    ordinal: usize,
    r: ExecutionResult<ValidationResult>,
) -> CaseReport {
    let message = r.message();
    CaseReport {
        id: r.job_id,
        ordinal,
        query: case.query.clone(),
        query_type: case.query_type,
        priority: format!("{:?}", case.priority()),
        tags: case.tags.clone(),
        status: r.status,
        flaky: r.flaky,
        retries: r.retry_count,
        attempts: r.attempts,
        duration_ms: r.duration_ms,
        worker: r.worker,
        message,
        judgments: case.judgments().into_iter().collect(),
        result: r.output,
    }
}
