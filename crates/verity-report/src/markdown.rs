//! report.md: the summary as GitHub-flavoured Markdown (for job summaries and pull requests).

use crate::model::{CaseReport, Report};
use crate::terminal::{headline, ms, opt, table_rows, verdict, MAX_LISTED};

/// Escapes text for a Markdown table cell.
fn cell(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('`', "\\`")
        .replace('\n', " ")
}

/// The report as Markdown (report.md), for a CI job summary or a pull request comment.
pub fn render(report: &Report) -> String {
    let env = &report.environment;
    let mut out = String::new();
    out.push_str("# Verity validation report\n\n");
    out.push_str(&format!("**{}**\n\n", verdict(report)));
    out.push_str(&format!("{}\n\n", headline(report)));
    out.push_str("| query type | cases | passed | failed | errors | accuracy | precision | recall | F1 | p50 ms | p95 ms |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (label, s) in table_rows(report) {
        let c = &s.counts;
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {:.2}% | {} | {} | {} | {} | {} |\n",
            label,
            c.total,
            c.passed,
            c.failed,
            c.errored + c.timed_out,
            s.accuracy,
            opt(s.precision),
            opt(s.recall),
            opt(s.f1),
            ms(c, c.p50_ms),
            ms(c, c.p95_ms)
        ));
    }
    out.push('\n');
    let capabilities = report.capabilities();
    if !capabilities.is_empty() {
        out.push_str(&format!(
            "## Capability of {}\n\nUnsupported cases are neither passed nor failed.\n\n| query type | cases | supported | passed | not passed | first reason |\n|---|---:|---:|---:|---:|---|\n",
            cell(&report.environment.engine)
        ));
        for r in &capabilities {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                r.query_type.name(),
                r.cases,
                r.supported,
                r.passed,
                r.not_passed,
                cell(r.reason.as_deref().unwrap_or(""))
            ));
        }
        out.push('\n');
    }
    let problems: Vec<&CaseReport> = report.problems().collect();
    if problems.is_empty() {
        out.push_str("## Failures\n\nNone.\n\n");
    } else {
        out.push_str(&format!("## Failures ({})\n\n", problems.len()));
        out.push_str("| case | type | status | query | problem |\n|---|---|---|---|---|\n");
        for c in problems.iter().take(MAX_LISTED * 5) {
            out.push_str(&format!(
                "| {} | {} | {} | `` {} `` | {} |\n",
                cell(&c.id),
                c.query_type,
                c.status,
                c.query.replace('|', "\\|").replace('\n', " "),
                cell(&c.problem())
            ));
        }
        if problems.len() > MAX_LISTED * 5 {
            out.push_str(&format!(
                "\n… and {} more: see report.json.\n",
                problems.len() - MAX_LISTED * 5
            ));
        }
        out.push('\n');
    }
    if !report.thresholds.is_empty() {
        out.push_str(
            "## Thresholds\n\n| query type | accuracy | minimum | met |\n|---|---:|---:|---|\n",
        );
        for t in &report.thresholds {
            out.push_str(&format!(
                "| {} | {:.2}% | {:.2}% | {} |\n",
                t.query_type,
                t.accuracy,
                t.min_accuracy,
                if t.met { "yes" } else { "**no**" }
            ));
        }
        out.push('\n');
    }
    if !report.recall_checks.is_empty() {
        out.push_str("## Approximate search\n\nRanked cases answered from the HNSW graph pass unless wrong in a way no approximation explains; their type is held to a minimum mean recall@k.\n\n| query type | approximate cases | mean recall@k | minimum | met |\n|---|---:|---:|---:|---|\n");
        for r in &report.recall_checks {
            out.push_str(&format!(
                "| {} | {} | {:.4} | {:.4} | {} |\n",
                r.query_type,
                r.approximate_cases,
                r.mean_recall,
                r.min_recall,
                if r.met { "yes" } else { "**no**" }
            ));
        }
        out.push('\n');
    }
    if !report.repeats.is_empty() {
        out.push_str(&format!(
            "## Flaky under repetition ({})\n\nCases whose runs under `--repeat` ended differently.\n\n| case | runs | outcomes |\n|---|---:|---|\n",
            report.repeats.len()
        ));
        for r in &report.repeats {
            out.push_str(&format!(
                "| {} | {} | {} |\n",
                cell(&r.id),
                r.runs,
                crate::model::outcome_counts(r)
            ));
        }
        out.push('\n');
    }
    let s = &report.summary;
    out.push_str("## Run\n\n");
    out.push_str(&format!(
        "- latency p50 / p95 / p99 / max: {:.2} / {:.2} / {:.2} / {:.2} ms\n",
        s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms
    ));
    out.push_str(&format!(
        "- retries: {}, flaky: {}, throttle events: {}\n",
        s.retries, s.flaky, report.run.throttle_events
    ));
    out.push_str(&format!(
        "- throughput: {:.1} cases/s over {:.2} s\n",
        report.run.throughput,
        report.run.wall_time_ms / 1000.0
    ));
    out.push_str(&format!("- {}\n", crate::terminal::seed_line(report)));
    out.push_str(&format!(
        "- corpus fingerprint: `{}`\n- truth fingerprint: `{}`\n",
        env.corpus_fingerprint, env.truth_fingerprint
    ));
    out.push_str(&format!(
        "- engine: {}; verity {}; {} / {}, {} CPUs\n",
        env.engine, env.verity_version, env.os, env.arch, env.cpus
    ));
    if !report.sources.is_empty() {
        out.push_str("\n## Merged from\n\n| report | partition | cases | complete | wall s | host |\n|---|---|---:|---|---:|---|\n");
        for src in &report.sources {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {:.2} | {} |\n",
                cell(&src.file),
                src.partition
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "-".into()),
                src.cases,
                if src.complete { "yes" } else { "no" },
                src.wall_time_ms / 1000.0,
                cell(&src.hostname)
            ));
        }
    }
    out
}
