//! trec_eval's text output, and the same figures as JSON.

use std::fmt::Write;

use serde_json::{json, Map};

use crate::measures::{Evaluation, Value};

fn text(v: &Value) -> String {
    match v {
        Value::Int(i) => i.to_string(),
        Value::Float(f) => format!("{f:.4}"),
        Value::Text(s) => s.clone(),
    }
}

/// `NAME<padding>\tQUERY\tVALUE` lines: with `per_query`, every query's measures first (queries
/// in id order), then the `all` summary — trec_eval's `-q` layout.
pub fn render(ev: &Evaluation, per_query: bool) -> String {
    let mut out = String::new();
    if per_query {
        for (qid, values) in ev.per_query.iter().filter(|(q, _)| !ev.missing.contains(q)) {
            for (m, v) in ev.measures.iter().zip(values) {
                if let Some(v) = v {
                    let _ = writeln!(out, "{:<22}\t{}\t{}", m.name, qid, text(v));
                }
            }
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
