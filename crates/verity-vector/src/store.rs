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
//! The graph is the only copy of the vectors, in memory as on disk: an index of 100,000 files
//! holds a few hundred megabytes of them, and a second copy beside the graph doubled that.
//! Exact search and reuse read them back from the graph ([`VectorIndex::exact_searcher`],
//! [`VectorIndex::file_vectors`]). A chunk without features (a zero vector) is never added to
//! the graph and reads back as zeros.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use usearch::{Index, IndexOptions, MetricKind};

use crate::chunk::{chunk, windows, ChunkOptions};
use crate::embed::{EmbedError, Embedder};
use crate::exact;
use crate::mode::VectorSearch;
use crate::scalar::{quantize_i8, Scalar};

pub use crate::config::{ChunkSettings, EmbedderSpec, HnswParams, VectorConfig};
pub use crate::error::VectorError;

/// Version of the on-disk layout.
pub const VECTOR_FORMAT_VERSION: u32 = 4;

/// Slots for concurrent searches in the HNSW graph (usearch keeps per-thread scratch space).
const SEARCH_SLOTS: usize = 64;

/// Windows on either side of each chunk the graph finds that are scored too (in its file):
/// see [`VectorIndex::graph_hits`].
const SIBLINGS: usize = 2;

/// An `i8` vector whose similarities can move by more than this keeps its `f32` vector
/// beside the graph. The integral vectors of the hash embedder move them by `f32` rounding
/// only (about 1e-7); the validator's tolerance is 1e-3.
const UNROUNDED_ABOVE: f32 = 1e-5;

/// The `f32` vectors of the chunks an `i8` graph holds only approximately, and the most any
/// similarity computed from the graph's copy of one of them can be off.
#[derive(Debug, Default)]
struct Unrounded {
    /// Per key: the f32 vector, and how far the graph's `i8` copy can move a similarity
    /// ([`crate::scalar::rounding_error`]).
    vectors: HashMap<u64, (Vec<f32>, f32)>,
}

impl Unrounded {
    fn insert(&mut self, key: u64, vector: Vec<f32>, error: f32) {
        self.vectors.insert(key, (vector, error));
    }

    fn remove(&mut self, key: u64) {
        self.vectors.remove(&key);
    }

    /// The f32 vector of `key`, when the graph's copy is rounded.
    fn get(&self, key: u64) -> Option<&[f32]> {
        self.vectors.get(&key).map(|(v, _)| v.as_slice())
    }

    /// How far any similarity computed from the graph can be from the true one.
    fn bound(&self) -> f32 {
        self.vectors
            .values()
            .fold(UNROUNDED_ABOVE, |m, (_, e)| m.max(*e))
    }

    /// `key u64, error f32, dim × f32`, little-endian, in key order.
    fn to_bytes(&self) -> Vec<u8> {
        let mut records: Vec<(&u64, &(Vec<f32>, f32))> = self.vectors.iter().collect();
        records.sort_by_key(|(k, _)| **k);
        let mut out = Vec::new();
        for (k, (vector, error)) in records {
            out.extend_from_slice(&k.to_le_bytes());
            out.extend_from_slice(&error.to_le_bytes());
            for x in vector {
                out.extend_from_slice(&x.to_le_bytes());
            }
        }
        out
    }

    fn from_bytes(bytes: &[u8], dim: usize) -> Option<Unrounded> {
        let record = 12 + 4 * dim;
        if !bytes.len().is_multiple_of(record) {
            return None;
        }
        let mut u = Unrounded::default();
        for r in bytes.chunks_exact(record) {
            let key = u64::from_le_bytes(r[..8].try_into().ok()?);
            let error = f32::from_le_bytes(r[8..12].try_into().ok()?);
            let vector = r[12..]
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            u.insert(key, vector, error);
        }
        Some(u)
    }
}

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

/// A file as `files.json` keeps it: path, content hash, line count, first key.
#[derive(Serialize, Deserialize)]
struct StoredFile(String, u64, usize, u64);

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

/// Exact k-nearest-neighbour search over every chunk of a [`VectorIndex`], with the vectors
/// read back from the graph once.
pub struct ExactSearcher<'a> {
    index: &'a VectorIndex,
    /// In chunk position order.
    vectors: Vec<Vec<f32>>,
}

impl ExactSearcher<'_> {
    /// The k most similar chunks, best first; ties by position (path, then line). Chunks
    /// without features are never found, as in the graph.
    pub fn search(&self, query: &[f32], k: usize) -> Vec<ChunkHit> {
        if is_zero(query) {
            return Vec::new();
        }
        exact::knn(query, &self.vectors, usize::MAX)
            .into_iter()
            .filter(|(i, _)| !is_zero(&self.vectors[*i]))
            .take(k)
            .map(|(i, s)| self.index.hit(i, s))
            .collect()
    }

    /// The vectors it searches, in chunk position order.
    pub fn vectors(&self) -> &[Vec<f32>] {
        &self.vectors
    }
}

/// The file of an `i8` index's unrounded vectors.
const UNROUNDED_FILE: &str = "unrounded.f32";

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
mod tests {
    use super::*;
    use crate::embed::HashEmbedder;

    fn corpus(n: usize) -> Vec<(String, String)> {
        let words = [
            "parse", "request", "error", "cache", "store", "matrix", "server", "token", "query",
            "index", "thread", "socket",
        ];
        (0..n)
            .map(|i| {
                let text: String = (0..60)
                    .map(|l| {
                        format!(
                            "fn {}_{}(x: {}) -> {} {{}}\n",
                            words[(i * 7 + l) % words.len()],
                            words[(i + l * 3) % words.len()],
                            words[(i * l) % words.len()],
                            l
                        )
                    })
                    .collect();
                (format!("src/f{i:03}.rs"), text)
            })
            .collect()
    }

    /// The index of `texts` (path, text), hash-64 vectors stored as `scalar`.
    fn build_texts(texts: &[(String, String)], scalar: Scalar) -> VectorIndex {
        let e = HashEmbedder::new(64);
        let config = VectorConfig {
            embedder: EmbedderSpec::Hash { dim: 64 },
            scalar,
            ..VectorConfig::default()
        };
        let files = texts
            .iter()
            .map(|(p, t)| FileVectors::embed(&e, config.chunk.into(), p, 0, t).unwrap())
            .collect();
        VectorIndex::assemble(config, &e, files).unwrap()
    }

    fn build(n: usize) -> VectorIndex {
        build_texts(&corpus(n), VectorConfig::default().scalar)
    }

    #[test]
    fn hnsw_agrees_with_exact_search_and_survives_a_round_trip() {
        let index = build(60);
        assert_eq!(index.len(), 120, "two 40-line chunks per 60-line file");
        let q = HashEmbedder::new(64).embed_one("parse request error");
        let exact = index.exact(&q, 10);
        let approx = index.search(&q, 10).unwrap();
        assert_eq!(exact.len(), 10);
        let kth = exact[9].similarity;
        let found = approx.iter().filter(|h| h.similarity >= kth - 1e-3).count();
        assert!(found >= 9, "recall {found}/10");
        for w in approx.windows(2) {
            assert!(w[0].similarity >= w[1].similarity);
        }

        let dir = tempfile::tempdir().unwrap();
        index.save(dir.path()).unwrap();
        let reopened = VectorIndex::open(dir.path()).unwrap();
        assert_eq!(reopened.exact(&q, 10), exact);
        assert_eq!(reopened.search(&q, 10).unwrap(), approx);
        assert_eq!(
            reopened.file_vectors("src/f007.rs"),
            index.file_vectors("src/f007.rs")
        );
        assert!(reopened.file_vectors("nope").is_none());
    }

    #[test]
    fn exact_search_in_the_graph_equals_brute_force_ties_included() {
        // Files 0 and 12 of this corpus are the same text, and every 12th file repeats lines:
        // ties at the cut-off are common, and must be cut in (similarity, path, line) order.
        let index = build(60);
        let e = HashEmbedder::new(64);
        let reference = index.exact_searcher();
        for q in [
            "parse request error",
            "socket",
            "matrix cache store",
            "fn x",
            "token",
        ] {
            let v = e.embed_one(q);
            for k in [1, 2, 3, 5, 10, 37, 120, 500] {
                let ids = |hs: &[ChunkHit]| {
                    hs.iter()
                        .map(|h| (h.path.clone(), h.first_line))
                        .collect::<Vec<_>>()
                };
                let got = index.search_exact(&v, k).unwrap();
                let want = reference.search(&v, k);
                assert_eq!(ids(&got), ids(&want), "{q} k={k}");
                for (g, w) in got.iter().zip(&want) {
                    assert!((g.similarity - w.similarity).abs() < 1e-5, "{q} k={k}");
                }
                let n = index.nearest(&v, k, Some(VectorSearch::Exact)).unwrap();
                assert!(n.exact);
                assert_eq!(ids(&n.hits), ids(&got));
                assert!(
                    !index
                        .nearest(&v, k, Some(VectorSearch::Hnsw))
                        .unwrap()
                        .exact
                );
            }
        }
        // `auto` is exact at this size, and so is the index's own mode unless set otherwise.
        assert!(index.searches_exactly(None));
        assert!(index.searches_exactly(Some(VectorSearch::Auto)));
        assert!(!index.searches_exactly(Some(VectorSearch::Hnsw)));
    }

    /// The chunks (path, first line) the graph alone returns for `v`: no siblings.
    fn raw_graph(index: &VectorIndex, v: &[f32], k: usize) -> Vec<(String, usize)> {
        let (m, _) = index.graph_search(v, k).unwrap();
        m.keys
            .iter()
            .filter_map(|key| index.position(*key))
            .map(|pos| {
                let h = index.hit(pos, 0.0);
                (h.path, h.first_line)
            })
            .collect()
    }

    #[test]
    fn the_windows_beside_the_graphs_hits_are_scored_exactly() {
        // 200-line files: seven overlapping windows each, so a hit has siblings on both sides.
        let texts: Vec<(String, String)> = corpus(80)
            .into_iter()
            .map(|(p, t)| {
                (
                    p,
                    t.repeat(4).lines().take(200).collect::<Vec<_>>().join("\n"),
                )
            })
            .collect();
        let index = build_texts(&texts, Scalar::I8);
        // A beam of one (usearch searches at least k wide): the graph alone misses chunks.
        index.set_expansion_search(1);
        let e = HashEmbedder::new(64);
        let reference = index.exact_searcher();
        // Every pair of words: which chunks a beam of one misses differs from build to build
        // (the graph is built by several threads); over 144 queries, some always are.
        let words = [
            "parse", "request", "error", "cache", "store", "matrix", "server", "token", "query",
            "index", "thread", "socket",
        ];
        let mut found_by_siblings = 0;
        for (a, b) in words.iter().flat_map(|a| words.iter().map(move |b| (a, b))) {
            let v = e.embed_one(&format!("{a} {b} x"));
            let k = 3;
            let graph = raw_graph(&index, &v, k);
            let hits = index.graph_hits(&v, k, &HashSet::new()).unwrap();
            // Every window within SIBLINGS of a graph hit, in its file, is there, scored as
            // exact search scores it.
            for (path, line) in &graph {
                for h in reference.search(&v, usize::MAX) {
                    let near = h.path == *path && h.first_line.abs_diff(*line) <= SIBLINGS * 30;
                    if near {
                        let got = hits
                            .iter()
                            .find(|g| g.path == h.path && g.first_line == h.first_line)
                            .unwrap_or_else(|| panic!("{path}:{} missing", h.first_line));
                        assert!((got.similarity - h.similarity).abs() < 1e-6);
                    }
                }
            }
            // The search is their best k, in the documented order.
            let mut best = hits.clone();
            best.sort_by(rank_order);
            best.truncate(k);
            assert_eq!(index.search(&v, k).unwrap(), best);
            found_by_siblings += reference
                .search(&v, k)
                .iter()
                .filter(|h| !graph.contains(&(h.path.clone(), h.first_line)))
                .filter(|h| {
                    best.iter()
                        .any(|b| (&b.path, b.first_line) == (&h.path, h.first_line))
                })
                .count();
        }
        assert!(
            found_by_siblings > 0,
            "no exact top chunk came from a sibling: the test proves nothing"
        );
    }

    #[test]
    fn chunks_of_the_named_files_are_never_missed_by_the_graph() {
        let index = build(60);
        // A beam of one (usearch searches at least k wide): the graph alone misses some of
        // the exact top.
        index.set_expansion_search(1);
        let e = HashEmbedder::new(64);
        let reference = index.exact_searcher();
        let mut helped = 0;
        let words = [
            "parse", "request", "error", "cache", "store", "matrix", "socket", "token",
        ];
        // Every pair of words: the graph is built by several threads, so which chunks a beam
        // of one misses differs from run to run; over 64 queries some always are (with 8, a
        // run now and then missed none, and the check below failed).
        let pairs = words.iter().flat_map(|a| words.iter().map(move |b| (a, b)));
        for (w, w2) in pairs {
            let q = format!("{w} {w2} x");
            let v = e.embed_one(&q);
            // The file of the exact best chunk: the one whose chunks must not be missed.
            let file = reference.search(&v, 1)[0].path.clone();
            let file = file.as_str();
            let k = 2;
            let exact = reference.search(&v, k);
            let graph = raw_graph(&index, &v, k);
            let got = index
                .nearest_with_files(&v, k, Some(VectorSearch::Hnsw), &[file, "no/such.rs"])
                .unwrap();
            assert!(!got.exact);
            assert!(got.hits.len() <= k);
            for w in got.hits.windows(2) {
                assert_ne!(rank_order(&w[0], &w[1]), std::cmp::Ordering::Greater);
                assert!((&w[0].path, w[0].first_line) != (&w[1].path, w[1].first_line));
            }
            // Every chunk of the file in the exact top k is there, with its exact similarity.
            for want in exact.iter().filter(|h| h.path == file) {
                let found = got
                    .hits
                    .iter()
                    .find(|h| h.path == file && h.first_line == want.first_line)
                    .unwrap_or_else(|| panic!("{q}: {file} L{} missed", want.first_line));
                assert!((found.similarity - want.similarity).abs() < 1e-5);
                let in_graph = graph.contains(&(file.to_owned(), want.first_line));
                if !in_graph {
                    helped += 1;
                }
            }
        }
        // Exact search (and an empty list of files) is the plain search.
        let v = e.embed_one("socket");
        assert_eq!(
            index
                .nearest_with_files(&v, 5, Some(VectorSearch::Exact), &["src/f001.rs"])
                .unwrap(),
            index.nearest(&v, 5, Some(VectorSearch::Exact)).unwrap()
        );
        assert!(
            helped > 0,
            "the graph found every chunk itself: the test proves nothing"
        );
    }

    #[test]
    fn a_mapped_index_answers_as_a_loaded_one_from_many_threads() {
        let index = build(60);
        let dir = tempfile::tempdir().unwrap();
        index.save(dir.path()).unwrap();
        let loaded = VectorIndex::open(dir.path()).unwrap();
        let viewed = VectorIndex::view(dir.path()).unwrap();
        assert_eq!(viewed.len(), loaded.len());
        let e = HashEmbedder::new(64);
        let queries: Vec<Vec<f32>> = ["parse request", "socket", "matrix cache", "token index"]
            .iter()
            .map(|q| e.embed_one(q))
            .collect();
        // More threads than cores: every search needs one of the reserved slots.
        std::thread::scope(|s| {
            for _ in 0..8 {
                let (viewed, loaded, queries) = (&viewed, &loaded, &queries);
                s.spawn(move || {
                    for _ in 0..20 {
                        for q in queries {
                            assert_eq!(viewed.search(q, 5).unwrap(), loaded.search(q, 5).unwrap());
                            assert_eq!(
                                viewed.search_exact(q, 5).unwrap(),
                                loaded.search_exact(q, 5).unwrap()
                            );
                        }
                    }
                });
            }
        });
        assert_eq!(
            viewed.file_vectors("src/f003.rs"),
            loaded.file_vectors("src/f003.rs")
        );
    }

    #[test]
    fn the_search_mode_is_saved_with_the_index() {
        let mut index = build(5);
        assert_eq!(index.search_mode(), VectorSearch::Auto);
        index.set_search_mode(VectorSearch::Hnsw);
        let dir = tempfile::tempdir().unwrap();
        index.save(dir.path()).unwrap();
        let reopened = VectorIndex::open(dir.path()).unwrap();
        assert_eq!(reopened.search_mode(), VectorSearch::Hnsw);
        assert!(!reopened.searches_exactly(None));
        assert!(reopened.searches_exactly(Some(VectorSearch::Exact)));
    }

    #[test]
    fn a_streamed_build_grows_the_graph_past_its_estimate() {
        let e = HashEmbedder::new(64);
        let config = VectorConfig {
            embedder: EmbedderSpec::Hash { dim: 64 },
            ..VectorConfig::default()
        };
        let files = corpus(80);
        // An estimate of one chunk for 160: the graph must grow, many times, while files
        // arrive in parallel.
        let streamed: VectorIndex = VectorIndex::build(
            config.clone(),
            &e,
            1,
            files.par_iter().map(|(p, t)| {
                FileVectors::embed(&e, config.chunk.into(), p, 0, t).map_err(VectorError::Embed)
            }),
        )
        .unwrap();
        let assembled = build(80);
        assert_eq!(streamed.len(), 160);
        assert_eq!(streamed.hnsw.size(), assembled.hnsw.size());
        assert_eq!(streamed.next_key, 160);
        let mut keys: Vec<u64> = streamed.files.iter().flat_map(|f| f.keys.clone()).collect();
        keys.sort_unstable();
        assert_eq!(keys, (0..160).collect::<Vec<_>>(), "every key once");
        for q in ["parse request error", "socket thread", "matrix cache"] {
            let v = e.embed_one(q);
            assert_eq!(streamed.exact(&v, 10), assembled.exact(&v, 10), "{q}");
        }
        // The vectors read back from the graph are the ones that went in.
        let (a, b) = (
            streamed.file_vectors("src/f042.rs").unwrap(),
            assembled.file_vectors("src/f042.rs").unwrap(),
        );
        assert_eq!((a.chunks, a.vectors), (b.chunks, b.vectors));
        // An error from the producer stops the build and comes back as it was.
        let err = VectorIndex::build::<VectorError, _>(
            config,
            &e,
            4,
            (0..10usize).into_par_iter().map(|i| {
                if i == 7 {
                    Err(VectorError::Hnsw("file 7 is unreadable".into()))
                } else {
                    Ok(
                        FileVectors::embed(&e, ChunkOptions::default(), &format!("f{i}"), 0, "x")
                            .unwrap(),
                    )
                }
            }),
        )
        .unwrap_err();
        assert!(err.to_string().contains("file 7 is unreadable"), "{err}");
    }

    #[test]
    fn an_update_in_place_answers_as_a_fresh_build() {
        let e = HashEmbedder::new(64);
        let config = VectorConfig {
            embedder: EmbedderSpec::Hash { dim: 64 },
            ..VectorConfig::default()
        };
        let embed = |(p, t): &(String, String)| {
            FileVectors::embed(&e, config.chunk.into(), p, 0, t).unwrap()
        };
        let mut files = corpus(40);
        let index =
            VectorIndex::assemble(config.clone(), &e, files.iter().map(embed).collect()).unwrap();
        let dir = tempfile::tempdir().unwrap();
        index.save(dir.path()).unwrap();
        let index = VectorIndex::open(dir.path()).unwrap();

        // Change two files, remove two, add one.
        files[3].1 = "fn matrix_determinant() {}\n".repeat(50);
        files[7].1 = "struct SocketServer;\n".to_string();
        let removed: Vec<String> = vec![files[10].0.clone(), files[11].0.clone()];
        files.push((
            "src/zz_new.rs".into(),
            "fn brand_new_token_parser() {}\n".into(),
        ));
        let changed: Vec<FileVectors> = [3, 7, files.len() - 1]
            .iter()
            .map(|&i| embed(&files[i]))
            .collect();
        let updated = index.update(changed, &removed).unwrap();
        files.retain(|(p, _)| !removed.contains(p));
        let fresh =
            VectorIndex::assemble(config.clone(), &e, files.iter().map(embed).collect()).unwrap();

        assert_eq!(updated.len(), fresh.len());
        assert_eq!(updated.hnsw.size(), fresh.hnsw.size());
        for q in [
            "matrix determinant",
            "socket server",
            "brand new token parser",
            "parse request",
        ] {
            let v = e.embed_one(q);
            let ids = |hs: Vec<ChunkHit>| {
                hs.into_iter()
                    .map(|h| (h.path, h.first_line))
                    .collect::<Vec<_>>()
            };
            assert_eq!(ids(updated.exact(&v, 10)), ids(fresh.exact(&v, 10)), "{q}");
            // usearch's brute force skips the chunks taken out of the graph.
            assert_eq!(
                ids(updated.search_exact(&v, 10).unwrap()),
                ids(fresh.exact(&v, 10)),
                "{q}"
            );
            let best = updated.search(&v, 3).unwrap();
            // By similarity, not path: files 0 and 12 of this corpus have the same text, so the
            // best chunk can be a tie, which the parallel-built graph may break either way.
            let top = &fresh.exact(&v, 1)[0];
            assert!(
                (best[0].similarity - top.similarity).abs() < 1e-6,
                "{q}: graph found {} ({}), exact {} ({})",
                best[0].path,
                best[0].similarity,
                top.path,
                top.similarity
            );
            assert!(best.iter().all(|h| !removed.contains(&h.path)), "{q}");
        }
        // Saved and reopened, the update holds, and keys are never reused.
        let dir2 = tempfile::tempdir().unwrap();
        updated.save(dir2.path()).unwrap();
        let reopened = VectorIndex::open(dir2.path()).unwrap();
        assert_eq!(reopened.next_key, updated.next_key);
        let v = e.embed_one("brand new token parser");
        assert_eq!(reopened.search(&v, 1).unwrap()[0].path, "src/zz_new.rs");
    }

    #[test]
    fn every_scalar_kind_keeps_similarities_and_shrinks_the_graph() {
        let e = HashEmbedder::new(64);
        let mut texts = corpus(40);
        // A table of constants: sums of hundreds of the same features, past what i8 holds.
        // (Lines that differ: 40 copies of one line would be 40 times its vector, which i8
        // holds exactly.)
        let table: String = (0..60)
            .map(|i| format!("    0x00, 0x00, {}0x{i:02x},\n", "0x01, ".repeat(i % 7)))
            .collect();
        texts.push(("src/table.rs".into(), table));
        let f32_reference: Vec<(String, Vec<Vec<f32>>)> = texts
            .iter()
            .map(|(p, t)| {
                let f = FileVectors::embed(&e, ChunkOptions::default(), p, 0, t).unwrap();
                (p.clone(), f.vectors)
            })
            .collect();
        let mut sizes = Vec::new();
        for (scalar, tolerance) in [
            (Scalar::F32, 1e-6),
            (Scalar::F16, 1e-3),
            // Lossless for the hash embedder: its vectors are small integers, normalised.
            (Scalar::I8, 1e-6),
        ] {
            let index = build_texts(&texts, scalar);
            let dir = tempfile::tempdir().unwrap();
            index.save(dir.path()).unwrap();
            sizes.push(
                std::fs::metadata(dir.path().join("hnsw.usearch"))
                    .unwrap()
                    .len(),
            );
            let reopened = VectorIndex::view(dir.path()).unwrap();
            assert_eq!(reopened.config().scalar, scalar);
            // Only i8 keeps f32 vectors, and only of what it cannot hold: the table's.
            let unrounded = reopened.unrounded_len();
            assert_eq!(unrounded > 0, scalar == Scalar::I8, "{scalar}: {unrounded}");
            assert!(unrounded < 5, "{unrounded}");
            let long = "0x00 0x00 0x00 0x01 ".repeat(200);
            for q in [
                "parse request error",
                "socket thread",
                "matrix",
                &long,
                "0x00, 0x02",
            ] {
                let v = e.embed_one(q);
                // Every reported similarity against the f32 vectors the embedder made.
                for hit in reopened
                    .search_exact(&v, 20)
                    .unwrap()
                    .into_iter()
                    .chain(reopened.search(&v, 20).unwrap())
                {
                    let (_, vectors) = f32_reference.iter().find(|(p, _)| *p == hit.path).unwrap();
                    let f = reopened.file_vectors(&hit.path).unwrap();
                    let ci = f.chunks.iter().position(|c| c.0 == hit.first_line).unwrap();
                    let truth = exact::similarity(&v, &vectors[ci]);
                    // f16 rounds the query as well as the chunks: about 1e-4 each.
                    assert!(
                        (hit.similarity - truth).abs() <= tolerance,
                        "{scalar} {q} {}: {} vs {truth}",
                        hit.path,
                        hit.similarity
                    );
                }
            }
        }
        // f32 → f16 → i8: the vectors are most of the graph.
        assert!(sizes[0] > sizes[1] && sizes[1] > sizes[2], "{sizes:?}");
    }

    #[test]
    fn a_damaged_index_is_reported_with_its_file() {
        let index = build(3);
        let dir = tempfile::tempdir().unwrap();
        index.save(dir.path()).unwrap();
        std::fs::write(dir.path().join("hnsw.usearch"), b"short").unwrap();
        let err = VectorIndex::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("hnsw.usearch"), "{err}");
        // A graph of another index: the chunk count does not fit.
        build(5).save(dir.path()).unwrap();
        let small = tempfile::tempdir().unwrap();
        index.save(small.path()).unwrap();
        std::fs::copy(
            small.path().join("files.json"),
            dir.path().join("files.json"),
        )
        .unwrap();
        let err = VectorIndex::open(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("files.json") || err.contains("hnsw.usearch"),
            "{err}"
        );
        // Two files claiming the same keys.
        let files = dir.path().join("files.json");
        index.save(dir.path()).unwrap();
        let mut json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&files).unwrap()).unwrap();
        json[1][3] = json[0][3].clone();
        std::fs::write(&files, serde_json::to_vec(&json).unwrap()).unwrap();
        let err = VectorIndex::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("files.json") && err.contains("keys"), "{err}");
        std::fs::write(dir.path().join("meta.json"), b"{").unwrap();
        let err = VectorIndex::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("meta.json"), "{err}");
    }

    #[test]
    fn zero_queries_and_zero_chunks_find_nothing() {
        let e = HashEmbedder::new(16);
        let files = vec![
            FileVectors::embed(&e, ChunkOptions::default(), "a", 0, ":: -> {}\n").unwrap(),
            FileVectors::embed(&e, ChunkOptions::default(), "b", 0, "parse me\n").unwrap(),
        ];
        let index = VectorIndex::assemble(VectorConfig::default(), &e, files).unwrap();
        let q = e.embed_one("parse");
        let paths = |hs: Vec<ChunkHit>| hs.into_iter().map(|h| h.path).collect::<Vec<_>>();
        assert_eq!(paths(index.exact(&q, 10)), ["b"]);
        assert_eq!(paths(index.search(&q, 10).unwrap()), ["b"]);
        assert!(index.exact(&e.embed_one("::"), 10).is_empty());
    }
}
