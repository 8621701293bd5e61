//! The files of an index in path order, held as a few flat arrays: every path in one string,
//! and one array per number (content hash, line count, first key, first chunk position).
//!
//! Why not a `Vec` of structs each owning its path: opening an index of 100,000 files for one
//! query then made 100,000 allocations, touched their pages, and freed them all at exit, which
//! cost a one-query `verity search 'vector:…'` process more than scoring every chunk
//! (docs/BENCHMARKS.md, "A file table without an allocation per file"). Here opening makes a
//! handful of allocations whatever the file count, and a file is found by binary search over
//! the paths, or from a chunk's position by binary search over the first positions.

use std::ops::Range;

use crate::chunk::{windows, ChunkOptions};

/// The files of an index in path order. See the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileTable {
    /// Every path, one after the other.
    paths: String,
    /// Where each path ends in `paths` (it starts where the previous one ends).
    path_ends: Vec<usize>,
    hashes: Vec<u64>,
    lines: Vec<usize>,
    first_keys: Vec<u64>,
    /// Position of each file's first chunk, and the number of chunks last: one more than
    /// there are files.
    starts: Vec<usize>,
}

/// One file of a [`FileTable`], borrowed from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileEntry<'a> {
    /// The file's path in the corpus.
    pub path: &'a str,
    /// Hash of the file's bytes, so an update re-embeds only changed files.
    pub hash: u64,
    /// Lines of the file.
    pub lines: usize,
    /// Key of the file's first chunk (in the graph, and of its `f32` copies); the others
    /// follow consecutively.
    pub first_key: u64,
    /// Number of chunks.
    pub chunks: usize,
}

impl FileEntry<'_> {
    /// The 1-based inclusive line ranges of the file's chunks under `opts` (the index's
    /// [`VectorConfig::chunk`](crate::config::VectorConfig::chunk)).
    pub fn ranges(&self, opts: ChunkOptions) -> Vec<(usize, usize)> {
        windows(self.lines, opts)
    }

    /// The graph keys of the file's chunks.
    pub(super) fn keys(&self) -> Range<u64> {
        self.first_key..self.first_key + self.chunks as u64
    }
}

impl Default for FileTable {
    fn default() -> Self {
        Self::with_capacity(0, 0)
    }
}

impl FileTable {
    /// An empty table with room for `files` files whose paths total `path_bytes` bytes.
    pub(super) fn with_capacity(files: usize, path_bytes: usize) -> FileTable {
        let mut starts = Vec::with_capacity(files + 1);
        starts.push(0);
        FileTable {
            paths: String::with_capacity(path_bytes),
            path_ends: Vec::with_capacity(files),
            hashes: Vec::with_capacity(files),
            lines: Vec::with_capacity(files),
            first_keys: Vec::with_capacity(files),
            starts,
        }
    }

    /// Adds a file after the others (the caller keeps path order). `None`, with nothing
    /// added, when the chunk count would pass `usize` or the file's keys would pass 2^64
    /// (a damaged table can claim either).
    pub(super) fn push(
        &mut self,
        path: &str,
        hash: u64,
        lines: usize,
        first_key: u64,
        chunks: usize,
    ) -> Option<()> {
        let total = self.chunk_count().checked_add(chunks)?;
        first_key.checked_add(chunks as u64)?;
        self.paths.push_str(path);
        self.path_ends.push(self.paths.len());
        self.hashes.push(hash);
        self.lines.push(lines);
        self.first_keys.push(first_key);
        self.starts.push(total);
        Some(())
    }

    /// Number of files.
    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// No file at all.
    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    /// The path of file `i` (< [`len`](Self::len)).
    pub fn path(&self, i: usize) -> &str {
        let start = i.checked_sub(1).map_or(0, |p| self.path_ends[p]);
        &self.paths[start..self.path_ends[i]]
    }

    /// File `i` (< [`len`](Self::len)).
    pub fn get(&self, i: usize) -> FileEntry<'_> {
        FileEntry {
            path: self.path(i),
            hash: self.hashes[i],
            lines: self.lines[i],
            first_key: self.first_keys[i],
            chunks: self.starts[i + 1] - self.starts[i],
        }
    }

    /// The files in path order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = FileEntry<'_>> + '_ {
        (0..self.len()).map(|i| self.get(i))
    }

    /// The place of the file at `path`, if the table holds it.
    pub fn find(&self, path: &str) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.path(mid).cmp(path) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// Number of chunks of every file together.
    pub fn chunk_count(&self) -> usize {
        *self
            .starts
            .last()
            .expect("starts has one more entry than files")
    }

    /// Positions of the chunks of file `i` (< [`len`](Self::len)).
    pub(super) fn chunk_positions(&self, i: usize) -> Range<usize> {
        self.starts[i]..self.starts[i + 1]
    }

    /// The file of the chunk at `pos` (< [`chunk_count`](Self::chunk_count)), and the chunk's
    /// place in it.
    pub(super) fn locate(&self, pos: usize) -> (usize, usize) {
        let fi = self.starts.partition_point(|s| *s <= pos) - 1;
        (fi, pos - self.starts[fi])
    }

    /// The first key of file `i`.
    pub(super) fn first_key(&self, i: usize) -> u64 {
        self.first_keys[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_found_by_path_and_by_chunk_position() {
        let mut t = FileTable::default();
        assert!(t.is_empty() && t.find("a").is_none() && t.chunk_count() == 0);
        t.push("a/x.rs", 1, 10, 100, 2).unwrap();
        t.push("a/y.rs", 2, 0, 0, 0).unwrap();
        t.push("b.rs", 3, 40, 7, 3).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t.chunk_count(), 5);
        assert_eq!(
            t.get(2),
            FileEntry {
                path: "b.rs",
                hash: 3,
                lines: 40,
                first_key: 7,
                chunks: 3
            }
        );
        let paths: Vec<&str> = t.iter().map(|f| f.path).collect();
        assert_eq!(paths, ["a/x.rs", "a/y.rs", "b.rs"]);
        for (i, p) in paths.iter().enumerate() {
            assert_eq!(t.find(p), Some(i));
        }
        assert_eq!(t.find("a"), None);
        assert_eq!(t.find("c"), None);
        // The empty file owns no position: position 2 is the first chunk of b.rs.
        assert_eq!(t.locate(0), (0, 0));
        assert_eq!(t.locate(1), (0, 1));
        assert_eq!(t.locate(2), (2, 0));
        assert_eq!(t.locate(4), (2, 2));
        assert_eq!(t.chunk_positions(1), 2..2);
        assert_eq!(t.get(2).keys(), 7..10);
    }

    #[test]
    fn counts_past_the_machine_are_refused_and_add_nothing() {
        let mut t = FileTable::default();
        t.push("a", 0, 1, 0, usize::MAX).unwrap();
        assert_eq!(t.push("b", 0, 1, 0, 1), None);
        assert_eq!(t.len(), 1);
        assert_eq!(t.path(0), "a");
        let mut t = FileTable::default();
        assert_eq!(t.push("c", 0, 1, u64::MAX - 1, 2), None);
        assert!(t.is_empty() && t.chunk_count() == 0);
    }
}
