//! # verity-vector
//!
//! The vector side of the engine: files cut into chunks, chunks embedded, and an index that
//! answers "which chunks are nearest to this text?".
//!
//! * [`chunk`] — files split into overlapping line windows that keep their line ranges, so a
//!   chunk hit rolls up to its file and lines;
//! * [`embed`] — the [`embed::Embedder`] trait and the built-in [`embed::HashEmbedder`]
//!   (re-exported from `verity-embed`, which the oracle shares);
//! * [`minilm`] — the all-MiniLM-L6-v2 embedder, run with candle from a local model directory;
//! * [`config`] — what an index is built with (embedder, chunking, graph parameters, scalar
//!   kind);
//! * [`scalar`] — the stored vectors' scalar kind (`f32`, `f16`, `i8`) and the `i8`
//!   quantization that is lossless for the hash embedder;
//! * [`error`] — [`error::VectorError`], why an operation failed;
//! * [`store`] — the persistent vector index: chunk tables and the vectors, as flat rows
//!   scanned by exact search or in a usearch HNSW graph, updated file by file;
//! * [`mode`] — exact or HNSW search, and the chunk-count rule that picks one;
//! * [`exact`] — exact cosine k-nearest-neighbour search in f64, the reference the graph is
//!   measured against in benchmarks.
//!
//! `vector:` and `hybrid:` queries and rank fusion are the engine's (`verity-engine`'s
//! `vector` module); this crate knows nothing of text search.

#![warn(missing_docs)]

pub mod chunk;
pub mod config;
pub use verity_embed as embed;
pub mod error;
pub mod exact;
pub mod minilm;
pub mod mode;
pub mod scalar;
pub mod store;
