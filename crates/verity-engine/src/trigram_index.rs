//! The trigram index: for every folded trigram, which texts of a batch hold it.
//!
//! Literals, wildcards and regexes are narrowed to the files holding every trigram of a
//! literal their matches must contain ([`crate::plan`]); the candidates are then verified.
//! The trigram lists were a tantivy field until index format 7. tantivy's in-memory postings
//! writer hashes every (file, trigram) pair as a term into a table it shares with the code
//! field; building the cargo registry sources took 3.1 s of CPU for the trigram field alone and
//! about 3 s more for the two fields' sharing of the table, against 1.8 s for all of
//! `cindex` (issue #14). Here a trigram is an integer key ([`crate::tokenizer::trigram_key`]),
//! ASCII trigrams find their list by direct indexing, files' trigrams are found in parallel
//! before they are written, and the lists are keyed by the stable *entry* of a text in its
//! batch of the text store ([`crate::text_store`]) rather than by tantivy's document numbers,
//! which merges renumber. So each batch of the text store carries the trigram index of its
//! own texts, written with them, linked and removed with them.
//!
//! At query time a literal's candidates are computed once per batch, as a bitmap of entries,
//! and each segment's documents are matched to it through their text address
//! ([`TrigramQuery`], `crate::entry_set`): one pass over a fast field per segment.
//!
//! Layout of a batch's trigram section (integers little-endian):
//!
//! ```text
//! lists       per trigram: its entries as LEB128 deltas (the first entry itself), or a
//!             bitmap of the batch's entries (u64 words, bit e%64 of word e/64), whichever
//!             is smaller
//! key table   per trigram, by key: key u64 (bit 63 set: a bitmap), offset u64 (from the
//!             section's start), length u32, entries u32
//! count       trigrams u32
//! ```

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;

use tantivy::directory::OwnedBytes;
use tantivy::query::{EnableScoring, Query as TQuery, Weight};
use tantivy::TantivyError;

use crate::entry_set::{bitmap_words, EntrySetWeight, EntrySets};
use crate::tokenizer::ascii_trigram_slot;

const ROW: usize = 24;
const BITMAP: u64 = 1 << 63;

/// The bytes of a bitmap over `entries` entries.
fn bitmap_bytes(entries: u32) -> usize {
    bitmap_words(entries) * 8
}

/// Where varints are written: a `Vec<u8>`, or the inline lists of the word index's writer.
pub(crate) trait ByteSink {
    fn push_byte(&mut self, b: u8);
}

impl ByteSink for Vec<u8> {
    #[inline(always)]
    fn push_byte(&mut self, b: u8) {
        self.push(b);
    }
}

impl<A: smallvec::Array<Item = u8>> ByteSink for smallvec::SmallVec<A> {
    #[inline(always)]
    fn push_byte(&mut self, b: u8) {
        self.push(b);
    }
}

/// Appends `v` as LEB128.
pub(crate) fn push_varint(out: &mut impl ByteSink, mut v: u32) {
    while v >= 0x80 {
        out.push_byte(v as u8 | 0x80);
        v >>= 7;
    }
    out.push_byte(v as u8);
}

/// Reads one LEB128 `u32` from the front of `bytes`; `None` if it is cut short or too long.
#[inline]
pub(crate) fn read_varint(bytes: &mut &[u8]) -> Option<u32> {
    let mut v: u32 = 0;
    let mut shift = 0;
    loop {
        let (&b, rest) = bytes.split_first()?;
        *bytes = rest;
        if shift > 28 {
            return None;
        }
        v |= u32::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(v);
        }
        shift += 7;
    }
}

/// Decodes a list of LEB128 deltas; calls `f` with each entry. `None` if it is cut short or
/// does not increase.
pub(crate) fn for_each_entry(mut bytes: &[u8], mut f: impl FnMut(u32)) -> Option<()> {
    let mut last: Option<u32> = None;
    while !bytes.is_empty() {
        let v = read_varint(&mut bytes)?;
        let entry = match last {
            None => v,
            Some(l) if v > 0 => l.checked_add(v)?,
            Some(_) => return None,
        };
        f(entry);
        last = Some(entry);
    }
    Some(())
}

/// One trigram's list while a batch is written.
struct List {
    key: u64,
    last: u32,
    entries: u32,
    deltas: Vec<u8>,
}

/// Collects the trigram lists of one batch, text after text, and writes its trigram section.
#[derive(Default)]
pub(crate) struct TrigramWriter {
    /// For each all-ASCII trigram ([`ascii_trigram_slot`]), its list's index + 1 (0: none yet).
    /// Allocated at first use: 8 MiB, zeroed lazily by the system.
    ascii: Vec<u32>,
    /// The lists of the other trigrams.
    other: HashMap<u64, u32>,
    lists: Vec<List>,
    /// The entries added so far: the batch's entries, since every one is added.
    entries: u32,
}

impl TrigramWriter {
    /// Records that entry `entry` holds the trigrams `keys` (distinct). Entries come in
    /// increasing order, each once.
    pub fn add(&mut self, entry: u32, keys: &[u64]) {
        debug_assert!(entry >= self.entries, "entries come in increasing order");
        self.entries = entry + 1;
        if self.ascii.is_empty() {
            self.ascii = vec![0; 1 << 21];
        }
        let (ascii, other, lists) = (self.ascii.as_mut_slice(), &mut self.other, &mut self.lists);
        for &key in keys {
            let slot = match ascii_trigram_slot(key) {
                Some(s) => &mut ascii[s],
                None => other.entry(key).or_insert(0),
            };
            if *slot == 0 {
                lists.push(List {
                    key,
                    last: 0,
                    entries: 0,
                    deltas: Vec::new(),
                });
                *slot = lists.len() as u32;
            }
            let list = &mut lists[*slot as usize - 1];
            let delta = if list.entries == 0 {
                entry
            } else {
                entry - list.last
            };
            push_varint(&mut list.deltas, delta);
            list.last = entry;
            list.entries += 1;
        }
    }

    /// Writes the section for the entries added (every entry of the batch, with or without
    /// trigrams); returns its length in bytes.
    pub fn write(mut self, out: &mut impl Write) -> io::Result<u64> {
        self.lists.sort_unstable_by_key(|l| l.key);
        let full = bitmap_bytes(self.entries);
        let mut rows = Vec::with_capacity(self.lists.len() * ROW + 4);
        let mut at = 0u64;
        let mut words = Vec::new();
        for list in &self.lists {
            let (key, len) = if list.deltas.len() >= full {
                words.clear();
                words.resize(full / 8, 0u64);
                for_each_entry(&list.deltas, |e| words[e as usize / 64] |= 1 << (e % 64))
                    .expect("lists are written increasing");
                for w in &words {
                    out.write_all(&w.to_le_bytes())?;
                }
                (list.key | BITMAP, full)
            } else {
                out.write_all(&list.deltas)?;
                (list.key, list.deltas.len())
            };
            rows.extend_from_slice(&key.to_le_bytes());
            rows.extend_from_slice(&at.to_le_bytes());
            rows.extend_from_slice(&(len as u32).to_le_bytes());
            rows.extend_from_slice(&list.entries.to_le_bytes());
            at += len as u64;
        }
        rows.extend_from_slice(&(self.lists.len() as u32).to_le_bytes());
        out.write_all(&rows)?;
        Ok(at + rows.len() as u64)
    }
}

/// The trigram section of one batch, open for reading.
#[derive(Clone)]
pub(crate) struct TrigramSection {
    /// The batch file, for errors.
    path: PathBuf,
    data: OwnedBytes,
    rows_at: usize,
    count: usize,
    /// Entries of the batch: the bitmaps' size, and a bound on every entry.
    entries: u32,
}

/// The little-endian u32 at `at` (the text store's tables use these too).
pub(crate) fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("four bytes"))
}

/// The little-endian u64 at `at`.
pub(crate) fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("eight bytes"))
}

impl TrigramSection {
    /// Checks the frame of a section: a key table that ends where the section does.
    pub fn open(path: PathBuf, data: OwnedBytes, entries: u32) -> Result<Self, String> {
        let b = data.as_slice();
        if b.len() < 4 {
            return Err("the trigram section is cut short".into());
        }
        let count = u32_at(b, b.len() - 4) as usize;
        let Some(rows_at) = (b.len() - 4).checked_sub(count.saturating_mul(ROW)) else {
            return Err(format!("the trigram section cannot hold {count} trigrams"));
        };
        Ok(TrigramSection {
            path,
            data,
            rows_at,
            count,
            entries,
        })
    }

    fn corrupt(&self, detail: String) -> TantivyError {
        TantivyError::DataCorruption(tantivy::error::DataCorruption::new(
            self.path.clone(),
            format!("trigram index: {detail}"),
        ))
    }

    /// Row `i`: key (with the bitmap bit), offset, length, entries.
    fn row(&self, i: usize) -> (u64, u64, u32, u32) {
        let (b, at) = (self.data.as_slice(), self.rows_at + i * ROW);
        (
            u64_at(b, at),
            u64_at(b, at + 8),
            u32_at(b, at + 16),
            u32_at(b, at + 20),
        )
    }

    /// The list of `key`: whether it is a bitmap, and its bytes; `None` when no text of the
    /// batch holds the trigram.
    fn list(&self, key: u64) -> tantivy::Result<Option<(bool, &[u8])>> {
        let (mut lo, mut hi) = (0, self.count);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let (k, offset, len, _) = self.row(mid);
            match (k & !BITMAP).cmp(&key) {
                std::cmp::Ordering::Less => lo = mid + 1,
                std::cmp::Ordering::Greater => hi = mid,
                std::cmp::Ordering::Equal => {
                    let bitmap = k & BITMAP != 0;
                    let bytes = usize::try_from(offset)
                        .ok()
                        .and_then(|o| Some(o..o.checked_add(len as usize)?))
                        .and_then(|r| self.data.as_slice()[..self.rows_at].get(r));
                    return match bytes {
                        Some(b) if !bitmap || b.len() == bitmap_bytes(self.entries) => {
                            Ok(Some((bitmap, b)))
                        }
                        _ => {
                            Err(self
                                .corrupt(format!("the list of trigram {key:#x} is out of place")))
                        }
                    };
                }
            }
        }
        Ok(None)
    }

    /// The entries holding every trigram of `keys`, as a bitmap; `None` when none does.
    fn all_of(&self, keys: &[u64]) -> tantivy::Result<Option<Vec<u64>>> {
        let mut lists = Vec::with_capacity(keys.len());
        for &k in keys {
            match self.list(k)? {
                Some(l) => lists.push(l),
                None => return Ok(None),
            }
        }
        // The shortest first: it bounds the answer, and ANDing the rest into it is cheap.
        lists.sort_by_key(|(bitmap, b)| (*bitmap, b.len()));
        let words = bitmap_bytes(self.entries) / 8;
        let mut acc = vec![0u64; words];
        let mut next = vec![0u64; words];
        for (i, &(bitmap, bytes)) in lists.iter().enumerate() {
            let into = if i == 0 { &mut acc } else { &mut next };
            if bitmap {
                for (w, chunk) in into.iter_mut().zip(bytes.chunks_exact(8)) {
                    *w = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
                }
            } else {
                into.fill(0);
                let mut beyond = false;
                let ok = for_each_entry(bytes, |e| match into.get_mut(e as usize / 64) {
                    Some(w) => *w |= 1 << (e % 64),
                    None => beyond = true,
                });
                if ok.is_none() || beyond {
                    return Err(self.corrupt("a list is damaged".into()));
                }
            }
            if i > 0 {
                let mut any = 0;
                for (a, n) in acc.iter_mut().zip(&next) {
                    *a &= n;
                    any |= *a;
                }
                if any == 0 {
                    return Ok(None);
                }
            }
        }
        Ok(Some(acc))
    }
}

/// The trigram sections of every batch of one generation.
pub(crate) struct TrigramIndex {
    /// By batch number.
    batches: Vec<(u32, TrigramSection)>,
}

impl std::fmt::Debug for TrigramIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrigramIndex")
            .field("batches", &self.batches.len())
            .finish()
    }
}

impl TrigramIndex {
    pub fn new(mut batches: Vec<(u32, TrigramSection)>) -> Self {
        batches.sort_unstable_by_key(|(n, _)| *n);
        TrigramIndex { batches }
    }

    /// The texts `grams` admits, batch by batch.
    fn candidates(&self, grams: &Grams) -> tantivy::Result<EntrySets> {
        let mut by_batch = Vec::new();
        for (n, section) in &self.batches {
            if let Some(bits) = grams.entries(section)? {
                by_batch.push((*n, bits));
            }
        }
        Ok(EntrySets::new(by_batch))
    }
}

/// A formula over trigrams: which texts a [`TrigramQuery`] admits.
#[derive(Clone, Debug)]
enum Grams {
    /// Texts holding every one of these trigrams (at least one).
    All(Vec<u64>),
    And(Vec<Grams>),
    Or(Vec<Grams>),
}

impl Grams {
    /// The entries of `section` this formula admits, as a bitmap; `None` when none.
    fn entries(&self, section: &TrigramSection) -> tantivy::Result<Option<Vec<u64>>> {
        let (parts, and) = match self {
            Grams::All(keys) => return section.all_of(keys),
            Grams::And(parts) => (parts, true),
            Grams::Or(parts) => (parts, false),
        };
        let mut acc: Option<Vec<u64>> = None;
        for part in parts {
            match (part.entries(section)?, &mut acc) {
                (None, _) if and => return Ok(None),
                (None, _) => {}
                (Some(bits), None) => acc = Some(bits),
                (Some(bits), Some(acc)) => {
                    for (a, b) in acc.iter_mut().zip(bits) {
                        if and {
                            *a &= b;
                        } else {
                            *a |= b;
                        }
                    }
                }
            }
        }
        Ok(acc.filter(|bits| bits.iter().any(|&w| w != 0)))
    }
}

/// A tantivy query over the trigram index: the files holding every trigram of a literal, or
/// an AND or OR of such. Plans ([`crate::plan`]) combine these into one query rather than
/// into tantivy's boolean queries, so the formula is evaluated on bitmaps and each segment's
/// documents are matched to the answer once, however many literals a regex has.
#[derive(Clone, Debug)]
pub(crate) struct TrigramQuery {
    index: Arc<TrigramIndex>,
    grams: Grams,
}

impl TrigramQuery {
    /// The files holding every trigram of `keys` (at least one key).
    pub fn all(index: Arc<TrigramIndex>, keys: Vec<u64>) -> Self {
        TrigramQuery {
            index,
            grams: Grams::All(keys),
        }
    }

    /// The files every one of `parts` admits (`and`), or one of them.
    pub fn combine(parts: Vec<TrigramQuery>, and: bool) -> Option<Self> {
        let index = parts.first()?.index.clone();
        let grams = parts.into_iter().map(|q| q.grams).collect();
        Some(TrigramQuery {
            index,
            grams: if and {
                Grams::And(grams)
            } else {
                Grams::Or(grams)
            },
        })
    }
}

impl TQuery for TrigramQuery {
    fn weight(&self, _scoring: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        Ok(Box::new(EntrySetWeight::new(
            self.index.candidates(&self.grams)?,
            "hold every trigram",
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tokenizer::{trigram_keys, TrigramScanner};

    fn section(texts: &[&str]) -> TrigramSection {
        let mut w = TrigramWriter::default();
        let mut sc = TrigramScanner::default();
        for (i, t) in texts.iter().enumerate() {
            w.add(i as u32, sc.scan(t));
        }
        let mut out = Vec::new();
        let len = w.write(&mut out).unwrap();
        assert_eq!(len as usize, out.len());
        TrigramSection::open(PathBuf::from("t"), OwnedBytes::new(out), texts.len() as u32).unwrap()
    }

    fn entries(bits: Option<Vec<u64>>) -> Vec<u32> {
        let Some(bits) = bits else { return Vec::new() };
        (0..bits.len() as u32 * 64)
            .filter(|e| bits[*e as usize / 64] & (1 << (e % 64)) != 0)
            .collect()
    }

    /// Brute force: the texts whose folded form contains every trigram of `s`.
    fn expected(texts: &[&str], s: &str) -> Vec<u32> {
        let want = trigram_keys(s);
        let mut sc = TrigramScanner::default();
        (0..texts.len() as u32)
            .filter(|&i| {
                let have = sc.scan(texts[i as usize]).to_vec();
                want.iter().all(|k| have.contains(k))
            })
            .collect()
    }

    #[test]
    fn lists_sparse_and_dense_answer_like_brute_force() {
        // 300 texts: "fn " in all (a bitmap), "zq" numbers in a few (delta lists), non-ASCII.
        let owned: Vec<String> = (0..300)
            .map(|i| match i % 50 {
                0 => format!("fn zq{i}() {{ café }}"),
                7 => format!("FN Ünïcode {i}"),
                _ => format!("fn f{i}() {{}}"),
            })
            .collect();
        let texts: Vec<&str> = owned.iter().map(String::as_str).collect();
        let s = section(&texts);
        for q in [
            "fn ", "zq", "zq1", "café", "ünï", "fn zq", "() {}", "nothing", "n z",
        ] {
            let keys = trigram_keys(q);
            if keys.is_empty() {
                continue;
            }
            assert_eq!(
                entries(s.all_of(&keys).unwrap()),
                expected(&texts, q),
                "{q}"
            );
        }
        // Formulas: AND and OR of literals, as bitmaps, like the sets they stand for.
        let all = |q: &str| Grams::All(trigram_keys(q));
        let set = |q: &str| expected(&texts, q);
        let (zq1, cafe, uni) = (set("zq1"), set("café"), set("ünï"));
        let or = Grams::Or(vec![all("zq1"), all("ünï"), all("nothing")]);
        let mut want: Vec<u32> = zq1.iter().chain(&uni).copied().collect();
        want.sort();
        assert_eq!(entries(or.entries(&s).unwrap()), want);
        let and = Grams::And(vec![all("zq1"), all("café")]);
        let want: Vec<u32> = zq1.iter().filter(|e| cafe.contains(e)).copied().collect();
        assert!(!want.is_empty());
        assert_eq!(entries(and.entries(&s).unwrap()), want);
        let none = Grams::And(vec![all("zq1"), all("ünï")]);
        assert_eq!(none.entries(&s).unwrap(), None);
        let nested = Grams::Or(vec![none, Grams::And(vec![all("fn "), all("fn zq")])]);
        assert_eq!(entries(nested.entries(&s).unwrap()), set("fn zq"));
        // "fn " is in every text: stored as a bitmap.
        let k = trigram_keys("fn ")[0];
        assert!(s.list(k).unwrap().unwrap().0);
        assert!(!s.list(trigram_keys("zq1")[0]).unwrap().unwrap().0);
    }

    #[test]
    fn damage_is_an_error_never_a_panic() {
        let owned: Vec<String> = (0..200)
            .map(|i| format!("fn x{i}() {{ y{} }}", i * 7))
            .collect();
        let texts: Vec<&str> = owned.iter().map(String::as_str).collect();
        let mut w = TrigramWriter::default();
        let mut sc = TrigramScanner::default();
        for (i, t) in texts.iter().enumerate() {
            w.add(i as u32, sc.scan(t));
        }
        let mut out = Vec::new();
        w.write(&mut out).unwrap();
        let queries: Vec<Vec<u64>> = ["fn x", "x1", "y7", "() { y"].map(trigram_keys).into();
        for at in (0..out.len()).step_by(7) {
            for cut in [false, true] {
                let mut bad = out.clone();
                if cut {
                    bad.truncate(at);
                } else {
                    bad[at] ^= 0x5a;
                }
                let Ok(s) = TrigramSection::open(PathBuf::from("t"), OwnedBytes::new(bad), 200)
                else {
                    continue;
                };
                for q in &queries {
                    // An answer or an error: either is fine, a panic is not.
                    let _ = s.all_of(q);
                }
            }
        }
    }
}
