//! The index on disk: `meta.json`, `files.bin`, `vectors.flat` or `hnsw.usearch`, and, for
//! `i8`, `unrounded.f32`, each written to a temporary name and renamed, the meta last (a
//! directory without it is not an index); and opening them again, read into memory or mapped.
//!
//! `files.bin` is the chunk table: per file, in path order, the bytes its path shares with the
//! previous path and the length of the rest (LEB128 varints), the rest (UTF-8), the content
//! hash (`u64`, little-endian), then the line count and the first key (varints). It was JSON;
//! a binary table is read without a parser, and sharing prefixes makes it a third of its size
//! (16,283 registry files: 0.42 MB; 100,000 synthetic files: 2.3 MB), which a one-query
//! process reads before its first vector search.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::flat::{RowLayout, FLAT_FILE};
use super::unrounded::{Unrounded, UNROUNDED_FILE};
use super::*;

/// The chunk table's file.
pub(super) const FILES_FILE: &str = "files.bin";

/// The graph's file.
pub(super) const GRAPH_FILE: &str = "hnsw.usearch";

/// What `meta.json` holds.
#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    format_version: u32,
    config: VectorConfig,
    embedder: String,
    dim: usize,
    chunks: usize,
    /// How searches find chunks unless they say otherwise (`verity index --vector-search`).
    search: VectorSearch,
    /// Where the vectors are.
    storage: StorageKind,
    /// How flat rows are laid out (plain for a graph, which holds the vectors itself).
    #[serde(default)]
    rows: RowLayout,
    /// The next unused key: keys of removed chunks are never handed out again.
    #[serde(default)]
    next_key: u64,
    /// For `i8`: the most a similarity computed from a rounded vector can be off (what
    /// `unrounded.f32` holds), so that a mapped index knows it without reading the file.
    rounding_bound: f32,
}

/// How `meta.json` names the storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum StorageKind {
    Flat,
    Graph,
}

/// A file as `files.bin` keeps it: path, content hash, line count, first key.
pub(super) type FileRow<'a> = (&'a str, u64, usize, u64);

pub(super) fn files_to_bytes<'a>(files: impl IntoIterator<Item = FileRow<'a>>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut previous: &[u8] = &[];
    for (path, hash, lines, first) in files {
        let path = path.as_bytes();
        let shared = path
            .iter()
            .zip(previous)
            .take_while(|(a, b)| a == b)
            .count();
        put_varint(&mut out, shared as u64);
        put_varint(&mut out, (path.len() - shared) as u64);
        out.extend_from_slice(&path[shared..]);
        out.extend_from_slice(&hash.to_le_bytes());
        put_varint(&mut out, lines as u64);
        put_varint(&mut out, first);
        previous = path;
    }
    out
}

/// LEB128: seven bits a byte, low bits first, the high bit set on every byte but the last.
fn put_varint(out: &mut Vec<u8>, mut x: u64) {
    while x >= 0x80 {
        out.push((x as u8) | 0x80);
        x >>= 7;
    }
    out.push(x as u8);
}

/// The table `files_to_bytes` wrote, each file with the chunks of its lines under `opts`, or
/// what is wrong with it (with the byte offset).
///
/// Only the bytes a path does not share with the previous one are checked as UTF-8, from the
/// start of the character they continue (the writer shares bytes, not characters): the
/// previous path is valid, so the joined one is then valid too.
pub(super) fn files_from_bytes(bytes: &[u8], opts: ChunkOptions) -> Result<FileTable, String> {
    // A row is at least 12 bytes, so there are at most a twelfth as many files; whole paths
    // are longer than the table's shared-prefix rows (1.7 times on the synthetic 100,000-file
    // tree's table), and a longer set of paths grows the string. Room reserved and not
    // written is never touched, so it costs no page.
    let mut table = FileTable::with_capacity(bytes.len() / 12, bytes.len() * 2);
    let mut at = 0usize;
    let cut = |at: usize| format!("cut short at byte {at}");
    let take = |at: &mut usize, n: usize| -> Result<&[u8], String> {
        let end = at
            .checked_add(n)
            .filter(|e| *e <= bytes.len())
            .ok_or_else(|| cut(*at))?;
        let out = &bytes[*at..end];
        *at = end;
        Ok(out)
    };
    let varint = |at: &mut usize| -> Result<u64, String> {
        let start = *at;
        let mut x = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *bytes.get(*at).ok_or_else(|| cut(*at))?;
            *at += 1;
            x |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(x);
            }
        }
        Err(format!("a number longer than 64 bits at byte {start}"))
    };
    let mut path = String::new();
    let mut tail = Vec::new();
    while at < bytes.len() {
        let start = at;
        let shared = varint(&mut at)? as usize;
        let rest = varint(&mut at)? as usize;
        if shared > path.len() {
            return Err(format!(
                "a path sharing more than the previous one's bytes at byte {start}"
            ));
        }
        let char_start = (0..=shared)
            .rev()
            .find(|i| path.is_char_boundary(*i))
            .unwrap_or(0);
        tail.clear();
        tail.extend_from_slice(&path.as_bytes()[char_start..shared]);
        tail.extend_from_slice(take(&mut at, rest)?);
        let tail = std::str::from_utf8(&tail)
            .map_err(|_| format!("a path that is not UTF-8 at byte {start}"))?;
        path.truncate(char_start);
        path.push_str(tail);
        let hash = u64::from_le_bytes(take(&mut at, 8)?.try_into().expect("8 bytes"));
        let lines = usize::try_from(varint(&mut at)?)
            .map_err(|_| format!("a line count past this machine's at byte {start}"))?;
        let first = varint(&mut at)?;
        table
            .push(&path, hash, lines, first, window_count(lines, opts))
            .ok_or_else(|| {
                format!("more chunks or keys than this machine counts at byte {start}")
            })?;
    }
    Ok(table)
}

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
            chunks: self.len(),
            search: self.search_mode,
            rounding_bound: self.unrounded.bound(),
            next_key: self.next_key,
            storage: match self.storage {
                Storage::Flat(_) => StorageKind::Flat,
                Storage::Graph(_) => StorageKind::Graph,
            },
            rows: match &self.storage {
                Storage::Flat(flat) => flat.layout(),
                Storage::Graph(_) => RowLayout::Plain,
            },
        };
        let write = |name: &str, bytes: &[u8]| -> Result<(), VectorError> {
            let tmp = dir.join(format!("{name}.tmp"));
            std::fs::write(&tmp, bytes).map_err(io(&tmp))?;
            std::fs::rename(&tmp, dir.join(name)).map_err(io(&dir.join(name)))
        };
        let rows = self
            .files
            .iter()
            .map(|f| (f.path, f.hash, f.lines, f.first_key));
        write(FILES_FILE, &files_to_bytes(rows))?;
        if self.config.scalar == Scalar::I8 {
            write(UNROUNDED_FILE, &self.unrounded.to_bytes())?;
        }
        // The other storage's file, left by an earlier build of this directory, goes.
        let (file, other) = match &self.storage {
            Storage::Flat(flat) => {
                write(FLAT_FILE, flat.bytes())?;
                (FLAT_FILE, GRAPH_FILE)
            }
            Storage::Graph(hnsw) => {
                let tmp = dir.join(format!("{GRAPH_FILE}.tmp"));
                hnsw.save(&tmp.to_string_lossy())
                    .map_err(|e| VectorError::HnswFile {
                        path: tmp.clone(),
                        source: Box::new(e),
                    })?;
                std::fs::rename(&tmp, dir.join(GRAPH_FILE)).map_err(io(&tmp))?;
                (GRAPH_FILE, FLAT_FILE)
            }
        };
        debug_assert_ne!(file, other);
        match std::fs::remove_file(dir.join(other)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(io(&dir.join(other))(e));
            }
            _ => {}
        }
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

    /// Opens the index in `dir` for searching only: the vectors are memory-mapped (the flat
    /// rows, or the graph with usearch's `view`), not read into memory, so a process that runs
    /// one query reads only the pages that query visits. The index cannot be updated.
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
        let opts: ChunkOptions = meta.config.chunk.into();
        let files =
            files_from_bytes(&read(FILES_FILE)?, opts).map_err(|e| corrupt(FILES_FILE, e))?;
        let count = files.chunk_count();
        if count != meta.chunks {
            return Err(corrupt(
                FILES_FILE,
                format!("{count} chunks, meta.json says {}", meta.chunks),
            ));
        }
        let unrounded = if meta.config.scalar == Scalar::I8 {
            let bad = || {
                corrupt(
                    UNROUNDED_FILE,
                    format!("not whole {}-dimension records in key order", meta.dim),
                )
            };
            if view {
                let path = dir.join(UNROUNDED_FILE);
                Unrounded::map(&path, meta.dim, meta.rounding_bound)
                    .map_err(|source| VectorError::Io { path, source })?
                    .ok_or_else(bad)?
            } else {
                Unrounded::from_bytes(&read(UNROUNDED_FILE)?, meta.dim).ok_or_else(bad)?
            }
        } else {
            Unrounded::default()
        };
        let key_ranges = key_ranges(&files)
            .ok_or_else(|| corrupt(FILES_FILE, "two files' keys overlap".into()))?;
        // The ranges do not overlap, so the one that starts last ends last.
        let next_key = key_ranges
            .last()
            .map_or(0, |(first, fi)| {
                first + files.chunk_positions(*fi as usize).len() as u64
            })
            .max(meta.next_key);
        let storage = match meta.storage {
            StorageKind::Flat => Storage::Flat(Self::open_flat(dir, &meta, view, count)?),
            StorageKind::Graph => Storage::Graph(Self::open_graph(dir, &meta, view, count)?),
        };
        Ok(VectorIndex {
            graph_error: graph_error(meta.config.scalar, &unrounded),
            unrounded,
            config: meta.config,
            embedder_name: meta.embedder,
            dim: meta.dim,
            files,
            key_ranges,
            next_key,
            search_mode: meta.search,
            storage,
        })
    }

    /// The flat rows of `count` chunks, mapped or read.
    fn open_flat(dir: &Path, meta: &Meta, view: bool, count: usize) -> Result<Flat, VectorError> {
        let path = dir.join(FLAT_FILE);
        let io = |source| VectorError::Io {
            path: path.clone(),
            source,
        };
        let (scalar, dim) = (meta.config.scalar, meta.dim);
        let flat = if view {
            Flat::map(scalar, dim, count, meta.rows, &path).map_err(io)?
        } else {
            let bytes = std::fs::read(&path).map_err(io)?;
            Flat::from_bytes(scalar, dim, count, meta.rows, bytes)
        };
        flat.ok_or_else(|| VectorError::Corrupt {
            path,
            detail: format!(
                "not {count} {} rows of {dim} {scalar} components",
                meta.rows.name()
            ),
        })
    }

    /// The graph over `count` chunks, mapped (usearch's `view`) or loaded.
    fn open_graph(dir: &Path, meta: &Meta, view: bool, count: usize) -> Result<Index, VectorError> {
        let corrupt = |detail: String| VectorError::Corrupt {
            path: dir.join(GRAPH_FILE),
            detail,
        };
        let hnsw = new_hnsw(meta.dim, &meta.config)?;
        let path = dir.join(GRAPH_FILE);
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
        .map_err(|e| corrupt(e.to_string()))?;
        if hnsw.size() > count || hnsw.dimensions() != meta.dim {
            return Err(corrupt(format!(
                "{} vectors of {} dimensions for {count} chunks of {}",
                hnsw.size(),
                hnsw.dimensions(),
                meta.dim
            )));
        }
        if !view {
            hnsw.reserve_capacity_and_threads(count.max(1), SEARCH_SLOTS)
                .map_err(hnsw_err)?;
        }
        hnsw.change_expansion_search(meta.config.hnsw.expansion_search);
        Ok(hnsw)
    }
}
