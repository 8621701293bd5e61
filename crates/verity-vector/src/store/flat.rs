//! Every chunk's vector in one flat array, in chunk position order, and the scan that scores
//! them all: how an index stores its vectors when it has no graph (every search exact).
//!
//! Why not usearch's own brute force: a usearch file keeps a graph node (about 149 bytes a
//! chunk on real code) beside each vector even when no search walks it, and mapping one makes
//! usearch rebuild its key → slot table over every vector, a fifth of a one-query process
//! (docs/BENCHMARKS.md, "Where a cold process spends its time"). A flat file has neither: it
//! is mapped and scanned, and a chunk's vector is found by its position, with no table.
//!
//! On disk (`vectors.flat`) rows are laid out one of two ways ([`RowLayout`], named in
//! `meta.json`):
//!
//! * **plain**: a row is `dim` components of the index's [`Scalar`], little-endian (`i8` as
//!   bytes, `f16` as IEEE half precision, `f32`), with nothing between rows;
//! * **packed** (`i8` only, when it is the smaller): four parts, each in row order: the rows
//!   packed five bits a component (`super::packed`), each row's v · v and the running count
//!   of exceptions at its end (little-endian `u32`s), and the exceptions. The hash embedder's
//!   vectors take 0.6–0.85 of the plain size this way; vectors rounded to ±127 (MiniLM's,
//!   with `--scalar i8`) would take more, and stay plain.
//!
//! A chunk without features is a row of zeros, and is never found.

use std::path::Path;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::packed;
use crate::error::VectorError;
use crate::scalar::{quantize_i8, Scalar};

/// The flat vector file in an index directory.
pub(super) const FLAT_FILE: &str = "vectors.flat";

/// How far the similarity the scan computes for a row can be from
/// [`crate::exact::similarity`]'s (accumulated in `f64`) when the query and the row are held
/// exactly: `f32` products over a few hundred components. Rows within this of the k-th are
/// scored again in `f64` before the cut, so ranks and ties are the exact search's.
const SCAN_ERROR: f32 = 1e-4;

/// How the rows are laid out in the file: see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(super) enum RowLayout {
    /// `dim` components a row.
    #[default]
    Plain,
    /// `i8` rows five bits a component, their norms and exceptions.
    Packed,
}

impl RowLayout {
    /// The name `meta.json` gives it.
    pub(super) fn name(self) -> &'static str {
        match self {
            RowLayout::Plain => "plain",
            RowLayout::Packed => "packed",
        }
    }
}

/// The file's bytes, in memory or mapped.
enum Bytes {
    Owned(Vec<u8>),
    Mapped(memmap2::Mmap),
}

/// Every chunk's vector as a row of the index's scalar kind, in chunk position order.
pub(super) struct Flat {
    scalar: Scalar,
    dim: usize,
    len: usize,
    layout: RowLayout,
    bytes: Bytes,
}

impl std::fmt::Debug for Flat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Flat")
            .field("scalar", &self.scalar)
            .field("dim", &self.dim)
            .field("rows", &self.len)
            .field("layout", &self.layout)
            .finish()
    }
}

/// The parts of an `i8` file.
struct Parts<'a> {
    packed: &'a [u8],
    norms: &'a [u8],
    ends: &'a [u8],
    exceptions: &'a [u8],
}

impl Parts<'_> {
    /// The exceptions before row `pos`.
    fn start(&self, pos: usize) -> usize {
        match pos {
            0 => 0,
            _ => packed::u32_at(self.ends, pos - 1) as usize,
        }
    }
}

impl Flat {
    /// `len` rows laid out as `layout`, as [`bytes`](Self::bytes) gave them; `None` unless
    /// the bytes are exactly that.
    pub(super) fn from_bytes(
        scalar: Scalar,
        dim: usize,
        len: usize,
        layout: RowLayout,
        bytes: Vec<u8>,
    ) -> Option<Flat> {
        let flat = Flat {
            scalar,
            dim,
            len,
            layout,
            bytes: Bytes::Owned(bytes),
        };
        flat.whole().then_some(flat)
    }

    /// Maps `path` (a file [`bytes`](Self::bytes) were written to) as `len` rows laid out as
    /// `layout`: nothing is read until a row is. The file must not change while it is mapped;
    /// an index's files never do (an update writes a new generation).
    pub(super) fn map(
        scalar: Scalar,
        dim: usize,
        len: usize,
        layout: RowLayout,
        path: &Path,
    ) -> std::io::Result<Option<Flat>> {
        let file = std::fs::File::open(path)?;
        // SAFETY: the mapping is read-only and the file is never written in place: a
        // generation's files are written once, under temporary names, and renamed.
        // `populate` reads the pages in one call: an exact search reads every row anyway.
        let map = unsafe { memmap2::MmapOptions::new().populate().map(&file)? };
        let flat = Flat {
            scalar,
            dim,
            len,
            layout,
            bytes: Bytes::Mapped(map),
        };
        Ok(flat.whole().then_some(flat))
    }

    /// Whether the bytes are `len` rows: the right size, and for `i8` exception counts that
    /// never go back and end at the number of exceptions (so every row's exceptions can be
    /// found without a check).
    fn whole(&self) -> bool {
        if self.layout == RowLayout::Plain {
            let row = self.dim * self.scalar.bytes();
            return self.len.checked_mul(row) == Some(self.bytes().len());
        }
        let Some(parts) = self.parts() else {
            return false;
        };
        let width = packed::exception_bytes(self.dim);
        let mut last = 0;
        for end in parts.ends.chunks_exact(4) {
            let end = u32::from_le_bytes([end[0], end[1], end[2], end[3]]) as usize;
            if end < last {
                return false;
            }
            last = end;
        }
        parts.exceptions.len() == last * width
    }

    /// The parts of a packed file; `None` for plain rows, or a file too short to hold them.
    fn parts(&self) -> Option<Parts<'_>> {
        if self.layout != RowLayout::Packed || self.scalar != Scalar::I8 {
            return None;
        }
        let bytes = self.bytes();
        let packed_len = self.len.checked_mul(packed::row_bytes(self.dim))?;
        let (packed, rest) = bytes.split_at_checked(packed_len)?;
        let (norms, rest) = rest.split_at_checked(self.len.checked_mul(4)?)?;
        let (ends, exceptions) = rest.split_at_checked(self.len * 4)?;
        Some(Parts {
            packed,
            norms,
            ends,
            exceptions,
        })
    }

    /// How the rows are laid out.
    pub(super) fn layout(&self) -> RowLayout {
        self.layout
    }

    /// The bytes as the file holds them.
    pub(super) fn bytes(&self) -> &[u8] {
        match &self.bytes {
            Bytes::Owned(v) => v,
            Bytes::Mapped(m) => m,
        }
    }

    /// Fills `out` with row `pos` as `f32` (an `i8` row as its integers: cosine ignores
    /// length). False when the row is zero: a chunk without features.
    pub(super) fn read(&self, pos: usize, out: &mut [f32]) -> bool {
        match self.parts() {
            Some(parts) => {
                let mut v = vec![0i8; self.dim];
                self.read_packed(&parts, pos, &mut v);
                for (o, x) in out.iter_mut().zip(&v) {
                    *o = f32::from(*x);
                }
            }
            None => decode(self.scalar, self.plain_row(pos), out),
        }
        out.iter().any(|x| *x != 0.0)
    }

    /// Row `pos` of plain rows.
    fn plain_row(&self, pos: usize) -> &[u8] {
        let n = self.dim * self.scalar.bytes();
        &self.bytes()[pos * n..(pos + 1) * n]
    }

    /// Row `pos` of packed rows.
    fn read_packed(&self, parts: &Parts, pos: usize, out: &mut [i8]) {
        let n = packed::row_bytes(self.dim);
        let width = packed::exception_bytes(self.dim);
        let (from, to) = (parts.start(pos), parts.start(pos + 1));
        packed::unpack(
            &parts.packed[pos * n..(pos + 1) * n],
            &parts.exceptions[from * width..to * width],
            out,
        );
    }

    /// Every row's cosine similarity with `query` (whose norm is not 0), in row order;
    /// `f32::NEG_INFINITY` for a zero row, which is never found. Within [`SCAN_ERROR`] of the
    /// `f64` similarity of the query and the row as [`read`](Self::read) gives it. Blocks of
    /// rows are scored on the thread pool when there are enough of them to pay for it: a
    /// one-query process has both cores to itself.
    pub(super) fn scores(&self, query: &[f32]) -> Vec<f32> {
        let query = Query::new(self.scalar, query);
        let mut out = vec![0.0f32; self.len];
        if self.len >= 2 * BLOCK {
            out.par_chunks_mut(BLOCK)
                .enumerate()
                .for_each(|(b, o)| self.score_rows(&query, b * BLOCK, o));
        } else {
            self.score_rows(&query, 0, &mut out);
        }
        out
    }

    /// Scores the rows from `start` into `out`, one a row.
    fn score_rows(&self, query: &Query, start: usize, out: &mut [f32]) {
        let end = start + out.len();
        match (query, self.parts()) {
            (Query::I8 { q, norm }, Some(parts)) => {
                let n = packed::row_bytes(self.dim);
                let rows = packed::Rows {
                    packed: &parts.packed[start * n..end * n],
                    norms: &parts.norms[start * 4..end * 4],
                    ends: &parts.ends[start * 4..end * 4],
                    start: parts.start(start),
                    exceptions: parts.exceptions,
                };
                packed::dots(q, &rows, out, |dot, nn| {
                    cosine(f64::from(dot), *norm, f64::from(nn))
                });
            }
            (Query::I8 { q, norm }, None) => {
                let n = self.dim;
                i8_rows(
                    q.components(),
                    *norm,
                    &self.bytes()[start * n..end * n],
                    out,
                );
            }
            (Query::F32 { q, norm }, Some(parts)) => {
                let mut v = vec![0i8; self.dim];
                for (i, o) in out.iter_mut().enumerate() {
                    self.read_packed(&parts, start + i, &mut v);
                    let dot = v.iter().zip(q).map(|(x, q)| f32::from(*x) * q).sum::<f32>();
                    let nn = packed::u32_at(parts.norms, start + i);
                    *o = cosine(f64::from(dot), *norm, f64::from(nn));
                }
            }
            (Query::F32 { q, norm }, None) => {
                let mut v = vec![0.0f32; self.dim];
                for (i, o) in out.iter_mut().enumerate() {
                    decode(self.scalar, self.plain_row(start + i), &mut v);
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

/// Rows being made, in chunk position order: one file's, or a whole index's.
pub(super) struct FlatBuilder {
    scalar: Scalar,
    dim: usize,
    len: usize,
    /// `f16`/`f32` rows, or packed `i8` rows.
    rows: Vec<u8>,
    /// For `i8`: each row's v · v and running exception count, and the exceptions.
    norms: Vec<u8>,
    ends: Vec<u8>,
    exceptions: Vec<u8>,
    /// The running exception count, which may pass what a file can hold (then [`finish`]
    /// fails).
    exception_count: u64,
}

impl FlatBuilder {
    /// No rows yet; room for `capacity`.
    pub(super) fn new(scalar: Scalar, dim: usize, capacity: usize) -> FlatBuilder {
        let row = match scalar {
            Scalar::I8 => packed::row_bytes(dim),
            _ => dim * scalar.bytes(),
        };
        let side = if scalar == Scalar::I8 {
            capacity * 4
        } else {
            0
        };
        FlatBuilder {
            scalar,
            dim,
            len: 0,
            rows: Vec::with_capacity(capacity * row),
            norms: Vec::with_capacity(side),
            ends: Vec::with_capacity(side),
            exceptions: Vec::new(),
            exception_count: 0,
        }
    }

    /// Appends `v` (of `dim` components) as a row, and returns how far the row moves a
    /// similarity (for `i8`, see [`quantize_i8`]; 0 otherwise: `f16` answers are not
    /// corrected, as in the graph).
    pub(super) fn push(&mut self, v: &[f32]) -> f32 {
        self.len += 1;
        match self.scalar {
            Scalar::I8 => {
                let (q, error) = quantize_i8(v);
                self.push_i8(&q);
                error
            }
            Scalar::F16 => {
                for x in v {
                    self.rows
                        .extend_from_slice(&half::f16::from_f32(*x).to_le_bytes());
                }
                0.0
            }
            Scalar::F32 => {
                for x in v {
                    self.rows.extend_from_slice(&x.to_le_bytes());
                }
                0.0
            }
        }
    }

    fn push_i8(&mut self, q: &[i8]) {
        let (norm, count) = packed::pack(q, &mut self.rows, &mut self.exceptions);
        self.exception_count += u64::from(count);
        self.norms.extend_from_slice(&norm.to_le_bytes());
        self.ends
            .extend_from_slice(&(self.exception_count as u32).to_le_bytes());
    }

    /// Appends rows `start..start + count` of `flat` (of this builder's kind and size), as
    /// they are.
    pub(super) fn extend_from(&mut self, flat: &Flat, start: usize, count: usize) {
        let end = start + count;
        let Some(parts) = flat.parts() else {
            if self.scalar == Scalar::I8 {
                // Plain i8 rows are packed again: the builder packs, and unpacks at the end
                // when that is the smaller.
                for pos in start..end {
                    let row: Vec<i8> = flat.plain_row(pos).iter().map(|b| *b as i8).collect();
                    self.len += 1;
                    self.push_i8(&row);
                }
            } else {
                let n = self.dim * self.scalar.bytes();
                self.len += count;
                self.rows
                    .extend_from_slice(&flat.bytes()[start * n..end * n]);
            }
            return;
        };
        self.len += count;
        let n = packed::row_bytes(self.dim);
        let width = packed::exception_bytes(self.dim);
        self.rows
            .extend_from_slice(&parts.packed[start * n..end * n]);
        self.norms
            .extend_from_slice(&parts.norms[start * 4..end * 4]);
        let (from, to) = (parts.start(start), parts.start(end));
        for pos in start..end {
            let end = (packed::u32_at(parts.ends, pos) as usize - from) as u64;
            self.ends
                .extend_from_slice(&((self.exception_count + end) as u32).to_le_bytes());
        }
        self.exception_count += (to - from) as u64;
        self.exceptions
            .extend_from_slice(&parts.exceptions[from * width..to * width]);
    }

    /// Appends the rows of `other` (of this builder's kind and size).
    pub(super) fn append(&mut self, other: FlatBuilder) {
        self.rows.extend_from_slice(&other.rows);
        self.norms.extend_from_slice(&other.norms);
        for end in other.ends.chunks_exact(4) {
            let end = u64::from(u32::from_le_bytes([end[0], end[1], end[2], end[3]]));
            let end = self.exception_count + end;
            self.ends.extend_from_slice(&(end as u32).to_le_bytes());
        }
        self.exception_count += other.exception_count;
        self.exceptions.extend_from_slice(&other.exceptions);
        self.len += other.len;
    }

    /// The rows as a [`Flat`]: `i8` rows packed, or plain when that is the smaller. Fails
    /// when packed rows have more exceptions than a file counts (2³² − 1, about 1.4 billion
    /// chunks of the hash embedder's vectors).
    pub(super) fn finish(self) -> Result<Flat, VectorError> {
        if self.scalar != Scalar::I8 {
            return Ok(Flat {
                scalar: self.scalar,
                dim: self.dim,
                len: self.len,
                layout: RowLayout::Plain,
                bytes: Bytes::Owned(self.rows),
            });
        }
        let packed_size = self.rows.len() + 2 * self.norms.len() + self.exceptions.len();
        if packed_size > self.len * self.dim {
            return Ok(self.unpacked());
        }
        self.packed()
    }

    /// `i8` rows packed, whatever their size.
    fn packed(self) -> Result<Flat, VectorError> {
        if self.exception_count > u64::from(u32::MAX) {
            return Err(VectorError::Capacity(format!(
                "{} vector components outside the packed range, more than a flat vector file \
                 holds ({}); search this index with --vector-search hnsw",
                self.exception_count,
                u32::MAX
            )));
        }
        let mut bytes = self.rows;
        bytes.reserve_exact(self.norms.len() + self.ends.len() + self.exceptions.len());
        bytes.extend_from_slice(&self.norms);
        bytes.extend_from_slice(&self.ends);
        bytes.extend_from_slice(&self.exceptions);
        Ok(Flat {
            scalar: self.scalar,
            dim: self.dim,
            len: self.len,
            layout: RowLayout::Packed,
            bytes: Bytes::Owned(bytes),
        })
    }

    /// Packed `i8` rows as plain ones.
    fn unpacked(self) -> Flat {
        let (n, width) = (
            packed::row_bytes(self.dim),
            packed::exception_bytes(self.dim),
        );
        let mut bytes = Vec::with_capacity(self.len * self.dim);
        let mut v = vec![0i8; self.dim];
        let mut from = 0;
        for (pos, row) in self.rows.chunks_exact(n).enumerate() {
            let to = packed::u32_at(&self.ends, pos) as usize;
            packed::unpack(row, &self.exceptions[from * width..to * width], &mut v);
            from = to;
            bytes.extend(v.iter().map(|x| *x as u8));
        }
        Flat {
            scalar: self.scalar,
            dim: self.dim,
            len: self.len,
            layout: RowLayout::Plain,
            bytes: Bytes::Owned(bytes),
        }
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
    I8 { q: packed::Query, norm: f64 },
    /// Otherwise.
    F32 { q: Vec<f32>, norm: f64 },
}

impl Query {
    fn new(scalar: Scalar, query: &[f32]) -> Query {
        if scalar == Scalar::I8 {
            let (q, error) = quantize_i8(query);
            if error < 1e-6 && q.iter().any(|x| *x != 0) {
                let norm = (q.iter().map(|x| i64::from(*x).pow(2)).sum::<i64>() as f64).sqrt();
                return Query::I8 {
                    q: packed::Query::new(&q),
                    norm,
                };
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

/// Scores plain `i8` rows against an `i8` query: the scan's inner loop, compiled for AVX2
/// where the processor has it (about three times the rows a second of the baseline SSE2
/// build, which has no 8- or 16-bit multiply-add that the loop can use).
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

/// A plain row as `f32` (an `i8` row as its integers).
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

    /// The rows of `vectors`, as a file holds them: packed if `i8`.
    fn flat_of(scalar: Scalar, vectors: &[Vec<f32>]) -> Flat {
        flat_laid_out(scalar, vectors, scalar == Scalar::I8)
    }

    /// The rows of `vectors` as a file holds them; `i8` rows `packed` or plain (tests use
    /// vectors too short for packing to pay: `finish` would keep them plain).
    fn flat_laid_out(scalar: Scalar, vectors: &[Vec<f32>], packed: bool) -> Flat {
        let mut rows = FlatBuilder::new(scalar, vectors[0].len(), 0);
        for v in vectors {
            rows.push(v);
        }
        let flat = if packed {
            rows.packed().unwrap()
        } else {
            rows.finish().unwrap()
        };
        // What is written is what is read back.
        Flat::from_bytes(
            scalar,
            flat.dim,
            flat.len,
            flat.layout,
            flat.bytes().to_vec(),
        )
        .unwrap()
    }

    proptest! {
        /// The scan's scores are the `f64` similarities of the rows as stored, within
        /// SCAN_ERROR, for every scalar kind and integral or other queries; zero rows are
        /// never found; the candidates hold the true top k.
        #[test]
        fn scan_scores_are_the_stored_rows_similarities(
            ints in proptest::collection::vec(proptest::collection::vec(prop_oneof![4 => -6i32..6, 1 => -60i32..60], 16), 1..40),
            q in proptest::collection::vec(-1.0f32..1.0, 16),
            integral in any::<bool>(),
            k in 1usize..12,
        ) {
            let vectors: Vec<Vec<f32>> =
                ints.iter().map(|v| v.iter().map(|x| *x as f32 / 7.0).collect()).collect();
            let q: Vec<f32> = if integral { q.iter().map(|x| (x * 5.0).round()).collect() } else { q };
            prop_assume!(q.iter().any(|x| *x != 0.0));
            for (scalar, packed) in [
                (Scalar::I8, true),
                (Scalar::I8, false),
                (Scalar::F16, false),
                (Scalar::F32, false),
            ] {
                let flat = flat_laid_out(scalar, &vectors, packed);
                prop_assert_eq!(flat.len, vectors.len());
                prop_assert_eq!(flat.layout == RowLayout::Packed, packed);
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
        let vs = vec![
            vec![0.5, -1.0, 0.0],
            vec![0.0; 3],
            vec![0.25, 0.5, 1.0],
            vec![1.0, 100.0, -30.0],
        ];
        for scalar in [Scalar::I8, Scalar::F16, Scalar::F32] {
            let flat = flat_of(scalar, &vs);
            let mut v = vec![0.0; 3];
            assert!(flat.read(0, &mut v));
            assert!(
                (similarity(&v, &vs[0]) - 1.0).abs() < 1e-6,
                "{scalar}: {v:?}"
            );
            assert!(!flat.read(1, &mut v), "a zero row is no vector");
            assert!(flat.read(3, &mut v));
            assert!(
                (similarity(&v, &vs[3]) - 1.0).abs() < 1e-3,
                "{scalar}: {v:?}"
            );
            // A run of rows copied from a file is those rows, exceptions included.
            let mut copy = FlatBuilder::new(scalar, 3, 0);
            copy.extend_from(&flat, 2, 2);
            copy.extend_from(&flat, 0, 1);
            let copy = copy.finish().unwrap();
            let mut want = FlatBuilder::new(scalar, 3, 0);
            for v in [&vs[2], &vs[3], &vs[0]] {
                want.push(v);
            }
            assert_eq!(copy.bytes(), want.finish().unwrap().bytes(), "{scalar}");
            let mut short = flat.bytes().to_vec();
            short.pop();
            assert!(Flat::from_bytes(scalar, 3, 4, flat.layout, short).is_none());
            assert!(Flat::from_bytes(scalar, 3, 5, flat.layout, flat.bytes().to_vec()).is_none());
        }
    }

    #[test]
    fn rows_are_packed_only_when_that_is_smaller() {
        let finished = |vectors: &[Vec<f32>]| {
            let mut rows = FlatBuilder::new(Scalar::I8, 64, 3);
            for v in vectors {
                rows.push(v);
            }
            rows.finish().unwrap()
        };
        let small: Vec<Vec<f32>> = (0..3).map(|i| vec![i as f32 - 2.0; 64]).collect();
        assert_eq!(finished(&small).layout, RowLayout::Packed);
        // Rounded to ±127 (MiniLM's vectors as i8): nearly every component is an exception.
        let rounded: Vec<Vec<f32>> = (0..3)
            .map(|i| {
                (0..64)
                    .map(|d| ((d * 37 + i) as f32 * 0.739).sin())
                    .collect()
            })
            .collect();
        let flat = finished(&rounded);
        assert_eq!(flat.layout, RowLayout::Plain);
        assert_eq!(flat.bytes().len(), 3 * 64);
        let mut v = vec![0.0; 64];
        assert!(flat.read(2, &mut v));
        assert!((similarity(&v, &rounded[2]) - 1.0).abs() < 1e-3);
    }

    #[test]
    fn exception_counts_that_go_back_are_refused() {
        let flat = flat_of(Scalar::I8, &[vec![100.0, -90.0, 1.0], vec![1.0, 2.0, 3.0]]);
        let mut bytes = flat.bytes().to_vec();
        let ends = 2 * packed::row_bytes(3) + 8;
        assert_eq!(bytes[ends..ends + 8], [2, 0, 0, 0, 2, 0, 0, 0]);
        bytes[ends + 4] = 1;
        assert!(Flat::from_bytes(Scalar::I8, 3, 2, RowLayout::Packed, bytes).is_none());
    }

    /// Blocks scored on the thread pool start at the right exceptions.
    #[test]
    fn the_scores_of_many_blocks_are_each_rows_own() {
        let rows = 2 * BLOCK + 17;
        let vs: Vec<Vec<f32>> = (0..rows)
            .map(|i| {
                (0..8)
                    .map(|d| ((i * 7 + d * 13) % 61) as f32 - 30.0)
                    .collect()
            })
            .collect();
        let flat = flat_of(Scalar::I8, &vs);
        let q = [1.0, -2.0, 3.0, 0.0, 5.0, -1.0, 0.0, 2.0];
        let scores = flat.scores(&q);
        let mut v = vec![0.0; 8];
        for (pos, s) in scores.iter().enumerate() {
            assert!(flat.read(pos, &mut v));
            assert!((similarity(&q, &v) - s).abs() <= SCAN_ERROR, "row {pos}");
            assert!(
                (similarity(&q, &vs[pos]) - s).abs() <= SCAN_ERROR,
                "row {pos}"
            );
        }
    }
}
