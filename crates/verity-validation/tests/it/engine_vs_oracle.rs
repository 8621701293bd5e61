//! The engine passes 100% of generated suites whose expected files the independent oracle
//! computed, on the sample corpus and on this workspace's own sources.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use verity_engine::{BuildOptions, CodeIndex, Deadline};
use verity_oracle::{Corpus, CorpusRules};
use verity_validation::{
    generate, CorrectnessValidator, EngineBackend, GeneratorOptions, GroundTruthDataset, QueryType,
    ValidatorOptions,
};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// Validates every case; returns the failures with what went wrong.
fn failures(root: &Path, ds: &GroundTruthDataset) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    let (index, _) =
        CodeIndex::build(root, &tmp.path().join("idx"), &BuildOptions::default()).unwrap();
    let v = CorrectnessValidator::new(
        Arc::new(EngineBackend::new(index)),
        ValidatorOptions::default(),
    );
    ds.cases
        .iter()
        .filter_map(|c| {
            let r = v.validate(c, &Deadline::none()).unwrap();
            (!r.is_correct).then(|| {
                format!(
                    "{} {:?}: {:?} missing {:?} unexpected {:?} {:?}",
                    c.id,
                    c.query,
                    r.failure_reasons,
                    r.missing_files,
                    r.unexpected_files,
                    r.content_violations
                )
            })
        })
        .collect()
}

fn check_suite(root: &Path, cases: usize, seed: u64) {
    let corpus = Corpus::load(root, &CorpusRules::default()).unwrap();
    let ds = generate(
        &corpus,
        &GeneratorOptions {
            cases,
            seed,
            vectors: None,
        },
    );
    assert!(
        ds.cases.len() >= cases * 95 / 100,
        "only {} of {cases} cases generated",
        ds.cases.len()
    );
    let mut per_type: BTreeMap<QueryType, usize> = BTreeMap::new();
    for c in &ds.cases {
        *per_type.entry(c.query_type).or_default() += 1;
    }
    for t in QueryType::TEXT {
        assert!(
            per_type.get(&t).copied().unwrap_or(0) >= cases / 8 * 9 / 10,
            "{t}: {per_type:?}"
        );
    }
    assert!(ds
        .cases
        .iter()
        .any(|c| c.tags.iter().any(|t| t == "negative")));
    assert!(
        ds.cases
            .iter()
            .filter(|c| !c.expected_files.is_empty())
            .count()
            > cases / 2
    );
    let f = failures(root, &ds);
    assert!(
        f.is_empty(),
        "{} of {} cases failed:\n{}",
        f.len(),
        ds.cases.len(),
        f.join("\n")
    );
}

#[test]
fn engine_passes_a_generated_suite_on_the_sample_corpus() {
    check_suite(&workspace().join("sample-corpus"), 1000, 7);
}

#[test]
fn engine_passes_a_generated_suite_on_the_workspace_sources() {
    check_suite(&workspace().join("crates"), 1000, 11);
}

#[test]
fn generation_is_deterministic_for_a_seed() {
    let corpus = Corpus::load(&workspace().join("sample-corpus"), &CorpusRules::default()).unwrap();
    let a = generate(
        &corpus,
        &GeneratorOptions {
            cases: 200,
            seed: 3,
            vectors: None,
        },
    );
    let b = generate(
        &corpus,
        &GeneratorOptions {
            cases: 200,
            seed: 3,
            vectors: None,
        },
    );
    let c = generate(
        &corpus,
        &GeneratorOptions {
            cases: 200,
            seed: 4,
            vectors: None,
        },
    );
    assert_eq!(a, b);
    assert_ne!(a.cases, c.cases);
    assert_eq!(a.corpus_fingerprint, corpus.fingerprint());
}

#[test]
fn curated_suite_matches_the_oracle_and_the_engine_passes_it() {
    let root = workspace().join("sample-corpus");
    let ds = GroundTruthDataset::load(&workspace().join("truth/curated.json")).unwrap();
    let corpus = Corpus::load(&root, &CorpusRules::default()).unwrap();
    assert_eq!(
        ds.corpus_fingerprint,
        corpus.fingerprint(),
        "truth/curated.json is for another state of sample-corpus"
    );
    let oracle = verity_oracle::Oracle::new(&corpus);
    for c in &ds.cases {
        let got: Vec<String> = oracle.files(&c.query).unwrap().into_iter().collect();
        let mut want = c.expected_files.clone();
        want.sort();
        assert_eq!(got, want, "oracle disagrees with curated case {}", c.id);
    }
    for classic in [
        "[workspace]",
        "Result<T, E>",
        "#[derive(Debug)]",
        "&mut self",
        "::",
        "pub AND fn",
        "Error OR Result OR Option",
        "function NOT test",
        "word1 NEAR/3 word4",
        "Data*",
        "fn m?in",
        "\"use std::collections::HashMap\"",
        "/fn\\s+\\w+\\s*\\(/",
    ] {
        let c = ds
            .cases
            .iter()
            .find(|c| c.query == classic)
            .unwrap_or_else(|| panic!("{classic} missing"));
        assert!(
            !c.expected_files.is_empty(),
            "{classic} should match something in the sample corpus"
        );
    }
    let f = failures(&root, &ds);
    assert!(f.is_empty(), "{}", f.join("\n"));
}
