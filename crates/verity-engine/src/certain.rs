//! Certain matches: the files a query matches for certain, from the index alone.
//!
//! Candidates ([`crate::plan`]) are a superset: every one is read back and verified. When a
//! query lists every matching file and most candidates match (a common word, `*Error` on a
//! tree of Rust), reading them is nearly all the work. Some queries can be answered, at least
//! in part, by the word index (`crate::word_index`), whose words are the text's word tokens,
//! as they are, at their word positions:
//!
//! * a literal that is one word (`BTreeMap`) is in every file holding that word as a token,
//!   and in files holding it inside a longer word only, which stay to be verified;
//! * a one-word phrase (`"tokio"`) matches exactly the files holding the token;
//! * a one-word wildcard (`*Error`) matches the files holding a word that matches it whole;
//!   a matching word too long to be indexed is left to verification;
//! * two single words `NEAR/n` match exactly the files where their positions are at most
//!   n + 1 apart: positions count words only, over-long ones too, which is what `NEAR/n`
//!   counts;
//! * `AND`, `OR` and `NOT` combine these: a file certainly matching every operand certainly
//!   matches `AND`; one certainly matching an operand certainly matches `OR`; and a file
//!   that is not even a candidate of `q` certainly matches `NOT q`.
//!
//! Some of these sets are *exact*: a file outside them certainly does not match. An exact set
//! is then the search's candidate plan itself.

use tantivy::query::{AllQuery, BooleanQuery, Occur, Query as TQuery};

use crate::plan::{candidates, word_pattern, PlanContext};
use crate::query::Query;
use crate::tokenizer::{code_tokens, is_word_char, MAX_INDEXED_TOKEN_BYTES};
use crate::word_index::WordQuery;

/// The files a query certainly matches, as a tantivy query.
pub struct Certain {
    /// Matches only files the query matches.
    pub query: Box<dyn TQuery>,
    /// Matches every file the query matches, too: a candidate outside it does not match.
    pub exact: bool,
    /// Looks up a wildcard that starts with `*` or `?`, a walk of the word index's whole
    /// dictionary rather than of a prefix's words.
    pub walks_dictionary: bool,
}

/// The files `q` certainly matches, or `None` when the index alone cannot say of any file.
pub fn certain_matches(ctx: &PlanContext, q: &Query) -> Option<Certain> {
    match q {
        Query::Literal(s) => indexed_word(s).map(|w| Certain {
            query: word(ctx, w),
            exact: false,
            walks_dictionary: false,
        }),
        Query::Phrase(toks) => match toks.as_slice() {
            [t] => indexed_word(t).map(|w| Certain {
                query: word(ctx, w),
                exact: true,
                walks_dictionary: false,
            }),
            _ => None,
        },
        Query::Wildcard(pattern) => {
            let mut pieces = pattern.split_whitespace();
            let (Some(piece), None) = (pieces.next(), pieces.next()) else {
                return None;
            };
            let query = word_pattern(ctx, piece)?;
            Some(Certain {
                query: Box::new(query),
                exact: false,
                walks_dictionary: unprefixed(piece),
            })
        }
        Query::Near {
            left,
            right,
            distance,
        } => match (left.as_slice(), right.as_slice()) {
            ([a], [b]) => {
                let (a, b) = (indexed_word(a)?, indexed_word(b)?);
                // At most `distance` words between: positions at most distance + 1 apart, in
                // either order (for `a == b`, two occurrences).
                let reach = i64::from(*distance) + 1;
                Some(Certain {
                    query: Box::new(WordQuery::pair(
                        ctx.words.clone(),
                        a,
                        b,
                        vec![(1, reach), (-reach, -1)],
                    )),
                    exact: true,
                    walks_dictionary: false,
                })
            }
            _ => None,
        },
        Query::And(qs) => {
            let parts = qs
                .iter()
                .map(|q| certain_matches(ctx, q))
                .collect::<Option<Vec<_>>>()?;
            Some(combine(parts, Occur::Must, true))
        }
        Query::Or(qs) => {
            let parts: Vec<Certain> = qs.iter().filter_map(|q| certain_matches(ctx, q)).collect();
            if parts.is_empty() {
                return None;
            }
            let all = parts.len() == qs.len();
            Some(combine(parts, Occur::Should, all))
        }
        Query::Not(inner) => {
            let (excluded, exact, walks_dictionary) = match certain_matches(ctx, inner) {
                // The complement of an exact set is exact.
                Some(c) if c.exact => (c.query, true, c.walks_dictionary),
                _ => (candidates(ctx, inner)?, false, leading_wildcard(inner)),
            };
            Some(Certain {
                query: Box::new(BooleanQuery::new(vec![
                    (Occur::Must, Box::new(AllQuery) as Box<dyn TQuery>),
                    (Occur::MustNot, excluded),
                ])),
                exact,
                walks_dictionary,
            })
        }
        Query::Regex(_) => None,
    }
}

/// Does `q` hold a wildcard piece that starts with `*` or `?` (whose lookup in the word
/// index, if any, walks the whole dictionary)?
fn leading_wildcard(q: &Query) -> bool {
    let mut found = false;
    q.walk(&mut |q| {
        if let Query::Wildcard(p) = q {
            found |= p.split_whitespace().any(unprefixed);
        }
    });
    found
}

/// Does a wildcard piece start with `*` or `?`? Its lookup in the word index's dictionary
/// then has no prefix to narrow the walk.
fn unprefixed(piece: &str) -> bool {
    !piece.chars().next().is_some_and(is_word_char)
}

/// `parts` joined by `occur`; exact when `all_parts` (every operand has a part) and each part is.
fn combine(parts: Vec<Certain>, occur: Occur, all_parts: bool) -> Certain {
    let exact = all_parts && parts.iter().all(|c| c.exact);
    let walks_dictionary = parts.iter().any(|c| c.walks_dictionary);
    Certain {
        query: Box::new(BooleanQuery::new(
            parts.into_iter().map(|c| (occur, c.query)).collect(),
        )),
        exact,
        walks_dictionary,
    }
}

/// `s` if it is one word token the word index holds (not too long to be indexed).
fn indexed_word(s: &str) -> Option<&str> {
    let mut toks = code_tokens(s);
    match (toks.next(), toks.next()) {
        (Some(t), None) if t.is_word && t.text == s && s.len() <= MAX_INDEXED_TOKEN_BYTES => {
            Some(s)
        }
        _ => None,
    }
}

fn word(ctx: &PlanContext, w: &str) -> Box<dyn TQuery> {
    Box::new(WordQuery::word(ctx.words.clone(), w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_word_tokens_only_are_indexed_words() {
        assert_eq!(indexed_word("BTreeMap"), Some("BTreeMap"));
        assert_eq!(indexed_word("u32"), Some("u32"));
        assert_eq!(indexed_word(" BTreeMap"), None);
        assert_eq!(indexed_word("std::io"), None);
        assert_eq!(indexed_word("!"), None);
        assert_eq!(indexed_word(""), None);
        assert_eq!(indexed_word(&"x".repeat(MAX_INDEXED_TOKEN_BYTES + 1)), None);
    }
}
