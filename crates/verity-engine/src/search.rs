//! Searching an index: plan candidates, verify them exactly, rank, return.

use std::collections::BTreeMap;
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
    /// read from the path's fast field, so without loading any document) and verified in that
    /// order, a growing batch at a time, until `limit` of them match: those are exactly the
    /// `limit` best matches, because verification removes files but never reorders them.
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
                let score = if scoring { score } else { 0.0 };
                if opts.files_only {
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
        let verify_all = |batch: &[(DocAddress, Score)]| -> Result<Vec<SearchHit>, EngineError> {
            let v: Vec<Option<SearchHit>> =
                batch.par_iter().map(verify).collect::<Result<_, _>>()?;
            Ok(v.into_iter().flatten().collect())
        };

        let (mut hits, total_exact) = match opts.limit {
            None => (verify_all(&found)?, true),
            Some(limit) => {
                let order = rank_order(&self.dir, &searcher, found, scoring)?;
                // `--limit 0` still verifies until one match, so the exit status and `total`
                // can say whether anything matches.
                let want = limit.max(1);
                // The first batch is exactly as large as the answer (verified in parallel), so
                // how much is verified does not depend on the machine's thread count.
                let mut batch = want;
                let mut hits = Vec::new();
                let mut at = 0;
                while at < order.len() && hits.len() < want {
                    let end = (at + batch).min(order.len());
                    hits.extend(verify_all(&order[at..end])?);
                    at = end;
                    // Doubling bounds the rounds when few candidates match.
                    batch = batch.saturating_mul(2);
                }
                (hits, at == order.len())
            }
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
            total_exact,
            candidates,
            elapsed_ms: started.elapsed().as_secs_f64() * 1000.0,
        })
    }
}

/// Candidates in the order results are returned: score descending (0 for every candidate of a
/// query without words), then path ascending. Paths come from the `path` fast field: per
/// segment, the candidates' term ordinals are sorted and decoded in one pass over the
/// dictionary, so no stored document is read.
fn rank_order(
    dir: &Path,
    searcher: &Searcher,
    found: Vec<(DocAddress, Score)>,
    scoring: bool,
) -> Result<Vec<(DocAddress, Score)>, EngineError> {
    let corrupt = |detail: String| EngineError::IndexCorrupt {
        path: dir.to_path_buf(),
        detail,
    };
    let mut by_segment: BTreeMap<SegmentOrdinal, Vec<usize>> = BTreeMap::new();
    for (i, (addr, _)) in found.iter().enumerate() {
        by_segment.entry(addr.segment_ord).or_default().push(i);
    }
    let mut paths: Vec<Option<Arc<str>>> = vec![None; found.len()];
    for (segment, members) in by_segment {
        let column = searcher
            .segment_reader(segment)
            .fast_fields()
            .str(PATH_FIELD)?
            .ok_or_else(|| corrupt("the path field has no fast column".to_string()))?;
        let mut ords: Vec<(u64, usize)> = Vec::with_capacity(members.len());
        for i in members {
            let ord = column
                .term_ords(found[i].0.doc_id)
                .next()
                .ok_or_else(|| corrupt(format!("document {:?} has no path", found[i].0)))?;
            ords.push((ord, i));
        }
        ords.sort_unstable();
        let mut distinct: Vec<u64> = ords.iter().map(|&(o, _)| o).collect();
        distinct.dedup();
        let mut names: Vec<Arc<str>> = Vec::with_capacity(distinct.len());
        column
            .dictionary()
            .sorted_ords_to_term_cb(&distinct, |bytes| {
                names.push(Arc::from(String::from_utf8_lossy(bytes)));
            })
            .map_err(|e| corrupt(format!("path dictionary: {e}")))?;
        let mut k = 0;
        for (ord, i) in ords {
            while distinct[k] != ord {
                k += 1;
            }
            paths[i] = names.get(k).cloned();
        }
    }
    let mut keyed: Vec<(Score, Arc<str>, DocAddress)> = found
        .into_iter()
        .zip(paths)
        .map(|((addr, score), path)| {
            (
                if scoring { score } else { 0.0 },
                path.unwrap_or_else(|| Arc::from("")),
                addr,
            )
        })
        .collect();
    keyed.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    Ok(keyed.into_iter().map(|(s, _, a)| (a, s)).collect())
}
