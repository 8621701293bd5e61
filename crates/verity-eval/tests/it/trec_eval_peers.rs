//! `verity eval` against trec_eval 9.0.8's own output for the reference cases in
//! ../shared/peers/trec_eval (see its README): every measure we implement, every query and the
//! summary, compared as printed text (4 decimals).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use verity_eval::{evaluate, report, MeasureSelection, Options, Qrels, Run};

/// Measures of trec_eval's all_trec that verity does not implement: none. The test fails if
/// any peer measure is missing from our output.
const NOT_IMPLEMENTED: &[&str] = &[];

fn peers() -> Option<PathBuf> {
    let dir = std::env::var_os("VERITY_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/peers"))
        .join("trec_eval");
    if dir.is_dir() {
        Some(dir)
    } else if std::env::var("VERITY_REQUIRE_PEERS").as_deref() == Ok("1") {
        panic!("{} is missing and VERITY_REQUIRE_PEERS=1", dir.display());
    } else {
        eprintln!("skipping: no trec_eval peers at {}", dir.display());
        None
    }
}

/// (measure, query) → printed value.
fn parse(text: &str) -> BTreeMap<(String, String), String> {
    text.lines()
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 3, "{l:?}");
            (
                (f[0].trim_end().to_string(), f[1].to_string()),
                f[2].to_string(),
            )
        })
        .collect()
}

fn check(dir: &Path, case: &str, expected: &str, opts: Options) {
    let qrels = Qrels::load(&dir.join(format!("{case}.qrels"))).unwrap();
    let run = Run::load(&dir.join(format!("{case}.run"))).unwrap();
    let ev = evaluate(&qrels, &run, &MeasureSelection::all_trec(), &opts).unwrap();
    let ours = parse(&report::render(&ev, true));
    let theirs = parse(&std::fs::read_to_string(dir.join(expected)).unwrap());
    let mut compared = 0;
    let mut skipped = BTreeSet::new();
    let mut wrong = Vec::new();
    for (key, value) in &theirs {
        match ours.get(key) {
            Some(v) if v == value => compared += 1,
            Some(v) => wrong.push(format!("{} {}: ours {v}, trec_eval {value}", key.0, key.1)),
            None => {
                skipped.insert(key.0.clone());
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{expected}: {} differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    let unexpected: Vec<&String> = skipped
        .iter()
        .filter(|m| !NOT_IMPLEMENTED.contains(&m.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "{expected}: measures missing from our output: {unexpected:?}"
    );
    // Nothing extra: every line we print, trec_eval printed too.
    let extra: Vec<&(String, String)> = ours.keys().filter(|k| !theirs.contains_key(*k)).collect();
    assert!(
        extra.is_empty(),
        "{expected}: lines trec_eval does not print: {extra:?}"
    );
    assert!(
        compared > 100,
        "{expected}: only {compared} values compared"
    );
}

#[test]
fn edge_cases_match_trec_eval() {
    let Some(dir) = peers() else { return };
    check(&dir, "edge", "edge.all_trec.q.txt", Options::default());
    check(
        &dir,
        "edge",
        "edge.all_trec.qc.txt",
        Options {
            complete: true,
            ..Options::default()
        },
    );
}

#[test]
fn random_ties_match_trec_eval() {
    let Some(dir) = peers() else { return };
    check(
        &dir,
        "random_ties",
        "random_ties.all_trec.q.txt",
        Options::default(),
    );
    check(
        &dir,
        "random_ties",
        "random_ties.all_trec.qc.txt",
        Options {
            complete: true,
            ..Options::default()
        },
    );
}

#[test]
fn graded_relevance_matches_trec_eval_with_and_without_l2() {
    let Some(dir) = peers() else { return };
    check(
        &dir,
        "random_graded",
        "random_graded.all_trec.q.txt",
        Options::default(),
    );
    check(
        &dir,
        "random_graded",
        "random_graded.all_trec.qc.txt",
        Options {
            complete: true,
            ..Options::default()
        },
    );
    check(
        &dir,
        "random_graded",
        "random_graded.all_trec.q.l2.txt",
        Options {
            relevance_level: 2,
            ..Options::default()
        },
    );
}

#[test]
fn run_only_and_qrels_only_queries_match_trec_eval() {
    let Some(dir) = peers() else { return };
    check(
        &dir,
        "mismatch",
        "mismatch.all_trec.q.txt",
        Options::default(),
    );
    check(
        &dir,
        "mismatch",
        "mismatch.all_trec.qc.txt",
        Options {
            complete: true,
            ..Options::default()
        },
    );
}
