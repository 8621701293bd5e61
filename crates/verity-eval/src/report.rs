//! trec_eval's text output, and the same figures as JSON.

use std::fmt::Write;

use rayon::prelude::*;
use serde_json::{json, Map};

use crate::evaluate::Evaluation;
use crate::measures::Value;

/// A value as trec_eval prints it (`%6.4f`, `%ld`, `%s`). A value that is not a number
/// (trec_eval computes 0/0 for `iprec_at_recall_0.00` of a ranking `-J` empties) prints as
/// glibc prints x86's default NaN, `-nan`.
fn text(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.is_nan() => "  -nan".to_string(),
        Value::Float(f) if f.is_infinite() => {
            format!("{:>6}", if *f > 0.0 { "inf" } else { "-inf" })
        }
        Value::Float(f) => format!("{f:.4}"),
        Value::Text(s) => s.clone(),
    }
}

/// `NAME<padding>\tQUERY\tVALUE` lines: with `per_query`, every query's measures first (queries
/// in id order), then the `all` summary — trec_eval's `-q` layout.
pub fn render(ev: &Evaluation, per_query: bool) -> String {
    let mut out = String::new();
    if per_query {
        // Each query's lines are formatted on their own (in parallel: a run of 2,000 queries
        // prints 200,000 lines), then joined in query order.
        let parts: Vec<String> = ev
            .per_query
            .par_iter()
            .filter(|(q, _)| !ev.missing.contains(q))
            .map(|(qid, values)| {
                let mut part = String::new();
                for (m, v) in ev.measures.iter().zip(values) {
                    if let Some(v) = v {
                        let _ = writeln!(part, "{:<22}\t{}\t{}", m.name, qid, text(v));
                    }
                }
                part
            })
            .collect();
        out.reserve(parts.iter().map(String::len).sum());
        for p in parts {
            out.push_str(&p);
        }
    }
    for (m, v) in ev.measures.iter().zip(&ev.summary) {
        if let Some(v) = v {
            let _ = writeln!(out, "{:<22}\tall\t{}", m.name, text(v));
        }
    }
    out
}

/// `{"measures": [...], "all": {...}, "per_query": {qid: {...}}}`.
pub fn render_json(ev: &Evaluation, per_query: bool) -> String {
    let mut all = Map::new();
    for (m, v) in ev.measures.iter().zip(&ev.summary) {
        if let Some(v) = v {
            all.insert(m.name.clone(), json!(v));
        }
    }
    let mut doc = json!({
        "measures": ev.measures.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
        "all": all,
    });
    if per_query {
        let mut pq = Map::new();
        for (qid, values) in ev.per_query.iter().filter(|(q, _)| !ev.missing.contains(q)) {
            let mut q = Map::new();
            for (m, v) in ev.measures.iter().zip(values) {
                if let Some(v) = v {
                    q.insert(m.name.clone(), json!(v));
                }
            }
            pq.insert(qid.clone(), q.into());
        }
        doc["per_query"] = pq.into();
    }
    serde_json::to_string_pretty(&doc).expect("json") + "\n"
}
