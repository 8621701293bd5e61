//! Errors of the engine.

use std::path::PathBuf;

use crate::deadline::Interrupted;
use crate::query::QueryError;

/// Anything that can go wrong while indexing or searching.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The query string does not parse; the error has the column.
    #[error("invalid query: {0}")]
    Query(#[from] QueryError),
    /// The search's deadline passed.
    #[error("search timed out")]
    Timeout,
    /// The search (or build) was cancelled through its token.
    #[error("search cancelled")]
    Cancelled,
    /// Nothing is indexed at this directory.
    #[error("no index at {path} (build one with `verity index DIR --index {path}`)", path = .0.display())]
    IndexMissing(PathBuf),
    /// The directory holds files but no Verity index: a build refuses to write into it.
    #[error("{path} is not a Verity index (no verity.json); refusing to touch it", path = .0.display())]
    NotAnIndex(PathBuf),
    /// `--index` names a file, not a directory.
    #[error("{path} is a file, not an index directory", path = .0.display())]
    NotADirectory(PathBuf),
    /// The index was written in another format version.
    #[error("index at {path} has format version {found}; this build reads version {expected} (rebuild it with `verity index --rebuild`)", path = .path.display())]
    IndexVersion {
        /// The index directory.
        path: PathBuf,
        /// The format version it was written in.
        found: u32,
        /// The version this build reads.
        expected: u32,
    },
    /// The index's files cannot be read as an index: damaged, truncated or foreign. Reading
    /// one never panics: a panic inside the engine while it reads an index is reported as this.
    #[error("index at {path} is corrupt: {detail} (`verity index --verify` names the damaged files; `verity index --rebuild` rebuilds the index)", path = .path.display())]
    IndexCorrupt {
        /// The index directory (or the damaged generation).
        path: PathBuf,
        /// What could not be read.
        detail: String,
    },
    /// The corpus directory cannot be read.
    #[error("corpus directory {path}: {source}", path = .path.display())]
    Corpus {
        /// The corpus directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file of the index or the corpus cannot be read or written.
    #[error("{path}: {source}", path = .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Vector or hybrid search cannot run: no vectors in the index, the model cannot load, or
    /// the vector index failed.
    #[error("vector search unavailable: {0}")]
    Vector(#[from] VectorUnavailable),
    /// tantivy failed below the index (an I/O or schema error of its own).
    #[error("index error: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
}

impl From<Interrupted> for EngineError {
    fn from(i: Interrupted) -> Self {
        match i {
            Interrupted::TimedOut => EngineError::Timeout,
            Interrupted::Cancelled => EngineError::Cancelled,
        }
    }
}

/// Why a vector or hybrid query (or building vectors) cannot go on; the cause is the source.
#[derive(Debug, thiserror::Error)]
pub enum VectorUnavailable {
    /// The index was built without vectors.
    #[error("the index at {path} has no vectors (build it with vectors: `verity index --embedder hash`)", path = .0.display())]
    NoVectors(PathBuf),
    /// The embedder could not be loaded or could not embed.
    #[error(transparent)]
    Embed(#[from] verity_vector::embed::EmbedError),
    /// The vector index failed.
    #[error(transparent)]
    Index(#[from] verity_vector::store::VectorError),
}

impl From<verity_vector::store::VectorError> for EngineError {
    fn from(e: verity_vector::store::VectorError) -> Self {
        EngineError::Vector(e.into())
    }
}

impl From<verity_vector::embed::EmbedError> for EngineError {
    fn from(e: verity_vector::embed::EmbedError) -> Self {
        EngineError::Vector(e.into())
    }
}

impl EngineError {
    /// Runs `f`, which reads the index in `path`, turning a panic inside it (tantivy and its
    /// codecs index out of bounds on damaged files) and tantivy's reports of damaged data into
    /// [`EngineError::IndexCorrupt`] naming `path`.
    pub(crate) fn guard<T>(
        path: &std::path::Path,
        f: impl FnOnce() -> Result<T, EngineError>,
    ) -> Result<T, EngineError> {
        let corrupt = |detail: String| EngineError::IndexCorrupt {
            path: path.to_path_buf(),
            detail,
        };
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(Err(EngineError::Tantivy(
                e @ (tantivy::TantivyError::DataCorruption(_) | tantivy::TantivyError::IoError(_)),
            ))) => Err(corrupt(e.to_string())),
            Ok(r) => r,
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "no message".into());
                Err(corrupt(format!("reading it failed ({message})")))
            }
        }
    }

    /// Is this about the user's input (query, paths, flags) rather than the engine or index?
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            EngineError::Query(_)
                | EngineError::IndexMissing(_)
                | EngineError::NotAnIndex(_)
                | EngineError::NotADirectory(_)
                | EngineError::IndexVersion { .. }
                | EngineError::IndexCorrupt { .. }
                | EngineError::Corpus { .. }
        )
    }
}
