//! Vector and Hybrid cases end to end: the oracle's exact truth against the engine, on the
//! sample corpus and a synthetic corpus of a few thousand chunks; the oracle's BM25 against the
//! engine's; and faults the validator must catch.

use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;
use verity_engine::{BuildOptions, CodeIndex, Deadline, SearchOptions, VectorConfig, VectorSearch};
use verity_oracle::bm25;
use verity_oracle::nearest::ChunkTable;
use verity_oracle::{read_query, Corpus, CorpusRules};
use verity_validation::truth::{QueryType, VectorSettings};
use verity_validation::BackendQuery;
use verity_validation::{
    generate, ranked_case, BackendError, BackendResponse, CorrectnessValidator, EngineBackend,
    GeneratorOptions, GroundTruthCase, GroundTruthDataset, SearchBackend, ValidatorOptions,
    VectorTruth,
};
use verity_vector::scalar::Scalar;

fn vector_truth(corpus: &Corpus) -> Arc<VectorTruth> {
    let config = VectorConfig::default();
    let embedder = config.embedder.load().unwrap();
    let name = embedder.name();
    Arc::new(VectorTruth {
        table: ChunkTable::build(corpus, embedder, config.chunk.lines, config.chunk.overlap)
            .unwrap(),
        settings: VectorSettings {
            embedder: name,
            chunk_lines: config.chunk.lines,
            chunk_overlap: config.chunk.overlap,
        },
    })
}

fn truth(corpus: &Corpus, cases: usize, seed: u64) -> GroundTruthDataset {
    generate(
        corpus,
        &GeneratorOptions {
            cases,
            seed,
            vectors: Some(vector_truth(corpus)),
        },
    )
}

fn sample() -> (std::path::PathBuf, Corpus) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-corpus");
    let corpus = Corpus::load(&root, &CorpusRules::default()).unwrap();
    (root, corpus)
}

/// The validator options of the truth's chunking (40-line windows overlapping by 10).
fn options() -> ValidatorOptions {
    ValidatorOptions {
        chunking: Some((40, 10)),
        ..ValidatorOptions::default()
    }
}

/// (case id, is correct, recall, approximate) of every ranked case.
fn run(backend: Arc<dyn SearchBackend>, ds: &GroundTruthDataset) -> Vec<(String, bool, f64, bool)> {
    let v = CorrectnessValidator::new(backend, options());
    ds.cases
        .iter()
        .filter(|c| c.query_type.is_ranked())
        .map(|c| {
            let r = v.validate(c, &Deadline::none()).unwrap();
            assert!(
                r.is_correct || r.approximate,
                "{}: {:?}",
                c.id,
                r.failure_reasons
            );
            (c.id.clone(), r.is_correct, r.recall, r.approximate)
        })
        .collect()
}

#[test]
fn generated_ranked_cases_are_well_formed() {
    let (_, corpus) = sample();
    let ds = truth(&corpus, 200, 7);
    assert_eq!(ds.vectors.as_ref().unwrap().embedder, "hash-256");
    for t in [QueryType::Vector, QueryType::Hybrid] {
        let cases: Vec<_> = ds.cases.iter().filter(|c| c.query_type == t).collect();
        assert_eq!(cases.len(), 20, "{t}");
        for c in cases {
            let k = c.k.unwrap();
            assert!(c.expected_files.len() >= k.min(c.expected_files.len()));
            assert_eq!(c.relevance.len(), c.expected_files.len());
            if t == QueryType::Vector {
                assert!(c.expected_files.iter().all(|id| id.contains("#L")), "{c:?}");
            }
            // Grades fall with rank: the truth is best first.
            let grades: Vec<u32> = c.expected_files.iter().map(|f| c.relevance[f]).collect();
            assert!(
                grades.windows(2).all(|w| w[0] >= w[1]),
                "{} {grades:?}",
                c.id
            );
        }
    }
    // It round-trips through the file format with its checks.
    let text = serde_json::to_string(&ds).unwrap();
    assert_eq!(
        GroundTruthDataset::parse(&text, Path::new("t.json")).unwrap(),
        ds
    );
}

#[test]
fn the_engine_passes_every_ranked_case_on_the_sample_corpus() {
    let (root, corpus) = sample();
    let ds = truth(&corpus, 300, 11);
    let tmp = tempfile::tempdir().unwrap();
    let (index, _) = CodeIndex::build(&root, tmp.path(), &BuildOptions::default()).unwrap();
    let results = run(Arc::new(EngineBackend::new(index)), &ds);
    assert_eq!(results.len(), 60);
    let failed: Vec<_> = results.iter().filter(|r| !r.1).collect();
    assert!(failed.is_empty(), "{failed:?}");
}

#[test]
fn the_engine_agrees_with_the_oracle_on_a_synthetic_corpus() {
    // 600 synthetic files: over a thousand chunks, where HNSW is a real approximation.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("corpus");
    verity_validation::synth::write_tree(&root, 600, 5).unwrap();
    let corpus = Corpus::load(&root, &CorpusRules::default()).unwrap();
    let ds = truth(&corpus, 400, 3);
    let idx = dir.path().join("idx");
    let (_, report) = CodeIndex::build(&root, &idx, &BuildOptions::default()).unwrap();
    assert!(report.chunks > 1000, "{} chunks", report.chunks);

    // Searched exactly (the default at this size), every answer is the oracle's: with the
    // default i8 vectors (lossless for the hash embedder), and with f16 and f32 ones.
    let exact = run(Arc::new(EngineBackend::open(&idx).unwrap()), &ds);
    assert_eq!(exact.len(), 80);
    assert!(exact.iter().all(|r| r.1 && !r.3), "{exact:?}");
    for scalar in [Scalar::F16, Scalar::F32] {
        let other = dir.path().join(format!("idx-{scalar}"));
        let opts = BuildOptions {
            vectors: Some(VectorConfig {
                scalar,
                ..VectorConfig::default()
            }),
            ..BuildOptions::default()
        };
        CodeIndex::build(&root, &other, &opts).unwrap();
        let exact = run(Arc::new(EngineBackend::open(&other).unwrap()), &ds);
        assert!(exact.iter().all(|r| r.1 && !r.3), "{scalar}: {exact:?}");
    }

    // From the graph: approximate and built in parallel, so judged by the mean recall@k, as
    // ann-benchmarks does; no case may fall far, and none may be wrong in a way no
    // approximation explains (`run` checks that every failing case was approximate, and the
    // validator fails such faults whatever the mode). Hybrid inherits the graph's misses: a
    // chunk the graph misses moves every later file of the vector ranking up one place.
    // An index kept flat (`auto` at this size) has no graph: asked for one, it still
    // answers exactly, and says so.
    let flat = EngineBackend::open(&idx)
        .unwrap()
        .with_vector_search(Some(VectorSearch::Hnsw));
    let answers = run(Arc::new(flat), &ds);
    assert!(answers.iter().all(|r| r.1 && !r.3), "{answers:?}");
    let graph = dir.path().join("idx-hnsw");
    let opts = BuildOptions {
        vector_search: VectorSearch::Hnsw,
        ..BuildOptions::default()
    };
    CodeIndex::build(&root, &graph, &opts).unwrap();
    let backend = EngineBackend::open(&graph)
        .unwrap()
        .with_vector_search(Some(VectorSearch::Hnsw));
    let results = run(Arc::new(backend), &ds);
    for kind in ["vector", "hybrid"] {
        let of_kind: Vec<_> = results.iter().filter(|r| r.0.starts_with(kind)).collect();
        assert_eq!(of_kind.len(), 40, "{kind}");
        assert!(
            of_kind.iter().all(|r| r.3),
            "{kind}: every answer is approximate"
        );
        assert!(of_kind.iter().all(|r| r.1), "{kind}: no fault: {of_kind:?}");
        let recalls: Vec<f64> = of_kind.iter().map(|r| r.2).collect();
        let mean = recalls.iter().sum::<f64>() / recalls.len() as f64;
        assert!(mean >= 0.97, "{kind}: mean recall@k {mean}");
        assert!(recalls.iter().all(|r| *r >= 0.75), "{kind}: {recalls:?}");
    }
}

#[test]
fn oracle_bm25_orders_files_as_the_engine_does() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("corpus");
    verity_validation::synth::write_tree(&root, 150, 9).unwrap();
    // A word too long to index (minified data): it must not count in the file's length on
    // either side.
    std::fs::write(
        root.join("minified.rs"),
        format!("fn parse() {{ let blob = \"{}\"; }}\n", "x".repeat(300)),
    )
    .unwrap();
    let corpus = Corpus::load(&root, &CorpusRules::default()).unwrap();
    let text_only = BuildOptions {
        vectors: None,
        ..BuildOptions::default()
    };
    let (index, _) = CodeIndex::build(&root, &dir.path().join("idx"), &text_only).unwrap();
    let queries = [
        "parse",
        "HashMap",
        "Result<T, E>",
        "cache OR store",
        "fn AND NOT test",
        "\"pub fn\"",
        "Arc NEAR/3 Mutex",
        "get_*",
    ];
    for q in queries {
        let ours = bm25::ranking(&corpus, &read_query(q).unwrap());
        let theirs = index.search(q, &SearchOptions::default()).unwrap().hits;
        assert_eq!(ours.len(), theirs.len(), "{q}");
        for (o, t) in ours.iter().zip(&theirs) {
            // tantivy scores in f32; the oracle in f64.
            let tolerance = 1e-4 * o.1.abs().max(1.0);
            assert!(
                (o.1 - f64::from(t.score)).abs() <= tolerance,
                "{q}: oracle {o:?}, engine {} {}",
                t.path,
                t.score
            );
            if o.0 != t.path {
                // A different file at this rank is a near-tie resolved the other way.
                let other = ours.iter().find(|x| x.0 == t.path).unwrap();
                assert!(
                    (other.1 - o.1).abs() <= tolerance,
                    "{q}: {o:?} vs {other:?}"
                );
            }
        }
    }
}

/// A backend that swaps the best chunk of every vector answer for the worst chunk of the
/// corpus, and puts the last file of every hybrid answer first after dropping the first.
struct Misranked(EngineBackend);

impl SearchBackend for Misranked {
    fn name(&self) -> &str {
        "misranked"
    }
    fn search(
        &self,
        query: &BackendQuery<'_>,
        deadline: &Deadline,
    ) -> Result<BackendResponse, BackendError> {
        let mut r = self.0.search(query, deadline)?;
        if query.query.starts_with("vector") && !r.hits.is_empty() {
            // Claim the first chunk of the best file is at lines 1000-1001 (no such chunk).
            r.hits[0].chunks[0].0 = 1000;
            r.hits[0].chunks[0].1 = 1001;
        } else if query.query.starts_with("hybrid") && r.hits.len() > 1 {
            r.hits.remove(0);
        }
        Ok(r)
    }
}

#[test]
fn wrong_vector_and_hybrid_answers_are_flagged_with_their_ids() {
    let (root, corpus) = sample();
    let ds = truth(&corpus, 100, 13);
    let tmp = tempfile::tempdir().unwrap();
    let (index, _) = CodeIndex::build(&root, tmp.path(), &BuildOptions::default()).unwrap();
    let backend: Arc<dyn SearchBackend> = Arc::new(Misranked(EngineBackend::new(index)));
    let v = CorrectnessValidator::new(backend, ValidatorOptions::default());
    let mut flagged = 0;
    for c in ds.cases.iter().filter(|c| c.query_type.is_ranked()) {
        let r = v.validate(c, &Deadline::none()).unwrap();
        assert!(!r.is_correct, "{} passed a wrong answer", c.id);
        flagged += 1;
        assert!(r.recall < 1.0);
        assert!(
            r.failure_reasons[0].starts_with("recall@"),
            "{:?}",
            r.failure_reasons
        );
        if c.query_type == QueryType::Vector {
            assert!(r.unexpected_files[0].ends_with("#L1000-1001"), "{r:?}");
            assert_eq!(r.missing_files.len(), 1, "{r:?}");
            assert!(r.missing_files[0].contains("#L"));
        }
    }
    assert_eq!(flagged, 20);
}

/// What a faulty approximate backend does to its answers.
#[derive(Clone, Copy, Debug)]
enum Fault {
    /// A plausible approximation: the last result swapped for a slightly worse one.
    Approximation,
    /// The last result dropped: fewer than k.
    Lost,
    /// The best chunk's similarity misreported.
    WrongScore,
    /// A chunk that is no window of the chunking rule.
    NoSuchChunk,
}

/// The engine searched exactly, then altered as `fault` says and marked approximate.
struct Faulty {
    engine: EngineBackend,
    fault: Fault,
}

impl SearchBackend for Faulty {
    fn name(&self) -> &str {
        "faulty"
    }
    fn search(
        &self,
        query: &BackendQuery<'_>,
        deadline: &Deadline,
    ) -> Result<BackendResponse, BackendError> {
        // k + 1 nearest, so that the approximation has a slightly worse chunk to offer.
        let wider = query.query.replacen("vector(k=3)", "vector(k=4)", 1);
        let mut r = self.engine.search(&query.with_query(&wider), deadline)?;
        r.approximate = true;
        let mut chunks: Vec<(usize, usize, usize, f32)> = r
            .hits
            .iter()
            .enumerate()
            .flat_map(|(f, h)| h.chunks.iter().map(move |c| (f, c.0, c.1, c.2)))
            .collect();
        chunks.sort_by(|a, b| b.3.total_cmp(&a.3));
        let (third, fourth) = (chunks[2], chunks[3]);
        let drop = |r: &mut BackendResponse, c: (usize, usize, usize, f32)| {
            r.hits[c.0].chunks.retain(|x| (x.0, x.1) != (c.1, c.2));
        };
        match self.fault {
            Fault::Approximation => drop(&mut r, third),
            Fault::Lost => {
                drop(&mut r, third);
                drop(&mut r, fourth);
            }
            Fault::WrongScore => {
                drop(&mut r, fourth);
                r.hits[chunks[0].0].chunks[0].2 -= 0.05;
            }
            Fault::NoSuchChunk => {
                drop(&mut r, fourth);
                let c = &mut r.hits[chunks[1].0].chunks[0];
                c.0 += 7;
                c.1 += 7;
                c.2 = 0.0;
            }
        }
        r.hits.retain(|h| !h.chunks.is_empty());
        Ok(r)
    }
}

/// 120 synthetic files (seed 21), loaded for the oracle, with their vector truth and an index
/// built with the defaults; the temporary directory lives as long as the first element.
fn synthetic_120() -> (
    tempfile::TempDir,
    Corpus,
    Arc<VectorTruth>,
    std::path::PathBuf,
) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("corpus");
    verity_validation::synth::write_tree(&root, 120, 21).unwrap();
    let corpus = Corpus::load(&root, &CorpusRules::default()).unwrap();
    let vt = vector_truth(&corpus);
    let idx = dir.path().join("idx");
    CodeIndex::build(&root, &idx, &BuildOptions::default()).unwrap();
    (dir, corpus, vt, idx)
}

#[test]
fn approximate_answers_pass_unless_no_approximation_explains_them() {
    let (_dir, corpus, vt, idx) = synthetic_120();
    // A query whose 3rd and 4th nearest chunks are not near-ties, so that swapping them is
    // a real (if small) approximation error.
    let case: GroundTruthCase = [
        "parse request",
        "cache store",
        "token index",
        "socket thread",
    ]
    .iter()
    .filter_map(|q| ranked_case(&corpus, &vt.table, "v", &format!("vector(k=3): {q}")))
    .find(|c| {
        c.expected_files.len() == 3
            && vt.table.ranking(&c.query[13..]).unwrap()[3].1
                < c.scores[&c.expected_files[2]] - 0.01
    })
    .expect("a query without near-ties at the cut");
    let verdict = |fault| {
        let backend = Faulty {
            engine: EngineBackend::open(&idx)
                .unwrap()
                .with_vector_search(Some(VectorSearch::Exact)),
            fault,
        };
        CorrectnessValidator::new(Arc::new(backend), options())
            .validate(&case, &Deadline::none())
            .unwrap()
    };
    let r = verdict(Fault::Approximation);
    assert!(r.approximate && r.is_correct, "{:?}", r.failure_reasons);
    assert!((r.recall - 2.0 / 3.0).abs() < 1e-9, "recall@3 {}", r.recall);
    assert_eq!(r.missing_files.len(), 1);

    for (fault, says) in [
        (Fault::Lost, "results where the collection has at least 3"),
        (Fault::WrongScore, "the oracle's"),
        (Fault::NoSuchChunk, "no chunk starts at line"),
    ] {
        let r = verdict(fault);
        assert!(!r.is_correct, "{fault:?} passed");
        assert!(
            r.failure_reasons.iter().any(|m| m.contains(says)),
            "{fault:?}: {:?}",
            r.failure_reasons
        );
    }
}

/// The engine's exact hybrid answer without its last file, marked approximate or not.
struct Short {
    engine: EngineBackend,
    approximate: bool,
}

impl SearchBackend for Short {
    fn name(&self) -> &str {
        "short"
    }
    fn search(
        &self,
        query: &BackendQuery<'_>,
        deadline: &Deadline,
    ) -> Result<BackendResponse, BackendError> {
        let mut r = self.engine.search(query, deadline)?;
        r.hits.pop();
        r.approximate = self.approximate;
        Ok(r)
    }
}

/// A graph's `depth` chunks can lie in fewer files than the exact ones, so a short
/// approximate Hybrid answer is judged by recall@k; an exact one that is short lost a file.
#[test]
fn a_short_hybrid_answer_is_recall_when_approximate_and_a_fault_when_exact() {
    let (_dir, corpus, vt, idx) = synthetic_120();
    let case = ["parse request", "cache OR store", "token", "socket thread"]
        .iter()
        .filter_map(|q| ranked_case(&corpus, &vt.table, "h", &format!("hybrid(k=5): {q}")))
        .find(|c| c.expected_files.len() >= 5)
        .expect("a hybrid query with five files");
    let verdict = |approximate| {
        let backend = Short {
            engine: EngineBackend::open(&idx)
                .unwrap()
                .with_vector_search(Some(VectorSearch::Exact)),
            approximate,
        };
        CorrectnessValidator::new(Arc::new(backend), options())
            .validate(&case, &Deadline::none())
            .unwrap()
    };
    let r = verdict(true);
    assert!(r.is_correct, "{:?}", r.failure_reasons);
    let ranking = r.ranking.expect("ranked");
    assert!((ranking.recall_at_k - 0.8).abs() < 1e-9, "{ranking:?}");
    let r = verdict(false);
    assert!(!r.is_correct);
    assert!(
        r.failure_reasons
            .iter()
            .any(|m| m.contains("4 results where the collection has at least 5")),
        "{:?}",
        r.failure_reasons
    );
}

fn lines_strategy() -> impl Strategy<Value = String> {
    let words = prop::sample::select(vec![
        "parse", "request", "cache", "store", "token", "socket", "thread", "matrix", "query",
        "index", "HashMap", "Result", "io_error", "fn", "let", "impl",
    ]);
    let line = prop::collection::vec(words, 0..6).prop_map(|w| w.join(" "));
    prop::collection::vec(line, 1..90).prop_map(|l| l.join("\n") + "\n")
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// On random corpora, exact vector search answers every vector and hybrid query as the
    /// oracle does: the right chunks and files, their scores, and exactly k of them whenever
    /// the collection (or the fused pool) holds k.
    #[test]
    fn exact_answers_equal_the_oracle(
        files in prop::collection::vec(lines_strategy(), 1..14),
        queries in prop::collection::vec(
            (0usize..2, 1usize..25, 1usize..60, prop::sample::select(vec![
                "parse request", "cache OR store", "token", "HashMap NOT impl", "socket thread matrix", "io_error",
            ])),
            1..6,
        ),
    ) {
        let dir = tempfile::tempdir().unwrap();
        for (i, text) in files.iter().enumerate() {
            std::fs::write(dir.path().join(format!("f{i:02}.rs")), text).unwrap();
        }
        let corpus = Corpus::load(dir.path(), &CorpusRules::default()).unwrap();
        let vt = vector_truth(&corpus);
        let idx = tempfile::tempdir().unwrap();
        CodeIndex::build(dir.path(), idx.path(), &BuildOptions::default()).unwrap();
        let backend = EngineBackend::open(idx.path()).unwrap();
        let validator = CorrectnessValidator::new(Arc::new(backend), options());
        for (kind, k, depth, text) in queries {
            let query = if kind == 0 {
                format!("vector(k={k}): {text}")
            } else {
                format!("hybrid(k={k}, depth={depth}): {text}")
            };
            let Some(case) = ranked_case(&corpus, &vt.table, "p", &query) else { continue };
            let r = validator.validate(&case, &Deadline::none()).unwrap();
            prop_assert!(!r.approximate, "{}", query);
            prop_assert!(r.is_correct, "{}: {:?}", query, r.failure_reasons);
            // As many results as the collection (or the fused pool) can give, up to k.
            let available = k.min(case.expected_files.len());
            let returned = if kind == 0 {
                r.ranked.len()
            } else {
                r.result_count
            };
            prop_assert_eq!(returned, available, "{}", query);
        }
    }
}
