//! Vector and hybrid search: the engine's side of `vector:` and `hybrid:` queries.
//!
//! The index keeps a [`VectorIndex`] (chunks, embeddings, HNSW graph) in `vectors/` beside the
//! tantivy index. A `vector:` query embeds its text, asks the graph for the k nearest chunks and
//! rolls them up to files (a file ranks by its best chunk). A `hybrid:` query fuses the BM25
//! ranking of its text query with the vector ranking by reciprocal rank fusion; when the graph
//! answers, the chunks of the text ranking's files are scored exactly and ranked among the
//! graph's, so the graph cannot drop a file that both rankings hold.

use std::collections::HashMap;
use std::time::Instant;

use verity_vector::store::{ChunkHit, VectorIndex};

use crate::error::{EngineError, VectorUnavailable};
use crate::index::CodeIndex;
use crate::query::{rrf_score, HybridQuery, VectorQuery};
use crate::results::{ChunkMatch, FusionRanks, SearchHit, SearchOptions, SearchResults};
use crate::vector_state::VectorState;

/// A hybrid query searched in the HNSW graph asks it for this many times `depth` chunks and
/// keeps the best `depth`. The graph's misses are worst at the far end of a long ranking,
/// which the fusion still uses: on 1,864 files of real crate sources (hash embedder), twice
/// `depth` gave Hybrid a mean recall@k of 0.975 against the exact fused ranking, four times
/// 0.981, eight times 0.991 (docs/BENCHMARKS.md, "Exact or HNSW"). The files of the text
/// ranking are scored exactly besides ([`VectorIndex::nearest_with_files`]).
const HNSW_BEAM: usize = 8;

/// Files of chunk hits, in order of their best chunk, each with its chunks.
fn roll_up(chunks: Vec<ChunkHit>) -> Vec<(String, Vec<ChunkMatch>)> {
    let mut order: Vec<(String, Vec<ChunkMatch>)> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for c in chunks {
        let m = ChunkMatch {
            first_line: c.first_line,
            last_line: c.last_line,
            similarity: c.similarity,
        };
        match at.get(&c.path) {
            Some(&i) => order[i].1.push(m),
            None => {
                at.insert(c.path.clone(), order.len());
                order.push((c.path, vec![m]));
            }
        }
    }
    order
}

impl CodeIndex {
    fn vector_state(&self) -> Result<&VectorState, EngineError> {
        self.vectors
            .get()?
            .ok_or_else(|| VectorUnavailable::NoVectors(self.dir.clone()).into())
    }

    /// The vector index, when the index has one (read from disk on first use; `None` too when
    /// it cannot be read, which a vector query then reports).
    pub fn vector_index(&self) -> Option<&VectorIndex> {
        self.vectors.get().ok().flatten().map(|s| &s.index)
    }

    /// Embeds `text` with the index's embedder.
    pub fn embed_query(&self, text: &str) -> Result<Vec<f32>, EngineError> {
        self.vector_state()?.embed(text)
    }

    /// Runs a `vector:` query.
    pub fn search_vector(
        &self,
        q: &VectorQuery,
        opts: &SearchOptions,
    ) -> Result<SearchResults, EngineError> {
        let started = Instant::now();
        opts.deadline.check()?;
        let state = self.vector_state()?;
        let v = state.embed(&q.text)?;
        opts.deadline.check()?;
        let nearest = state.index.nearest(&v, q.k, opts.vector_search)?;
        let approximate = !nearest.exact;
        let mut chunks = nearest.hits;
        if let Some(min) = q.min_similarity {
            chunks.retain(|c| c.similarity >= min);
        }
        let candidates = chunks.len();
        let mut hits: Vec<SearchHit> = roll_up(chunks)
            .into_iter()
            .map(|(path, chunks)| SearchHit {
                path,
                score: chunks[0].similarity,
                line_count: 0,
                lines: Vec::new(),
                chunks,
                fusion: None,
            })
            .collect();
        let total = hits.len();
        if let Some(limit) = opts.limit {
            hits.truncate(limit);
        }
        Ok(SearchResults {
            hits,
            total,
            // Every file the ranking reached is counted: the answer is complete by definition.
            total_exact: true,
            candidates,
            approximate,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }

    /// Runs a `hybrid:` query: the `depth` best files of the text query by BM25 (score
    /// descending, then path) and the files of the `depth` nearest chunks ranked by their best
    /// chunk, fused by reciprocal rank fusion; the `k` best files, ties by path.
    pub fn search_hybrid(
        &self,
        q: &HybridQuery,
        opts: &SearchOptions,
    ) -> Result<SearchResults, EngineError> {
        let started = Instant::now();
        let text_opts = SearchOptions {
            limit: Some(q.depth),
            ..opts.clone()
        };
        // Only the `depth` best text matches take part: verified in rank order, stopping there.
        let text = self.search_query(&q.query, &text_opts)?;
        let state = self.vector_state()?;
        let v = state.embed(&q.text)?;
        opts.deadline.check()?;
        // Exactly, the `depth` nearest chunks. From the graph, ask for more than `depth` and
        // keep the best `depth`: a wider beam makes the far end of the ranking, which the
        // fusion still uses, far more accurate.
        let exact = state.index.searches_exactly(opts.vector_search);
        let beam = if exact {
            q.depth
        } else {
            q.depth.saturating_mul(HNSW_BEAM)
        };
        // The files the text side found have all their chunks scored exactly as well: the
        // graph cannot lose their best chunk, so a file both sides rank is ranked by both.
        let text_files: Vec<&str> = text.hits.iter().map(|h| h.path.as_str()).collect();
        let nearest = state
            .index
            .nearest_with_files(&v, beam, opts.vector_search, &text_files)?;
        let approximate = !nearest.exact;
        let mut chunks = nearest.hits;
        chunks.truncate(q.depth);
        let candidates = text.candidates + chunks.len();
        let vector_files = roll_up(chunks);

        let mut fused: HashMap<String, SearchHit> = HashMap::new();
        for (rank, hit) in text.hits.into_iter().enumerate() {
            let path = hit.path.clone();
            fused.insert(
                path,
                SearchHit {
                    fusion: Some(FusionRanks {
                        text: Some(rank + 1),
                        vector: None,
                    }),
                    ..hit
                },
            );
        }
        for (rank, (path, chunks)) in vector_files.into_iter().enumerate() {
            let entry = fused.entry(path.clone()).or_insert_with(|| SearchHit {
                path,
                score: 0.0,
                line_count: 0,
                lines: Vec::new(),
                chunks: Vec::new(),
                fusion: Some(FusionRanks {
                    text: None,
                    vector: None,
                }),
            });
            entry.chunks = chunks;
            if let Some(f) = entry.fusion.as_mut() {
                f.vector = Some(rank + 1);
            }
        }
        let mut hits: Vec<SearchHit> = fused
            .into_values()
            .map(|mut h| {
                let f = h.fusion.expect("every fused hit has ranks");
                h.score = rrf_score(f.text, f.vector, q.text_weight, q.vector_weight) as f32;
                h
            })
            .filter(|h| h.score > 0.0)
            .collect();
        hits.sort_by(|a, b| {
            let fa = a.fusion.expect("ranks");
            let fb = b.fusion.expect("ranks");
            // Compare the exact (f64) fused scores, not the f32 copies in `score`.
            rrf_score(fb.text, fb.vector, q.text_weight, q.vector_weight)
                .total_cmp(&rrf_score(
                    fa.text,
                    fa.vector,
                    q.text_weight,
                    q.vector_weight,
                ))
                .then_with(|| a.path.cmp(&b.path))
        });
        let total = hits.len();
        hits.truncate(q.k.min(opts.limit.unwrap_or(usize::MAX)));
        Ok(SearchResults {
            hits,
            total,
            // Every file the ranking reached is counted: the answer is complete by definition.
            total_exact: true,
            candidates,
            approximate,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }
}
