//! The summary printed at the end of `verity validate` and by `verity report show`.

use crate::model::{CaseReport, Outcome, Report, TypeSummary};

/// How many failing cases are listed (all are in the report files).
pub const MAX_LISTED: usize = 20;

/// A mean to 4 decimals, or `-` when nothing ran.
pub(crate) fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |x| format!("{x:.4}"))
}

/// A latency in ms to 2 decimals, or `-` when none was measured.
pub(crate) fn ms(c: &crate::model::Summary, v: f64) -> String {
    if c.measured == 0 {
        "-".to_string()
    } else {
        format!("{v:.2}")
    }
}

/// The per-type rows and the `all` row, as (label, figures).
pub(crate) fn table_rows(report: &Report) -> Vec<(String, TypeSummary)> {
    let mut rows: Vec<(String, TypeSummary)> = report
        .types_in_order()
        .into_iter()
        .map(|(t, s)| (t.name().to_string(), s.clone()))
        .collect();
    let all: Vec<&CaseReport> = report.cases.iter().collect();
    rows.push(("all".into(), TypeSummary::of(&all)));
    rows
}

pub(crate) fn headline(report: &Report) -> String {
    let env = &report.environment;
    let part = report
        .selection
        .partition
        .map(|p| format!(", partition {p}"))
        .unwrap_or_default();
    let merged = if report.sources.is_empty() {
        String::new()
    } else {
        format!(", merged from {} reports", report.sources.len())
    };
    format!(
        "{} cases of {} selected{part}{merged}; corpus {}, {} files; {} jobs; {:.2} s",
        report.cases.len(),
        report.selection.selected,
        env.corpus_path,
        env.corpus_files,
        report.settings.jobs,
        report.run.wall_time_ms / 1000.0
    )
}

/// The run in the seed design's terms, with the concurrency bound it held.
pub(crate) fn seed_line(report: &Report) -> String {
    let x = &report.run.seed;
    format!(
        "jobs: {} total, {} completed, {} failed; average {:.2} ms; peak {} concurrent (--jobs {}); {:.1}/s; {} retries",
        x.total_jobs,
        x.completed_jobs,
        x.failed_jobs,
        x.average_execution_time,
        x.peak_concurrent_jobs,
        report.settings.jobs,
        x.throughput_per_second,
        x.total_retries
    )
}

pub(crate) fn verdict(report: &Report) -> String {
    let s = &report.summary;
    let what = match report.outcome() {
        Outcome::Passed => "PASSED",
        Outcome::Failures => "FAILED",
        Outcome::Infrastructure => "ERROR",
        Outcome::Interrupted => "INTERRUPTED",
    };
    let mut parts = vec![format!("{} passed", s.passed)];
    for (n, label) in [
        (s.failed, "failed"),
        (s.errored, "errored"),
        (s.timed_out, "timed out"),
        (s.cancelled, "cancelled"),
        (s.unsupported, "unsupported"),
        (s.flaky, "flaky"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {label}"));
        }
    }
    let incomplete = match (report.complete, report.interrupted_during) {
        (true, _) => String::new(),
        (false, Some(phase)) => format!(" (incomplete, interrupted while {phase})"),
        (false, None) => " (incomplete)".into(),
    };
    format!(
        "{what}{incomplete}: {} of {} cases; exit code {}",
        parts.join(", "),
        s.total,
        report.outcome().exit_code()
    )
}

/// The plain-text summary.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    out.push_str(&format!("verity validate: {}\n\n", headline(report)));
    out.push_str(&format!(
        "{:<18} {:>7} {:>7} {:>7} {:>7} {:>9} {:>7} {:>7} {:>8} {:>8}\n",
        "query type",
        "cases",
        "passed",
        "failed",
        "errors",
        "precision",
        "recall",
        "F1",
        "p50 ms",
        "p95 ms"
    ));
    for (label, s) in table_rows(report) {
        let c = &s.counts;
        out.push_str(&format!(
            "{:<18} {:>7} {:>7} {:>7} {:>7} {:>9} {:>7} {:>7} {:>8} {:>8}\n",
            label,
            c.total,
            c.passed,
            c.failed,
            c.errored + c.timed_out,
            opt(s.precision),
            opt(s.recall),
            opt(s.f1),
            ms(c, c.p50_ms),
            ms(c, c.p95_ms)
        ));
    }
    let capabilities = report.capabilities();
    if !capabilities.is_empty() {
        out.push_str(&format!(
            "\ncapability of {} (unsupported cases are neither passed nor failed):\n{:<18} {:>7} {:>9} {:>7} {:>10}  first reason\n",
            report.environment.engine, "query type", "cases", "supported", "passed", "not passed"
        ));
        for r in &capabilities {
            out.push_str(&format!(
                "{:<18} {:>7} {:>9} {:>7} {:>10}  {}\n",
                r.query_type.name(),
                r.cases,
                r.supported,
                r.passed,
                r.not_passed,
                r.reason.as_deref().unwrap_or("")
            ));
        }
    }
    let problems: Vec<&CaseReport> = report.problems().collect();
    out.push('\n');
    if problems.is_empty() {
        out.push_str("failures: none\n");
    } else {
        out.push_str(&format!("failures ({}):\n", problems.len()));
        for c in problems.iter().take(MAX_LISTED) {
            out.push_str(&format!(
                "  {} ({}, {}) `{}`: {}\n",
                c.id,
                c.query_type,
                c.status,
                c.query,
                c.problem()
            ));
        }
        if problems.len() > MAX_LISTED {
            out.push_str(&format!(
                "  … and {} more (see the report files)\n",
                problems.len() - MAX_LISTED
            ));
        }
    }
    let missed: Vec<String> = report
        .thresholds
        .iter()
        .filter(|t| !t.met)
        .map(|t| {
            format!(
                "{} {:.2}% < {:.2}%",
                t.query_type, t.accuracy, t.min_accuracy
            )
        })
        .chain(report.recall_checks.iter().filter(|r| !r.met).map(|r| {
            format!(
                "{} mean recall@k {:.4} < {:.4}",
                r.query_type, r.mean_recall, r.min_recall
            )
        }))
        .collect();
    for r in &report.recall_checks {
        out.push_str(&format!(
            "{} answered approximately (HNSW) in {} cases: mean recall@k {:.4}, minimum {:.4}\n",
            r.query_type, r.approximate_cases, r.mean_recall, r.min_recall
        ));
    }
    if !report.repeats.is_empty() {
        out.push_str(&format!(
            "flaky under repetition ({} cases ended differently across their runs):\n",
            report.repeats.len()
        ));
        for r in report.repeats.iter().take(MAX_LISTED) {
            out.push_str(&format!(
                "  {} ({} runs): {}\n",
                r.id,
                r.runs,
                crate::model::outcome_counts(r)
            ));
        }
    }
    out.push_str(&seed_line(report));
    out.push('\n');
    if missed.is_empty() {
        out.push_str("thresholds: met\n");
    } else {
        out.push_str(&format!("thresholds missed: {}\n", missed.join(", ")));
    }
    out.push_str(&format!("{}\n", verdict(report)));
    out
}
