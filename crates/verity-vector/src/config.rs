//! What a vector index is built with: the embedder, the chunking, the HNSW graph's
//! parameters and the stored vectors' scalar kind. Kept with the index (`meta.json`),
//! compared on every update: vectors made with other settings are never reused.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::chunk::ChunkOptions;
use crate::embed::{EmbedError, Embedder, HashEmbedder};
use crate::minilm::MiniLmEmbedder;
use crate::scalar::Scalar;

/// Which embedder makes the vectors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EmbedderSpec {
    /// The built-in lexical embedder ([`HashEmbedder`]).
    Hash {
        /// Dimensions of the vectors.
        dim: usize,
    },
    /// all-MiniLM-L6-v2 from a local model directory ([`MiniLmEmbedder`]).
    MiniLm {
        /// Directory of `config.json`, `tokenizer.json` and `model.safetensors`.
        dir: PathBuf,
    },
}

impl Default for EmbedderSpec {
    fn default() -> Self {
        EmbedderSpec::Hash { dim: 256 }
    }
}

impl EmbedderSpec {
    /// How the graph stores this embedder's vectors by default: `i8` for the hash embedder
    /// (lossless, see [`crate::scalar`]), `f16` for MiniLM, whose vectors `i8` would round by
    /// about 4e-4 in similarity, close to the validator's tolerance of 1e-3.
    pub fn default_scalar(&self) -> Scalar {
        match self {
            EmbedderSpec::Hash { .. } => Scalar::I8,
            EmbedderSpec::MiniLm { .. } => Scalar::F16,
        }
    }

    /// Loads the embedder (reads the model for MiniLM).
    pub fn load(&self) -> Result<Arc<dyn Embedder>, EmbedError> {
        Ok(match self {
            EmbedderSpec::Hash { dim } => Arc::new(HashEmbedder::new(*dim)),
            EmbedderSpec::MiniLm { dir } => Arc::new(MiniLmEmbedder::load(dir)?),
        })
    }
}

/// HNSW parameters (usearch's names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HnswParams {
    /// Edges per node (M).
    pub connectivity: usize,
    /// Candidate list size while building (efConstruction).
    pub expansion_add: usize,
    /// Candidate list size while searching (ef); at least k is used.
    pub expansion_search: usize,
}

impl Default for HnswParams {
    fn default() -> Self {
        // Measured on 52,434 synthetic hash-embedded chunks (docs/BENCHMARKS.md): recall@10
        // 0.994 at ef 256; ef 64 gave only 0.96, a larger M mostly slowed the build. Real code
        // is harder: on 3,768 files of crate sources (about 60,000 chunks, many of them
        // near-duplicate generated bindings) Vector's mean recall@k was 0.969 at ef 256 and
        // 0.985 at ef 1024, at about 4 ms a query; searching wider (ef 2048: 0.990 at 12 ms)
        // costs more than exact search. The graph itself was the limit: built with
        // efConstruction 512 instead of 256 it reaches 0.995 at ef 1024, for a vector build
        // 1.6 times as long (23 s → 37 s there; docs/BENCHMARKS.md, "Exact or HNSW"). A
        // fresh machine's registry subset (4,022 files, more generated constant tables) gave
        // Vector only 0.983–0.989 at ef 1024 over four builds; ef 2048, with the windows
        // beside each graph hit scored too (`VectorIndex::graph_hits`), gives 0.9935, and it
        // was still faster than usearch's exact search at 100,000 chunks (6.1 against 9.0 ms;
        // the flat scan that replaced it is faster than both, see `crate::mode`).
        HnswParams {
            connectivity: 16,
            expansion_add: 512,
            expansion_search: 2048,
        }
    }
}

/// Everything that decides what the vector index holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VectorConfig {
    /// Which embedder makes the vectors.
    pub embedder: EmbedderSpec,
    /// How files are cut into chunks.
    pub chunk: ChunkSettings,
    /// How the graph is built and searched.
    pub hnsw: HnswParams,
    /// How the graph stores the vectors' components.
    pub scalar: Scalar,
}

impl Default for VectorConfig {
    fn default() -> Self {
        VectorConfig::for_embedder(EmbedderSpec::default())
    }
}

impl VectorConfig {
    /// The default settings for `embedder`: default chunking and graph, and the embedder's
    /// default scalar kind ([`EmbedderSpec::default_scalar`]).
    pub fn for_embedder(embedder: EmbedderSpec) -> VectorConfig {
        VectorConfig {
            scalar: embedder.default_scalar(),
            embedder,
            chunk: ChunkSettings::default(),
            hnsw: HnswParams::default(),
        }
    }
}

/// [`ChunkOptions`] as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChunkSettings {
    /// Lines per chunk.
    pub lines: usize,
    /// Lines shared by consecutive chunks.
    pub overlap: usize,
}

impl Default for ChunkSettings {
    fn default() -> Self {
        let d = ChunkOptions::default();
        ChunkSettings {
            lines: d.lines,
            overlap: d.overlap,
        }
    }
}

impl From<ChunkSettings> for ChunkOptions {
    fn from(c: ChunkSettings) -> Self {
        ChunkOptions {
            lines: c.lines,
            overlap: c.overlap,
        }
    }
}
