//! Fault injection: backends that are wrong in one known way. The validator must flag exactly
//! the cases the fault affects — a validator that passes everything is a bug.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use verity_engine::{BuildOptions, CodeIndex, Deadline};
use verity_oracle::{Corpus, CorpusRules, Oracle};
use verity_validation::BackendQuery;
use verity_validation::{
    generate, BackendError, BackendHit, BackendResponse, CorrectnessValidator, EngineBackend,
    GeneratorOptions, GroundTruthDataset, SearchBackend, ValidatorOptions,
};

/// How a faulty backend bends the engine's answer.
enum Fault {
    DropOne,
    AddOne(String),
    BreakDoubleColon,
    IgnoreNot,
    Timeout,
}

struct Faulty {
    inner: EngineBackend,
    fault: Fault,
}

/// `a NOT b` → `a`, `x AND NOT (y)` → `x`: what an engine that ignores NOT would run.
fn strip_not(q: &str) -> String {
    let Some(i) = q.find("NOT") else {
        return q.to_string();
    };
    let head = q[..i].trim_end().trim_end_matches("AND").trim_end();
    if head.is_empty() {
        // Pure negation ignored: matches everything.
        "/(?s:.*)/".to_string()
    } else {
        head.to_string()
    }
}

impl SearchBackend for Faulty {
    fn name(&self) -> &str {
        "faulty"
    }

    fn search(
        &self,
        q: &BackendQuery<'_>,
        deadline: &Deadline,
    ) -> Result<BackendResponse, BackendError> {
        match &self.fault {
            Fault::Timeout => Err(BackendError::Timeout),
            Fault::IgnoreNot => {
                let stripped = strip_not(q.query);
                self.inner.search(&q.with_query(&stripped), deadline)
            }
            Fault::BreakDoubleColon if q.query.contains("::") => Ok(BackendResponse::default()),
            Fault::BreakDoubleColon => self.inner.search(q, deadline),
            Fault::DropOne => {
                let mut r = self.inner.search(q, deadline)?;
                r.hits.pop();
                Ok(r)
            }
            Fault::AddOne(extra) => {
                let mut r = self.inner.search(q, deadline)?;
                if !r.hits.iter().any(|h| &h.path == extra) {
                    r.hits.push(BackendHit {
                        path: extra.clone(),
                        score: 0.0,
                        lines: vec![(1, String::new())],
                        chunks: Vec::new(),
                    });
                }
                Ok(r)
            }
        }
    }
}

fn setup() -> (
    tempfile::TempDir,
    std::path::PathBuf,
    Corpus,
    GroundTruthDataset,
) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-corpus");
    let corpus = Corpus::load(&root, &CorpusRules::default()).unwrap();
    let ds = generate(
        &corpus,
        &GeneratorOptions {
            cases: 400,
            seed: 99,
            vectors: None,
        },
    );
    (tempfile::tempdir().unwrap(), root, corpus, ds)
}

fn flagged(
    fault: Fault,
    tmp: &Path,
    root: &Path,
    ds: &GroundTruthDataset,
) -> Result<BTreeSet<String>, BackendError> {
    let (index, _) = CodeIndex::build(root, &tmp.join("idx"), &BuildOptions::default()).unwrap();
    let backend = Faulty {
        inner: EngineBackend::new(index),
        fault,
    };
    let v = CorrectnessValidator::new(Arc::new(backend), ValidatorOptions::default());
    let mut out = BTreeSet::new();
    for c in &ds.cases {
        let r = v.validate(c, &Deadline::none())?;
        if !r.is_correct {
            out.insert(c.id.clone());
        }
    }
    Ok(out)
}

fn ids(
    ds: &GroundTruthDataset,
    pred: impl Fn(&verity_validation::GroundTruthCase) -> bool,
) -> BTreeSet<String> {
    ds.cases
        .iter()
        .filter(|c| pred(c))
        .map(|c| c.id.clone())
        .collect()
}

#[test]
fn dropping_one_result_flags_every_case_with_expected_files() {
    let (tmp, root, _, ds) = setup();
    let got = flagged(Fault::DropOne, tmp.path(), &root, &ds).unwrap();
    let want = ids(&ds, |c| !c.expected_files.is_empty());
    assert!(!want.is_empty());
    assert_eq!(got, want);
}

#[test]
fn adding_one_file_flags_every_case_that_did_not_return_it() {
    let (tmp, root, _, ds) = setup();
    let extra = "go/server.go".to_string();
    let got = flagged(Fault::AddOne(extra.clone()), tmp.path(), &root, &ds).unwrap();
    let want = ids(&ds, |c| !c.expected_files.contains(&extra));
    assert_eq!(got, want);
}

#[test]
fn broken_double_colon_flags_exactly_the_double_colon_cases_with_answers() {
    let (tmp, root, _, ds) = setup();
    let got = flagged(Fault::BreakDoubleColon, tmp.path(), &root, &ds).unwrap();
    let want = ids(&ds, |c| {
        c.query.contains("::") && !c.expected_files.is_empty()
    });
    assert!(!want.is_empty(), "the suite should have `::` cases");
    assert_eq!(got, want);
}

#[test]
fn ignoring_not_flags_exactly_the_cases_whose_answer_changes() {
    let (tmp, root, corpus, ds) = setup();
    let got = flagged(Fault::IgnoreNot, tmp.path(), &root, &ds).unwrap();
    let oracle = Oracle::new(&corpus);
    let want = ids(&ds, |c| {
        c.query.contains("NOT")
            && oracle.files(&strip_not(&c.query)).unwrap() != oracle.files(&c.query).unwrap()
    });
    assert!(want.len() >= 10, "{want:?}");
    assert_eq!(got, want);
}

#[test]
fn timeouts_are_errors_not_failures() {
    let (tmp, root, _, ds) = setup();
    let err = flagged(Fault::Timeout, tmp.path(), &root, &ds).unwrap_err();
    assert_eq!(err, BackendError::Timeout);
    assert!(err.is_retryable());
}

#[test]
fn content_rules_and_counts_and_latency_are_checked() {
    let (tmp, root, _, _) = setup();
    let (index, _) =
        CodeIndex::build(&root, &tmp.path().join("idx"), &BuildOptions::default()).unwrap();
    let v = CorrectnessValidator::new(
        Arc::new(EngineBackend::new(index)),
        ValidatorOptions::default(),
    );
    let mut case = verity_validation::GroundTruthCase::new(
        "c1",
        "&mut self",
        verity_validation::QueryType::SpecialCharacters,
        vec![],
    );
    let r = v.validate(&case, &Deadline::none()).unwrap();
    assert!(!r.is_correct);
    assert!(r
        .unexpected_files
        .contains(&"rust-app/src/store.rs".to_string()));
    assert_eq!(r.precision, 0.0);
    case.expected_files = r.unexpected_files.clone();
    case.must_contain = vec!["&mut self".into()];
    case.must_not_contain = vec!["fn insert".into()];
    let r = v.validate(&case, &Deadline::none()).unwrap();
    assert!(!r.is_correct);
    assert_eq!(r.content_violation_count, 1, "{:?}", r.content_violations);
    assert_eq!(r.content_violations[0].file, "rust-app/src/store.rs");
    assert_eq!(r.content_violations[0].line, Some(37));
    case.must_not_contain.clear();
    case.expected_count = Some(verity_validation::CountRange {
        min: 0,
        max: Some(1),
    });
    let r = v.validate(&case, &Deadline::none()).unwrap();
    assert!(!r.count_in_range && !r.is_correct);
    case.expected_count = None;
    let r = v.validate(&case, &Deadline::none()).unwrap();
    assert!(r.is_correct, "{:?}", r.failure_reasons);
    assert_eq!((r.precision, r.recall, r.f1), (1.0, 1.0, 1.0));
}

/// Answers correctly, but never in less than 5 ms.
struct Slow(EngineBackend);

impl SearchBackend for Slow {
    fn name(&self) -> &str {
        "slow"
    }

    fn search(
        &self,
        query: &BackendQuery<'_>,
        deadline: &Deadline,
    ) -> Result<BackendResponse, BackendError> {
        std::thread::sleep(std::time::Duration::from_millis(5));
        self.0.search(query, deadline)
    }
}

#[test]
fn a_correct_but_slow_answer_breaks_max_latency() {
    let (tmp, root, _, ds) = setup();
    let (index, _) =
        CodeIndex::build(&root, &tmp.path().join("idx"), &BuildOptions::default()).unwrap();
    let v = CorrectnessValidator::new(
        Arc::new(Slow(EngineBackend::new(index))),
        ValidatorOptions::default(),
    );
    let mut case = ds.cases[0].clone();
    assert!(v.validate(&case, &Deadline::none()).unwrap().is_correct);
    case.max_latency_ms = Some(1);
    let r = v.validate(&case, &Deadline::none()).unwrap();
    assert!(r.latency_exceeded && !r.is_correct && r.latency_ms >= 5.0);
    assert_eq!((r.missing_files.len(), r.unexpected_files.len()), (0, 0));
}
