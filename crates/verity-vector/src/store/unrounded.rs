//! The `f32` vectors an `i8` graph holds only approximately, kept beside it and scored from
//! them, so that every similarity Verity reports is the embedder's (docs/BENCHMARKS.md,
//! "Smaller vectors").

use std::collections::HashMap;

/// An `i8` vector whose similarities can move by more than this keeps its `f32` vector
/// beside the graph. The integral vectors of the hash embedder move them by `f32` rounding
/// only (about 1e-7); the validator's tolerance is 1e-3.
pub(super) const UNROUNDED_ABOVE: f32 = 1e-5;

/// The file of an `i8` index's unrounded vectors.
pub(super) const UNROUNDED_FILE: &str = "unrounded.f32";

/// The `f32` vectors of the chunks an `i8` graph holds only approximately, and the most any
/// similarity computed from the graph's copy of one of them can be off.
#[derive(Debug, Default)]
pub(super) struct Unrounded {
    /// Per key: the f32 vector, and how far the graph's `i8` copy can move a similarity
    /// ([`crate::scalar::rounding_error`]).
    pub(super) vectors: HashMap<u64, (Vec<f32>, f32)>,
}

impl Unrounded {
    pub(super) fn insert(&mut self, key: u64, vector: Vec<f32>, error: f32) {
        self.vectors.insert(key, (vector, error));
    }

    pub(super) fn remove(&mut self, key: u64) {
        self.vectors.remove(&key);
    }

    /// The f32 vector of `key`, when the graph's copy is rounded.
    pub(super) fn get(&self, key: u64) -> Option<&[f32]> {
        self.vectors.get(&key).map(|(v, _)| v.as_slice())
    }

    /// How far any similarity computed from the graph can be from the true one.
    pub(super) fn bound(&self) -> f32 {
        self.vectors
            .values()
            .fold(UNROUNDED_ABOVE, |m, (_, e)| m.max(*e))
    }

    /// `key u64, error f32, dim × f32`, little-endian, in key order.
    pub(super) fn to_bytes(&self) -> Vec<u8> {
        let mut records: Vec<(&u64, &(Vec<f32>, f32))> = self.vectors.iter().collect();
        records.sort_by_key(|(k, _)| **k);
        let mut out = Vec::new();
        for (k, (vector, error)) in records {
            out.extend_from_slice(&k.to_le_bytes());
            out.extend_from_slice(&error.to_le_bytes());
            for x in vector {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        out
    }

    pub(super) fn from_bytes(bytes: &[u8], dim: usize) -> Option<Unrounded> {
        let record = 12 + 4 * dim;
        if !bytes.len().is_multiple_of(record) {
            return None;
        }
        let mut u = Unrounded::default();
        for r in bytes.chunks_exact(record) {
            let key = u64::from_le_bytes(r[..8].try_into().ok()?);
            let error = f32::from_le_bytes(r[8..12].try_into().ok()?);
            let vector = r[12..]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            u.insert(key, vector, error);
        }
        Some(u)
    }
}
