//! Why a vector index operation failed.

use std::path::PathBuf;

use crate::embed::EmbedError;

/// A vector index failure.
#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    /// A file of the index could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file of the index holds something this version cannot read.
    #[error("{path}: {detail}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        detail: String,
    },
    /// The embedder failed.
    #[error(transparent)]
    Embed(#[from] EmbedError),
    /// The usearch graph failed; the cause is kept as the error's source.
    #[error("hnsw index: {0}")]
    Hnsw(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The usearch graph could not be written or read at `path`.
    #[error("{path}: hnsw index: {source}")]
    HnswFile {
        /// The graph's file.
        path: PathBuf,
        /// usearch's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The index would pass what its files can hold.
    #[error("vector index too large: {0}")]
    Capacity(String),
    /// A query vector of the wrong length.
    #[error("query has {query} dimensions, the index {index}")]
    Dimensions {
        /// The query's length.
        query: usize,
        /// The index's dimensions.
        index: usize,
    },
}
