//! Exact (brute-force) k-nearest-neighbour search over every chunk of an index, with its
//! vectors read back once: the reference recall is measured against.

use super::{is_zero, ChunkHit, VectorIndex};
use crate::exact;

/// Exact k-nearest-neighbour search over every chunk of a [`VectorIndex`], with the vectors
/// read back from the graph once.
pub struct ExactSearcher<'a> {
    pub(super) index: &'a VectorIndex,
    /// In chunk position order.
    pub(super) vectors: Vec<Vec<f32>>,
}

impl ExactSearcher<'_> {
    /// The k most similar chunks, best first; ties by position (path, then line). Chunks
    /// without features are never found, as in the graph.
    pub fn search(&self, query: &[f32], k: usize) -> Vec<ChunkHit> {
        if is_zero(query) {
            return Vec::new();
        }
        exact::knn(query, &self.vectors, usize::MAX)
            .into_iter()
            .filter(|(i, _)| !is_zero(&self.vectors[*i]))
            .take(k)
            .map(|(i, s)| self.index.hit(i, s))
            .collect()
    }

    /// The vectors it searches, in chunk position order.
    pub fn vectors(&self) -> &[Vec<f32>] {
        &self.vectors
    }
}
