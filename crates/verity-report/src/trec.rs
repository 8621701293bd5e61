//! TREC run and qrels files, so any TREC tool (trec_eval, ranx, `verity eval`) can score the
//! engine's rankings against the truth.
//!
//! Run lines are `QID Q0 DOCID RANK SCORE verity`, in the engine's order; the score column is
//! made strictly decreasing at the printed precision (the engine's score in millionths, nudged
//! down by one millionth where the engine tied), because trec_eval re-sorts by score and would otherwise reorder ties by document id.
//! Document ids are corpus paths with `%` and whitespace percent-encoded.

use verity_validation::truth::trec_docid;

use crate::model::Report;

/// The engine's results as a TREC run.
pub fn run_file(report: &Report) -> String {
    let mut out = String::new();
    for c in &report.cases {
        let Some(r) = &c.result else { continue };
        // Scores are written in millionths; each must be below the one before it.
        let mut last = i64::MAX;
        for (rank, hit) in r.ranked.iter().enumerate() {
            let mut micros = (f64::from(hit.score) * 1e6).round() as i64;
            if micros >= last {
                micros = last - 1;
            }
            last = micros;
            out.push_str(&format!(
                "{} Q0 {} {} {:.6} verity\n",
                c.id,
                trec_docid(&hit.path),
                rank + 1,
                micros as f64 / 1e6
            ));
        }
    }
    out
}

/// The truth of the report's cases as TREC qrels.
pub fn qrels_file(report: &Report) -> String {
    let mut out = String::new();
    for c in &report.cases {
        for (doc, rel) in &c.judgments {
            out.push_str(&format!("{} 0 {} {}\n", c.id, trec_docid(doc), rel));
        }
    }
    out
}
