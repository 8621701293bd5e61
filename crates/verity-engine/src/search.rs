//! The entry point of every query: parse the request, run it as a text, vector or hybrid
//! search (`text_search`, `vector`).

use crate::error::EngineError;
use crate::index::CodeIndex;
use crate::query::{parse_request, Request};
use crate::results::{SearchOptions, SearchResults};

impl CodeIndex {
    /// Parses and runs a query: a text query, or a `vector:` or `hybrid:` query.
    ///
    /// Damaged index files give [`EngineError::IndexCorrupt`], never a panic.
    pub fn search(&self, query: &str, opts: &SearchOptions) -> Result<SearchResults, EngineError> {
        let request = parse_request(query)?;
        EngineError::guard(&self.gen_dir, || match request {
            Request::Text(q) => self.search_query(&q, opts),
            Request::Vector(q) => self.search_vector(&q, opts),
            Request::Hybrid(q) => self.search_hybrid(&q, opts),
        })
    }
}
