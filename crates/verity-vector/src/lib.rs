//! # verity-vector
//!
//! The vector side of Verity (issue #6), built up in layers:
//!
//! * [`chunk`] — files split into overlapping line windows that keep their line ranges, so a
//!   chunk hit rolls up to its file and lines;
//! * [`embed`] — the [`embed::Embedder`] trait and the built-in [`embed::HashEmbedder`], which
//!   needs no model: feature hashing of identifier sub-words and character n-grams. It is
//!   *lexical*, not semantic: it finds code that shares names and spellings with the query;
//! * [`exact`] — exact (brute-force) cosine k-nearest-neighbour search: the reference that an
//!   approximate index is measured against, and the ground truth for Vector cases.
//!
//! Not here yet: the MiniLM embedder, the usearch HNSW index, `vector:` / `hybrid:` queries
//! and reciprocal rank fusion.

pub mod chunk;
pub mod embed;
pub mod exact;
pub mod minilm;
pub mod mode;
pub mod store;
