//! Searching an index: plan candidates, verify them exactly, rank, return.

use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;
use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::{AllQuery, BooleanQuery, ConstScoreQuery, Occur, Query as TQuery, TermQuery};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader, TantivyDocument, Term};

use crate::deadline::Deadline;
use crate::error::EngineError;
use crate::index::CodeIndex;
use crate::matcher::{FileText, Matcher};
use crate::plan::{candidates, scoring_terms};
use crate::query::{parse_request, Query, Request};
use crate::text::display_line;
use crate::vector::{ChunkMatch, FusionRanks};

/// How to run a search.
#[derive(Debug, Clone, Default)]
pub struct SearchOptions {
    /// Return at most this many files (all when `None`).
    pub limit: Option<usize>,
    /// Give up once this passes.
    pub deadline: Deadline,
    /// Keep at most this many matching lines per file (all when `None`); the count is exact.
    pub max_lines_per_file: Option<usize>,
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
    /// How many files match in total (before `limit`).
    pub total: usize,
    /// How many files the index proposed and verification examined.
    pub candidates: usize,
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
    pub fn search_query(
        &self,
        q: &Query,
        opts: &SearchOptions,
    ) -> Result<SearchResults, EngineError> {
        self.search_ranked(q, opts, None)
    }

    /// Runs a parsed query; with `top: Some(n)` only the `n` best matching files need to be
    /// right. Candidates are then verified in score order, a batch at a time, and verification
    /// stops once `n` files matched and every candidate left scores strictly less than the
    /// n-th: those could never rank above it. `total` then counts the files verified to match,
    /// not every match.
    pub(crate) fn search_ranked(
        &self,
        q: &Query,
        opts: &SearchOptions,
        top: Option<usize>,
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
        let verify =
            |&(addr, score): &(DocAddress, Score)| -> Result<Option<SearchHit>, EngineError> {
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
                    score: if scoring { score } else { 0.0 },
                    line_count,
                    lines,
                    chunks: Vec::new(),
                    fusion: None,
                }))
            };
        let verify_all = |batch: &[(DocAddress, Score)]| -> Result<Vec<SearchHit>, EngineError> {
            let v: Vec<Option<SearchHit>> =
                batch.par_iter().map(verify).collect::<Result<_, _>>()?;
            Ok(v.into_iter().flatten().collect())
        };

        let mut hits: Vec<SearchHit> = match top {
            // Without words every score is 0: ties everywhere, decided by path, so every
            // candidate must be verified.
            Some(n) if scoring && n > 0 => {
                let mut found = found;
                found.sort_by(|a, b| b.1.total_cmp(&a.1));
                let batch = n.max(64);
                let mut hits = Vec::new();
                let mut at = 0;
                while at < found.len() {
                    let end = (at + batch).min(found.len());
                    hits.extend(verify_all(&found[at..end])?);
                    at = end;
                    if hits.len() >= n && at < found.len() {
                        let mut scores: Vec<Score> = hits.iter().map(|h| h.score).collect();
                        scores.select_nth_unstable_by(n - 1, |a, b| b.total_cmp(a));
                        if found[at].1 < scores[n - 1] {
                            break;
                        }
                    }
                }
                hits
            }
            _ => verify_all(&found)?,
        };
        hits.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| a.path.cmp(&b.path))
        });
        let total = hits.len();
        if let Some(limit) = opts.limit {
            hits.truncate(limit);
        }
        Ok(SearchResults {
            hits,
            total,
            candidates,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }
}
