//! `verity validate` and `verity report` end to end: exit codes, every report format read
//! back and compared, partitioned runs merged, profiles, and interruption.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::*;
use verity_report::Report;
use verity_runner::JobStatus;

fn curated() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../truth/curated.json")
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn assert_well_formed(xml: &str) {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut depth = 0i32;
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Start(_)) => depth += 1,
            Ok(quick_xml::events::Event::End(_)) => depth -= 1,
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("not well-formed at {}: {e}", reader.buffer_position()),
        }
    }
    assert_eq!(depth, 0, "unclosed elements");
}

/// Reads every file of a report directory and checks that they tell the same story as
/// report.json.
/// Starts `cmd`, waits for a line of its standard error starting with `marker`, sends it
/// `signal` (`-INT`, `-TERM`), and returns its output and the standard error after the marker.
fn signal_when(mut cmd: Command, marker: &str, signal: &str) -> (Output, String) {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "no line starting with {marker:?}"
        );
        if line.starts_with(marker) {
            break;
        }
    }
    let kill = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let drain = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = std::io::Read::read_to_string(&mut err, &mut rest);
        rest
    });
    let out = child.wait_with_output().unwrap();
    (out, drain.join().unwrap())
}

fn check_formats_agree(dir: &Path) -> Report {
    let report = Report::load(&dir.join("report.json")).expect("report.json parses");
    let s = &report.summary;
    assert_eq!(
        s.total,
        s.passed + s.failed + s.errored + s.timed_out + s.cancelled + s.unsupported
    );
    assert_eq!(s.total, report.cases.len());

    // JUnit, read back with quick-junit's own deserializer.
    let xml = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    let junit = quick_junit::Report::deserialize_from_str(&xml).expect("junit.xml parses");
    assert_eq!(junit.tests, s.total);
    assert_eq!(junit.failures, s.failed);
    assert_eq!(junit.errors, s.errored + s.timed_out);
    let skipped: usize = junit
        .test_suites
        .iter()
        .flat_map(|s| s.test_cases.iter())
        .filter(|c| matches!(c.status, quick_junit::TestCaseStatus::Skipped { .. }))
        .count();
    assert_eq!(skipped, s.cancelled + s.unsupported);
    assert_eq!(junit.test_suites.len(), report.per_type.len());
    for suite in &junit.test_suites {
        let t = &report.per_type[suite.name.as_str()];
        assert_eq!(suite.tests, t.counts.total, "{}", suite.name.as_str());
        assert_eq!(suite.failures, t.counts.failed, "{}", suite.name.as_str());
    }
    let junit_ids: Vec<&str> = junit
        .test_suites
        .iter()
        .flat_map(|s| s.test_cases.iter().map(|c| c.name.as_str()))
        .collect();
    assert_eq!(junit_ids.len(), report.cases.len());

    // Markdown: the per-type rows carry the same counts.
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for (name, t) in &report.per_type {
        let row = md
            .lines()
            .find(|l| l.starts_with(&format!("| {name} |")))
            .unwrap_or_else(|| panic!("no row for {name} in\n{md}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert_eq!(cells[2], t.counts.total.to_string(), "{row}");
        assert_eq!(cells[3], t.counts.passed.to_string(), "{row}");
        assert_eq!(cells[4], t.counts.failed.to_string(), "{row}");
    }

    // HTML parses as XML.
    assert_well_formed(&std::fs::read_to_string(dir.join("report.html")).unwrap());

    // TREC: one run line per returned file, one qrels line per judged file.
    let run = std::fs::read_to_string(dir.join("run.trec")).unwrap();
    let ranked: usize = report
        .cases
        .iter()
        .filter_map(|c| c.result.as_ref())
        .map(|r| r.ranked.len())
        .sum();
    assert_eq!(run.lines().count(), ranked);
    let qrels = std::fs::read_to_string(dir.join("qrels.trec")).unwrap();
    let judged: usize = report.cases.iter().map(|c| c.judgments.len()).sum();
    assert_eq!(qrels.lines().count(), judged);
    for line in run.lines() {
        assert_eq!(line.split(' ').count(), 6, "{line}");
    }
    report
}

/// The README's first command: no arguments at all.
#[test]
fn validate_with_no_arguments_runs_the_sample_corpus_and_reports() {
    let cwd = tempfile::tempdir().unwrap();
    let o = verity_in(cwd.path(), &["validate"]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", text(&o.stderr));
    assert!(out.contains("query type"), "{out}");
    assert!(
        out.contains("PASSED: 1000 passed of 1000 cases; exit code 0"),
        "{out}"
    );
    let report = check_formats_agree(&cwd.path().join("verity-report"));
    assert!(report.complete);
    assert_eq!(report.per_type.len(), 10, "all ten query types");
    assert_eq!(report.summary.passed, 1000);
    assert!(report.thresholds.iter().all(|t| t.met));
    assert_eq!(report.environment.corpus_files, 17);

    // `report show` re-renders the same summary and exits as the run did.
    let show = verity_in(cwd.path(), &["report", "show", "verity-report/report.json"]);
    assert_eq!(show.status.code(), Some(0));
    assert_eq!(
        text(&show.stdout),
        out.lines()
            .take_while(|l| !l.starts_with("reports: "))
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    );
}

#[test]
fn wrong_answers_exit_1_and_name_the_files() {
    let tmp = tempfile::tempdir().unwrap();
    let mut truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(curated()).unwrap()).unwrap();
    // Drop a file the engine rightly returns, and expect one that does not match.
    truth["cases"][0]["expected_files"] =
        serde_json::json!(["docs/config.toml", "rust-app/Cargo.toml", "web/src/api.js"]);
    let path = tmp.path().join("wrong.json");
    std::fs::write(&path, serde_json::to_string_pretty(&truth).unwrap()).unwrap();
    let out_dir = tmp.path().join("out");
    let o = verity_in(
        tmp.path(),
        &[
            "validate",
            "--corpus",
            s(&sample()),
            "--truth",
            s(&path),
            "-o",
            s(&out_dir),
        ],
    );
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}\n{}", text(&o.stderr));
    assert!(
        out.contains("workspace-table (SpecialCharacters, failed) `[workspace]`: 1 expected files missing; 1 unexpected files; missing: web/src/api.js; unexpected: README.md"),
        "{out}"
    );
    let report = check_formats_agree(&out_dir);
    assert_eq!(report.summary.failed, 1);
    let junit = std::fs::read_to_string(out_dir.join("junit.xml")).unwrap();
    assert!(
        junit.contains("missing files (1):\n  web/src/api.js"),
        "{junit}"
    );
    assert!(
        junit.contains("unexpected files (1):\n  README.md"),
        "{junit}"
    );

    // With a lower threshold the same run passes.
    let o = verity_in(
        tmp.path(),
        &[
            "validate",
            "--corpus",
            s(&sample()),
            "--truth",
            s(&path),
            "-o",
            s(&out_dir),
            "--min-accuracy",
            "50",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
}

#[test]
fn input_errors_exit_2_and_say_what_and_where() {
    let tmp = tempfile::tempdir().unwrap();
    let (curated, web) = (curated(), sample().join("web"));
    let cases: &[(&[&str], &str)] = &[
        (
            &["validate", "--truth", s(&curated), "--corpus", s(&web)],
            "the truth was made for another corpus",
        ),
        (
            &["validate", "--partition", "hash:4/3"],
            "invalid partition `hash:4/3`",
        ),
        (&["validate", "--type", "Nope"], "unknown query type `Nope`"),
        (&["validate", "--format", "pdf"], "unknown format `pdf`"),
        (
            &["validate", "--embedder", "none", "--type", "Vector"],
            "no cases selected: the truth has 1000 cases, none of type Vector with tag any",
        ),
        (
            &["validate", "--embedder", "minilm", "--model", "nowhere"],
            "--model nowhere: config.json is missing",
        ),
        (
            &["validate", "--chunk-lines", "10", "--chunk-overlap", "10"],
            "--chunk-overlap 10 must be less than --chunk-lines 10",
        ),
        (
            &["validate", "--tag", "nightly"],
            "none of type any with tag nightly",
        ),
        (
            &["validate", "--jobs", "0"],
            "--jobs must be between 1 and 1024",
        ),
        (
            &["validate", "--jobs", "100000"],
            "--jobs must be between 1 and 1024, not 100000",
        ),
        (
            &["validate", "--timeout=0"],
            "--timeout must be a positive number",
        ),
        // Spans too long for a Duration are refused, not a panic in a worker (issue #19).
        (
            &["validate", "--timeout", "1e300"],
            "--timeout must be a positive number of seconds, at most 1000000000",
        ),
        (
            &["validate", "--global-timeout", "1e300"],
            "--global-timeout must be a positive number of seconds, at most",
        ),
        (
            &["validate", "--progress-interval", "inf"],
            "--progress-interval must be a positive number",
        ),
        (&["validate", "--max-rss", "12Q"], "unknown size suffix"),
        (&["validate", "--profile", "ci"], "there is no config file"),
        (
            &["validate", "--history", "missing.json"],
            "--history: missing.json",
        ),
        (&["report", "show", "missing.json"], "missing.json"),
        // Where the reports go is checked before the run, not after it (issue #19).
        (
            &["validate", "--cases", "10", "-o", "afile"],
            "--output afile is a file, not a directory for the reports",
        ),
        (
            &["report", "merge", "missing.json", "-o", "afile"],
            "--output afile is a file",
        ),
        (
            &["search", "x", "--index", "afile"],
            "afile is a file, not an index directory",
        ),
        (
            &["index", ".", "--index", "afile"],
            "afile is a file, not an index directory",
        ),
    ];
    std::fs::write(tmp.path().join("afile"), "not a directory").unwrap();
    for (args, message) in cases {
        let o = verity_in(tmp.path(), args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(message), "{args:?}: {err}");
    }
    std::fs::write(
        tmp.path().join("verity.toml"),
        "[profile.default]\njobs = 2\n\n[profile.ci]\nretries = \"three\"\n",
    )
    .unwrap();
    let o = verity_in(tmp.path(), &["validate", "--profile", "ci"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("verity.toml:5:11: "),
        "{}",
        text(&o.stderr)
    );
    std::fs::write(
        tmp.path().join("verity.toml"),
        "[profile.default]\njobs = 2\n\n[profile.ci]\nretries = 3\n",
    )
    .unwrap();
    let o = verity_in(tmp.path(), &["validate", "--profile", "nightly"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("no profile `nightly` (profiles: ci, default)"));

    // Values out of range are reported where they are written, before anything runs.
    for (line, message) in [
        (
            "jobs = 0",
            "verity.toml:2:8: jobs must be between 1 and 1024, not 0",
        ),
        (
            "jobs = 100000",
            "verity.toml:2:8: jobs must be between 1 and 1024",
        ),
        (
            "timeout = -1",
            "verity.toml:2:11: must be a positive number of seconds",
        ),
        ("global-timeout = 1e300", "not 1e300"),
        (
            "min-recall = 1.5",
            "verity.toml:2:14: must be between 0 and 1, not 1.5",
        ),
    ] {
        std::fs::write(
            tmp.path().join("verity.toml"),
            format!("[profile.default]\n{line}\n"),
        )
        .unwrap();
        let o = verity_in(tmp.path(), &["validate"]);
        assert_eq!(o.status.code(), Some(2), "{line}");
        assert!(
            text(&o.stderr).contains(message),
            "{line}: {}",
            text(&o.stderr)
        );
    }
}

#[test]
fn vector_truth_is_refused_for_an_index_with_other_vector_settings() {
    let tmp = tempfile::tempdir().unwrap();
    let truth = tmp.path().join("truth.json");
    let o = verity_in(
        tmp.path(),
        &[
            "truth",
            "generate",
            s(&sample()),
            "--cases",
            "50",
            "-o",
            s(&truth),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    assert!(text(&o.stdout).contains("Vector 5"), "{}", text(&o.stdout));
    // The oracle re-checks the ranked cases too (exact nearest neighbours, exact fusion).
    let o = verity_in(
        tmp.path(),
        &["truth", "check", s(&truth), "--corpus", s(&sample())],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    assert!(
        text(&o.stdout).contains("the oracle agrees with all 50 cases"),
        "{}",
        text(&o.stdout)
    );
    let o = verity_in(
        tmp.path(),
        &[
            "truth",
            "check",
            s(&truth),
            "--corpus",
            s(&sample()),
            "--chunk-lines",
            "20",
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stdout));
    let run = |extra: &[&str]| {
        let mut args = vec!["validate", "--truth", s(&truth), "--no-progress"];
        args.extend_from_slice(extra);
        verity_in(tmp.path(), &args)
    };
    let o = run(&["--hash-dim", "64"]);
    assert_eq!(o.status.code(), Some(2));
    let err = text(&o.stderr);
    assert!(
        err.contains("computed with embedder hash-256") && err.contains("this run uses hash-64"),
        "{err}"
    );
    let o = run(&["--embedder", "none"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--embedder none builds no vectors"));
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
}

/// With the MiniLM model at hand (CI downloads it), the whole validation runs on it too.
#[test]
fn validate_runs_with_minilm_when_the_model_is_available() {
    let Some(model) = std::env::var_os("VERITY_MINILM_DIR") else {
        assert_ne!(
            std::env::var("VERITY_REQUIRE_MODEL").as_deref(),
            Ok("1"),
            "VERITY_MINILM_DIR is not set and VERITY_REQUIRE_MODEL=1"
        );
        eprintln!("skipping: VERITY_MINILM_DIR is not set");
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let model = PathBuf::from(model);
    let o = verity_in(
        tmp.path(),
        &[
            "validate",
            "--embedder",
            "minilm",
            "--model",
            s(&model),
            "--cases",
            "200",
            "--no-progress",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let r = Report::load(&tmp.path().join("verity-report/report.json")).unwrap();
    assert_eq!(r.per_type.len(), 10);
    assert!(r.environment.index_settings.contains("all-MiniLM-L6-v2"));
    assert_eq!(r.summary.passed, 200);
}

#[test]
fn profiles_set_defaults_and_flags_override_them() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("verity.toml"),
        "[profile.default]\ncases = 160\nformat = [\"json\"]\noutput = \"reports\"\n\n[profile.ci]\ntypes = [\"Regex\"]\nretries = 0\n",
    )
    .unwrap();
    let o = verity_in(
        tmp.path(),
        &["validate", "--profile", "ci", "--no-progress"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let r = Report::load(&tmp.path().join("reports/report.json")).unwrap();
    assert_eq!(r.settings.profile, "ci");
    assert_eq!(r.settings.retries, 0);
    assert_eq!(r.selection.truth_cases, 160);
    assert!(r.cases.iter().all(|c| c.query_type.name() == "Regex"));
    assert_eq!(r.cases.len(), 16, "160 cases over ten types");
    let files: Vec<String> = std::fs::read_dir(tmp.path().join("reports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files, ["report.json"]);

    let o = verity_in(
        tmp.path(),
        &[
            "validate",
            "--profile",
            "ci",
            "--type",
            "boolean_and",
            "--no-progress",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let r = Report::load(&tmp.path().join("reports/report.json")).unwrap();
    assert!(r.cases.iter().all(|c| c.query_type.name() == "BooleanAnd"));
    assert_eq!(r.settings.types, ["BooleanAnd"]);
}

/// What a case's answer was, independent of timing.
fn answers(r: &Report) -> BTreeMap<String, (JobStatus, usize, usize, usize, Vec<String>)> {
    r.cases
        .iter()
        .map(|c| {
            let res = c.result.as_ref().expect("ran");
            (
                c.id.clone(),
                (
                    c.status,
                    res.true_positives,
                    res.false_positives,
                    res.false_negatives,
                    res.ranked.iter().map(|h| h.path.clone()).collect(),
                ),
            )
        })
        .collect()
}

#[test]
fn three_partitions_merge_into_the_whole_run() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let sample = self::sample();
    let gen = |seed: &str, out: &str| {
        let o = verity_in(
            d,
            &[
                "truth",
                "generate",
                s(&sample),
                "--cases",
                "300",
                "--seed",
                seed,
                "-o",
                out,
            ],
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    };
    gen("5", "truth.json");
    gen("6", "other.json");
    let validate = |extra: &[&str], out: &str| {
        let mut args = vec![
            "validate",
            "--corpus",
            s(&sample),
            "--truth",
            "truth.json",
            "-o",
            out,
            "--no-progress",
        ];
        args.extend_from_slice(extra);
        let o = verity_in(d, &args);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    };
    validate(&[], "whole");
    for (k, scheme) in [(1, "hash"), (2, "hash"), (3, "hash")] {
        validate(
            &["--partition", &format!("{scheme}:{k}/3")],
            &format!("p{k}"),
        );
    }
    let sizes: Vec<usize> = (1..=3)
        .map(|k| {
            Report::load(&d.join(format!("p{k}/report.json")))
                .unwrap()
                .cases
                .len()
        })
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), 300);
    assert!(sizes.iter().all(|n| *n > 0), "{sizes:?}");

    let o = verity_in(
        d,
        &[
            "report",
            "merge",
            "p1/report.json",
            "p2/report.json",
            "p3/report.json",
            "-o",
            "merged",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}\n{}",
        text(&o.stdout),
        text(&o.stderr)
    );
    let whole = check_formats_agree(&d.join("whole"));
    let merged = check_formats_agree(&d.join("merged"));
    assert!(merged.complete);
    assert_eq!(answers(&merged), answers(&whole));
    let order = |r: &Report| r.cases.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
    assert_eq!(order(&merged), order(&whole));
    let counts = |r: &Report| {
        r.per_type
            .iter()
            .map(|(k, t)| {
                (
                    k.clone(),
                    t.counts.total,
                    t.counts.passed,
                    t.precision,
                    t.recall,
                    t.f1,
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(counts(&merged), counts(&whole));
    assert_eq!(merged.sources.len(), 3);
    assert_eq!(
        std::fs::read_to_string(d.join("merged/qrels.trec"))
            .unwrap()
            .lines()
            .count(),
        std::fs::read_to_string(d.join("whole/qrels.trec"))
            .unwrap()
            .lines()
            .count()
    );

    // A partition missing: the merge is written, marked incomplete, and fails.
    let o = verity_in(
        d,
        &[
            "report",
            "merge",
            "p1/report.json",
            "p3/report.json",
            "-o",
            "gap",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o.stderr).contains("missing partitions: 2"),
        "{}",
        text(&o.stderr)
    );
    assert!(!Report::load(&d.join("gap/report.json")).unwrap().complete);

    // A report of other truth is refused.
    let o = verity_in(
        d,
        &[
            "validate",
            "--corpus",
            s(&sample),
            "--truth",
            "other.json",
            "-o",
            "o2",
            "--partition",
            "hash:2/3",
            "--no-progress",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    let o = verity_in(
        d,
        &[
            "report",
            "merge",
            "p1/report.json",
            "o2/report.json",
            "p3/report.json",
            "-o",
            "bad",
        ],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("o2/report.json: truth fingerprint differs from p1/report.json's"),
        "{}",
        text(&o.stderr)
    );
}

/// Ctrl-C: running cases finish, the rest are cancelled, every report is written and marked
/// incomplete, and the exit code is 130.
#[cfg(unix)]
#[test]
fn sigint_writes_a_partial_report_and_exits_130() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let o = verity_in(
        d,
        &[
            "truth",
            "generate",
            s(&sample()),
            "--cases",
            "1000",
            "-o",
            "t.json",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    // Forty copies of every case: far more work than the test will wait for.
    let mut truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("t.json")).unwrap()).unwrap();
    let cases = truth["cases"].as_array().unwrap().clone();
    let mut big = Vec::new();
    for k in 0..40 {
        for c in &cases {
            let mut c = c.clone();
            c["id"] = format!("{}-r{k}", c["id"].as_str().unwrap()).into();
            big.push(c);
        }
    }
    truth["cases"] = big.into();
    std::fs::write(d.join("big.json"), truth.to_string()).unwrap();

    // Once the run is under way (its first progress line), interrupt it.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_verity"));
    cmd.args([
        "validate",
        "--corpus",
        s(&sample()),
        "--truth",
        "big.json",
        "--jobs",
        "1",
        "--progress-interval",
        "0.1",
        "-o",
        "out",
    ])
    .current_dir(d);
    let (out, rest) = signal_when(cmd, "progress: ", "-INT");
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}\n{rest}",
        text(&out.stdout)
    );
    assert!(rest.contains("interrupted"), "{rest}");
    assert!(
        text(&out.stdout).contains("INTERRUPTED (incomplete, interrupted while running the cases)"),
        "{}",
        text(&out.stdout)
    );

    let r = check_formats_agree(&d.join("out"));
    assert!(!r.complete);
    assert_eq!(
        r.cancel_reason,
        Some(verity_runner::CancelReason::Interrupt)
    );
    assert_eq!(
        r.interrupted_during,
        Some(verity_report::model::RunPhase::Cases)
    );
    assert_eq!(r.summary.total, 40_000);
    assert!(r.summary.passed > 0, "{:?}", r.summary);
    assert!(r.summary.cancelled > 0, "{:?}", r.summary);
    assert_eq!(
        r.summary.failed + r.summary.errored + r.summary.timed_out,
        0
    );
}

#[test]
fn approximate_vector_answers_are_judged_by_mean_recall() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = verity_in(
        tmp.path(),
        &[
            "validate",
            "--vector-search",
            "hnsw",
            "--type",
            "Vector,Hybrid",
            "--cases",
            "200",
            "--no-progress",
            "-o",
            s(&out),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let stdout = text(&o.stdout);
    assert!(
        stdout.contains("Vector answered approximately (HNSW) in 20 cases: mean recall@k"),
        "{stdout}"
    );
    let r = Report::load(&out.join("report.json")).unwrap();
    assert_eq!(r.recall_checks.len(), 2);
    assert!(r
        .recall_checks
        .iter()
        .all(|c| c.met && c.approximate_cases == 20));
    assert!(r
        .cases
        .iter()
        .all(|c| c.result.as_ref().is_some_and(|v| v.approximate)));
    assert_eq!(r.settings.min_recall, 0.99);
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains("Hybrid mean recall@k"), "{junit}");

    // A minimum no graph can reach fails the run although every case passed; exact search
    // (the default at this size) is judged case by case and has no such check.
    let o = verity_in(
        tmp.path(),
        &[
            "validate",
            "--vector-search",
            "hnsw",
            "--min-recall",
            "1",
            "--type",
            "Vector",
            "--cases",
            "200",
            "--no-progress",
            "--format",
            "json",
            "-o",
            s(&out),
        ],
    );
    let r = Report::load(&out.join("report.json")).unwrap();
    let mean = r.recall_checks[0].mean_recall;
    assert_eq!(
        o.status.code(),
        Some(if mean < 1.0 { 1 } else { 0 }),
        "mean {mean}"
    );
    let o = verity_in(
        tmp.path(),
        &[
            "validate",
            "--type",
            "Vector",
            "--cases",
            "200",
            "--no-progress",
            "--format",
            "json",
            "-o",
            s(&out),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    let r = Report::load(&out.join("report.json")).unwrap();
    assert!(r.recall_checks.is_empty());
    assert!(r
        .settings
        .vector_search
        .as_deref()
        .unwrap()
        .starts_with("auto (exact"));
    let o = verity_in(tmp.path(), &["validate", "--min-recall", "1.5"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("minimum recall"),
        "{}",
        text(&o.stderr)
    );
}

/// `--partition time:M/N` packs cases by the durations of `--history`: the shares cover every
/// case once, each report records its expected time, and the merge is the whole run. Without
/// a history it is an input error.
#[test]
fn time_partitions_balance_by_history_and_merge() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let sample = sample();
    let run = |extra: &[&str], out: &str| {
        let mut args = vec![
            "validate",
            "--corpus",
            s(&sample),
            "--cases",
            "200",
            "--seed",
            "4",
            "--embedder",
            "none",
            "-o",
            out,
            "--no-progress",
        ];
        args.extend_from_slice(extra);
        verity_in(d, &args)
    };
    let o = run(&["--partition", "time:1/2"], "nohistory");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("needs --history"),
        "{}",
        text(&o.stderr)
    );

    assert_eq!(run(&[], "whole").status.code(), Some(0));
    let history = d.join("whole/report.json");
    let mut expected = Vec::new();
    let mut ids = Vec::new();
    for k in 1..=2 {
        let o = run(
            &[
                "--partition",
                &format!("time:{k}/2"),
                "--history",
                s(&history),
            ],
            &format!("t{k}"),
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let r = Report::load(&d.join(format!("t{k}/report.json"))).unwrap();
        expected.push(
            r.selection
                .expected_ms
                .expect("a history gives an expected time"),
        );
        ids.extend(r.cases.iter().map(|c| c.id.clone()));
    }
    let whole = Report::load(&history).unwrap();
    ids.sort();
    let mut all: Vec<String> = whole.cases.iter().map(|c| c.id.clone()).collect();
    all.sort();
    assert_eq!(ids, all, "every case in exactly one share");
    // The expected times add up to the history's total and are nearly equal.
    let total: f64 = whole.durations().values().sum();
    assert!((expected.iter().sum::<f64>() - total).abs() < 1e-6 * total.max(1.0));
    let longest = whole.durations().values().copied().fold(0.0, f64::max);
    assert!(
        (expected[0] - expected[1]).abs() <= longest + 1e-9,
        "{expected:?}"
    );
    let o = verity_in(
        d,
        &[
            "report",
            "merge",
            "t1/report.json",
            "t2/report.json",
            "-o",
            "merged",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let merged = Report::load(&d.join("merged/report.json")).unwrap();
    assert_eq!(merged.cases.len(), whole.cases.len());
    assert!(merged.sources.iter().all(|s| s.expected_ms.is_some()));
}

/// `--repeat N` runs each case N times as `ID~K`; `--rerun-failed REPORT` runs only the cases
/// that did not pass there (and refuses a report where everything passed).
#[test]
fn repeat_and_rerun_failed_select_what_they_say() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let sample = sample();
    let run = |extra: &[&str], out: &str| {
        let mut args = vec![
            "validate",
            "--corpus",
            s(&sample),
            "--cases",
            "40",
            "--seed",
            "9",
            "--embedder",
            "none",
            "-o",
            out,
            "--no-progress",
        ];
        args.extend_from_slice(extra);
        verity_in(d, &args)
    };
    let o = run(&["--repeat", "3"], "repeated");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let r = Report::load(&d.join("repeated/report.json")).unwrap();
    assert_eq!(r.cases.len(), 120);
    assert!(r.cases.iter().any(|c| c.id.ends_with("~3")));
    assert!(r.repeats.is_empty(), "a correct engine is steady");
    assert!(
        text(&o.stdout).contains("jobs: 120 total"),
        "{}",
        text(&o.stdout)
    );

    assert_eq!(run(&[], "first").status.code(), Some(0));
    let o = run(&["--rerun-failed", "first/report.json"], "again");
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("nothing to rerun"),
        "{}",
        text(&o.stderr)
    );

    // Mark two cases of the first run as not passed, as a failed run would have.
    let mut first: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("first/report.json")).unwrap())
            .unwrap();
    let ids: Vec<String> = (0..2)
        .map(|i| first["cases"][i]["id"].as_str().unwrap().to_string())
        .collect();
    first["cases"][0]["status"] = "failed".into();
    first["cases"][1]["status"] = "timed_out".into();
    std::fs::write(d.join("failed.json"), first.to_string()).unwrap();
    let o = run(&["--rerun-failed", "failed.json"], "rerun");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let rerun = Report::load(&d.join("rerun/report.json")).unwrap();
    let mut got: Vec<String> = rerun.cases.iter().map(|c| c.id.clone()).collect();
    got.sort();
    let mut want = ids;
    want.sort();
    assert_eq!(got, want);
}

/// SIGTERM while the index is being built: the build stops between files, no case runs, the
/// report is written and says which phase was interrupted, and the temporary index is gone.
#[test]
fn sigterm_while_the_index_is_built_writes_a_report_and_removes_the_temporary_index() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    // A corpus whose index takes a while (vectors for 3,000 files), so the signal lands in it.
    let corpus = d.join("corpus");
    for i in 0..3000 {
        let dir = corpus.join(format!("m{}", i % 30));
        std::fs::create_dir_all(&dir).unwrap();
        let body: String = (0..40)
            .map(|l| format!("pub fn f{i}_{l}(x: u32) -> u32 {{ x.wrapping_mul({l}) }}\n"))
            .collect();
        std::fs::write(dir.join(format!("f{i}.rs")), body).unwrap();
    }
    let scratch = d.join("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_verity"));
    cmd.args([
        "validate",
        "--corpus",
        s(&corpus),
        "--cases",
        "50",
        "--no-progress",
        "-o",
        "out",
    ])
    .current_dir(d)
    .env("TMPDIR", &scratch);
    let (out, rest) = signal_when(cmd, "building the index of", "-TERM");
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}\n{rest}",
        text(&out.stdout)
    );
    assert!(rest.contains("SIGTERM"), "{rest}");

    let r = check_formats_agree(&d.join("out"));
    assert!(!r.complete);
    assert_eq!(
        r.interrupted_during,
        Some(verity_report::model::RunPhase::Index),
        "{rest}"
    );
    assert_eq!(r.summary.total, 50);
    assert_eq!(r.summary.cancelled, 50, "{:?}", r.summary);
    assert!(
        text(&out.stdout).contains("interrupted while building the index"),
        "{}",
        text(&out.stdout)
    );
    let left: Vec<_> = std::fs::read_dir(&scratch).unwrap().collect();
    assert!(left.is_empty(), "temporary files left: {left:?}");
}
