//! What BM25 needs of a corpus, counted once from the oracle's own tokens.

use std::collections::HashMap;

use rayon::prelude::*;

use crate::file::CorpusFile;

/// Words longer than this many bytes are not indexed (as the engine's tokenizer drops them),
/// so they count neither as words nor towards a file's length.
pub(crate) const MAX_TOKEN_BYTES: usize = 256;

/// What BM25 needs of every file, counted once per corpus from the oracle's own tokens:
/// each file's indexed length, and per word the files containing it with their counts.
#[derive(Debug, Clone, Default)]
pub struct TermStats {
    /// Words of each file that count for its length (not longer than the index keeps).
    pub(crate) lengths: Vec<u64>,
    pub(crate) average_length: f64,
    /// Word → (file position, occurrences), in file order.
    postings: HashMap<String, Vec<(u32, u32)>>,
}

impl TermStats {
    /// Counts every file's tokens (in parallel).
    pub fn of(files: &[CorpusFile]) -> TermStats {
        let per_file: Vec<(u64, HashMap<&str, u32>)> = files
            .par_iter()
            .map(|f| {
                let mut kept = 0u64;
                let mut words: HashMap<&str, u32> = HashMap::new();
                // A file's length is its words: symbols are not counted (section 6).
                for t in f.tokens() {
                    if !t.word || (t.end - t.start) as usize > MAX_TOKEN_BYTES {
                        continue;
                    }
                    kept += 1;
                    *words.entry(f.token_text(*t)).or_insert(0) += 1;
                }
                (kept, words)
            })
            .collect();
        let mut stats = TermStats::default();
        let mut total = 0u64;
        for (i, (kept, words)) in per_file.into_iter().enumerate() {
            total += kept;
            stats.lengths.push(kept);
            for (w, n) in words {
                stats
                    .postings
                    .entry(w.to_owned())
                    .or_default()
                    .push((i as u32, n));
            }
        }
        stats.average_length = if files.is_empty() {
            1.0
        } else {
            total as f64 / files.len() as f64
        };
        stats
    }

    /// Occurrences of `word` in file `i`.
    pub(crate) fn count(&self, word: &str, i: usize) -> u32 {
        self.postings.get(word).map_or(0, |p| {
            p.binary_search_by_key(&(i as u32), |(f, _)| *f)
                .map_or(0, |at| p[at].1)
        })
    }

    /// Files containing `word`.
    pub(crate) fn doc_freq(&self, word: &str) -> usize {
        self.postings.get(word).map_or(0, Vec::len)
    }
}
