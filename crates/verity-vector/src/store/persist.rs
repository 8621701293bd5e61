//! The index on disk: `meta.json`, `files.json`, `hnsw.usearch` and, for `i8`,
//! `unrounded.f32`, each written to a temporary name and renamed, the meta last (a directory
//! without it is not an index); and opening them again, read into memory or mapped.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::unrounded::{Unrounded, UNROUNDED_FILE};
use super::*;

/// What `meta.json` holds.
#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    format_version: u32,
    config: VectorConfig,
    embedder: String,
    dim: usize,
    chunks: usize,
    /// How searches find chunks unless they say otherwise (`verity index --vector-search`).
    #[serde(default)]
    search: VectorSearch,
}

/// A file as `files.json` keeps it: path, content hash, line count, first key.
#[derive(Serialize, Deserialize)]
struct StoredFile(String, u64, usize, u64);

impl VectorIndex {
    /// Writes the index into `dir` (created if needed).
    pub fn save(&self, dir: &Path) -> Result<(), VectorError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| VectorError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let meta = Meta {
            format_version: VECTOR_FORMAT_VERSION,
            config: self.config.clone(),
            embedder: self.embedder_name.clone(),
            dim: self.dim,
            chunks: self.locations.len(),
            search: self.search_mode,
        };
        let write = |name: &str, bytes: &[u8]| -> Result<(), VectorError> {
            let tmp = dir.join(format!("{name}.tmp"));
            std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
            std::fs::rename(&tmp, dir.join(name)).map_err(io(&dir.join(name)))
        };
        let stored: Vec<StoredFile> = self
            .files
            .iter()
            .map(|f| {
                let lines = f.chunks.last().map_or(0, |c| c.1);
                debug_assert_eq!(windows(lines, self.config.chunk.into()), f.chunks);
                let first = f.keys.first().copied().unwrap_or(0);
                StoredFile(f.path.clone(), f.hash, lines, first)
            })
            .collect();
        write(
            "files.json",
            &serde_json::to_vec(&stored).expect("files serialize"),
        )?;
        if self.config.scalar == Scalar::I8 {
            write(UNROUNDED_FILE, &self.unrounded.to_bytes())?;
        }
        let tmp = dir.join("hnsw.usearch.tmp");
        self.hnsw
            .save(&tmp.to_string_lossy())
            .map_err(|e| VectorError::HnswFile {
                path: tmp.clone(),
                source: Box::new(e),
            })?;
        std::fs::rename(&tmp, dir.join("hnsw.usearch")).map_err(io(&tmp))?;
        // The meta goes last: a directory without it is not an index.
        write(
            "meta.json",
            &serde_json::to_vec_pretty(&meta).expect("meta serializes"),
        )
    }

    /// Opens an index written by [`save`](Self::save).
    pub fn open(dir: &Path) -> Result<VectorIndex, VectorError> {
        Self::open_as(dir, false)
    }

    /// Opens the index in `dir` for searching only: the graph file is memory-mapped (usearch's
    /// `view`), not read into memory, so a process that runs one query reads only the pages
    /// that query visits. The index cannot be updated.
    pub fn view(dir: &Path) -> Result<VectorIndex, VectorError> {
        Self::open_as(dir, true)
    }

    fn open_as(dir: &Path, view: bool) -> Result<VectorIndex, VectorError> {
        let read = |name: &str| {
            let path = dir.join(name);
            std::fs::read(&path).map_err(|source| VectorError::Io { path, source })
        };
        let corrupt = |name: &str, detail: String| VectorError::Corrupt {
            path: dir.join(name),
            detail,
        };
        let meta: Meta = serde_json::from_slice(&read("meta.json")?)
            .map_err(|e| corrupt("meta.json", e.to_string()))?;
        if meta.format_version != VECTOR_FORMAT_VERSION {
            return Err(corrupt(
                "meta.json",
                format!(
                    "format version {} (this engine reads {VECTOR_FORMAT_VERSION}); rebuild the index",
                    meta.format_version
                ),
            ));
        }
        let stored: Vec<StoredFile> = serde_json::from_slice(&read("files.json")?)
            .map_err(|e| corrupt("files.json", e.to_string()))?;
        let opts: ChunkOptions = meta.config.chunk.into();
        let files: Vec<FileVectors> = stored
            .into_iter()
            .map(|StoredFile(path, hash, lines, first)| {
                let chunks = windows(lines, opts);
                let keys = (first..first.saturating_add(chunks.len() as u64)).collect();
                FileVectors {
                    path,
                    hash,
                    chunks,
                    keys,
                    vectors: Vec::new(),
                }
            })
            .collect();
        let count: usize = files.iter().map(|f| f.chunks.len()).sum();
        if count != meta.chunks {
            return Err(corrupt(
                "files.json",
                format!("{count} chunks, meta.json says {}", meta.chunks),
            ));
        }
        if files.iter().any(|f| f.keys.len() != f.chunks.len()) {
            return Err(corrupt("files.json", "a file's keys pass 2^64".into()));
        }
        let unrounded = if meta.config.scalar == Scalar::I8 {
            Unrounded::from_bytes(&read(UNROUNDED_FILE)?, meta.dim).ok_or_else(|| {
                corrupt(
                    UNROUNDED_FILE,
                    format!("not a whole number of {}-dimension records", meta.dim),
                )
            })?
        } else {
            Unrounded::default()
        };
        let Layout {
            locations,
            starts,
            key_ranges,
        } = layout(&files).ok_or_else(|| corrupt("files.json", "keys out of order".into()))?;
        let next_key = files
            .iter()
            .flat_map(|f| f.keys.iter().copied())
            .max()
            .map_or(0, |k| k + 1);
        let hnsw = new_hnsw(meta.dim, &meta.config)?;
        let path = dir.join("hnsw.usearch");
        let path = path.to_string_lossy();
        if view {
            // A mapped graph cannot grow, but keeps the search slots reserved before it is
            // mapped (usearch carries the thread limits over): as many concurrent searches as
            // a loaded one.
            hnsw.reserve_capacity_and_threads(1, SEARCH_SLOTS)
                .map_err(hnsw_err)?;
            hnsw.view(&path)
        } else {
            hnsw.load(&path)
        }
        .map_err(|e| corrupt("hnsw.usearch", e.to_string()))?;
        if hnsw.size() > count || hnsw.dimensions() != meta.dim {
            return Err(corrupt(
                "hnsw.usearch",
                format!(
                    "{} vectors of {} dimensions for {count} chunks of {}",
                    hnsw.size(),
                    hnsw.dimensions(),
                    meta.dim
                ),
            ));
        }
        if !view {
            hnsw.reserve_capacity_and_threads(count.max(1), SEARCH_SLOTS)
                .map_err(hnsw_err)?;
        }
        hnsw.change_expansion_search(meta.config.hnsw.expansion_search);
        Ok(VectorIndex {
            graph_error: graph_error(meta.config.scalar, &unrounded),
            unrounded,
            config: meta.config,
            embedder_name: meta.embedder,
            dim: meta.dim,
            files,
            locations,
            starts,
            key_ranges,
            next_key,
            search_mode: meta.search,
            hnsw,
        })
    }
}
