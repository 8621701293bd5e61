//! `verity truth generate`: mines queries of every text type from the corpus itself and takes
//! the oracle's answers as the expected files.
//!
//! Deterministic for a seed (ChaCha8, corpus in path order, ordered maps only). Cases are
//! balanced across the eight text types, and across all ten when a [`VectorTruth`] is given;
//! about one in eight cases of each text type is a *negative* case that must return nothing
//! (tag `negative`).
//!
//! Vector and Hybrid cases are ranked: their expected ids are the exact answer plus every
//! near-tie that an approximate search may return instead (within [`VECTOR_TOLERANCE`] of the
//! k-th similarity, or [`HYBRID_TOLERANCE`] of the k-th fused score), best first, graded by
//! similarity (or fused score) for nDCG.

use std::collections::{BTreeMap, BTreeSet};

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use verity_oracle::nearest::ChunkTable;
use verity_oracle::tokens::is_word;
use verity_oracle::tokens::tokenize;
use verity_oracle::{read_query, read_request, Corpus, Expr, Oracle, Request};

use crate::truth::{
    GeneratorSettings, GroundTruthCase, GroundTruthDataset, QueryType, VectorSettings,
    TRUTH_FORMAT_VERSION,
};

/// A returned chunk counts for a Vector case when its cosine similarity is within this of the
/// exact k-th similarity (ann-benchmarks' distance epsilon).
pub const VECTOR_TOLERANCE: f64 = 1e-3;

/// A returned file counts for a Hybrid case when its exact fused score is within this of the
/// exact k-th fused score: less than one rank step at rank 60 (1/120 - 1/121 ≈ 6.9e-5 is not
/// enough, 1/61 - 1/62 ≈ 2.6e-4 is more), so it forgives a near-tie resolved the other way,
/// never a real misranking near the top.
pub const HYBRID_TOLERANCE: f64 = 1e-4;

/// What the generator needs for Vector and Hybrid cases: every chunk embedded, and the
/// settings recorded in the dataset.
pub struct VectorTruth {
    /// Every chunk of the corpus with its vector, as the oracle chunked and embedded it.
    pub table: ChunkTable,
    /// The embedder and chunking that made `table`, recorded in the dataset.
    pub settings: VectorSettings,
}

impl std::fmt::Debug for VectorTruth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VectorTruth")
            .field("chunks", &self.table.len())
            .field("settings", &self.settings)
            .finish()
    }
}

/// Name and version recorded in generated datasets.
pub const GENERATOR: &str = "verity-truth-generator 1";

/// Settings for [`generate`].
#[derive(Debug, Clone)]
pub struct GeneratorOptions {
    /// Cases to generate, shared among the query types.
    pub cases: usize,
    /// The random seed: the same corpus, options and seed give the same dataset.
    pub seed: u64,
    /// Generate Vector and Hybrid cases too.
    pub vectors: Option<std::sync::Arc<VectorTruth>>,
}

struct Miner<'c> {
    corpus: &'c Corpus,
    oracle: Oracle<'c>,
    rng: ChaCha8Rng,
    /// Word tokens (≥ 3 characters, not keywords) → number of files containing them.
    vocab: BTreeMap<String, usize>,
    words: Vec<String>,
    /// (file index, line index) of every non-blank line.
    lines: Vec<(usize, usize)>,
    file_lines: Vec<Vec<String>>,
    seen: BTreeSet<String>,
}

fn is_keyword(w: &str) -> bool {
    matches!(w, "AND" | "OR" | "NOT") || w.starts_with("NEAR")
}

fn short_name(t: QueryType) -> &'static str {
    match t {
        QueryType::SpecialCharacters => "special",
        QueryType::BooleanAnd => "and",
        QueryType::BooleanOr => "or",
        QueryType::BooleanNot => "not",
        QueryType::Proximity => "near",
        QueryType::Phrase => "phrase",
        QueryType::Wildcard => "wildcard",
        QueryType::Regex => "regex",
        QueryType::Vector => "vector",
        QueryType::Hybrid => "hybrid",
    }
}

/// A query the generator proposes: text, whether it is meant to match nothing, and content
/// rules that hold for every matching line.
struct Proposal {
    query: String,
    negative: bool,
    must_contain: Vec<String>,
}

impl<'c> Miner<'c> {
    fn new(corpus: &'c Corpus, seed: u64) -> Self {
        let mut vocab: BTreeMap<String, usize> = BTreeMap::new();
        let mut lines = Vec::new();
        let mut file_lines = Vec::new();
        for (fi, f) in corpus.files().iter().enumerate() {
            let words: BTreeSet<String> = tokenize(&f.text)
                .into_iter()
                .filter(|(t, w)| *w && t.chars().count() >= 3 && !is_keyword(t))
                .map(|(t, _)| t)
                .collect();
            for w in words {
                *vocab.entry(w).or_insert(0) += 1;
            }
            let fl: Vec<String> = f.lines().into_iter().map(str::to_owned).collect();
            for (li, l) in fl.iter().enumerate() {
                if !l.trim().is_empty() && l.chars().count() < 500 {
                    lines.push((fi, li));
                }
            }
            file_lines.push(fl);
        }
        let words = vocab.keys().cloned().collect();
        Miner {
            corpus,
            oracle: Oracle::new(corpus),
            rng: ChaCha8Rng::seed_from_u64(seed),
            vocab,
            words,
            lines,
            file_lines,
            seen: BTreeSet::new(),
        }
    }

    fn random_line(&mut self) -> Option<&str> {
        let &(f, l) = self.lines.choose(&mut self.rng)?;
        Some(&self.file_lines[f][l])
    }

    fn word(&mut self) -> Option<String> {
        self.words.choose(&mut self.rng).cloned()
    }

    /// A word found in many files, or in few.
    fn word_by_frequency(&mut self, common: bool) -> Option<String> {
        let n_files = self.corpus.files().len().max(1);
        for _ in 0..20 {
            let w = self.word()?;
            let df = self.vocab[&w];
            if common == (df * 4 >= n_files || df >= 4) {
                return Some(w);
            }
        }
        self.word()
    }

    /// A string that occurs nowhere in the corpus.
    fn absent(&mut self) -> String {
        loop {
            let n: u32 = self.rng.random_range(0..1_000_000);
            let s = format!("zqx{n}vk");
            if !self.corpus.files().iter().any(|f| f.text.contains(&s)) {
                return s;
            }
        }
    }

    fn special(&mut self) -> Option<Proposal> {
        let line: Vec<char> = self.random_line()?.chars().collect();
        let specials: Vec<usize> = (0..line.len())
            .filter(|&i| line[i].is_ascii_punctuation())
            .collect();
        let &p = specials.choose(&mut self.rng)?;
        let start = p.saturating_sub(self.rng.random_range(0..10));
        let end = (p + 1 + self.rng.random_range(0..12)).min(line.len());
        let snippet: String = line[start..end]
            .iter()
            .collect::<String>()
            .trim()
            .to_owned();
        if snippet.chars().count() < 2 || !snippet.chars().any(|c| c.is_ascii_punctuation()) {
            return None;
        }
        let negative = self.rng.random_ratio(1, 8);
        let text = if negative {
            format!("{snippet}{}", self.absent())
        } else {
            snippet
        };
        // Plain if the language reads it as exactly this literal, else explicit.
        let plain_ok = matches!(read_query(&text), Ok(Expr::Substring(ref s)) if *s == text);
        let query = if plain_ok {
            text.clone()
        } else {
            format!("lit:{text}")
        };
        Some(Proposal {
            query,
            negative,
            must_contain: vec![text],
        })
    }

    fn boolean_and(&mut self) -> Option<Proposal> {
        let a = self.word_by_frequency(true)?;
        let negative = self.rng.random_ratio(1, 8);
        let b = if negative {
            self.absent()
        } else {
            // A word from a file that contains `a`, so the conjunction usually matches.
            let holders: Vec<usize> = (0..self.corpus.files().len())
                .filter(|&i| self.corpus.files()[i].text.contains(&a))
                .collect();
            let &fi = holders.choose(&mut self.rng)?;
            let toks: Vec<String> = tokenize(&self.corpus.files()[fi].text)
                .into_iter()
                .filter(|(t, w)| *w && t.chars().count() >= 3 && !is_keyword(t))
                .map(|(t, _)| t)
                .collect();
            toks.choose(&mut self.rng)?.clone()
        };
        let query = if self.rng.random_ratio(1, 4) {
            let c = self.word_by_frequency(true)?;
            format!("{a} AND {b} AND {c}")
        } else {
            format!("{a} AND {b}")
        };
        Some(Proposal {
            query,
            negative,
            must_contain: vec![],
        })
    }

    fn boolean_or(&mut self) -> Option<Proposal> {
        let negative = self.rng.random_ratio(1, 8);
        let n = self.rng.random_range(2..=3);
        let mut terms = Vec::new();
        for _ in 0..n {
            terms.push(if negative {
                self.absent()
            } else {
                self.word_by_frequency(false)?
            });
        }
        Some(Proposal {
            query: terms.join(" OR "),
            negative,
            must_contain: vec![],
        })
    }

    fn boolean_not(&mut self) -> Option<Proposal> {
        let a = self.word_by_frequency(true)?;
        let b = self.word()?;
        let query = match self.rng.random_range(0..6) {
            0 => format!("NOT {b}"),
            1 => format!("({a} OR {b}) NOT {}", self.word_by_frequency(true)?),
            2 => format!("{a} AND NOT ({b} OR {})", self.word()?),
            3 => format!("{a} NOT {a}"),
            _ => format!("{a} NOT {b}"),
        };
        Some(Proposal {
            negative: query.contains(&format!("{a} NOT {a}")),
            query,
            must_contain: vec![],
        })
    }

    fn proximity(&mut self) -> Option<Proposal> {
        let fi = self.rng.random_range(0..self.corpus.files().len());
        let toks = tokenize(&self.corpus.files()[fi].text);
        let word_idx: Vec<usize> = (0..toks.len())
            .filter(|&i| toks[i].1 && !is_keyword(&toks[i].0))
            .collect();
        if word_idx.len() < 2 {
            return None;
        }
        let k = self.rng.random_range(0..word_idx.len() - 1);
        let gap = self.rng.random_range(0..=5).min(word_idx.len() - 2 - k);
        let (i, j) = (word_idx[k], word_idx[k + 1 + gap]);
        let (a, b) = (toks[i].0.clone(), toks[j].0.clone());
        let n = match self.rng.random_range(0..4) {
            0 => gap.saturating_sub(1),
            1 => gap + 2,
            _ => gap,
        };
        let (a, b) = if self.rng.random_bool(0.5) {
            (a, b)
        } else {
            (b, a)
        };
        let query = if self.rng.random_ratio(1, 3) {
            format!("\"{a} {b}\"~{n}")
        } else {
            format!("{a} NEAR/{n} {b}")
        };
        Some(Proposal {
            query,
            negative: false,
            must_contain: vec![],
        })
    }

    fn phrase(&mut self) -> Option<Proposal> {
        let &(f, l) = self.lines.choose(&mut self.rng)?;
        let here = tokenize(&self.file_lines[f][l]);
        let spanning = self.rng.random_ratio(1, 4) && l + 1 < self.file_lines[f].len();
        let toks: Vec<String> = if spanning {
            let next = tokenize(&self.file_lines[f][l + 1]);
            if here.is_empty() || next.is_empty() {
                return None;
            }
            let a = self.rng.random_range(1..=here.len().min(3));
            let b = self.rng.random_range(1..=next.len().min(3));
            here[here.len() - a..]
                .iter()
                .chain(&next[..b])
                .map(|t| t.0.clone())
                .collect()
        } else {
            if here.len() < 2 {
                return None;
            }
            let len = self.rng.random_range(2..=here.len().min(6));
            let start = self.rng.random_range(0..=here.len() - len);
            here[start..start + len]
                .iter()
                .map(|t| t.0.clone())
                .collect()
        };
        if toks.iter().any(|t| t == "\"") {
            return None;
        }
        let negative = self.rng.random_ratio(1, 8);
        let mut text = toks.join(" ");
        if negative {
            text.push(' ');
            text.push_str(&self.absent());
        }
        Some(Proposal {
            query: format!("\"{text}\""),
            negative,
            must_contain: vec![],
        })
    }

    fn wildcard(&mut self) -> Option<Proposal> {
        let w: Vec<char> = self.word()?.chars().collect();
        if w.len() < 4 {
            return None;
        }
        let form = self.rng.random_range(0..5);
        let pattern: String = match form {
            0 => {
                let k = self.rng.random_range(2..w.len());
                w[..k].iter().collect::<String>() + "*"
            }
            1 => {
                let k = self.rng.random_range(1..w.len() - 1);
                "*".to_string() + &w[k..].iter().collect::<String>()
            }
            2 => {
                let k = self.rng.random_range(0..w.len());
                w.iter()
                    .enumerate()
                    .map(|(i, c)| if i == k { '?' } else { *c })
                    .collect()
            }
            3 => {
                // snake_case: replace a middle segment (`test_*_validation`).
                let s: String = w.iter().collect();
                let parts: Vec<&str> = s.split('_').collect();
                if parts.len() < 3 {
                    return None;
                }
                let m = self.rng.random_range(1..parts.len() - 1);
                parts
                    .iter()
                    .enumerate()
                    .map(|(i, p)| if i == m { "*" } else { p })
                    .collect::<Vec<_>>()
                    .join("_")
            }
            _ => {
                // Two words of a line separated by spaces (`fn m?in`).
                let line = self.random_line()?.to_owned();
                let ws: Vec<&str> = line.split(' ').filter(|s| !s.is_empty()).collect();
                let pairs: Vec<(&str, &str)> = ws
                    .windows(2)
                    .filter(|p| {
                        p.iter().all(|s| s.chars().all(is_word)) && p[1].chars().count() >= 2
                    })
                    .map(|p| (p[0], p[1]))
                    .collect();
                let &(a, b) = pairs.choose(&mut self.rng)?;
                let bc: Vec<char> = b.chars().collect();
                let k = self.rng.random_range(0..bc.len());
                let b2: String = bc
                    .iter()
                    .enumerate()
                    .map(|(i, c)| if i == k { '?' } else { *c })
                    .collect();
                format!("{a} {b2}")
            }
        };
        if !matches!(read_query(&pattern), Ok(Expr::Wildcard(_))) {
            return None;
        }
        Some(Proposal {
            query: pattern,
            negative: false,
            must_contain: vec![],
        })
    }

    fn regex(&mut self) -> Option<Proposal> {
        let w = self.word()?;
        let templates = [
            r"\bW\b",
            r"W\s*\(",
            r"^\s*W",
            r"(?i)W",
            r"W\w*",
            r"(fn|def|function)\s+W",
            r"W::\w+",
            r"[A-Z]\w*W",
            r"W\s*[=:]",
            r"W\s*$",
            r#""[^"]*W"#,
            r"\.W\b",
        ];
        let t = templates.choose(&mut self.rng)?;
        let negative = self.rng.random_ratio(1, 8);
        let word = if negative { self.absent() } else { w };
        let pattern = t.replace('W', &word);
        let query = if self.rng.random_bool(0.5) {
            format!("/{pattern}/")
        } else {
            format!("regex:{pattern}")
        };
        Some(Proposal {
            query,
            negative,
            must_contain: vec![],
        })
    }

    fn propose(&mut self, t: QueryType) -> Option<Proposal> {
        match t {
            QueryType::SpecialCharacters => self.special(),
            QueryType::BooleanAnd => self.boolean_and(),
            QueryType::BooleanOr => self.boolean_or(),
            QueryType::BooleanNot => self.boolean_not(),
            QueryType::Proximity => self.proximity(),
            QueryType::Phrase => self.phrase(),
            QueryType::Wildcard => self.wildcard(),
            QueryType::Regex => self.regex(),
            QueryType::Vector => self.vector(),
            QueryType::Hybrid => self.hybrid(),
        }
    }

    /// A few consecutive words of a line: "find code like this".
    fn words_of_line(&mut self) -> Option<String> {
        let line = self.random_line()?.to_owned();
        let words: Vec<String> = tokenize(&line)
            .into_iter()
            .filter(|(t, w)| *w && !is_keyword(t))
            .map(|(t, _)| t)
            .collect();
        if words.len() < 2 {
            return None;
        }
        let n = self.rng.random_range(2..=words.len().min(5));
        let start = self.rng.random_range(0..=words.len() - n);
        Some(words[start..start + n].join(" "))
    }

    fn ranked_params(&mut self) -> String {
        match self.rng.random_range(0..3) {
            0 => String::new(),
            1 => "(k=5)".into(),
            _ => "(k=20)".into(),
        }
    }

    fn vector(&mut self) -> Option<Proposal> {
        let text = if self.rng.random_bool(0.7) {
            self.words_of_line()?
        } else {
            format!("{} {}", self.word()?, self.word()?)
        };
        let params = self.ranked_params();
        Some(Proposal {
            query: format!("vector{params}: {text}"),
            negative: false,
            must_contain: vec![],
        })
    }

    fn hybrid(&mut self) -> Option<Proposal> {
        let text = match self.rng.random_range(0..3) {
            0 => self.word_by_frequency(true)?,
            1 => format!("{} OR {}", self.word()?, self.word_by_frequency(true)?),
            _ => self.words_of_line()?,
        };
        let params = self.ranked_params();
        Some(Proposal {
            query: format!("hybrid{params}: {text}"),
            negative: false,
            must_contain: vec![],
        })
    }
}

/// One id of a ranked case's exact answer.
struct RankedId {
    id: String,
    grade: u32,
    /// The exact similarity (Vector) or fused score (Hybrid).
    score: f64,
}

/// The exact answer of a ranked case, best first, and k. `None` when the query is not a
/// vector or hybrid request or has no answer.
fn ranked_truth(
    corpus: &Corpus,
    table: &ChunkTable,
    query: &str,
) -> Option<(Vec<RankedId>, usize, QueryType)> {
    match read_request(query).ok()? {
        Request::Vector(r) => {
            let truth = table.vector_truth(&r, VECTOR_TOLERANCE).ok()?;
            let ids = truth
                .into_iter()
                .map(|(s, sim)| RankedId {
                    id: s.id(),
                    grade: (sim * 100.0).round().max(1.0) as u32,
                    score: sim,
                })
                .collect();
            Some((ids, r.k, QueryType::Vector))
        }
        Request::Hybrid(r) => {
            let ranking = table.hybrid_ranking(corpus, &r).ok()?;
            let kth = ranking.get(r.k.min(ranking.len()).checked_sub(1)?)?.1;
            let ids = ranking
                .into_iter()
                .enumerate()
                .take_while(|(i, (_, s))| *i < r.k || *s >= kth - HYBRID_TOLERANCE)
                .map(|(_, (p, s))| RankedId {
                    id: p,
                    grade: (s * 10_000.0).round().max(1.0) as u32,
                    score: s,
                })
                .collect();
            Some((ids, r.k, QueryType::Hybrid))
        }
        Request::Text(_) => None,
    }
}

/// The case of one `vector:` or `hybrid:` query with the oracle's exact answer: expected ids
/// best first (with their near-ties), grades and exact scores, and k. `None` when the query is
/// not a valid vector or hybrid request or has no answer.
pub fn ranked_case(
    corpus: &Corpus,
    table: &ChunkTable,
    id: &str,
    query: &str,
) -> Option<GroundTruthCase> {
    let (ids, k, query_type) = ranked_truth(corpus, table, query)?;
    if ids.is_empty() {
        return None;
    }
    let mut case = GroundTruthCase::new(
        id,
        query,
        query_type,
        ids.iter().map(|r| r.id.clone()).collect(),
    );
    case.relevance = ids.iter().map(|r| (r.id.clone(), r.grade)).collect();
    case.scores = ids.into_iter().map(|r| (r.id, r.score)).collect();
    case.k = Some(k);
    Some(case)
}

/// Generates a balanced dataset of text cases for `corpus`.
pub fn generate(corpus: &Corpus, opts: &GeneratorOptions) -> GroundTruthDataset {
    let mut miner = Miner::new(corpus, opts.seed);
    let types: &[QueryType] = if opts.vectors.is_some() {
        &QueryType::ALL
    } else {
        &QueryType::TEXT
    };
    let mut cases = Vec::with_capacity(opts.cases);
    if !corpus.files().is_empty() {
        for (ti, &t) in types.iter().enumerate() {
            let quota = opts.cases / types.len() + usize::from(ti < opts.cases % types.len());
            let mut made = 0;
            let mut attempts = 0;
            while made < quota && attempts < quota * 50 + 100 {
                attempts += 1;
                let Some(p) = miner.propose(t) else { continue };
                if miner.seen.contains(&p.query) {
                    continue;
                }
                if t.is_ranked() {
                    let Some(vt) = opts.vectors.as_deref() else {
                        continue;
                    };
                    let id = format!("{}-{:04}", short_name(t), made + 1);
                    let Some(mut case) = ranked_case(corpus, &vt.table, &id, &p.query) else {
                        continue;
                    };
                    miner.seen.insert(p.query);
                    made += 1;
                    case.tags.push("generated".into());
                    cases.push(case);
                    continue;
                }
                let Ok(files) = miner.oracle.files(&p.query) else {
                    continue;
                };
                if p.negative != files.is_empty() {
                    continue;
                }
                miner.seen.insert(p.query.clone());
                made += 1;
                let mut case = GroundTruthCase::new(
                    format!("{}-{made:04}", short_name(t)),
                    p.query,
                    t,
                    files.into_iter().collect(),
                );
                case.must_contain = p.must_contain;
                case.tags.push("generated".into());
                if p.negative {
                    case.tags.push("negative".into());
                }
                cases.push(case);
            }
        }
    }
    GroundTruthDataset {
        format_version: TRUTH_FORMAT_VERSION,
        corpus_fingerprint: corpus.fingerprint(),
        generator: Some(GeneratorSettings {
            generator: GENERATOR.into(),
            seed: opts.seed,
            cases: opts.cases,
        }),
        vectors: opts.vectors.as_ref().map(|v| v.settings.clone()),
        cases,
    }
}
