//! The vector flags shared by `index`, `truth generate`, `validate` and `bench`: `VectorArgs`
//! into the engine's settings, and the vector truth helpers with input errors.

use std::path::PathBuf;
use std::sync::Arc;

use verity_engine::{EmbedderSpec, HnswParams, VectorConfig};
use verity_oracle::nearest::ChunkTable;
use verity_oracle::Corpus;
use verity_validation::truth::VectorSettings;
use verity_validation::{vectors, VectorTruth};
use verity_vector::scalar::Scalar;
use verity_vector::store::ChunkSettings;

use crate::exit::Failure;
use crate::{EmbedderKind, VectorArgs};

impl VectorArgs {
    /// The vector index settings, or `None` for `--embedder none`.
    pub fn config(&self) -> Result<Option<VectorConfig>, Failure> {
        let embedder = match self.embedder {
            EmbedderKind::None => return Ok(None),
            EmbedderKind::Hash => {
                if self.hash_dim == 0 {
                    return Err(Failure::input("--hash-dim must be at least 1"));
                }
                EmbedderSpec::Hash { dim: self.hash_dim }
            }
            EmbedderKind::Minilm => {
                let dir = self
                    .model
                    .clone()
                    .or_else(|| std::env::var_os("VERITY_MINILM_DIR").map(PathBuf::from))
                    .ok_or_else(|| {
                        Failure::input(
                            "--embedder minilm needs --model DIR (or VERITY_MINILM_DIR): a directory with config.json, tokenizer.json and model.safetensors",
                        )
                    })?;
                for f in ["config.json", "tokenizer.json", "model.safetensors"] {
                    if !dir.join(f).is_file() {
                        return Err(Failure::input(format!(
                            "--model {}: {f} is missing",
                            dir.display()
                        )));
                    }
                }
                // Absolute, so that the index finds the model from any working directory.
                let dir = dir.canonicalize().unwrap_or(dir);
                EmbedderSpec::MiniLm { dir }
            }
        };
        if self.chunk_lines == 0 {
            return Err(Failure::input("--chunk-lines must be at least 1"));
        }
        if self.chunk_overlap >= self.chunk_lines {
            return Err(Failure::input(format!(
                "--chunk-overlap {} must be less than --chunk-lines {}",
                self.chunk_overlap, self.chunk_lines
            )));
        }
        if self.hnsw_m < 2 || self.hnsw_ef_construction == 0 || self.hnsw_ef == 0 {
            return Err(Failure::input(
                "--hnsw-m must be at least 2, --hnsw-ef-construction and --hnsw-ef at least 1",
            ));
        }
        Ok(Some(VectorConfig {
            scalar: self
                .vector_scalar
                .map_or_else(|| embedder.default_scalar(), Scalar::from),
            embedder,
            chunk: ChunkSettings {
                lines: self.chunk_lines,
                overlap: self.chunk_overlap,
            },
            hnsw: HnswParams {
                connectivity: self.hnsw_m,
                expansion_add: self.hnsw_ef_construction,
                expansion_search: self.hnsw_ef,
            },
        }))
    }
}

/// [`verity_validation::vectors::vector_truth`], its error an input error.
pub fn vector_truth(corpus: &Corpus, config: &VectorConfig) -> Result<Arc<VectorTruth>, Failure> {
    vectors::vector_truth(corpus, config).map_err(Failure::input)
}

/// [`verity_validation::vectors::chunk_table`], its error an input error.
pub fn chunk_table(
    corpus: &Corpus,
    config: &VectorConfig,
) -> Result<(ChunkTable, VectorSettings), Failure> {
    vectors::chunk_table(corpus, config).map_err(Failure::input)
}

/// [`verity_validation::vectors::check_settings`], its error an input error.
pub fn check_settings(
    path: &std::path::Path,
    ds: &verity_validation::GroundTruthDataset,
    config: Option<&VectorConfig>,
) -> Result<(), Failure> {
    vectors::check_settings(path, ds, config).map_err(Failure::input)
}
