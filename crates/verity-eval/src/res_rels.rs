//! One query's ranking joined with its judgments, as trec_eval 9.0.8 forms it
//! (`form_res_rels.c`): every measure reads this and nothing else, so that each one can be
//! written as trec_eval writes it, loop for loop.

use crate::input::Retrieved;

/// A retrieved document that is not in the qrels (trec_eval's `RELVALUE_NONPOOL`).
pub(crate) const NONPOOL: i64 = -1;
/// A retrieved document the qrels list with a negative value: in the pool but not judged
/// (trec_eval's `RELVALUE_UNJUDGED`; infAP's sampled pools use it).
pub(crate) const UNJUDGED: i64 = -2;

/// Settings that shape the ranking before any measure sees it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shape {
    /// `-M`: only the first this many documents of the ranking count.
    pub max_retrieved: Option<usize>,
    /// `-J`: documents without a judgment (value ≥ 0) are taken out of the ranking.
    pub judged_only: bool,
    /// `-l`: the lowest value that counts as relevant.
    pub relevance_level: i64,
}

/// trec_eval's `RES_RELS`.
#[derive(Debug, Clone)]
pub(crate) struct ResRels {
    /// The value of each ranked document, in rank order: its grade (≥ 0), [`NONPOOL`] or
    /// [`UNJUDGED`].
    pub rels: Vec<i64>,
    /// Relevant documents in the qrels (grade ≥ the relevance level).
    pub num_rel: i64,
    /// Relevant documents retrieved.
    pub num_rel_ret: i64,
    /// Retrieved documents not in the qrels.
    pub num_nonpool: i64,
    /// Retrieved documents the qrels list with a negative value.
    pub num_unjudged_in_pool: i64,
    /// Judged documents of the query per grade 0, 1, 2, …; grades above the highest one
    /// present are not listed.
    pub rel_levels: Vec<i64>,
}

impl ResRels {
    /// Ranks `retrieved` (score descending, then document id descending by bytes), applies
    /// `-M` and `-J`, and joins each document with `judgment(doc)`. `judgments` are every
    /// value the qrels hold for the query.
    pub(crate) fn new<'a>(
        retrieved: &'a [Retrieved],
        judgment: impl Fn(&str) -> Option<i64>,
        judgments: impl Iterator<Item = i64>,
        shape: Shape,
    ) -> ResRels {
        let mut docs: Vec<&'a Retrieved> = retrieved.iter().collect();
        rank(&mut docs);
        if let Some(m) = shape.max_retrieved {
            docs.truncate(m);
        }
        let values = docs.iter().map(|d| code(judgment(&d.doc)));
        Self::from_values(values, judgments, shape)
    }

    /// Joins a ranking already in rank order, given as each document's value in the qrels
    /// (`None`: not in the qrels).
    pub(crate) fn from_ranked(
        ranked: impl Iterator<Item = Option<i64>>,
        judgments: impl Iterator<Item = i64>,
        shape: Shape,
    ) -> ResRels {
        let values = ranked
            .take(shape.max_retrieved.unwrap_or(usize::MAX))
            .map(code);
        Self::from_values(values, judgments, shape)
    }

    fn from_values(
        values: impl Iterator<Item = i64>,
        judgments: impl Iterator<Item = i64>,
        shape: Shape,
    ) -> ResRels {
        let mut rel_levels: Vec<i64> = Vec::new();
        for v in judgments {
            if let Ok(i) = usize::try_from(v) {
                if rel_levels.len() <= i {
                    rel_levels.resize(i + 1, 0);
                }
                rel_levels[i] += 1;
            }
        }
        // Only levels up to the highest one with a document count (trec_eval's
        // `num_rel_levels`).
        while rel_levels.last() == Some(&0) {
            rel_levels.pop();
        }
        let level = shape.relevance_level;
        let rels: Vec<i64> = if shape.judged_only {
            values.filter(|v| *v >= 0).collect()
        } else {
            values.collect()
        };
        let mut r = ResRels {
            num_rel: 0,
            num_rel_ret: 0,
            num_nonpool: 0,
            num_unjudged_in_pool: 0,
            rel_levels,
            rels,
        };
        for &v in &r.rels {
            match v {
                NONPOOL => r.num_nonpool += 1,
                UNJUDGED => r.num_unjudged_in_pool += 1,
                v if v >= level => r.num_rel_ret += 1,
                _ => {}
            }
        }
        r.num_rel = r
            .rel_levels
            .iter()
            .enumerate()
            .filter(|(i, _)| *i as i64 >= level)
            .map(|(_, n)| n)
            .sum();
        r
    }

    /// Retrieved documents (trec_eval's `num_ret`).
    pub(crate) fn num_ret(&self) -> i64 {
        self.rels.len() as i64
    }

    /// trec_eval's `num_rel_levels`: one more than the highest grade judged.
    pub(crate) fn num_rel_levels(&self) -> usize {
        self.rel_levels.len()
    }
}

/// A retrieved document's value from its judgment: the grade, [`NONPOOL`] when the qrels do
/// not list it, [`UNJUDGED`] when they list it with a negative value.
fn code(judgment: Option<i64>) -> i64 {
    match judgment {
        None => NONPOOL,
        Some(v) if v < 0 => UNJUDGED,
        Some(v) => v,
    }
}

/// trec_eval's order (`comp_sim_docno`): score descending, then document id descending by
/// bytes. trec_eval keeps a score in a C `float`, so scores compare in single precision:
/// `0.3` and `0.30000000000000004` tie, and `-0` equals `0`.
fn rank(docs: &mut [&Retrieved]) {
    docs.sort_unstable_by(|a, b| {
        (b.score as f32)
            .partial_cmp(&(a.score as f32))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| b.doc.as_bytes().cmp(a.doc.as_bytes()))
    });
}
