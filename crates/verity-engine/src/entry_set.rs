//! Sets of text-store entries, batch by batch, and the tantivy queries that match a segment's
//! documents to them.
//!
//! The trigram index (`crate::trigram_index`) and the word index (`crate::word_index`) are
//! keyed by the stable *entry* of a text in its batch of the text store, not by tantivy's
//! document numbers, which merges renumber. A query over either computes its answer once per
//! batch (a bitmap of entries, or a score per entry), and each segment's documents are matched
//! to it through their text address: one pass over the `text` fast field per segment. BM25
//! goes the other way: from the documents a plan found to their entries ([`entries_of`]).

use tantivy::columnar::{Column, ColumnIndex};
use tantivy::query::{BitSetDocSet, ConstScorer, EmptyScorer, Explanation, Scorer, Weight};
use tantivy::{
    BitSet, DocAddress, DocId, DocSet, Score, Searcher, SegmentOrdinal, SegmentReader, TantivyError,
};

use crate::schema::{split, TEXT_FIELD};

/// The words of a bitmap over `entries` entries.
pub(crate) fn bitmap_words(entries: u32) -> usize {
    (entries as usize).div_ceil(64)
}

/// Bitmaps of entries (bit e%64 of word e/64), by batch number (ascending; only batches with
/// an entry in the set).
#[derive(Debug, Default)]
pub(crate) struct EntrySets {
    by_batch: Vec<(u32, Vec<u64>)>,
}

impl EntrySets {
    /// The sets of `by_batch`, in any order of batches.
    pub fn new(mut by_batch: Vec<(u32, Vec<u64>)>) -> Self {
        by_batch.retain(|(_, bits)| bits.iter().any(|&w| w != 0));
        by_batch.sort_unstable_by_key(|(n, _)| *n);
        EntrySets { by_batch }
    }

    fn batch(&self, n: u32) -> Option<&[u64]> {
        self.by_batch
            .binary_search_by_key(&n, |(b, _)| *b)
            .ok()
            .map(|i| self.by_batch[i].1.as_slice())
    }
}

/// Calls `f(doc, batch, entry)` for every document of the segment (deleted ones too: the
/// collector skips those), in document order.
fn for_each_address(
    reader: &SegmentReader,
    mut f: impl FnMut(DocId, u32, u32),
) -> tantivy::Result<()> {
    let addresses = reader.fast_fields().u64(TEXT_FIELD)?;
    let max = reader.max_doc();
    // Every document has an address: the column is read in bulk, a chunk at a time.
    let full = matches!(addresses.index, ColumnIndex::Full);
    let mut chunk = [0u64; 1024];
    for doc in 0..max {
        let at = doc as usize % chunk.len();
        let address = if full {
            if at == 0 {
                let n = (max - doc).min(chunk.len() as u32) as usize;
                addresses.values.get_range(u64::from(doc), &mut chunk[..n]);
            }
            chunk[at]
        } else {
            let Some(address) = addresses.first(doc) else {
                continue;
            };
            address
        };
        let (batch, entry) = split(address);
        f(doc, batch, entry);
    }
    Ok(())
}

/// A tantivy weight matching the documents whose text is in a set of entries, all with the
/// same score (the boost).
pub(crate) struct EntrySetWeight {
    sets: EntrySets,
    /// What a matching document is, for explanations ("holds every trigram").
    what: &'static str,
}

impl EntrySetWeight {
    pub fn new(sets: EntrySets, what: &'static str) -> Self {
        EntrySetWeight { sets, what }
    }
}

impl Weight for EntrySetWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        if self.sets.by_batch.is_empty() {
            return Ok(Box::new(EmptyScorer));
        }
        let mut set = BitSet::with_max_value(reader.max_doc());
        // Documents come in runs from one batch: its bitmap is looked up once per run.
        let mut current: Option<(u32, Option<&[u64]>)> = None;
        for_each_address(reader, |doc, batch, entry| {
            let bits = match current {
                Some((b, bits)) if b == batch => bits,
                _ => {
                    let bits = self.sets.batch(batch);
                    current = Some((batch, bits));
                    bits
                }
            };
            if bits
                .and_then(|b| b.get(entry as usize / 64))
                .is_some_and(|w| w & (1 << (entry % 64)) != 0)
            {
                set.insert(doc);
            }
        })?;
        Ok(Box::new(ConstScorer::new(BitSetDocSet::from(set), boost)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) == doc {
            Ok(Explanation::new(self.what, scorer.score()))
        } else {
            Err(TantivyError::InvalidArgument(format!(
                "document {doc} does not match: it does not {}",
                self.what
            )))
        }
    }
}

/// The batch and entry of each document's text, in order.
pub(crate) fn entries_of(
    searcher: &Searcher,
    docs: impl Iterator<Item = DocAddress>,
) -> tantivy::Result<Vec<(u32, u32)>> {
    let mut out = Vec::new();
    // Documents come in runs from one segment: its column is opened once per run.
    let mut column: Option<(SegmentOrdinal, Column<u64>)> = None;
    for a in docs {
        if column.as_ref().map(|(s, _)| *s) != Some(a.segment_ord) {
            let reader = searcher.segment_reader(a.segment_ord);
            column = Some((a.segment_ord, reader.fast_fields().u64(TEXT_FIELD)?));
        }
        let (_, col) = column.as_ref().expect("opened above");
        let address = col.first(a.doc_id).ok_or_else(|| {
            TantivyError::DataCorruption(tantivy::error::DataCorruption::comment_only(format!(
                "document {} has no text address",
                a.doc_id
            )))
        })?;
        out.push(split(address));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_sets_are_dropped() {
        let s = EntrySets::new(vec![(3, vec![0, 2]), (1, vec![0]), (2, vec![1])]);
        assert_eq!(s.batch(3), Some(&[0u64, 2][..]));
        assert_eq!(s.batch(1), None);
        assert_eq!(s.batch(2), Some(&[1u64][..]));
    }
}
