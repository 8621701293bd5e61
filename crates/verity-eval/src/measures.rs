//! The measures of one query, computed as trec_eval 9.0.8 computes them: each family is a
//! port of its `m_*.c`, loop for loop and in the same floating-point operations, because any
//! other sequence of arithmetic disagrees with trec_eval's printed digits somewhere (the recall
//! levels of `iprec_at_recall`, for one, are turned into numbers of documents as
//! `(long) (level * R + 0.9)`). The differential test against the trec_eval binary
//! (`tests/it/differential.rs`) holds every family to that.

use crate::catalogue::{Family, Params};
use crate::res_rels::{ResRels, Shape, NONPOOL, UNJUDGED};

/// trec_eval's floor for geometric means (`gm_map`, `gm_bpref`).
pub(crate) const MIN_GEO_MEAN: f64 = 0.00001;
/// trec_eval's smoothing in infAP.
const INFAP_EPSILON: f64 = 0.00001;

/// A measure's value.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Value {
    /// A count (`num_ret`), printed as an integer.
    Int(i64),
    /// A measure, printed with 4 decimals.
    Float(f64),
    /// Text (`runid`, `relstring`).
    Text(String),
}

impl Value {
    /// The value as a number; none for text.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(i) => Some(*i as f64),
            Value::Float(f) => Some(*f),
            Value::Text(_) => None,
        }
    }
}

/// Settings every measure may read (trec_eval's `EPI`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Env {
    pub relevance_level: i64,
    /// `-N`: documents in the collection (utility's fourth coefficient).
    pub num_docs_in_coll: i64,
}

/// The values of `family` with `params` for one query, one per printed measure. Summary-only
/// families (`gm_map`, `gm_bpref`) give the logarithm their summary averages.
pub(crate) fn compute(family: Family, params: &Params, rr: &ResRels, env: Env) -> Vec<Value> {
    let level = env.relevance_level;
    let f = |x: f64| vec![Value::Float(x)];
    let num_ret = rr.num_ret();
    match family {
        Family::RunId | Family::NumQ => vec![Value::Int(0)],
        Family::NumRet => vec![Value::Int(num_ret)],
        Family::NumRel => vec![Value::Int(rr.num_rel)],
        Family::NumRelRet => vec![Value::Int(rr.num_rel_ret)],
        Family::Map => f(map(rr, level)),
        Family::GmMap => f(average_precision_sum(rr, level)
            .map_or(0.0, |s| s / rr.num_rel as f64)
            .max(MIN_GEO_MEAN)
            .ln()),
        Family::Rprec => f(rprec(rr, level)),
        Family::Bpref => f(bpref(rr, level)),
        Family::GmBpref => f(bpref(rr, level).max(MIN_GEO_MEAN).ln()),
        Family::RecipRank => f(rr
            .rels
            .iter()
            .position(|r| *r >= level)
            .map_or(0.0, |i| 1.0 / (i + 1) as f64)),
        Family::IprecAtRecall => match params {
            Params::FloatCutoffs(levels) => iprec_at_recall(rr, level, levels)
                .into_iter()
                .map(Value::Float)
                .collect(),
            _ => Vec::new(),
        },
        Family::ElevenPtAvg => match params {
            Params::Floats(levels) if !levels.is_empty() => {
                // The same interpolation summed in the order trec_eval sums it: from the
                // highest level down.
                let values = iprec_at_recall(rr, level, levels);
                let sum = values.iter().rev().fold(0.0, |a, v| a + v);
                f(sum / levels.len() as f64)
            }
            _ => f(0.0),
        },
        Family::P => cutoffs(params, rr, level, |rel_so_far, _, k| {
            rel_so_far as f64 / k as f64
        }),
        Family::Recall => {
            if rr.num_rel == 0 {
                return zeros(params);
            }
            cutoffs(params, rr, level, |rel_so_far, _, _| {
                rel_so_far as f64 / rr.num_rel as f64
            })
        }
        Family::Success => cutoffs(
            params,
            rr,
            level,
            |rel_so_far, _, _| {
                if rel_so_far > 0 {
                    1.0
                } else {
                    0.0
                }
            },
        ),
        Family::RelativeP => {
            if rr.num_rel == 0 {
                return zeros(params);
            }
            cutoffs(params, rr, level, |rel_so_far, _, k| {
                rel_so_far as f64 / k.min(rr.num_rel) as f64
            })
        }
        Family::MapCut => {
            if rr.num_rel == 0 {
                return zeros(params);
            }
            cutoffs(params, rr, level, |_, sum, _| sum / rr.num_rel as f64)
        }
        Family::NdcgCut => match params {
            Params::Cutoffs(cuts) => ndcg_cut(rr, cuts).into_iter().map(Value::Float).collect(),
            _ => Vec::new(),
        },
        Family::Relstring => {
            let len = match params {
                Params::Floats(v) => v.first().copied().unwrap_or(10.0) as i64,
                _ => 10,
            };
            vec![Value::Text(relstring(rr, len))]
        }
        Family::InfAp => f(infap(rr, level)),
        Family::RprecMult => match params {
            Params::FloatCutoffs(mults) => rprec_mult(rr, level, mults)
                .into_iter()
                .map(Value::Float)
                .collect(),
            _ => Vec::new(),
        },
        Family::Utility => {
            let p = match params {
                Params::Floats(p) if p.len() == 4 => [p[0], p[1], p[2], p[3]],
                _ => [1.0, -1.0, 0.0, 0.0],
            };
            let (rel_ret, ret, rel) = (rr.num_rel_ret, num_ret, rr.num_rel);
            f(p[0] * rel_ret as f64
                + p[1] * (ret - rel_ret) as f64
                + p[2] * (rel - rel_ret) as f64
                + p[3] * (env.num_docs_in_coll + rel_ret - ret - rel) as f64)
        }
        Family::BinG => f(bin_g(rr, level)),
        Family::G => f(g(rr, &Gains::new(params, rr))),
        Family::Ndcg => f(ndcg(rr, &Gains::new(params, rr))),
        Family::NdcgRel => f(ndcg_rel(rr, &Gains::new(params, rr))),
        Family::Rndcg => {
            if rr.num_rel == 0 {
                return f(0.0);
            }
            f(rndcg(rr, &Gains::new(params, rr)))
        }
        Family::SetP => f(if num_ret > 0 {
            rr.num_rel_ret as f64 / num_ret as f64
        } else {
            0.0
        }),
        Family::SetRelativeP => f(if num_ret > 0 && rr.num_rel > 0 {
            rr.num_rel_ret as f64 / num_ret.min(rr.num_rel) as f64
        } else {
            0.0
        }),
        Family::SetRecall => f(if rr.num_rel > 0 {
            rr.num_rel_ret as f64 / rr.num_rel as f64
        } else {
            0.0
        }),
        Family::SetMap => f(if num_ret > 0 && rr.num_rel > 0 {
            (rr.num_rel_ret as f64 * rr.num_rel_ret as f64) / (num_ret as f64 * rr.num_rel as f64)
        } else {
            0.0
        }),
        Family::SetF => {
            if rr.num_rel_ret == 0 {
                return f(0.0);
            }
            let x = match params {
                Params::Floats(v) => v.first().copied().unwrap_or(1.0),
                _ => 1.0,
            };
            let p = rr.num_rel_ret as f64 / num_ret as f64;
            let r = rr.num_rel_ret as f64 / rr.num_rel as f64;
            f((x + 1.0) * p * r / (x * p + r))
        }
        Family::NumNonrelJudgedRet => vec![Value::Int(
            num_ret - rr.num_nonpool - rr.num_unjudged_in_pool - rr.num_rel_ret,
        )],
        Family::Yaap => {
            let sum = average_precision_sum(rr, level).unwrap_or(0.0);
            f(((1.0 + sum) / (1.0 + rr.num_rel as f64 - sum)).ln())
        }
    }
}

/// The values of a family for a query trec_eval does not evaluate (`-c`, a query only in the
/// qrels): zeros, which is what such a query adds to trec_eval's sums.
pub(crate) fn zeros(params: &Params) -> Vec<Value> {
    let n = match params {
        Params::Cutoffs(v) => v.len(),
        Params::FloatCutoffs(v) => v.len(),
        _ => 1,
    };
    vec![Value::Float(0.0); n]
}

/// The sum of the precisions at each relevant document, `None` when none was retrieved.
fn average_precision_sum(rr: &ResRels, level: i64) -> Option<f64> {
    let mut rel_so_far = 0i64;
    let mut sum = 0.0;
    for (i, r) in rr.rels.iter().enumerate() {
        if *r >= level {
            rel_so_far += 1;
            sum += rel_so_far as f64 / (i + 1) as f64;
        }
    }
    (rel_so_far > 0).then_some(sum)
}

/// `m_map.c`.
fn map(rr: &ResRels, level: i64) -> f64 {
    average_precision_sum(rr, level).map_or(0.0, |s| s / rr.num_rel as f64)
}

/// `m_Rprec.c`.
fn rprec(rr: &ResRels, level: i64) -> f64 {
    let look = rr.num_ret().min(rr.num_rel);
    if look == 0 {
        return 0.0;
    }
    let rel = rr.rels[..look as usize]
        .iter()
        .filter(|r| **r >= level)
        .count();
    rel as f64 / rr.num_rel as f64
}

/// `m_bpref.c` (and `m_gm_bpref.c` before its logarithm).
fn bpref(rr: &ResRels, level: i64) -> f64 {
    // Judged non-relevant documents: grades 0 up to the relevance level.
    let num_nonrel: i64 = (0..level.max(0))
        .map(|j| rr.rel_levels.get(j as usize).copied().unwrap_or(0))
        .sum();
    let mut nonrel_so_far = 0i64;
    let mut bpref = 0.0;
    for &r in &rr.rels {
        if r == NONPOOL || r == UNJUDGED {
            continue;
        }
        if r >= 0 && r < level {
            nonrel_so_far += 1;
        } else if nonrel_so_far > 0 {
            bpref +=
                1.0 - (nonrel_so_far.min(rr.num_rel) as f64 / num_nonrel.min(rr.num_rel) as f64);
        } else {
            bpref += 1.0;
        }
    }
    if rr.num_rel > 0 {
        bpref /= rr.num_rel as f64;
    }
    bpref
}

/// `m_infap.c`.
fn infap(rr: &ResRels, level: i64) -> f64 {
    let (mut nonrel_so_far, mut rel_so_far, mut pool_unjudged_so_far) = (0i64, 0i64, 0i64);
    let mut inf_ap = 0.0;
    for (j, &r) in rr.rels.iter().enumerate() {
        if r == NONPOOL {
            continue;
        }
        if r == UNJUDGED {
            pool_unjudged_so_far += 1;
            continue;
        }
        if r >= 0 && r < level {
            nonrel_so_far += 1;
        } else {
            rel_so_far += 1;
            if j == 0 {
                inf_ap += 1.0;
            } else {
                let fj = j as f64;
                // Grouped as in the C source: a * b * (c / d).
                inf_ap += 1.0 / (fj + 1.0)
                    + (fj / (fj + 1.0))
                        * ((rel_so_far - 1 + nonrel_so_far + pool_unjudged_so_far) as f64 / fj)
                        * (((rel_so_far - 1) as f64 + INFAP_EPSILON)
                            / ((rel_so_far - 1 + nonrel_so_far) as f64 + 2.0 * INFAP_EPSILON));
            }
        }
    }
    if rr.num_rel > 0 {
        inf_ap /= rr.num_rel as f64;
    }
    inf_ap
}

/// The cut-off families of `m_P.c`, `m_recall.c`, `m_success.c`, `m_rel_P.c` and
/// `m_map_cut.c`: at each cut-off k, `value(relevant in the top k, sum of precisions at the
/// relevant documents in the top k, k)`; cut-offs past the end of the ranking see the whole
/// ranking.
fn cutoffs(
    params: &Params,
    rr: &ResRels,
    level: i64,
    value: impl Fn(i64, f64, i64) -> f64,
) -> Vec<Value> {
    let Params::Cutoffs(cuts) = params else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(cuts.len());
    let mut rel_so_far = 0i64;
    let mut sum = 0.0;
    let mut ci = 0;
    for (i, r) in rr.rels.iter().enumerate() {
        if ci < cuts.len() && i == cuts[ci] {
            out.push(Value::Float(value(rel_so_far, sum, i as i64)));
            ci += 1;
            if ci == cuts.len() {
                break;
            }
        }
        if *r >= level {
            rel_so_far += 1;
            sum += rel_so_far as f64 / (i + 1) as f64;
        }
    }
    for k in &cuts[ci..] {
        out.push(Value::Float(value(rel_so_far, sum, *k as i64)));
    }
    out
}

/// `m_iprec_at_recall.c` (and the interpolation of `m_11pt_avg.c`): the levels, sorted,
/// become numbers of relevant documents as trec_eval turns them, `(long) (level * R + 0.9)`.
fn iprec_at_recall(rr: &ResRels, level: i64, levels: &[f64]) -> Vec<f64> {
    let cuts: Vec<i64> = levels
        .iter()
        .map(|l| (l * rr.num_rel as f64 + 0.9) as i64)
        .collect();
    let mut out = vec![0.0; levels.len()];
    let mut current = levels.len() as isize - 1;
    while current >= 0 && cuts[current as usize] > rr.num_rel_ret {
        current -= 1;
    }
    // 0/0 for an empty ranking is NaN, as in trec_eval (possible with -J).
    let num_ret = rr.num_ret();
    let mut int_precis = rr.num_rel_ret as f64 / num_ret as f64;
    let mut rel_so_far = rr.num_rel_ret;
    let mut i = num_ret;
    while i > 0 && rel_so_far > 0 {
        let precis = rel_so_far as f64 / i as f64;
        if int_precis < precis {
            int_precis = precis;
        }
        if rr.rels[(i - 1) as usize] >= level {
            while current >= 0 && rel_so_far == cuts[current as usize] {
                out[current as usize] = int_precis;
                current -= 1;
            }
            rel_so_far -= 1;
        }
        i -= 1;
    }
    while current >= 0 {
        out[current as usize] = int_precis;
        current -= 1;
    }
    out
}

/// `m_Rprec_mult.c`.
fn rprec_mult(rr: &ResRels, level: i64, mults: &[f64]) -> Vec<f64> {
    let cuts: Vec<i64> = mults
        .iter()
        .map(|m| (m * rr.num_rel as f64 + 0.9) as i64)
        .collect();
    let mut out = vec![0.0; mults.len()];
    let num_ret = rr.num_ret();
    let mut current = mults.len() as isize - 1;
    while current >= 0 && cuts[current as usize] > num_ret {
        out[current as usize] = rr.num_rel_ret as f64 / cuts[current as usize] as f64;
        current -= 1;
    }
    let mut rel_so_far = rr.num_rel_ret;
    let mut i = num_ret;
    while i > 0 && rel_so_far > 0 {
        let precis = rel_so_far as f64 / i as f64;
        while current >= 0 && i == cuts[current as usize] {
            out[current as usize] = precis;
            current -= 1;
        }
        if rr.rels[(i - 1) as usize] >= level {
            rel_so_far -= 1;
        }
        i -= 1;
    }
    out
}

/// `m_relstring.c`: the first `len` retrieved documents' values as characters, quoted as
/// trec_eval prints them.
fn relstring(rr: &ResRels, len: i64) -> String {
    let len = len.min(rr.num_ret()).max(0) as usize;
    let s: String = rr.rels[..len]
        .iter()
        .map(|&r| match r {
            r if r > 9 => '>',
            r if r >= 0 => char::from(b'0' + r as u8),
            NONPOOL => '-',
            UNJUDGED => '.',
            _ => '<',
        })
        .collect();
    format!("'{s}'")
}

/// `m_ndcg_cut.c`: gain is the grade; the ideal ranking from the judged grades.
fn ndcg_cut(rr: &ResRels, cuts: &[usize]) -> Vec<f64> {
    let mut out = vec![0.0; cuts.len()];
    let mut sum = 0.0;
    let mut ci = 0;
    for (i, &r) in rr.rels.iter().enumerate() {
        if i == cuts[ci] {
            out[ci] = sum;
            ci += 1;
            if ci == cuts.len() {
                break;
            }
        }
        let gain = r as f64;
        if gain > 0.0 {
            sum += gain / ((i + 2) as f64).log2();
        }
    }
    while ci < cuts.len() {
        out[ci] = sum;
        ci += 1;
    }
    ci = 0;
    let mut cur = rr.num_rel_levels() as i64 - 1;
    let mut count = 0i64;
    let mut ideal = 0.0;
    let mut i = 0usize;
    loop {
        count += 1;
        while cur > 0 && count > rr.rel_levels[cur as usize] {
            cur -= 1;
            count = 1;
        }
        if cur == 0 {
            break;
        }
        if i == cuts[ci] {
            if ideal > 0.0 {
                out[ci] /= ideal;
            }
            ci += 1;
            if ci == cuts.len() {
                break;
            }
        }
        ideal += cur as f64 / ((i + 2) as f64).log2();
        i += 1;
    }
    while ci < cuts.len() {
        if ideal > 0.0 {
            out[ci] /= ideal;
        }
        ci += 1;
    }
    out
}

/// `m_binG.c`.
fn bin_g(rr: &ResRels, level: i64) -> f64 {
    let mut rel_so_far = 0i64;
    let mut sum = 0.0;
    for (i, &r) in rr.rels.iter().enumerate() {
        if r >= level {
            rel_so_far += 1;
            sum += 1.0 / ((3 + i as i64 - rel_so_far) as f64).log2();
        }
    }
    if rel_so_far > 0 {
        sum / rr.num_rel as f64
    } else {
        0.0
    }
}

/// The gain of each grade, and how many judged documents have it, sorted by gain
/// (`setup_gains` of `m_ndcg.c`, `m_G.c`, `m_ndcg_rel.c`, `m_Rndcg.c`): by default a grade's
/// gain is the grade; `level=gain` parameters replace it.
struct Gains {
    /// (grade, documents judged with it, gain), ascending by gain.
    levels: Vec<(i64, i64, f64)>,
}

impl Gains {
    fn new(params: &Params, rr: &ResRels) -> Gains {
        let pairs: &[(i64, f64)] = match params {
            Params::Gains(p) => p,
            _ => &[],
        };
        let mut levels: Vec<(i64, i64, f64)> = pairs.iter().map(|(l, g)| (*l, 0, *g)).collect();
        for (i, n) in rr.rel_levels.iter().enumerate() {
            let i = i as i64;
            match levels.iter_mut().find(|(l, _, _)| *l == i) {
                Some(e) => e.1 = *n,
                None => levels.push((i, *n, i as f64)),
            }
        }
        // trec_eval's comparator is `(int) (gain1 - gain2)`: gains less than 1 apart
        // compare equal, and qsort leaves their order to the C library. A stable sort by
        // that comparison keeps them in the order above (given pairs first, then grades).
        levels.sort_by(|a, b| ((a.2 - b.2) as i32).cmp(&0));
        Gains { levels }
    }

    fn gain(&self, rel: i64) -> f64 {
        self.levels
            .iter()
            .find(|(l, _, _)| *l == rel)
            .map_or(0.0, |(_, _, g)| *g)
    }

    /// Walks the ideal ranking: the gain of the next ideal position, from the top level down.
    fn ideal(&self) -> Ideal<'_> {
        let cur = self.levels.len() as isize - 1;
        Ideal {
            gains: self,
            cur,
            count: 0,
            gain: if cur >= 0 {
                self.levels[cur as usize].2
            } else {
                0.0
            },
        }
    }
}

/// The position in the ideal ranking (`cur_level`, `num_at_level`, `ideal_gain`).
struct Ideal<'a> {
    gains: &'a Gains,
    cur: isize,
    count: i64,
    gain: f64,
}

impl Ideal<'_> {
    /// Moves one position down the ideal ranking; returns its gain.
    fn step(&mut self) -> f64 {
        self.count += 1;
        while self.cur >= 0 && self.count > self.gains.levels[self.cur as usize].1 {
            self.count = 1;
            self.cur -= 1;
            self.gain = if self.cur >= 0 {
                self.gains.levels[self.cur as usize].2
            } else {
                0.0
            };
        }
        self.gain
    }
}

fn discount(i: usize) -> f64 {
    ((i + 2) as f64).log2()
}

/// `m_ndcg.c`.
fn ndcg(rr: &ResRels, gains: &Gains) -> f64 {
    let mut ideal = gains.ideal();
    let (mut results_dcg, mut ideal_dcg) = (0.0, 0.0);
    let mut i = 0usize;
    let n = rr.rels.len();
    while i < n && ideal.gain > 0.0 {
        let g = gains.gain(rr.rels[i]);
        if g != 0.0 {
            results_dcg += g / discount(i);
        }
        let ig = ideal.step();
        if ig > 0.0 {
            ideal_dcg += ig / discount(i);
        }
        i += 1;
    }
    while i < n {
        let g = gains.gain(rr.rels[i]);
        if g != 0.0 {
            results_dcg += g / discount(i);
        }
        i += 1;
    }
    while ideal.gain > 0.0 {
        let ig = ideal.step();
        if ig > 0.0 {
            ideal_dcg += ig / discount(i);
        }
        i += 1;
    }
    if ideal_dcg > 0.0 {
        results_dcg / ideal_dcg
    } else {
        0.0
    }
}

/// `m_ndcg_rel.c`: nDCG averaged over the relevant (positive-gain) documents.
fn ndcg_rel(rr: &ResRels, gains: &Gains) -> f64 {
    let mut ideal = gains.ideal();
    let (mut results_dcg, mut ideal_dcg, mut sum) = (0.0, 0.0, 0.0);
    let (mut num_rel_ret, mut num_rel) = (0i64, 0i64);
    let mut i = 0usize;
    let n = rr.rels.len();
    while i < n && ideal.gain > 0.0 {
        let g = gains.gain(rr.rels[i]);
        if g != 0.0 {
            results_dcg += g / discount(i);
        }
        let ig = ideal.step();
        if ig > 0.0 {
            num_rel += 1;
            ideal_dcg += ig / discount(i);
        }
        if g > 0.0 {
            sum += results_dcg / ideal_dcg;
            num_rel_ret += 1;
        }
        i += 1;
    }
    while i < n {
        let g = gains.gain(rr.rels[i]);
        if g != 0.0 {
            results_dcg += g / discount(i);
        }
        if g > 0.0 {
            sum += results_dcg / ideal_dcg;
            num_rel_ret += 1;
        }
        i += 1;
    }
    while ideal.gain > 0.0 {
        let ig = ideal.step();
        if ig > 0.0 {
            num_rel += 1;
            ideal_dcg += ig / discount(i);
        }
        i += 1;
    }
    sum += (num_rel - num_rel_ret) as f64 * results_dcg / ideal_dcg;
    if sum > 0.0 {
        sum / num_rel as f64
    } else {
        0.0
    }
}

/// `m_Rndcg.c`: nDCG averaged at the points where the ideal gain changes.
fn rndcg(rr: &ResRels, gains: &Gains) -> f64 {
    let mut ideal = gains.ideal();
    let (mut results_dcg, mut ideal_dcg, mut sum) = (0.0, 0.0, 0.0);
    let mut old_gain = ideal.gain;
    let mut changes = 0i64;
    let mut i = 0usize;
    let n = rr.rels.len();
    while i < n && ideal.gain > 0.0 {
        let g = gains.gain(rr.rels[i]);
        let ig = ideal.step();
        if old_gain != ig {
            if ideal_dcg > 0.0 {
                sum += results_dcg / ideal_dcg;
                changes += 1;
            }
            old_gain = ig;
        }
        if g != 0.0 {
            results_dcg += g / discount(i);
        }
        if ig > 0.0 {
            ideal_dcg += ig / discount(i);
        }
        i += 1;
    }
    if i < n {
        while i < n {
            let g = gains.gain(rr.rels[i]);
            if g != 0.0 {
                results_dcg += g / discount(i);
            }
            i += 1;
        }
        if ideal_dcg > 0.0 {
            sum += results_dcg / ideal_dcg;
            changes += 1;
        }
    }
    while ideal.gain > 0.0 {
        let ig = ideal.step();
        if old_gain != ig {
            if ideal_dcg > 0.0 {
                sum += results_dcg / ideal_dcg;
                changes += 1;
            }
            old_gain = ig;
        }
        if ig > 0.0 {
            ideal_dcg += ig / discount(i);
        }
        i += 1;
    }
    sum / changes as f64
}

/// `m_G.c`.
fn g(rr: &ResRels, gains: &Gains) -> f64 {
    let mut ideal = gains.ideal();
    let (mut results_g, mut sum_results, mut sum_ideal, mut sum_cost) = (0.0, 0.0, 0.0, 0.0);
    let min_cost = 1.0;
    let mut i = 0usize;
    let n = rr.rels.len();
    while i < n && ideal.gain > 0.0 {
        let g = gains.gain(rr.rels[i]);
        sum_results += g;
        let ig = ideal.step();
        if ig > 0.0 {
            sum_ideal += ig;
        }
        if ig >= min_cost {
            sum_cost += ig;
        } else {
            sum_cost += min_cost;
        }
        if g != 0.0 {
            results_g += g / (2.0 + sum_cost - sum_results).log2();
        }
        i += 1;
    }
    while i < n {
        let g = gains.gain(rr.rels[i]);
        sum_results += g;
        sum_cost += min_cost;
        if g != 0.0 {
            results_g += g / (2.0 + sum_cost - sum_results).log2();
        }
        i += 1;
    }
    while ideal.gain > 0.0 {
        let ig = ideal.step();
        if ig > 0.0 {
            sum_ideal += ig;
        }
    }
    if sum_ideal > 0.0 {
        results_g / sum_ideal
    } else {
        0.0
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
/// relevance of the document at rank i + 1, `None` when unjudged. `k` is at least 1.
pub fn score_ranking(
    rels: Vec<Option<i64>>,
    judged: impl Iterator<Item = i64>,
    relevance_level: i64,
    k: usize,
) -> RankScores {
    let shape = Shape {
        max_retrieved: None,
        judged_only: false,
        relevance_level,
    };
    let rr = ResRels::from_ranked(rels.into_iter(), judged, shape);
    let env = Env {
        relevance_level,
        num_docs_in_coll: 0,
    };
    let cut = Params::Cutoffs(vec![k.max(1)]);
    let first = |family| {
        compute(family, &cut, &rr, env)
            .first()
            .and_then(Value::as_f64)
            .unwrap_or(0.0)
    };
    RankScores {
        recall: first(Family::Recall),
        ndcg: first(Family::NdcgCut),
        recip_rank: first(Family::RecipRank),
        precision: first(Family::P),
        average_precision: first(Family::Map),
    }
}
