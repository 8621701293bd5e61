//! The vector part of an open index: its [`VectorIndex`] in `vectors/` and the embedder,
//! loaded on first use. The index opens and updates it; vector and hybrid search read it.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use verity_vector::embed::Embedder;
use verity_vector::store::VectorIndex;

use crate::error::EngineError;

/// Directory of the vector index inside the index directory.
pub const VECTOR_DIR: &str = "vectors";

/// The vector index of an open [`CodeIndex`] and its embedder, loaded on first use (a model
/// takes a moment to load and text-only sessions never need it).
pub(crate) struct VectorState {
    pub(crate) index: VectorIndex,
    embedder: OnceLock<Result<Arc<dyn Embedder>, verity_vector::embed::EmbedError>>,
}

impl VectorState {
    pub(crate) fn open(dir: &Path) -> Result<Option<VectorState>, EngineError> {
        let vdir = dir.join(VECTOR_DIR);
        if !vdir.join("meta.json").exists() {
            return Ok(None);
        }
        let index = VectorIndex::open(&vdir).map_err(|e| EngineError::IndexCorrupt {
            path: vdir.clone(),
            detail: e.to_string(),
        })?;
        Ok(Some(VectorState::new(index, None)))
    }

    pub(crate) fn new(index: VectorIndex, embedder: Option<Arc<dyn Embedder>>) -> VectorState {
        let cell = OnceLock::new();
        if let Some(e) = embedder {
            let _ = cell.set(Ok(e));
        }
        VectorState {
            index,
            embedder: cell,
        }
    }

    pub(crate) fn embedder(&self) -> Result<Arc<dyn Embedder>, EngineError> {
        self.embedder
            .get_or_init(|| self.index.config().embedder.load())
            .clone()
            .map_err(EngineError::from)
    }

    pub(crate) fn embed(&self, text: &str) -> Result<Vec<f32>, EngineError> {
        let e = self.embedder()?;
        let mut v = e.embed(&[text])?;
        Ok(v.pop().unwrap_or_default())
    }
}
