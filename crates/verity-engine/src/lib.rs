//! # verity-engine
//!
//! The system under test: an embedded code-search index over a directory of source files,
//! built on [tantivy](https://docs.rs/tantivy).
//!
//! Exact answers come from *verification*, not from a tokenizer: the index proposes candidate
//! files (the engine's own trigram index for literals, wildcards and regexes; its own
//! positional word index for words, phrases and proximity), and every candidate is checked
//! against its indexed text by
//! [`matcher`], which implements docs/query-language.md to the letter, unless the word index
//! says for certain that it matches ([`certain`]: its words are the text's word tokens, at
//! their word positions). BM25 over the word index orders the results. Both indexes live in
//! the text store's batches beside the texts; tantivy holds one document per file (path, text
//! address, stamps) and does deletes, segments and collection.
//!
//! ```no_run
//! use verity_engine::{BuildOptions, CodeIndex, SearchOptions};
//! # fn main() -> Result<(), verity_engine::EngineError> {
//! let (index, report) = CodeIndex::build("src".as_ref(), ".verity".as_ref(), &BuildOptions::default())?;
//! println!("{} files, {} skipped", report.files, report.skipped.len());
//! let results = index.search("Result<T, E>", &SearchOptions::default())?;
//! for hit in results.hits {
//!     println!("{} ({} lines)", hit.path, hit.line_count);
//! }
//! # Ok(()) }
//! ```
//!
//! Modules, in dependency order (each uses only those before it): [`text`] (bytes to text),
//! [`tokenizer`], [`query`] (syntax and parser), [`matcher`] (exact verification), [`walk`]
//! (which files), [`schema`], `entry_set` (sets of a batch's entries, matched to a
//! segment's documents), `trigram_index` (which texts hold each trigram, and the tantivy
//! query over it), `word_index` (each word's texts, frequencies and positions; the queries
//! and BM25 over it), [`plan`] (candidates), [`certain`] (what the index alone
//! answers for certain), [`results`] (what a search returns),
//! `rank_cache` (path order per index generation), `vector_state` (the index's vectors),
//! `text_store` (every indexed file's path and text, in the engine's own files, each batch
//! with its trigram and word indexes),
//! [`generation`] (the on-disk layout: generations published atomically),
//! [`index`] (build, update, open), `source` (where verification reads a candidate's text:
//! the corpus file while its hash is the indexed one, else the stored copy), [`text_search`], [`vector`] (vector and hybrid queries
//! over the `verity-vector` index), [`search`] (the entry point of every query); with
//! [`deadline`] and [`error`] beside them all.

#![warn(missing_docs)]

pub use verity_core::deadline;
pub mod certain;
mod entry_set;
pub mod error;
pub mod generation;
pub mod index;
pub mod matcher;
pub mod plan;
pub mod query;
mod rank_cache;
pub mod results;
pub mod schema;
pub mod search;
mod source;
pub mod text;
pub mod text_search;
mod text_store;
pub mod tokenizer;
mod trigram_index;
pub mod vector;
mod vector_state;
pub mod walk;
mod word_index;

/// The engine's version, for reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

pub use deadline::{CancelToken, Deadline, Interrupted};
pub use error::{EngineError, VectorUnavailable};
pub use generation::Verification;
pub use index::{
    BuildOptions, BuildPhase, BuildReport, CodeIndex, FileStamp, IndexMeta, PhaseHook,
    FORMAT_VERSION,
};
pub use query::{parse, parse_request, Query, QueryError, Request};
pub use results::{ChunkMatch, FusionRanks, LineMatch, SearchHit, SearchOptions, SearchResults};
pub use text_store::TextCompression;
pub use verity_vector::mode::{VectorSearch, EXACT_SEARCH_MAX_CHUNKS};
pub use verity_vector::store::{EmbedderSpec, HnswParams, VectorConfig};
pub use walk::{SkipReason, Skipped, WalkOptions};
