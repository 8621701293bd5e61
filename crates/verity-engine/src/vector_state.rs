//! The vector part of an open index: its [`VectorIndex`] in `vectors/` and the embedder,
//! loaded on first use. The index opens and updates it; vector and hybrid search read it.
//!
//! Opening an index does not read `vectors/` at all ([`VectorSlot`]): a text query, which most
//! `verity search` processes run, never needs the graph or the chunk table, and reading them
//! cost more than the query (0.6 s of a 0.65 s process on 210 MB of code, issue #13).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use verity_vector::embed::Embedder;
use verity_vector::store::VectorIndex;

use crate::error::EngineError;

/// Directory of the vector index inside the index directory.
pub const VECTOR_DIR: &str = "vectors";

/// The vector part of an open index, read from `vectors/` the first time a search needs it.
pub(crate) struct VectorSlot {
    /// The generation's directory (`vectors/` is inside).
    dir: PathBuf,
    /// The index's meta names vectors.
    present: bool,
    /// Opened (or built) state; an open that failed keeps its message.
    cell: OnceLock<Result<Option<Arc<VectorState>>, String>>,
}

impl VectorSlot {
    /// A slot for the index in `dir`, not read yet; `present` when its meta names vectors.
    pub(crate) fn unopened(dir: &Path, present: bool) -> VectorSlot {
        VectorSlot {
            dir: dir.to_path_buf(),
            present,
            cell: OnceLock::new(),
        }
    }

    /// A slot holding a state just built.
    pub(crate) fn with(dir: &Path, state: VectorState) -> VectorSlot {
        let cell = OnceLock::new();
        let _ = cell.set(Ok(Some(Arc::new(state))));
        VectorSlot {
            dir: dir.to_path_buf(),
            present: true,
            cell,
        }
    }

    /// The state, opened now if this is the first use; `None` when the index has no vectors.
    pub(crate) fn get(&self) -> Result<Option<&VectorState>, EngineError> {
        if !self.present {
            return Ok(None);
        }
        let opened = self.cell.get_or_init(|| {
            VectorState::open(&self.dir)
                .map(|s| s.map(Arc::new))
                // Kept as the detail alone: it is wrapped in `IndexCorrupt` again below, and
                // the whole message would say everything twice.
                .map_err(|e| match e {
                    EngineError::IndexCorrupt { detail, .. } => detail,
                    other => other.to_string(),
                })
        });
        match opened {
            Ok(s) => Ok(s.as_deref()),
            Err(detail) => Err(EngineError::IndexCorrupt {
                path: self.dir.join(VECTOR_DIR),
                detail: detail.clone(),
            }),
        }
    }
}

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
        // Searching only: the graph is mapped, not read (an update opens it with `open`).
        let index = VectorIndex::view(&vdir).map_err(|e| EngineError::IndexCorrupt {
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
