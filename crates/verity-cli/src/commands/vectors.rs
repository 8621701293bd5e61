//! The vector settings shared by `index`, `truth generate`, `validate` and `bench`.

use std::path::PathBuf;
use std::sync::Arc;

use verity_engine::{EmbedderSpec, HnswParams, VectorConfig};
use verity_oracle::nearest::ChunkTable;
use verity_oracle::Corpus;
use verity_validation::truth::VectorSettings;
use verity_validation::VectorTruth;
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

/// Embeds every chunk of the corpus for the oracle (the ground truth of Vector and Hybrid
/// cases) with the settings of `config`.
pub fn vector_truth(corpus: &Corpus, config: &VectorConfig) -> Result<Arc<VectorTruth>, Failure> {
    let (table, settings) = chunk_table(corpus, config)?;
    Ok(Arc::new(VectorTruth { table, settings }))
}

/// The oracle's chunk table of `corpus` and the settings it was made with.
pub fn chunk_table(
    corpus: &Corpus,
    config: &VectorConfig,
) -> Result<(ChunkTable, VectorSettings), Failure> {
    let embedder = config
        .embedder
        .load()
        .map_err(|e| Failure::input(e.to_string()))?;
    let name = embedder.name();
    let table = ChunkTable::build(corpus, embedder, config.chunk.lines, config.chunk.overlap)
        .map_err(|e| Failure::input(e.to_string()))?;
    Ok((
        table,
        VectorSettings {
            embedder: name,
            chunk_lines: config.chunk.lines,
            chunk_overlap: config.chunk.overlap,
        },
    ))
}

/// Vector and Hybrid cases hold for one embedder and chunking: refuse to judge with others,
/// or without vectors.
pub fn check_settings(
    path: &std::path::Path,
    ds: &verity_validation::GroundTruthDataset,
    config: Option<&VectorConfig>,
) -> Result<(), Failure> {
    let ranked = ds.cases.iter().filter(|c| c.query_type.is_ranked()).count();
    if ranked == 0 {
        return Ok(());
    }
    let Some(config) = config else {
        return Err(Failure::input(format!(
            "{}: {ranked} Vector/Hybrid cases, but --embedder none builds no vectors",
            path.display()
        )));
    };
    let Some(want) = &ds.vectors else {
        return Ok(()); // curated truth that does not say: trust it
    };
    let name = match &config.embedder {
        EmbedderSpec::Hash { dim } => format!("hash-{dim}"),
        EmbedderSpec::MiniLm { .. } => "all-MiniLM-L6-v2".to_string(),
    };
    if want.embedder != name
        || want.chunk_lines != config.chunk.lines
        || want.chunk_overlap != config.chunk.overlap
    {
        return Err(Failure::input(format!(
            "{}: the truth's Vector/Hybrid cases were computed with embedder {} and {}-line chunks overlapping {}; this run uses {name} and {}-line chunks overlapping {} (pass the same --embedder and --chunk-* flags)",
            path.display(),
            want.embedder,
            want.chunk_lines,
            want.chunk_overlap,
            config.chunk.lines,
            config.chunk.overlap
        )));
    }
    Ok(())
}

/// A short description for reports.
pub fn describe(config: Option<&VectorConfig>) -> String {
    match config {
        None => "no vectors".into(),
        Some(c) => format!(
            "vectors {}; chunks {} lines overlapping {}; hnsw M {} ef_construction {} ef {}",
            match &c.embedder {
                EmbedderSpec::Hash { dim } => format!("hash-{dim}"),
                EmbedderSpec::MiniLm { dir } => format!("all-MiniLM-L6-v2 ({})", dir.display()),
            },
            c.chunk.lines,
            c.chunk.overlap,
            c.hnsw.connectivity,
            c.hnsw.expansion_add,
            c.hnsw.expansion_search
        ),
    }
}
