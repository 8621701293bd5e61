//! Vector and Hybrid cases end to end: the oracle's exact truth against the engine, on the
//! sample corpus and a synthetic corpus of a few thousand chunks; the oracle's BM25 against the
//! engine's; and faults the validator must catch.

use std::path::Path;
use std::sync::Arc;

use verity_engine::{BuildOptions, CodeIndex, Deadline, SearchOptions, VectorConfig};
use verity_oracle::bm25;
use verity_oracle::nearest::ChunkTable;
use verity_oracle::{read_query, Corpus, CorpusRules};
use verity_validation::truth::{QueryType, VectorSettings};
use verity_validation::{
    generate, BackendError, BackendResponse, CorrectnessValidator, EngineBackend, GeneratorOptions,
    GroundTruthDataset, SearchBackend, ValidatorOptions, VectorTruth,
};

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

/// (case id, is correct, recall) of every ranked case.
fn run(backend: Arc<dyn SearchBackend>, ds: &GroundTruthDataset) -> Vec<(String, bool, f64)> {
    let v = CorrectnessValidator::new(backend, ValidatorOptions::default());
    ds.cases
        .iter()
        .filter(|c| c.query_type.is_ranked())
        .map(|c| {
            let r = v.validate(c, &Deadline::none()).unwrap();
            (c.id.clone(), r.is_correct, r.recall)
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
    let (index, report) =
        CodeIndex::build(&root, &dir.path().join("idx"), &BuildOptions::default()).unwrap();
    assert!(report.chunks > 1000, "{} chunks", report.chunks);
    let results = run(Arc::new(EngineBackend::new(index)), &ds);
    // The graph is approximate and built in parallel: judge the mean recall@k, as
    // ann-benchmarks does, and let no single case fall far. Hybrid inherits the graph's
    // misses: a chunk the graph misses moves every later file of the vector ranking up one
    // place, which can move a file across the fused top k.
    for kind in ["vector", "hybrid"] {
        let recalls: Vec<f64> = results
            .iter()
            .filter(|r| r.0.starts_with(kind))
            .map(|r| r.2)
            .collect();
        assert_eq!(recalls.len(), 40, "{kind}");
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
    fn search(&self, query: &str, deadline: &Deadline) -> Result<BackendResponse, BackendError> {
        let mut r = self.0.search(query, deadline)?;
        if query.starts_with("vector") && !r.hits.is_empty() {
            // Claim the first chunk of the best file is at lines 1000-1001 (no such chunk).
            r.hits[0].chunks[0].0 = 1000;
            r.hits[0].chunks[0].1 = 1001;
        } else if query.starts_with("hybrid") && r.hits.len() > 1 {
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
