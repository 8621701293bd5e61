//! Searching an index: plan candidates, verify them exactly, rank, return.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::{AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query as TQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{
    DocAddress, DocId, Score, Searcher, SegmentOrdinal, SegmentReader, TantivyDocument, Term,
};

use crate::deadline::Deadline;
use crate::error::EngineError;
use crate::index::CodeIndex;
use crate::matcher::{FileText, Matcher};
use crate::plan::{candidates, scoring_terms};
use crate::query::{parse_request, Query, Request};
use crate::schema::PATH_FIELD;
use crate::text::display_line;
use crate::vector::{ChunkMatch, FusionRanks};
use verity_vector::mode::VectorSearch;

/// How to run a search.
#[derive(Debug, Clone, Default)]
pub struct SearchOptions {
    /// Return at most this many files (all when `None`).
    pub limit: Option<usize>,
    /// Give up once this passes.
    pub deadline: Deadline,
    /// Keep at most this many matching lines per file (all when `None`); the count is exact.
    pub max_lines_per_file: Option<usize>,
    /// Only decide which files match, as `rg -l` does: hits carry no lines and a
    /// `line_count` of 0, and each file's verification stops at its first match.
    pub files_only: bool,
    /// How `vector:` and `hybrid:` queries find the nearest chunks; the index's own mode
    /// (`verity index --vector-search`, `auto` by default) when `None`.
    pub vector_search: Option<VectorSearch>,
}

/// One matching line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineMatch {
    /// 1-based line number.
    pub line: usize,
    /// The line, without its line terminator.
    pub text: String,
}

/// One matching file.
#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    /// Corpus-relative path with `/` separators.
    pub path: String,
    /// Text queries: BM25 of the query's words in the code field (0 for queries without
    /// words). Vector queries: the best chunk's cosine similarity. Hybrid: the fused score.
    pub score: f32,
    /// Number of matching lines (exact, even when `lines` is capped); 0 for vector hits.
    pub line_count: usize,
    /// Matching lines, in order.
    pub lines: Vec<LineMatch>,
    /// Vector and hybrid queries: the file's chunks among the nearest, best first.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub chunks: Vec<ChunkMatch>,
    /// Hybrid queries: the file's ranks in the fused rankings.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fusion: Option<FusionRanks>,
}

/// The answer to a query.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResults {
    /// Matching files, best first: score descending, then path ascending.
    pub hits: Vec<SearchHit>,
    /// How many files match in total (before `limit`); a lower bound when `total_exact` is
    /// false.
    pub total: usize,
    /// Whether `total` counts every matching file. A search with a `limit` verifies candidates
    /// in rank order and stops once it has `limit` matches: the hits are exactly the best
    /// `limit`, but candidates left unverified are not counted.
    pub total_exact: bool,
    /// How many files the index proposed and verification examined.
    pub candidates: usize,
    /// The vector side of the answer came from the HNSW graph, which may miss a chunk: it is
    /// an approximation, judged by recall@k. False for text queries and exact vector search.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub approximate: bool,
    /// Wall time of the search in milliseconds.
    pub elapsed_ms: f64,
}

/// Collects every matching document with its score, and stops early once the deadline passes.
struct AllScored {
    deadline: Deadline,
    scoring: bool,
}

struct AllScoredSegment {
    segment: SegmentOrdinal,
    deadline: Deadline,
    stopped: bool,
    hits: Vec<(DocAddress, Score)>,
}

impl Collector for AllScored {
    type Fruit = Vec<(DocAddress, Score)>;
    type Child = AllScoredSegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        _reader: &SegmentReader,
    ) -> tantivy::Result<AllScoredSegment> {
        Ok(AllScoredSegment {
            segment,
            deadline: self.deadline.clone(),
            stopped: false,
            hits: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        self.scoring
    }

    fn merge_fruits(&self, fruits: Vec<Vec<(DocAddress, Score)>>) -> tantivy::Result<Self::Fruit> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for AllScoredSegment {
    type Fruit = Vec<(DocAddress, Score)>;

    fn collect(&mut self, doc: DocId, score: Score) {
        if self.stopped {
            return;
        }
        if self.hits.len().is_multiple_of(4096) && self.deadline.check().is_err() {
            self.stopped = true;
            return;
        }
        self.hits.push((DocAddress::new(self.segment, doc), score));
    }

    fn harvest(self) -> Self::Fruit {
        self.hits
    }
}

impl CodeIndex {
    /// Parses and runs a query: a text query, or a `vector:` or `hybrid:` query.
    pub fn search(&self, query: &str, opts: &SearchOptions) -> Result<SearchResults, EngineError> {
        match parse_request(query)? {
            Request::Text(q) => self.search_query(&q, opts),
            Request::Vector(q) => self.search_vector(&q, opts),
            Request::Hybrid(q) => self.search_hybrid(&q, opts),
        }
    }

    /// Runs a parsed query.
    ///
    /// Every candidate the index proposes is verified against the file's stored text. With a
    /// `limit`, candidates are first put in the final order (BM25 score descending, then path,
    /// by each document's rank in path order, so without loading any document) and verified in
    /// that order, a growing batch at a time, until `limit` of them match: those are exactly
    /// the `limit` best matches, because verification removes files but never reorders them.
    pub fn search_query(
        &self,
        q: &Query,
        opts: &SearchOptions,
    ) -> Result<SearchResults, EngineError> {
        let started = Instant::now();
        let deadline = &opts.deadline;
        deadline.check()?;
        let matcher = Matcher::compile(q)?;
        let plan: Box<dyn TQuery> =
            candidates(&self.fields, q).unwrap_or_else(|| Box::new(AllQuery));
        let words = scoring_terms(q);
        let scoring = !words.is_empty();
        let tquery: Box<dyn TQuery> = if scoring {
            let mut clauses: Vec<(Occur, Box<dyn TQuery>)> =
                vec![(Occur::Must, Box::new(ConstScoreQuery::new(plan, 0.0)))];
            for w in &words {
                clauses.push((
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(self.fields.code, w),
                        IndexRecordOption::WithFreqs,
                    )),
                ));
            }
            Box::new(BooleanQuery::new(clauses))
        } else {
            plan
        };

        let searcher = self.reader.searcher();
        let found = searcher.search(
            &*tquery,
            &AllScored {
                deadline: deadline.clone(),
                scoring,
            },
        )?;
        deadline.check()?;
        let candidates = found.len();

        let fields = self.fields;
        // Verifies one candidate; `files_only` decides the match without collecting lines.
        let verify = |(addr, score): (DocAddress, Score),
                      files_only: bool|
         -> Result<Option<SearchHit>, EngineError> {
            deadline.check()?;
            let doc: TantivyDocument = searcher.doc(addr)?;
            let path = doc
                .get_first(fields.path)
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            let content = doc
                .get_first(fields.content)
                .and_then(|v| v.as_str())
                .unwrap_or_default();
            let file = FileText::new(content);
            let score = if scoring { score } else { 0.0 };
            if files_only {
                return Ok(matcher.is_match(&file, deadline)?.then(|| SearchHit {
                    path: path.to_owned(),
                    score,
                    line_count: 0,
                    lines: Vec::new(),
                    chunks: Vec::new(),
                    fusion: None,
                }));
            }
            let Some(lines) = matcher.matches(&file, deadline)? else {
                return Ok(None);
            };
            let line_count = lines.len();
            let keep = opts.max_lines_per_file.unwrap_or(usize::MAX);
            let li = file.lines();
            let lines = lines
                .into_iter()
                .take(keep)
                .map(|n| LineMatch {
                    line: n,
                    text: display_line(&content[li.span(n, content)]).to_owned(),
                })
                .collect();
            Ok(Some(SearchHit {
                path: path.to_owned(),
                score,
                line_count,
                lines,
                chunks: Vec::new(),
                fusion: None,
            }))
        };
        // Candidates are verified in parallel in document order, whatever order they come in:
        // the doc store decompresses blocks of neighbouring documents, so reading in rank
        // order would decompress each block again and again. Results keep the input order.
        let verify_all = |batch: &[(DocAddress, Score)],
                          files_only: bool|
         -> Result<Vec<(usize, SearchHit)>, EngineError> {
            let mut by_doc: Vec<usize> = (0..batch.len()).collect();
            by_doc.sort_unstable_by_key(|&i| batch[i].0);
            let mut verified: Vec<(usize, SearchHit)> = by_doc
                .par_iter()
                .map(|&i| Ok(verify(batch[i], files_only)?.map(|h| (i, h))))
                .collect::<Result<Vec<_>, EngineError>>()?
                .into_iter()
                .flatten()
                .collect();
            verified.sort_unstable_by_key(|(i, _)| *i);
            Ok(verified)
        };

        let (mut hits, total, total_exact) = match opts.limit {
            None => {
                let hits: Vec<SearchHit> = verify_all(&found, opts.files_only)?
                    .into_iter()
                    .map(|(_, h)| h)
                    .collect();
                let total = hits.len();
                (hits, total, true)
            }
            Some(limit) => {
                let order = rank_order(&*self.path_ranks(&searcher)?, found, scoring);
                // `--limit 0` still verifies until one match, so the exit status and `total`
                // can say whether anything matches.
                let want = limit.max(1);
                // The first batch is exactly as large as the answer (verified in parallel), so
                // how much is verified does not depend on the machine's thread count.
                let mut batch = want;
                let mut matched: Vec<(usize, SearchHit)> = Vec::new();
                let mut at = 0;
                while at < order.len() && matched.len() < want {
                    let end = (at + batch).min(order.len());
                    // Which files match is decided first, cheaply; lines are collected below
                    // for the returned files only.
                    matched.extend(
                        verify_all(&order[at..end], true)?
                            .into_iter()
                            .map(|(i, h)| (at + i, h)),
                    );
                    at = end;
                    // Doubling bounds the rounds when few candidates match. Each round reads
                    // documents scattered over the whole store, though, so once the match
                    // rate so far says most of the rest would be needed anyway, the rest is
                    // verified in one pass in document order.
                    let rest = order.len() - at;
                    let rate = (matched.len() + 1) as f64 / (at + 1) as f64;
                    let needed = want.saturating_sub(matched.len()) as f64 / rate;
                    batch = if needed * 2.0 >= rest as f64 {
                        rest
                    } else {
                        batch.saturating_mul(2)
                    };
                }
                let total = matched.len();
                matched.truncate(limit);
                let hits = if opts.files_only {
                    matched.into_iter().map(|(_, h)| h).collect()
                } else {
                    let returned: Vec<(DocAddress, Score)> =
                        matched.iter().map(|(i, _)| order[*i]).collect();
                    verify_all(&returned, false)?
                        .into_iter()
                        .map(|(_, h)| h)
                        .collect()
                };
                (hits, total, at == order.len())
            }
        };
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.path.cmp(&b.path))
        });
        if let Some(limit) = opts.limit {
            hits.truncate(limit);
        }
        Ok(SearchResults {
            hits,
            total,
            total_exact,
            candidates,
            approximate: false,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }
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

impl CodeIndex {
    /// The path ranks of `searcher`'s generation, computed on first use.
    fn path_ranks(&self, searcher: &Searcher) -> Result<Arc<PathRanks>, EngineError> {
        let generation = searcher.generation().generation_id();
        let mut cache = self.path_ranks.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = cache.as_ref().filter(|r| r.generation == generation) {
            return Ok(r.clone());
        }
        let ranks = Arc::new(PathRanks::compute(&self.dir, searcher)?);
        *cache = Some(ranks.clone());
        Ok(ranks)
    }
}

/// Candidates in the order results are returned: score descending (0 for every candidate of a
/// query without words), then path ascending.
fn rank_order(
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
