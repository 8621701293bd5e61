//! The report data model: what report.json holds (documented in docs/report-schema.md).
//!
//! Summaries are always *computed from the cases*, never stored separately from them and never
//! copied from elsewhere, so a report that has been merged or edited is re-summarised the same
//! way as a fresh one.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use verity_core::exit;
use verity_runner::stats::percentile;
use verity_runner::{Attempt, CancelReason, JobStatus, SeedStats};
use verity_validation::{QueryType, ValidationResult};

use crate::partition::Partition;

/// Version of the report.json format. Readers refuse other versions.
pub const REPORT_VERSION: u32 = 1;

/// A report that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The report file.
        path: PathBuf,
        /// Why reading failed.
        source: std::io::Error,
    },
    /// The file is not a report: bad JSON, or a field of the wrong shape.
    #[error("{path}:{line}:{column}: {message}")]
    Parse {
        /// The report file.
        path: PathBuf,
        /// 1-based line of the problem.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A report of another format version.
    #[error("{path}: report version {found} is not supported (this verity reads version {REPORT_VERSION})")]
    Version {
        /// The report file.
        path: PathBuf,
        /// The version it declares.
        found: u32,
    },
}

/// One validation run, or several partitions merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// The format version ([`REPORT_VERSION`]).
    pub report_version: u32,
    /// Every selected case ran to an outcome; false when the run was interrupted, stopped by
    /// `--fail-fast` / `--max-fail` / the global timeout, or a merge lacks partitions.
    pub complete: bool,
    /// Why the run stopped early, if it did.
    #[serde(default)]
    pub cancel_reason: Option<CancelReason>,
    /// The phase an interrupt (SIGINT, SIGTERM) stopped, when it came before or during the
    /// cases: the report of a run interrupted while its index was built has no case results.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted_during: Option<RunPhase>,
    /// When the run started (RFC 3339, UTC).
    pub created_at: String,
    /// Where and on what the run happened.
    pub environment: Environment,
    /// The settings it ran with.
    pub settings: RunSettings,
    /// Which cases it covers.
    pub selection: Selection,
    /// Counts and latencies over every case.
    pub summary: Summary,
    /// Per query type, in the order of [`QueryType::ALL`] (keys are type names).
    pub per_type: BTreeMap<String, TypeSummary>,
    /// Each query type's accuracy against its minimum.
    pub thresholds: Vec<ThresholdCheck>,
    /// Ranked types answered approximately (HNSW): mean recall@k against the minimum.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recall_checks: Vec<RecallCheck>,
    /// Under `--repeat N`: the cases whose runs ended differently, flaky by repetition.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub repeats: Vec<RepeatedCase>,
    /// Figures of the run itself: wall time, throughput, throttling, workers.
    pub run: RunFigures,
    /// The runs a merged report was made from (empty for a single run).
    #[serde(default)]
    pub sources: Vec<SourceRun>,
    /// Every case, in truth order.
    pub cases: Vec<CaseReport>,
}

/// The phases of a validation run, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RunPhase {
    /// Starting the backend and reading the corpus.
    Corpus,
    /// Loading or generating the ground truth.
    Truth,
    /// Building or updating the index.
    Index,
    /// Running the cases.
    Cases,
}

impl std::fmt::Display for RunPhase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RunPhase::Corpus => "reading the corpus",
            RunPhase::Truth => "computing the truth",
            RunPhase::Index => "building the index",
            RunPhase::Cases => "running the cases",
        })
    }
}

/// Where and on what the run happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Environment {
    /// The version of the `verity` that ran.
    pub verity_version: String,
    /// The backend validated (`verity-engine 0.1.0`).
    pub engine: String,
    /// The corpus directory, as given.
    pub corpus_path: String,
    /// `sha256:` fingerprint of the corpus as the oracle reads it.
    pub corpus_fingerprint: String,
    /// Files in the corpus, as the oracle reads it.
    pub corpus_files: usize,
    /// The truth file, or none when the truth was generated for this run.
    pub truth_path: Option<String>,
    /// `sha256:` fingerprint of all truth cases (before filters and partitions).
    pub truth_fingerprint: String,
    /// Generator seed and case count when the truth was generated.
    pub truth_generator: Option<String>,
    /// The index directory, when one was given (else a temporary one was used).
    pub index_path: Option<String>,
    /// The index format version and the walk rules it was built with.
    pub index_settings: String,
    /// Files the index holds.
    pub index_files: usize,
    /// The index's size on disk.
    pub index_bytes: u64,
    /// Time spent building or updating the index in this run.
    pub index_build_ms: f64,
    /// Operating system (`linux`).
    pub os: String,
    /// CPU architecture (`x86_64`).
    pub arch: String,
    /// Logical CPUs.
    pub cpus: usize,
    /// Physical memory.
    pub memory_bytes: u64,
    /// The machine's name, which tells partitions run on different machines apart.
    pub hostname: String,
}

/// The settings the run used (after config file, profile and flags).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    /// The config profile (`default` unless `--profile`).
    pub profile: String,
    /// Cases run at once (`--jobs`).
    pub jobs: usize,
    /// Per-attempt timeout.
    pub timeout_seconds: f64,
    /// Retries after an error.
    pub retries: u32,
    /// The run stops at the first failure.
    pub fail_fast: bool,
    /// The run stops after this many failures.
    pub max_fail: Option<usize>,
    /// Minimum accuracy (percent of cases passed) per query type name.
    pub min_accuracy: BTreeMap<String, f64>,
    /// Minimum mean recall@k of a ranked type whose cases were answered approximately.
    #[serde(default = "default_min_recall")]
    pub min_recall: f64,
    /// How the engine's vector searches found chunks (`exact`, `hnsw`, `auto`); none for
    /// other backends or runs without vectors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector_search: Option<String>,
    /// Query types selected (empty: all).
    pub types: Vec<String>,
    /// Tags selected (empty: all); a case is selected when it has any of them.
    pub tags: Vec<String>,
}

/// Which cases this report covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// Cases in the truth.
    pub truth_cases: usize,
    /// Cases left after the type and tag filters (all partitions together).
    pub selected: usize,
    /// This report's share, when the run was partitioned.
    pub partition: Option<Partition>,
    /// With `--history`: the time this report's cases were expected to take (the sum of their
    /// previous durations), to compare with what they took (`run.worker_busy_ms`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_ms: Option<f64>,
}

/// Counts and latencies over cases.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// total = passed + failed + errored + timed_out + cancelled + unsupported.
    pub total: usize,
    /// Answered correctly.
    pub passed: usize,
    /// Answered wrongly.
    pub failed: usize,
    /// Could not be answered (the last attempt ended in an error).
    pub errored: usize,
    /// The last attempt ran past its timeout.
    pub timed_out: usize,
    /// Never ran to an outcome: the run stopped first.
    pub cancelled: usize,
    /// Cases the backend cannot express (its query language has no such query): neither
    /// passed nor failed.
    #[serde(default)]
    pub unsupported: usize,
    /// Passed after an error (a subset of `passed`).
    pub flaky: usize,
    /// Attempts beyond the first, over all cases.
    pub retries: usize,
    /// Cases with a measured search latency (those that ran to a verdict).
    pub measured: usize,
    /// Search latency (as measured by the validator) over those cases, nearest rank; 0 when
    /// none was measured.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// The slowest.
    pub max_ms: f64,
}

/// A query type's figures. Precision, recall and F1 are means over the cases that ran (none
/// when no case of the type ran).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TypeSummary {
    /// Counts and latencies over the type's cases.
    #[serde(flatten)]
    pub counts: Summary,
    /// Percent of the type's supported cases that passed (unsupported cases are not counted
    /// either way).
    pub accuracy: f64,
    /// Mean precision.
    pub precision: Option<f64>,
    /// Mean recall (recall@k for ranked types).
    pub recall: Option<f64>,
    /// Mean F1.
    pub f1: Option<f64>,
    /// Mean nDCG@k over ranked cases, when the type is ranked.
    pub ndcg: Option<f64>,
}

/// The default minimum mean recall@k of approximately answered types (ann-benchmarks'
/// usual bar for a good index).
pub const DEFAULT_MIN_RECALL: f64 = 0.99;

fn default_min_recall() -> f64 {
    DEFAULT_MIN_RECALL
}

/// Whether a ranked query type answered approximately met the minimum mean recall@k.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecallCheck {
    /// The query type's name.
    pub query_type: String,
    /// Cases of the type answered approximately.
    pub approximate_cases: usize,
    /// Mean recall@k over every case of the type that ran (near-tie rule, ann-benchmarks).
    pub mean_recall: f64,
    /// The minimum (`--min-recall`).
    pub min_recall: f64,
    /// `mean_recall` reached `min_recall`.
    pub met: bool,
}

/// Whether a query type met its minimum accuracy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdCheck {
    /// The query type's name.
    pub query_type: String,
    /// The minimum percentage of supported cases that must pass (`--min-accuracy`).
    pub min_accuracy: f64,
    /// The percentage that passed.
    pub accuracy: f64,
    /// `accuracy` reached `min_accuracy`.
    pub met: bool,
}

/// Figures of the run itself (from the execution engine).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunFigures {
    /// Wall time; for a merged report, the longest of its sources (they run side by side).
    pub wall_time_ms: f64,
    /// Cases that ran (all but the cancelled) per second of wall time.
    pub throughput: f64,
    /// Times the resource monitor lowered the concurrency (CPU or memory pressure).
    pub throttle_events: usize,
    /// The lowest concurrency the monitor set.
    pub min_concurrency: usize,
    /// Per worker, the time it spent running cases: how evenly the load was spread.
    pub worker_busy_ms: Vec<f64>,
    /// Attempts that timed out and were left to finish in the background (a search that
    /// cannot be interrupted); their results are discarded.
    pub abandoned_attempts: usize,
    /// The most cases whose validation ran at the same moment (measured on the executors);
    /// within `settings.jobs` when the bound held. For a merged report, the sum of its
    /// sources' peaks (they run side by side).
    #[serde(default)]
    pub peak_concurrency: usize,
    /// The run's statistics under the seed design's names (`total_jobs`, `completed_jobs`,
    /// `failed_jobs`, `average_execution_time`, `peak_concurrent_jobs`,
    /// `throughput_per_second`, `total_retries`), computed from the cases by `summarise`.
    #[serde(default)]
    pub seed: SeedStats,
}

/// What separates a case's id from its repetition number under `--repeat` (`special-0001~2`).
pub const REPEAT_MARK: char = '~';

/// A case id without its repetition number.
pub fn base_id(id: &str) -> &str {
    match id.rsplit_once(REPEAT_MARK) {
        Some((base, k)) if !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) => base,
        _ => id,
    }
}

/// A case run several times (`--repeat`) whose runs did not all end the same way.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepeatedCase {
    /// The case's id, without the repetition number.
    pub id: String,
    /// How many times it ran.
    pub runs: usize,
    /// How many runs ended in each status (`passed`, `failed`, …).
    pub outcomes: BTreeMap<String, usize>,
}

/// One input of a merged report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRun {
    /// The report file it was read from.
    pub file: String,
    /// Its share of the cases.
    pub partition: Option<Partition>,
    /// Cases it holds.
    pub cases: usize,
    /// It ran every case of its share.
    pub complete: bool,
    /// Its wall time.
    pub wall_time_ms: f64,
    /// The share's expected duration (`selection.expected_ms` of the source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_ms: Option<f64>,
    /// The machine it ran on.
    pub hostname: String,
}

/// One case: what was asked, what was expected, and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseReport {
    /// The case's id (with `~N` under `--repeat`).
    pub id: String,
    /// Position among the selected cases (before partitioning): the report order.
    pub ordinal: usize,
    /// The query, as the truth states it.
    pub query: String,
    /// The query type.
    pub query_type: QueryType,
    /// The scheduling priority it ran with.
    pub priority: String,
    /// The case's tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// How it ended.
    pub status: JobStatus,
    /// It passed only after an error (a retry).
    pub flaky: bool,
    /// Attempts beyond the first.
    pub retries: u32,
    /// Every attempt, in order, with its outcome and duration.
    pub attempts: Vec<Attempt>,
    /// Sum of attempt durations.
    pub duration_ms: f64,
    /// The worker that ran its last attempt.
    pub worker: Option<usize>,
    /// Why a case errored, timed out or panicked.
    pub message: Option<String>,
    /// Judged files and grades from the truth (the qrels of this case).
    pub judgments: BTreeMap<String, u32>,
    /// The validator's verdict of the last attempt that ran to one.
    pub result: Option<ValidationResult>,
}

impl CaseReport {
    /// Search latency of the case, when it ran.
    pub fn latency_ms(&self) -> Option<f64> {
        self.result.as_ref().map(|r| r.latency_ms)
    }

    /// One line on what went wrong, for summaries.
    pub fn problem(&self) -> String {
        match (&self.status, &self.result) {
            (JobStatus::Failed, Some(r)) => {
                let mut s = r.failure_reasons.join("; ");
                if !r.missing_files.is_empty() {
                    s.push_str(&format!("; missing: {}", r.missing_files.join(", ")));
                }
                if !r.unexpected_files.is_empty() {
                    s.push_str(&format!("; unexpected: {}", r.unexpected_files.join(", ")));
                }
                s
            }
            _ => self
                .message
                .clone()
                .unwrap_or_else(|| self.status.to_string()),
        }
    }
}

/// What a report says about the run as a whole; the exit code follows from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every case ran and every threshold is met.
    Passed,
    /// A threshold is missed and some case gave a wrong answer.
    Failures,
    /// A threshold is missed only because cases errored or timed out: the backend could not
    /// answer, so nothing is known about its correctness.
    Infrastructure,
    /// The run was interrupted (Ctrl-C); the report is partial.
    Interrupted,
}

impl Outcome {
    /// The documented exit code (docs/ci.md).
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Passed => exit::SUCCESS,
            Outcome::Failures => exit::NO,
            Outcome::Infrastructure => exit::INTERNAL_ERROR,
            Outcome::Interrupted => exit::INTERRUPTED,
        }
    }
}

fn mean(v: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    (n > 0).then(|| sum / n as f64)
}

impl Summary {
    /// Counts and latency percentiles over `cases`.
    pub fn of<'a>(cases: impl IntoIterator<Item = &'a CaseReport>) -> Summary {
        let mut s = Summary::default();
        let mut lat = Vec::new();
        for c in cases {
            s.total += 1;
            match c.status {
                JobStatus::Passed => s.passed += 1,
                JobStatus::Failed => s.failed += 1,
                JobStatus::Errored => s.errored += 1,
                JobStatus::TimedOut => s.timed_out += 1,
                JobStatus::Cancelled => s.cancelled += 1,
                JobStatus::Unsupported => s.unsupported += 1,
            }
            s.flaky += usize::from(c.flaky);
            s.retries += c.retries as usize;
            lat.extend(c.latency_ms());
        }
        lat.sort_by(f64::total_cmp);
        s.measured = lat.len();
        s.p50_ms = percentile(&lat, 50.0);
        s.p95_ms = percentile(&lat, 95.0);
        s.p99_ms = percentile(&lat, 99.0);
        s.max_ms = lat.last().copied().unwrap_or(0.0);
        s
    }
}

/// `outcomes` of a repeated case as `3 passed, 1 failed`.
pub fn outcome_counts(r: &RepeatedCase) -> String {
    r.outcomes
        .iter()
        .map(|(k, n)| format!("{n} {}", k.replace('_', " ")))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Summary {
    /// Cases the backend can express: all but the unsupported ones.
    pub fn supported(&self) -> usize {
        self.total - self.unsupported
    }
}

/// One row of the capability matrix: what a backend can express of a query type, and how it
/// did on what it could.
#[derive(Debug, Clone, PartialEq)]
pub struct CapabilityRow {
    /// The query type.
    pub query_type: QueryType,
    /// Cases of the type.
    pub cases: usize,
    /// Of those, the ones the backend can express.
    pub supported: usize,
    /// Of those, the ones that passed.
    pub passed: usize,
    /// Failed, errored or timed out.
    pub not_passed: usize,
    /// Why the first unsupported case of the type was not run.
    pub reason: Option<String>,
}

impl TypeSummary {
    /// The figures of `cases` (all of one type).
    pub fn of(cases: &[&CaseReport]) -> TypeSummary {
        let counts = Summary::of(cases.iter().copied());
        let results: Vec<&ValidationResult> =
            cases.iter().filter_map(|c| c.result.as_ref()).collect();
        let ranked: Vec<f64> = results
            .iter()
            .filter_map(|r| r.ranking.map(|m| m.ndcg_at_k))
            .collect();
        TypeSummary {
            accuracy: if counts.supported() == 0 {
                0.0
            } else {
                100.0 * counts.passed as f64 / counts.supported() as f64
            },
            precision: mean(results.iter().map(|r| r.precision)),
            recall: mean(results.iter().map(|r| r.recall)),
            f1: mean(results.iter().map(|r| r.f1)),
            ndcg: mean(ranked.into_iter()),
            counts,
        }
    }
}

impl Report {
    /// Recomputes the summary, the per-type figures and the threshold checks from the cases
    /// and `settings.min_accuracy`.
    pub fn summarise(&mut self) {
        self.cases.sort_by_key(|c| c.ordinal);
        self.summary = Summary::of(&self.cases);
        let ended: Vec<f64> = self
            .cases
            .iter()
            .filter(|c| !matches!(c.status, JobStatus::Cancelled | JobStatus::Unsupported))
            .map(|c| c.duration_ms)
            .collect();
        let s = &self.summary;
        self.run.seed = SeedStats {
            total_jobs: s.total,
            completed_jobs: ended.len(),
            failed_jobs: s.failed + s.errored + s.timed_out,
            average_execution_time: if ended.is_empty() {
                0.0
            } else {
                ended.iter().sum::<f64>() / ended.len() as f64
            },
            peak_concurrent_jobs: self.run.peak_concurrency,
            throughput_per_second: if self.run.wall_time_ms > 0.0 {
                ended.len() as f64 / (self.run.wall_time_ms / 1000.0)
            } else {
                0.0
            },
            total_retries: s.retries,
        };
        let mut by_type: BTreeMap<QueryType, Vec<&CaseReport>> = BTreeMap::new();
        for c in &self.cases {
            by_type.entry(c.query_type).or_default().push(c);
        }
        let mut runs: BTreeMap<&str, Vec<JobStatus>> = BTreeMap::new();
        for c in &self.cases {
            if base_id(&c.id) != c.id {
                runs.entry(base_id(&c.id)).or_default().push(c.status);
            }
        }
        self.repeats = runs
            .into_iter()
            .filter(|(_, s)| s.iter().any(|x| *x != s[0]))
            .map(|(id, s)| {
                let mut outcomes = BTreeMap::new();
                for x in &s {
                    // The status as report.json spells it (`timed_out`).
                    let name = serde_json::to_value(x)
                        .ok()
                        .and_then(|v| v.as_str().map(str::to_string))
                        .unwrap_or_else(|| x.to_string());
                    *outcomes.entry(name).or_insert(0) += 1;
                }
                RepeatedCase {
                    id: id.to_string(),
                    runs: s.len(),
                    outcomes,
                }
            })
            .collect();
        self.per_type = by_type
            .iter()
            .map(|(t, cases)| (t.name().to_string(), TypeSummary::of(cases)))
            .collect();
        self.thresholds = by_type
            .keys()
            // A type the backend cannot express at all has no accuracy to hold to a bar; the
            // capability matrix shows it.
            .filter(|t| self.per_type[t.name()].counts.supported() > 0)
            .filter_map(|t| {
                let min = *self.settings.min_accuracy.get(t.name())?;
                let accuracy = self.per_type[t.name()].accuracy;
                Some(ThresholdCheck {
                    query_type: t.name().to_string(),
                    min_accuracy: min,
                    accuracy,
                    // Accuracy is a ratio of counts: compare with a hair of tolerance so that
                    // 100 * 3/3 never falls short of 100 by rounding.
                    met: accuracy + 1e-9 >= min,
                })
            })
            .collect();
        let min_recall = self.settings.min_recall;
        self.recall_checks = by_type
            .iter()
            .filter(|(t, _)| t.is_ranked())
            .filter_map(|(t, cases)| {
                let approximate_cases = cases
                    .iter()
                    .filter(|c| c.result.as_ref().is_some_and(|r| r.approximate))
                    .count();
                if approximate_cases == 0 {
                    // Exact answers are judged case by case.
                    return None;
                }
                // The type's mean recall over the cases that ran (a ranked case's recall is its
                // recall@k), as the per-type summary already computed it.
                let mean_recall = self.per_type[t.name()].recall.unwrap_or(0.0);
                Some(RecallCheck {
                    query_type: t.name().to_string(),
                    approximate_cases,
                    mean_recall,
                    min_recall,
                    met: mean_recall + 1e-9 >= min_recall,
                })
            })
            .collect();
    }

    /// Every threshold (accuracy per type, mean recall of approximate types) is met.
    pub fn thresholds_met(&self) -> bool {
        self.thresholds.iter().all(|t| t.met) && self.recall_checks.iter().all(|r| r.met)
    }

    /// The per-type entries in report order ([`QueryType::ALL`]).
    pub fn types_in_order(&self) -> Vec<(QueryType, &TypeSummary)> {
        QueryType::ALL
            .iter()
            .filter_map(|t| self.per_type.get(t.name()).map(|s| (*t, s)))
            .collect()
    }

    /// Cases that did not pass (cancelled and unsupported ones excepted), in report order.
    pub fn problems(&self) -> impl Iterator<Item = &CaseReport> {
        self.cases.iter().filter(|c| {
            !matches!(
                c.status,
                JobStatus::Passed | JobStatus::Cancelled | JobStatus::Unsupported
            )
        })
    }

    /// The capability matrix, one row per query type in report order; empty when the backend
    /// supported every case (the per-type table says it all then).
    pub fn capabilities(&self) -> Vec<CapabilityRow> {
        if self.summary.unsupported == 0 {
            return Vec::new();
        }
        self.types_in_order()
            .into_iter()
            .map(|(t, s)| {
                let c = &s.counts;
                CapabilityRow {
                    query_type: t,
                    cases: c.total,
                    supported: c.supported(),
                    passed: c.passed,
                    not_passed: c.failed + c.errored + c.timed_out,
                    reason: self
                        .cases
                        .iter()
                        .find(|x| x.query_type == t && x.status == JobStatus::Unsupported)
                        .and_then(|x| x.message.clone()),
                }
            })
            .collect()
    }

    /// What the run amounts to, as `verity validate`'s exit code says it: passed, failures
    /// (wrong answers or unmet thresholds), infrastructure (errors, an unavailable executor)
    /// or interrupted.
    pub fn outcome(&self) -> Outcome {
        match self.cancel_reason {
            Some(CancelReason::Interrupt) => return Outcome::Interrupted,
            Some(CancelReason::ExecutorUnavailable) => return Outcome::Infrastructure,
            _ => {}
        }
        if self.thresholds_met() {
            Outcome::Passed
        } else if self.summary.failed > 0 || self.recall_checks.iter().any(|r| !r.met) {
            Outcome::Failures
        } else if self.summary.errored + self.summary.timed_out > 0 {
            Outcome::Infrastructure
        } else {
            // Missed because cases never ran (a global timeout): not a pass.
            Outcome::Failures
        }
    }

    /// Reads a report, checking its version.
    pub fn load(path: &Path) -> Result<Report, ReportError> {
        let text = std::fs::read_to_string(path).map_err(|source| ReportError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Report::parse(&text, path)
    }

    /// Parses report JSON read from `path` (named in errors), checking its version first.
    pub fn parse(text: &str, path: &Path) -> Result<Report, ReportError> {
        // Read the version first, so an old or future report gets a clear message rather than
        // a complaint about some field.
        #[derive(Deserialize)]
        struct Versioned {
            report_version: u32,
        }
        let parse_error = |e: serde_json::Error| ReportError::Parse {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        let v: Versioned = serde_json::from_str(text).map_err(parse_error)?;
        if v.report_version != REPORT_VERSION {
            return Err(ReportError::Version {
                path: path.to_path_buf(),
                found: v.report_version,
            });
        }
        serde_json::from_str(text).map_err(parse_error)
    }

    /// Expected duration per case id, for `--history`: the last attempt's duration.
    pub fn durations(&self) -> std::collections::HashMap<String, f64> {
        self.cases
            .iter()
            .filter_map(|c| c.attempts.last().map(|a| (c.id.clone(), a.duration_ms)))
            .collect()
    }
}
