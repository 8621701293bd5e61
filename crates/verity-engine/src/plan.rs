//! Candidate planning: from a parsed query to a tantivy query that returns a *superset* of the
//! matching files.
//!
//! Literals and regexes are narrowed by the trigrams every match must contain
//! (`crate::trigram_index`); wildcards by the words of the word index (or trigrams, see
//! `wildcard_plan`); phrases and proximity by the word index's positions
//! (`crate::word_index`); negation is never narrowed (the
//! complement of a superset is not a superset). Whatever the plan returns is verified by
//! [`crate::matcher`], so a loose plan costs time, never correctness.

use std::sync::Arc;

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Hir, HirKind};
use tantivy::query::{BooleanQuery, Occur, Query as TQuery};

use crate::query::Query;
use crate::tokenizer::{code_tokens, is_word_char, trigram_keys, MAX_INDEXED_TOKEN_BYTES};
use crate::trigram_index::{TrigramIndex, TrigramQuery};
use crate::word_index::{WordIndex, WordQuery};

/// A candidate query, or `None` when every file is a candidate.
pub type Plan = Option<Box<dyn TQuery>>;

/// `parts` with their trigram queries combined into one ([`TrigramQuery::combine`]), and the
/// others.
fn merge_trigrams(parts: Vec<Box<dyn TQuery>>, and: bool) -> Vec<Box<dyn TQuery>> {
    let (mut grams, mut out) = (Vec::new(), Vec::new());
    for part in parts {
        match part.downcast::<TrigramQuery>() {
            Ok(g) => grams.push(*g),
            Err(other) => out.push(other),
        }
    }
    out.extend(TrigramQuery::combine(grams, and).map(|g| Box::new(g) as Box<dyn TQuery>));
    out
}

fn and(parts: Vec<Box<dyn TQuery>>) -> Plan {
    let mut parts = merge_trigrams(parts, true);
    match parts.len() {
        0 => None,
        1 => parts.pop(),
        _ => Some(Box::new(BooleanQuery::new(
            parts.into_iter().map(|q| (Occur::Must, q)).collect(),
        ))),
    }
}

/// Files one of `parts` admits (at least one part).
fn any(parts: Vec<Box<dyn TQuery>>) -> Box<dyn TQuery> {
    let mut parts = merge_trigrams(parts, false);
    match parts.len() {
        1 => parts.pop().expect("one part"),
        _ => Box::new(BooleanQuery::new(
            parts.into_iter().map(|q| (Occur::Should, q)).collect(),
        )),
    }
}

/// What candidate plans are made of: the trigram and word indexes of the index generation
/// they will run on.
#[derive(Clone, Debug)]
pub struct PlanContext {
    pub(crate) trigrams: Arc<TrigramIndex>,
    pub(crate) words: Arc<WordIndex>,
}

/// Files containing every trigram of `s` (`None` if `s` is shorter than three characters).
fn trigram_plan(ctx: &PlanContext, s: &str) -> Plan {
    let keys = trigram_keys(s);
    (!keys.is_empty())
        .then(|| Box::new(TrigramQuery::all(ctx.trigrams.clone(), keys)) as Box<dyn TQuery>)
}

fn is_word(token: &str) -> bool {
    token.chars().next().is_some_and(is_word_char)
}

/// A token sequence's indexed words, each with its word offset.
type OffsetWords = Vec<(usize, String)>;

/// The indexed words of a token sequence with their word offsets (the word index numbers words
/// only), and the trigram plans of the words too long to be indexed.
fn indexed_words(ctx: &PlanContext, toks: &[String]) -> (OffsetWords, Vec<Box<dyn TQuery>>) {
    let mut words = Vec::new();
    let mut long = Vec::new();
    for (offset, t) in toks.iter().filter(|t| is_word(t)).enumerate() {
        if t.len() > MAX_INDEXED_TOKEN_BYTES {
            long.extend(trigram_plan(ctx, t));
        } else {
            words.push((offset, t.clone()));
        }
    }
    (words, long)
}

/// Candidates for a token sequence (a phrase, or one side of `NEAR`): its words at their word
/// offsets in the word index.
///
/// The word index holds word tokens only, numbered by words (`crate::word_index`), so the
/// words of a match are as many positions apart as in the query; the symbols between them
/// are left to the verifier. Words too long for the index narrow by their trigrams instead. A
/// sequence of symbols alone narrows nothing.
fn tokens_plan(ctx: &PlanContext, toks: &[String]) -> Plan {
    let (words, long) = indexed_words(ctx, toks);
    words_plan(ctx, words, long)
}

/// [`tokens_plan`] of a sequence's indexed words and its over-long words' trigram plans.
fn words_plan(ctx: &PlanContext, mut words: OffsetWords, mut parts: Vec<Box<dyn TQuery>>) -> Plan {
    match words.len() {
        0 => {}
        1 => parts.push(Box::new(WordQuery::word(
            ctx.words.clone(),
            &words.pop().expect("one word").1,
        ))),
        _ => parts.push(Box::new(WordQuery::phrase(
            ctx.words.clone(),
            words.into_iter().map(|(o, w)| (o as u32, w)).collect(),
        ))),
    }
    and(parts)
}

/// Candidates for `left NEAR/distance right`: each side's own candidates, and the first
/// indexed word of each side within reach of the other.
///
/// Say `a` is left's first indexed word, at word offset i of left's wl words, and `b` right's,
/// at offset j of wr, with k ≤ distance words between the two sides; `a` at p, `b` at q. Left
/// before right: q − p = (wl − i) + k + j. Right before left: p − q = (wr − j) + k + i. So
/// every match has q − p in one of the two ranges k = 0..=distance gives.
fn near_plan(ctx: &PlanContext, left: &[String], right: &[String], distance: u32) -> Plan {
    let (lw, llong) = indexed_words(ctx, left);
    let (rw, rlong) = indexed_words(ctx, right);
    let (a, b) = (lw.first().cloned(), rw.first().cloned());
    let mut parts: Vec<Box<dyn TQuery>> = [words_plan(ctx, lw, llong), words_plan(ctx, rw, rlong)]
        .into_iter()
        .flatten()
        .collect();
    let count = |toks: &[String]| toks.iter().filter(|t| is_word(t)).count() as i64;
    if let (Some((i, a)), Some((j, b))) = (a, b) {
        let (wl, wr, i, j, d) = (
            count(left),
            count(right),
            i as i64,
            j as i64,
            distance as i64,
        );
        let after = wl - i + j;
        let before = wr - j + i;
        parts.push(Box::new(WordQuery::pair(
            ctx.words.clone(),
            &a,
            &b,
            vec![(after, after + d), (-(before + d), -before)],
        )));
    }
    and(parts)
}

/// What a regex match must contain, as a boolean formula over literal substrings.
#[derive(Debug, Clone, PartialEq)]
enum Required {
    /// No constraint.
    Nothing,
    Literal(String),
    All(Vec<Required>),
    Any(Vec<Required>),
}

/// The literals every match of `hir` contains (Russ Cox's trigram-index analysis, on literals):
/// a concatenation needs what each part needs, with adjacent literals joined; an alternation
/// needs one branch's requirements; `x+` needs what `x` needs; classes and `x*` need nothing.
fn required(hir: &Hir) -> Required {
    match hir.kind() {
        HirKind::Literal(lit) => Required::Literal(String::from_utf8_lossy(&lit.0).into_owned()),
        HirKind::Capture(c) => required(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => required(&r.sub),
        HirKind::Concat(parts) => {
            let mut all = Vec::new();
            let mut run = String::new();
            for part in parts {
                if let HirKind::Literal(lit) = part.kind() {
                    run.push_str(&String::from_utf8_lossy(&lit.0));
                    continue;
                }
                if !run.is_empty() {
                    all.push(Required::Literal(std::mem::take(&mut run)));
                }
                match required(part) {
                    Required::Nothing => {}
                    r => all.push(r),
                }
            }
            if !run.is_empty() {
                all.push(Required::Literal(run));
            }
            match all.len() {
                0 => Required::Nothing,
                1 => all.pop().unwrap(),
                _ => Required::All(all),
            }
        }
        HirKind::Alternation(branches) => {
            let reqs: Vec<Required> = branches.iter().map(required).collect();
            if reqs.contains(&Required::Nothing) {
                Required::Nothing
            } else {
                Required::Any(reqs)
            }
        }
        _ => Required::Nothing,
    }
}

fn required_plan(ctx: &PlanContext, r: &Required) -> Plan {
    match r {
        Required::Nothing => None,
        Required::Literal(s) => trigram_plan(ctx, s),
        Required::All(rs) => and(rs.iter().filter_map(|r| required_plan(ctx, r)).collect()),
        Required::Any(rs) => {
            let mut alternatives = Vec::with_capacity(rs.len());
            for r in rs {
                // One unconstrained branch makes the whole alternation unconstrained.
                alternatives.push(required_plan(ctx, r)?);
            }
            Some(any(alternatives))
        }
    }
}

/// Candidates from regex-syntax's prefix or suffix literal sets: every match starts (ends)
/// with one of them, when the set is finite. This catches what [`required`] cannot, such as
/// `AtomicU(32|64)` where the alternatives are too short for trigrams on their own.
fn extracted_plan(ctx: &PlanContext, hir: &Hir, kind: ExtractKind) -> Plan {
    let mut ex = Extractor::new();
    ex.kind(kind);
    let seq = ex.extract(hir);
    let lits = seq.literals()?;
    if lits.is_empty() {
        return None;
    }
    let mut alternatives = Vec::with_capacity(lits.len());
    for lit in lits {
        let bytes = lit.as_bytes();
        // Literals may be cut inside a character: keep the valid prefix.
        let valid = match std::str::from_utf8(bytes) {
            Ok(s) => s,
            Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
        };
        alternatives.push(trigram_plan(ctx, valid)?);
    }
    Some(any(alternatives))
}

/// Candidates for a regex: files containing the trigrams of its required literals and of one
/// of its prefix and suffix literals. Each part is a superset, so their intersection is too.
fn regex_plan(ctx: &PlanContext, pattern: &str) -> Plan {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    and([
        required_plan(ctx, &required(&hir)),
        extracted_plan(ctx, &hir, ExtractKind::Prefix),
        extracted_plan(ctx, &hir, ExtractKind::Suffix),
    ]
    .into_iter()
    .flatten()
    .collect())
}

/// Candidates for a wildcard: each of its words must be a word of the file.
///
/// A wildcard's words (its whitespace-separated pieces) each match one whole word of a line
/// (docs/query-language.md), and the word index holds every word of at most
/// [`MAX_INDEXED_TOKEN_BYTES`], case and all. So a piece without `*`, whose matches are at most
/// as long as its characters plus four bytes a `?`, narrows to the files holding a word it
/// matches: one word, or for `Vec?` the words the automaton `Vec.` accepts in the dictionary
/// (a word is all word characters, so `.` there is `?`'s one word character). A piece with `*`
/// can match a word too long to be indexed; it is narrowed by the trigrams of its fixed runs
/// instead.
///
/// Why: `Vec?` has no trigram but `vec`, which nearly every Rust file holds; on the
/// synthetic 100,000-file tree it made 98,000 candidates for no match.
fn wildcard_plan(ctx: &PlanContext, pattern: &str) -> Plan {
    let mut parts = Vec::new();
    for piece in pattern.split_whitespace() {
        let longest: usize = piece
            .chars()
            .map(|c| if c == '?' { 4 } else { c.len_utf8() })
            .sum();
        if piece.contains('*') || longest > MAX_INDEXED_TOKEN_BYTES {
            parts.extend(fixed_runs_plan(ctx, piece));
        } else if !piece.contains('?') {
            parts.push(Box::new(WordQuery::word(ctx.words.clone(), piece)) as Box<dyn TQuery>);
        } else {
            match word_pattern(ctx, piece) {
                Some(q) => parts.push(Box::new(q)),
                // Too large an automaton (it is not, for word characters and dots): the
                // trigrams still narrow.
                None => parts.extend(fixed_runs_plan(ctx, piece)),
            }
        }
    }
    and(parts)
}

/// The files holding a word the one-word wildcard piece matches whole; `None` when its
/// automaton would be too large.
pub(crate) fn word_pattern(ctx: &PlanContext, piece: &str) -> Option<WordQuery> {
    let prefix: String = piece
        .chars()
        .take_while(|&c| c != '*' && c != '?')
        .collect();
    WordQuery::pattern(ctx.words.clone(), &word_automaton(piece), &prefix)
}

/// A one-word wildcard piece as an automaton over the word index's words. Every character of
/// a word is a word character, so `*` is `.*` and `?` is `.`; the rest stand for themselves.
fn word_automaton(piece: &str) -> String {
    piece
        .chars()
        .map(|c| match c {
            '*' => ".*".to_owned(),
            '?' => ".".to_owned(),
            c => regex_syntax::escape(c.encode_utf8(&mut [0; 4])),
        })
        .collect()
}

/// The trigram plans of a wildcard piece's runs of word characters (between `*` and `?`).
fn fixed_runs_plan<'a>(
    ctx: &'a PlanContext,
    piece: &'a str,
) -> impl Iterator<Item = Box<dyn TQuery>> + 'a {
    piece
        .split(|c: char| !is_word_char(c))
        .filter_map(|run| trigram_plan(ctx, run))
}

/// The candidate plan of a query.
pub fn candidates(ctx: &PlanContext, q: &Query) -> Plan {
    match q {
        Query::Literal(s) => trigram_plan(ctx, s),
        Query::Wildcard(p) => wildcard_plan(ctx, p),
        Query::Regex(p) => regex_plan(ctx, p),
        Query::Phrase(toks) => tokens_plan(ctx, toks),
        Query::Near {
            left,
            right,
            distance,
        } => near_plan(ctx, left, right, *distance),
        Query::And(qs) => and(qs.iter().filter_map(|q| candidates(ctx, q)).collect()),
        Query::Or(qs) => {
            let mut parts = Vec::with_capacity(qs.len());
            for q in qs {
                parts.push(candidates(ctx, q)?);
            }
            Some(any(parts))
        }
        Query::Not(_) => None,
    }
}

/// The word tokens of a query's positive parts, for BM25 scoring over the word index.
pub fn scoring_terms(q: &Query) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    fn add(out: &mut Vec<String>, s: &str) {
        for t in code_tokens(s) {
            if t.is_word
                && t.text.len() <= MAX_INDEXED_TOKEN_BYTES
                && !out.iter().any(|o| o == t.text)
            {
                out.push(t.text.to_owned());
            }
        }
    }
    fn go(q: &Query, out: &mut Vec<String>) {
        match q {
            Query::Literal(s) => add(out, s),
            Query::Wildcard(p) => add(out, &p.replace(['*', '?'], " ")),
            Query::Regex(_) | Query::Not(_) => {}
            Query::Phrase(t) => t.iter().for_each(|t| add(out, t)),
            Query::Near { left, right, .. } => left.iter().chain(right).for_each(|t| add(out, t)),
            Query::And(qs) | Query::Or(qs) => qs.iter().for_each(|q| go(q, out)),
        }
    }
    go(q, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(p: &str) -> Required {
        required(&regex_syntax::Parser::new().parse(p).unwrap())
    }

    fn lit(s: &str) -> Required {
        Required::Literal(s.into())
    }

    #[test]
    fn required_literals_of_regexes() {
        assert_eq!(
            req(r"fn\s+poll_\w+\s*\("),
            Required::All(vec![lit("fn"), lit("poll_"), lit("(")])
        );
        assert_eq!(
            req(r"\bAtomicU(32|64)\b"),
            Required::All(vec![
                lit("AtomicU"),
                Required::Any(vec![lit("32"), lit("64")])
            ])
        );
        assert_eq!(req(r"(ab)+c"), Required::All(vec![lit("ab"), lit("c")]));
        assert_eq!(req(r"(ab)*c"), lit("c"));
        assert_eq!(req(r"a|b*"), Required::Nothing);
        assert_eq!(req(r"[a-z]+"), Required::Nothing);
        // Case-insensitive literals become classes: no constraint, still correct.
        assert_eq!(req(r"(?i)hello"), Required::Nothing);
    }
}
