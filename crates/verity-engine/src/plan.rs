//! Candidate planning: from a parsed query to a tantivy query that returns a *superset* of the
//! matching files.
//!
//! Literals, wildcards and regexes are narrowed by the trigrams every match must contain;
//! phrases and proximity by the positional code field; negation is never narrowed (the
//! complement of a superset is not a superset). Whatever the plan returns is verified by
//! [`crate::matcher`], so a loose plan costs time, never correctness.

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use tantivy::query::{BooleanQuery, Occur, PhraseQuery, Query as TQuery, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::Term;

use crate::query::Query;
use crate::schema::Fields;
use crate::tokenizer::{code_tokens, is_word_char, trigrams, MAX_INDEXED_TOKEN_BYTES};

/// A candidate query, or `None` when every file is a candidate.
pub type Plan = Option<Box<dyn TQuery>>;

fn and(parts: Vec<Box<dyn TQuery>>) -> Plan {
    match parts.len() {
        0 => None,
        1 => parts.into_iter().next(),
        _ => Some(Box::new(BooleanQuery::new(
            parts.into_iter().map(|q| (Occur::Must, q)).collect(),
        ))),
    }
}

/// Files containing every trigram of `s` (`None` if `s` is shorter than three characters).
fn trigram_plan(fields: &Fields, s: &str) -> Plan {
    and(trigrams(s)
        .into_iter()
        .map(|t| {
            Box::new(TermQuery::new(
                Term::from_field_text(fields.trigram, &t),
                IndexRecordOption::Basic,
            )) as Box<dyn TQuery>
        })
        .collect())
}

/// Candidates for a token sequence: a phrase query on the code field.
fn tokens_plan(fields: &Fields, toks: &[String]) -> Plan {
    if toks.iter().any(|t| t.len() > MAX_INDEXED_TOKEN_BYTES) {
        // Over-long tokens are not in the code field: fall back to trigrams of each token.
        return and(toks
            .iter()
            .filter_map(|t| trigram_plan(fields, t))
            .collect());
    }
    let terms: Vec<Term> = toks
        .iter()
        .map(|t| Term::from_field_text(fields.code, t))
        .collect();
    match terms.len() {
        0 => None,
        1 => Some(Box::new(TermQuery::new(
            terms.into_iter().next().unwrap(),
            IndexRecordOption::Basic,
        ))),
        _ => Some(Box::new(PhraseQuery::new(terms))),
    }
}

/// Candidates for a regex: any match starts with one of the extracted prefix literals and ends
/// with one of the suffix literals, when those sets are finite.
fn regex_plan(fields: &Fields, pattern: &str) -> Plan {
    let Ok(hir) = regex_syntax::Parser::new().parse(pattern) else {
        return None;
    };
    let mut parts = Vec::new();
    for kind in [ExtractKind::Prefix, ExtractKind::Suffix] {
        let mut ex = Extractor::new();
        ex.kind(kind);
        let seq = ex.extract(&hir);
        let Some(lits) = seq.literals() else { continue };
        if lits.is_empty() {
            continue;
        }
        let mut alternatives = Vec::new();
        let mut complete = true;
        for lit in lits {
            let bytes = lit.as_bytes();
            let valid = match std::str::from_utf8(bytes) {
                Ok(s) => s,
                Err(e) => std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or(""),
            };
            match trigram_plan(fields, valid) {
                Some(q) => alternatives.push((Occur::Should, q)),
                None => {
                    // One unconstrained alternative makes the whole set unconstrained.
                    complete = false;
                    break;
                }
            }
        }
        if complete && !alternatives.is_empty() {
            parts.push(if alternatives.len() == 1 {
                alternatives.pop().unwrap().1
            } else {
                Box::new(BooleanQuery::new(alternatives)) as Box<dyn TQuery>
            });
        }
    }
    and(parts)
}

/// The candidate plan of a query.
pub fn candidates(fields: &Fields, q: &Query) -> Plan {
    match q {
        Query::Literal(s) => trigram_plan(fields, s),
        Query::Wildcard(p) => and(p
            .split(|c: char| !is_word_char(c))
            .filter_map(|frag| trigram_plan(fields, frag))
            .collect()),
        Query::Regex(p) => regex_plan(fields, p),
        Query::Phrase(toks) => tokens_plan(fields, toks),
        Query::Near { left, right, .. } => {
            and([tokens_plan(fields, left), tokens_plan(fields, right)]
                .into_iter()
                .flatten()
                .collect())
        }
        Query::And(qs) => and(qs.iter().filter_map(|q| candidates(fields, q)).collect()),
        Query::Or(qs) => {
            let mut parts = Vec::with_capacity(qs.len());
            for q in qs {
                parts.push((Occur::Should, candidates(fields, q)?));
            }
            Some(Box::new(BooleanQuery::new(parts)))
        }
        Query::Not(_) => None,
    }
}

/// The word tokens of a query's positive parts, for BM25 scoring on the code field.
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
