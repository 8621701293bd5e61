//! The query language: its syntax tree and its parser.
//!
//! docs/query-language.md is the specification; this module implements it for the engine. The
//! oracle in `verity-validation` implements the same document independently.

mod parser;
mod request;

pub use parser::parse;
pub use request::{
    parse_request, rrf_score, HybridQuery, Request, VectorQuery, DEFAULT_DEPTH, DEFAULT_K, MAX_K,
    RRF_K,
};

use std::fmt;

/// Queries longer than this many characters are refused.
pub const MAX_QUERY_CHARS: usize = 10_000;

/// The largest distance accepted by `NEAR/n` and `"a b"~n`.
pub const MAX_NEAR_DISTANCE: u32 = 10_000;

/// A parsed query. Every variant has a file-level meaning and match locations.
#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// Exact, case-sensitive substring of the file text.
    Literal(String),
    /// A sequence of whole words with `*` / `?` wildcards, on one line.
    Wildcard(String),
    /// A Rust regular expression matched against each line.
    Regex(String),
    /// A sequence of code tokens, whitespace-insensitive, across lines.
    Phrase(Vec<String>),
    /// Two token sequences with at most `distance` word tokens between them, in either order.
    Near {
        /// The first token sequence.
        left: Vec<String>,
        /// The second token sequence.
        right: Vec<String>,
        /// The most word tokens between the two.
        distance: u32,
    },
    /// Every operand matches.
    And(Vec<Query>),
    /// At least one operand matches.
    Or(Vec<Query>),
    /// The operand does not match.
    Not(Box<Query>),
}

impl Query {
    /// Visits this query and every sub-query, depth first.
    pub fn walk<'a>(&'a self, f: &mut impl FnMut(&'a Query)) {
        f(self);
        match self {
            Query::And(qs) | Query::Or(qs) => qs.iter().for_each(|q| q.walk(f)),
            Query::Not(q) => q.walk(f),
            _ => {}
        }
    }
}

/// A query that could not be parsed: what is wrong and the 1-based character column where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct QueryError {
    /// 1-based character column of the problem.
    pub column: usize,
    /// What is wrong, in lowercase.
    pub message: String,
}

impl QueryError {
    pub(crate) fn new(column: usize, message: impl fmt::Display) -> Self {
        QueryError {
            column,
            message: message.to_string(),
        }
    }
}
