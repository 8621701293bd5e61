//! Where verification reads a candidate's text.
//!
//! The index stores every file's text, so that answers stay the answers of the indexed corpus
//! after files change ([`crate::text_store`]). Reading it back costs a block decompressed per
//! candidate and, in a fresh `verity search` process, the first touches of the mapped store. A file that is
//! still byte for byte what was indexed says the same thing for less: it is in the page cache
//! when the machine has just used it, as it is for `rg` and codesearch.
//!
//! A file is worth reading from the corpus when it is large: then the store decompresses it
//! in full for one candidate. Small files share the store's blocks with their neighbours,
//! which verification reads in the order of their text addresses, so one decompressed block serves
//! several candidates; there the store is cheaper than opening, reading and hashing each file
//! (reading all of them from the corpus made `lit:&mut self`, 88,870 small files on the
//! synthetic tree, 2.4× slower).
//!
//! That holds for a compressed store (`--text-compression lz4`). A raw store is read in place
//! from the mapped file, with no decompression and no copy, which is cheaper than the corpus
//! file at any size: there every candidate is read from the store.
//!
//! So with a compressed store a large candidate is read from the corpus first, and that copy
//! is used only when its xxh3-64
//! equals the hash recorded at indexing time (a fast field, read without the text store); the
//! text is then decoded by the same rules ([`crate::text::decode_borrowed`]). Files are read
//! into a buffer the caller keeps from candidate to candidate: a fresh buffer for each large
//! file cost a page fault and a cleared page for every 4 KiB read, and the pages went back to
//! the kernel after each file (a third of a `fn poll_next(` process on the registry). Otherwise (the file
//! changed, moved, became unreadable or binary, or the corpus is elsewhere) the stored copy is
//! read. Either way the text verified is the indexed text, up to a 64-bit hash collision
//! between a changed file and its indexed bytes.

use std::borrow::Cow;
use std::io::Read;
use std::path::PathBuf;

use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocAddress, DocId, Searcher};

use crate::error::EngineError;
use crate::schema::{PATH_FIELD, TEXT_FIELD};
use crate::text::decode_borrowed;
use crate::text_store::{Cursor, TextStore};

/// Files at least this large are read from the corpus. Measured per process: at 16 KiB (a
/// store block) the registry's selective queries kept part of their store cost; at 4 KiB
/// they lost most of it, and the synthetic tree's small files (2.2 KiB on average) still come
/// from the store.
const CORPUS_READ_MIN_BYTES: u64 = 4 * 1024;

/// The path, text address, hash and size columns of one segment.
struct SegmentColumns {
    paths: StrColumn,
    addresses: Column<u64>,
    hashes: Column<u64>,
    sizes: Column<u64>,
}

/// Reads candidates' texts for one search.
pub(crate) struct TextSource<'s> {
    root: PathBuf,
    texts: &'s TextStore,
    segments: Vec<SegmentColumns>,
}

impl<'s> TextSource<'s> {
    /// The source for `searcher`'s documents, whose corpus was indexed at `root` and whose
    /// texts are in `texts`.
    pub fn new(
        root: PathBuf,
        searcher: &Searcher,
        texts: &'s TextStore,
    ) -> Result<Self, EngineError> {
        let segments = searcher
            .segment_readers()
            .iter()
            .map(|seg| {
                let ff = seg.fast_fields();
                let paths = ff.str(PATH_FIELD)?.ok_or_else(|| {
                    tantivy::TantivyError::SchemaError("path is not a fast field".into())
                })?;
                Ok(SegmentColumns {
                    paths,
                    addresses: ff.u64(TEXT_FIELD)?,
                    hashes: ff.u64("hash")?,
                    sizes: ff.u64("size")?,
                })
            })
            .collect::<Result<Vec<_>, tantivy::TantivyError>>()?;
        Ok(TextSource {
            root,
            texts,
            segments,
        })
    }

    /// The indexed paths of the large files among `addrs` and of those `also` accepts, in
    /// their order (none for the others, which are read from the store, and where the column
    /// has no path). Each segment's path dictionary is read once, in order, for the whole
    /// batch: looking paths up one at a time decompressed a dictionary block per candidate.
    pub fn paths(
        &self,
        addrs: &[DocAddress],
        also: impl Fn(DocAddress) -> bool,
    ) -> Vec<Option<String>> {
        let mut out = vec![None; addrs.len()];
        let wanted = |seg: &SegmentColumns, s: usize, doc| {
            also(DocAddress::new(s as u32, doc)) || self.reads_corpus(seg, doc)
        };
        // A damaged dictionary leaves the paths unknown: those are read from the store.
        let _ = self.each_path(addrs, wanted, |i, bytes| {
            out[i] = Some(String::from_utf8_lossy(bytes).into_owned());
        });
        out
    }

    /// Whether document `doc` of `seg` is read from the corpus: when it is large and its
    /// stored copy is compressed (a raw copy is read in place, which costs less than opening,
    /// reading and hashing the file).
    fn reads_corpus(&self, seg: &SegmentColumns, doc: DocId) -> bool {
        seg.sizes
            .first(doc)
            .is_some_and(|n| n >= CORPUS_READ_MIN_BYTES)
            && seg
                .addresses
                .first(doc)
                .is_some_and(|a| !self.texts.is_raw(a))
    }

    /// The indexed path bytes of every document of `addrs`, in their order (none where the
    /// column has no path), or the first error of a damaged path dictionary.
    pub fn path_bytes(&self, addrs: &[DocAddress]) -> std::io::Result<Vec<Option<Vec<u8>>>> {
        let mut out = vec![None; addrs.len()];
        self.each_path(
            addrs,
            |_, _, _| true,
            |i, bytes| out[i] = Some(bytes.to_vec()),
        )?;
        Ok(out)
    }

    /// Calls `each(i, path)` for every `addrs[i]` that `keep` accepts and whose path the
    /// column has. Each segment's path dictionary is read once, in order, each ordinal once;
    /// the first dictionary error is returned after every segment was tried.
    fn each_path(
        &self,
        addrs: &[DocAddress],
        keep: impl Fn(&SegmentColumns, usize, DocId) -> bool,
        mut each: impl FnMut(usize, &[u8]),
    ) -> std::io::Result<()> {
        let mut first_error = Ok(());
        for (s, seg) in self.segments.iter().enumerate() {
            let mut wanted: Vec<(u64, usize)> = addrs
                .iter()
                .enumerate()
                .filter(|(_, a)| a.segment_ord as usize == s && keep(seg, s, a.doc_id))
                .filter_map(|(i, a)| Some((seg.paths.term_ords(a.doc_id).next()?, i)))
                .collect();
            if wanted.is_empty() {
                continue;
            }
            wanted.sort_unstable();
            let mut ords: Vec<u64> = wanted.iter().map(|(o, _)| *o).collect();
            ords.dedup();
            let mut next = wanted.iter().peekable();
            let read = seg
                .paths
                .dictionary()
                .sorted_ords_to_term_cb(&ords, |bytes| {
                    let Some(&&(ord, _)) = next.peek() else {
                        return;
                    };
                    while let Some((_, i)) = next.next_if(|(o, _)| *o == ord) {
                        each(*i, bytes);
                    }
                });
            if first_error.is_ok() {
                first_error = read.map(|_| ());
            }
        }
        first_error
    }

    /// The order of `items` (documents with their indexed paths) by path, as indices into
    /// `items`.
    ///
    /// Each segment's path column has a sorted dictionary, so within a segment the paths'
    /// term ordinals are in path order: each segment's items are sorted by integers, and the
    /// segments' sorted lists merged, a path comparison or two an item (one a segment beyond
    /// the first, and one to check the order). Sorting 96,000 paths of a
    /// synthetic tree outright (all starting `crates/`) compared strings about 17 times an
    /// item, a tenth of a listing process. Should a damaged column put a segment out of
    /// order, the merge sees it and the paths are sorted outright.
    pub fn path_order(&self, items: &[(DocAddress, &str)]) -> Vec<usize> {
        let mut groups: Vec<Vec<(u64, usize)>> = vec![Vec::new(); self.segments.len()];
        let mut strays = Vec::new();
        for (i, (addr, _)) in items.iter().enumerate() {
            let ord = self
                .segments
                .get(addr.segment_ord as usize)
                .and_then(|seg| seg.paths.term_ords(addr.doc_id).next());
            match ord {
                Some(ord) => groups[addr.segment_ord as usize].push((ord, i)),
                None => strays.push(i),
            }
        }
        let path = |i: usize| items[i].1;
        if !strays.is_empty() {
            return sorted_by_path(items.len(), path);
        }
        for g in &mut groups {
            g.sort_unstable();
        }
        groups.retain(|g| !g.is_empty());
        let mut heads = vec![0; groups.len()];
        let mut out = Vec::with_capacity(items.len());
        while out.len() < items.len() {
            // The group whose next path is least (the first such group on equal paths).
            let mut best: Option<(usize, usize)> = None;
            for (g, group) in groups.iter().enumerate() {
                if let Some(&(_, i)) = group.get(heads[g]) {
                    if best.is_none_or(|(_, b)| path(i) < path(b)) {
                        best = Some((g, i));
                    }
                }
            }
            let Some((g, i)) = best else { break };
            if out.last().is_some_and(|&last| path(last) > path(i)) {
                return sorted_by_path(items.len(), path);
            }
            heads[g] += 1;
            out.push(i);
        }
        out
    }

    /// The text address of the document at `addr` ([`crate::text_store`]), if its column
    /// has one: verification reads candidates in this order, so that each block of the store
    /// is decompressed once.
    pub fn address(&self, addr: DocAddress) -> Option<u64> {
        self.segments
            .get(addr.segment_ord as usize)?
            .addresses
            .first(addr.doc_id)
    }

    /// The indexed path and text of the document at `addr`, whose path `path` may already be
    /// known (from [`TextSource::paths`]). A file read from the corpus is read into `buf`,
    /// which the text then borrows; otherwise the text is borrowed from the text store's block
    /// in `cursor`.
    pub fn read<'b>(
        &self,
        cursor: &'b mut Cursor,
        addr: DocAddress,
        path: Option<String>,
        buf: &'b mut Vec<u8>,
    ) -> Result<(String, Cow<'b, str>), EngineError> {
        if let Some(path) = &path {
            if let Some(text) = self.read_corpus_file(addr, path, buf) {
                return Ok((path.clone(), text));
            }
        }
        let Some(address) = self.address(addr) else {
            return Err(EngineError::IndexCorrupt {
                path: PathBuf::from("text column"),
                detail: format!("document {addr:?} has no text address"),
            });
        };
        let (stored_path, text) = self.texts.read(address, cursor)?;
        let path = path.unwrap_or_else(|| stored_path.to_owned());
        Ok((path, Cow::Borrowed(text)))
    }

    /// The text of the corpus file at `path` (read into `buf`), when it is large and its bytes
    /// are the indexed ones.
    fn read_corpus_file<'b>(
        &self,
        addr: DocAddress,
        path: &str,
        buf: &'b mut Vec<u8>,
    ) -> Option<Cow<'b, str>> {
        let seg = self.segments.get(addr.segment_ord as usize)?;
        if !self.reads_corpus(seg, addr.doc_id) {
            return None;
        }
        let size = seg.sizes.first(addr.doc_id)?;
        let hash = seg.hashes.first(addr.doc_id)?;
        let file = std::fs::File::open(self.root.join(path)).ok()?;
        buf.clear();
        // At most one byte past the indexed size: a file that grew is not the indexed one,
        // however large it is now.
        buf.reserve(usize::try_from(size).ok()?.saturating_add(1));
        file.take(size.saturating_add(1)).read_to_end(buf).ok()?;
        if buf.len() as u64 != size || xxhash_rust::xxh3::xxh3_64(buf) != hash {
            return None;
        }
        decode_borrowed(buf).ok()
    }
}

/// The indices `0..n` sorted by `path` (stable).
fn sorted_by_path<'p>(n: usize, path: impl Fn(usize) -> &'p str) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| path(a).cmp(path(b)));
    order
}
