//! What a search returns, and how it is asked: the types shared by text, vector and hybrid
//! search (a leaf module, as Zoekt's `api.go`: the searchers depend on it, never the reverse).

use serde::Serialize;
use verity_vector::mode::VectorSearch;

use crate::deadline::Deadline;

/// How to run a search.
#[derive(Debug, Clone, Default)]
pub struct SearchOptions {
    /// Return at most this many files (all when `None`).
    pub limit: Option<usize>,
    /// Give up once this passes.
    pub deadline: Deadline,
    /// Keep at most this many matching lines per file (all when `None`); the count is exact.
    pub max_lines_per_file: Option<usize>,
    /// Only decide which files match, as `rg -l` does: hits carry no lines and a
    /// `line_count` of 0, and each file's verification stops at its first match.
    pub files_only: bool,
    /// How `vector:` and `hybrid:` queries find the nearest chunks; the index's own mode
    /// (`verity index --vector-search`, `auto` by default) when `None`.
    pub vector_search: Option<VectorSearch>,
}

/// One matching line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineMatch {
    /// 1-based line number.
    pub line: usize,
    /// The line, without its line terminator.
    pub text: String,
    /// Where the query's terms occur in `text`: sorted, disjoint `[start, end)` byte ranges,
    /// for highlighting (empty when the line matches only as part of a larger match, such as
    /// a literal that spans lines).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub spans: Vec<[usize; 2]>,
}

/// One matching file.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    /// Corpus-relative path with `/` separators.
    pub path: String,
    /// Text queries: BM25 of the query's words over the word index (0 for queries without
    /// words). Vector queries: the best chunk's cosine similarity. Hybrid: the fused score.
    pub score: f32,
    /// Number of matching lines (exact, even when `lines` is capped); 0 for vector hits.
    pub line_count: usize,
    /// Matching lines, in order.
    pub lines: Vec<LineMatch>,
    /// Vector and hybrid queries: the file's chunks among the nearest, best first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chunks: Vec<ChunkMatch>,
    /// Hybrid queries: the file's ranks in the fused rankings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fusion: Option<FusionRanks>,
}

/// The answer to a query.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    /// Matching files, best first: score descending, then path ascending.
    pub hits: Vec<SearchHit>,
    /// How many files match in total (before `limit`); a lower bound when `total_exact` is
    /// false.
    pub total: usize,
    /// Whether `total` counts every matching file. A search with a `limit` verifies candidates
    /// in rank order and stops once it has `limit` matches: the hits are exactly the best
    /// `limit`, but candidates left unverified are not counted.
    pub total_exact: bool,
    /// How many files the index proposed and verification examined.
    pub candidates: usize,
    /// The vector side of the answer came from the HNSW graph, which may miss a chunk: it is
    /// an approximation, judged by recall@k. False for text queries and exact vector search.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub approximate: bool,
    /// Wall time of the search in milliseconds.
    pub elapsed_ms: f64,
}

/// A chunk of a file returned by a vector or hybrid query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChunkMatch {
    /// First line of the chunk, from 1.
    pub first_line: usize,
    /// Last line, inclusive.
    pub last_line: usize,
    /// Cosine similarity with the query.
    pub similarity: f32,
}

/// Where a hybrid hit stood in the two fused rankings (1-based; `None`: not in that ranking).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FusionRanks {
    /// Place in the text (BM25) ranking.
    pub text: Option<usize>,
    /// Place in the vector ranking.
    pub vector: Option<usize>,
}
