//! report.html: a self-contained page (inline CSS and SVG, no scripts, nothing fetched) with
//! the summary table, accuracy and latency charts per query type, the failures and the
//! environment. It is well-formed XML (XHTML syntax), which the tests check with a parser.

use std::fmt::Write;

use crate::model::{CaseReport, Report};
use crate::svg::{accuracy_bars, escape, latency_boxes};
use crate::terminal::{headline, ms, opt, table_rows, verdict};

const STYLE: &str = "body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}\
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:3px 8px}\
td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}\
.pass{color:#2e7d32}.fail{color:#c62828}code{background:#f6f6f6;padding:0 3px}\
svg .lbl,svg .val,svg .tick{font:12px sans-serif;fill:#333}svg .grid{stroke:#ddd}\
svg .whisker{stroke:#555}svg .box{fill:#90caf9;stroke:#1565c0}svg .median{stroke:#0d47a1;stroke-width:2}\
svg .max{fill:#c62828}details{margin:.3em 0}pre{white-space:pre-wrap;margin:.3em 0}";

/// Failing cases shown in full (the rest are counted; all are in report.json).
const MAX_SHOWN: usize = 500;

/// The report as one self-contained HTML page (report.html): summary, per-type table,
/// charts, failing cases; no external resources.
pub fn render(report: &Report) -> String {
    let mut h = String::new();
    let ok = report.outcome() == crate::model::Outcome::Passed;
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\"><head><meta charset=\"utf-8\"/><title>Verity validation report</title><style>{STYLE}</style></head><body>\n"
    );
    let _ = write!(
        h,
        "<h1>Verity validation report</h1>\n<p class=\"{}\"><strong>{}</strong></p>\n<p>{}</p>\n",
        if ok { "pass" } else { "fail" },
        escape(&verdict(report)),
        escape(&headline(report))
    );

    h.push_str("<table><thead><tr><th>query type</th><th>cases</th><th>passed</th><th>failed</th><th>errors</th><th>accuracy</th><th>precision</th><th>recall</th><th>F1</th><th>p50 ms</th><th>p95 ms</th></tr></thead><tbody>\n");
    for (label, s) in table_rows(report) {
        let c = &s.counts;
        let _ = writeln!(
            h,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:.2}%</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&label),
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
        );
    }
    h.push_str("</tbody></table>\n");
    let capabilities = report.capabilities();
    if !capabilities.is_empty() {
        let _ = writeln!(
            h,
            "<h2>Capability of {}</h2>\n<p>Unsupported cases are neither passed nor failed.</p>\n<table><thead><tr><th>query type</th><th>cases</th><th>supported</th><th>passed</th><th>not passed</th><th>first reason</th></tr></thead><tbody>",
            escape(&report.environment.engine)
        );
        for r in &capabilities {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                r.query_type.name(),
                r.cases,
                r.supported,
                r.passed,
                r.not_passed,
                escape(r.reason.as_deref().unwrap_or(""))
            );
        }
        h.push_str("</tbody></table>\n");
    }
    if !report.recall_checks.is_empty() {
        h.push_str("<h2>Approximate search</h2>\n<p>Ranked cases answered from the HNSW graph pass unless wrong in a way no approximation explains; their type is held to a minimum mean recall@k.</p>\n<table><thead><tr><th>query type</th><th>approximate cases</th><th>mean recall@k</th><th>minimum</th><th>met</th></tr></thead><tbody>\n");
        for r in &report.recall_checks {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{:.4}</td><td class=\"n\">{:.4}</td><td class=\"{}\">{}</td></tr>",
                escape(&r.query_type),
                r.approximate_cases,
                r.mean_recall,
                r.min_recall,
                if r.met { "pass" } else { "fail" },
                if r.met { "yes" } else { "no" }
            );
        }
        h.push_str("</tbody></table>\n");
    }

    let types = report.types_in_order();
    let acc: Vec<(String, f64)> = types
        .iter()
        .map(|(t, s)| (t.name().to_string(), s.accuracy))
        .collect();
    let lat: Vec<(String, Vec<f64>)> = types
        .iter()
        .map(|(t, _)| {
            let v = report
                .cases
                .iter()
                .filter(|c| c.query_type == *t)
                .filter_map(CaseReport::latency_ms)
                .collect();
            (t.name().to_string(), v)
        })
        .collect();
    let _ = write!(
        h,
        "<h2>Accuracy per query type</h2>\n<figure>{}</figure>\n<h2>Search latency per query type</h2>\n<figure>{}<figcaption>Box: p25–p75; bar: median; whiskers: p5–p95; dot: maximum. Logarithmic axis.</figcaption></figure>\n",
        accuracy_bars(&acc),
        latency_boxes(&lat)
    );

    let problems: Vec<&CaseReport> = report.problems().collect();
    let _ = writeln!(h, "<h2>Failures ({})</h2>", problems.len());
    if problems.is_empty() {
        h.push_str("<p>None.</p>\n");
    }
    for c in problems.iter().take(MAX_SHOWN) {
        let detail = c
            .result
            .as_ref()
            .map(|r| {
                let mut d = String::new();
                let _ = writeln!(
                    d,
                    "precision {:.4}, recall {:.4}, F1 {:.4}; {} returned",
                    r.precision, r.recall, r.f1, r.result_count
                );
                for f in &r.missing_files {
                    let _ = writeln!(d, "missing: {f}");
                }
                for f in &r.unexpected_files {
                    let _ = writeln!(d, "unexpected: {f}");
                }
                d
            })
            .unwrap_or_default();
        let _ = writeln!(
            h,
            "<details><summary><code>{}</code> [{}] {}: <code>{}</code> — {}</summary><pre>{}</pre></details>",
            escape(&c.id),
            c.query_type,
            c.status,
            escape(&c.query),
            escape(&c.problem()),
            escape(&detail)
        );
    }
    if problems.len() > MAX_SHOWN {
        let _ = writeln!(
            h,
            "<p>… and {} more in report.json.</p>",
            problems.len() - MAX_SHOWN
        );
    }

    let env = &report.environment;
    let s = &report.summary;
    if !report.repeats.is_empty() {
        h.push_str("<h2>Flaky under repetition</h2>\n<table><thead><tr><th>case</th><th>runs</th><th>outcomes</th></tr></thead><tbody>\n");
        for r in &report.repeats {
            let _ = writeln!(
                h,
                "<tr><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                escape(&r.id),
                r.runs,
                escape(&crate::model::outcome_counts(r))
            );
        }
        h.push_str("</tbody></table>\n");
    }
    h.push_str("<h2>Run</h2>\n<ul>\n");
    for (k, v) in [
        (
            "latency p50 / p95 / p99 / max",
            format!(
                "{:.2} / {:.2} / {:.2} / {:.2} ms",
                s.p50_ms, s.p95_ms, s.p99_ms, s.max_ms
            ),
        ),
        (
            "retries, flaky, throttle events",
            format!("{}, {}, {}", s.retries, s.flaky, report.run.throttle_events),
        ),
        (
            "throughput",
            format!("{:.1} cases/s", report.run.throughput),
        ),
        ("jobs", crate::terminal::seed_line(report)),
        (
            "corpus",
            format!("{} ({})", env.corpus_path, env.corpus_fingerprint),
        ),
        ("truth fingerprint", env.truth_fingerprint.clone()),
        (
            "engine",
            format!("{}, verity {}", env.engine, env.verity_version),
        ),
        (
            "machine",
            format!(
                "{} ({} / {}, {} CPUs, {:.1} GiB)",
                env.hostname,
                env.os,
                env.arch,
                env.cpus,
                env.memory_bytes as f64 / (1u64 << 30) as f64
            ),
        ),
        ("created", report.created_at.clone()),
    ] {
        let _ = writeln!(h, "<li>{}: {}</li>", escape(k), escape(&v));
    }
    h.push_str("</ul>\n</body></html>\n");
    h
}
