//! # verity-oracle
//!
//! A second, independent implementation of docs/query-language.md, written from the document
//! alone and sharing no code with `verity-engine` (this crate does not depend on it). It loads
//! every file of a corpus into memory and answers a query by scanning all of them: slow by
//! design, and simple enough to be obviously correct. Ground truth is what it computes.
//!
//! Modules, each using only those before it:
//!
//! * [`tokens`] — code tokens (section 1);
//! * [`syntax`] — modes and the structured grammar (sections 2 to 4);
//! * [`file`] — one text file and its tokens;
//! * [`postings`] — the token counts BM25 needs, once per corpus;
//! * [`corpus`] — which files, and their text (section 1 of the document), and the corpus
//!   fingerprint;
//! * [`eval`] — the meaning of every term, evaluated by brute force;
//! * [`request`] — `vector:` and `hybrid:` requests (section 7);
//! * [`bm25`] — the text ranking (section 6), every token counted again;
//! * [`nearest`] — chunks, exact nearest neighbours and reciprocal rank fusion (sections 5
//!   and 7). Its one shared piece is the embedding function, the `Embedder`
//!   trait of `verity-embed`: it defines similarity (the MiniLM model is checked against an
//!   independent reference). Cargo enforces the rest: this crate depends on neither
//!   `verity-engine` nor `verity-vector`, so it cannot reach their chunker or index.

#![warn(missing_docs)]

pub mod bm25;
pub mod corpus;
pub mod eval;
pub mod file;
pub mod nearest;
pub mod postings;
pub mod request;
pub mod syntax;
pub mod tokens;

pub use corpus::{Corpus, CorpusRules};
pub use file::CorpusFile;
pub use request::{read_request, Request};
pub use syntax::{read_query, Expr, SyntaxError};

use std::collections::BTreeSet;

use rayon::prelude::*;

/// Answers queries over a loaded corpus.
pub struct Oracle<'c> {
    corpus: &'c Corpus,
}

impl<'c> Oracle<'c> {
    /// An oracle over `corpus`.
    pub fn new(corpus: &'c Corpus) -> Self {
        Oracle { corpus }
    }

    /// The exact set of files (corpus-relative paths) matching `query`.
    /// `vector:` and `hybrid:` queries have no set answer and are refused here (see
    /// [`nearest::ChunkTable`]), so a text query that happens to start with those words is
    /// never mistaken for one.
    pub fn files(&self, query: &str) -> Result<BTreeSet<String>, SyntaxError> {
        let expr = match read_request(query)? {
            Request::Text(e) => e,
            _ => {
                return Err(SyntaxError {
                    column: 1,
                    reason: "a vector or hybrid query has a ranked answer, not a set".into(),
                })
            }
        };
        Ok(self
            .corpus
            .files()
            .par_iter()
            .filter(|f| eval::file_matches(&expr, f))
            .map(|f| f.path.clone())
            .collect::<Vec<_>>()
            .into_iter()
            .collect())
    }
}
