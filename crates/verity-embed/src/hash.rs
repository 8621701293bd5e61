//! The built-in embedder: feature hashing, no model.

use xxhash_rust::xxh3::xxh3_64_with_seed;

use crate::{EmbedError, Embedder};

/// The built-in embedder: signed feature hashing of identifier sub-words and of character
/// trigrams, L2-normalised. `parseHttpRequest`, `parse_http_request` and `ParseHTTPRequest` share
/// their sub-words (`parse`, `http`, `request`) and so land close together; so do texts that
/// share rare spellings. It knows nothing of meaning: `error handling` is close to code that
/// says `error` and `handle`, not to code that says `Result` and `?`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashEmbedder {
    dim: usize,
}

impl Default for HashEmbedder {
    fn default() -> Self {
        HashEmbedder { dim: 256 }
    }
}

/// Weight of one sub-word occurrence relative to one of its trigrams.
const WORD_WEIGHT: f32 = 2.0;

impl HashEmbedder {
    /// An embedder of `dim` dimensions (at least 1).
    pub fn new(dim: usize) -> Self {
        HashEmbedder { dim: dim.max(1) }
    }

    fn add(&self, v: &mut [f32], feature: &[u8], kind: u64, weight: f32) {
        let h = xxh3_64_with_seed(feature, kind);
        let bucket = (h % self.dim as u64) as usize;
        // The sign bit keeps collisions from only ever adding up (feature hashing's trick).
        let sign = if h >> 63 == 0 { 1.0 } else { -1.0 };
        v[bucket] += sign * weight;
    }

    /// The vector of one text.
    pub fn embed_one(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0.0f32; self.dim];
        for word in sub_words(text) {
            self.add(&mut v, word.as_bytes(), 1, WORD_WEIGHT);
            let padded: Vec<char> = std::iter::once('<')
                .chain(word.chars())
                .chain(std::iter::once('>'))
                .collect();
            for w in padded.windows(3) {
                let gram: String = w.iter().collect();
                self.add(&mut v, gram.as_bytes(), 2, 1.0);
            }
        }
        let norm = v
            .iter()
            .map(|x| f64::from(*x) * f64::from(*x))
            .sum::<f64>()
            .sqrt();
        if norm > 0.0 {
            for x in &mut v {
                *x = (f64::from(*x) / norm) as f32;
            }
        }
        v
    }
}

impl Embedder for HashEmbedder {
    fn name(&self) -> String {
        format!("hash-{}", self.dim)
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts.iter().map(|t| self.embed_one(t)).collect())
    }
}

/// Lower-case sub-words of the identifiers and words in `text`: runs of letters and digits
/// split at `_`, at lower-to-upper changes (`parseHttp` → parse, http) and before the last
/// capital of a capital run followed by lower case (`HTTPRequest` → http, request).
pub fn sub_words(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for ident in text.split(|c: char| !c.is_alphanumeric()) {
        let chars: Vec<char> = ident.chars().collect();
        let mut start = 0;
        for i in 1..=chars.len() {
            let boundary = i == chars.len()
                || (chars[i].is_uppercase() && chars[i - 1].is_lowercase())
                || (chars[i].is_uppercase()
                    && chars[i - 1].is_uppercase()
                    && chars.get(i + 1).is_some_and(|c| c.is_lowercase()))
                || (chars[i].is_alphabetic() != chars[i - 1].is_alphabetic());
            if boundary {
                if i > start {
                    out.push(chars[start..i].iter().collect::<String>().to_lowercase());
                }
                start = i;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn sub_words_split_camel_snake_and_acronyms() {
        assert_eq!(sub_words("parseHttpRequest"), ["parse", "http", "request"]);
        assert_eq!(
            sub_words("parse_http_request"),
            ["parse", "http", "request"]
        );
        assert_eq!(sub_words("ParseHTTPRequest"), ["parse", "http", "request"]);
        assert_eq!(sub_words("Vec<u8> x2y"), ["vec", "u", "8", "x", "2", "y"]);
        assert!(sub_words("::-> {}").is_empty());
    }

    #[test]
    fn vectors_are_unit_length_deterministic_and_lexical() {
        let e = HashEmbedder::default();
        let v = e
            .embed(&["fn parse_http_request(&mut self)", "", "parseHttpRequest"])
            .unwrap();
        let norm: f32 = v[0].iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5);
        assert!(v[1].iter().all(|x| *x == 0.0), "no features, zero vector");
        assert_eq!(v[0], e.embed_one("fn parse_http_request(&mut self)"));
        let same_words = cos(&e.embed_one("parse_http_request"), &v[2]);
        assert!((same_words - 1.0).abs() < 1e-5, "{same_words}");
        let related = cos(&e.embed_one("http request parser"), &v[2]);
        let unrelated = cos(&e.embed_one("matrix determinant eigenvalue"), &v[2]);
        assert!(related > unrelated + 0.2, "{related} vs {unrelated}");
        assert_eq!(e.name(), "hash-256");
    }
}
