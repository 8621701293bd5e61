//! Text search: plan candidates in the index, verify them exactly against the indexed text,
//! rank by BM25 then path, return.

use std::borrow::Cow;
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;
use tantivy::collector::{Collector, DocSetCollector, SegmentCollector};
use tantivy::query::{AllQuery, Query as TQuery};
use tantivy::{DocAddress, DocId, Score, SegmentOrdinal, SegmentReader};

use crate::certain::certain_matches;
use crate::deadline::Deadline;
use crate::error::EngineError;
use crate::index::CodeIndex;
use crate::matcher::{FileText, Matcher};
use crate::plan::{candidates, scoring_terms};
use crate::query::Query;
use crate::rank_cache::{order_by_paths, rank_order};
use crate::results::{LineMatch, SearchHit, SearchOptions, SearchResults};
use crate::source::TextSource;
use crate::text::display_line;
use crate::text_store::Cursor;

/// Collects every matching document (with a score of 0, filled in from the word index after:
/// `crate::word_index`), and stops early once the deadline passes.
struct AllFound {
    deadline: Deadline,
}

struct AllFoundSegment {
    segment: SegmentOrdinal,
    deadline: Deadline,
    stopped: bool,
    hits: Vec<(DocAddress, Score)>,
}

impl Collector for AllFound {
    type Fruit = Vec<(DocAddress, Score)>;
    type Child = AllFoundSegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        _reader: &SegmentReader,
    ) -> tantivy::Result<AllFoundSegment> {
        Ok(AllFoundSegment {
            segment,
            deadline: self.deadline.clone(),
            stopped: false,
            hits: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<Vec<(DocAddress, Score)>>) -> tantivy::Result<Self::Fruit> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for AllFoundSegment {
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

/// A query has few candidates when they are at most one in this many documents: then, unless
/// the path ranks are computed already, the candidates are ordered by their own paths
/// ([`order_by_paths`]).
const FEW_CANDIDATES: usize = 16;

impl CodeIndex {
    /// Runs a parsed query.
    ///
    /// Every candidate the index proposes is verified against the file's indexed text, unless
    /// the index alone says it matches (`crate::certain`) and only files are asked for. With a
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
        // When the index answers the query exactly (`crate::certain`), that answer is the
        // plan: no candidate that cannot match, and a match decided without reading the file
        // (lines are still read where they are shown).
        let (plan, certain, exact): (Box<dyn TQuery>, _, bool) =
            match certain_matches(&self.plan, q) {
                Some(c) if c.exact => (c.query, None, true),
                c => (
                    candidates(&self.plan, q).unwrap_or_else(|| Box::new(AllQuery)),
                    c,
                    false,
                ),
            };
        let words = scoring_terms(q);
        let scoring = !words.is_empty();

        let searcher = self.reader.searcher();
        let mut found = searcher.search(
            &*plan,
            &AllFound {
                deadline: deadline.clone(),
            },
        )?;
        deadline.check()?;
        // The candidates' BM25 scores, from the word index: computed for these only.
        if scoring {
            self.plan.words.score(&searcher, &words, &mut found)?;
            deadline.check()?;
        }
        let candidates = found.len();

        // Every file of the answer is listed, and many are candidates: the files the query
        // certainly matches are taken from the index alone (`crate::certain`) and not read.
        let certain: HashSet<DocAddress> = match certain {
            Some(c)
                if opts.files_only
                    && opts.limit.is_none()
                    && candidates >= CERTAIN_FROM
                    && (!c.walks_dictionary
                        || candidates.saturating_mul(WORDS_PER_CANDIDATE)
                            >= self.plan.words.num_words()) =>
            {
                searcher.search(&*c.query, &DocSetCollector)?
            }
            _ => HashSet::new(),
        };
        deadline.check()?;

        // A file known to match without reading it, when only whether it matches is asked.
        let decided =
            |files_only: bool, a: DocAddress| files_only && (exact || certain.contains(&a));
        let source = TextSource::new(PathBuf::from(&self.meta.root), &searcher, &self.texts)?;
        // Verifies one candidate (its path, when known), reading a corpus file into `buf`;
        // `files_only` decides the match without collecting lines.
        let verify = |matcher: &Matcher,
                      cursor: &mut Cursor,
                      (addr, score): (DocAddress, Score),
                      known: Option<String>,
                      files_only: bool,
                      buf: &mut Vec<u8>|
         -> Result<Option<SearchHit>, EngineError> {
            deadline.check()?;
            let score = if scoring { score } else { 0.0 };
            if decided(files_only, addr) {
                if let Some(path) = known {
                    return Ok(Some(text_hit(path, score, 0, Vec::new())));
                }
            }
            let (path, text) = source.read(cursor, addr, known, buf)?;
            let content = &*text;
            let file = FileText::new(content);
            if files_only {
                let found = matcher.is_match(&file, deadline)?;
                return Ok(found.then(|| text_hit(path, score, 0, Vec::new())));
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
                .map(|n| {
                    let text = display_line(&content[li.span(n, content)]);
                    LineMatch {
                        line: n,
                        spans: matcher.highlights(text),
                        text: text.to_owned(),
                    }
                })
                .collect();
            Ok(Some(text_hit(path, score, line_count, lines)))
        };
        // Candidates are verified in the order of their text addresses, whatever order they
        // come in: a block of the text store holds neighbouring files, so reading in rank order
        // would decompress each block again and again. Threads take runs of neighbouring
        // candidates, each run with its own cursor (the block it decompressed last); long runs
        // also have their own matcher (its own regex caches), so threads share no lock.
        // Results come with their index into the input, in no particular order.
        let verify_all = |batch: &[(DocAddress, Score)],
                          files_only: bool|
         -> Result<Vec<(usize, SearchHit)>, EngineError> {
            let mut by_address: Vec<(u64, usize)> = batch
                .iter()
                .enumerate()
                .map(|(i, (a, _))| (source.address(*a).unwrap_or(u64::MAX), i))
                .collect();
            // Candidates come in document order, and each segment's documents were added in
            // address order: a stable sort finds those runs and merges them.
            by_address.sort();
            let by_address: Vec<usize> = by_address.into_iter().map(|(_, i)| i).collect();
            let paths = source.paths(&batch.iter().map(|(a, _)| *a).collect::<Vec<_>>(), |a| {
                decided(files_only, a)
            });
            let run_len =
                (batch.len() / (rayon::current_num_threads() * RUNS_PER_THREAD)).clamp(1, MAX_RUN);
            let own = run_len >= OWN_MATCHER_FROM;
            let verified: Vec<(usize, SearchHit)> = by_address
                .chunks(run_len)
                .collect::<Vec<_>>()
                .par_iter()
                .map(|run| {
                    let matcher = if own {
                        Cow::Owned(matcher.clone())
                    } else {
                        Cow::Borrowed(&matcher)
                    };
                    let mut cursor = Cursor::default();
                    with_read_buffer(|buf| {
                        let mut hits = Vec::new();
                        for &i in *run {
                            let known = paths[i].clone();
                            if let Some(h) =
                                verify(&matcher, &mut cursor, batch[i], known, files_only, buf)?
                            {
                                hits.push((i, h));
                            }
                        }
                        Ok(hits)
                    })
                })
                .collect::<Result<Vec<_>, EngineError>>()?
                .into_iter()
                .flatten()
                .collect();
            // In no particular order: segments' documents interleave in address order (the
            // writer's threads took turns), and putting 98,000 hits back in input order cost
            // a sort or a fresh array of them. The full answer is ordered by path and score
            // below, and a round of a best-N search needs only its least indices.
            Ok(verified)
        };

        let (mut hits, total, total_exact) = match opts.limit {
            None => {
                let verified = verify_all(&found, opts.files_only)?;
                // Ordered by (score, path) without sorting by paths: `TextSource::path_order`
                // puts the answer in path order from the path columns.
                let by_path = source.path_order(
                    &verified
                        .iter()
                        .map(|(i, h)| (found[*i].0, h.path.as_str()))
                        .collect::<Vec<_>>(),
                );
                // Small keys are sorted, not the hits (a path, lines and more each): in path
                // order first, then stably by score.
                let mut keys: Vec<(Score, usize)> = by_path
                    .into_iter()
                    .map(|k| (verified[k].1.score, k))
                    .collect();
                keys.par_sort_by(|a, b| b.0.total_cmp(&a.0));
                let mut slots: Vec<Option<SearchHit>> =
                    verified.into_iter().map(|(_, h)| Some(h)).collect();
                let hits: Vec<SearchHit> = keys
                    .into_iter()
                    .filter_map(|(_, k)| slots[k].take())
                    .collect();
                let total = hits.len();
                (hits, total, true)
            }
            Some(limit) => {
                // Ranking every path costs a pass over the whole path dictionary, once per
                // index generation; a query with few candidates in a process that has not paid
                // it (one query a process) orders them by their own paths instead.
                let few =
                    found.len().saturating_mul(FEW_CANDIDATES) <= searcher.num_docs() as usize;
                let order = match self.path_ranks.cached(&searcher) {
                    None if few => order_by_paths(&self.dir, &source, found, scoring)?,
                    _ => rank_order(&*self.path_ranks.get(&self.dir, &searcher)?, found, scoring),
                };
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
                // The `limit` best: the least indices into `order`.
                if matched.len() > limit {
                    matched.select_nth_unstable_by_key(limit, |(i, _)| *i);
                    matched.truncate(limit);
                }
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
        if let Some(limit) = opts.limit {
            // At most `limit` files, in (score, path) order; on every thread, for large
            // limits. Stable, so equal keys keep their order whatever the thread count.
            hits.par_sort_by(|a, b| {
                b.score
                    .total_cmp(&a.score)
                    .then_with(|| a.path.cmp(&b.path))
            });
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

/// A query with at least this many candidates takes its certain matches from the index
/// (`crate::certain`) when every matching file is listed. The lookup is a second search; with
/// fewer candidates there is little reading for it to save. The number is a choice, not a
/// measured break-even.
const CERTAIN_FROM: usize = 4096;
/// A wildcard that starts with `*` or `?` walks the word index's whole dictionary, not the
/// words of a prefix: on the registry (13,525 files, 615,222 words) a full walk took about
/// 20 ms in a fresh `verity search` process, page faults included (`?rrorZ`, index format 8),
/// 0.03 µs a word; tantivy's FST walk for the same took 0.17 µs a term. Reading and checking
/// a small candidate from the store costs about 5 µs (the synthetic tree's 96,000-file
/// queries), about 160 words' worth, so the walk is taken only with at least one candidate
/// for this many words (a margin below the break-even). Large files cost more to read; there
/// the walk is declined where it would still pay.
const WORDS_PER_CANDIDATE: usize = 128;

/// Runs of candidates verified by one task each: about this many for each thread, so that
/// threads finishing early find more to take.
const RUNS_PER_THREAD: usize = 8;
/// Runs at least this long get their own matcher. A fresh matcher rebuilds its regexes' lazy
/// automata: a best-10 round of ten candidates would pay that once a candidate, where the
/// shared one has them warm from earlier rounds.
const OWN_MATCHER_FROM: usize = 32;
/// At most this many candidates a run. A run starts with an empty cursor, so a block of the
/// text store split between two runs is decompressed twice: with runs this long and about
/// seven small files a block, that is a few percent of the blocks.
const MAX_RUN: usize = 512;

/// A text query's hit: `lines` are the first matching lines, `line_count` counts them all.
fn text_hit(path: String, score: Score, line_count: usize, lines: Vec<LineMatch>) -> SearchHit {
    SearchHit {
        path,
        score,
        line_count,
        lines,
        chunks: Vec::new(),
        fusion: None,
    }
}

thread_local! {
    /// The buffer corpus files are read into for verification, one per thread, kept from
    /// candidate to candidate and query to query: a fresh one for each large file cost a page
    /// fault and a cleared page for every 4 KiB read (`crate::source`).
    static READ_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's read buffer (a fresh one if `f` is already running on this
/// thread, as when the thread pool runs a task while another waits).
fn with_read_buffer<T>(f: impl FnOnce(&mut Vec<u8>) -> T) -> T {
    READ_BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => f(&mut buf),
        Err(_) => f(&mut Vec::new()),
    })
}
