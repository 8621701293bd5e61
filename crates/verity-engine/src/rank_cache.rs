//! Every document's rank in path order, per searcher generation, kept until the index
//! changes (as tantivy's `Warmer` keeps per-generation state): sorting candidates by (score,
//! rank) is sorting them by (score, path) without reading a path.

use std::path::Path;
use std::sync::{Arc, Mutex};

use tantivy::{DocAddress, Score, Searcher};

use crate::error::EngineError;
use crate::schema::PATH_FIELD;
use crate::source::TextSource;

/// The ranks of the latest generation asked for.
#[derive(Default)]
pub(crate) struct RankCache(Mutex<Option<Arc<PathRanks>>>);

impl RankCache {
    /// The path ranks of `searcher`'s generation, computed on first use (`dir` names the index
    /// in errors).
    pub(crate) fn get(
        &self,
        dir: &Path,
        searcher: &Searcher,
    ) -> Result<Arc<PathRanks>, EngineError> {
        let generation = searcher.generation().generation_id();
        let mut cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = cache.as_ref().filter(|r| r.generation == generation) {
            return Ok(r.clone());
        }
        let ranks = Arc::new(PathRanks::compute(dir, searcher)?);
        *cache = Some(ranks.clone());
        Ok(ranks)
    }

    /// The path ranks of `searcher`'s generation if they are computed already.
    pub(crate) fn cached(&self, searcher: &Searcher) -> Option<Arc<PathRanks>> {
        let generation = searcher.generation().generation_id();
        let cache = self.0.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .as_ref()
            .filter(|r| r.generation == generation)
            .cloned()
    }
}

/// Candidates in the order results are returned (as [`rank_order`] puts them), from the
/// candidates' own paths instead of every document's rank.
///
/// Why: ranking every path reads and sorts the whole path dictionary, which a process that
/// runs one query pays in full however few candidates it has (on 100,000 files, 52 ms for a
/// `--limit 10` process whose query has no candidate at all, against 5.5 ms without it). Reading the candidates' paths
/// costs in proportion to the candidates; the caller picks this when they are few and the
/// ranks are not computed yet.
pub(crate) fn order_by_paths(
    dir: &Path,
    source: &TextSource,
    found: Vec<(DocAddress, Score)>,
    scoring: bool,
) -> Result<Vec<(DocAddress, Score)>, EngineError> {
    let addrs: Vec<DocAddress> = found.iter().map(|(a, _)| *a).collect();
    // A document without a path sorts last, as `u32::MAX` does among ranks.
    let paths = source
        .path_bytes(&addrs)
        .map_err(|e| EngineError::IndexCorrupt {
            path: dir.to_path_buf(),
            detail: format!("path dictionary: {e}"),
        })?;
    let mut keyed: Vec<(Score, Option<Vec<u8>>, DocAddress)> = found
        .into_iter()
        .zip(paths)
        .map(|((addr, score), path)| (if scoring { score } else { 0.0 }, path, addr))
        .collect();
    keyed.sort_unstable_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| a.1.is_none().cmp(&b.1.is_none()))
            .then_with(|| a.1.cmp(&b.1))
            .then(a.2.cmp(&b.2))
    });
    Ok(keyed.into_iter().map(|(s, _, a)| (a, s)).collect())
}

/// Every document's rank in path order (byte order of the paths), per segment of one searcher
/// generation: sorting candidates by (score, rank) is sorting them by (score, path) without
/// reading a single path. Computed once per generation from the path fast field's dictionaries
/// (one sorted pass over each) and kept until the index changes.
pub(crate) struct PathRanks {
    generation: u64,
    /// `ranks[segment][doc]`; `u32::MAX` for a document without a path.
    ranks: Vec<Vec<u32>>,
}

impl PathRanks {
    fn compute(dir: &Path, searcher: &Searcher) -> Result<PathRanks, EngineError> {
        let corrupt = |detail: String| EngineError::IndexCorrupt {
            path: dir.to_path_buf(),
            detail,
        };
        let mut columns = Vec::new();
        // (path, segment, term ordinal) of every path of every segment.
        let mut all: Vec<(Vec<u8>, usize, usize)> = Vec::new();
        for (segment, reader) in searcher.segment_readers().iter().enumerate() {
            let column = reader
                .fast_fields()
                .str(PATH_FIELD)?
                .ok_or_else(|| corrupt("the path field has no fast column".to_string()))?;
            let ords: Vec<u64> = (0..column.num_terms() as u64).collect();
            let mut ord = 0;
            column
                .dictionary()
                .sorted_ords_to_term_cb(&ords, |bytes| {
                    all.push((bytes.to_vec(), segment, ord));
                    ord += 1;
                })
                .map_err(|e| corrupt(format!("path dictionary: {e}")))?;
            columns.push((column, reader.max_doc()));
        }
        all.sort_unstable();
        let mut term_rank: Vec<Vec<u32>> = columns
            .iter()
            .map(|(c, _)| vec![0; c.num_terms()])
            .collect();
        let mut rank = 0u32;
        for (i, (path, segment, ord)) in all.iter().enumerate() {
            // The same path in two segments (a file re-added while its old version awaits a
            // merge, deleted) gets one rank; only one of them is ever a candidate.
            if i > 0 && all[i - 1].0 != *path {
                rank += 1;
            }
            term_rank[*segment][*ord] = rank;
        }
        let ranks = columns
            .iter()
            .zip(&term_rank)
            .map(|((column, max_doc), term_rank)| {
                (0..*max_doc)
                    .map(|doc| {
                        column
                            .term_ords(doc)
                            .next()
                            .and_then(|o| term_rank.get(o as usize).copied())
                            .unwrap_or(u32::MAX)
                    })
                    .collect()
            })
            .collect();
        Ok(PathRanks {
            generation: searcher.generation().generation_id(),
            ranks,
        })
    }
}

/// Candidates in the order results are returned: score descending (0 for every candidate of a
/// query without words), then path ascending.
pub(crate) fn rank_order(
    ranks: &PathRanks,
    found: Vec<(DocAddress, Score)>,
    scoring: bool,
) -> Vec<(DocAddress, Score)> {
    let mut keyed: Vec<(Score, u32, DocAddress)> = found
        .into_iter()
        .map(|(addr, score)| {
            let rank = ranks
                .ranks
                .get(addr.segment_ord as usize)
                .and_then(|r| r.get(addr.doc_id as usize))
                .copied()
                .unwrap_or(u32::MAX);
            (if scoring { score } else { 0.0 }, rank, addr)
        })
        .collect();
    keyed.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    keyed.into_iter().map(|(s, _, a)| (a, s)).collect()
}
