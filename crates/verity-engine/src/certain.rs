//! Certain matches: the files a query matches for certain, from the index alone.
//!
//! Candidates ([`crate::plan`]) are a superset: every one is read back and verified. When a
//! query lists every matching file and most candidates match (a common word, `*Error` on a
//! tree of Rust), reading them is nearly all the work. Some queries can be answered, at least
//! in part, by the code field, whose terms are the text's word tokens, as they are, at their
//! word positions ([`crate::tokenizer::CodeTokenizer`]):
//!
//! * a literal that is one word (`BTreeMap`) is in every file holding that word as a token,
//!   and in files holding it inside a longer word only, which stay to be verified;
//! * a one-word phrase (`"tokio"`) matches exactly the files holding the token;
//! * a one-word wildcard (`*Error`) matches the files holding a word that matches it whole;
//!   a matching word too long to be indexed is left to verification;
//! * two single words `NEAR/n` match exactly the files where their positions are at most
//!   n + 1 apart ([`WordsNearQuery`]): positions count words only, over-long ones too, which is
//!   what `NEAR/n` counts;
//! * `AND`, `OR` and `NOT` combine these: a file certainly matching every operand certainly
//!   matches `AND`; one certainly matching an operand certainly matches `OR`; and a file
//!   that is not even a candidate of `q` certainly matches `NOT q`.
//!
//! Some of these sets are *exact*: a file outside them certainly does not match. An exact set
//! is then the search's candidate plan itself.

use tantivy::postings::Postings;
use tantivy::query::{
    AllQuery, BitSetDocSet, BooleanQuery, ConstScorer, EmptyScorer, EnableScoring, Explanation,
    Occur, Query as TQuery, RegexQuery, Scorer, TermQuery, Weight,
};
use tantivy::schema::IndexRecordOption;
use tantivy::{BitSet, DocId, DocSet, Score, SegmentReader, Term, TERMINATED};

use crate::plan::{candidates, word_automaton, PlanContext};
use crate::query::Query;
use crate::schema::Fields;
use crate::tokenizer::{code_tokens, is_word_char, MAX_INDEXED_TOKEN_BYTES};

/// The files a query certainly matches, as a tantivy query.
pub struct Certain {
    /// Matches only files the query matches.
    pub query: Box<dyn TQuery>,
    /// Matches every file the query matches, too: a candidate outside it does not match.
    pub exact: bool,
    /// Looks up a wildcard that starts with `*` or `?`, a walk of the whole term dictionary
    /// of the code field rather than of a prefix's terms.
    pub walks_dictionary: bool,
}

/// The files `q` certainly matches, or `None` when the index alone cannot say of any file.
pub fn certain_matches(ctx: &PlanContext, q: &Query) -> Option<Certain> {
    let fields = &ctx.fields;
    match q {
        Query::Literal(s) => indexed_word(s).map(|w| Certain {
            query: word(fields, w),
            exact: false,
            walks_dictionary: false,
        }),
        Query::Phrase(toks) => match toks.as_slice() {
            [t] => indexed_word(t).map(|w| Certain {
                query: word(fields, w),
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
            let query = RegexQuery::from_pattern(&word_automaton(piece), fields.code).ok()?;
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
                Some(Certain {
                    query: Box::new(WordsNearQuery {
                        a: Term::from_field_text(fields.code, a),
                        b: Term::from_field_text(fields.code, b),
                        distance: *distance,
                    }),
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

/// Does `q` hold a wildcard piece that starts with `*` or `?` (whose lookup in the code
/// field, if any, walks the whole dictionary)?
fn leading_wildcard(q: &Query) -> bool {
    let mut found = false;
    q.walk(&mut |q| {
        if let Query::Wildcard(p) = q {
            found |= p.split_whitespace().any(unprefixed);
        }
    });
    found
}

/// Does a wildcard piece start with `*` or `?`? Its lookup in the code field's dictionary
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

/// `s` if it is one word token the code field holds (not too long to be indexed).
fn indexed_word(s: &str) -> Option<&str> {
    let mut toks = code_tokens(s);
    match (toks.next(), toks.next()) {
        (Some(t), None) if t.is_word && t.text == s && s.len() <= MAX_INDEXED_TOKEN_BYTES => {
            Some(s)
        }
        _ => None,
    }
}

fn word(fields: &Fields, w: &str) -> Box<dyn TQuery> {
    Box::new(TermQuery::new(
        Term::from_field_text(fields.code, w),
        IndexRecordOption::Basic,
    ))
}

/// Files where word `a` and word `b` stand with at most `distance` words between them, in
/// either order: `a NEAR/distance b` exactly, from the code field's word positions. With
/// `a == b`, two occurrences of the word.
#[derive(Clone, Debug)]
pub struct WordsNearQuery {
    a: Term,
    b: Term,
    distance: u32,
}

impl TQuery for WordsNearQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(self.clone()))
    }
}

impl WordsNearQuery {
    /// The documents of one segment that match.
    fn matching(&self, reader: &SegmentReader) -> tantivy::Result<BitSet> {
        let mut out = BitSet::with_max_value(reader.max_doc());
        let index = reader.inverted_index(self.a.field())?;
        let opt = IndexRecordOption::WithFreqsAndPositions;
        let (Some(mut a), Some(mut b)) = (
            index.read_postings(&self.a, opt)?,
            index.read_postings(&self.b, opt)?,
        ) else {
            return Ok(out);
        };
        let reach = self.distance.saturating_add(1);
        let same = self.a == self.b;
        let (mut pa, mut pb) = (Vec::new(), Vec::new());
        let mut doc = a.doc();
        while doc != TERMINATED {
            // `seek` may not go backwards (tantivy asserts it in debug builds).
            let other = if b.doc() < doc { b.seek(doc) } else { b.doc() };
            if other != doc {
                doc = a.seek(other);
                continue;
            }
            a.positions(&mut pa);
            let near = if same {
                pa.windows(2).any(|w| w[1] - w[0] <= reach)
            } else {
                b.positions(&mut pb);
                within(&pa, &pb, reach)
            };
            if near {
                out.insert(doc);
            }
            doc = a.advance();
        }
        Ok(out)
    }
}

/// Is some `p` of `xs` within `reach` of some `q` of `ys` (both ascending, no value shared)?
/// A merge: each value is compared with the nearest value of the other list before it.
fn within(xs: &[u32], ys: &[u32], reach: u32) -> bool {
    let (mut i, mut j) = (0, 0);
    let mut last: [Option<u32>; 2] = [None, None];
    while i < xs.len() || j < ys.len() {
        let (v, side) = if j >= ys.len() || (i < xs.len() && xs[i] < ys[j]) {
            i += 1;
            (xs[i - 1], 0)
        } else {
            j += 1;
            (ys[j - 1], 1)
        };
        if last[1 - side].is_some_and(|o| v - o <= reach) {
            return true;
        }
        last[side] = Some(v);
    }
    false
}

impl Weight for WordsNearQuery {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        let docs = self.matching(reader)?;
        if docs.len() == 0 {
            return Ok(Box::new(EmptyScorer));
        }
        Ok(Box::new(ConstScorer::new(BitSetDocSet::from(docs), boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        if !self.matching(reader)?.contains(doc) {
            return Err(tantivy::TantivyError::InvalidArgument(format!(
                "document {doc} does not match"
            )));
        }
        Ok(Explanation::new("words near", 1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_finds_the_nearest_pair_in_either_order() {
        assert!(within(&[1], &[3], 2));
        assert!(!within(&[1], &[4], 2));
        assert!(within(&[10], &[8], 2));
        assert!(!within(&[10], &[7], 2));
        // The near pair is not the first of either list.
        assert!(within(&[1, 20, 40], &[10, 30, 41], 1));
        assert!(!within(&[1, 20, 40], &[10, 30, 50], 5));
        assert!(!within(&[], &[1], 5));
    }

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
