//! The renderings of a report: snapshots of what people read, and checks that the machine
//! formats parse and agree with report.json.

use crate::fixture;

use std::path::Path;

use verity_report::{junit, markdown, terminal, trec, Format, Outcome, Report};

#[test]
fn summary_counts_follow_the_cases() {
    let r = fixture::report(fixture::cases(), None);
    let s = &r.summary;
    assert_eq!(
        (
            s.total,
            s.passed,
            s.failed,
            s.errored,
            s.timed_out,
            s.cancelled,
            s.flaky
        ),
        (6, 2, 1, 1, 1, 1, 1)
    );
    assert_eq!(
        s.total,
        s.passed + s.failed + s.errored + s.timed_out + s.cancelled
    );
    assert_eq!(s.retries, 2);
    let special = &r.per_type["SpecialCharacters"];
    assert_eq!(special.accuracy, 50.0);
    assert_eq!(special.precision, Some(0.75));
    assert_eq!(r.per_type["Regex"].precision, None);
    // Latencies of cases that ran: 0.5, 0.75, 1.5 (nearest rank).
    assert_eq!((s.p50_ms, s.max_ms), (0.75, 1.5));
    assert_eq!(r.outcome(), Outcome::Failures);
}

/// Under `--repeat`, a case whose runs ended differently is listed with the count of each
/// outcome, in report.json and in every summary; one whose runs agree is not.
#[test]
fn repeated_cases_that_disagree_are_flaky_by_repetition() {
    let mut cases = Vec::new();
    for (k, c) in fixture::cases().into_iter().enumerate() {
        let mut c = c;
        c.id = format!("case~{}", k + 1);
        cases.push(c);
    }
    let mut same = fixture::cases()[0].clone();
    same.id = "steady~1".into();
    let mut same2 = same.clone();
    same2.id = "steady~2".into();
    same2.ordinal += 100;
    cases.push(same);
    cases.push(same2);
    let r = fixture::report(cases, None);
    assert_eq!(r.repeats.len(), 1, "{:?}", r.repeats);
    let rep = &r.repeats[0];
    assert_eq!((rep.id.as_str(), rep.runs), ("case", 6));
    assert_eq!(rep.outcomes.values().sum::<usize>(), 6);
    assert_eq!(rep.outcomes.get("timed_out"), Some(&1));
    assert!(terminal::render(&r).contains("flaky under repetition (1 cases"));
    assert!(markdown::render(&r).contains("## Flaky under repetition (1)"));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["repeats"][0]["id"], "case");
}

#[test]
fn outcome_separates_wrong_answers_from_unanswered_cases() {
    let mut cases = fixture::cases();
    cases.retain(|c| c.id != "special-2");
    let r = fixture::report(cases, None);
    assert_eq!(r.outcome(), Outcome::Infrastructure);
    assert_eq!(r.outcome().exit_code(), 3);

    let mut r = fixture::report(fixture::cases(), None);
    r.settings.min_accuracy.values_mut().for_each(|v| *v = 0.0);
    r.summarise();
    assert_eq!(r.outcome(), Outcome::Passed);
    r.cancel_reason = Some(verity_runner::CancelReason::Interrupt);
    assert_eq!(r.outcome().exit_code(), 130);
}

#[test]
fn approximate_types_are_judged_by_their_mean_recall() {
    use verity_runner::{Attempt, AttemptOutcome, JobStatus};
    use verity_validation::QueryType;
    // Three Vector cases answered from the graph, all passed: recall 1, 1 and 0.9.
    let cases = (0..3)
        .map(|i| {
            let id = format!("vector-{i}");
            let mut r = fixture::result(&id, QueryType::Vector, true, 1.0, &["a.rs#L1-40"]);
            r.approximate = true;
            r.recall = if i == 2 { 0.9 } else { 1.0 };
            fixture::case(
                i,
                &id,
                QueryType::Vector,
                "vector: x",
                JobStatus::Passed,
                vec![Attempt {
                    outcome: AttemptOutcome::Passed,
                    duration_ms: 1.0,
                }],
                Some(r),
                &["a.rs#L1-40"],
            )
        })
        .collect();
    let mut r = fixture::report(cases, None);
    let check = &r.recall_checks[0];
    assert_eq!(
        (check.query_type.as_str(), check.approximate_cases),
        ("Vector", 3)
    );
    assert!((check.mean_recall - 2.9 / 3.0).abs() < 1e-12);
    assert!(!check.met, "0.967 < 0.99");
    assert!(r.thresholds.iter().all(|t| t.met), "every case passed");
    // Every case passed, yet the run failed: the approximation is not good enough.
    assert_eq!(r.outcome(), Outcome::Failures);
    let text = terminal::render(&r);
    assert!(
        text.contains("thresholds missed: Vector mean recall@k 0.9667 < 0.9900"),
        "{text}"
    );
    assert!(markdown::render(&r).contains("## Approximate search"));
    assert!(junit::render(&r).contains("mean recall@k 0.9667 below the minimum 0.9900"));
    r.settings.min_recall = 0.95;
    r.summarise();
    assert_eq!(r.outcome(), Outcome::Passed);
}

#[test]
fn terminal_summary_snapshot() {
    let r = fixture::report(fixture::cases(), None);
    insta::assert_snapshot!(terminal::render(&r));
}

#[test]
fn markdown_snapshot() {
    let r = fixture::report(fixture::cases(), None);
    insta::assert_snapshot!(markdown::render(&r));
}

#[test]
fn junit_reads_back_with_the_report_numbers() {
    let r = fixture::report(fixture::cases(), None);
    let xml = junit::render(&r);
    let back = quick_junit::Report::deserialize_from_str(&xml).expect("valid JUnit");
    assert_eq!(back.tests, 6);
    assert_eq!(back.failures, 1);
    assert_eq!(back.errors, 2);
    let suites: Vec<&str> = back.test_suites.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        suites,
        ["SpecialCharacters", "BooleanAnd", "Phrase", "Regex"]
    );
    let special = &back.test_suites[0];
    let failed = &special.test_cases[1];
    match &failed.status {
        quick_junit::TestCaseStatus::NonSuccess {
            kind, description, ..
        } => {
            assert_eq!(*kind, quick_junit::NonSuccessKind::Failure);
            let d = description.as_ref().unwrap().as_str();
            assert!(d.contains("missing files (1):\n  src/lib.rs"), "{d}");
            assert!(d.contains("unexpected files (1):\n  README.md"), "{d}");
        }
        other => panic!("{other:?}"),
    }
    // The flaky case carries its errored attempt.
    assert!(
        xml.contains(
            "<flakyFailure time=\"0.003\" message=\"backend unavailable: busy\" type=\"error\">"
        ),
        "{xml}"
    );
    assert!(xml.contains("<skipped"), "{xml}");
}

#[test]
fn html_is_well_formed_and_self_contained() {
    let mut cases = fixture::cases();
    cases[1].query = "<script>alert('&')</script>".into();
    let r = fixture::report(cases, None);
    let html = verity_report::html::render(&r);
    assert_well_formed(&html);
    assert!(!html.contains("<script>"));
    for external in ["src=\"http", "href=\"http", "@import"] {
        assert!(!html.contains(external), "fetches {external}");
    }
    assert_eq!(html.matches("<svg").count(), 2);
}

pub fn assert_well_formed(xml: &str) {
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

#[test]
fn trec_files_follow_the_ranking_and_encode_paths() {
    let r = fixture::report(fixture::cases(), None);
    let run = trec::run_file(&r);
    let lines: Vec<&str> = run.lines().collect();
    assert_eq!(
        lines,
        [
            "special-1 Q0 src/lib.rs 1 2.000000 verity",
            "special-1 Q0 src/error.rs 2 1.500000 verity",
            "special-2 Q0 README.md 1 2.000000 verity",
            "special-2 Q0 src/main.rs 2 1.500000 verity",
            "and-1 Q0 my%20dir/a%20b.rs 1 2.000000 verity",
        ]
    );
    let qrels = trec::qrels_file(&r);
    assert!(qrels.contains("and-1 0 my%20dir/a%20b.rs 1\n"));
    // Judged files: 2 + 2 + 1 + 1 + 0 + 1.
    assert_eq!(qrels.lines().count(), 7);
}

#[test]
fn tied_scores_become_strictly_decreasing() {
    let mut cases = fixture::cases();
    let res = cases[0].result.as_mut().unwrap();
    for h in &mut res.ranked {
        h.score = 0.0;
    }
    let r = fixture::report(cases, None);
    let run = trec::run_file(&r);
    let scores: Vec<&str> = run
        .lines()
        .take(2)
        .map(|l| l.split(' ').nth(4).unwrap())
        .collect();
    assert_eq!(scores, ["0.000000", "-0.000001"]);
}

#[test]
fn reports_round_trip_through_json_and_refuse_other_versions() {
    let r = fixture::report(fixture::cases(), None);
    let dir = tempfile::tempdir().unwrap();
    let written = verity_report::write_reports(&r, dir.path(), &Format::ALL).unwrap();
    assert_eq!(written.len(), 6);
    let back = Report::load(&dir.path().join("report.json")).unwrap();
    assert_eq!(back, r);
    // No temporary files are left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");

    let text = std::fs::read_to_string(dir.path().join("report.json")).unwrap();
    let future = text.replacen("\"report_version\": 1", "\"report_version\": 99", 1);
    let e = Report::parse(&future, Path::new("r.json")).unwrap_err();
    assert!(
        e.to_string().contains("report version 99 is not supported"),
        "{e}"
    );
    let broken = text.replacen("\"complete\": true", "\"complete\": 7", 1);
    let e = Report::parse(&broken, Path::new("r.json")).unwrap_err();
    assert!(e.to_string().starts_with("r.json:3:"), "{e}");
}

/// docs/report-schema.md documents every field report.json has: each key of a serialized
/// report (with every optional part present) appears there as `key`.
#[test]
fn report_schema_doc_names_every_field() {
    let mut cases = fixture::cases();
    let res = cases[0].result.as_mut().unwrap();
    res.ranking = Some(verity_validation::validator::RankingMetrics {
        k: 10,
        recall_at_k: 1.0,
        ndcg_at_k: 1.0,
        reciprocal_rank: 1.0,
    });
    res.rejected = Some("x".into());
    res.content_violations
        .push(verity_validation::validator::ContentViolation {
            file: "a".into(),
            line: Some(1),
            rule: verity_validation::validator::ContentRule::MustContain,
            needle: "n".into(),
        });
    let mut r = fixture::report(cases, None);
    let part = r.clone();
    r.sources.push(verity_report::model::SourceRun {
        file: "p1.json".into(),
        partition: None,
        cases: part.cases.len(),
        complete: true,
        wall_time_ms: 1.0,
        expected_ms: Some(1.0),
        hostname: "h".into(),
    });
    r.selection.expected_ms = Some(2.0);
    let value = serde_json::to_value(&r).unwrap();
    let doc = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/report-schema.md"),
    )
    .unwrap();
    let mut keys = std::collections::BTreeSet::new();
    fn walk(
        v: &serde_json::Value,
        skip_children: bool,
        keys: &mut std::collections::BTreeSet<String>,
    ) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, child) in m {
                    if !skip_children {
                        keys.insert(k.clone());
                    }
                    // Maps keyed by data (type names, file paths) are not fields.
                    let data_keyed =
                        matches!(k.as_str(), "per_type" | "min_accuracy" | "judgments");
                    if data_keyed {
                        if let serde_json::Value::Object(inner) = child {
                            for x in inner.values() {
                                walk(x, false, keys);
                            }
                        }
                    } else {
                        walk(child, false, keys);
                    }
                }
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, false, keys)),
            _ => {}
        }
    }
    walk(&value, false, &mut keys);
    let missing: Vec<&String> = keys
        .iter()
        .filter(|k| !doc.contains(&format!("`{k}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "undocumented report fields: {missing:?}"
    );
}
