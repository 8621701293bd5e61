//! Exact nearest neighbours and their fusion with BM25 (sections 5 to 7 of
//! docs/query-language.md), by brute force: the corpus is chunked again from the document's
//! rule, every chunk is embedded, and every query is compared with every chunk in f64.
//!
//! The embedding function is the one thing shared with the engine: it *defines* similarity,
//! as the tokenizer-free text rules define a match (the MiniLM implementation is itself checked
//! against an independent reference). Chunking, storage, search and fusion are all redone here.

use std::sync::Arc;

use rayon::prelude::*;
use verity_embed::{EmbedError, Embedder};

use crate::bm25;
use crate::corpus::Corpus;
use crate::request::{HybridRequest, VectorRequest};

/// A chunk of a file: 1-based inclusive line range.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// The file.
    pub path: String,
    /// First line, from 1.
    pub first: usize,
    /// Last line, inclusive.
    pub last: usize,
}

impl Span {
    /// The chunk's document id in ground truth and TREC files: `path#Lfirst-last`.
    pub fn id(&self) -> String {
        format!("{}#L{}-{}", self.path, self.first, self.last)
    }
}

/// Line windows of `size` lines, each starting `size - overlap` lines after the previous; the
/// last ends at the last line (section 5).
pub fn windows(line_count: usize, size: usize, overlap: usize) -> Vec<(usize, usize)> {
    let size = size.max(1);
    let step = size - overlap.min(size - 1);
    let mut out = Vec::new();
    let mut first = 1;
    while first <= line_count {
        let last = (first + size - 1).min(line_count);
        out.push((first, last));
        if last == line_count {
            break;
        }
        first += step;
    }
    out
}

/// Every chunk of a corpus with its embedding.
pub struct ChunkTable {
    spans: Vec<Span>,
    vectors: Vec<Vec<f64>>,
    embedder: Arc<dyn Embedder>,
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

impl ChunkTable {
    /// Chunks and embeds the corpus (files in parallel).
    pub fn build(
        corpus: &Corpus,
        embedder: Arc<dyn Embedder>,
        size: usize,
        overlap: usize,
    ) -> Result<ChunkTable, EmbedError> {
        let per_file: Vec<(Vec<Span>, Vec<Vec<f64>>)> = corpus
            .files()
            .par_iter()
            .map(|f| {
                let lines = f.lines();
                let ws = windows(lines.len(), size, overlap);
                let texts: Vec<String> = ws
                    .iter()
                    .map(|(a, b)| lines[a - 1..*b].join("\n"))
                    .collect();
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                let vs = embedder.embed(&refs)?;
                let spans = ws
                    .into_iter()
                    .map(|(first, last)| Span {
                        path: f.path.clone(),
                        first,
                        last,
                    })
                    .collect();
                let vs = vs
                    .into_iter()
                    .map(|v| v.into_iter().map(f64::from).collect())
                    .collect();
                Ok((spans, vs))
            })
            .collect::<Result<_, EmbedError>>()?;
        let (mut spans, mut vectors) = (Vec::new(), Vec::new());
        for (s, v) in per_file {
            spans.extend(s);
            vectors.extend(v);
        }
        Ok(ChunkTable {
            spans,
            vectors,
            embedder,
        })
    }

    /// Chunks in the table.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// No chunk at all.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Every chunk with a non-zero vector and its cosine similarity with `text`, most similar
    /// first, ties by path then first line. Empty when the text embeds to zero.
    pub fn ranking(&self, text: &str) -> Result<Vec<(Span, f64)>, EmbedError> {
        let q: Vec<f64> = self
            .embedder
            .embed(&[text])?
            .pop()
            .unwrap_or_default()
            .into_iter()
            .map(f64::from)
            .collect();
        let qn = norm(&q);
        if qn == 0.0 {
            return Ok(Vec::new());
        }
        let mut out: Vec<(Span, f64)> = self
            .spans
            .iter()
            .zip(&self.vectors)
            .filter_map(|(s, v)| {
                let vn = norm(v);
                (vn > 0.0 && v.len() == q.len()).then(|| {
                    let dot: f64 = q.iter().zip(v).map(|(a, b)| a * b).sum();
                    (s.clone(), dot / (qn * vn))
                })
            })
            .collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(out)
    }

    /// The exact answer to a vector request: its k nearest chunks (after `min`), plus every
    /// further chunk within `tolerance` of the k-th similarity — the chunks an approximate
    /// search may return in their place (ann-benchmarks' rule).
    pub fn vector_truth(
        &self,
        r: &VectorRequest,
        tolerance: f64,
    ) -> Result<Vec<(Span, f64)>, EmbedError> {
        let mut all = self.ranking(&r.text)?;
        if let Some(min) = r.min {
            all.retain(|(_, s)| *s >= min);
        }
        let Some(kth) = all.get(r.k.min(all.len()).saturating_sub(1)).map(|x| x.1) else {
            return Ok(Vec::new());
        };
        let keep = all
            .iter()
            .position(|(_, s)| *s < kth - tolerance)
            .unwrap_or(all.len())
            .max(r.k.min(all.len()));
        all.truncate(keep);
        Ok(all)
    }

    /// The exact fused ranking of a hybrid request: the `depth` best text matches and the
    /// files of the `depth` nearest chunks, each file with its reciprocal rank fusion score,
    /// best first (ties by path).
    pub fn hybrid_ranking(
        &self,
        corpus: &Corpus,
        r: &HybridRequest,
    ) -> Result<Vec<(String, f64)>, EmbedError> {
        let text = bm25::ranking(corpus, &r.expr);
        let mut vector_files: Vec<String> = Vec::new();
        for (s, _) in self.ranking(&r.text)?.into_iter().take(r.depth) {
            if !vector_files.contains(&s.path) {
                vector_files.push(s.path);
            }
        }
        let mut fused: std::collections::BTreeMap<String, f64> = Default::default();
        for (i, (p, _)) in text.into_iter().take(r.depth).enumerate() {
            *fused.entry(p).or_default() += r.text_weight / (60.0 + (i + 1) as f64);
        }
        for (i, p) in vector_files.into_iter().enumerate() {
            *fused.entry(p).or_default() += r.vector_weight / (60.0 + (i + 1) as f64);
        }
        let mut out: Vec<(String, f64)> = fused.into_iter().filter(|(_, s)| *s > 0.0).collect();
        out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_follow_the_rule() {
        assert_eq!(windows(0, 40, 10), []);
        assert_eq!(windows(5, 40, 10), [(1, 5)]);
        assert_eq!(windows(100, 40, 10), [(1, 40), (31, 70), (61, 100)]);
        assert_eq!(windows(10, 4, 1), [(1, 4), (4, 7), (7, 10)]);
        assert_eq!(windows(3, 1, 5), [(1, 1), (2, 2), (3, 3)]);
    }
}
