//! The text store: every indexed file's path and decoded text, in Verity's own files.
//!
//! Verification reads the indexed text of every candidate it cannot decide from the index, so
//! this is the engine's hottest read path: a query that matches 90,000 small files reads 90,000
//! texts. tantivy's doc store answered each read with a seek in its skip index, a document
//! deserialized field by field and a fresh `String` for the text and for the path; with its
//! block decompression that was about half of such a query. Here a document's *text address*
//! (the `text` fast field) names its entry directly, the entry table says which block holds it
//! and where, and the text is borrowed from the block a reader read last ([`Cursor`]): in
//! place from the mapped file when the block is raw (the default, [`TextCompression`]), or
//! from the reader's buffer when it is lz4, so readers going through addresses in order
//! decompress each block once and copy nothing.
//!
//! Each build that adds files writes one *batch*, `texts-NNNNNN.vtx` (N: the number of the
//! generation it was written in), and the documents it adds point into it. A later generation
//! keeps the batches its documents still point into (hard links, like tantivy's segment
//! files; see [`crate::generation`]), and `crate::index` folds small or mostly dead batches into
//! the new one, so a long run of small updates keeps few batches and little dead text.
//!
//! A batch also carries the trigram index and the word index of its texts
//! ([`crate::trigram_index`], [`crate::word_index`]): written with them, linked and removed
//! with them, and keyed by their entries, which never change.
//!
//! Layout of a batch (integers little-endian):
//!
//! ```text
//! "VTX3"
//! blocks         raw or lz4 blocks (lz4_flex's block format), one after the other
//! words          the batch's word section (crate::word_index)
//! trigrams       the batch's trigram section (crate::trigram_index)
//! block table    per block: offset u64, compressed length u32, length u32
//! entry table    per entry: block u32, start u32, end u32 (its bytes in the decompressed block)
//! footer         blocks u32, entries u32, offset of the block table u64,
//!                offset of the trigram section u64, offset of the word section u64, "VTX3"
//! ```
//!
//! An entry is the path's length (u32), the path, then the text. A block is closed once it
//! holds at least 16 KiB, so a large file is one block of its own. A block whose compressed
//! length equals its length is stored raw: so are all blocks of a batch written without
//! compression ([`TextCompression::None`]), and any block lz4 would not shrink. A raw block is
//! read in place, from the mapped file, without a copy.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use tantivy::directory::{Directory, MmapDirectory, OwnedBytes};

use crate::error::EngineError;
use crate::generation::{FileSum, Summed};
use crate::trigram_index::{u32_at, u64_at, TrigramSection, TrigramWriter};
use crate::word_index::{WordSection, WordWriter};

const MAGIC: &[u8; 4] = b"VTX3";
/// A block is closed once it holds this many bytes: tantivy's doc-store block size, so with lz4
/// a best-10 query reading one small file decompresses as much as it did there.
const BLOCK_BYTES: usize = 16 * 1024;
const BLOCK_ROW: usize = 16;
const ENTRY_ROW: usize = 12;
const FOOTER: usize = 4 + 4 + 8 + 8 + 8 + 4;

/// The file name of batch `batch`.
pub(crate) fn batch_file_name(batch: u32) -> String {
    format!("texts-{batch:06}.vtx")
}

/// The batch number of a file named like [`batch_file_name`]'s.
pub(crate) fn batch_of_file_name(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("texts-")?.strip_suffix(".vtx")?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
        .then(|| digits.parse().ok())
        .flatten()
}

pub(crate) use crate::schema::{address, split};

fn too_large(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{what} is too large for the text store (4 GiB)"),
    )
}

/// How a batch's blocks are stored.
///
/// Raw is the default: searches that read many files spend most of their time decompressing
/// lz4 (measured per process on 100,000 small files: `lit:&mut self` 155 ms raw against 250 ms
/// with lz4 blocks), and a raw store costs about the corpus's size on disk, against a third of
/// it with lz4 on real code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextCompression {
    /// lz4 blocks: about a third of the corpus on real code; every read decompresses a block.
    Lz4,
    /// Raw blocks: about the corpus's size; read in place from the mapped file.
    #[default]
    None,
}

/// Writes one batch, entry after entry.
pub(crate) struct TextWriter {
    batch: u32,
    compression: TextCompression,
    out: BufWriter<Summed<File>>,
    /// Bytes written so far.
    at: u64,
    /// The open block, uncompressed.
    block: Vec<u8>,
    /// Scratch space for a compressed block.
    packed: Vec<u8>,
    blocks: Vec<(u64, u32, u32)>,
    entries: Vec<(u32, u32, u32)>,
    trigrams: TrigramWriter,
    /// Syncs what is written so far while more is written (see [`EarlySync`]).
    early_sync: Option<EarlySync>,
}

/// Asks the disk for a batch's bytes while the batch is still being written: a thread of its
/// own syncs the file each time another [`EarlySync::EVERY`] bytes have been written, so the
/// sync that ends a batch waits for its last bytes only (on the 264 MiB tree of
/// docs/BENCHMARKS.md, that one sync took 0.16 s of a 3 s build at the end of it).
struct EarlySync {
    /// Where the last request was made.
    asked_at: u64,
    requests: std::sync::mpsc::SyncSender<()>,
    syncing: std::thread::JoinHandle<io::Result<()>>,
}

impl EarlySync {
    const EVERY: u64 = 32 << 20;

    fn start(file: &File) -> io::Result<EarlySync> {
        let file = file.try_clone()?;
        let (requests, asked) = std::sync::mpsc::sync_channel::<()>(1);
        let syncing = std::thread::Builder::new()
            .name("verity-sync".into())
            .spawn(move || {
                for () in asked {
                    file.sync_data()?;
                }
                Ok(())
            })?;
        Ok(EarlySync {
            asked_at: 0,
            requests,
            syncing,
        })
    }

    /// Called as the batch grows to `at` bytes; never waits (a request made while the
    /// thread still syncs is dropped: the next one covers it).
    fn written(&mut self, at: u64) {
        if at >= self.asked_at + Self::EVERY {
            self.asked_at = at;
            let _ = self.requests.try_send(());
        }
    }

    /// Stops the thread; its error, if a sync failed.
    fn stop(self) -> io::Result<()> {
        drop(self.requests);
        match self.syncing.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    }
}

impl TextWriter {
    /// Creates batch `batch` at `path` (replacing what is there).
    pub fn create(path: &Path, batch: u32, compression: TextCompression) -> io::Result<TextWriter> {
        let file = File::create(path)?;
        let early_sync = Some(EarlySync::start(&file)?);
        let mut out = BufWriter::with_capacity(1 << 20, Summed::new(file));
        out.write_all(MAGIC)?;
        Ok(TextWriter {
            batch,
            compression,
            out,
            at: MAGIC.len() as u64,
            block: Vec::with_capacity(2 * BLOCK_BYTES),
            packed: Vec::new(),
            blocks: Vec::new(),
            entries: Vec::new(),
            trigrams: TrigramWriter::default(),
            early_sync,
        })
    }

    /// Appends a file's path and text, with its distinct trigrams' keys
    /// ([`crate::tokenizer::TrigramScanner`]); returns its text address. Its words go to the
    /// batch's [`WordWriter`], in the same order, given at [`TextWriter::finish`].
    pub fn append(&mut self, path: &str, text: &str, trigrams: &[u64]) -> io::Result<u64> {
        let entry = u32::try_from(self.entries.len()).map_err(|_| too_large("a batch"))?;
        let path_len = u32::try_from(path.len()).map_err(|_| too_large("a path"))?;
        let start = self.block.len();
        if start + 4 + path.len() + text.len() > u32::MAX as usize {
            return Err(too_large("a file"));
        }
        self.block.extend_from_slice(&path_len.to_le_bytes());
        self.block.extend_from_slice(path.as_bytes());
        self.block.extend_from_slice(text.as_bytes());
        let block = u32::try_from(self.blocks.len()).map_err(|_| too_large("a batch"))?;
        self.entries
            .push((block, start as u32, self.block.len() as u32));
        self.trigrams.add(entry, trigrams);
        if self.block.len() >= BLOCK_BYTES {
            self.close_block()?;
        }
        Ok(address(self.batch, entry))
    }

    fn close_block(&mut self) -> io::Result<()> {
        if self.block.is_empty() {
            return Ok(());
        }
        let mut n = self.block.len();
        if self.compression == TextCompression::Lz4 {
            let most = lz4_flex::block::get_maximum_output_size(self.block.len());
            if self.packed.len() < most {
                self.packed.resize(most, 0);
            }
            n = lz4_flex::block::compress_into(&self.block, &mut self.packed)
                .map_err(|e| io::Error::other(e.to_string()))?;
        }
        // A block lz4 does not shrink is stored raw, and read in place.
        if n < self.block.len() {
            self.out.write_all(&self.packed[..n])?;
        } else {
            n = self.block.len();
            self.out.write_all(&self.block)?;
        }
        self.blocks
            .push((self.at, n as u32, self.block.len() as u32));
        self.at += n as u64;
        self.block.clear();
        if let Some(sync) = &mut self.early_sync {
            sync.written(self.at);
        }
        Ok(())
    }

    /// Closes the last block and writes the trigram section, the word section of
    /// `word_index` (the same texts' words, in the same order) and the tables; returns the
    /// number of entries and the file's checksum.
    pub fn finish(mut self, word_index: WordWriter) -> io::Result<(usize, FileSum)> {
        if word_index.entries() != self.entries.len() {
            return Err(io::Error::other(format!(
                "the word index has {} texts, the batch {}",
                word_index.entries(),
                self.entries.len()
            )));
        }
        self.close_block()?;
        // The two sections are serialized at once: the trigram section into memory on a
        // thread of its own while the word section, the larger, goes to the file. This is
        // the tail of a build, when nothing else is left to run beside it.
        let trigram_index = std::mem::take(&mut self.trigrams);
        let (trigram_bytes, words, trigrams) = std::thread::scope(|scope| {
            let trigram_bytes = scope.spawn(move || {
                let mut out = Vec::new();
                trigram_index.write(&mut out).map(|_| out)
            });
            let words = self.at;
            let written = word_index.write(&mut self.out);
            let trigram_bytes = match trigram_bytes.join() {
                Ok(bytes) => bytes,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            io::Result::Ok((trigram_bytes?, words, words + written?))
        })?;
        self.out.write_all(&trigram_bytes)?;
        self.at = trigrams + trigram_bytes.len() as u64;
        let tables = self.at;
        for &(offset, packed, len) in &self.blocks {
            self.out.write_all(&offset.to_le_bytes())?;
            self.out.write_all(&packed.to_le_bytes())?;
            self.out.write_all(&len.to_le_bytes())?;
        }
        for &(block, start, end) in &self.entries {
            self.out.write_all(&block.to_le_bytes())?;
            self.out.write_all(&start.to_le_bytes())?;
            self.out.write_all(&end.to_le_bytes())?;
        }
        let blocks = u32::try_from(self.blocks.len()).map_err(|_| too_large("a batch"))?;
        self.out.write_all(&blocks.to_le_bytes())?;
        self.out
            .write_all(&(self.entries.len() as u32).to_le_bytes())?;
        self.out.write_all(&tables.to_le_bytes())?;
        self.out.write_all(&trigrams.to_le_bytes())?;
        self.out.write_all(&words.to_le_bytes())?;
        self.out.write_all(MAGIC)?;
        self.out.flush()?;
        if let Some(sync) = self.early_sync.take() {
            sync.stop()?;
        }
        // Synced here rather than only when the generation is published: the batch is most of
        // a generation's bytes, and `crate::index` finishes it on a thread of its own while
        // tantivy commits, so its trip to the disk overlaps that work instead of following it.
        self.out.get_ref().get_ref().sync_data()?;
        Ok((self.entries.len(), self.out.get_ref().sum()))
    }
}

/// One batch, open for reading (mapped by tantivy's directory).
struct Batch {
    path: PathBuf,
    data: OwnedBytes,
    /// Where the blocks end (the word section begins).
    blocks_end: usize,
    blocks_at: usize,
    entries_at: usize,
    blocks: u32,
    entries: u32,
    trigrams: TrigramSection,
    words: WordSection,
}

impl Batch {
    /// Checks the frame of a batch: magic numbers, and tables that fit the file exactly.
    fn open(path: PathBuf, data: OwnedBytes) -> Result<Batch, EngineError> {
        let corrupt = |detail: &str| EngineError::IndexCorrupt {
            path: path.clone(),
            detail: format!("text store: {detail}"),
        };
        let b = data.as_slice();
        if b.len() < MAGIC.len() + FOOTER || &b[..4] != MAGIC || &b[b.len() - 4..] != MAGIC {
            return Err(corrupt("not a text batch (no VTX3 header and footer)"));
        }
        let f = b.len() - FOOTER;
        let (blocks, entries, tables) = (u32_at(b, f), u32_at(b, f + 4), u64_at(b, f + 8));
        let (trigrams, words) = (u64_at(b, f + 16), u64_at(b, f + 24));
        let end = (tables as u128)
            + (blocks as u128) * BLOCK_ROW as u128
            + (entries as u128) * ENTRY_ROW as u128;
        if words < MAGIC.len() as u64 || words > trigrams || trigrams > tables || end != f as u128 {
            return Err(corrupt("its tables do not fit the file"));
        }
        let (blocks_end, trigrams_at, blocks_at) =
            (words as usize, trigrams as usize, tables as usize);
        let words = WordSection::open(path.clone(), data.slice(blocks_end..trigrams_at), entries)
            .map_err(|e| corrupt(&e))?;
        let trigrams =
            TrigramSection::open(path.clone(), data.slice(trigrams_at..blocks_at), entries)
                .map_err(|e| corrupt(&e))?;
        Ok(Batch {
            blocks_end,
            trigrams,
            words,
            entries_at: blocks_at + blocks as usize * BLOCK_ROW,
            blocks_at,
            blocks,
            entries,
            path,
            data,
        })
    }

    /// Entry `entry`'s row: its block, and its range in the decompressed block; `None` past
    /// the table.
    fn entry(&self, entry: u32) -> Option<(u32, u32, u32)> {
        (entry < self.entries).then(|| {
            let (b, row) = (
                self.data.as_slice(),
                self.entries_at + entry as usize * ENTRY_ROW,
            );
            (u32_at(b, row), u32_at(b, row + 4), u32_at(b, row + 8))
        })
    }

    /// Block `block`'s row: offset, compressed length, length; `None` past the table.
    fn block(&self, block: u32) -> Option<(u64, u32, u32)> {
        (block < self.blocks).then(|| {
            let (b, row) = (
                self.data.as_slice(),
                self.blocks_at + block as usize * BLOCK_ROW,
            );
            (u64_at(b, row), u32_at(b, row + 8), u32_at(b, row + 12))
        })
    }

    fn corrupt(&self, detail: String) -> EngineError {
        EngineError::IndexCorrupt {
            path: self.path.clone(),
            detail: format!("text store: {detail}"),
        }
    }
}

/// Where a reader is: the block it read last, kept for the next read.
#[derive(Default)]
pub(crate) struct Cursor {
    /// (batch, block) of the bytes held, when they are valid.
    at: Option<(u32, u32)>,
    /// A raw block: its bytes in the mapped batch.
    raw: Option<OwnedBytes>,
    /// A decompressed block, in the first `len` bytes.
    block: Vec<u8>,
    len: usize,
}

/// Every batch of one generation.
#[derive(Default)]
pub(crate) struct TextStore {
    batches: HashMap<u32, Batch>,
}

impl TextStore {
    /// Opens the batches of the generation in `gen_dir`, mapped into memory by tantivy's
    /// directory (its own, not the index's, which expects tantivy's footer on every file).
    pub fn open(gen_dir: &Path) -> Result<TextStore, EngineError> {
        let io_at = |source| EngineError::Io {
            path: gen_dir.to_path_buf(),
            source,
        };
        let directory = MmapDirectory::open(gen_dir).map_err(|e| EngineError::IndexCorrupt {
            path: gen_dir.to_path_buf(),
            detail: e.to_string(),
        })?;
        let mut batches = HashMap::new();
        for entry in std::fs::read_dir(gen_dir).map_err(io_at)? {
            let name = entry.map_err(io_at)?.file_name();
            let Some(name) = name.to_str() else { continue };
            let Some(n) = batch_of_file_name(name) else {
                continue;
            };
            let path = gen_dir.join(name);
            let corrupt = |detail: String| EngineError::IndexCorrupt {
                path: path.clone(),
                detail,
            };
            let data = directory
                .open_read(Path::new(name))
                .map_err(|e| corrupt(e.to_string()))?
                .read_bytes()
                .map_err(|e| corrupt(e.to_string()))?;
            batches.insert(n, Batch::open(path, data)?);
        }
        Ok(TextStore { batches })
    }

    /// Every batch's trigram section, by batch number.
    pub fn trigram_sections(&self) -> Vec<(u32, TrigramSection)> {
        self.batches
            .iter()
            .map(|(&n, b)| (n, b.trigrams.clone()))
            .collect()
    }

    /// Every batch's word section, by batch number.
    pub fn word_sections(&self) -> Vec<(u32, WordSection)> {
        self.batches
            .iter()
            .map(|(&n, b)| (n, b.words.clone()))
            .collect()
    }

    /// The batch numbers, with each batch's number of entries.
    pub fn batches(&self) -> impl Iterator<Item = (u32, u32)> + '_ {
        self.batches.iter().map(|(&n, b)| (n, b.entries))
    }

    /// Whether the entry at `address` is in a raw block (read in place, without a copy);
    /// false for a compressed one, and where the address names no entry.
    pub fn is_raw(&self, address: u64) -> bool {
        let (n, entry) = split(address);
        self.batches
            .get(&n)
            .and_then(|batch| batch.block(batch.entry(entry)?.0))
            .is_some_and(|(_, packed, len)| packed == len)
    }

    /// The path and text at `address`, borrowed from `cursor`'s block (decompressed there
    /// unless it already holds it).
    pub fn read<'c>(
        &self,
        address: u64,
        cursor: &'c mut Cursor,
    ) -> Result<(&'c str, &'c str), EngineError> {
        let (n, entry) = split(address);
        let Some(batch) = self.batches.get(&n) else {
            return Err(EngineError::IndexCorrupt {
                path: PathBuf::from(batch_file_name(n)),
                detail: format!("text store: the batch of text address {address:#x} is missing"),
            });
        };
        let Some((block, start, end)) = batch.entry(entry) else {
            return Err(batch.corrupt(format!("no entry {entry} (it has {})", batch.entries)));
        };
        let Some((offset, packed, len)) = batch.block(block) else {
            return Err(batch.corrupt(format!("entry {entry} names block {block}")));
        };
        if cursor.at != Some((n, block)) {
            cursor.at = None;
            let b = batch.data.as_slice();
            let from = usize::try_from(offset).unwrap_or(usize::MAX);
            let Some(bytes) = from
                .checked_add(packed as usize)
                .filter(|&to| from >= MAGIC.len() && to <= batch.blocks_end)
                .map(|to| &b[from..to])
            else {
                return Err(batch.corrupt(format!("block {block} lies outside the blocks")));
            };
            let len = len as usize;
            if packed as usize == len {
                cursor.raw = Some(batch.data.slice(from..from + len));
            } else {
                cursor.raw = None;
                // The buffer only grows, and is not cleared: zeroing every block cost a fifth
                // of decompressing it.
                if cursor.block.len() < len {
                    cursor.block.resize(len, 0);
                }
                match lz4_flex::block::decompress_into(bytes, &mut cursor.block[..len]) {
                    Ok(n) if n == len => {}
                    Ok(n) => {
                        return Err(batch.corrupt(format!(
                            "block {block} holds {n} bytes, its table says {len}"
                        )))
                    }
                    Err(e) => return Err(batch.corrupt(format!("block {block}: {e}"))),
                }
                cursor.len = len;
            }
            cursor.at = Some((n, block));
        }
        let block_bytes = match &cursor.raw {
            Some(raw) => raw.as_slice(),
            None => &cursor.block[..cursor.len],
        };
        let Some(bytes) = block_bytes.get(start as usize..end as usize) else {
            return Err(batch.corrupt(format!("entry {entry} lies outside its block")));
        };
        let Some((path, text)) = bytes.split_first_chunk::<4>().and_then(|(len, rest)| {
            let len = u32::from_le_bytes(*len) as usize;
            (len <= rest.len()).then(|| rest.split_at(len))
        }) else {
            return Err(batch.corrupt(format!("entry {entry} is cut short")));
        };
        // Every text is validated as it is read (a damaged store must not hand out invalid
        // `str`s), and for a query that reads many files that is a large share of the time:
        // simdutf8 checks 32 bytes a step where `std` checks a word.
        match (
            simdutf8::basic::from_utf8(path),
            simdutf8::basic::from_utf8(text),
        ) {
            (Ok(path), Ok(text)) => Ok((path, text)),
            _ => Err(batch.corrupt(format!("entry {entry} is not UTF-8"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, batch: u32, files: &[(&str, String)]) -> Vec<u64> {
        // Odd batches raw, even ones lz4: a store may hold both.
        let compression = match batch % 2 {
            0 => TextCompression::Lz4,
            _ => TextCompression::None,
        };
        let mut w =
            TextWriter::create(&dir.join(batch_file_name(batch)), batch, compression).unwrap();
        let mut scanner = crate::tokenizer::TrigramScanner::default();
        let (mut scan_words, mut words) = (
            crate::word_index::WordScanner::default(),
            WordWriter::default(),
        );
        let addrs = files
            .iter()
            .map(|(p, t)| {
                words.add(&scan_words.scan(t));
                w.append(p, t, scanner.scan(t)).unwrap()
            })
            .collect();
        assert_eq!(w.finish(words).unwrap().0, files.len());
        addrs
    }

    fn open(dir: &Path) -> Result<TextStore, EngineError> {
        TextStore::open(dir)
    }

    #[test]
    fn every_text_reads_back_in_any_order_across_batches() {
        let tmp = tempfile::tempdir().unwrap();
        // Small files sharing blocks, a file larger than a block, an empty one, non-ASCII.
        let mut files: Vec<(String, String)> = (0..300)
            .map(|i| {
                (
                    format!("src/f{i}.rs"),
                    format!("fn f{i}() {{ {} }}\n", "x".repeat(i)),
                )
            })
            .collect();
        files.insert(7, ("big.rs".into(), "y".repeat(3 * BLOCK_BYTES + 5)));
        files.insert(9, ("empty.rs".into(), String::new()));
        files.insert(11, ("ünï/cødé.rs".into(), "变量 = 42; // 🦀".into()));
        // Text that lz4 does not shrink, in a compressed batch: its block is stored raw.
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let noise: String = (0..2 * BLOCK_BYTES)
            .map(|_| {
                // xorshift64: no repeats for lz4 to find.
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                char::from(b'!' + (x % 90) as u8)
            })
            .collect();
        // The first entry of batch 12 below: a block of its own.
        files.insert(150, ("noise.bin.rs".into(), noise));
        let files: Vec<(&str, String)> =
            files.iter().map(|(p, t)| (p.as_str(), t.clone())).collect();
        let a = write(tmp.path(), 3, &files[..150]);
        let b = write(tmp.path(), 12, &files[150..]);
        let addrs: Vec<u64> = a.into_iter().chain(b).collect();
        // The noise's block in the lz4 batch is raw; the others there are compressed.
        let b12 = std::fs::read(tmp.path().join(batch_file_name(12))).unwrap();
        let f = b12.len() - FOOTER;
        let (blocks, tables) = (u32_at(&b12, f), u64_at(&b12, f + 8) as usize);
        let raw = (0..blocks as usize)
            .filter(|k| {
                let row = tables + k * BLOCK_ROW;
                u32_at(&b12, row + 8) == u32_at(&b12, row + 12)
            })
            .count();
        assert_eq!(
            (raw > 0, raw < blocks as usize),
            (true, true),
            "{raw} of {blocks}"
        );
        let store = open(tmp.path()).unwrap();
        let mut batches: Vec<_> = store.batches().collect();
        batches.sort();
        assert_eq!(batches, [(3, 150), (12, files.len() as u32 - 150)]);
        let mut cursor = Cursor::default();
        // Forwards, backwards and strided: the cursor's block is only reused when it is the one.
        let order = (0..files.len())
            .chain((0..files.len()).rev())
            .chain((0..files.len()).step_by(7));
        for i in order {
            let (path, text) = store.read(addrs[i], &mut cursor).unwrap();
            assert_eq!((path, text), (files[i].0, files[i].1.as_str()), "entry {i}");
        }
    }

    #[test]
    fn damage_is_an_error_naming_the_batch_never_a_panic() {
        // Batch 1 is raw, batch 2 lz4 (`write`).
        for batch in [1, 2] {
            let tmp = tempfile::tempdir().unwrap();
            let files: Vec<(&str, String)> = (0..40)
                .map(|i| ("a.rs", format!("text {i} ").repeat(200)))
                .collect();
            let addrs = write(tmp.path(), batch, &files);
            let name = batch_file_name(batch);
            let file = tmp.path().join(&name);
            let good = std::fs::read(&file).unwrap();
            // Single-byte changes and truncations all through the file: an error naming the
            // batch or the right text, never a panic.
            for at in (0..good.len())
                .step_by(97)
                .chain([good.len() - 1, good.len() - 20])
            {
                for damaged in [
                    {
                        let mut d = good.clone();
                        d[at] ^= 0x5a;
                        d
                    },
                    good[..at].to_vec(),
                ] {
                    std::fs::write(&file, &damaged).unwrap();
                    let Ok(store) = open(tmp.path()) else {
                        continue;
                    };
                    let mut cursor = Cursor::default();
                    for (i, &addr) in addrs.iter().enumerate() {
                        match store.read(addr, &mut cursor) {
                            Ok((p, t)) if (p, t) == (files[i].0, files[i].1.as_str()) => {}
                            Ok(_) => {} // a changed byte inside a text: checksums find that
                            Err(e) => assert!(e.to_string().contains(&name), "{e}"),
                        }
                    }
                }
            }
            std::fs::write(&file, MAGIC).unwrap();
            let err = open(tmp.path()).err().expect("a short file is refused");
            assert!(err.to_string().contains("not a text batch"), "{err}");
            // An address into a batch that is not there.
            std::fs::write(&file, &good).unwrap();
            let store = open(tmp.path()).unwrap();
            let err = store
                .read(address(batch + 1, 0), &mut Cursor::default())
                .unwrap_err();
            assert!(err.to_string().contains("missing"), "{err}");
        }
    }

    #[test]
    fn file_names_and_addresses_round_trip() {
        assert_eq!(batch_file_name(7), "texts-000007.vtx");
        assert_eq!(batch_of_file_name("texts-000007.vtx"), Some(7));
        assert_eq!(batch_of_file_name("texts-.vtx"), None);
        assert_eq!(batch_of_file_name("texts-00x.vtx"), None);
        assert_eq!(split(address(u32::MAX, 5)), (u32::MAX, 5));
    }
}
