//! The `f32` vectors `i8` holds only approximately, kept beside the rows or graph and scored
//! from them, so that every similarity Verity reports is the embedder's (docs/BENCHMARKS.md,
//! "Smaller vectors").
//!
//! On disk (`unrounded.f32`): records of `key u64, error f32, dim × f32`, little-endian, in key
//! order. An index opened for searching maps the file and finds a key by binary search over
//! the records, so a query reads the few records it scores and nothing is parsed at open.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

/// An `i8` vector whose similarities can move by more than this keeps its `f32` vector
/// beside the stored one. The integral vectors of the hash embedder move them by `f32`
/// rounding only (about 1e-7); the validator's tolerance is 1e-3.
pub(super) const UNROUNDED_ABOVE: f32 = 1e-5;

/// The file of an `i8` index's unrounded vectors.
pub(super) const UNROUNDED_FILE: &str = "unrounded.f32";

/// The `f32` vectors of the chunks `i8` holds only approximately, and the most any similarity
/// computed from the rounded copy of one of them can be off.
#[derive(Debug)]
pub(super) enum Unrounded {
    /// Per key: the `f32` vector, and how far the `i8` copy can move a similarity
    /// ([`crate::scalar::rounding_error`]). While an index is built or updated.
    Owned(HashMap<u64, (Vec<f32>, f32)>),
    /// The records of a file, mapped, in key order; `bound` is the largest error (kept in
    /// `meta.json`, so that nothing is read to know it).
    Mapped {
        records: memmap2::Mmap,
        dim: usize,
        bound: f32,
    },
}

impl Default for Unrounded {
    fn default() -> Self {
        Unrounded::Owned(HashMap::new())
    }
}

fn record_len(dim: usize) -> usize {
    12 + 4 * dim
}

impl Unrounded {
    /// The owned map, parsing mapped records first (an index opened for searching is not
    /// meant to be edited, but this keeps editing one correct).
    fn owned(&mut self) -> &mut HashMap<u64, (Vec<f32>, f32)> {
        if let Unrounded::Mapped { records, dim, .. } = self {
            let parsed = parse(records, *dim).unwrap_or_default();
            *self = Unrounded::Owned(parsed);
        }
        match self {
            Unrounded::Owned(map) => map,
            Unrounded::Mapped { .. } => unreachable!("converted above"),
        }
    }

    pub(super) fn insert(&mut self, key: u64, vector: Vec<f32>, error: f32) {
        self.owned().insert(key, (vector, error));
    }

    pub(super) fn remove(&mut self, key: u64) {
        self.owned().remove(&key);
    }

    /// Number of vectors kept.
    pub(super) fn len(&self) -> usize {
        match self {
            Unrounded::Owned(map) => map.len(),
            Unrounded::Mapped { records, dim, .. } => records.len() / record_len(*dim),
        }
    }

    /// Fills `out` with the `f32` vector of `key`, when its stored copy is rounded.
    pub(super) fn get_into(&self, key: u64, out: &mut [f32]) -> bool {
        match self {
            Unrounded::Owned(map) => match map.get(&key) {
                Some((v, _)) => {
                    out.copy_from_slice(v);
                    true
                }
                None => false,
            },
            Unrounded::Mapped { records, dim, .. } => {
                let n = record_len(*dim);
                let count = records.len() / n;
                let key_at = |i: usize| {
                    u64::from_le_bytes(records[i * n..i * n + 8].try_into().expect("8 bytes"))
                };
                // Binary search over the records, which are in key order.
                let (mut lo, mut hi) = (0, count);
                while lo < hi {
                    let mid = (lo + hi) / 2;
                    if key_at(mid) < key {
                        lo = mid + 1;
                    } else {
                        hi = mid;
                    }
                }
                if lo == count || key_at(lo) != key {
                    return false;
                }
                let r = &records[lo * n + 12..(lo + 1) * n];
                for (o, b) in out.iter_mut().zip(r.chunks_exact(4)) {
                    *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                }
                true
            }
        }
    }

    /// How far any similarity computed from a rounded copy can be from the true one.
    pub(super) fn bound(&self) -> f32 {
        match self {
            Unrounded::Owned(map) => map.values().fold(UNROUNDED_ABOVE, |m, (_, e)| m.max(*e)),
            Unrounded::Mapped { bound, .. } => *bound,
        }
    }

    /// The file's bytes: `key u64, error f32, dim × f32`, little-endian, in key order.
    pub(super) fn to_bytes(&self) -> Cow<'_, [u8]> {
        let map = match self {
            Unrounded::Owned(map) => map,
            Unrounded::Mapped { records, .. } => return Cow::Borrowed(records),
        };
        let mut records: Vec<(&u64, &(Vec<f32>, f32))> = map.iter().collect();
        records.sort_by_key(|(k, _)| **k);
        let mut out = Vec::new();
        for (k, (vector, error)) in records {
            out.extend_from_slice(&k.to_le_bytes());
            out.extend_from_slice(&error.to_le_bytes());
            for x in vector {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        Cow::Owned(out)
    }

    /// The records of `bytes`, read into memory; `None` unless they are whole records of
    /// `dim` components in increasing key order.
    pub(super) fn from_bytes(bytes: &[u8], dim: usize) -> Option<Unrounded> {
        parse(bytes, dim).map(Unrounded::Owned)
    }

    /// Maps the file at `path`, whose largest error is `bound`; `Ok(None)` unless it holds
    /// whole records of `dim` components. Nothing else is read: the key order is the
    /// writer's, and damage since is what `verity index --verify` finds.
    pub(super) fn map(path: &Path, dim: usize, bound: f32) -> std::io::Result<Option<Unrounded>> {
        let file = std::fs::File::open(path)?;
        // SAFETY: read-only, and a generation's files are never written in place (they are
        // written under temporary names and renamed).
        let records = unsafe { memmap2::Mmap::map(&file)? };
        let n = record_len(dim);
        if !records.len().is_multiple_of(n) {
            return Ok(None);
        }
        Ok(Some(Unrounded::Mapped {
            records,
            dim,
            bound,
        }))
    }
}

fn in_key_order(bytes: &[u8], n: usize) -> bool {
    let key = |r: &[u8]| u64::from_le_bytes(r[..8].try_into().expect("8 bytes"));
    bytes
        .chunks_exact(n)
        .zip(bytes.chunks_exact(n).skip(1))
        .all(|(a, b)| key(a) < key(b))
}

fn parse(bytes: &[u8], dim: usize) -> Option<HashMap<u64, (Vec<f32>, f32)>> {
    let n = record_len(dim);
    if !bytes.len().is_multiple_of(n) || !in_key_order(bytes, n) {
        return None;
    }
    let mut map = HashMap::with_capacity(bytes.len() / n);
    for r in bytes.chunks_exact(n) {
        let key = u64::from_le_bytes(r[..8].try_into().ok()?);
        let error = f32::from_le_bytes(r[8..12].try_into().ok()?);
        let vector = r[12..]
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        map.insert(key, (vector, error));
    }
    Some(map)
}
