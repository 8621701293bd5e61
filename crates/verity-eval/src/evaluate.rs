//! A run evaluated against qrels as trec_eval's main loop does it: every query in both files,
//! in query-id byte order, each measure computed and added to its running sum in that order,
//! then the averages (over the queries evaluated, or with `-c` over every query of the qrels).

use std::collections::{BTreeSet, HashMap, HashSet};

use rayon::prelude::*;

use crate::catalogue::{Family, MeasureSelection};
use crate::input::{EvalError, FastHash, Qrels, Run};
use crate::measures::{compute, zeros, Env, Value, MIN_GEO_MEAN};
use crate::res_rels::{ResRels, Shape};
use crate::Measure;

/// Evaluation settings (trec_eval's flags).
#[derive(Debug, Clone)]
pub struct Options {
    /// `-l`: the lowest relevance value that counts as relevant.
    pub relevance_level: i64,
    /// `-c`: average over every query in the qrels; a query missing from the run adds 0.
    pub complete: bool,
    /// `-M`: only the first this many documents of each ranking count.
    pub max_retrieved: Option<usize>,
    /// `-J`: documents without a judgment are taken out of each ranking.
    pub judged_only: bool,
    /// `-N`: documents in the collection (read only by utility's fourth coefficient).
    pub num_docs_in_collection: i64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            relevance_level: 1,
            complete: false,
            max_retrieved: None,
            judged_only: false,
            num_docs_in_collection: 0,
        }
    }
}

/// Values per query (sorted by query id, as trec_eval prints them) and the summary.
#[derive(Debug, Clone)]
pub struct Evaluation {
    /// Every printed measure, in output order.
    pub measures: Vec<Measure>,
    /// (query id, one value per measure; `None` for summary-only measures), for every query
    /// in the average. A query averaged in with `-c` but missing from the run has zeros.
    pub per_query: Vec<(String, Vec<Option<Value>>)>,
    /// Queries averaged in (`-c`) but not in the run: trec_eval does not print them per query.
    pub missing: BTreeSet<String>,
    /// One value per measure; `None` for per-query-only measures.
    pub summary: Vec<Option<Value>>,
}

/// Evaluates `run` against `qrels`.
pub fn evaluate(
    qrels: &Qrels,
    run: &Run,
    selection: &MeasureSelection,
    opts: &Options,
) -> Result<Evaluation, EvalError> {
    let shape = Shape {
        max_retrieved: opts.max_retrieved,
        judged_only: opts.judged_only,
        relevance_level: opts.relevance_level,
    };
    let env = Env {
        relevance_level: opts.relevance_level,
        num_docs_in_coll: opts.num_docs_in_collection,
    };
    let mut qids: Vec<&String> = run
        .queries
        .keys()
        .filter(|q| qrels.queries.contains_key(*q))
        .collect();
    qids.sort();
    if qids.is_empty() {
        return Err(EvalError::NoQueries);
    }
    let measures = &selection.measures;
    // Every query's values, computed in parallel; each query is independent.
    let computed: Vec<Result<Vec<Value>, EvalError>> = qids
        .par_iter()
        .map(|qid| {
            let judged = &qrels.queries[*qid];
            let retrieved = &run.queries[*qid];
            let mut seen: HashSet<&str, FastHash> =
                HashSet::with_capacity_and_hasher(retrieved.len(), FastHash::default());
            for d in retrieved {
                if !seen.insert(d.doc.as_str()) {
                    return Err(EvalError::Parse {
                        path: run.path.clone(),
                        line: d.line,
                        message: format!(
                            "document `{}` is retrieved twice for query `{qid}`",
                            d.doc
                        ),
                    });
                }
            }
            let rr = ResRels::new(
                retrieved,
                |doc| judged.get(doc).copied(),
                judged.values().copied(),
                shape,
            );
            let mut values = Vec::with_capacity(measures.len());
            for c in &selection.chosen {
                values.extend(compute(c.family, &c.params, &rr, env));
            }
            Ok(values)
        })
        .collect();
    // Running sums, added to in query order as trec_eval adds them, so that the means are
    // the same to the last bit.
    let mut sums = vec![0.0f64; measures.len()];
    let mut int_sums = vec![0i64; measures.len()];
    let mut per_query: Vec<(String, Vec<Option<Value>>)> = Vec::with_capacity(qids.len());
    for (qid, values) in qids.iter().zip(computed) {
        let mut row: Vec<Option<Value>> = Vec::with_capacity(measures.len());
        for (i, v) in values?.into_iter().enumerate() {
            match &v {
                Value::Float(x) => sums[i] += x,
                Value::Int(n) => int_sums[i] += n,
                Value::Text(_) => {}
            }
            row.push((!measures[i].summary_only()).then_some(v));
        }
        per_query.push(((*qid).clone(), row));
    }
    let evaluated = per_query.len();
    let mut missing = BTreeSet::new();
    if opts.complete {
        for qid in qrels.queries.keys() {
            if !run.queries.contains_key(qid) {
                missing.insert(qid.clone());
                let mut row: Vec<Option<Value>> = vec![None; measures.len()];
                for c in &selection.chosen {
                    for (i, v) in c.range.clone().zip(zeros(&c.params)) {
                        if !measures[i].summary_only() {
                            row[i] = Some(match c.family {
                                Family::NumRet
                                | Family::NumRel
                                | Family::NumRelRet
                                | Family::NumNonrelJudgedRet => Value::Int(0),
                                _ => v,
                            });
                        }
                    }
                }
                per_query.push((qid.clone(), row));
            }
        }
        per_query.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let num_q = if opts.complete {
        qrels.queries.len()
    } else {
        evaluated
    };
    let summary = measures
        .iter()
        .enumerate()
        .map(|(i, m)| match m.family {
            Family::RunId => Some(Value::Text(run.run_id.clone())),
            Family::NumQ => Some(Value::Int(num_q as i64)),
            Family::Relstring => None,
            // With -c, trec_eval's num_rel is counted afresh over every query of the qrels,
            // and counts judgments above 0 whatever the relevance level (`m_num_rel.c`).
            Family::NumRel if opts.complete => Some(Value::Int(
                qrels
                    .queries
                    .values()
                    .flat_map(|q| q.values())
                    .filter(|v| **v > 0)
                    .count() as i64,
            )),
            Family::NumRet | Family::NumRel | Family::NumRelRet | Family::NumNonrelJudgedRet => {
                Some(Value::Int(int_sums[i]))
            }
            Family::GmMap | Family::GmBpref => {
                // The sum of logarithms; each query missing from the run (-c) adds the
                // floor's, as trec_eval patches it in after the loop.
                let mut sum = sums[i];
                if opts.complete {
                    sum += (num_q - evaluated) as f64 * MIN_GEO_MEAN.ln();
                }
                Some(Value::Float((sum / num_q as f64).exp()))
            }
            _ => Some(Value::Float(sums[i] / num_q as f64)),
        })
        .collect();
    Ok(Evaluation {
        measures: measures.clone(),
        per_query,
        missing,
        summary,
    })
}

/// Per-query values of one measure by name, for comparisons: query id → value.
pub fn values_of(ev: &Evaluation, name: &str) -> Option<HashMap<String, f64>> {
    let i = ev.measures.iter().position(|m| m.name == name)?;
    Some(
        ev.per_query
            .iter()
            .filter_map(|(q, v)| {
                v[i].as_ref()
                    .and_then(Value::as_f64)
                    .map(|x| (q.clone(), x))
            })
            .collect(),
    )
}
