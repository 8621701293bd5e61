//! Sets of text-store entries, batch by batch, and the tantivy queries that match a segment's
//! documents to them.
//!
//! The trigram index (`crate::trigram_index`) and the word index (`crate::word_index`) are
//! keyed by the stable *entry* of a text in its batch of the text store, not by tantivy's
//! document numbers, which merges renumber. A query over either computes its answer once per
//! batch (a bitmap of entries, or a score per entry), and each segment's documents are matched
//! to it through their text address: one pass over the `text` fast field per segment.

use tantivy::columnar::ColumnIndex;
use tantivy::query::{BitSetDocSet, ConstScorer, EmptyScorer, Explanation, Scorer, Weight};
use tantivy::{BitSet, DocId, DocSet, Score, SegmentReader, TantivyError, TERMINATED};

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

/// A score per entry (0: not in the set), by batch number (ascending).
#[derive(Debug, Default)]
pub(crate) struct ScoredEntries {
    by_batch: Vec<(u32, Vec<Score>)>,
}

impl ScoredEntries {
    pub fn new(mut by_batch: Vec<(u32, Vec<Score>)>) -> Self {
        by_batch.retain(|(_, s)| s.iter().any(|&x| x > 0.0));
        by_batch.sort_unstable_by_key(|(n, _)| *n);
        ScoredEntries { by_batch }
    }

    fn batch(&self, n: u32) -> Option<&[Score]> {
        self.by_batch
            .binary_search_by_key(&n, |(b, _)| *b)
            .ok()
            .map(|i| self.by_batch[i].1.as_slice())
    }
}

/// A tantivy weight matching the documents whose entry has a score, with that score (times
/// the boost).
pub(crate) struct ScoredWeight {
    scores: ScoredEntries,
}

impl ScoredWeight {
    pub fn new(scores: ScoredEntries) -> Self {
        ScoredWeight { scores }
    }
}

impl Weight for ScoredWeight {
    fn scorer(&self, reader: &SegmentReader, boost: Score) -> tantivy::Result<Box<dyn Scorer>> {
        if self.scores.by_batch.is_empty() {
            return Ok(Box::new(EmptyScorer));
        }
        let mut docs = Vec::new();
        let mut current: Option<(u32, Option<&[Score]>)> = None;
        for_each_address(reader, |doc, batch, entry| {
            let scores = match current {
                Some((b, s)) if b == batch => s,
                _ => {
                    let s = self.scores.batch(batch);
                    current = Some((batch, s));
                    s
                }
            };
            if let Some(&s) = scores.and_then(|s| s.get(entry as usize)) {
                if s > 0.0 {
                    docs.push((doc, s * boost));
                }
            }
        })?;
        Ok(Box::new(ScoredDocs::new(docs)))
    }

    fn explain(&self, reader: &SegmentReader, doc: DocId) -> tantivy::Result<Explanation> {
        let mut scorer = self.scorer(reader, 1.0)?;
        if scorer.seek(doc) == doc {
            Ok(Explanation::new(
                "BM25 of the ranking words",
                scorer.score(),
            ))
        } else {
            Err(TantivyError::InvalidArgument(format!(
                "document {doc} holds none of the ranking words"
            )))
        }
    }
}

/// Documents with scores, ascending by document: a [`Scorer`].
struct ScoredDocs {
    docs: Vec<(DocId, Score)>,
    at: usize,
}

impl ScoredDocs {
    fn new(docs: Vec<(DocId, Score)>) -> Self {
        ScoredDocs { docs, at: 0 }
    }
}

impl DocSet for ScoredDocs {
    fn advance(&mut self) -> DocId {
        self.at = (self.at + 1).min(self.docs.len());
        self.doc()
    }

    fn seek(&mut self, target: DocId) -> DocId {
        // Never backwards.
        let from = self.at.min(self.docs.len());
        self.at = from + self.docs[from..].partition_point(|&(d, _)| d < target);
        self.doc()
    }

    fn doc(&self) -> DocId {
        self.docs.get(self.at).map_or(TERMINATED, |&(d, _)| d)
    }

    fn size_hint(&self) -> u32 {
        (self.docs.len() - self.at.min(self.docs.len())) as u32
    }
}

impl Scorer for ScoredDocs {
    fn score(&mut self) -> Score {
        self.docs.get(self.at).map_or(0.0, |&(_, s)| s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scored_docs_advance_and_seek_forward_only() {
        let mut d = ScoredDocs::new(vec![(1, 0.5), (4, 1.0), (9, 2.0)]);
        assert_eq!((d.doc(), d.score()), (1, 0.5));
        assert_eq!(d.seek(3), 4);
        assert_eq!(d.score(), 1.0);
        assert_eq!(d.seek(2), 4, "seek never goes back");
        assert_eq!(d.advance(), 9);
        assert_eq!(d.size_hint(), 1);
        assert_eq!(d.advance(), TERMINATED);
        assert_eq!(d.advance(), TERMINATED);
        assert_eq!(d.seek(100), TERMINATED);
        assert_eq!(d.size_hint(), 0);
    }

    #[test]
    fn empty_sets_are_dropped() {
        let s = EntrySets::new(vec![(3, vec![0, 2]), (1, vec![0]), (2, vec![1])]);
        assert_eq!(s.batch(3), Some(&[0u64, 2][..]));
        assert_eq!(s.batch(1), None);
        assert_eq!(s.batch(2), Some(&[1u64][..]));
    }
}
