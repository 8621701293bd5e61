//! The index a server answers from, and how it follows `verity index`: the published
//! generation is read from the index's pointer file; when it changes, the new generation is
//! opened beside the old one and swapped in. A request holds the generation it started with
//! to its end, so an update never fails a request in flight (the previous generation's files
//! stay on disk, and open files outlive their removal).

use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use verity_engine::{CodeIndex, EngineError, VectorSearch};
use verity_validation::protocol::Handshake;
use verity_validation::EngineBackend;

/// One opened generation.
pub struct Served {
    /// The engine, as the backend protocol answers from it.
    pub backend: EngineBackend,
    /// What `/api/protocol` says of this generation.
    pub handshake: Handshake,
    /// The generation's number.
    pub generation: u64,
}

impl Served {
    fn open(
        dir: &std::path::Path,
        vector_search: Option<VectorSearch>,
    ) -> Result<Served, EngineError> {
        let index = CodeIndex::open(dir)?;
        let generation = index.generation();
        let backend = EngineBackend::new(index).with_vector_search(vector_search);
        let handshake = backend.handshake();
        Ok(Served {
            backend,
            handshake,
            generation,
        })
    }

    /// The opened index.
    pub fn index(&self) -> &CodeIndex {
        self.backend.index()
    }
}

/// The generation being served, swapped when a newer one is published.
pub struct IndexHolder {
    dir: PathBuf,
    vector_search: Option<VectorSearch>,
    current: RwLock<Arc<Served>>,
}

impl IndexHolder {
    /// Opens the published generation of the index at `dir`.
    pub fn open(
        dir: PathBuf,
        vector_search: Option<VectorSearch>,
    ) -> Result<IndexHolder, EngineError> {
        let served = Served::open(&dir, vector_search)?;
        Ok(IndexHolder {
            dir,
            vector_search,
            current: RwLock::new(Arc::new(served)),
        })
    }

    /// The generation to answer a request from.
    pub fn current(&self) -> Arc<Served> {
        self.current
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Opens and swaps in the published generation if it is not the one served: `Ok(Some(n))`
    /// when generation `n` was picked up, `Ok(None)` when nothing changed. Blocking (reads
    /// the pointer file, and opens an index when it changed). On an error the served
    /// generation stays.
    pub fn refresh(&self) -> Result<Option<u64>, EngineError> {
        let published = verity_engine::generation::current(&self.dir)?;
        if published.is_none_or(|g| g == self.current().generation) {
            return Ok(None);
        }
        let served = Arc::new(Served::open(&self.dir, self.vector_search)?);
        let generation = served.generation;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = served;
        Ok(Some(generation))
    }

    /// The index directory followed.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }
}
