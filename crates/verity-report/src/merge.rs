//! Recombining the reports of a partitioned run.
//!
//! Merging refuses reports that cannot belong to one run (different truth, corpus, filters or
//! partition counts). Gaps and overlaps — a partition missing, a partition or case twice — do
//! not stop the merge: the merged report is written, marked incomplete, and the problems are
//! listed, so that what did run is never lost.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use crate::model::{Report, RunFigures, SourceRun};

/// Reports that cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// No report was given.
    #[error("nothing to merge")]
    Empty,
    /// A report is of another run: another corpus, truth, selection or backend.
    #[error("{file}: {what} differs from {first}'s ({theirs} vs {ours})")]
    Mismatch {
        /// The report that differs.
        file: String,
        /// The first report, which the others are compared with.
        first: String,
        /// What differs (`corpus fingerprint`, `truth fingerprint`, …).
        what: &'static str,
        /// The first report's value.
        ours: String,
        /// This report's value.
        theirs: String,
    },
}

/// Gaps and overlaps found while merging.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MergeProblems {
    /// Partitions (1-based) no report covers.
    pub missing_partitions: Vec<usize>,
    /// Partitions covered by more than one report.
    pub duplicate_partitions: Vec<usize>,
    /// Case ids found in more than one report (the first report's result is kept).
    pub duplicate_cases: Vec<String>,
    /// Selected cases not in any report.
    pub missing_cases: usize,
}

impl MergeProblems {
    /// No gap and no overlap: the merged report covers every selected case once.
    pub fn is_empty(&self) -> bool {
        *self == MergeProblems::default()
    }

    /// One line per problem.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        let list = |v: &[usize]| {
            v.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !self.missing_partitions.is_empty() {
            out.push(format!(
                "missing partitions: {}",
                list(&self.missing_partitions)
            ));
        }
        if !self.duplicate_partitions.is_empty() {
            out.push(format!(
                "partitions given more than once: {}",
                list(&self.duplicate_partitions)
            ));
        }
        if !self.duplicate_cases.is_empty() {
            let shown: Vec<&str> = self
                .duplicate_cases
                .iter()
                .take(10)
                .map(String::as_str)
                .collect();
            out.push(format!(
                "{} cases in more than one report (first kept): {}{}",
                self.duplicate_cases.len(),
                shown.join(", "),
                if self.duplicate_cases.len() > 10 {
                    ", …"
                } else {
                    ""
                }
            ));
        }
        if self.missing_cases > 0 {
            out.push(format!(
                "{} selected cases are in no report",
                self.missing_cases
            ));
        }
        out
    }
}

/// Merges `reports` (with the files they came from) into one report.
pub fn merge(reports: Vec<(PathBuf, Report)>) -> Result<(Report, MergeProblems), MergeError> {
    let Some((first_path, first)) = reports.first() else {
        return Err(MergeError::Empty);
    };
    let first_name = first_path.display().to_string();
    for (path, r) in &reports[1..] {
        let checks: [(&'static str, String, String); 6] = [
            (
                "truth fingerprint",
                first.environment.truth_fingerprint.clone(),
                r.environment.truth_fingerprint.clone(),
            ),
            (
                "corpus fingerprint",
                first.environment.corpus_fingerprint.clone(),
                r.environment.corpus_fingerprint.clone(),
            ),
            (
                "selected case count",
                first.selection.selected.to_string(),
                r.selection.selected.to_string(),
            ),
            (
                "query type filter",
                first.settings.types.join(","),
                r.settings.types.join(","),
            ),
            (
                "tag filter",
                first.settings.tags.join(","),
                r.settings.tags.join(","),
            ),
            ("partitioning", scheme_of(first), scheme_of(r)),
        ];
        for (what, ours, theirs) in checks {
            if ours != theirs {
                return Err(MergeError::Mismatch {
                    file: path.display().to_string(),
                    first: first_name.clone(),
                    what,
                    ours,
                    theirs,
                });
            }
        }
    }

    let mut problems = MergeProblems::default();
    if let Some(p) = first.selection.partition {
        let mut seen: BTreeMap<usize, usize> = BTreeMap::new();
        for (_, r) in &reports {
            if let Some(q) = r.selection.partition {
                *seen.entry(q.index).or_default() += 1;
            }
        }
        problems.missing_partitions = (1..=p.count).filter(|i| !seen.contains_key(i)).collect();
        problems.duplicate_partitions = seen
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(i, _)| *i)
            .collect();
    }

    let mut merged = first.clone();
    merged.sources = Vec::new();
    merged.cases = Vec::new();
    merged.selection.partition = None;
    let mut ids = BTreeSet::new();
    let mut dup = BTreeSet::new();
    let mut run = RunFigures {
        min_concurrency: usize::MAX,
        ..RunFigures::default()
    };
    let mut complete = true;
    for (path, r) in reports {
        complete &= r.complete;
        merged.cancel_reason = merged.cancel_reason.max(r.cancel_reason);
        // The earliest phase any partition was interrupted in.
        merged.interrupted_during = match (merged.interrupted_during, r.interrupted_during) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        run.wall_time_ms = run.wall_time_ms.max(r.run.wall_time_ms);
        run.throttle_events += r.run.throttle_events;
        run.min_concurrency = run.min_concurrency.min(r.run.min_concurrency);
        run.worker_busy_ms.extend(&r.run.worker_busy_ms);
        run.abandoned_attempts += r.run.abandoned_attempts;
        // Partitions run side by side, so their peaks add up.
        run.peak_concurrency += r.run.peak_concurrency;
        // A merged report's sources are the original runs, however deep the merging went.
        if r.sources.is_empty() {
            merged.sources.push(SourceRun {
                file: path.display().to_string(),
                partition: r.selection.partition,
                cases: r.cases.len(),
                complete: r.complete,
                wall_time_ms: r.run.wall_time_ms,
                expected_ms: r.selection.expected_ms,
                hostname: r.environment.hostname.clone(),
            });
        } else {
            merged.sources.extend(r.sources.iter().cloned());
        }
        for c in r.cases {
            if ids.insert(c.id.clone()) {
                merged.cases.push(c);
            } else {
                dup.insert(c.id);
            }
        }
    }
    if run.min_concurrency == usize::MAX {
        run.min_concurrency = 0;
    }
    problems.duplicate_cases = dup.into_iter().collect();
    problems.missing_cases = merged.selection.selected.saturating_sub(merged.cases.len());
    let ran = merged
        .cases
        .iter()
        .filter(|c| c.status != verity_runner::JobStatus::Cancelled)
        .count();
    run.throughput = ran as f64 / (run.wall_time_ms / 1000.0).max(1e-9);
    merged.run = run;
    merged.complete = complete && problems.is_empty();
    merged.summarise();
    Ok((merged, problems))
}

fn scheme_of(r: &Report) -> String {
    match r.selection.partition {
        Some(p) => format!("{:?} into {}", p.scheme, p.count).to_lowercase(),
        None => "none".into(),
    }
}
