//! The vector index of a corpus: every file's chunks with their embeddings, an HNSW graph over
//! them (usearch, cosine), and the exact brute-force search kept beside it as the reference.
//!
//! On disk it is a directory (the engine keeps it as `vectors/` inside the text index):
//! `meta.json` (settings, embedder, dimensions), `files.json` (each file's path, content hash,
//! line count and first graph key, in path order: a file's chunks follow from its line count
//! and its keys are consecutive, so nothing per chunk is written or parsed), `hnsw.usearch` (the graph with the
//! vectors, stored as the configured [`Scalar`]: `i8` by default, see [`crate::scalar`]) and,
//! for `i8`, `unrounded.f32` (the `f32` vectors of the chunks `i8` cannot hold exactly, which
//! are scored from them). Every chunk has a key in the graph,
//! listed with its file; keys are never reused, so an update can take a changed file's chunks
//! out of the graph and put the new ones in without rebuilding it. Each file is written to a
//! temporary name and renamed.
//!
//! This module builds, updates and searches the index; `persist` writes and opens it,
//! `unrounded` keeps the `f32` vectors an `i8` graph rounds, and `exact_searcher` is the
//! brute-force reference.
//!
//! The graph is the only copy of the vectors, in memory as on disk: an index of 100,000 files
//! holds a few hundred megabytes of them, and a second copy beside the graph doubled that.
//! Exact search and reuse read them back from the graph ([`VectorIndex::exact_searcher`],
//! [`VectorIndex::file_vectors`]). A chunk without features (a zero vector) is never added to
//! the graph and reads back as zeros.

use std::collections::HashSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};

use rayon::prelude::*;
use usearch::{Index, IndexOptions, MetricKind};

use crate::chunk::{chunk, windows, ChunkOptions};
use crate::embed::{EmbedError, Embedder};
use crate::exact;
use crate::mode::VectorSearch;
use crate::scalar::{quantize_i8, Scalar};

pub use crate::config::{ChunkSettings, EmbedderSpec, HnswParams, VectorConfig};
pub use crate::error::VectorError;

mod exact_searcher;
mod persist;
mod unrounded;

pub use exact_searcher::ExactSearcher;
use unrounded::{Unrounded, UNROUNDED_ABOVE};

/// Version of the on-disk layout.
pub const VECTOR_FORMAT_VERSION: u32 = 4;

/// Slots for concurrent searches in the HNSW graph (usearch keeps per-thread scratch space).
const SEARCH_SLOTS: usize = 64;

/// Windows on either side of each chunk the graph finds that are scored too (in its file):
/// see [`VectorIndex::graph_hits`].
const SIBLINGS: usize = 2;

/// One file's chunks and vectors.
#[derive(Debug, Clone, PartialEq)]
pub struct FileVectors {
    /// The file's path in the corpus.
    pub path: String,
    /// Hash of the file's bytes, so an update re-embeds only changed files.
    pub hash: u64,
    /// 1-based inclusive line ranges of the chunks.
    pub chunks: Vec<(usize, usize)>,
    /// The chunks' keys in the HNSW graph (assigned by the index).
    pub keys: Vec<u64>,
    /// One vector per chunk while the index is built; empty once the graph holds them.
    pub vectors: Vec<Vec<f32>>,
}

impl FileVectors {
    /// Chunks `text` and embeds every chunk.
    pub fn embed(
        embedder: &dyn Embedder,
        opts: ChunkOptions,
        path: &str,
        hash: u64,
        text: &str,
    ) -> Result<FileVectors, EmbedError> {
        let chunks = chunk(text, opts);
        let texts: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
        let vectors = embedder.embed(&texts)?;
        Ok(FileVectors {
            path: path.to_owned(),
            hash,
            chunks: chunks.iter().map(|c| (c.first_line, c.last_line)).collect(),
            keys: Vec::new(),
            vectors,
        })
    }
}

/// A chunk found by a search.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkHit {
    /// The chunk's file.
    pub path: String,
    /// First line of the chunk, from 1.
    pub first_line: usize,
    /// Last line, inclusive.
    pub last_line: usize,
    /// Cosine similarity with the query.
    pub similarity: f32,
}

/// The nearest chunks of a query and how they were found.
#[derive(Debug, Clone, PartialEq)]
pub struct Nearest {
    /// Best first; ties by path, then first line.
    pub hits: Vec<ChunkHit>,
    /// Every chunk was scored: the answer is exact, not an approximation from the graph.
    pub exact: bool,
}

/// The vector index of a corpus.
pub struct VectorIndex {
    config: VectorConfig,
    embedder_name: String,
    dim: usize,
    files: Vec<FileVectors>,
    /// Chunk position → (file position, chunk position in the file).
    locations: Vec<(u32, u32)>,
    /// Position of each file's first chunk.
    starts: Vec<usize>,
    /// (first key, file position) of every file with chunks, by key: a file's keys are
    /// consecutive, so a key's chunk is found by binary search, with no map of every key.
    key_ranges: Vec<(u64, u32)>,
    /// The next unused graph key.
    next_key: u64,
    /// How searches find chunks unless they say otherwise.
    search_mode: VectorSearch,
    hnsw: Index,
    /// For an `i8` graph: the vectors it holds only approximately.
    unrounded: Unrounded,
    /// How far a similarity the graph computes can be from the true one (0 unless `i8`).
    graph_error: f32,
}

/// Where the chunks of `files` (in order) are: each chunk's file and place in it, each file's
/// first chunk, and the files by first key.
struct Layout {
    locations: Vec<(u32, u32)>,
    starts: Vec<usize>,
    key_ranges: Vec<(u64, u32)>,
}

/// The layout of `files`, whose keys must be consecutive within each file (the index hands
/// them out so); `None` when they are not.
fn layout(files: &[FileVectors]) -> Option<Layout> {
    let mut locations = Vec::new();
    let mut starts = Vec::with_capacity(files.len());
    let mut key_ranges = Vec::with_capacity(files.len());
    for (fi, f) in files.iter().enumerate() {
        starts.push(locations.len());
        if let Some(&first) = f.keys.first() {
            if f.keys.iter().zip(first..).any(|(k, want)| *k != want) {
                return None;
            }
            key_ranges.push((first, fi as u32));
        }
        locations.extend((0..f.keys.len()).map(|ci| (fi as u32, ci as u32)));
    }
    key_ranges.sort_unstable();
    // Ranges that overlap would give one key two chunks.
    let ends_before_next = |w: &[(u64, u32)]| {
        let len = files[w[0].1 as usize].keys.len() as u64;
        w[0].0.checked_add(len).is_some_and(|end| end <= w[1].0)
    };
    if !key_ranges.windows(2).all(ends_before_next) {
        return None;
    }
    Some(Layout {
        locations,
        starts,
        key_ranges,
    })
}

fn check_shape(f: &FileVectors, dim: usize) -> Result<(), VectorError> {
    if f.vectors.len() != f.chunks.len() || f.vectors.iter().any(|v| v.len() != dim) {
        return Err(VectorError::Embed(EmbedError(format!(
            "{}: {} vectors of the wrong shape for {} chunks",
            f.path,
            f.vectors.len(),
            f.chunks.len()
        ))));
    }
    Ok(())
}

/// Adds the files' vectors (under their keys) to the graph in parallel, skipping zero vectors,
/// and frees each file's vectors once the graph holds them, so the build never keeps two
/// copies of every vector.
fn add_all(
    hnsw: &Index,
    scalar: Scalar,
    files: &mut [FileVectors],
    unrounded: &Mutex<Unrounded>,
) -> Result<(), VectorError> {
    let count: usize = files.iter().map(|f| f.vectors.len()).sum();
    hnsw.reserve_capacity_and_threads((hnsw.size() + count).max(1), SEARCH_SLOTS)
        .map_err(hnsw_err)?;
    files
        .par_iter_mut()
        .try_for_each(|f| add_file(hnsw, scalar, f, unrounded))
}

/// Adds one file's vectors (under its keys) to the graph, skipping zero vectors, and frees
/// them: from here on the graph holds the only copy.
fn add_file(
    hnsw: &Index,
    scalar: Scalar,
    f: &mut FileVectors,
    unrounded: &Mutex<Unrounded>,
) -> Result<(), VectorError> {
    for (k, v) in f.keys.iter().zip(&mut f.vectors) {
        if is_zero(v) {
            continue;
        }
        // i8 components are made here, not by usearch's cast (see `crate::scalar`); f16 is
        // usearch's rounding conversion.
        match scalar {
            Scalar::I8 => {
                let (q, error) = quantize_i8(v);
                hnsw.add(*k, &q[..]).map_err(hnsw_err)?;
                if error > UNROUNDED_ABOVE {
                    unrounded.lock().unwrap_or_else(|e| e.into_inner()).insert(
                        *k,
                        std::mem::take(v),
                        error,
                    );
                }
            }
            Scalar::F16 | Scalar::F32 => hnsw.add(*k, &v[..]).map_err(hnsw_err)?,
        }
    }
    f.vectors = Vec::new();
    Ok(())
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("embedder", &self.embedder_name)
            .field("dim", &self.dim)
            .field("files", &self.files.len())
            .field("chunks", &self.locations.len())
            .finish()
    }
}

fn hnsw_err(e: impl std::error::Error + Send + Sync + 'static) -> VectorError {
    VectorError::Hnsw(Box::new(e))
}

/// The documented order of chunk hits: similarity descending, then path, then first line.
fn rank_order(a: &ChunkHit, b: &ChunkHit) -> std::cmp::Ordering {
    b.similarity
        .total_cmp(&a.similarity)
        .then_with(|| a.path.cmp(&b.path))
        .then(a.first_line.cmp(&b.first_line))
}

fn is_zero(v: &[f32]) -> bool {
    v.iter().all(|x| *x == 0.0)
}

impl VectorIndex {
    /// Assembles the index from per-file vectors (any order) and builds the HNSW graph, adding
    /// vectors in parallel. Zero vectors (a chunk with no features) are kept but never found.
    pub fn assemble(
        config: VectorConfig,
        embedder: &dyn Embedder,
        files: Vec<FileVectors>,
    ) -> Result<VectorIndex, VectorError> {
        let chunks = files.iter().map(|f| f.chunks.len()).sum();
        Self::build(config, embedder, chunks, files.into_par_iter().map(Ok))
    }

    /// Builds the index while the files' vectors are being made: each file's vectors go into
    /// the graph as soon as they arrive and are dropped there, so the build never holds every
    /// vector twice (nor, when `files` embeds lazily, every vector at once). `estimate` is the
    /// expected number of chunks; the graph grows past it when needed. Keys are handed out in
    /// arrival order. The first error of `files` stops the build and is returned.
    pub fn build<E, I>(
        config: VectorConfig,
        embedder: &dyn Embedder,
        estimate: usize,
        files: I,
    ) -> Result<VectorIndex, E>
    where
        E: From<VectorError> + Send,
        I: ParallelIterator<Item = Result<FileVectors, E>>,
    {
        let dim = embedder.dim();
        let hnsw = new_hnsw(dim, &config)?;
        let initial = estimate.max(1);
        hnsw.reserve_capacity_and_threads(initial, SEARCH_SLOTS)
            .map_err(hnsw_err)?;
        // The graph's capacity. Adds hold the read lock; growing it takes the write lock, since
        // usearch must not reserve while vectors are being added.
        let capacity = RwLock::new(initial);
        let claimed = AtomicUsize::new(0);
        let next_key = AtomicU64::new(0);
        let unrounded = Mutex::new(Unrounded::default());
        let mut files: Vec<FileVectors> = files
            .map(|f| -> Result<FileVectors, E> {
                let mut f = f?;
                check_shape(&f, dim)?;
                let n = f.chunks.len() as u64;
                let first = next_key.fetch_add(n, Ordering::Relaxed);
                f.keys = (first..first + n).collect();
                let adds = f.vectors.iter().filter(|v| !is_zero(v)).count();
                let end = claimed.fetch_add(adds, Ordering::Relaxed) + adds;
                let short = { end > *capacity.read().unwrap_or_else(|e| e.into_inner()) };
                if short {
                    let mut cap = capacity.write().unwrap_or_else(|e| e.into_inner());
                    if end > *cap {
                        let grown = end.max(cap.saturating_mul(2));
                        hnsw.reserve_capacity_and_threads(grown, SEARCH_SLOTS)
                            .map_err(hnsw_err)?;
                        *cap = grown;
                    }
                }
                let _adding = capacity.read().unwrap_or_else(|e| e.into_inner());
                add_file(&hnsw, config.scalar, &mut f, &unrounded)?;
                Ok(f)
            })
            .collect::<Result<_, E>>()?;
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let Layout {
            locations,
            starts,
            key_ranges,
        } = layout(&files).expect("keys are handed out consecutively per file");
        let unrounded = unrounded.into_inner().unwrap_or_else(|e| e.into_inner());
        Ok(VectorIndex {
            graph_error: graph_error(config.scalar, &unrounded),
            config,
            embedder_name: embedder.name(),
            dim,
            files,
            locations,
            starts,
            key_ranges,
            next_key: next_key.into_inner(),
            search_mode: VectorSearch::default(),
            hnsw,
            unrounded,
        })
    }

    /// Brings the index up to date in place: the chunks of `removed` files and of the old
    /// versions of `changed` files leave the graph, the chunks of `changed` files (new or
    /// modified, embedded) join it under fresh keys. The graph is edited, not rebuilt, so an
    /// update costs in proportion to what changed.
    pub fn update(
        mut self,
        changed: Vec<FileVectors>,
        removed: &[String],
    ) -> Result<VectorIndex, VectorError> {
        let gone: HashSet<&str> = removed
            .iter()
            .map(String::as_str)
            .chain(changed.iter().map(|f| f.path.as_str()))
            .collect();
        for f in changed.iter() {
            check_shape(f, self.dim)?;
        }
        let old_files = std::mem::take(&mut self.files);
        let mut files = Vec::with_capacity(old_files.len() + changed.len());
        for f in old_files {
            if gone.contains(f.path.as_str()) {
                for key in &f.keys {
                    self.hnsw.remove(*key).map_err(hnsw_err)?;
                    self.unrounded.remove(*key);
                }
            } else {
                files.push(f);
            }
        }
        let mut changed = changed;
        for f in changed.iter_mut() {
            f.keys = (self.next_key..self.next_key + f.chunks.len() as u64).collect();
            self.next_key += f.chunks.len() as u64;
        }
        let unrounded = Mutex::new(std::mem::take(&mut self.unrounded));
        let added = add_all(&self.hnsw, self.config.scalar, &mut changed, &unrounded);
        self.unrounded = unrounded.into_inner().unwrap_or_else(|e| e.into_inner());
        added?;
        self.graph_error = graph_error(self.config.scalar, &self.unrounded);
        files.extend(changed);
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let l = layout(&files).expect("keys are handed out consecutively per file");
        self.files = files;
        self.locations = l.locations;
        self.starts = l.starts;
        self.key_ranges = l.key_ranges;
        Ok(self)
    }

    /// The settings the index was built with.
    pub fn config(&self) -> &VectorConfig {
        &self.config
    }

    /// The name of the embedder that made the vectors.
    pub fn embedder_name(&self) -> &str {
        &self.embedder_name
    }

    /// Dimensions of the vectors.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of chunks.
    pub fn len(&self) -> usize {
        self.locations.len()
    }

    /// No chunk at all.
    pub fn is_empty(&self) -> bool {
        self.locations.is_empty()
    }

    /// The files, in path order, without their vectors.
    pub fn files(&self) -> &[FileVectors] {
        &self.files
    }

    /// A file's vectors with their chunks, for reuse when the file has not changed.
    pub fn file_vectors(&self, path: &str) -> Option<FileVectors> {
        let fi = self
            .files
            .binary_search_by(|f| f.path.as_str().cmp(path))
            .ok()?;
        let f = &self.files[fi];
        Some(FileVectors {
            vectors: f.keys.iter().map(|k| self.vector(*k)).collect(),
            ..f.clone()
        })
    }

    /// The vector stored under a graph key; zeros for a chunk the graph does not hold (a zero
    /// vector is never added).
    fn vector(&self, key: u64) -> Vec<f32> {
        let mut v = vec![0.0f32; self.dim];
        self.stored(key, &mut v);
        v
    }

    /// Fills `v` with the vector of `key`: its `f32` vector when the graph holds it only
    /// approximately, else the graph's. False when the graph does not hold the key.
    fn stored(&self, key: u64, v: &mut [f32]) -> bool {
        if let Some(exact) = self.unrounded.get(key) {
            v.copy_from_slice(exact);
            return true;
        }
        // A key holds one vector (keys are never reused), which fills `v` exactly.
        self.hnsw.contains(key) && self.hnsw.get(key, v).is_ok()
    }

    /// Chunks whose similarities are computed from an `f32` vector beside the `i8` graph,
    /// because the graph holds them only approximately.
    pub fn unrounded_len(&self) -> usize {
        self.unrounded.vectors.len()
    }

    /// Every chunk's vector read back from the graph once, for exact (brute-force) searches:
    /// the reference that recall is measured against.
    pub fn exact_searcher(&self) -> ExactSearcher<'_> {
        let vectors = self
            .files
            .par_iter()
            .flat_map_iter(|f| f.keys.iter().map(|k| self.vector(*k)))
            .collect();
        ExactSearcher {
            index: self,
            vectors,
        }
    }

    /// An exact searcher over `vectors` given by the caller, one per chunk in chunk order
    /// ([`files`](Self::files), then each file's chunks): the embedder's own `f32` vectors,
    /// to measure what the stored scalar kind changes. `None` when the count is not the
    /// index's.
    pub fn exact_searcher_over(&self, vectors: Vec<Vec<f32>>) -> Option<ExactSearcher<'_>> {
        (vectors.len() == self.len()).then_some(ExactSearcher {
            index: self,
            vectors,
        })
    }

    /// The chunk position of a graph key.
    fn position(&self, key: u64) -> Option<usize> {
        let i = self.key_ranges.partition_point(|(first, _)| *first <= key);
        let (first, fi) = *self.key_ranges.get(i.checked_sub(1)?)?;
        let offset = usize::try_from(key - first).ok()?;
        (offset < self.files[fi as usize].keys.len()).then(|| self.starts[fi as usize] + offset)
    }

    fn hit(&self, pos: usize, similarity: f32) -> ChunkHit {
        let (fi, ci) = self.locations[pos];
        let f = &self.files[fi as usize];
        let (first_line, last_line) = f.chunks[ci as usize];
        ChunkHit {
            path: f.path.clone(),
            first_line,
            last_line,
            similarity,
        }
    }

    /// Changes the search expansion (ef) for later searches.
    pub fn set_expansion_search(&self, ef: usize) {
        self.hnsw.change_expansion_search(ef.max(1));
    }

    /// The mode searches use unless they say otherwise.
    pub fn search_mode(&self) -> VectorSearch {
        self.search_mode
    }

    /// Sets the mode searches use unless they say otherwise; [`save`](Self::save) keeps it.
    pub fn set_search_mode(&mut self, mode: VectorSearch) {
        self.search_mode = mode;
    }

    /// Whether a search in `mode` (the index's own when `None`) scores every chunk.
    pub fn searches_exactly(&self, mode: Option<VectorSearch>) -> bool {
        mode.unwrap_or(self.search_mode).is_exact_for(self.len())
    }

    /// The k nearest chunks by cosine similarity in `mode` (the index's own when `None`):
    /// exact, or approximate from the graph. Best first; ties by path, then first line.
    pub fn nearest(
        &self,
        query: &[f32],
        k: usize,
        mode: Option<VectorSearch>,
    ) -> Result<Nearest, VectorError> {
        let exact = self.searches_exactly(mode);
        let hits = if exact {
            self.search_exact(query, k)?
        } else {
            self.search(query, k)?
        };
        Ok(Nearest { hits, exact })
    }

    /// The `k` nearest chunks as [`nearest`](Self::nearest) finds them, except that from the
    /// graph every chunk of the files `paths` is also scored exactly and ranked among the
    /// graph's hits (in place of the graph's hits from those files). The files' own best
    /// chunks cannot then be missed, whatever the graph reaches: hybrid search uses this for
    /// the files its text side found, which on real code are often exactly the files whose
    /// chunks sit in a crowded part of the graph (docs/ground-truth.md). Paths the index does
    /// not hold are ignored. An exact search already scores every chunk and is returned as is.
    pub fn nearest_with_files(
        &self,
        query: &[f32],
        k: usize,
        mode: Option<VectorSearch>,
        paths: &[&str],
    ) -> Result<Nearest, VectorError> {
        if self.searches_exactly(mode) || paths.is_empty() {
            return self.nearest(query, k, mode);
        }
        if k == 0 || is_zero(query) {
            return Ok(Nearest {
                hits: Vec::new(),
                exact: false,
            });
        }
        self.check_query(query)?;
        let chosen: Vec<&FileVectors> = paths
            .iter()
            .filter_map(|p| {
                let i = self
                    .files
                    .binary_search_by(|f| f.path.as_str().cmp(p))
                    .ok()?;
                Some(&self.files[i])
            })
            .collect();
        let names: HashSet<&str> = chosen.iter().map(|f| f.path.as_str()).collect();
        let mut v = vec![0.0f32; self.dim];
        // The graph's hits are scored exactly, like the named files' chunks (see `graph_hits`).
        let mut hits = if self.hnsw.size() > 0 {
            self.graph_hits(query, k, &names)?
        } else {
            Vec::new()
        };
        for f in chosen {
            for (key, &(first_line, last_line)) in f.keys.iter().zip(&f.chunks) {
                // A chunk without features is not in the graph, and is never found.
                if !self.stored(*key, &mut v) {
                    continue;
                }
                hits.push(ChunkHit {
                    path: f.path.clone(),
                    first_line,
                    last_line,
                    similarity: exact::similarity(query, &v),
                });
            }
        }
        hits.sort_by(rank_order);
        hits.truncate(k);
        Ok(Nearest { hits, exact: false })
    }

    fn check_query(&self, query: &[f32]) -> Result<(), VectorError> {
        if query.len() != self.dim {
            return Err(VectorError::Dimensions {
                query: query.len(),
                index: self.dim,
            });
        }
        Ok(())
    }

    /// Chunk hits of graph matches, in the documented order (similarity descending, then path,
    /// then first line; usearch itself leaves equal distances in no particular order). A chunk
    /// the graph holds only approximately is scored from its `f32` vector; when the graph's
    /// similarities can be off for this query (`error`, a rounded `i8` query), every chunk is
    /// scored again from its stored vector.
    fn hits_of(&self, query: &[f32], m: &usearch::ffi::Matches, error: f32) -> Vec<ChunkHit> {
        let rescore_all = error > self.graph_error + UNROUNDED_ABOVE;
        let mut v = vec![0.0f32; self.dim];
        let mut hits: Vec<ChunkHit> = m
            .keys
            .iter()
            .zip(&m.distances)
            .filter_map(|(key, d)| {
                let similarity = match self.unrounded.get(*key) {
                    Some(exact) => exact::similarity(query, exact),
                    None if rescore_all && self.stored(*key, &mut v) => {
                        exact::similarity(query, &v)
                    }
                    None => 1.0 - d,
                };
                Some(self.hit(self.position(*key)?, similarity))
            })
            .collect();
        hits.sort_by(rank_order);
        hits
    }

    /// The query as the graph compares it: `i8` components for an `i8` graph, with how far
    /// that moves its similarities (0 for a short query of the hash embedder, whose vector is
    /// integral).
    fn graph_query(&self, query: &[f32]) -> Option<(Vec<i8>, f32)> {
        (self.config.scalar == Scalar::I8).then(|| quantize_i8(query))
    }

    /// The graph's approximate k nearest keys, the query in the graph's scalar kind, and how
    /// far the graph's similarities can be off for this query.
    fn graph_search(
        &self,
        query: &[f32],
        k: usize,
    ) -> Result<(usearch::ffi::Matches, f32), VectorError> {
        match self.graph_query(query) {
            Some((q, error)) => Ok((
                self.hnsw.search(&q[..], k).map_err(hnsw_err)?,
                self.graph_error + error,
            )),
            None => Ok((self.hnsw.search(query, k).map_err(hnsw_err)?, 0.0)),
        }
    }

    /// Approximate k nearest chunks by cosine similarity, best first: the graph's k nearest
    /// and the chunks beside them in their files (`SIBLINGS` on either side), all scored exactly.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<ChunkHit>, VectorError> {
        if k == 0 || is_zero(query) || self.hnsw.size() == 0 {
            return Ok(Vec::new());
        }
        self.check_query(query)?;
        let mut hits = self.graph_hits(query, k, &HashSet::new())?;
        hits.sort_by(rank_order);
        hits.truncate(k);
        Ok(hits)
    }

    /// The graph's k nearest chunks and their siblings (the [`SIBLINGS`] windows on either
    /// side in the same file), each scored exactly from its stored vector, in no order;
    /// chunks of the files in `skip` are left out.
    ///
    /// Why siblings: on real code the graph's misses come in runs. Tables of generated
    /// constants (`windows-sys`, `linux-raw-sys`) make thousands of mutually similar chunks,
    /// and a short query of rare identifiers is near only a few of them; the search list fills
    /// with the crowd before it reaches the right region, and when it does reach it, it often
    /// keeps one window of a run of two or three overlapping ones that all contain the
    /// identifiers. The windows beside a hit share its lines (consecutive windows overlap), so
    /// they are the likeliest chunks the graph missed, and scoring them costs microseconds.
    fn graph_hits(
        &self,
        query: &[f32],
        k: usize,
        skip: &HashSet<&str>,
    ) -> Result<Vec<ChunkHit>, VectorError> {
        let (m, _) = self.graph_search(query, k)?;
        let mut positions: Vec<usize> = Vec::with_capacity(m.keys.len() * (2 * SIBLINGS + 1));
        for key in &m.keys {
            let Some(pos) = self.position(*key) else {
                continue;
            };
            let (fi, ci) = self.locations[pos];
            let start = self.starts[fi as usize];
            let count = self.files[fi as usize].keys.len();
            let first = (ci as usize).saturating_sub(SIBLINGS);
            let last = (ci as usize + SIBLINGS).min(count - 1);
            positions.extend((first..=last).map(|c| start + c));
        }
        positions.sort_unstable();
        positions.dedup();
        let mut v = vec![0.0f32; self.dim];
        let mut hits = Vec::with_capacity(positions.len());
        for pos in positions {
            let (fi, ci) = self.locations[pos];
            let f = &self.files[fi as usize];
            if skip.contains(f.path.as_str()) {
                continue;
            }
            // Scored again exactly, the graph's own hits too: usearch's distances differ from
            // the exact similarity in the last bits, and ranking the two kinds together let a
            // chunk pass another it is tied with. A chunk without features is not in the
            // graph and is never found.
            if self.stored(f.keys[ci as usize], &mut v) {
                hits.push(self.hit(pos, exact::similarity(query, &v)));
            }
        }
        Ok(hits)
    }

    /// Exact k nearest chunks by cosine similarity: every vector in the graph is scored
    /// (usearch's brute-force search over the stored vectors). Chunks tied with the
    /// k-th are all fetched before the cut, so the k kept are the first in (similarity, path,
    /// line) order — the order the oracle uses — and not whichever usearch met first.
    pub fn search_exact(&self, query: &[f32], k: usize) -> Result<Vec<ChunkHit>, VectorError> {
        let size = self.hnsw.size();
        if k == 0 || is_zero(query) || size == 0 {
            return Ok(Vec::new());
        }
        self.check_query(query)?;
        let graph_query = self.graph_query(query);
        let mut want = k.saturating_add(16).min(size);
        loop {
            let (m, error) = match &graph_query {
                Some((q, error)) => (
                    self.hnsw.exact_search(&q[..], want),
                    self.graph_error + error,
                ),
                None => (self.hnsw.exact_search(query, want), 0.0),
            };
            let m = m.map_err(hnsw_err)?;
            let mut hits = self.hits_of(query, &m, error);
            // Complete when every chunk was returned, or when every chunk not returned is
            // strictly less similar than the k-th (so no chunk tied with it was left out). The
            // graph returns chunks in its own order; one not returned is no more similar, by
            // the graph's reckoning, than the last returned, and truly at most `graph_error`
            // more (chunks held approximately are scored exactly once returned).
            let last = m.distances.last().map_or(f32::MIN, |d| 1.0 - d);
            let complete = m.distances.len() < want
                || want >= size
                || (hits.len() > k && last + error < hits[k - 1].similarity);
            if complete {
                hits.truncate(k);
                return Ok(hits);
            }
            want = want.saturating_mul(4).min(size);
        }
    }

    /// Exact k nearest chunks (every vector scored): the reference for [`search`](Self::search).
    /// Reads every vector back from the graph; for many queries, use one
    /// [`exact_searcher`](Self::exact_searcher).
    pub fn exact(&self, query: &[f32], k: usize) -> Vec<ChunkHit> {
        self.exact_searcher().search(query, k)
    }
}

/// How far a similarity the graph computes can be from the true one: 0 for `f32` (and for
/// `f16`, whose answers are not corrected either; its errors are about 1e-4), the largest
/// rounding error of a vector held approximately for `i8`.
fn graph_error(scalar: Scalar, unrounded: &Unrounded) -> f32 {
    match scalar {
        Scalar::I8 => unrounded.bound(),
        Scalar::F16 | Scalar::F32 => 0.0,
    }
}

fn new_hnsw(dim: usize, config: &VectorConfig) -> Result<Index, VectorError> {
    let p = &config.hnsw;
    let options = IndexOptions {
        dimensions: dim,
        metric: MetricKind::Cos,
        quantization: config.scalar.usearch(),
        connectivity: p.connectivity,
        expansion_add: p.expansion_add,
        expansion_search: p.expansion_search,
        multi: false,
    };
    Index::new(&options).map_err(hnsw_err)
}

#[cfg(test)]
mod tests;
