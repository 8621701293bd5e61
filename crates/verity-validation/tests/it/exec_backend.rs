//! `exec:` backends that misbehave on purpose (tests/it/backends/scripted.py): hangs, crashes,
//! garbage, stale ids, slow starts, wrong protocol versions. Every case must end in exactly
//! one state, and a process that broke must be replaced, not reused.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use verity_engine::Deadline;
use verity_oracle::{Corpus, CorpusRules, Oracle};
use verity_runner::{Backoff, JobStatus, ParallelConfig};
use verity_validation::exec::{ExecBackend, ExecOptions};
use verity_validation::parallel::CaseValidator;
use verity_validation::{
    generate, BackendError, BackendQuery, CorrectnessValidator, GeneratorOptions, GroundTruthCase,
    QueryType, SearchBackend, ValidatorOptions,
};

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../sample-corpus")
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/backends/scripted.py")
}

/// Text cases of the sample corpus the scripted backend can answer, and the table of their
/// right answers (computed by the oracle).
fn cases_and_answers(dir: &Path) -> (Vec<GroundTruthCase>, PathBuf) {
    let corpus = Corpus::load(&sample(), &CorpusRules::default()).unwrap();
    let ds = generate(
        &corpus,
        &GeneratorOptions {
            cases: 200,
            seed: 5,
            vectors: None,
        },
    );
    let cases: Vec<GroundTruthCase> = ds
        .cases
        .into_iter()
        .filter(|c| {
            matches!(
                c.query_type,
                QueryType::SpecialCharacters | QueryType::BooleanOr | QueryType::Regex
            )
        })
        .collect();
    let oracle = Oracle::new(&corpus);
    let answers: BTreeMap<&str, Vec<String>> = cases
        .iter()
        .map(|c| {
            (
                c.query.as_str(),
                oracle.files(&c.query).unwrap().into_iter().collect(),
            )
        })
        .collect();
    let path = dir.join("answers.json");
    std::fs::write(&path, serde_json::to_string(&answers).unwrap()).unwrap();
    (cases, path)
}

fn start(answers: &Path, mode: &str, opts: ExecOptions) -> Result<ExecBackend, BackendError> {
    let cmd = format!(
        "python3 '{}' '{}' '{mode}'",
        script().display(),
        answers.display()
    );
    ExecBackend::start(&cmd, &sample(), opts)
}

fn quick() -> ExecOptions {
    ExecOptions {
        startup_timeout: Duration::from_secs(20),
        grace: Duration::from_millis(200),
    }
}

fn ask<'a>(case: &'a GroundTruthCase) -> BackendQuery<'a> {
    BackendQuery::of(case)
}

#[test]
fn a_well_behaved_backend_passes_and_reports_what_it_cannot_express() {
    let tmp = tempfile::tempdir().unwrap();
    let (cases, answers) = cases_and_answers(tmp.path());
    let backend = start(&answers, "ok", quick()).unwrap();
    assert_eq!(backend.name(), "scripted ok");
    let v = CorrectnessValidator::new(Arc::new(backend), ValidatorOptions::default());
    for c in &cases {
        let r = v.validate(c, &Deadline::none()).unwrap();
        assert!(r.is_correct, "{}: {:?}", c.query, r.failure_reasons);
    }
    // A type the handshake does not list is unsupported without a request.
    let mut phrase = cases[0].clone();
    phrase.query_type = QueryType::Phrase;
    match v.validate(&phrase, &Deadline::none()) {
        Err(BackendError::Unsupported(m)) => assert!(m.contains("Phrase"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_hung_backend_times_out_is_killed_and_replaced() {
    let tmp = tempfile::tempdir().unwrap();
    let (cases, answers) = cases_and_answers(tmp.path());
    let q = &cases[0];
    for mode in ["hang", "ignore-term"] {
        let backend = start(&answers, &format!("{mode}:{}", q.query), quick()).unwrap();
        let t = Instant::now();
        let r = backend.search(&ask(q), &Deadline::after(Duration::from_millis(300)));
        assert_eq!(r, Err(BackendError::Timeout), "{mode}");
        // The deadline, then at most the grace period before SIGKILL (plus slack).
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "{mode}: {:?}",
            t.elapsed()
        );
        // The next query goes to a fresh process and is answered.
        let other = &cases[1];
        assert!(backend.search(&ask(other), &Deadline::none()).is_ok());
        assert_eq!(backend.processes_started(), 2, "{mode}");
    }
}

#[test]
fn garbage_and_crashes_are_retryable_protocol_errors_that_name_the_cause() {
    let tmp = tempfile::tempdir().unwrap();
    let (cases, answers) = cases_and_answers(tmp.path());
    let q = &cases[0];
    let backend = start(&answers, &format!("garbage:{}", q.query), quick()).unwrap();
    match backend.search(&ask(q), &Deadline::none()) {
        Err(e @ BackendError::Protocol(_)) => {
            assert!(e.is_retryable());
            assert!(e.to_string().contains("Traceback"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert!(backend.search(&ask(&cases[1]), &Deadline::none()).is_ok());
    assert_eq!(backend.processes_started(), 2);

    let state = tmp.path().join("count");
    let cmd = format!(
        "STATE='{}' python3 '{}' '{}' crash-every:1",
        state.display(),
        script().display(),
        answers.display()
    );
    let crashing = ExecBackend::start(&cmd, &sample(), quick()).unwrap();
    match crashing.search(&ask(q), &Deadline::none()) {
        Err(BackendError::Protocol(m)) => {
            assert!(m.contains("exited with"), "{m}");
            assert!(m.contains("crashing on purpose"), "{m}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn stale_answers_are_skipped_and_slow_starts_waited_for() {
    let tmp = tempfile::tempdir().unwrap();
    let (cases, answers) = cases_and_answers(tmp.path());
    let v = CorrectnessValidator::new(
        Arc::new(start(&answers, "stale", quick()).unwrap()),
        ValidatorOptions::default(),
    );
    for c in cases.iter().take(10) {
        assert!(v.validate(c, &Deadline::none()).unwrap().is_correct);
    }
    let slow = start(&answers, "slow-start:0.5", quick()).unwrap();
    assert!(slow.search(&ask(&cases[0]), &Deadline::none()).is_ok());
    let too_slow = start(
        &answers,
        "slow-start:5",
        ExecOptions {
            startup_timeout: Duration::from_millis(300),
            ..quick()
        },
    );
    match too_slow {
        Err(BackendError::Unavailable(m)) => assert!(m.contains("no handshake"), "{m}"),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("started"),
    }
}

#[test]
fn a_wrong_handshake_is_refused_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let (_, answers) = cases_and_answers(tmp.path());
    for (mode, says) in [
        ("version:2", "protocol version 2"),
        ("no-handshake", "not a protocol handshake"),
    ] {
        match start(&answers, mode, quick()) {
            Err(e) => assert!(e.to_string().contains(says), "{mode}: {e}"),
            Ok(_) => panic!("{mode} started"),
        }
    }
    match ExecBackend::start("exit 7", &sample(), quick()) {
        Err(e) => assert!(
            e.to_string().contains("stopped before its handshake"),
            "{e}"
        ),
        Ok(_) => panic!("started"),
    }
}

/// Through the parallel engine: a backend that crashes on every fifth request. Crashed
/// attempts are retried on a fresh process; every case ends passed, exactly once.
#[test]
fn crashes_under_the_parallel_engine_are_retried_and_nothing_is_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let (cases, answers) = cases_and_answers(tmp.path());
    let state = tmp.path().join("count");
    let cmd = format!(
        "STATE='{}' python3 '{}' '{}' crash-every:5",
        state.display(),
        script().display(),
        answers.display()
    );
    let backend = ExecBackend::start(&cmd, &sample(), quick()).unwrap();
    let validator = CaseValidator(CorrectnessValidator::new(
        Arc::new(backend),
        ValidatorOptions::default(),
    ));
    let n = cases.len();
    let (results, stats) = verity_runner::run_parallel_validation_with(
        cases,
        Arc::new(validator),
        ParallelConfig {
            max_concurrent_tests: 2,
            retry_attempts: 3,
            backoff: Backoff::Fixed(Duration::from_millis(1)),
            ..ParallelConfig::default()
        },
    );
    assert_eq!(results.len(), n);
    let mut ids: Vec<&str> = results.iter().map(|r| r.job_id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "every case exactly once");
    for r in &results {
        assert_eq!(
            r.status,
            JobStatus::Passed,
            "{}: {:?}",
            r.job_id,
            r.attempts
        );
    }
    assert!(stats.flaky > 0, "some attempts crashed and were retried");
    assert_eq!(stats.passed, n);
}

/// A `concurrent` engine: one process gets every request at once and answers out of order;
/// each answer reaches the search that asked, and a request it never answers times out alone.
#[test]
fn a_concurrent_engine_gets_one_process_and_answers_out_of_order() {
    let tmp = tempfile::tempdir().unwrap();
    let (cases, answers) = cases_and_answers(tmp.path());
    let backend = Arc::new(start(&answers, "concurrent", quick()).unwrap());
    assert!(backend.handshake().concurrent);
    let validator = CaseValidator(CorrectnessValidator::new(
        backend.clone(),
        ValidatorOptions::default(),
    ));
    let n = cases.len();
    let (results, stats) = verity_runner::run_parallel_validation_with(
        cases.clone(),
        Arc::new(validator),
        ParallelConfig {
            max_concurrent_tests: 4,
            retry_attempts: 0,
            ..ParallelConfig::default()
        },
    );
    assert_eq!(results.len(), n);
    assert_eq!(
        stats.passed,
        n,
        "{:?}",
        results.iter().find(|r| !r.is_success())
    );
    assert_eq!(backend.processes_started(), 1);

    let hung = &cases[0];
    let backend = start(
        &answers,
        &format!("concurrent-hang:{}", hung.query),
        quick(),
    )
    .unwrap();
    let r = backend.search(&ask(hung), &Deadline::after(Duration::from_millis(300)));
    assert_eq!(r, Err(BackendError::Timeout));
    // The process was not replaced: it is still answering the others.
    assert!(backend.search(&ask(&cases[1]), &Deadline::none()).is_ok());
    assert_eq!(backend.processes_started(), 1);

    // Garbage breaks the shared process: the request in flight fails with the line, and the
    // next search gets a fresh process.
    let backend = start(
        &answers,
        &format!("concurrent-garbage:{}", hung.query),
        quick(),
    )
    .unwrap();
    match backend.search(&ask(hung), &Deadline::none()) {
        Err(BackendError::Protocol(m)) => assert!(m.contains("Traceback"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(backend.search(&ask(&cases[1]), &Deadline::none()).is_ok());
    assert_eq!(backend.processes_started(), 2);
}

#[test]
fn the_committed_protocol_schema_is_generated_from_the_types() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/backend-protocol.schema.json");
    let schema = verity_validation::protocol::json_schema();
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != schema && std::env::var_os("VERITY_BLESS").is_some() {
        std::fs::write(&path, &schema).unwrap();
        return;
    }
    assert_eq!(
        committed, schema,
        "docs/backend-protocol.schema.json is stale: run with VERITY_BLESS=1"
    );
}
