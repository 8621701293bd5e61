//! How the nearest chunks of a query are found: by scoring every chunk (exact) or through the
//! HNSW graph (approximate), and the rule that picks one when the user does not.
//!
//! Exact search is what the oracle computes, so its answers can be held to equality; the graph
//! answers in a few milliseconds at any size but may miss a chunk. Up to
//! [`EXACT_SEARCH_MAX_CHUNKS`] chunks the scan of every vector costs at most about 20 ms of one
//! core (measured in docs/BENCHMARKS.md, "Flat vectors"), so `auto` answers exactly there —
//! and keeps no graph at all — and uses the graph only where exactness would cost more than a
//! query is worth.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Up to this many chunks, `auto` searches exactly. The scan of the flat `i8` rows of the hash
/// embedder (256 dimensions) costs about 30 ns of CPU a chunk on the reference machine
/// (docs/BENCHMARKS.md, "Flat vectors"): 8 ms at 272,000 chunks, where a whole `vector:`
/// query in a server takes 6–12 ms, and, extrapolated (not measured at that size), about 15 ms at 500,000 (half that
/// on two cores). The
/// graph at its default search expansion costs 5–11 ms at 50,000–200,000 chunks, so up to
/// here exactness costs no more than the approximation; past it the scan keeps growing
/// linearly while the graph's cost stays nearly flat. (It was 100,000 while exact search was
/// usearch's brute force over the graph's vectors, 0.2 µs a chunk.)
pub const EXACT_SEARCH_MAX_CHUNKS: usize = 500_000;

/// How vector searches find the nearest chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VectorSearch {
    /// Score every chunk: the exact answer, equal to the oracle's.
    Exact,
    /// Search the HNSW graph: approximate, judged by recall@k.
    Hnsw,
    /// Exact up to [`EXACT_SEARCH_MAX_CHUNKS`] chunks, HNSW above.
    #[default]
    Auto,
}

impl VectorSearch {
    /// Every mode, in the order the documentation lists them.
    pub const ALL: [VectorSearch; 3] =
        [VectorSearch::Exact, VectorSearch::Hnsw, VectorSearch::Auto];

    /// The mode as flags and verity.toml spell it.
    pub fn name(self) -> &'static str {
        match self {
            VectorSearch::Exact => "exact",
            VectorSearch::Hnsw => "hnsw",
            VectorSearch::Auto => "auto",
        }
    }

    /// Whether a collection of `chunks` chunks is searched exactly in this mode.
    pub fn is_exact_for(self, chunks: usize) -> bool {
        match self {
            VectorSearch::Exact => true,
            VectorSearch::Hnsw => false,
            VectorSearch::Auto => chunks <= EXACT_SEARCH_MAX_CHUNKS,
        }
    }
}

impl fmt::Display for VectorSearch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A vector search mode that is not `exact`, `hnsw` or `auto`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown vector search mode `{0}` (exact, hnsw or auto)")]
pub struct UnknownVectorSearch(pub String);

impl FromStr for VectorSearch {
    type Err = UnknownVectorSearch;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        VectorSearch::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownVectorSearch(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_auto_switches_at_the_threshold() {
        for m in VectorSearch::ALL {
            assert_eq!(m.name().parse::<VectorSearch>(), Ok(m));
            assert_eq!(
                serde_json::to_string(&m).unwrap(),
                format!("\"{}\"", m.name())
            );
        }
        assert_eq!(" HNSW ".parse::<VectorSearch>(), Ok(VectorSearch::Hnsw));
        let err = "fast".parse::<VectorSearch>().unwrap_err().to_string();
        assert!(
            err.contains("`fast`") && err.contains("exact, hnsw or auto"),
            "{err}"
        );
        assert!(VectorSearch::Auto.is_exact_for(EXACT_SEARCH_MAX_CHUNKS));
        assert!(!VectorSearch::Auto.is_exact_for(EXACT_SEARCH_MAX_CHUNKS + 1));
        assert!(VectorSearch::Exact.is_exact_for(usize::MAX));
        assert!(!VectorSearch::Hnsw.is_exact_for(0));
    }
}
