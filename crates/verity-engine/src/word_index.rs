//! The word index: for every word token, which texts of a batch hold it, how often, and at
//! which word positions.
//!
//! Phrases and proximity queries are narrowed by their words at their word offsets, one-word
//! literals, phrases, wildcards and `NEAR` pairs are answered from it for certain
//! (`crate::certain`), and BM25 ranks by it. Its words are the text's word tokens as they are,
//! numbered by words (`crate::tokenizer`): symbols are more than half of the tokens of code and
//! say little on their own, so they are left to the verifier.
//!
//! Until index format 8 this was tantivy's positional `code` field. Building it was about two
//! thirds of a build's CPU (on 273 MiB of real code, 5.8 of 8.5 s; `cindex` took 3.5 s for
//! everything, issue #14): tantivy looks every token occurrence up in one table per segment,
//! shared by every term, copying its text on the way. Here a text's words are grouped in a
//! small table of its own while the files are read in parallel, so the batch's dictionary is
//! looked up once per distinct word of a text, not once per occurrence, with the word's hash
//! computed already; and like the trigram index (`crate::trigram_index`) the postings are
//! keyed by the stable entry of a text in its batch of the text store, written with the texts,
//! linked and removed with them.
//!
//! Layout of a batch's word section (integers little-endian, varints LEB128):
//!
//! ```text
//! postings    per word, in word order: the byte length of its entry list, the entry list
//!             (the entries holding it, ascending, as deltas: the first entry itself), then
//!             per entry of the list: the word's frequency tf in the text, the byte length of
//!             its positions, its tf positions as deltas (the first position itself). The
//!             entries alone are what a word's candidates need, so they come first.
//! words       the words' bytes, in byte order, one after the other
//! norms       per entry: its number of indexed words (BM25's document length) as a one-byte
//!             fieldnorm code u8, tantivy's and Lucene's, which is how BM25 reads it
//! word table  per word: end of its bytes in `words` u32, end of its postings u64, the number
//!             of entries holding it u32
//! tail        postings' length u64, words' length u64, words u32, entries u32,
//!             indexed words of all entries u64
//! ```

use std::hash::BuildHasher;
use std::io::{self, Write};
use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use hashbrown::HashTable;
use rayon::slice::ParallelSliceMut;
use regex_automata::{hybrid, Anchored, Input, MatchKind};
use smallvec::SmallVec;
use tantivy::directory::OwnedBytes;
use tantivy::fieldnorm::FieldNormReader;
use tantivy::query::{Bm25Weight, EnableScoring, Query as TQuery, Weight};
use tantivy::{DocAddress, Score, Searcher, TantivyError};

use crate::entry_set::{bitmap_words, entries_of, EntrySetWeight, EntrySets};
use crate::tokenizer::{word_spans, MAX_INDEXED_TOKEN_BYTES};
use crate::trigram_index::{for_each_entry, push_varint, read_varint, u32_at, u64_at};

const ROW: usize = 16;
const TAIL: usize = 8 + 8 + 4 + 4 + 8;

/// The hash of a word: one hasher, so a text's groups carry the hash its batch's dictionary
/// looks the word up with.
fn word_hash(word: &[u8]) -> u64 {
    foldhash::fast::FixedState::with_seed(0x05ee_d0f3_071d).hash_one(word)
}

/// Are two words the same? Most words are short, and `==` on slices calls `memcmp`; the
/// words compared here have the same hash already, so they are nearly always equal.
#[inline(always)]
fn same_word(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    let u64_at = |s: &[u8], i: usize| u64::from_le_bytes(s[i..i + 8].try_into().expect("8 bytes"));
    let u32_at = |s: &[u8], i: usize| u32::from_le_bytes(s[i..i + 4].try_into().expect("4 bytes"));
    match n {
        // Two overlapping loads from each end cover every byte.
        8..=16 => u64_at(a, 0) == u64_at(b, 0) && u64_at(a, n - 8) == u64_at(b, n - 8),
        4..=7 => u32_at(a, 0) == u32_at(b, 0) && u32_at(a, n - 4) == u32_at(b, n - 4),
        0..=3 => a.iter().zip(b).all(|(x, y)| x == y),
        _ => a == b,
    }
}

/// One distinct word of a text.
#[derive(Clone, Copy, Debug)]
struct Group {
    /// Its bytes in [`FileWords::bytes`] (while scanning: its first occurrence's in the text).
    start: u32,
    end: u32,
    hash: u64,
    /// Occurrences.
    tf: u32,
    /// Where its posting's payload starts in [`FileWords::payload`] (0 until the scan
    /// encodes it); it ends where the next group's starts.
    at: u32,
}

/// The indexed words of one text, grouped: each distinct word once, with its posting's
/// payload as the word section stores it. It holds its words' bytes, so it is written
/// without the text.
#[derive(Debug, Default)]
pub(crate) struct FileWords {
    /// Indexed words (occurrences): the text's length for BM25.
    len: u32,
    groups: Vec<Group>,
    /// Per group, one after the other: tf, the byte length of its positions, its positions
    /// as deltas (the first position itself). Encoded here, by the threads that read the
    /// files, rather than by the batch's one word writer.
    payload: Vec<u8>,
    /// The distinct words, one after the other.
    bytes: Vec<u8>,
}

impl FileWords {
    /// The payload of group `i`.
    fn payload(&self, i: usize) -> &[u8] {
        let end = self
            .groups
            .get(i + 1)
            .map_or(self.payload.len(), |g| g.at as usize);
        &self.payload[self.groups[i].at as usize..end]
    }
}

/// Groups the words of texts; kept per thread, so its tables are reused.
#[derive(Default)]
pub(crate) struct WordScanner {
    table: HashTable<u32>,
    /// (group, position) of every indexed occurrence, in text order.
    occurrences: Vec<(u32, u32)>,
    /// The occurrences' positions by group; where each group's next one goes.
    positions: Vec<u32>,
    next: Vec<u32>,
    /// One group's positions, encoded.
    scratch: Vec<u8>,
}

impl WordScanner {
    /// The indexed words of `text`: its word tokens of at most [`MAX_INDEXED_TOKEN_BYTES`],
    /// each at its position among *all* word tokens (over-long ones are counted, not kept).
    pub fn scan(&mut self, text: &str) -> FileWords {
        self.table.clear();
        self.occurrences.clear();
        let (table, occurrences) = (&mut self.table, &mut self.occurrences);
        let bytes = text.as_bytes();
        let mut groups: Vec<Group> = Vec::new();
        let mut position: u32 = 0;
        for (start, end) in word_spans(text) {
            let pos = position;
            position = position.saturating_add(1);
            if end - start > MAX_INDEXED_TOKEN_BYTES {
                continue;
            }
            let word = &bytes[start..end];
            let hash = word_hash(word);
            let g = match table.entry(
                hash,
                |&g| {
                    let g = &groups[g as usize];
                    same_word(&bytes[g.start as usize..g.end as usize], word)
                },
                |&g| groups[g as usize].hash,
            ) {
                hashbrown::hash_table::Entry::Occupied(o) => *o.get(),
                hashbrown::hash_table::Entry::Vacant(v) => {
                    let g = groups.len() as u32;
                    v.insert(g);
                    groups.push(Group {
                        start: start as u32,
                        end: end as u32,
                        hash,
                        tf: 0,
                        at: 0,
                    });
                    g
                }
            };
            groups[g as usize].tf += 1;
            occurrences.push((g, pos));
        }
        // Each group's positions together, in text order: a counting sort by group.
        let (positions, next) = (&mut self.positions, &mut self.next);
        positions.clear();
        positions.resize(occurrences.len(), 0);
        next.clear();
        let mut at = 0;
        for g in &groups {
            next.push(at);
            at += g.tf;
        }
        for &(g, pos) in occurrences.iter() {
            positions[next[g as usize] as usize] = pos;
            next[g as usize] += 1;
        }
        // Each group's word is copied out of the text, and its payload encoded.
        let mut words = Vec::with_capacity(groups.len() * 8);
        let mut payload = Vec::with_capacity(groups.len() * 3 + occurrences.len() * 2);
        let scratch = &mut self.scratch;
        let mut first = 0;
        for g in &mut groups {
            let start = words.len() as u32;
            words.extend_from_slice(&bytes[g.start as usize..g.end as usize]);
            (g.start, g.end) = (start, words.len() as u32);
            scratch.clear();
            let mut last = 0;
            for &p in &positions[first..first + g.tf as usize] {
                push_varint(scratch, p - last);
                last = p;
            }
            first += g.tf as usize;
            g.at = payload.len() as u32;
            push_varint(&mut payload, g.tf);
            push_varint(&mut payload, scratch.len() as u32);
            payload.extend_from_slice(scratch);
        }
        FileWords {
            len: occurrences.len() as u32,
            groups,
            payload,
            bytes: words,
        }
    }
}

/// One word's postings while a batch is written.
struct List {
    /// Its bytes in [`WordWriter::arena`].
    /// (`usize`: a batch's distinct words may pass 4 GiB, which its word table cannot hold:
    /// [`WordWriter::write`] says so rather than offsets wrapping here.)
    word: Range<usize>,
    hash: u64,
    last: u32,
    entries: u32,
    /// The entries' deltas.
    deltas: SmallVec<[u8; 16]>,
    /// Per entry: tf, positions' byte length, positions.
    payload: SmallVec<[u8; 16]>,
}

/// Collects the postings of one batch, text after text, and writes its word section.
///
/// It numbers the texts it is given 0, 1, 2, … like the text store numbers its entries, so
/// it can be given the same texts in the same order on a thread of its own; the text store
/// checks that both counted the same ([`crate::text_store::TextWriter::finish`]).
#[derive(Default)]
pub(crate) struct WordWriter {
    /// Each word's list, by hash.
    ids: HashTable<u32>,
    lists: Vec<List>,
    /// Each list's word's first 16 bytes, big-endian, zero-padded: its sort key.
    heads: Vec<[u64; 2]>,
    /// Every word's bytes.
    arena: Vec<u8>,
    /// Each entry's number of indexed words; every entry is added.
    lengths: Vec<u32>,
    tokens: u64,
    /// The lists in word order, once [`WordWriter::sort`] has run.
    order: Option<Vec<u32>>,
}

impl WordWriter {
    /// The number of entries added.
    pub fn entries(&self) -> usize {
        self.lengths.len()
    }

    /// Records the words of the next entry ([`WordScanner::scan`] of its text).
    pub fn add(&mut self, words: &FileWords) {
        let entry = self.lengths.len() as u32;
        self.order = None;
        self.lengths.push(words.len);
        self.tokens += u64::from(words.len);
        let bytes = words.bytes.as_slice();
        let (ids, lists, heads, arena) = (
            &mut self.ids,
            &mut self.lists,
            &mut self.heads,
            &mut self.arena,
        );
        for (i, g) in words.groups.iter().enumerate() {
            let word = &bytes[g.start as usize..g.end as usize];
            let id = match ids.entry(
                g.hash,
                |&id| {
                    let w = &lists[id as usize].word;
                    same_word(&arena[w.clone()], word)
                },
                |&id| lists[id as usize].hash,
            ) {
                hashbrown::hash_table::Entry::Occupied(o) => *o.get(),
                hashbrown::hash_table::Entry::Vacant(v) => {
                    let id = lists.len() as u32;
                    v.insert(id);
                    let start = arena.len();
                    arena.extend_from_slice(word);
                    let mut head = [0u8; 16];
                    let n = word.len().min(16);
                    head[..n].copy_from_slice(&word[..n]);
                    let (a, b) = head.split_at(8);
                    heads.push([a, b].map(|h| u64::from_be_bytes(h.try_into().expect("8 bytes"))));
                    lists.push(List {
                        word: start..arena.len(),
                        hash: g.hash,
                        last: 0,
                        entries: 0,
                        deltas: SmallVec::new(),
                        payload: SmallVec::new(),
                    });
                    id
                }
            };
            let list = &mut lists[id as usize];
            let delta = if list.entries == 0 {
                entry
            } else {
                entry - list.last
            };
            push_varint(&mut list.deltas, delta);
            list.payload.extend_from_slice(words.payload(i));
            list.last = entry;
            list.entries += 1;
        }
    }

    /// Puts the words in order for [`WordWriter::write`]: done ahead, on the thread that
    /// added them, it is not part of the batch's finish.
    pub fn sort(&mut self) {
        let (lists, arena) = (&self.lists, &self.arena);
        let word = |i: u32| &arena[lists[i as usize].word.clone()];
        // Sorted by the words' bytes; their first sixteen bytes, in order, decide every
        // comparison but those of longer words with the same head, without reading the
        // lists (no word holds a zero byte, so a shorter word padded with zeros sorts
        // first, as it should).
        let mut order: Vec<(u64, u64, u32)> = self
            .heads
            .iter()
            .enumerate()
            .map(|(i, &[a, b])| (a, b, i as u32))
            .collect();
        // On the threads that read the files: this runs after the last of them is read.
        order.par_sort_unstable_by(|a, b| {
            (a.0, a.1)
                .cmp(&(b.0, b.1))
                .then_with(|| word(a.2).cmp(word(b.2)))
        });
        self.order = Some(order.into_iter().map(|(_, _, i)| i).collect());
    }

    /// Writes the section for the entries added; returns its length in bytes.
    ///
    /// The postings are gathered from the lists (a cache miss or more per word: the lists
    /// are spread over the heap in the order words were first seen) on a thread of their
    /// own, a megabyte at a time, while this one writes what was gathered: the two
    /// halves of the work overlap at the end of a build, when nothing else runs.
    pub fn write(self, out: &mut impl Write) -> io::Result<u64> {
        self.write_in_parts(out, 1 << 20)
    }

    /// [`WordWriter::write`], its postings gathered `part` bytes (and a list) at a time.
    fn write_in_parts(mut self, out: &mut impl Write, part_bytes: usize) -> io::Result<u64> {
        if self.order.is_none() {
            self.sort();
        }
        let WordWriter {
            lists,
            arena,
            lengths,
            tokens,
            order,
            ..
        } = self;
        let order = order.unwrap_or_default();
        let word = |l: &List| &arena[l.word.clone()];
        let capacity = part_bytes.min(1 << 20) + 1024;
        let (parts, gathered) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
        // Written parts come back to be filled again: a few buffers that stay in the cache
        // instead of fresh memory for every part.
        let (written_back, empty) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let (mut rows, postings_end, words_end) = std::thread::scope(|scope| {
            let gathering = scope.spawn(|| {
                // Moved in, so the channel closes when this returns, early or not.
                let (parts, empty) = (parts, empty);
                let mut rows = Vec::with_capacity(order.len() * ROW + TAIL);
                let (mut postings_end, mut words_end) = (0u64, 0u64);
                let mut part = Vec::with_capacity(capacity);
                for &i in &order {
                    let l = &lists[i as usize];
                    let start = part.len();
                    push_varint(&mut part, l.deltas.len() as u32);
                    part.extend_from_slice(&l.deltas);
                    part.extend_from_slice(&l.payload);
                    postings_end += (part.len() - start) as u64;
                    words_end += word(l).len() as u64;
                    let end = u32::try_from(words_end).map_err(|_| {
                        io::Error::new(io::ErrorKind::InvalidInput, "too many words for a batch")
                    })?;
                    rows.extend_from_slice(&end.to_le_bytes());
                    rows.extend_from_slice(&postings_end.to_le_bytes());
                    rows.extend_from_slice(&l.entries.to_le_bytes());
                    if part.len() >= part_bytes {
                        let mut next = empty
                            .try_recv()
                            .unwrap_or_else(|_| Vec::with_capacity(capacity));
                        next.clear();
                        let full = std::mem::replace(&mut part, next);
                        if parts.send(full).is_err() {
                            // The writer stopped on an error, which it returns.
                            break;
                        }
                    }
                }
                // Sent even when empty: the writer's loop ends when the channel closes.
                let _ = parts.send(part);
                io::Result::Ok((rows, postings_end, words_end))
            });
            let mut written = Ok(());
            for part in gathered.iter() {
                if let Err(e) = out.write_all(&part) {
                    written = Err(e);
                    break;
                }
                let _ = written_back.try_send(part);
            }
            // Dropped before the join: a gatherer blocked on a full channel sees it closed.
            drop(gathered);
            let result = match gathering.join() {
                Ok(result) => result,
                Err(panic) => std::panic::resume_unwind(panic),
            };
            written.and(result)
        })?;
        for &i in &order {
            out.write_all(word(&lists[i as usize]))?;
        }
        // Coded here once, not at every posting a query scores (the code is a binary search
        // over tantivy's 256 lengths).
        let table: Vec<u8> = lengths
            .iter()
            .map(|&n| FieldNormReader::fieldnorm_to_id(n))
            .collect();
        out.write_all(&table)?;
        rows.extend_from_slice(&postings_end.to_le_bytes());
        rows.extend_from_slice(&words_end.to_le_bytes());
        rows.extend_from_slice(&(order.len() as u32).to_le_bytes());
        rows.extend_from_slice(&(lengths.len() as u32).to_le_bytes());
        rows.extend_from_slice(&tokens.to_le_bytes());
        out.write_all(&rows)?;
        Ok(postings_end + words_end + table.len() as u64 + rows.len() as u64)
    }
}

/// One posting: an entry holding a word, how often, and its positions' bytes.
struct Posting<'a> {
    entry: u32,
    tf: u32,
    positions: &'a [u8],
}

/// Reads a word's postings, one after the other.
struct Postings<'a> {
    /// The entries' deltas not read yet.
    entries: &'a [u8],
    /// Their tf and positions.
    bytes: &'a [u8],
    last: Option<u32>,
}

impl<'a> Postings<'a> {
    /// A word's postings: its entry list, then the rest.
    fn new(mut bytes: &'a [u8]) -> Result<Self, ()> {
        let n = read_varint(&mut bytes).ok_or(())? as usize;
        if n > bytes.len() {
            return Err(());
        }
        let (entries, bytes) = bytes.split_at(n);
        Ok(Postings {
            entries,
            bytes,
            last: None,
        })
    }

    /// The next posting; `Ok(None)` at the end, `Err` where the bytes are damaged.
    fn next(&mut self) -> Result<Option<Posting<'a>>, ()> {
        if self.entries.is_empty() {
            return if self.bytes.is_empty() {
                Ok(None)
            } else {
                Err(())
            };
        }
        let delta = read_varint(&mut self.entries).ok_or(())?;
        let entry = match self.last {
            None => delta,
            Some(l) if delta > 0 => l.checked_add(delta).ok_or(())?,
            Some(_) => return Err(()),
        };
        let b = &mut self.bytes;
        let tf = read_varint(b).ok_or(())?;
        let n = read_varint(b).ok_or(())? as usize;
        if tf == 0 || n > b.len() {
            return Err(());
        }
        let (positions, rest) = b.split_at(n);
        *b = rest;
        self.last = Some(entry);
        Ok(Some(Posting {
            entry,
            tf,
            positions,
        }))
    }
}

/// Decodes a posting's positions into `out` (cleared first).
fn decode_positions(p: &Posting<'_>, out: &mut Vec<u32>) -> Result<(), ()> {
    out.clear();
    let mut bytes = p.positions;
    let mut last = 0u32;
    for i in 0..p.tf {
        let d = read_varint(&mut bytes).ok_or(())?;
        if i > 0 && d == 0 {
            return Err(());
        }
        last = last.checked_add(d).ok_or(())?;
        out.push(last);
    }
    if bytes.is_empty() {
        Ok(())
    } else {
        Err(())
    }
}

/// The word section of one batch, open for reading.
#[derive(Clone)]
pub(crate) struct WordSection {
    /// The batch file, for errors.
    path: PathBuf,
    data: OwnedBytes,
    /// Where the postings end and the words begin.
    words_at: usize,
    norms_at: usize,
    rows_at: usize,
    count: usize,
    entries: u32,
    tokens: u64,
}

impl WordSection {
    /// Checks the frame of a section: parts that fill it exactly, for the batch's `entries`.
    pub fn open(path: PathBuf, data: OwnedBytes, entries: u32) -> Result<Self, String> {
        let b = data.as_slice();
        let Some(tail) = b.len().checked_sub(TAIL) else {
            return Err("the word section is cut short".into());
        };
        let (postings_len, words_len) = (u64_at(b, tail), u64_at(b, tail + 8));
        let (count, own_entries) = (u32_at(b, tail + 16), u32_at(b, tail + 20));
        let tokens = u64_at(b, tail + 24);
        let total = u128::from(postings_len)
            + u128::from(words_len)
            + u128::from(own_entries)
            + u128::from(count) * ROW as u128;
        if total != tail as u128 || own_entries != entries {
            return Err("the word section's parts do not fit it".into());
        }
        let words_at = postings_len as usize;
        let norms_at = words_at + words_len as usize;
        Ok(WordSection {
            path,
            words_at,
            norms_at,
            rows_at: norms_at + entries as usize,
            count: count as usize,
            entries,
            tokens,
            data,
        })
    }

    fn corrupt(&self, detail: &str) -> TantivyError {
        TantivyError::DataCorruption(tantivy::error::DataCorruption::new(
            self.path.clone(),
            format!("word index: {detail}"),
        ))
    }

    /// Row `i`: end of its word, end of its postings, entries.
    fn row(&self, i: usize) -> (usize, u64, u32) {
        let (b, at) = (self.data.as_slice(), self.rows_at + i * ROW);
        (
            u32_at(b, at) as usize,
            u64_at(b, at + 4),
            u32_at(b, at + 12),
        )
    }

    /// Word `i`'s bytes.
    fn word(&self, i: usize) -> tantivy::Result<&[u8]> {
        let start = if i == 0 { 0 } else { self.row(i - 1).0 };
        let end = self.row(i).0;
        self.data.as_slice()[self.words_at..self.norms_at]
            .get(start..end)
            .ok_or_else(|| self.corrupt("a word is out of place"))
    }

    /// Word `i`'s postings.
    fn postings(&self, i: usize) -> tantivy::Result<Postings<'_>> {
        let start = if i == 0 { 0 } else { self.row(i - 1).1 };
        let end = self.row(i).1;
        let bytes = usize::try_from(start)
            .ok()
            .zip(usize::try_from(end).ok())
            .and_then(|(s, e)| self.data.as_slice()[..self.words_at].get(s..e))
            .ok_or_else(|| self.corrupt("a word's postings are out of place"))?;
        Postings::new(bytes).map_err(|()| self.damaged())
    }

    /// The row of `word`, if a text of the batch holds it.
    fn find(&self, word: &[u8]) -> tantivy::Result<Option<usize>> {
        let (mut lo, mut hi) = (0, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.word(mid)?.cmp(word) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => return Ok(Some(mid)),
            }
        }
        Ok(None)
    }

    /// The rows of the words starting with `prefix`.
    fn with_prefix(&self, prefix: &[u8]) -> tantivy::Result<Range<usize>> {
        let first = |after: bool| -> tantivy::Result<usize> {
            let (mut lo, mut hi) = (0, self.count);
            while lo < hi {
                let mid = lo + (hi - lo) / 2;
                let w = self.word(mid)?;
                let below = if after {
                    w.starts_with(prefix) || w < prefix
                } else {
                    w < prefix
                };
                if below {
                    lo = mid + 1;
                } else {
                    hi = mid;
                }
            }
            Ok(lo)
        };
        Ok(first(false)?..first(true)?)
    }

    /// Entry `entry`'s number of indexed words, as its fieldnorm code.
    fn norm(&self, entry: u32) -> tantivy::Result<u8> {
        if entry >= self.entries {
            return Err(self.corrupt(&format!("entry {entry} is past the batch's end")));
        }
        Ok(self.data.as_slice()[self.norms_at + entry as usize])
    }

    /// The number of texts holding `word`.
    /// The number of texts holding word `i`.
    fn doc_freq(&self, i: usize) -> tantivy::Result<u32> {
        match self.row(i).2 {
            n if n > self.entries => Err(self.damaged()),
            n => Ok(n),
        }
    }

    fn damaged(&self) -> TantivyError {
        self.corrupt("a word's postings are damaged")
    }

    /// Sets the bit of every entry holding word `i`: its entry list alone is read.
    fn mark(&self, i: usize, bits: &mut [u64]) -> tantivy::Result<()> {
        let entries = self.postings(i)?.entries;
        let mut beyond = false;
        let read = for_each_entry(entries, |e| match bits.get_mut(e as usize / 64) {
            Some(w) => *w |= 1 << (e % 64),
            None => beyond = true,
        });
        if read.is_none() || beyond {
            return Err(self.damaged());
        }
        Ok(())
    }

    /// The positions of word `i` in each entry of `only`, in entry order: (entry, range of
    /// `positions`).
    fn positions_in(
        &self,
        i: usize,
        only: &[u64],
        positions: &mut Vec<u32>,
    ) -> tantivy::Result<Vec<(u32, Range<usize>)>> {
        let mut out = Vec::new();
        let mut scratch = Vec::new();
        let mut p = self.postings(i)?;
        while let Some(posting) = p.next().map_err(|()| self.damaged())? {
            let e = posting.entry;
            if only
                .get(e as usize / 64)
                .is_some_and(|w| w & (1 << (e % 64)) != 0)
            {
                decode_positions(&posting, &mut scratch).map_err(|()| self.damaged())?;
                let start = positions.len();
                positions.extend_from_slice(&scratch);
                out.push((e, start..positions.len()));
            }
        }
        Ok(out)
    }
}

/// Which texts a [`WordQuery`] admits.
#[derive(Clone, Debug)]
enum WordMatch {
    /// Texts holding the word.
    Word(String),
    /// Texts holding every word at its offset from a common position.
    Phrase(Vec<(u32, String)>),
    /// Texts with word `a` at p and word `b` at q, q − p in one of the ranges (inclusive).
    Pair {
        a: String,
        b: String,
        ranges: Vec<(i64, i64)>,
    },
    /// Texts holding a word the automaton matches whole; every match starts with `prefix`.
    Pattern {
        prefix: String,
        automaton: Arc<WordAutomaton>,
    },
}

/// A wildcard piece's automaton, matched against whole words: a lazy DFA, whose states are
/// built as the words walked need them (a full DFA for `.` over Unicode took milliseconds to
/// build, more than the walk), and the same pattern as a regex for the words the lazy DFA
/// could not decide (it can return an error rather than an answer).
#[derive(Debug)]
struct WordAutomaton {
    dfa: hybrid::dfa::DFA,
    whole: regex::bytes::Regex,
}

impl WordAutomaton {
    fn new(pattern: &str) -> Option<Self> {
        let dfa = hybrid::dfa::DFA::builder()
            .configure(
                hybrid::dfa::Config::new()
                    // Every match, not the leftmost-first one: a word matches when some
                    // match ends at its end.
                    .match_kind(MatchKind::All),
            )
            .build(pattern)
            .ok()?;
        let whole = regex::bytes::Regex::new(&format!("^(?:{pattern})$")).ok()?;
        Some(WordAutomaton { dfa, whole })
    }

    /// Does the pattern match all of `word`?
    fn matches(&self, cache: &mut hybrid::dfa::Cache, word: &[u8]) -> bool {
        let mut walk = || -> Result<bool, ()> {
            let dfa = &self.dfa;
            let input = Input::new(word).anchored(Anchored::Yes);
            let mut state = dfa.start_state_forward(cache, &input).map_err(|_| ())?;
            for &b in word {
                state = dfa.next_state(cache, state, b).map_err(|_| ())?;
                if state.is_dead() {
                    return Ok(false);
                }
            }
            Ok(dfa.next_eoi_state(cache, state).map_err(|_| ())?.is_match())
        };
        walk().unwrap_or_else(|()| self.whole.is_match(word))
    }
}

/// The word sections of every batch of one generation.
pub(crate) struct WordIndex {
    /// By batch number.
    batches: Vec<(u32, WordSection)>,
}

impl std::fmt::Debug for WordIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WordIndex")
            .field("batches", &self.batches.len())
            .finish()
    }
}

impl WordIndex {
    pub fn new(mut batches: Vec<(u32, WordSection)>) -> Self {
        batches.sort_unstable_by_key(|(n, _)| *n);
        WordIndex { batches }
    }

    /// How many words the batches' dictionaries hold (a word of two batches counts twice).
    pub fn num_words(&self) -> usize {
        self.batches.iter().map(|(_, s)| s.count).sum()
    }

    /// The texts `m` admits, batch by batch.
    fn entries(&self, m: &WordMatch) -> tantivy::Result<EntrySets> {
        let mut by_batch = Vec::new();
        for (n, section) in &self.batches {
            let mut bits = vec![0u64; bitmap_words(section.entries)];
            if matches(section, m, &mut bits)? {
                by_batch.push((*n, bits));
            }
        }
        Ok(EntrySets::new(by_batch))
    }

    /// Scores `docs` (found by `searcher`) by BM25 of `words` (docs/query-language.md,
    /// section 6), in tantivy's arithmetic. N counts every entry of every batch, like
    /// tantivy's documents, deleted ones included until their batch is folded. Only the
    /// postings of `docs`' texts are scored: a plan's candidates are usually few.
    pub fn score(
        &self,
        searcher: &Searcher,
        words: &[String],
        docs: &mut [(DocAddress, Score)],
    ) -> tantivy::Result<()> {
        let entries = entries_of(searcher, docs.iter().map(|&(a, _)| a))?;
        // Per batch (by position in `self.batches`) with a candidate: which entries are
        // candidates, and their scores. Documents come in runs from one batch.
        let mut scores: Vec<Option<(Vec<u64>, Vec<Score>)>> = vec![None; self.batches.len()];
        let mut at: Vec<usize> = Vec::with_capacity(entries.len());
        let mut last: Option<(u32, usize)> = None;
        for &(batch, entry) in &entries {
            let i = match last {
                Some((b, i)) if b == batch => i,
                _ => {
                    let i = self
                        .batches
                        .binary_search_by_key(&batch, |(n, _)| *n)
                        .map_err(|_| {
                            TantivyError::DataCorruption(
                                tantivy::error::DataCorruption::comment_only(format!(
                                    "batch {batch} of the text store has no word index"
                                )),
                            )
                        })?;
                    last = Some((batch, i));
                    i
                }
            };
            at.push(i);
            let section = &self.batches[i].1;
            let (bits, _) = scores[i].get_or_insert_with(|| {
                (
                    vec![0; bitmap_words(section.entries)],
                    vec![0.0; section.entries as usize],
                )
            });
            let w = bits.get_mut(entry as usize / 64).ok_or_else(|| {
                section.corrupt(&format!("entry {entry} is past the batch's end"))
            })?;
            *w |= 1 << (entry % 64);
        }
        let docs_total: u64 = self.batches.iter().map(|(_, s)| u64::from(s.entries)).sum();
        let tokens: u64 = self.batches.iter().map(|(_, s)| s.tokens).sum();
        if docs_total == 0 {
            return Ok(());
        }
        let average = tokens as Score / docs_total as Score;
        for w in words {
            // The word's row in each batch, looked up once for its frequency and postings.
            let mut rows = Vec::with_capacity(self.batches.len());
            let mut df = 0u64;
            for (_, s) in &self.batches {
                let row = s.find(w.as_bytes())?;
                if let Some(i) = row {
                    df += u64::from(s.doc_freq(i)?);
                }
                rows.push(row);
            }
            if df == 0 {
                continue;
            }
            if tokens == 0 {
                // A text holds the word, so some text has a length: the counts are damaged.
                return Err(TantivyError::DataCorruption(
                    tantivy::error::DataCorruption::comment_only(format!(
                        "the word index counts no words, yet {df} texts hold {w:?}"
                    )),
                ));
            }
            let weight = Bm25Weight::for_one_term_without_explain(df, docs_total, average);
            for (((_, section), scores), row) in self.batches.iter().zip(&mut scores).zip(rows) {
                let (Some((bits, scores)), Some(i)) = (scores, row) else {
                    continue;
                };
                let mut p = section.postings(i)?;
                while let Some(posting) = p.next().map_err(|()| section.damaged())? {
                    let e = posting.entry as usize;
                    if bits.get(e / 64).is_none_or(|w| w & (1 << (e % 64)) == 0) {
                        continue;
                    }
                    let norm = section.norm(posting.entry)?;
                    scores[e] += weight.score(norm, posting.tf);
                }
            }
        }
        for (((_, score), (_, entry)), i) in docs.iter_mut().zip(entries).zip(at) {
            if let Some((_, s)) = &scores[i] {
                *score = s[entry as usize];
            }
        }
        Ok(())
    }
}

/// Sets the bits of the entries of `section` that `m` admits; whether there is one.
fn matches(section: &WordSection, m: &WordMatch, bits: &mut [u64]) -> tantivy::Result<bool> {
    match m {
        WordMatch::Word(w) => {
            let Some(i) = section.find(w.as_bytes())? else {
                return Ok(false);
            };
            section.mark(i, bits)?;
        }
        WordMatch::Pattern { prefix, automaton } => {
            let mut cache = automaton.dfa.create_cache();
            for i in section.with_prefix(prefix.as_bytes())? {
                if automaton.matches(&mut cache, section.word(i)?) {
                    section.mark(i, bits)?;
                }
            }
        }
        WordMatch::Phrase(words) => {
            let mut rows = Vec::with_capacity(words.len());
            for (offset, w) in words {
                let Some(i) = section.find(w.as_bytes())? else {
                    return Ok(false);
                };
                rows.push((*offset, i));
            }
            let rows: Vec<(i64, usize)> = rows
                .iter()
                .map(|&(o, i)| (i64::from(o) - i64::from(rows[0].0), i))
                .collect();
            positional(section, &rows, bits, |lists| {
                let (first, rest) = lists.split_first().expect("a phrase has words");
                first.1.iter().any(|&p| {
                    rest.iter().all(|&(off, ps)| {
                        u32::try_from(i64::from(p) + off)
                            .is_ok_and(|q| ps.binary_search(&q).is_ok())
                    })
                })
            })?;
        }
        WordMatch::Pair { a, b, ranges } => {
            let (Some(ia), Some(ib)) = (section.find(a.as_bytes())?, section.find(b.as_bytes())?)
            else {
                return Ok(false);
            };
            positional(section, &[(0, ia), (0, ib)], bits, |lists| {
                let (pa, pb) = (lists[0].1, lists[1].1);
                pa.iter().any(|&p| {
                    ranges.iter().any(|&(lo, hi)| {
                        let from = pb.partition_point(|&q| i64::from(q) < i64::from(p) + lo);
                        pb.get(from)
                            .is_some_and(|&q| i64::from(q) <= i64::from(p) + hi)
                    })
                })
            })?;
        }
    }
    Ok(bits.iter().any(|&w| w != 0))
}

/// Sets the bits of the entries holding every word of `rows` (offset, row) where `test` holds
/// of their (offset, positions in the entry), in the order of `rows`.
fn positional(
    section: &WordSection,
    rows: &[(i64, usize)],
    bits: &mut [u64],
    test: impl Fn(&[(i64, &[u32])]) -> bool,
) -> tantivy::Result<()> {
    // The entries holding every word first: positions are decoded for those only.
    let mut all: Option<Vec<u64>> = None;
    for &(_, i) in rows {
        let mut one = vec![0u64; bits.len()];
        section.mark(i, &mut one)?;
        match &mut all {
            None => all = Some(one),
            Some(a) => a.iter_mut().zip(&one).for_each(|(a, o)| *a &= o),
        }
    }
    let all = all.unwrap_or_default();
    if all.iter().all(|&w| w == 0) {
        return Ok(());
    }
    let mut positions = Vec::new();
    let mut lists = Vec::with_capacity(rows.len());
    for &(_, i) in rows {
        lists.push(section.positions_in(i, &all, &mut positions)?);
    }
    let mut view: Vec<(i64, &[u32])> = Vec::with_capacity(rows.len());
    for k in 0..lists[0].len() {
        view.clear();
        for (list, &(offset, _)) in lists.iter().zip(rows) {
            // Every list holds the same entries, in the same order.
            let (e, r) = list.get(k).ok_or_else(|| section.damaged())?;
            if *e != lists[0][k].0 {
                return Err(section.damaged());
            }
            view.push((offset, &positions[r.clone()]));
        }
        if test(&view) {
            let e = lists[0][k].0;
            bits[e as usize / 64] |= 1 << (e % 64);
        }
    }
    Ok(())
}

/// Does the automaton match all of `word`?
/// A tantivy query over the word index: the files holding a word, a phrase's words at their
/// offsets, two words at some distances, or a word a wildcard piece matches.
#[derive(Clone, Debug)]
pub(crate) struct WordQuery {
    index: Arc<WordIndex>,
    what: WordMatch,
}

impl WordQuery {
    /// The files holding `word`.
    pub fn word(index: Arc<WordIndex>, word: &str) -> Self {
        WordQuery {
            index,
            what: WordMatch::Word(word.to_owned()),
        }
    }

    /// The files holding each word at its offset (word positions) from the others'.
    pub fn phrase(index: Arc<WordIndex>, words: Vec<(u32, String)>) -> Self {
        debug_assert!(!words.is_empty());
        WordQuery {
            index,
            what: WordMatch::Phrase(words),
        }
    }

    /// The files with word `a` at some position p and word `b` at q, q − p in one of the
    /// inclusive `ranges` (for `a == b`, two occurrences: no range should hold 0).
    pub fn pair(index: Arc<WordIndex>, a: &str, b: &str, ranges: Vec<(i64, i64)>) -> Self {
        WordQuery {
            index,
            what: WordMatch::Pair {
                a: a.to_owned(),
                b: b.to_owned(),
                ranges,
            },
        }
    }

    /// The files holding a word `pattern` (a regex over one word, matched whole) matches;
    /// every match starts with `prefix`. `None` when the pattern is not a valid regex.
    pub fn pattern(index: Arc<WordIndex>, pattern: &str, prefix: &str) -> Option<Self> {
        Some(WordQuery {
            index,
            what: WordMatch::Pattern {
                prefix: prefix.to_owned(),
                automaton: Arc::new(WordAutomaton::new(pattern)?),
            },
        })
    }
}

impl TQuery for WordQuery {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(EntrySetWeight::new(
            self.index.entries(&self.what)?,
            "hold the words",
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::code_tokens;

    fn section(texts: &[&str]) -> WordSection {
        let mut w = WordWriter::default();
        let mut sc = WordScanner::default();
        for t in texts {
            w.add(&sc.scan(t));
        }
        let mut out = Vec::new();
        let n = w.write(&mut out).unwrap();
        assert_eq!(n as usize, out.len());
        WordSection::open("batch".into(), OwnedBytes::new(out), texts.len() as u32).unwrap()
    }

    #[test]
    fn a_section_is_the_same_whatever_its_parts() {
        let corpus = corpus();
        let write = |part_bytes| {
            let mut w = WordWriter::default();
            let mut sc = WordScanner::default();
            for t in &corpus {
                w.add(&sc.scan(t));
            }
            let mut out = Vec::new();
            let n = w.write_in_parts(&mut out, part_bytes).unwrap();
            assert_eq!(n as usize, out.len());
            out
        };
        let whole = write(usize::MAX);
        for part_bytes in [0, 1, 7, 64, 4096] {
            assert!(write(part_bytes) == whole, "parts of {part_bytes} bytes");
        }
    }

    /// The words of `text` at their word positions, by the plain definition.
    fn words_of(text: &str) -> Vec<(String, i64)> {
        code_tokens(text)
            .filter(|t| t.is_word)
            .enumerate()
            .filter(|(_, t)| t.text.len() <= MAX_INDEXED_TOKEN_BYTES)
            .map(|(i, t)| (t.text.to_owned(), i as i64))
            .collect()
    }

    fn answer(s: &WordSection, m: &WordMatch) -> Vec<u32> {
        let mut bits = vec![0u64; bitmap_words(s.entries)];
        matches(s, m, &mut bits).unwrap();
        (0..s.entries)
            .filter(|e| bits[*e as usize / 64] & (1 << (e % 64)) != 0)
            .collect()
    }

    fn brute(texts: &[&str], f: impl Fn(&[(String, i64)]) -> bool) -> Vec<u32> {
        (0..texts.len() as u32)
            .filter(|&i| f(&words_of(texts[i as usize])))
            .collect()
    }

    fn corpus() -> Vec<String> {
        (0..300)
            .map(|i| match i % 7 {
                0 => format!("fn zq{i}(&mut self) {{ self.café{} }}", i % 3),
                1 => format!("let x = lock().unwrap(); // {} {}", "w".repeat(300), i),
                2 => "unwrap lock a b c lock unwrap".to_owned(),
                3 => String::new(),
                _ => format!("fn f{i}() {{ self self }}"),
            })
            .collect()
    }

    #[test]
    fn words_phrases_pairs_and_patterns_answer_like_brute_force() {
        let owned = corpus();
        let texts: Vec<&str> = owned.iter().map(String::as_str).collect();
        let s = section(&texts);
        for w in ["self", "fn", "zq7", "café1", "unwrap", "nothing", "w"] {
            let expected = brute(&texts, |ws| ws.iter().any(|(x, _)| x == w));
            assert_eq!(answer(&s, &WordMatch::Word(w.into())), expected, "{w}");
        }
        for phrase in [
            vec![(0, "mut"), (1, "self")],
            vec![(0, "lock"), (1, "unwrap")],
            vec![(0, "unwrap"), (2, "a")],
            vec![(0, "self"), (1, "self")],
            vec![(3, "fn"), (4, "nothing")],
        ] {
            let expected = brute(&texts, |ws| {
                ws.iter().any(|(_, p)| {
                    phrase.iter().all(|(o, w)| {
                        ws.iter().any(|(x, q)| {
                            x == w && *q == p + i64::from(*o) - i64::from(phrase[0].0)
                        })
                    })
                })
            });
            let m = WordMatch::Phrase(phrase.iter().map(|(o, w)| (*o, w.to_string())).collect());
            assert_eq!(answer(&s, &m), expected, "{phrase:?}");
        }
        for (a, b, ranges) in [
            ("lock", "unwrap", vec![(1, 1)]),
            ("unwrap", "lock", vec![(-6, -5), (1, 1)]),
            ("self", "self", vec![(1, 1)]),
            ("lock", "lock", vec![(-10, -1), (1, 10)]),
            ("let", "unwrap", vec![(5, 5)]),
        ] {
            let expected = brute(&texts, |ws| {
                ws.iter().any(|(x, p)| {
                    x == a
                        && ws.iter().any(|(y, q)| {
                            y == b && ranges.iter().any(|&(lo, hi)| (lo..=hi).contains(&(q - p)))
                        })
                })
            });
            let m = WordMatch::Pair {
                a: a.into(),
                b: b.into(),
                ranges,
            };
            assert_eq!(answer(&s, &m), expected, "{a} {b}");
        }
        let index = Arc::new(WordIndex::new(vec![]));
        for (pattern, prefix, re) in [
            ("zq.*", "zq", "^zq.*$"),
            (".*1", "", "^.*1$"),
            ("caf.1", "caf", "^caf.1$"),
            ("f..", "f", "^f..$"),
        ] {
            let q = WordQuery::pattern(index.clone(), pattern, prefix).unwrap();
            let re = regex::Regex::new(re).unwrap();
            let expected = brute(&texts, |ws| ws.iter().any(|(x, _)| re.is_match(x)));
            assert_eq!(answer(&s, &q.what), expected, "{pattern}");
        }
    }

    /// The scanner's words at their positions, in text order.
    fn indexed(text: &str) -> Vec<(String, u32)> {
        let fw = WordScanner::default().scan(text);
        let mut out: Vec<(String, u32)> = Vec::new();
        for (i, g) in fw.groups.iter().enumerate() {
            let w = std::str::from_utf8(&fw.bytes[g.start as usize..g.end as usize]).unwrap();
            let mut payload = fw.payload(i);
            let tf = read_varint(&mut payload).unwrap();
            let len = read_varint(&mut payload).unwrap();
            assert_eq!((tf, len as usize), (g.tf, payload.len()), "{w}");
            let mut last = 0;
            for _ in 0..tf {
                last += read_varint(&mut payload).unwrap();
                out.push((w.to_owned(), last));
            }
            assert!(payload.is_empty());
        }
        out.sort_by_key(|&(_, p)| p);
        out
    }

    #[test]
    fn the_scanner_numbers_words_only() {
        let at = |t: &str, p: u32| (t.to_string(), p);
        assert_eq!(
            indexed("use std::fmt;"),
            [at("use", 0), at("std", 1), at("fmt", 2)]
        );
        assert_eq!(indexed("&mut self"), [at("mut", 0), at("self", 1)]);
        assert_eq!(
            indexed("a b a a"),
            [at("a", 0), at("b", 1), at("a", 2), at("a", 3)]
        );
        // An over-long word is not indexed, but it counts as a word.
        let long = "x".repeat(MAX_INDEXED_TOKEN_BYTES + 1);
        assert_eq!(indexed(&format!("a {long} b")), [at("a", 0), at("b", 2)]);
        assert!(indexed(":: -> {}").is_empty());
    }

    #[test]
    fn lengths_count_indexed_words_and_positions_count_every_word() {
        let long = "w".repeat(MAX_INDEXED_TOKEN_BYTES + 1);
        let text = format!("a {long} b :: a");
        let s = section(&[&text, ""]);
        // Lengths this small are their own codes.
        assert_eq!(s.norm(0).unwrap(), FieldNormReader::fieldnorm_to_id(3));
        assert_eq!(FieldNormReader::id_to_fieldnorm(s.norm(0).unwrap()), 3);
        assert_eq!(s.norm(1).unwrap(), 0);
        assert_eq!(s.tokens, 3);
        // `a` at 0, the long word at 1 (not kept), `b` at 2.
        let m = WordMatch::Pair {
            a: "a".into(),
            b: "b".into(),
            ranges: vec![(2, 2)],
        };
        assert_eq!(answer(&s, &m), vec![0]);
        assert!(s.norm(2).is_err());
    }

    #[test]
    fn damage_is_an_error_never_a_panic() {
        let owned = corpus();
        let texts: Vec<&str> = owned.iter().map(String::as_str).collect();
        let mut w = WordWriter::default();
        let mut sc = WordScanner::default();
        for t in &texts {
            w.add(&sc.scan(t));
        }
        let mut good = Vec::new();
        w.write(&mut good).unwrap();
        let queries = [
            WordMatch::Word("self".into()),
            WordMatch::Phrase(vec![(0, "lock".into()), (1, "unwrap".into())]),
            WordMatch::Pair {
                a: "self".into(),
                b: "self".into(),
                ranges: vec![(1, 3)],
            },
        ];
        for at in (0..good.len()).step_by(7) {
            for damaged in [
                {
                    let mut b = good.clone();
                    b[at] ^= 0x5a;
                    b
                },
                good[..at].to_vec(),
            ] {
                let Ok(s) = WordSection::open("b".into(), OwnedBytes::new(damaged), 300) else {
                    continue;
                };
                for q in &queries {
                    let mut bits = vec![0u64; bitmap_words(300)];
                    let _ = matches(&s, q, &mut bits);
                }
            }
        }
    }
}
