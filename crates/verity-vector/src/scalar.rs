//! How the graph stores each vector component: `f32`, `f16` or `i8` (usearch's scalar kinds).
//!
//! Vectors are most of a vector index's size: 256 `f32` components are 1 KiB per chunk, more
//! than the chunk's own text on real code. `f16` halves that and `i8` quarters it.
//!
//! `i8` is usually lossy, but the built-in hash embedder's vectors are *small-integer
//! vectors, normalised*: every component is a sum of ±1 (a trigram) and ±2 (a sub-word)
//! divided by the vector's length. Cosine similarity does not depend on a vector's length, so
//! storing the integers themselves loses nothing. [`quantize_i8`] looks for the smallest
//! scale at which a vector becomes integral, with its largest component at most 127, and
//! stores those integers. Any other vector (MiniLM's, or a hash vector whose largest sum
//! passes 127: on real code, chunks of hex constants and tables) is scaled so that its
//! largest component is ±127 and rounded. Rounding, not usearch's own cast, which truncates
//! and scales by the length: on 256 dimensions that cast moved similarities by several
//! hundredths.
//!
//! Rounded vectors still move similarities by a few thousandths, more than the validator's
//! tolerance of 0.001, so the index keeps the `f32` vector of every chunk that `i8` cannot
//! hold exactly and scores those chunks from it (`crate::store`). For the hash embedder on
//! real code that is a few percent of the chunks; for MiniLM it would be every chunk, which is
//! why MiniLM's default is `f16`.

use serde::{Deserialize, Serialize};

/// The scalar type of the stored vectors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scalar {
    /// 4 bytes a component: the embedder's vectors as they are.
    F32,
    /// 2 bytes a component (IEEE half precision): similarities move by about 1e-4.
    F16,
    /// 1 byte a component, see [`quantize_i8`]: exact for the hash embedder.
    I8,
}

impl Scalar {
    /// Bytes per component.
    pub fn bytes(self) -> usize {
        match self {
            Scalar::F32 => 4,
            Scalar::F16 => 2,
            Scalar::I8 => 1,
        }
    }

    /// The name used on the command line and in `meta.json`.
    pub fn name(self) -> &'static str {
        match self {
            Scalar::F32 => "f32",
            Scalar::F16 => "f16",
            Scalar::I8 => "i8",
        }
    }

    pub(crate) fn usearch(self) -> usearch::ScalarKind {
        match self {
            Scalar::F32 => usearch::ScalarKind::F32,
            Scalar::F16 => usearch::ScalarKind::F16,
            Scalar::I8 => usearch::ScalarKind::I8,
        }
    }
}

impl std::fmt::Display for Scalar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How far from an integer a scaled component may be and still count as one. Normalising in
/// `f32` leaves errors of about 1e-5 after scaling to 127; a vector that is not integral
/// passes this for all its components at one scale with a chance of about 0.002^dim.
const INTEGRAL: f32 = 1e-3;

/// `v` as `i8` components for cosine similarity (which ignores length), and the most that
/// any cosine similarity with `v` moves for it ([`rounding_error`]). The components are the
/// vector's own integers when it is a normalised vector of integers whose largest magnitude
/// is at most 127 (the error is then only `f32` rounding, about 1e-7), otherwise `v` scaled so
/// that its largest component is ±127, rounded. A zero vector, or one with a component that
/// is not finite, becomes zero (never found) with error 0.
pub fn quantize_i8(v: &[f32]) -> (Vec<i8>, f32) {
    let max = v.iter().fold(0.0f32, |m, x| m.max(x.abs()));
    if max == 0.0 || v.iter().any(|x| !x.is_finite()) {
        return (vec![0; v.len()], 0.0);
    }
    // The integer vector's largest magnitude, if it has one: at the right `m` every scaled
    // component is integral. Wrong scales fail on the first few components.
    let scale = (1..=127)
        .map(|m| m as f32 / max)
        .find(|s| {
            v.iter()
                .all(|x| ((x * s) - (x * s).round()).abs() <= INTEGRAL)
        })
        .unwrap_or(127.0 / max);
    let q: Vec<i8> = v
        .iter()
        .map(|x| (x * scale).round().clamp(-127.0, 127.0) as i8)
        .collect();
    let error = rounding_error(v, &q);
    (q, error)
}

/// The largest change `q` (stored for `v`) can make to a cosine similarity with any query:
/// the distance between the two unit vectors, since |cos(x, v) − cos(x, q)| = |x̂ · (v̂ − q̂)|
/// ≤ |v̂ − q̂| for a unit query x̂ (Cauchy–Schwarz).
pub fn rounding_error(v: &[f32], q: &[i8]) -> f32 {
    let norm = |it: &mut dyn Iterator<Item = f64>| it.map(|x| x * x).sum::<f64>().sqrt();
    let nv = norm(&mut v.iter().map(|x| f64::from(*x)));
    let nq = norm(&mut q.iter().map(|x| f64::from(*x)));
    if nv == 0.0 || nq == 0.0 {
        return if nv == nq { 0.0 } else { 1.0 };
    }
    let d2: f64 = v
        .iter()
        .zip(q)
        .map(|(a, b)| (f64::from(*a) / nv - f64::from(*b) / nq).powi(2))
        .sum();
    d2.sqrt() as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::embed::HashEmbedder;
    use crate::exact::similarity;
    use proptest::prelude::*;

    fn widen(q: &[i8]) -> Vec<f32> {
        q.iter().map(|x| f32::from(*x)).collect()
    }

    #[test]
    fn hash_vectors_are_stored_without_loss() {
        let e = HashEmbedder::new(256);
        let texts = [
            "fn parse_http_request(req: &Request) -> Result<Response, Error> {",
            "impl<T: ?Sized> Drop for Guard<'_, T> { fn drop(&mut self) { self.lock.unlock() } }",
            "let mut map: HashMap<String, Vec<u32>> = HashMap::new();\nmap.insert(k, v);",
        ];
        for t in texts {
            let v = e.embed_one(t);
            let (q, error) = quantize_i8(&v);
            assert!(error < 1e-6, "{t}: {error}");
            // The integers the embedder summed, up to sign and a common factor: every
            // similarity computed from them equals the original's.
            for u in texts {
                let w = e.embed_one(u);
                let exact = similarity(&v, &w);
                let stored = similarity(&widen(&q), &w);
                assert!(
                    (exact - stored).abs() < 1e-6,
                    "{t} · {u}: {exact} vs {stored}"
                );
            }
            assert!(q.iter().any(|x| x.unsigned_abs() > 1));
        }
    }

    #[test]
    fn zero_and_odd_vectors() {
        assert_eq!(quantize_i8(&[0.0, 0.0]), (vec![0, 0], 0.0));
        assert_eq!(quantize_i8(&[f32::NAN, 1.0]), (vec![0, 0], 0.0));
        assert_eq!(
            quantize_i8(&[0.5, -1.0]).0,
            [1, -2],
            "the smallest integers"
        );
        let (q, error) = quantize_i8(&[1.0, 0.3337]);
        assert_eq!(q, [127, 42], "not integral: scaled to 127");
        assert!(error > 1e-4 && error < 1e-2, "{error}");
    }

    proptest! {
        /// Any vector keeps its similarities within what rounding to ±127 allows; a vector of
        /// small integers keeps them exactly.
        #[test]
        fn similarities_survive_quantization(
            v in proptest::collection::vec(-1.0f32..1.0, 8..64),
            ints in proptest::collection::vec(-40i32..40, 8..64),
        ) {
            let w: Vec<f32> = (0..v.len()).map(|i| ((i * 7919) % 13) as f32 - 6.0).collect();
            let before = similarity(&v, &w);
            let (q, bound) = quantize_i8(&v);
            let after = similarity(&widen(&q), &w);
            prop_assert!((before - after).abs() <= bound + 1e-6, "{before} vs {after} (bound {bound})");

            let n = ints.iter().map(|x| (x * x) as f32).sum::<f32>().sqrt();
            prop_assume!(n > 0.0);
            let unit: Vec<f32> = ints.iter().map(|x| *x as f32 / n).collect();
            let w: Vec<f32> = (0..unit.len()).map(|i| ((i * 31) % 7) as f32 - 3.0).collect();
            let exact = similarity(&unit, &w);
            let (q, bound) = quantize_i8(&unit);
            prop_assert!(bound < 1e-6, "{bound}");
            let stored = similarity(&widen(&q), &w);
            prop_assert!((exact - stored).abs() < 1e-6, "{exact} vs {stored}");
        }
    }
}
