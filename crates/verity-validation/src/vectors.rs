//! The vector side of ground truth: the oracle's chunk table for an index's vector settings,
//! and the check that Vector and Hybrid cases are judged with the settings they were
//! computed with.

use std::path::Path;
use std::sync::Arc;

use verity_engine::{EmbedderSpec, VectorConfig};
use verity_oracle::nearest::ChunkTable;
use verity_oracle::Corpus;

use crate::generator::VectorTruth;
use crate::truth::{GroundTruthDataset, VectorSettings};

/// Vector settings that cannot be used as asked: the message says which and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct VectorSettingsError(pub String);

/// Embeds every chunk of the corpus for the oracle (the ground truth of Vector and Hybrid
/// cases) with the settings of `config`.
pub fn vector_truth(
    corpus: &Corpus,
    config: &VectorConfig,
) -> Result<Arc<VectorTruth>, VectorSettingsError> {
    let (table, settings) = chunk_table(corpus, config)?;
    Ok(Arc::new(VectorTruth { table, settings }))
}

/// The oracle's chunk table of `corpus` and the settings it was made with.
pub fn chunk_table(
    corpus: &Corpus,
    config: &VectorConfig,
) -> Result<(ChunkTable, VectorSettings), VectorSettingsError> {
    let embedder = config
        .embedder
        .load()
        .map_err(|e| VectorSettingsError(e.to_string()))?;
    let name = embedder.name();
    let table = ChunkTable::build(corpus, embedder, config.chunk.lines, config.chunk.overlap)
        .map_err(|e| VectorSettingsError(e.to_string()))?;
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
/// or without vectors. `path` names the truth file in messages.
pub fn check_settings(
    path: &Path,
    ds: &GroundTruthDataset,
    config: Option<&VectorConfig>,
) -> Result<(), VectorSettingsError> {
    let ranked = ds.cases.iter().filter(|c| c.query_type.is_ranked()).count();
    if ranked == 0 {
        return Ok(());
    }
    let Some(config) = config else {
        return Err(VectorSettingsError(format!(
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
        return Err(VectorSettingsError(format!(
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

/// A short description of vector settings, for reports.
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
