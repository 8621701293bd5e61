//! A generated suite through the parallel execution engine: every case exactly once, the
//! engine passes all, and injected faults surface as failures or errors as they should.

use std::path::Path;
use std::sync::Arc;

use verity_engine::{BuildOptions, CodeIndex, Deadline};
use verity_oracle::{Corpus, CorpusRules};
use verity_runner::{Backoff, JobStatus, ParallelConfig, ParallelExecutor};
use verity_validation::parallel::CaseValidator;
use verity_validation::BackendQuery;
use verity_validation::{
    generate, BackendError, BackendResponse, CorrectnessValidator, EngineBackend, GeneratorOptions,
    SearchBackend, ValidatorOptions,
};

fn config() -> ParallelConfig {
    ParallelConfig {
        max_concurrent_tests: 4,
        retry_attempts: 2,
        backoff: Backoff::Fixed(std::time::Duration::from_millis(1)),
        resource_monitoring: true,
        ..ParallelConfig::default()
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

struct Unavailable;

impl SearchBackend for Unavailable {
    fn name(&self) -> &str {
        "down"
    }

    fn search(&self, _: &BackendQuery<'_>, _: &Deadline) -> Result<BackendResponse, BackendError> {
        Err(BackendError::Unavailable("connection refused".into()))
    }
}

#[test]
fn a_generated_suite_runs_in_parallel_and_passes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-corpus");
    let corpus = Corpus::load(&root, &CorpusRules::default()).unwrap();
    let ds = generate(
        &corpus,
        &GeneratorOptions {
            cases: 400,
            seed: 21,
            vectors: None,
        },
    );
    let tmp = tempfile::tempdir().unwrap();
    let (index, _) =
        CodeIndex::build(&root, &tmp.path().join("i"), &BuildOptions::default()).unwrap();
    let v = CorrectnessValidator::new(
        Arc::new(EngineBackend::new(index)),
        ValidatorOptions::default(),
    );
    let mut ex = ParallelExecutor::new(config(), Arc::new(CaseValidator(v)));
    ex.add_test_cases(ds.cases.clone());
    let results = rt().block_on(ex.execute_all()).to_vec();
    assert_eq!(results.len(), ds.cases.len());
    for (r, c) in results.iter().zip(&ds.cases) {
        assert_eq!(r.job_id, c.id);
        assert_eq!(
            r.status,
            JobStatus::Passed,
            "{} {:?}",
            c.id,
            r.output.as_ref().map(|o| &o.failure_reasons)
        );
        assert!(r.output.as_ref().unwrap().is_correct);
    }
    let s = ex.get_stats();
    assert_eq!(s.passed, ds.cases.len());
    assert_eq!(s.per_category.len(), 8);
}

#[test]
fn an_unavailable_backend_is_retried_then_errored() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-corpus");
    let corpus = Corpus::load(&root, &CorpusRules::default()).unwrap();
    let ds = generate(
        &corpus,
        &GeneratorOptions {
            cases: 16,
            seed: 1,
            vectors: None,
        },
    );
    let v = CorrectnessValidator::new(Arc::new(Unavailable), ValidatorOptions::default());
    let mut ex = ParallelExecutor::new(config(), Arc::new(CaseValidator(v)));
    ex.add_test_cases(ds.cases.clone());
    rt().block_on(ex.execute_all());
    let s = ex.get_stats();
    assert_eq!(s.errored, ds.cases.len());
    assert_eq!(s.retries, ds.cases.len() * 2);
}
