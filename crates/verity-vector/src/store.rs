//! The vector index of a corpus: every file's chunks with their embeddings, searched exactly
//! (every chunk scored, the oracle's answer) or through an HNSW graph (usearch, cosine).
//!
//! How the vectors are stored follows from how they are searched ([`VectorIndex::set_search_mode`]):
//!
//! * **flat**, when every search is exact (`exact`, or `auto` up to
//!   [`crate::mode::EXACT_SEARCH_MAX_CHUNKS`] chunks): one row of the configured [`Scalar`] per
//!   chunk, in chunk order, mapped and scanned (`flat`; `i8` rows packed five bits a component
//!   when that is smaller, `packed`). No graph is built or kept: it would
//!   cost a third of the index and most of the build, and a search that scores every chunk never
//!   walks it.
//! * **graph**, when searches are approximate: the usearch graph, which holds the vectors itself
//!   (the only copy: a second one beside it would double the largest indexes).
//!
//! On disk (the engine keeps it as `vectors/` inside the text index): `meta.json` (settings,
//! embedder, dimensions, storage), `files.bin` (each file's path, content hash, line count and
//! first key, in path order: a file's chunks follow from its line count and its keys are
//! consecutive, so nothing per chunk is written or parsed), `vectors.flat` or `hnsw.usearch`,
//! and, for `i8`, `unrounded.f32` (the `f32` vectors of the chunks `i8` cannot hold exactly,
//! which are scored from them). Keys are never reused, so an update can take a changed file's
//! chunks out of the graph and put the new ones in without rebuilding it. Each file is written
//! to a temporary name and renamed.
//!
//! This module builds, updates and searches the index; `persist` writes and opens it, `flat`
//! holds the rows and scans them, `packed` is the `i8` row codec and its kernel, `unrounded` keeps the `f32` vectors `i8` rounds, and
//! `exact_searcher` is the brute-force reference. A chunk without features (a zero vector) is
//! never found and reads back as zeros.

use std::collections::HashSet;
use std::sync::Mutex;

use rayon::prelude::*;
use usearch::{Index, IndexOptions, MetricKind};

use crate::chunk::{chunk, window_count, windows, ChunkOptions};
use crate::embed::{EmbedError, Embedder};
use crate::exact;
use crate::mode::VectorSearch;
use crate::scalar::{quantize_i8, Scalar};

pub use crate::config::{ChunkSettings, EmbedderSpec, HnswParams, VectorConfig};
pub use crate::error::VectorError;

mod exact_searcher;
mod file_table;
mod flat;
mod packed;
mod persist;
mod unrounded;

pub use exact_searcher::ExactSearcher;
pub use file_table::{FileEntry, FileTable};
use flat::{Flat, FlatBuilder};
use unrounded::{Unrounded, UNROUNDED_ABOVE};

/// Version of the on-disk layout.
pub const VECTOR_FORMAT_VERSION: u32 = 6;

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

/// A file as the index keeps it while it is built or updated, before it joins the
/// [`FileTable`]: nothing per chunk. Its chunks are the windows of its line count
/// ([`crate::chunk::window`]) and their keys are consecutive from `first_key`, so a chunk's
/// lines and key are computed, not stored, and opening an index builds no table per chunk.
#[derive(Debug, Clone, PartialEq, Eq)]
struct IndexedFile {
    path: String,
    hash: u64,
    lines: usize,
    first_key: u64,
    chunks: usize,
}

impl IndexedFile {
    fn of(f: FileEntry<'_>) -> IndexedFile {
        IndexedFile {
            path: f.path.to_owned(),
            hash: f.hash,
            lines: f.lines,
            first_key: f.first_key,
            chunks: f.chunks,
        }
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
    /// In path order, with each file's first chunk position: a chunk's file is found by
    /// binary search.
    files: FileTable,
    /// (first key, file position) of every file with chunks, by key: a file's keys are
    /// consecutive, so a key's chunk is found by binary search, with no map of every key.
    key_ranges: Vec<(u64, u32)>,
    /// The next unused graph key.
    next_key: u64,
    /// How searches find chunks unless they say otherwise.
    search_mode: VectorSearch,
    storage: Storage,
    /// For `i8` vectors: the vectors it holds only approximately.
    unrounded: Unrounded,
    /// How far a similarity the graph computes can be from the true one (0 unless `i8`).
    graph_error: f32,
}

/// Where the vectors are: see the module documentation.
enum Storage {
    /// One row per chunk in chunk order; every search scores them all.
    Flat(Flat),
    /// The HNSW graph, which holds the vectors.
    Graph(Index),
}

/// One file whose vectors were encoded as rows (before they join a [`Flat`]).
struct Encoded {
    /// Its `first_key` is assigned when it joins, unless `keyed`.
    file: IndexedFile,
    keyed: bool,
    rows: FlatBuilder,
    /// (chunk in the file, `f32` vector, rounding error) of the rows `i8` holds only
    /// approximately.
    unrounded: Vec<(usize, Vec<f32>, f32)>,
}

/// The file as the index keeps it (keys not yet assigned).
fn indexed(f: &FileVectors) -> IndexedFile {
    IndexedFile {
        path: f.path.clone(),
        hash: f.hash,
        lines: f.chunks.last().map_or(0, |c| c.1),
        first_key: f.keys.first().copied().unwrap_or(0),
        chunks: f.chunks.len(),
    }
}

/// Encodes `f`'s vectors as rows of `scalar` and frees them.
fn encode_file(scalar: Scalar, dim: usize, mut f: FileVectors) -> Encoded {
    let mut rows = FlatBuilder::new(scalar, dim, f.vectors.len());
    let mut unrounded = Vec::new();
    for (ci, v) in std::mem::take(&mut f.vectors).into_iter().enumerate() {
        let error = rows.push(&v);
        if scalar == Scalar::I8 && error > UNROUNDED_ABOVE {
            unrounded.push((ci, v, error));
        }
    }
    Encoded {
        file: indexed(&f),
        keyed: false,
        rows,
        unrounded,
    }
}

/// The files of `made` in path order and their rows, one flat array. Files without keys get
/// them from `next_key` in path order; their approximate rows' `f32` vectors join `unrounded`.
fn join(
    scalar: Scalar,
    dim: usize,
    mut made: Vec<Encoded>,
    next_key: &mut u64,
    unrounded: &mut Unrounded,
) -> Result<(FileTable, Flat), VectorError> {
    made.par_sort_by(|a, b| a.file.path.cmp(&b.file.path));
    let mut rows = FlatBuilder::new(scalar, dim, made.iter().map(|e| e.file.chunks).sum());
    let path_bytes = made.iter().map(|e| e.file.path.len()).sum();
    let mut files = FileTable::with_capacity(made.len(), path_bytes);
    for mut e in made {
        rows.append(e.rows);
        if !e.keyed {
            e.file.first_key = *next_key;
            *next_key += e.file.chunks as u64;
        }
        for (ci, v, error) in e.unrounded {
            unrounded.insert(e.file.first_key + ci as u64, v, error);
        }
        push_file(&mut files, &e.file);
    }
    Ok((files, rows.finish()?))
}

/// The table of `files`, which are in path order.
fn file_table(files: &[IndexedFile]) -> FileTable {
    let bytes = files.iter().map(|f| f.path.len()).sum();
    let mut table = FileTable::with_capacity(files.len(), bytes);
    for f in files {
        push_file(&mut table, f);
    }
    table
}

/// Adds a file of a build or an update (after the files before it in path order).
fn push_file(table: &mut FileTable, f: &IndexedFile) {
    table
        .push(&f.path, f.hash, f.lines, f.first_key, f.chunks)
        .expect("a build's keys and chunks are counted as they are made");
}

/// The key ranges of a build's or an update's table, which hands out keys consecutively per
/// file and never twice.
fn built_key_ranges(files: &FileTable) -> Vec<(u64, u32)> {
    key_ranges(files).expect("keys are handed out consecutively per file")
}

/// (first key, file position) of the files with chunks, by key; `None` when two files' keys
/// overlap.
fn key_ranges(files: &FileTable) -> Option<Vec<(u64, u32)>> {
    let mut ranges: Vec<(u64, u32)> = (0..files.len())
        .filter(|fi| !files.chunk_positions(*fi).is_empty())
        .map(|fi| (files.first_key(fi), fi as u32))
        .collect();
    // Keys handed out in path order (a fresh build) are sorted already, which the sort
    // notices in one pass.
    ranges.sort_unstable();
    // Ranges that overlap would give one key two chunks.
    let ends_before_next = |w: &[(u64, u32)]| {
        let len = files.chunk_positions(w[0].1 as usize).len() as u64;
        w[0].0 + len <= w[1].0
    };
    ranges.windows(2).all(ends_before_next).then_some(ranges)
}

/// The vectors must be one per chunk, of the index's dimensions, and the chunks the windows
/// of the file's lines (as [`FileVectors::embed`] makes them): the index keeps the line
/// count only.
fn check_shape(f: &FileVectors, dim: usize, opts: ChunkOptions) -> Result<(), VectorError> {
    let wrong = |what: &str| {
        Err(VectorError::Embed(EmbedError(format!(
            "{}: {what} ({} vectors for {} chunks)",
            f.path,
            f.vectors.len(),
            f.chunks.len()
        ))))
    };
    if f.vectors.len() != f.chunks.len() || f.vectors.iter().any(|v| v.len() != dim) {
        return wrong("vectors of the wrong shape");
    }
    if f.chunks != windows(f.chunks.last().map_or(0, |c| c.1), opts) {
        return wrong("chunks that are not the windows of its lines");
    }
    Ok(())
}

/// Adds the files' vectors (under their keys) to the graph in parallel, skipping zero vectors,
/// and frees each file's vectors once the graph holds them.
fn add_all(
    hnsw: &Index,
    scalar: Scalar,
    files: &mut [FileVectors],
    unrounded: &Mutex<Unrounded>,
) -> Result<(), VectorError> {
    let count: usize = files.iter().map(|f| f.vectors.len()).sum();
    hnsw.reserve_capacity_and_threads((hnsw.size() + count).max(1), SEARCH_SLOTS)
        .map_err(hnsw_err)?;
    files.par_iter_mut().try_for_each(|f| {
        for (k, v) in f.keys.iter().zip(std::mem::take(&mut f.vectors)) {
            if let Some(error) = add_vector(hnsw, scalar, *k, &v)? {
                unrounded
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .insert(*k, v, error);
            }
        }
        Ok(())
    })
}

/// Adds one vector to the graph under `key` (a zero vector is not added: it is never found).
/// For `i8`, returns the rounding error when the graph holds the vector only approximately.
fn add_vector(
    hnsw: &Index,
    scalar: Scalar,
    key: u64,
    v: &[f32],
) -> Result<Option<f32>, VectorError> {
    if is_zero(v) {
        return Ok(None);
    }
    // i8 components are made here, not by usearch's cast (see `crate::scalar`); f16 is
    // usearch's rounding conversion.
    match scalar {
        Scalar::I8 => {
            let (q, error) = quantize_i8(v);
            hnsw.add(key, &q[..]).map_err(hnsw_err)?;
            Ok((error > UNROUNDED_ABOVE).then_some(error))
        }
        Scalar::F16 | Scalar::F32 => {
            hnsw.add(key, v).map_err(hnsw_err)?;
            Ok(None)
        }
    }
}

impl std::fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorIndex")
            .field("embedder", &self.embedder_name)
            .field("dim", &self.dim)
            .field("files", &self.files.len())
            .field("chunks", &self.len())
            .field(
                "storage",
                &match self.storage {
                    Storage::Flat(_) => "flat",
                    Storage::Graph(_) => "graph",
                },
            )
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
    /// Assembles the index from per-file vectors (any order), stored flat: searched exactly
    /// until [`set_search_mode`](Self::set_search_mode) asks for the graph. Zero vectors (a
    /// chunk with no features) are kept but never found.
    pub fn assemble(
        config: VectorConfig,
        embedder: &dyn Embedder,
        files: Vec<FileVectors>,
    ) -> Result<VectorIndex, VectorError> {
        let chunks = files.iter().map(|f| f.chunks.len()).sum();
        Self::build(config, embedder, chunks, files.into_par_iter().map(Ok))
    }

    /// Builds the index while the files' vectors are being made: each file's vectors are
    /// encoded in the stored scalar kind as soon as they arrive and the `f32` ones dropped, so
    /// the build never holds every `f32` vector at once (when `files` embeds lazily). `estimate`
    /// is the expected number of chunks. Keys are handed out in arrival order. The index is
    /// stored flat (every search exact); [`set_search_mode`](Self::set_search_mode) builds the
    /// graph when the mode needs one. The first error of `files` stops the build and is
    /// returned.
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
        let scalar = config.scalar;
        let opts: ChunkOptions = config.chunk.into();
        // Most files are one or two chunks.
        let mut made: Vec<Encoded> = Vec::with_capacity(estimate / 2);
        made.par_extend(
            files
                .map(|f| -> Result<Encoded, E> {
                    let f = f?;
                    check_shape(&f, dim, opts)?;
                    Ok(encode_file(scalar, dim, f))
                })
                .collect::<Result<Vec<_>, E>>()?,
        );
        let mut unrounded = Unrounded::default();
        let mut next_key = 0;
        let (files, flat) = join(scalar, dim, made, &mut next_key, &mut unrounded)?;
        let key_ranges = built_key_ranges(&files);
        Ok(VectorIndex {
            graph_error: graph_error(config.scalar, &unrounded),
            config,
            embedder_name: embedder.name(),
            dim,
            files,
            key_ranges,
            next_key,
            search_mode: VectorSearch::Exact,
            storage: Storage::Flat(flat),
            unrounded,
        })
    }

    /// Brings the index up to date in place: the chunks of `removed` files and of the old
    /// versions of `changed` files leave it, the chunks of `changed` files (new or modified,
    /// embedded) join it under fresh keys. A graph is edited, not rebuilt, so an update costs
    /// in proportion to what changed (flat rows are copied, which costs a few milliseconds per
    /// 10,000 chunks). The storage is not changed: [`set_search_mode`](Self::set_search_mode)
    /// afterwards moves it when the new chunk count calls for it.
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
        let opts: ChunkOptions = self.config.chunk.into();
        for f in changed.iter() {
            check_shape(f, self.dim, opts)?;
        }
        let mut kept = Vec::with_capacity(self.files.len() + changed.len());
        for (fi, f) in self.files.iter().enumerate() {
            if gone.contains(f.path) {
                for key in f.keys() {
                    if let Storage::Graph(hnsw) = &self.storage {
                        hnsw.remove(key).map_err(hnsw_err)?;
                    }
                    self.unrounded.remove(key);
                }
            } else {
                kept.push((self.files.chunk_positions(fi).start, IndexedFile::of(f)));
            }
        }
        let (scalar, dim) = (self.config.scalar, self.dim);
        let files = match &self.storage {
            Storage::Flat(flat) => {
                let made: Vec<Encoded> = kept
                    .into_iter()
                    .map(|(start, file)| {
                        let mut rows = FlatBuilder::new(scalar, dim, file.chunks);
                        rows.extend_from(flat, start, file.chunks);
                        Encoded {
                            rows,
                            keyed: true,
                            unrounded: Vec::new(),
                            file,
                        }
                    })
                    .chain(changed.into_iter().map(|f| encode_file(scalar, dim, f)))
                    .collect();
                let (files, flat) =
                    join(scalar, dim, made, &mut self.next_key, &mut self.unrounded)?;
                self.storage = Storage::Flat(flat);
                files
            }
            Storage::Graph(hnsw) => {
                let mut changed = changed;
                for f in changed.iter_mut() {
                    f.keys = (self.next_key..self.next_key + f.chunks.len() as u64).collect();
                    self.next_key += f.chunks.len() as u64;
                }
                let unrounded = Mutex::new(std::mem::take(&mut self.unrounded));
                let added = add_all(hnsw, scalar, &mut changed, &unrounded);
                self.unrounded = unrounded.into_inner().unwrap_or_else(|e| e.into_inner());
                added?;
                let mut files: Vec<IndexedFile> = kept.into_iter().map(|(_, f)| f).collect();
                files.extend(changed.iter().map(indexed));
                files.sort_by(|a, b| a.path.cmp(&b.path));
                file_table(&files)
            }
        };
        self.graph_error = graph_error(scalar, &self.unrounded);
        self.key_ranges = built_key_ranges(&files);
        self.files = files;
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
        self.files.chunk_count()
    }

    /// No chunk at all.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The files, in path order.
    pub fn files(&self) -> &FileTable {
        &self.files
    }

    /// A file's vectors with their chunks, for reuse when the file has not changed.
    pub fn file_vectors(&self, path: &str) -> Option<FileVectors> {
        let f = self.files.get(self.files.find(path)?);
        Some(FileVectors {
            path: f.path.to_owned(),
            hash: f.hash,
            chunks: f.ranges(self.config.chunk.into()),
            keys: f.keys().collect(),
            vectors: f.keys().map(|k| self.vector(k)).collect(),
        })
    }

    /// The vector stored under a key; zeros for a chunk without features.
    fn vector(&self, key: u64) -> Vec<f32> {
        let mut v = vec![0.0f32; self.dim];
        self.stored(key, &mut v);
        v
    }

    /// Fills `v` with the vector of `key`: its `f32` vector when the stored one is only
    /// approximate, else the stored one. False for a chunk without features (or no chunk).
    fn stored(&self, key: u64, v: &mut [f32]) -> bool {
        self.position(key).is_some_and(|pos| self.stored_at(pos, v))
    }

    /// [`stored`](Self::stored) for the chunk at position `pos`, without finding the position
    /// from the key again (flat rows are read by position).
    fn stored_at(&self, pos: usize, v: &mut [f32]) -> bool {
        let key = self.key_at(pos);
        if self.unrounded.get_into(key, v) {
            return true;
        }
        match &self.storage {
            Storage::Flat(flat) => flat.read(pos, v),
            // A key holds one vector (keys are never reused), which fills `v` exactly.
            Storage::Graph(hnsw) => hnsw.contains(key) && hnsw.get(key, v).is_ok(),
        }
    }

    /// The graph, when the vectors are stored in one.
    fn graph(&self) -> Option<&Index> {
        match &self.storage {
            Storage::Graph(hnsw) => Some(hnsw),
            Storage::Flat(_) => None,
        }
    }

    /// Whether the vectors are stored in an HNSW graph (otherwise flat, and every search is
    /// exact).
    pub fn has_graph(&self) -> bool {
        self.graph().is_some()
    }

    /// The file of the chunk at `pos` (< [`len`](Self::len)), and the chunk's place in it.
    fn locate(&self, pos: usize) -> (usize, usize) {
        self.files.locate(pos)
    }

    /// The graph key of the chunk at `pos`.
    fn key_at(&self, pos: usize) -> u64 {
        let (fi, ci) = self.locate(pos);
        self.files.first_key(fi) + ci as u64
    }

    /// A graph over every chunk's vector (zero vectors left out), built in parallel.
    fn build_graph(&self) -> Result<Index, VectorError> {
        let hnsw = new_hnsw(self.dim, &self.config)?;
        hnsw.reserve_capacity_and_threads(self.len().max(1), SEARCH_SLOTS)
            .map_err(hnsw_err)?;
        (0..self.len()).into_par_iter().try_for_each_init(
            || vec![0.0f32; self.dim],
            |v, pos| {
                if self.stored_at(pos, v) {
                    add_vector(&hnsw, self.config.scalar, self.key_at(pos), v)?;
                }
                Ok::<(), VectorError>(())
            },
        )?;
        Ok(hnsw)
    }

    /// Every chunk's vector as a flat row, in chunk order.
    fn to_flat(&self) -> Result<Flat, VectorError> {
        let mut rows = FlatBuilder::new(self.config.scalar, self.dim, self.len());
        let mut v = vec![0.0f32; self.dim];
        for pos in 0..self.len() {
            if !self.stored_at(pos, &mut v) {
                v.fill(0.0);
            }
            rows.push(&v);
        }
        rows.finish()
    }

    /// Chunks whose similarities are computed from an `f32` vector beside the `i8` graph,
    /// because the graph holds them only approximately.
    pub fn unrounded_len(&self) -> usize {
        self.unrounded.len()
    }

    /// Every chunk's vector read back from the graph once, for exact (brute-force) searches:
    /// the reference that recall is measured against.
    pub fn exact_searcher(&self) -> ExactSearcher<'_> {
        let vectors = (0..self.files.len())
            .into_par_iter()
            .flat_map_iter(|fi| self.files.get(fi).keys().map(|k| self.vector(k)))
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
        let chunks = self.files.chunk_positions(fi as usize);
        (offset < chunks.len()).then(|| chunks.start + offset)
    }

    fn hit(&self, pos: usize, similarity: f32) -> ChunkHit {
        let (fi, ci) = self.locate(pos);
        let f = self.files.get(fi);
        let (first_line, last_line) = crate::chunk::window(f.lines, ci, self.config.chunk.into());
        ChunkHit {
            path: f.path.to_owned(),
            first_line,
            last_line,
            similarity,
        }
    }

    /// Changes the search expansion (ef) of the graph for later searches (nothing without one).
    pub fn set_expansion_search(&self, ef: usize) {
        if let Some(hnsw) = self.graph() {
            hnsw.change_expansion_search(ef.max(1));
        }
    }

    /// The mode searches use unless they say otherwise.
    pub fn search_mode(&self) -> VectorSearch {
        self.search_mode
    }

    /// Sets the mode searches use unless they say otherwise, and stores the vectors as it
    /// needs: flat when every search is exact in this mode at this size, in a graph otherwise.
    /// Building the graph scores every vector against its neighbours (minutes at a few hundred
    /// thousand chunks); dropping it is a copy. [`save`](Self::save) keeps both.
    pub fn set_search_mode(&mut self, mode: VectorSearch) -> Result<(), VectorError> {
        self.search_mode = mode;
        let wants_graph = !mode.is_exact_for(self.len());
        if wants_graph && !self.has_graph() {
            self.storage = Storage::Graph(self.build_graph()?);
        } else if !wants_graph && self.has_graph() {
            self.storage = Storage::Flat(self.to_flat()?);
        }
        Ok(())
    }

    /// Whether a search in `mode` (the index's own when `None`) scores every chunk: always,
    /// when the index has no graph.
    pub fn searches_exactly(&self, mode: Option<VectorSearch>) -> bool {
        !self.has_graph() || mode.unwrap_or(self.search_mode).is_exact_for(self.len())
    }

    /// The k nearest chunks by cosine similarity in `mode` (the index's own when `None`):
    /// exact, or approximate from the graph (an index without a graph answers exactly, and
    /// says so). Best first; ties by path, then first line.
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
        let chosen: Vec<usize> = paths.iter().filter_map(|p| self.files.find(p)).collect();
        let names: HashSet<&str> = chosen.iter().map(|fi| self.files.path(*fi)).collect();
        let mut v = vec![0.0f32; self.dim];
        // The graph's hits are scored exactly, like the named files' chunks (see `graph_hits`).
        let mut hits = if self.graph().is_some_and(|g| g.size() > 0) {
            self.graph_hits(query, k, &names)?
        } else {
            Vec::new()
        };
        for fi in chosen {
            for pos in self.files.chunk_positions(fi) {
                // A chunk without features is not in the graph, and is never found.
                if self.stored_at(pos, &mut v) {
                    hits.push(self.hit(pos, exact::similarity(query, &v)));
                }
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
                let similarity = if self.unrounded.get_into(*key, &mut v)
                    || (rescore_all && self.stored(*key, &mut v))
                {
                    exact::similarity(query, &v)
                } else {
                    1.0 - d
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
        hnsw: &Index,
        query: &[f32],
        k: usize,
    ) -> Result<(usearch::ffi::Matches, f32), VectorError> {
        match self.graph_query(query) {
            Some((q, error)) => Ok((
                hnsw.search(&q[..], k).map_err(hnsw_err)?,
                self.graph_error + error,
            )),
            None => Ok((hnsw.search(query, k).map_err(hnsw_err)?, 0.0)),
        }
    }

    /// Approximate k nearest chunks by cosine similarity, best first: the graph's k nearest
    /// and the chunks beside them in their files (`SIBLINGS` on either side), all scored exactly.
    /// Without a graph, the exact answer.
    pub fn search(&self, query: &[f32], k: usize) -> Result<Vec<ChunkHit>, VectorError> {
        let Some(hnsw) = self.graph() else {
            return self.search_exact(query, k);
        };
        if k == 0 || is_zero(query) || hnsw.size() == 0 {
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
        let Some(hnsw) = self.graph() else {
            return Ok(Vec::new());
        };
        let (m, _) = self.graph_search(hnsw, query, k)?;
        let mut positions: Vec<usize> = Vec::with_capacity(m.keys.len() * (2 * SIBLINGS + 1));
        for key in &m.keys {
            let Some(pos) = self.position(*key) else {
                continue;
            };
            let (fi, ci) = self.locate(pos);
            let chunks = self.files.chunk_positions(fi);
            let (start, count) = (chunks.start, chunks.len());
            let first = ci.saturating_sub(SIBLINGS);
            let last = (ci + SIBLINGS).min(count - 1);
            positions.extend((first..=last).map(|c| start + c));
        }
        positions.sort_unstable();
        positions.dedup();
        let mut v = vec![0.0f32; self.dim];
        let mut hits = Vec::with_capacity(positions.len());
        for pos in positions {
            let (fi, _) = self.locate(pos);
            if skip.contains(self.files.path(fi)) {
                continue;
            }
            // Scored again exactly, the graph's own hits too: usearch's distances differ from
            // the exact similarity in the last bits, and ranking the two kinds together let a
            // chunk pass another it is tied with. A chunk without features is not in the
            // graph and is never found.
            if self.stored_at(pos, &mut v) {
                hits.push(self.hit(pos, exact::similarity(query, &v)));
            }
        }
        Ok(hits)
    }

    /// Exact k nearest chunks by cosine similarity: every stored vector is scored (the flat
    /// rows' scan, or usearch's brute-force search over the graph's vectors). Chunks tied with
    /// the k-th are all fetched before the cut, so the k kept are the first in (similarity,
    /// path, line) order — the order the oracle uses — and not whichever was met first.
    pub fn search_exact(&self, query: &[f32], k: usize) -> Result<Vec<ChunkHit>, VectorError> {
        if k == 0 || is_zero(query) || self.is_empty() {
            return Ok(Vec::new());
        }
        self.check_query(query)?;
        let hnsw = match &self.storage {
            Storage::Flat(flat) => return Ok(self.scan(flat, query, k)),
            Storage::Graph(hnsw) => hnsw,
        };
        let size = hnsw.size();
        if size == 0 {
            return Ok(Vec::new());
        }
        let graph_query = self.graph_query(query);
        let mut want = k.saturating_add(16).min(size);
        loop {
            let (m, error) = match &graph_query {
                Some((q, error)) => (hnsw.exact_search(&q[..], want), self.graph_error + error),
                None => (hnsw.exact_search(query, want), 0.0),
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

    /// The exact k nearest of the flat rows: every row scored by the scan, then the rows that
    /// can be in the top k (within the scan's error and `i8`'s rounding of the k-th) scored
    /// again as [`exact::similarity`] does, from their `f32` vectors where `i8` rounds them,
    /// before the cut. Rounded rows are not scored apart in the scan: at most a few hundred
    /// rows pass the widened cut, where the rounded rows are a few percent of all of them.
    fn scan(&self, flat: &Flat, query: &[f32], k: usize) -> Vec<ChunkHit> {
        let scores = flat.scores(query);
        let mut v = vec![0.0f32; self.dim];
        let mut hits = Vec::new();
        for pos in flat::candidates(&scores, k, self.graph_error) {
            if self.stored_at(pos, &mut v) {
                hits.push(self.hit(pos, exact::similarity(query, &v)));
            }
        }
        hits.sort_by(rank_order);
        hits.truncate(k);
        hits
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
