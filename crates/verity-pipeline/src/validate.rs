//! `verity validate` as a library call: settings in, a [`Report`] out.
//!
//! The steps: start the backend (an external one first, because it says which files it
//! searches), load the corpus under those walk rules, load or generate the truth (the oracle
//! computes expected files), select the cases (types, tags, partition), build or update the
//! index when the backend is the embedded engine, run every case through the parallel engine,
//! and summarise. Nothing here prints: progress notes go to the caller's `note`.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use verity_core::CancelToken;
use verity_engine::{BuildOptions, CodeIndex, VectorConfig, VectorSearch, WalkOptions};
use verity_report::model::{base_id, REPEAT_MARK};
use verity_report::model::{Environment, RunFigures, RunPhase, RunSettings, Selection};
use verity_report::{CaseReport, Partition, Report, REPORT_VERSION};
use verity_runner::{EventSink, ExecutionResult, JobStatus, ParallelConfig, ParallelExecutor};
use verity_validation::adapter::ToolBackend;
use verity_validation::exec::{ExecBackend, ExecOptions};
use verity_validation::http::HttpBackend;
use verity_validation::parallel::CaseValidator;
use verity_validation::protocol::WalkRules;
use verity_validation::{
    generate, vectors, BackendSpec, CorrectnessValidator, EngineBackend, GeneratorOptions,
    GroundTruthCase, GroundTruthDataset, QueryType, SearchBackend, ValidationResult,
    ValidatorOptions,
};

use crate::error::PipelineError;

/// Everything a validation run needs, after config files, profiles and flags.
#[derive(Debug, Clone)]
pub struct ValidateSettings {
    /// The profile's name, for the report.
    pub profile: String,
    /// The engine validated.
    pub backend: BackendSpec,
    /// The corpus directory.
    pub corpus: PathBuf,
    /// How the report names the corpus (the built-in sample says so); default: its path.
    pub corpus_label: Option<String>,
    /// A ground-truth file; `None`: generate `cases` cases with `seed`.
    pub truth: Option<PathBuf>,
    /// Where the embedded engine's index lives; `None`: a temporary directory.
    pub index: Option<PathBuf>,
    /// Cases to generate without a truth file.
    pub cases: usize,
    /// Seed of the generated truth.
    pub seed: u64,
    /// The files asked for (a backend may search others: then those).
    pub walk: WalkRules,
    /// The vector settings of the index and of the truth; `None`: no vectors.
    pub vectors: Option<VectorConfig>,
    /// How the embedded engine's vector searches find chunks.
    pub vector_search: VectorSearch,
    /// Cases running at once (`--jobs`).
    pub jobs: usize,
    /// Seconds per attempt.
    pub timeout: f64,
    /// Retries after an error.
    pub retries: u32,
    /// A previous report, for longest-first dispatch and time partitions.
    pub history: Option<PathBuf>,
    /// A previous report: run only the cases that did not pass there.
    pub rerun_failed: Option<PathBuf>,
    /// Runs of each selected case (1: once). Repeats run concurrently, as `ID~K`.
    pub repeat: usize,
    /// Stop dispatching after this many failures.
    pub max_fail: Option<usize>,
    /// Stop dispatching after the first failure.
    pub fail_fast: bool,
    /// Percent per query type name.
    pub min_accuracy: BTreeMap<String, f64>,
    /// Minimum mean recall@k of approximately answered types.
    pub min_recall: f64,
    /// This run's share of the cases.
    pub partition: Option<Partition>,
    /// Only these types (empty: all).
    pub types: Vec<QueryType>,
    /// Only cases with one of these tags (empty: all).
    pub tags: Vec<String>,
    /// Throttle above this resident memory, in bytes.
    pub max_rss: Option<u64>,
    /// Seconds for the whole run.
    pub global_timeout: Option<f64>,
}

/// The machine, for the report.
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

/// Each case's expected duration from a previous report: its own last duration there, else
/// the mean of its query type there, else the mean of every case there (1 ms for an empty
/// history). Cases the history does not know then weigh like their kind.
/// `known` is `history.durations()`.
fn expected_durations(
    history: &Report,
    known: &std::collections::HashMap<String, f64>,
    cases: &[GroundTruthCase],
) -> Vec<f64> {
    let mut by_type: BTreeMap<QueryType, (f64, usize)> = BTreeMap::new();
    let (mut all, mut n) = (0.0, 0usize);
    for c in &history.cases {
        if let Some(d) = known.get(&c.id) {
            let e = by_type.entry(c.query_type).or_default();
            e.0 += d;
            e.1 += 1;
            all += d;
            n += 1;
        }
    }
    let overall = if n == 0 { 1.0 } else { all / n as f64 };
    cases
        .iter()
        .map(|c| match known.get(&c.id) {
            Some(d) => *d,
            None => by_type
                .get(&c.query_type)
                .map_or(overall, |(sum, k)| sum / *k as f64),
        })
        .collect()
}

/// The report's description of a max file size.
fn size_cap(bytes: u64) -> String {
    if bytes == u64::MAX {
        "none".to_string()
    } else {
        format!("{bytes} bytes")
    }
}

/// Runs the validation `s` describes. `interrupt` is called inside the run's async runtime
/// before the first case starts (a signal handler needs the runtime) and gives the future
/// that, when it resolves, stops the run: running cases finish and the report is marked
/// incomplete. `note` receives progress notes meant for people; `events` hears the run's
/// progress case by case (a progress reporter draws them).
///
/// `interrupt` is the caller's (set on SIGINT or SIGTERM): once it is set, no further phase
/// starts — the index build stops between files, no case starts, running cases finish — and
/// the report says which phase was interrupted ([`Report::interrupted_during`]). Everything
/// temporary (a generated index) is removed before this returns.
pub fn validate(
    s: &ValidateSettings,
    interrupt: &CancelToken,
    note: &dyn Fn(&str),
    events: &mut dyn EventSink,
) -> Result<Report, PipelineError> {
    // The first phase an interrupt stopped, if any.
    let mut interrupted_during: Option<RunPhase> = None;
    let created_at = humantime::format_rfc3339_seconds(SystemTime::now()).to_string();

    // An external backend first: it says which files it searches, and the truth must be
    // computed over the same files.
    let wanted = s.walk.clone();
    let external: Option<Arc<dyn SearchBackend>> = match &s.backend {
        BackendSpec::Verity => None,
        BackendSpec::Exec(cmd) => Some(Arc::new(
            ExecBackend::start(cmd, &s.corpus, ExecOptions::default())
                .map_err(|e| PipelineError::input(format!("--backend {}: {e}", s.backend)))?,
        )),
        BackendSpec::Http(url) => Some(Arc::new(
            HttpBackend::connect(url, &s.corpus, Duration::from_secs(30))
                .map_err(|e| PipelineError::input(format!("--backend {}: {e}", s.backend)))?,
        )),
        BackendSpec::Tool(tool) => Some(Arc::new(
            ToolBackend::new(*tool, &s.corpus, &wanted)
                .map_err(|e| PipelineError::input(format!("--backend {}: {e}", s.backend)))?,
        )),
    };
    let walk = external
        .as_ref()
        .and_then(|b| b.walk_rules())
        .unwrap_or_else(|| wanted.clone());
    if walk != wanted {
        note(&format!(
            "note: {} searches other files than asked (hidden {}, ignore files {}, default excludes {}, max file size {}); the truth is computed over the files it searches",
            s.backend,
            walk.hidden,
            walk.ignore_files,
            walk.default_excludes,
            size_cap(walk.max_filesize)
        ));
    }

    // Corpus and truth.
    let mut corpus = verity_oracle::Corpus::load(&s.corpus, &(&walk).into())
        .map_err(|e| PipelineError::input(format!("corpus {}: {e}", s.corpus.display())))?;
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
        note(&format!(
            "note: {} searches {} files it listed; the truth covers the {} of the walk's {all} files that are among them",
            s.backend,
            list.len(),
            kept.len()
        ));
        corpus = verity_oracle::Corpus::from_files(kept);
    }
    let fingerprint = corpus.fingerprint();
    if interrupt.is_cancelled() {
        interrupted_during = Some(RunPhase::Corpus);
    }
    let vector_config = s.vectors.clone();
    let (truth, truth_generator) = match &s.truth {
        Some(path) => {
            let ds = GroundTruthDataset::load(path)
                .map_err(|e| PipelineError::input(e.to_string().trim_end()))?;
            if ds.corpus_fingerprint != fingerprint {
                return Err(PipelineError::input(format!(
                    "{}: the truth was made for another corpus (truth {}, corpus {} is {}); regenerate it or pass the right --corpus",
                    path.display(),
                    ds.corpus_fingerprint,
                    s.corpus.display(),
                    fingerprint
                )));
            }
            vectors::check_settings(path, &ds, vector_config.as_ref())
                .map_err(PipelineError::input)?;
            (ds, None)
        }
        // Interrupted already: no truth to compute, no case to run.
        None if interrupted_during.is_some() => (
            generate(
                &corpus,
                &GeneratorOptions {
                    cases: 0,
                    seed: s.seed,
                    vectors: None,
                },
            ),
            None,
        ),
        None => {
            let vectors = match &vector_config {
                Some(config) => {
                    Some(vectors::vector_truth(&corpus, config).map_err(PipelineError::input)?)
                }
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
    if interrupted_during.is_none() && interrupt.is_cancelled() {
        interrupted_during = Some(RunPhase::Truth);
    }
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
    // Only what did not pass last time.
    let selected = match &s.rerun_failed {
        None => selected,
        Some(path) => {
            let previous = Report::load(path)
                .map_err(|e| PipelineError::input(format!("--rerun-failed: {e}")))?;
            let again: std::collections::HashSet<&str> = previous
                .cases
                .iter()
                .filter(|c| !matches!(c.status, JobStatus::Passed | JobStatus::Unsupported))
                .map(|c| base_id(&c.id))
                .collect();
            if again.is_empty() {
                return Err(PipelineError::input(format!(
                    "--rerun-failed {}: nothing to rerun, every case there passed",
                    path.display()
                )));
            }
            selected
                .into_iter()
                .filter(|c| again.contains(c.id.as_str()))
                .collect()
        }
    };
    // Stress mode: each case N times, concurrently, as ID~1 … ID~N.
    let selected: Vec<GroundTruthCase> = if s.repeat > 1 {
        selected
            .into_iter()
            .flat_map(|c| {
                (1..=s.repeat).map(move |k| GroundTruthCase {
                    id: format!("{}{REPEAT_MARK}{k}", c.id),
                    ..c.clone()
                })
            })
            .collect()
    } else {
        selected
    };
    let n_selected = selected.len();
    if n_selected == 0 && interrupted_during.is_none() {
        // Filters that select nothing are a mistake, not a pass. (An empty *partition* of a
        // non-empty selection is normal for small truths, and runs.)
        return Err(PipelineError::input(format!(
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
    // Durations of a previous run: for longest-first dispatch, and for time partitions.
    let history_report = match &s.history {
        Some(path) => {
            Some(Report::load(path).map_err(|e| PipelineError::input(format!("--history: {e}")))?)
        }
        None => None,
    };
    let history = history_report
        .as_ref()
        .map(Report::durations)
        .unwrap_or_default();
    let expected: Option<Vec<f64>> = history_report
        .as_ref()
        .map(|h| expected_durations(h, &history, &selected));
    let mine = match s.partition {
        Some(p) => {
            let ids: Vec<&str> = selected.iter().map(|c| c.id.as_str()).collect();
            p.select_by(&ids, expected.as_deref()).ok_or_else(|| {
                PipelineError::input(format!(
                    "--partition {p} packs cases by expected duration: it needs --history REPORT (a previous report.json)"
                ))
            })?
        }
        None => vec![true; n_selected],
    };
    // What this share is expected to take, summed over its cases (with a history).
    let expected_ms: Option<f64> = expected.as_ref().map(|e| {
        e.iter()
            .zip(&mine)
            .filter(|(_, keep)| **keep)
            .map(|(d, _)| d)
            .sum()
    });
    let cases: Vec<(usize, GroundTruthCase)> = selected
        .into_iter()
        .enumerate()
        .zip(mine)
        .filter_map(|(c, keep)| keep.then_some(c))
        .collect();

    // The index.
    let tmp = tempfile::tempdir()
        .map_err(|e| PipelineError::Internal(format!("temporary directory: {e}")))?;
    let index_dir = s.index.clone().unwrap_or_else(|| tmp.path().join("index"));
    let opts = BuildOptions {
        walk: WalkOptions {
            respect_ignore_files: s.walk.ignore_files,
            hidden: s.walk.hidden,
            default_excludes: s.walk.default_excludes,
            max_file_size: s.walk.max_filesize,
        },
        vectors: vector_config.clone(),
        vector_search: s.vector_search,
        cancel: Some(interrupt.clone()),
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
            note(&format!(
                "backend: {}; {} cases selected of {}{partition_note}",
                b.name(),
                n_selected,
                truth_cases
            ));
            (b, None)
        }
        None if interrupted_during.is_some() => (Arc::new(NotBuilt), None),
        None => match build_index(s, &index_dir, &opts, note) {
            Err(verity_engine::EngineError::Cancelled) => {
                interrupted_during = Some(RunPhase::Index);
                (Arc::new(NotBuilt), None)
            }
            Err(e) => return Err(e.into()),
            Ok((index, build)) => {
                note(&format!(
                    "index: {} files in {:.2}s; {} cases selected of {}{partition_note}",
                    build.files,
                    build.elapsed.as_secs_f64(),
                    n_selected,
                    truth_cases,
                ));
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
        },
    };

    // The run.
    let config = ParallelConfig {
        max_concurrent_tests: s.jobs,
        test_timeout_seconds: s.timeout,
        retry_attempts: s.retries,
        max_rss_bytes: s.max_rss,
        fail_fast: s.fail_fast,
        max_fail: s.max_fail,
        global_timeout: s.global_timeout.map(verity_core::seconds),
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
        .map_err(|e| PipelineError::Internal(format!("async runtime: {e}")))?;
    let ordinals: Vec<usize> = cases.iter().map(|(o, _)| *o).collect();
    let case_list: Vec<GroundTruthCase> = cases.iter().map(|(_, c)| c.clone()).collect();
    // The caller's interrupt stops dispatching (at once, when it came before this phase);
    // running cases finish and the report is written, marked incomplete.
    let mut ex = ParallelExecutor::new(config, Arc::new(CaseValidator(validator)))
        .with_interrupt(interrupt.clone());
    ex.add_test_cases(case_list.clone());
    let started = Instant::now();
    rt.block_on(ex.execute_all_with(events));
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
    // The runner gives every case exactly one result; were one ever missing, the report must
    // not call itself complete, and the run is an infrastructure failure, not a pass.
    let mut cancel_reason = ex.cancel_reason();
    if interrupted_during.is_none() && cancel_reason == Some(verity_runner::CancelReason::Interrupt)
    {
        interrupted_during = Some(RunPhase::Cases);
    }
    if interrupted_during.is_some() {
        cancel_reason = cancel_reason.max(Some(verity_runner::CancelReason::Interrupt));
    }
    let accounted: std::collections::HashSet<usize> =
        report_cases.iter().map(|c| c.ordinal).collect();
    let unaccounted = ordinals.iter().filter(|o| !accounted.contains(o)).count();
    debug_assert_eq!(unaccounted, 0, "cases without a result");
    if unaccounted > 0 {
        note(&format!(
            "{unaccounted} of {} cases have no result: the report is incomplete",
            ordinals.len()
        ));
        cancel_reason = cancel_reason.or(Some(verity_runner::CancelReason::ExecutorUnavailable));
    }
    let (os, arch, cpus, memory_bytes, hostname) = machine();
    let mut report = Report {
        report_version: REPORT_VERSION,
        complete: cancel_reason.is_none(),
        cancel_reason,
        interrupted_during,
        created_at,
        environment: Environment {
            verity_version: env!("CARGO_PKG_VERSION").to_string(),
            engine: match &s.backend {
                BackendSpec::Verity => format!("verity-engine {}", verity_engine::VERSION),
                spec => format!("{} ({spec})", backend.name()),
            },
            corpus_path: s
                .corpus_label
                .clone()
                .unwrap_or_else(|| s.corpus.display().to_string()),
            corpus_fingerprint: fingerprint,
            corpus_files: corpus.files().len(),
            truth_path: s.truth.as_ref().map(|p| p.display().to_string()),
            truth_fingerprint,
            truth_generator,
            index_path: s.index.as_ref().map(|p| p.display().to_string()),
            index_settings: if interrupted_during.is_some_and(|p| p <= RunPhase::Index)
                && matches!(s.backend, BackendSpec::Verity)
            {
                "no index: the run was interrupted before it was built".into()
            } else if built.is_none() {
                format!(
                    "no index: the backend searches the corpus itself (hidden files {}, ignore files {}, skip .git/target/node_modules {}, max file size {})",
                    walk.hidden,
                    walk.ignore_files,
                    walk.default_excludes,
                    size_cap(walk.max_filesize)
                )
            } else {
                format!(
                "format {}; hidden files {}; ignore files {}; skip .git/target/node_modules {}; max file size {} bytes",
                verity_engine::FORMAT_VERSION,
                s.walk.hidden,
                s.walk.ignore_files,
                s.walk.default_excludes,
                s.walk.max_filesize
            ) + "; "
                + &vectors::describe(vector_config.as_ref())
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
            expected_ms,
        },
        summary: Default::default(),
        per_type: Default::default(),
        thresholds: Vec::new(),
        recall_checks: Vec::new(),
        repeats: Vec::new(),
        run: RunFigures {
            wall_time_ms: wall.as_secs_f64() * 1000.0,
            // Cases that ran: cancelled ones took no time.
            throughput: (stats.total - stats.cancelled) as f64 / wall.as_secs_f64().max(1e-9),
            throttle_events: stats.throttle_events,
            min_concurrency: stats.min_concurrency,
            worker_busy_ms: stats.worker_busy_ms.clone(),
            abandoned_attempts: stats.abandoned_attempts,
            peak_concurrency: stats.peak_concurrency,
            seed: Default::default(),
        },
        sources: Vec::new(),
        cases: report_cases,
    };
    report.summarise();
    Ok(report)
}

/// Builds (or updates) the embedded engine's index, saying so first: it can take a while.
fn build_index(
    s: &ValidateSettings,
    index_dir: &std::path::Path,
    opts: &BuildOptions,
    note: &dyn Fn(&str),
) -> Result<(CodeIndex, verity_engine::BuildReport), verity_engine::EngineError> {
    note(&format!("building the index of {} …", s.corpus.display()));
    CodeIndex::build(&s.corpus, index_dir, opts)
}

/// The backend of a run interrupted before its index was built. The runner starts no case
/// once interrupted, so it is never asked; were it asked, it says truthfully that there is
/// nothing to search.
struct NotBuilt;

impl SearchBackend for NotBuilt {
    fn name(&self) -> &str {
        "verity-engine (not built: interrupted)"
    }

    fn search(
        &self,
        _query: &verity_validation::BackendQuery<'_>,
        _deadline: &verity_core::Deadline,
    ) -> Result<verity_validation::BackendResponse, verity_validation::BackendError> {
        Err(verity_validation::BackendError::Unavailable(
            "the index was not built: the run was interrupted".into(),
        ))
    }
}

/// What the run needs to report about the index it built for the embedded engine.
struct BuiltIndex {
    files: usize,
    bytes: u64,
    build_ms: f64,
    chunks: Option<usize>,
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
