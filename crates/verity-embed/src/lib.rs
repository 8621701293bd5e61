//! # verity-embed
//!
//! Embedders: text in, L2-normalised vectors out. The [`Embedder`] trait is what the engine's
//! vector index and the oracle's brute-force nearest-neighbour search both call, so that a
//! vector case checks the *index*, not the embedding: both sides embed with the same model.
//!
//! The built-in [`HashEmbedder`] needs no model file: feature hashing of identifier sub-words
//! and character trigrams. The MiniLM embedder, which needs a model runtime, lives in
//! `verity-vector`, so that this crate (and the oracle) stays free of it.

#![warn(missing_docs)]

mod hash;

pub use hash::{sub_words, HashEmbedder};

/// An embedder that could not embed: a model that would not load, a tokenizer or runtime
/// failure. The message names what failed and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("embedding failed: {0}")]
pub struct EmbedError(pub String);

/// Turns texts into vectors of `dim()` numbers with unit length (or all zeros for a text with
/// no features). Batched, so that model-based embedders can use their batch dimension.
pub trait Embedder: Send + Sync {
    /// A short name for reports (`hash-256`, `all-MiniLM-L6-v2`).
    fn name(&self) -> String;
    /// The number of dimensions of every vector.
    fn dim(&self) -> usize;
    /// One vector per text, in order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;
}
