//! Every chunk's vector in one flat array, in chunk position order, and the scan that scores
//! them all: how an index stores its vectors when it has no graph (every search exact).
//!
//! Why not usearch's own brute force: a usearch file keeps a graph node (about 149 bytes a
//! chunk on real code) beside each vector even when no search walks it, and mapping one makes
//! usearch rebuild its key → slot table over every vector, a fifth of a one-query process
//! (docs/BENCHMARKS.md, "Where a cold process spends its time"). A flat file has neither: it
//! is mapped and scanned, and a chunk's vector is found by its position, with no table.
//!
//! On disk (`vectors.flat`) a row is `dim` components of the index's [`Scalar`], little-endian
//! (`i8` as bytes, `f16` as IEEE half precision, `f32`), with nothing between rows. A chunk
//! without features is a row of zeros, and is never found.

use std::path::Path;

use rayon::prelude::*;

use crate::scalar::{quantize_i8, Scalar};

/// The flat vector file in an index directory.
pub(super) const FLAT_FILE: &str = "vectors.flat";

/// How far the similarity the scan computes for a row can be from
/// [`crate::exact::similarity`]'s (accumulated in `f64`) when the query and the row are held
/// exactly: `f32` products over a few hundred components. Rows within this of the k-th are
/// scored again in `f64` before the cut, so ranks and ties are the exact search's.
const SCAN_ERROR: f32 = 1e-4;

/// The rows, in memory or mapped from the file.
enum Rows {
    Owned(Vec<u8>),
    Mapped(memmap2::Mmap),
}

/// Every chunk's vector as a row of the index's scalar kind, in chunk position order.
pub(super) struct Flat {
    scalar: Scalar,
    dim: usize,
    rows: Rows,
}

impl std::fmt::Debug for Flat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flat")
            .field("scalar", &self.scalar)
            .field("dim", &self.dim)
            .field("rows", &self.len())
            .finish()
    }
}

/// One vector as a row of `scalar`, and how far the row moves a similarity (for `i8`, see
/// [`quantize_i8`]; 0 otherwise: `f16` answers are not corrected, as in the graph).
pub(super) fn encode(scalar: Scalar, v: &[f32], out: &mut Vec<u8>) -> f32 {
    match scalar {
        Scalar::I8 => {
            let (q, error) = quantize_i8(v);
            out.extend(q.iter().map(|x| *x as u8));
            error
        }
        Scalar::F16 => {
            for x in v {
                out.extend_from_slice(&half::f16::from_f32(*x).to_le_bytes());
            }
            0.0
        }
        Scalar::F32 => {
            for x in v {
                out.extend_from_slice(&x.to_le_bytes());
            }
            0.0
        }
    }
}

impl Flat {
    /// Rows [`encode`] made, whole by construction.
    pub(super) fn encoded(scalar: Scalar, dim: usize, bytes: Vec<u8>) -> Flat {
        debug_assert!(bytes.len().is_multiple_of((dim * scalar.bytes()).max(1)));
        Flat {
            scalar,
            dim,
            rows: Rows::Owned(bytes),
        }
    }

    /// Rows already encoded (by [`encode`]), in chunk position order.
    pub(super) fn from_bytes(scalar: Scalar, dim: usize, bytes: Vec<u8>) -> Option<Flat> {
        let flat = Flat {
            scalar,
            dim,
            rows: Rows::Owned(bytes),
        };
        flat.whole().then_some(flat)
    }

    /// Maps `path` (a file [`save`](Self::save) wrote): nothing is read until a row is. The
    /// file must not change while it is mapped; an index's files never do (an update writes a
    /// new generation).
    pub(super) fn map(scalar: Scalar, dim: usize, path: &Path) -> std::io::Result<Option<Flat>> {
        let file = std::fs::File::open(path)?;
        // SAFETY: the mapping is read-only and the file is never written in place: a
        // generation's files are written once, under temporary names, and renamed.
        // `populate` reads the pages in one call: an exact search reads every row anyway.
        let map = unsafe { memmap2::MmapOptions::new().populate().map(&file)? };
        let flat = Flat {
            scalar,
            dim,
            rows: Rows::Mapped(map),
        };
        Ok(flat.whole().then_some(flat))
    }

    fn whole(&self) -> bool {
        self.row_bytes() > 0 && self.bytes().len().is_multiple_of(self.row_bytes())
    }

    pub(super) fn bytes(&self) -> &[u8] {
        match &self.rows {
            Rows::Owned(v) => v,
            Rows::Mapped(m) => m,
        }
    }

    fn row_bytes(&self) -> usize {
        self.dim * self.scalar.bytes()
    }

    /// Number of rows.
    pub(super) fn len(&self) -> usize {
        self.bytes().len() / self.row_bytes().max(1)
    }

    /// The encoded row at `pos`.
    pub(super) fn row(&self, pos: usize) -> &[u8] {
        let n = self.row_bytes();
        &self.bytes()[pos * n..(pos + 1) * n]
    }

    /// Fills `out` with row `pos` as `f32` (an `i8` row as its integers: cosine ignores
    /// length). False when the row is zero: a chunk without features.
    pub(super) fn read(&self, pos: usize, out: &mut [f32]) -> bool {
        decode(self.scalar, self.row(pos), out);
        out.iter().any(|x| *x != 0.0)
    }

    /// Every row's cosine similarity with `query` (whose norm is not 0), in row order;
    /// `f32::NEG_INFINITY` for a zero row, which is never found. Within [`SCAN_ERROR`] of the
    /// `f64` similarity of the query and the row as [`read`](Self::read) gives it. Blocks of
    /// rows are scored on the thread pool when there are enough of them to pay for it: a
    /// one-query process has both cores to itself.
    pub(super) fn scores(&self, query: &[f32]) -> Vec<f32> {
        let query = Query::new(self.scalar, query);
        let rb = self.row_bytes();
        let mut out = vec![0.0f32; self.len()];
        if self.len() >= 2 * BLOCK {
            out.par_chunks_mut(BLOCK)
                .zip(self.bytes().par_chunks(rb * BLOCK))
                .for_each(|(o, rows)| self.score_rows(&query, rows, o));
        } else {
            self.score_rows(&query, self.bytes(), &mut out);
        }
        out
    }

    fn score_rows(&self, query: &Query, rows: &[u8], out: &mut [f32]) {
        match query {
            Query::I8 { q, norm } => i8_rows(q, *norm, rows, out),
            Query::F32 { q, norm } => {
                let rows = rows.chunks_exact(self.row_bytes());
                match self.scalar {
                    Scalar::I8 => {
                        for (o, r) in out.iter_mut().zip(rows) {
                            let (dot, nn) = dot_f32_i8(q, r);
                            *o = cosine(f64::from(dot), *norm, f64::from(nn));
                        }
                    }
                    Scalar::F16 | Scalar::F32 => {
                        let mut v = vec![0.0f32; self.dim];
                        for (o, r) in out.iter_mut().zip(rows) {
                            decode(self.scalar, r, &mut v);
                            let (dot, nn) = v
                                .iter()
                                .zip(q.iter())
                                .fold((0.0f32, 0.0f32), |(d, n), (x, q)| (d + x * q, n + x * x));
                            *o = cosine(f64::from(dot), *norm, f64::from(nn));
                        }
                    }
                }
            }
        }
    }

    /// The encoded rows `start..start + count`.
    pub(super) fn rows(&self, start: usize, count: usize) -> &[u8] {
        let n = self.row_bytes();
        &self.bytes()[start * n..(start + count) * n]
    }
}

/// The rows that can be among the `k` best, in position order: `scores` as [`Flat::scores`]
/// gives them, for rows whose true similarity can be up to `error` from what their row gives
/// (besides the scan's own [`SCAN_ERROR`]). With M the largest difference, a true top-k row
/// scores at least the k-th best score − 2M: the k best-scored rows are each truly at least
/// their score − M, so the true k-th is too, and a true top-k row scores at most M below it.
/// Rows tied with the k-th are all included.
pub(super) fn candidates(scores: &[f32], k: usize, error: f32) -> Vec<usize> {
    // The k best scores in a min-heap: one comparison for most rows, no copy of the scores.
    let mut best = std::collections::BinaryHeap::with_capacity(k + 1);
    for s in scores.iter().filter(|s| s.is_finite()) {
        let s = std::cmp::Reverse(Total(*s));
        if best.len() < k {
            best.push(s);
        } else if best.peek().is_some_and(|min| s < *min) {
            best.pop();
            best.push(s);
        }
    }
    let threshold = match best.peek() {
        Some(std::cmp::Reverse(Total(kth))) if best.len() == k => kth - 2.0 * (SCAN_ERROR + error),
        _ => f32::MIN,
    };
    scores
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_finite() && **s >= threshold)
        .map(|(i, _)| i)
        .collect()
}

/// An `f32` ordered by `total_cmp`, for the heap.
#[derive(PartialEq)]
struct Total(f32);

impl Eq for Total {}

impl PartialOrd for Total {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Total {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

fn cosine(dot: f64, qn: f64, nn: f64) -> f32 {
    if nn == 0.0 {
        return f32::NEG_INFINITY;
    }
    (dot / (qn * nn.sqrt())) as f32
}

/// Rows scored per task of the thread pool.
const BLOCK: usize = 4096;

/// The query as the scan uses it, with its norm.
enum Query {
    /// Against `i8` rows, when the query is a normalised vector of small integers (the hash
    /// embedder's): the dot products and norms are then exact integers.
    I8 { q: Vec<i8>, norm: f64 },
    /// Otherwise.
    F32 { q: Vec<f32>, norm: f64 },
}

impl Query {
    fn new(scalar: Scalar, query: &[f32]) -> Query {
        if scalar == Scalar::I8 {
            let (q, error) = quantize_i8(query);
            if error < 1e-6 && q.iter().any(|x| *x != 0) {
                let norm = (q.iter().map(|x| i64::from(*x).pow(2)).sum::<i64>() as f64).sqrt();
                return Query::I8 { q, norm };
            }
        }
        let norm = query
            .iter()
            .map(|x| f64::from(*x) * f64::from(*x))
            .sum::<f64>()
            .sqrt();
        Query::F32 {
            q: query.to_vec(),
            norm,
        }
    }
}

/// Scores `i8` rows against an `i8` query: the scan's inner loop, compiled for AVX2 where the
/// processor has it (about three times the rows a second of the baseline SSE2 build, which
/// has no 8- or 16-bit multiply-add that the loop can use).
fn i8_rows(q: &[i8], norm: f64, rows: &[u8], out: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, checked just above.
        unsafe { i8_rows_avx2(q, norm, rows, out) };
        return;
    }
    i8_rows_portable(q, norm, rows, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn i8_rows_avx2(q: &[i8], norm: f64, rows: &[u8], out: &mut [f32]) {
    i8_rows_portable(q, norm, rows, out);
}

#[inline(always)]
fn i8_rows_portable(q: &[i8], norm: f64, rows: &[u8], out: &mut [f32]) {
    for (o, r) in out.iter_mut().zip(rows.chunks_exact(q.len())) {
        let (dot, nn) = dot_i8(q, r);
        *o = cosine(f64::from(dot), norm, f64::from(nn));
    }
}

/// (q · r, r · r) for an `i8` query and row, exactly: products of 8-bit values widened to
/// 16 bits and summed in 32 (127² a component: exact below 100,000 dimensions), the shape the
/// compiler turns into multiply-adds.
#[inline(always)]
fn dot_i8(q: &[i8], r: &[u8]) -> (i32, i32) {
    let mut dot = 0i32;
    let mut nn = 0i32;
    for (a, b) in q.iter().zip(r) {
        let a = i32::from(i16::from(*a));
        let b = i32::from(i16::from(*b as i8));
        dot += a * b;
        nn += b * b;
    }
    (dot, nn)
}

/// (q · r, r · r) for an `f32` query and an `i8` row (the norm exactly).
fn dot_f32_i8(q: &[f32], r: &[u8]) -> (f32, i32) {
    let mut dot = 0.0f32;
    let mut nn = 0i32;
    for (a, b) in q.iter().zip(r) {
        let b = i32::from(*b as i8);
        dot += a * b as f32;
        nn += b * b;
    }
    (dot, nn)
}

fn decode(scalar: Scalar, row: &[u8], out: &mut [f32]) {
    match scalar {
        Scalar::I8 => {
            for (o, b) in out.iter_mut().zip(row) {
                *o = f32::from(*b as i8);
            }
        }
        Scalar::F16 => {
            for (o, b) in out.iter_mut().zip(row.chunks_exact(2)) {
                *o = half::f16::from_le_bytes([b[0], b[1]]).to_f32();
            }
        }
        Scalar::F32 => {
            for (o, b) in out.iter_mut().zip(row.chunks_exact(4)) {
                *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exact::similarity;
    use proptest::prelude::*;

    fn flat_of(scalar: Scalar, vectors: &[Vec<f32>]) -> Flat {
        let mut bytes = Vec::new();
        for v in vectors {
            encode(scalar, v, &mut bytes);
        }
        Flat::from_bytes(scalar, vectors[0].len(), bytes).unwrap()
    }

    proptest! {
        /// The scan's scores are the `f64` similarities of the rows as stored, within
        /// SCAN_ERROR, for every scalar kind and integral or other queries; zero rows are
        /// never found; the candidates hold the true top k.
        #[test]
        fn scan_scores_are_the_stored_rows_similarities(
            ints in proptest::collection::vec(proptest::collection::vec(-6i32..6, 16), 1..40),
            q in proptest::collection::vec(-1.0f32..1.0, 16),
            integral in any::<bool>(),
            k in 1usize..12,
        ) {
            let vectors: Vec<Vec<f32>> =
                ints.iter().map(|v| v.iter().map(|x| *x as f32 / 7.0).collect()).collect();
            let q: Vec<f32> = if integral { q.iter().map(|x| (x * 5.0).round()).collect() } else { q };
            prop_assume!(q.iter().any(|x| *x != 0.0));
            for scalar in [Scalar::I8, Scalar::F16, Scalar::F32] {
                let flat = flat_of(scalar, &vectors);
                prop_assert_eq!(flat.len(), vectors.len());
                let scores = flat.scores(&q);
                let mut v = vec![0.0; 16];
                let mut truth = Vec::new();
                for (pos, s) in scores.iter().enumerate() {
                    if flat.read(pos, &mut v) {
                        let exact = similarity(&q, &v);
                        prop_assert!((exact - s).abs() <= SCAN_ERROR, "{scalar}: {exact} vs {s}");
                        truth.push((pos, exact));
                    } else {
                        prop_assert_eq!(*s, f32::NEG_INFINITY);
                    }
                }
                truth.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
                let chosen = candidates(&scores, k, 0.0);
                for (pos, _) in truth.iter().take(k) {
                    prop_assert!(chosen.contains(pos), "{scalar}: {pos} missing");
                }
            }
        }
    }

    #[test]
    fn rows_round_trip_and_a_partial_file_is_refused() {
        let vs = vec![vec![0.5, -1.0, 0.0], vec![0.0; 3], vec![0.25, 0.5, 1.0]];
        for scalar in [Scalar::I8, Scalar::F16, Scalar::F32] {
            let flat = flat_of(scalar, &vs);
            let mut v = vec![0.0; 3];
            assert!(flat.read(0, &mut v));
            assert!(
                (similarity(&v, &vs[0]) - 1.0).abs() < 1e-6,
                "{scalar}: {v:?}"
            );
            assert!(!flat.read(1, &mut v), "a zero row is no vector");
            assert_eq!(flat.rows(1, 2), [flat.row(1), flat.row(2)].concat());
            let mut short = flat.bytes().to_vec();
            short.pop();
            assert!(Flat::from_bytes(scalar, 3, short).is_none());
        }
    }
}
