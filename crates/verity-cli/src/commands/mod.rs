pub mod bench;
pub mod corpus;
pub mod demo;
pub mod eval;
pub mod index;
pub mod report;
pub mod search;
pub mod serve;
pub mod truth;
pub mod validate;

use std::path::PathBuf;

/// The built-in sample corpus, shipped in the repository.
pub fn sample_corpus() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../sample-corpus"))
}
