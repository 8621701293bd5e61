//! trec_eval's measures: names, order, per-query values and averages.

use std::collections::{HashMap, HashSet};

use crate::input::{EvalError, Qrels, Retrieved, Run};

/// Cut-offs of `P`, `recall`, `ndcg_cut`, `map_cut` and `relative_P`.
pub const CUTOFFS: [usize; 9] = [5, 10, 15, 20, 30, 100, 200, 500, 1000];
/// Recall levels of `iprec_at_recall`.
const RECALL_LEVELS: [f64; 11] = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
/// Multiples of R of `Rprec_mult`.
const R_MULTS: [f64; 10] = [0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6, 1.8, 2.0];
/// Cut-offs of `success`.
const SUCCESS: [usize; 3] = [1, 5, 10];
/// trec_eval's floor for geometric means (`gm_map`, `gm_bpref`).
const MIN_GEO_MEAN: f64 = 0.00001;

/// A measure family in trec_eval's order. Families with cut-offs expand to one measure each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Family {
    RunId,
    NumQ,
    NumRet,
    NumRel,
    NumRelRet,
    Map,
    GmMap,
    Rprec,
    Bpref,
    RecipRank,
    IprecAtRecall,
    P,
    Relstring,
    Recall,
    GmBpref,
    RprecMult,
    Utility,
    ElevenPtAvg,
    Ndcg,
    NdcgCut,
    MapCut,
    RelativeP,
    Success,
    SetP,
    SetRelativeP,
    SetRecall,
    SetMap,
    SetF,
    NumNonrelJudgedRet,
}

/// (family, name as `-m` takes it, has cut-offs)
const FAMILIES: &[(Family, &str)] = &[
    (Family::RunId, "runid"),
    (Family::NumQ, "num_q"),
    (Family::NumRet, "num_ret"),
    (Family::NumRel, "num_rel"),
    (Family::NumRelRet, "num_rel_ret"),
    (Family::Map, "map"),
    (Family::GmMap, "gm_map"),
    (Family::Rprec, "Rprec"),
    (Family::Bpref, "bpref"),
    (Family::RecipRank, "recip_rank"),
    (Family::IprecAtRecall, "iprec_at_recall"),
    (Family::P, "P"),
    (Family::Relstring, "relstring"),
    (Family::Recall, "recall"),
    (Family::GmBpref, "gm_bpref"),
    (Family::RprecMult, "Rprec_mult"),
    (Family::Utility, "utility"),
    (Family::ElevenPtAvg, "11pt_avg"),
    (Family::Ndcg, "ndcg"),
    (Family::NdcgCut, "ndcg_cut"),
    (Family::MapCut, "map_cut"),
    (Family::RelativeP, "relative_P"),
    (Family::Success, "success"),
    (Family::SetP, "set_P"),
    (Family::SetRelativeP, "set_relative_P"),
    (Family::SetRecall, "set_recall"),
    (Family::SetMap, "set_map"),
    (Family::SetF, "set_F"),
    (Family::NumNonrelJudgedRet, "num_nonrel_judged_ret"),
];

/// trec_eval's `official` measures (its default output).
const OFFICIAL: &[Family] = &[
    Family::RunId,
    Family::NumQ,
    Family::NumRet,
    Family::NumRel,
    Family::NumRelRet,
    Family::Map,
    Family::GmMap,
    Family::Rprec,
    Family::Bpref,
    Family::RecipRank,
    Family::IprecAtRecall,
    Family::P,
];

/// One measure as printed: a family and, for families with parameters, one parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Measure {
    family: Family,
    /// The printed name (`P_10`, `iprec_at_recall_0.30`).
    pub name: String,
    param: f64,
}

impl Measure {
    /// Only in the `all` summary (not per query).
    fn summary_only(&self) -> bool {
        matches!(
            self.family,
            Family::RunId | Family::NumQ | Family::GmMap | Family::GmBpref
        )
    }
}

fn expand(family: Family, base: &str, params: Option<&[f64]>) -> Vec<Measure> {
    let one = |name: String, param: f64| Measure {
        family,
        name,
        param,
    };
    let ints = |v: &[usize]| v.iter().map(|x| *x as f64).collect::<Vec<_>>();
    let defaults: Option<Vec<f64>> = match family {
        Family::P | Family::Recall | Family::NdcgCut | Family::MapCut | Family::RelativeP => {
            Some(ints(&CUTOFFS))
        }
        Family::Success => Some(ints(&SUCCESS)),
        Family::IprecAtRecall => Some(RECALL_LEVELS.to_vec()),
        Family::RprecMult => Some(R_MULTS.to_vec()),
        _ => None,
    };
    match defaults {
        None => vec![one(base.to_string(), 0.0)],
        Some(d) => {
            let values = params.map(<[f64]>::to_vec).unwrap_or(d);
            values
                .into_iter()
                .map(|v| {
                    let name = match family {
                        Family::IprecAtRecall | Family::RprecMult => format!("{base}_{v:.2}"),
                        _ => format!("{base}_{}", v as usize),
                    };
                    one(name, v)
                })
                .collect()
        }
    }
}

/// Which measures to compute, in trec_eval's order.
#[derive(Debug, Clone, PartialEq)]
pub struct MeasureSelection {
    pub measures: Vec<Measure>,
}

impl MeasureSelection {
    /// Every implemented measure (`all_trec` as far as implemented).
    pub fn all_trec() -> Self {
        MeasureSelection {
            measures: FAMILIES
                .iter()
                .flat_map(|(f, n)| expand(*f, n, None))
                .collect(),
        }
    }

    /// trec_eval's default output.
    pub fn official() -> Self {
        MeasureSelection {
            measures: FAMILIES
                .iter()
                .filter(|(f, _)| OFFICIAL.contains(f))
                .flat_map(|(f, n)| expand(*f, n, None))
                .collect(),
        }
    }

    /// Parses `-m` values: `official`, `all_trec`, a family (`P`), a family with parameters
    /// (`P.5,10`, `ndcg_cut.10`), or one printed name (`P_10`, `iprec_at_recall_0.50`).
    pub fn parse(specs: &[String]) -> Result<Self, EvalError> {
        if specs.is_empty() {
            return Ok(Self::official());
        }
        let mut chosen: Vec<(usize, Vec<Measure>)> = Vec::new();
        let mut add = |i: usize, m: Vec<Measure>| {
            if let Some(e) = chosen.iter_mut().find(|(j, _)| *j == i) {
                for x in m {
                    if !e.1.contains(&x) {
                        e.1.push(x);
                    }
                }
            } else {
                chosen.push((i, m));
            }
        };
        for spec in specs {
            match spec.as_str() {
                "all_trec" => {
                    for (i, (f, n)) in FAMILIES.iter().enumerate() {
                        add(i, expand(*f, n, None));
                    }
                    continue;
                }
                "official" => {
                    for (i, (f, n)) in FAMILIES.iter().enumerate() {
                        if OFFICIAL.contains(f) {
                            add(i, expand(*f, n, None));
                        }
                    }
                    continue;
                }
                _ => {}
            }
            let (base, params) = match spec.split_once('.') {
                Some((b, p)) if FAMILIES.iter().any(|(_, n)| *n == b) => {
                    let vals: Result<Vec<f64>, _> =
                        p.split(',').map(|x| x.trim().parse::<f64>()).collect();
                    let vals = vals.map_err(|_| EvalError::UnknownMeasure(spec.clone()))?;
                    // Cut-offs are positive whole numbers; recall levels lie in [0, 1];
                    // multiples of R are positive.
                    let ok = |v: &f64| match b {
                        "iprec_at_recall" => (0.0..=1.0).contains(v),
                        "Rprec_mult" => *v > 0.0 && v.is_finite(),
                        _ => *v >= 1.0 && v.fract() == 0.0 && v.is_finite(),
                    };
                    if vals.is_empty() || !vals.iter().all(ok) {
                        return Err(EvalError::BadParameter(spec.clone()));
                    }
                    (b, Some(vals))
                }
                _ => (spec.as_str(), None),
            };
            if let Some(i) = FAMILIES.iter().position(|(_, n)| *n == base) {
                let (f, n) = FAMILIES[i];
                add(i, expand(f, n, params.as_deref()));
                continue;
            }
            // A single printed name, such as P_10.
            let found = FAMILIES.iter().enumerate().find_map(|(i, (f, n))| {
                expand(*f, n, None)
                    .into_iter()
                    .find(|m| &m.name == spec)
                    .map(|m| (i, m))
            });
            match found {
                Some((i, m)) => add(i, vec![m]),
                None => return Err(EvalError::UnknownMeasure(spec.clone())),
            }
        }
        chosen.sort_by_key(|(i, _)| *i);
        Ok(MeasureSelection {
            measures: chosen.into_iter().flat_map(|(_, m)| m).collect(),
        })
    }

    /// Names of every measure `-m` accepts, for help text.
    pub fn family_names() -> Vec<&'static str> {
        FAMILIES.iter().map(|(_, n)| *n).collect()
    }
}

/// Evaluation settings (trec_eval's flags).
#[derive(Debug, Clone)]
pub struct Options {
    /// `-l`: the lowest relevance value that counts as relevant.
    pub relevance_level: i64,
    /// `-c`: average over every query in the qrels, missing ones scored on an empty ranking.
    pub complete: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            relevance_level: 1,
            complete: false,
        }
    }
}

/// A measure's value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Value {
    Int(i64),
    Float(f64),
    Text(String),
}

impl Value {
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Text(_) => None,
        }
    }
}

/// Values per query (sorted by query id, as trec_eval prints them) and the summary.
#[derive(Debug, Clone)]
pub struct Evaluation {
    pub measures: Vec<Measure>,
    /// (query id, one value per measure; `None` for summary-only measures), for every query
    /// in the average.
    pub per_query: Vec<(String, Vec<Option<Value>>)>,
    /// Queries averaged in (`-c`) but not in the run: trec_eval does not print them per query.
    pub missing: std::collections::BTreeSet<String>,
    /// One value per measure; `None` for per-query-only measures.
    pub summary: Vec<Option<Value>>,
}

/// One query's ranking joined with its judgments, with prefix sums so that every measure at
/// any cut-off is O(1): `all_trec` asks for about a hundred of them per query.
struct Judged {
    /// Relevance of each retrieved document in rank order (`None`: unjudged).
    rels: Vec<Option<i64>>,
    level: i64,
    num_rel: usize,
    num_nonrel: usize,
    /// `rel_prefix[i]`: relevant documents among the first i retrieved.
    rel_prefix: Vec<usize>,
    /// `prec_prefix[i]`: sum of the precision at each relevant document among the first i.
    prec_prefix: Vec<f64>,
    /// `dcg_prefix[i]`: DCG of the first i retrieved.
    dcg_prefix: Vec<f64>,
    /// `ideal_prefix[i]`: DCG of the best possible first i.
    ideal_prefix: Vec<f64>,
}

impl Judged {
    fn new(rels: Vec<Option<i64>>, judged: impl Iterator<Item = i64>, level: i64) -> Judged {
        let mut num_rel = 0;
        let mut num_nonrel = 0;
        let mut gains = Vec::new();
        for r in judged {
            if r >= level {
                num_rel += 1;
            } else {
                num_nonrel += 1;
            }
            let g = gain(Some(r));
            if g > 0.0 {
                gains.push(g);
            }
        }
        gains.sort_by(|a, b| b.total_cmp(a));
        let mut ideal_prefix = Vec::with_capacity(gains.len() + 1);
        let mut acc = 0.0;
        ideal_prefix.push(0.0);
        for (i, g) in gains.iter().enumerate() {
            acc += g / ((i + 2) as f64).log2();
            ideal_prefix.push(acc);
        }
        let n = rels.len();
        let mut rel_prefix = Vec::with_capacity(n + 1);
        let mut prec_prefix = Vec::with_capacity(n + 1);
        let mut dcg_prefix = Vec::with_capacity(n + 1);
        let (mut found, mut prec, mut dcg) = (0usize, 0.0, 0.0);
        rel_prefix.push(0);
        prec_prefix.push(0.0);
        dcg_prefix.push(0.0);
        for (i, r) in rels.iter().enumerate() {
            if r.is_some_and(|r| r >= level) {
                found += 1;
                prec += found as f64 / (i + 1) as f64;
            }
            let g = gain(*r);
            if g > 0.0 {
                dcg += g / ((i + 2) as f64).log2();
            }
            rel_prefix.push(found);
            prec_prefix.push(prec);
            dcg_prefix.push(dcg);
        }
        Judged {
            rels,
            level,
            num_rel,
            num_nonrel,
            rel_prefix,
            prec_prefix,
            dcg_prefix,
            ideal_prefix,
        }
    }

    fn is_rel(&self, r: Option<i64>) -> bool {
        r.is_some_and(|r| r >= self.level)
    }

    fn num_rel(&self) -> usize {
        self.num_rel
    }

    fn num_nonrel(&self) -> usize {
        self.num_nonrel
    }

    /// Relevant documents among the first `k` retrieved.
    fn rel_in_top(&self, k: usize) -> usize {
        self.rel_prefix[k.min(self.rels.len())]
    }

    fn sum_prec(&self, k: usize) -> f64 {
        self.prec_prefix[k.min(self.rels.len())]
    }

    fn dcg(&self, k: usize) -> f64 {
        self.dcg_prefix[k.min(self.rels.len())]
    }

    fn ideal_dcg(&self, k: usize) -> f64 {
        self.ideal_prefix[k.min(self.ideal_prefix.len() - 1)]
    }
}

/// trec_eval's measures of one ranking already in rank order, at cut-off `k`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankScores {
    /// `recall_k`: relevant documents in the top k over all relevant documents.
    pub recall: f64,
    /// `ndcg_cut_k`.
    pub ndcg: f64,
    /// `recip_rank`.
    pub recip_rank: f64,
    /// `P_k`.
    pub precision: f64,
    /// `map` (over the whole ranking).
    pub average_precision: f64,
}

/// Scores a ranking given in rank order (no re-sorting: the caller's order is the ranking)
/// against the relevance values of every judged document of the query. `rels[i]` is the
/// relevance of the document at rank i + 1, `None` when unjudged.
pub fn score_ranking(
    rels: Vec<Option<i64>>,
    judged: impl Iterator<Item = i64>,
    relevance_level: i64,
    k: usize,
) -> RankScores {
    let q = Judged::new(rels, judged, relevance_level);
    let r = q.num_rel() as f64;
    RankScores {
        recall: div(q.rel_in_top(k) as f64, r),
        ndcg: div(q.dcg(k), q.ideal_dcg(k)),
        recip_rank: q
            .rels
            .iter()
            .position(|x| q.is_rel(*x))
            .map_or(0.0, |i| 1.0 / (i + 1) as f64),
        precision: div(q.rel_in_top(k) as f64, k as f64),
        average_precision: div(q.sum_prec(q.rels.len()), r),
    }
}

/// nDCG gain: the relevance value itself; unjudged and non-positive values gain nothing.
fn gain(r: Option<i64>) -> f64 {
    r.filter(|r| *r > 0).map_or(0.0, |r| r as f64)
}

fn div(a: f64, b: f64) -> f64 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

fn compute(m: &Measure, q: &Judged) -> Option<Value> {
    let num_ret = q.rels.len();
    let num_rel = q.num_rel();
    let rel_ret = q.rel_in_top(num_ret);
    let r = num_rel as f64;
    let f = |x: f64| Some(Value::Float(x));
    match m.family {
        Family::RunId | Family::NumQ | Family::GmMap | Family::GmBpref => None,
        Family::NumRet => Some(Value::Int(num_ret as i64)),
        Family::NumRel => Some(Value::Int(num_rel as i64)),
        Family::NumRelRet => Some(Value::Int(rel_ret as i64)),
        Family::Map => f(div(q.sum_prec(num_ret), r)),
        Family::Rprec => f(div(q.rel_in_top(num_rel) as f64, r)),
        Family::Bpref => f(bpref(q, num_rel)),
        Family::RecipRank => f(q
            .rels
            .iter()
            .position(|x| q.is_rel(*x))
            .map_or(0.0, |i| 1.0 / (i + 1) as f64)),
        Family::IprecAtRecall => f(iprec(q, num_rel, m.param)),
        Family::P => f(q.rel_in_top(m.param as usize) as f64 / m.param),
        Family::Relstring => Some(Value::Text(relstring(q))),
        Family::Recall => f(div(q.rel_in_top(m.param as usize) as f64, r)),
        Family::RprecMult => {
            // The cut-off is ceil(mult * R); near-integers count as integers, so that
            // 0.6 * 5 is 3 whatever the floating-point error.
            let cut = (m.param * r - 1e-9).ceil().max(0.0) as usize;
            f(div(q.rel_in_top(cut) as f64, cut as f64))
        }
        Family::Utility => f(rel_ret as f64 - (num_ret - rel_ret) as f64),
        Family::ElevenPtAvg => f(RECALL_LEVELS
            .iter()
            .map(|l| iprec(q, num_rel, *l))
            .sum::<f64>()
            / RECALL_LEVELS.len() as f64),
        Family::Ndcg => f(div(q.dcg(num_ret), q.ideal_dcg(usize::MAX))),
        Family::NdcgCut => {
            let k = m.param as usize;
            f(div(q.dcg(k), q.ideal_dcg(k)))
        }
        Family::MapCut => f(div(q.sum_prec(m.param as usize), r)),
        Family::RelativeP => {
            let k = m.param as usize;
            f(div(q.rel_in_top(k) as f64, k.min(num_rel) as f64))
        }
        Family::Success => f(if q.rel_in_top(m.param as usize) > 0 {
            1.0
        } else {
            0.0
        }),
        Family::SetP => f(div(rel_ret as f64, num_ret as f64)),
        Family::SetRelativeP => f(div(rel_ret as f64, num_ret.min(num_rel) as f64)),
        Family::SetRecall => f(div(rel_ret as f64, r)),
        // As trec_eval computes it, one division (set_P × set_recall can round differently).
        Family::SetMap => f(div((rel_ret * rel_ret) as f64, (num_ret * num_rel) as f64)),
        Family::SetF => {
            let p = div(rel_ret as f64, num_ret as f64);
            let rc = div(rel_ret as f64, r);
            f(div(2.0 * p * rc, p + rc))
        }
        Family::NumNonrelJudgedRet => Some(Value::Int(
            q.rels
                .iter()
                .filter(|x| x.is_some() && !q.is_rel(**x))
                .count() as i64,
        )),
    }
}

fn bpref(q: &Judged, num_rel: usize) -> f64 {
    let num_nonrel = q.num_nonrel();
    let mut nonrel_so_far = 0usize;
    let mut sum = 0.0;
    for r in &q.rels {
        match r {
            None => {}
            Some(_) if q.is_rel(*r) => {
                sum += if nonrel_so_far > 0 {
                    1.0 - nonrel_so_far.min(num_rel) as f64 / num_rel.min(num_nonrel) as f64
                } else {
                    1.0
                };
            }
            Some(_) => nonrel_so_far += 1,
        }
    }
    div(sum, num_rel as f64)
}

/// Interpolated precision at a recall level: the best precision at any rank whose recall
/// reaches the level.
fn iprec(q: &Judged, num_rel: usize, level: f64) -> f64 {
    if num_rel == 0 {
        return 0.0;
    }
    let mut best = 0.0f64;
    let mut found = 0usize;
    for (i, r) in q.rels.iter().enumerate() {
        if q.is_rel(*r) {
            found += 1;
            let recall = found as f64 / num_rel as f64;
            if recall + 1e-12 >= level {
                best = best.max(found as f64 / (i + 1) as f64);
            }
        }
    }
    best
}

/// The relevance of the first 10 retrieved documents: the value, or `-` when unjudged.
fn relstring(q: &Judged) -> String {
    let s: String = q
        .rels
        .iter()
        .take(10)
        .map(|r| match r {
            None => "-".to_string(),
            Some(v) => v.to_string(),
        })
        .collect();
    format!("'{s}'")
}

/// trec_eval's order: score descending, then document id descending by bytes.
fn rank(docs: &mut [&Retrieved]) {
    docs.sort_unstable_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| b.doc.as_bytes().cmp(a.doc.as_bytes()))
    });
}

/// Evaluates `run` against `qrels`.
pub fn evaluate(
    qrels: &Qrels,
    run: &Run,
    selection: &MeasureSelection,
    opts: &Options,
) -> Result<Evaluation, EvalError> {
    let empty: Vec<Retrieved> = Vec::new();
    let mut qids: Vec<&String> = qrels
        .queries
        .keys()
        .filter(|q| opts.complete || run.queries.contains_key(*q))
        .collect();
    qids.sort();
    let measures = selection.measures.clone();
    let mut per_query = Vec::with_capacity(qids.len());
    let mut missing = std::collections::BTreeSet::new();
    for qid in qids {
        if !run.queries.contains_key(qid) {
            missing.insert(qid.clone());
        }
        let judged = &qrels.queries[qid];
        let retrieved = run.queries.get(qid).unwrap_or(&empty);
        let mut docs: Vec<&Retrieved> = retrieved.iter().collect();
        let mut seen: HashSet<&str> = HashSet::with_capacity(docs.len());
        for d in &docs {
            if !seen.insert(d.doc.as_str()) {
                return Err(EvalError::Parse {
                    path: run.path.clone(),
                    line: d.line,
                    message: format!("document `{}` is retrieved twice for query `{qid}`", d.doc),
                });
            }
        }
        rank(&mut docs);
        let q = Judged::new(
            docs.iter().map(|d| judged.get(&d.doc).copied()).collect(),
            judged.values().copied(),
            opts.relevance_level,
        );
        let values = measures
            .iter()
            .map(|m| {
                if m.summary_only() {
                    None
                } else {
                    compute(m, &q)
                }
            })
            .collect();
        per_query.push((qid.clone(), values));
    }
    let n = per_query.len();
    let summary = measures
        .iter()
        .enumerate()
        .map(|(i, m)| summarise(m, i, &per_query, n, run, &measures, opts, qrels))
        .collect();
    Ok(Evaluation {
        measures,
        per_query,
        summary,
        missing,
    })
}

#[allow(clippy::too_many_arguments)]
fn summarise(
    m: &Measure,
    i: usize,
    per_query: &[(String, Vec<Option<Value>>)],
    n: usize,
    run: &Run,
    measures: &[Measure],
    opts: &Options,
    qrels: &Qrels,
) -> Option<Value> {
    let values = || per_query.iter().filter_map(move |(_, v)| v[i].as_ref());
    match m.family {
        Family::RunId => Some(Value::Text(run.run_id.clone())),
        Family::NumQ => Some(Value::Int(n as i64)),
        Family::Relstring => None,
        Family::NumRet | Family::NumRel | Family::NumRelRet | Family::NumNonrelJudgedRet => Some(
            Value::Int(values().map(|v| v.as_f64().unwrap_or(0.0) as i64).sum()),
        ),
        Family::GmMap | Family::GmBpref => {
            // The geometric mean of the per-query values of the base measure, each floored.
            let base = if m.family == Family::GmMap {
                Family::Map
            } else {
                Family::Bpref
            };
            let per = per_query_values(base, per_query, measures, run, opts, qrels);
            if n == 0 {
                return Some(Value::Float(0.0));
            }
            let mean_log = per.iter().map(|v| v.max(MIN_GEO_MEAN).ln()).sum::<f64>() / n as f64;
            Some(Value::Float(mean_log.exp()))
        }
        _ => {
            let sum: f64 = values().filter_map(Value::as_f64).sum();
            Some(Value::Float(if n == 0 { 0.0 } else { sum / n as f64 }))
        }
    }
}

/// Per-query values of `family` (computed afresh when the family was not selected).
fn per_query_values(
    family: Family,
    per_query: &[(String, Vec<Option<Value>>)],
    measures: &[Measure],
    run: &Run,
    opts: &Options,
    qrels: &Qrels,
) -> Vec<f64> {
    if let Some(i) = measures.iter().position(|m| m.family == family) {
        return per_query
            .iter()
            .map(|(_, v)| v[i].as_ref().and_then(Value::as_f64).unwrap_or(0.0))
            .collect();
    }
    let m = Measure {
        family,
        name: String::new(),
        param: 0.0,
    };
    let empty: Vec<Retrieved> = Vec::new();
    per_query
        .iter()
        .map(|(qid, _)| {
            let judged = &qrels.queries[qid];
            let mut docs: Vec<&Retrieved> = run.queries.get(qid).unwrap_or(&empty).iter().collect();
            rank(&mut docs);
            let q = Judged::new(
                docs.iter().map(|d| judged.get(&d.doc).copied()).collect(),
                judged.values().copied(),
                opts.relevance_level,
            );
            compute(&m, &q).and_then(|v| v.as_f64()).unwrap_or(0.0)
        })
        .collect()
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

#[cfg(test)]
mod selection_tests {
    use super::*;

    fn names(specs: &[&str]) -> Vec<String> {
        let specs: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
        MeasureSelection::parse(&specs)
            .unwrap()
            .measures
            .into_iter()
            .map(|m| m.name)
            .collect()
    }

    #[test]
    fn selections_follow_trec_eval_order_and_syntax() {
        assert_eq!(names(&["P.10,5", "map"]), ["map", "P_10", "P_5"]);
        assert_eq!(names(&["ndcg_cut.3"]), ["ndcg_cut_3"]);
        assert_eq!(names(&["iprec_at_recall.0.5"]), ["iprec_at_recall_0.50"]);
        assert_eq!(names(&["P_10", "P.10"]), ["P_10"]);
        assert_eq!(
            names(&[]).len(),
            MeasureSelection::official().measures.len()
        );
    }

    #[test]
    fn bad_measures_and_parameters_are_errors() {
        for bad in [
            "mapp",
            "P.x",
            "P.0",
            "P.-5",
            "P.2.5",
            "recall.",
            "iprec_at_recall.1.5",
            "Rprec_mult.0",
        ] {
            let e = MeasureSelection::parse(&[bad.to_string()]).unwrap_err();
            assert!(e.to_string().contains(bad), "{bad}: {e}");
        }
    }
}
