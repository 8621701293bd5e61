//! The `i8` row codec of the flat vector file: five bits a component, the few components
//! that do not fit kept beside the row, and dot products computed from the packed bytes
//! exactly, in integers.
//!
//! Why: with the hash embedder an `i8` row is the chunk's own small integers (sums of ±1 and
//! ±2, see `crate::scalar`), and on real and synthetic code 99% of them lie in −16..=15: on
//! the 100,000-file synthetic tree a 256-dimension row has 167 non-zero components, its
//! largest magnitude is about 21, and about 3 of its components fall outside −16..=15 (25
//! outside −8..=7, which is why four bits with exceptions would cost more than five). Five
//! bits store a 256-dimension row in 160 bytes instead of 256, and the scan reads 40% fewer
//! bytes; a component outside the range is stored clamped, with the difference as an
//! *exception* (its dimension and the difference), added back after the packed dot product.
//!
//! A group of 64 dimensions takes 40 bytes, laid out for the AVX2 kernel: byte `j` (0..32)
//! holds the low four bits of `u = v + 16` for dimension `j` in its low nibble and for
//! dimension `32 + j` in its high nibble; bytes 32..40 hold the fifth bits, dimension `8b + i`
//! in bit `i` of byte `32 + b`. Dimensions past the vector's length are stored as 0 and never
//! weigh in (the query is 0 there). The bias is taken back out once per row: q · v = q · u −
//! 16 Σq + Σ q_d · exception_d.

/// Dimensions in a group, and the bytes a group takes.
const GROUP: usize = 64;
const GROUP_BYTES: usize = 40;

/// What is added to a component before its five bits are taken (`u = v + BIAS`, 0..=31).
const BIAS: i32 = 16;

/// Bytes in a packed row of `dim` components.
pub(super) fn row_bytes(dim: usize) -> usize {
    dim.div_ceil(GROUP) * GROUP_BYTES
}

/// Bytes in one exception: the dimension (two bytes, or four above 65,536 dimensions) and the
/// difference from the clamped value (one byte: at most 127 − 15).
pub(super) fn exception_bytes(dim: usize) -> usize {
    if dim <= 1 << 16 {
        3
    } else {
        5
    }
}

/// Appends `v` packed to `row` and its exceptions to `exceptions`. Returns v · v (exact
/// below 266,000 dimensions: 127² a component) and the number of exceptions.
pub(super) fn pack(v: &[i8], row: &mut Vec<u8>, exceptions: &mut Vec<u8>) -> (u32, u32) {
    let start = row.len();
    row.resize(start + row_bytes(v.len()), 0);
    let out = &mut row[start..];
    let wide = exception_bytes(v.len()) == 5;
    let (mut norm, mut count) = (0u32, 0u32);
    for (d, x) in v.iter().enumerate() {
        let x = i32::from(*x);
        norm += (x * x) as u32;
        let u = (x + BIAS).clamp(0, 31);
        let delta = x - (u - BIAS);
        if delta != 0 {
            if wide {
                exceptions.extend_from_slice(&(d as u32).to_le_bytes());
            } else {
                exceptions.extend_from_slice(&(d as u16).to_le_bytes());
            }
            exceptions.push(delta as i8 as u8);
            count += 1;
        }
        let (group, j) = (&mut out[d / GROUP * GROUP_BYTES..], d % GROUP);
        let u = u as u8;
        if j < 32 {
            group[j] |= u & 15;
        } else {
            group[j - 32] |= (u & 15) << 4;
        }
        group[32 + j / 8] |= (u >> 4) << (j % 8);
    }
    (norm, count)
}

/// The `i8` components of a packed row and its exceptions (as [`pack`] wrote them for a
/// vector of `out.len()` components). An exception naming a dimension past the end is
/// ignored: only a damaged file has one.
pub(super) fn unpack(row: &[u8], exceptions: &[u8], out: &mut [i8]) {
    for (d, o) in out.iter_mut().enumerate() {
        *o = (component(row, d) - BIAS) as i8;
    }
    for (d, delta) in Exceptions::new(exceptions, out.len()) {
        if let Some(o) = out.get_mut(d) {
            *o = o.wrapping_add(delta as i8);
        }
    }
}

/// `u` of dimension `d` in a packed row.
#[inline(always)]
fn component(row: &[u8], d: usize) -> i32 {
    let (group, j) = (&row[d / GROUP * GROUP_BYTES..], d % GROUP);
    let low = if j < 32 {
        group[j] & 15
    } else {
        group[j - 32] >> 4
    };
    let high = (group[32 + j / 8] >> (j % 8)) & 1;
    i32::from(low | high << 4)
}

/// The exceptions of a row: (dimension, difference).
struct Exceptions<'a> {
    records: std::slice::ChunksExact<'a, u8>,
}

impl<'a> Exceptions<'a> {
    fn new(bytes: &'a [u8], dim: usize) -> Self {
        Exceptions {
            records: bytes.chunks_exact(exception_bytes(dim)),
        }
    }
}

impl Iterator for Exceptions<'_> {
    type Item = (usize, i32);

    #[inline(always)]
    fn next(&mut self) -> Option<(usize, i32)> {
        let r = self.records.next()?;
        Some(match r.len() {
            3 => (
                usize::from(u16::from_le_bytes([r[0], r[1]])),
                i32::from(r[2] as i8),
            ),
            _ => (
                u32::from_le_bytes([r[0], r[1], r[2], r[3]]) as usize,
                i32::from(r[4] as i8),
            ),
        })
    }
}

/// An `i8` query as the packed scan uses it.
pub(super) struct Query {
    /// The components, padded with zeros to whole groups.
    q: Vec<i8>,
    /// Its length before padding.
    dim: usize,
    /// 16 Σq: what the bias adds to q · u.
    bias: i32,
}

impl Query {
    pub(super) fn new(q: &[i8]) -> Query {
        let mut padded = q.to_vec();
        padded.resize(q.len().div_ceil(GROUP) * GROUP, 0);
        Query {
            bias: BIAS * q.iter().map(|x| i32::from(*x)).sum::<i32>(),
            q: padded,
            dim: q.len(),
        }
    }

    /// The query's components (without padding).
    pub(super) fn components(&self) -> &[i8] {
        &self.q[..self.dim]
    }

    /// q · v for the vector packed in `row` with `exceptions`, exactly.
    #[inline(always)]
    fn dot_with(&self, packed: i32, exceptions: &[u8]) -> i32 {
        let mut dot = packed - self.bias;
        for (d, delta) in Exceptions::new(exceptions, self.dim) {
            dot += self.q.get(d).map_or(0, |x| i32::from(*x)) * delta;
        }
        dot
    }
}

/// A run of packed rows, with what the scan needs of each: its norm and its exceptions.
pub(super) struct Rows<'a> {
    /// The packed rows.
    pub(super) packed: &'a [u8],
    /// Each row's v · v, a little-endian `u32` a row.
    pub(super) norms: &'a [u8],
    /// The number of exceptions up to the end of each row, counted from the start of
    /// `exceptions`, a little-endian `u32` a row.
    pub(super) ends: &'a [u8],
    /// The number of exceptions before the first row.
    pub(super) start: usize,
    /// The exceptions of these rows, and perhaps others before and after them.
    pub(super) exceptions: &'a [u8],
}

/// The little-endian `u32` at `i` of `bytes`.
#[inline(always)]
pub(super) fn u32_at(bytes: &[u8], i: usize) -> u32 {
    u32::from_le_bytes(bytes[4 * i..4 * i + 4].try_into().expect("four bytes"))
}

/// For each row of `rows`, `score(q · v, v · v)` into `out` (one a row): the scan's inner
/// loop, compiled for AVX2 where the processor has it.
pub(super) fn dots(query: &Query, rows: &Rows, out: &mut [f32], score: impl Fn(i32, u32) -> f32) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, checked just above.
        unsafe { avx2::dots(query, rows, out, score) };
        return;
    }
    dots_with(query, rows, out, score, portable_dot);
}

#[inline(always)]
fn dots_with(
    query: &Query,
    rows: &Rows,
    out: &mut [f32],
    score: impl Fn(i32, u32) -> f32,
    packed_dot: impl Fn(&[i8], &[u8]) -> i32,
) {
    let (n, width) = (row_bytes(query.dim), exception_bytes(query.dim));
    let mut from = rows.start;
    for (i, (o, row)) in out.iter_mut().zip(rows.packed.chunks_exact(n)).enumerate() {
        let to = u32_at(rows.ends, i) as usize;
        // Ends that go back or past the exceptions are damage: the row is scored without them.
        let exceptions = rows.exceptions.get(from * width..to * width).unwrap_or(&[]);
        from = to;
        let dot = query.dot_with(packed_dot(&query.q, row), exceptions);
        *o = score(dot, u32_at(rows.norms, i));
    }
}

/// q · u over a packed row, one component at a time.
fn portable_dot(q: &[i8], row: &[u8]) -> i32 {
    q.iter()
        .enumerate()
        .map(|(d, x)| i32::from(*x) * component(row, d))
        .sum()
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{dots_with, Query, Rows, GROUP, GROUP_BYTES};

    #[target_feature(enable = "avx2")]
    pub(super) fn dots(
        query: &Query,
        rows: &Rows,
        out: &mut [f32],
        score: impl Fn(i32, u32) -> f32,
    ) {
        dots_with(query, rows, out, score, |q, row| packed_dot(q, row));
    }

    /// q · u over a packed row: per 32 dimensions, the low nibbles or the high ones, the
    /// fifth bits spread to bytes, one unsigned × signed multiply-add to 16 bits (at most
    /// 2 · 31 · 128 a lane, no saturation) and one to 32.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn packed_dot(q: &[i8], row: &[u8]) -> i32 {
        let groups = q.len() / GROUP;
        let (q, row) = (&q[..groups * GROUP], &row[..groups * GROUP_BYTES]);
        let nibble = _mm256_set1_epi8(0x0F);
        let ones = _mm256_set1_epi16(1);
        let mut acc = _mm256_setzero_si256();
        for g in 0..groups {
            let (bytes, q) = (&row[g * GROUP_BYTES..], &q[g * GROUP..]);
            // SAFETY: `bytes` holds 40 bytes and `q` 64 (the slices above are whole groups);
            // unaligned loads.
            let (packed, q_low, q_high, bits_low, bits_high) = unsafe {
                (
                    _mm256_loadu_si256(bytes.as_ptr().cast()),
                    _mm256_loadu_si256(q.as_ptr().cast()),
                    _mm256_loadu_si256(q.as_ptr().add(32).cast()),
                    std::ptr::read_unaligned(bytes.as_ptr().add(32).cast::<i32>()),
                    std::ptr::read_unaligned(bytes.as_ptr().add(36).cast::<i32>()),
                )
            };
            let low = _mm256_or_si256(_mm256_and_si256(packed, nibble), fifth_bits(bits_low));
            let high = _mm256_or_si256(
                _mm256_and_si256(_mm256_srli_epi16(packed, 4), nibble),
                fifth_bits(bits_high),
            );
            let sums = _mm256_add_epi16(
                _mm256_maddubs_epi16(low, q_low),
                _mm256_maddubs_epi16(high, q_high),
            );
            acc = _mm256_add_epi32(acc, _mm256_madd_epi16(sums, ones));
        }
        let s = _mm_add_epi32(
            _mm256_castsi256_si128(acc),
            _mm256_extracti128_si256(acc, 1),
        );
        let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b01_00_11_10));
        let s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0b10_11_00_01));
        _mm_cvtsi128_si32(s)
    }

    /// 32 bits as 32 bytes of 16 (bit set) or 0: byte `k` is bit `k % 8` of byte `k / 8`.
    #[target_feature(enable = "avx2")]
    #[inline]
    fn fifth_bits(bits: i32) -> __m256i {
        let spread = _mm256_setr_epi8(
            0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, //
            2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3,
        );
        let select = _mm256_setr_epi8(
            1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128, //
            1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128,
        );
        let bytes = _mm256_shuffle_epi8(_mm256_set1_epi32(bits), spread);
        let set = _mm256_cmpeq_epi8(_mm256_and_si256(bytes, select), select);
        _mm256_and_si256(set, _mm256_set1_epi8(16))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn packed(v: &[i8]) -> (Vec<u8>, Vec<u8>, u32) {
        let (mut row, mut exceptions) = (Vec::new(), Vec::new());
        let (norm, count) = pack(v, &mut row, &mut exceptions);
        assert_eq!(exceptions.len(), count as usize * exception_bytes(v.len()));
        (row, exceptions, norm)
    }

    fn vector(dim: usize) -> impl Strategy<Value = Vec<i8>> {
        // Mostly small components, as the hash embedder makes, and some of any size.
        proptest::collection::vec(prop_oneof![4 => -20i8..20, 1 => -127i8..=127], dim..=dim)
    }

    proptest! {
        /// A packed row unpacks to the vector, and its dot product with a query is the
        /// vector's, on both kernels, for any length (whole groups or not).
        #[test]
        fn packed_rows_hold_the_vector_and_its_dot_products(
            (v, q) in (1usize..200).prop_flat_map(|dim| (vector(dim), vector(dim))),
        ) {
            let (row, exceptions, norm) = packed(&v);
            prop_assert_eq!(row.len(), row_bytes(v.len()));
            let mut back = vec![0i8; v.len()];
            unpack(&row, &exceptions, &mut back);
            prop_assert_eq!(&back, &v);
            let want: i32 = v.iter().zip(&q).map(|(a, b)| i32::from(*a) * i32::from(*b)).sum();
            prop_assert_eq!(norm, v.iter().map(|x| (i32::from(*x) * i32::from(*x)) as u32).sum::<u32>());
            let query = Query::new(&q);
            let count = (exceptions.len() / exception_bytes(v.len())) as u32;
            let (norms, ends) = (norm.to_le_bytes(), count.to_le_bytes());
            let rows = Rows { packed: &row, norms: &norms, ends: &ends, start: 0, exceptions: &exceptions };
            let mut out = [0.0f32];
            dots(&query, &rows, &mut out, |dot, nn| { assert_eq!(nn, norm); dot as f32 });
            prop_assert_eq!(out[0], want as f32);
            dots_with(&query, &rows, &mut out, |dot, _| dot as f32, portable_dot);
            prop_assert_eq!(out[0], want as f32);
        }
    }

    #[test]
    fn components_outside_the_five_bits_are_exceptions() {
        let mut v = vec![0i8; 70];
        (v[0], v[1], v[33], v[64], v[69]) = (15, -16, 16, -127, 127);
        let (_, exceptions, _) = packed(&v);
        let got: Vec<(usize, i32)> = Exceptions::new(&exceptions, 70).collect();
        assert_eq!(got, [(33, 1), (64, -111), (69, 112)]);
        assert_eq!(exception_bytes(1 << 17), 5);
        let mut wide = vec![0i8; 1 << 17];
        wide[100_000] = 100;
        let (row, exceptions, norm) = packed(&wide);
        assert_eq!(norm, 10_000);
        let mut back = vec![0i8; wide.len()];
        unpack(&row, &exceptions, &mut back);
        assert_eq!(back, wide);
    }
}
