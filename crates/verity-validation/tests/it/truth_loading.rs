//! Loading ground truth reports every problem with file, line, column and field; qrels
//! round-trip; the committed JSON Schema is the one the types generate.

use std::path::Path;

use verity_validation::truth::json_schema;
use verity_validation::{GroundTruthDataset, TruthProblem};

fn problems(text: &str) -> Vec<TruthProblem> {
    GroundTruthDataset::parse(text, Path::new("truth.json"))
        .unwrap_err()
        .0
}

const GOOD: &str = r#"{
  "format_version": 1,
  "corpus_fingerprint": "sha256:00",
  "cases": [
    {
      "id": "a",
      "query": "pub AND fn",
      "query_type": "BooleanAnd",
      "expected_files": ["src/lib.rs"]
    }
  ]
}"#;

#[test]
fn a_valid_file_loads() {
    let ds = GroundTruthDataset::parse(GOOD, Path::new("t.json")).unwrap();
    assert_eq!(ds.cases[0].id, "a");
}

#[test]
fn a_byte_order_mark_is_skipped_and_bad_utf8_is_placed() {
    let dir = tempfile::tempdir().unwrap();
    let with_bom = dir.path().join("bom.json");
    std::fs::write(
        &with_bom,
        [b"\xEF\xBB\xBF".as_slice(), GOOD.as_bytes()].concat(),
    )
    .unwrap();
    assert_eq!(
        GroundTruthDataset::load(&with_bom).unwrap().cases[0].id,
        "a"
    );
    // An invalid byte in the query string of line 7, after `      "query": "pub`.
    let bad = dir.path().join("bad.json");
    let text = GOOD.replace("pub AND fn", "pub\u{1}AND fn");
    let bytes: Vec<u8> = text
        .bytes()
        .map(|b| if b == 1 { 0xFF } else { b })
        .collect();
    std::fs::write(&bad, bytes).unwrap();
    let p = GroundTruthDataset::load(&bad).unwrap_err().0;
    assert_eq!((p[0].line, p[0].column), (7, 20), "{}", p[0]);
    assert!(p[0].message.contains("not UTF-8"), "{}", p[0]);
}

#[test]
fn malformed_json_names_line_and_column() {
    let p = problems("{\n  \"format_version\": 1,\n  \"cases\": [\n    {\"id\": \"a\",, }\n  ]\n}");
    assert_eq!(p.len(), 1);
    assert_eq!((p[0].line, p[0].column), (4, 16));
    assert_eq!(p[0].to_string().split(':').next(), Some("truth.json"));
}

#[test]
fn unknown_fields_and_query_types_name_the_field() {
    let p = problems(&GOOD.replace("\"query\":", "\"qeury\":"));
    assert_eq!(p[0].field.as_deref(), Some("cases[0].qeury"), "{}", p[0]);
    assert_eq!(p[0].line, 7);
    let p = problems(&GOOD.replace("BooleanAnd", "Fuzzy"));
    assert_eq!(
        p[0].field.as_deref(),
        Some("cases[0].query_type"),
        "{}",
        p[0]
    );
    assert!(p[0].message.contains("unknown variant"), "{}", p[0]);
    assert_eq!(p[0].line, 8);
    let p = problems(&GOOD.replace("\"query\": \"pub AND fn\",", ""));
    assert!(p[0].message.contains("missing field `query`"), "{}", p[0]);
}

#[test]
fn every_semantic_problem_is_reported_with_its_position() {
    let text = r#"{
  "format_version": 1,
  "corpus_fingerprint": "sha256:00",
  "cases": [
    {"id": "a", "query": "x", "query_type": "Regex", "expected_files": ["/etc/passwd", "ok.rs", "ok.rs"]},
    {"id": "a", "query": "y", "query_type": "Phrase", "expected_files": ["../up.rs"],
     "must_contain": ["z"], "must_not_contain": ["z"]},
    {"id": "c", "query": "z", "query_type": "Wildcard", "expected_files": ["a.rs", "b.rs"],
     "expected_count": {"min": 3, "max": 1}},
    {"id": "d", "query": "w", "query_type": "Wildcard", "expected_files": ["a.rs", "b.rs"],
     "expected_count": {"min": 0, "max": 1}, "relevance": {"c.rs": 2}}
  ]
}"#;
    let p = problems(text);
    let summary: Vec<(usize, usize, String)> = p
        .iter()
        .map(|p| (p.line, p.column, p.field.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        summary,
        vec![
            (5, 73, "cases[0].expected_files[0]".to_string()),
            (5, 97, "cases[0].expected_files[2]".to_string()),
            (6, 6, "cases[1].id".to_string()),
            (6, 74, "cases[1].expected_files[0]".to_string()),
            (7, 23, "cases[1].must_contain[0]".to_string()),
            (9, 6, "cases[2].expected_count".to_string()),
            (11, 60, "cases[3].relevance.c.rs".to_string()),
            (11, 6, "cases[3].expected_count".to_string()),
        ],
        "{p:#?}"
    );
    assert!(p[0].message.contains("absolute path"));
    assert!(p[1].message.contains("listed twice"));
    assert!(p[2]
        .message
        .contains("duplicate id `a` (first used by cases[0])"));
    assert!(p[3].message.contains("`..`"));
    assert!(p[4]
        .message
        .contains("both in must_contain and must_not_contain"));
    assert!(p[5].message.contains("min 3 is greater than max 1"));
    assert!(p[6].message.contains("not in expected_files"));
    assert!(p[7].message.contains("outside the expected count range"));
}

/// A query the language does not allow is a mistake in the truth (exit 2 before anything
/// runs), not a wrong answer of the engine that rightly refuses it; every one is reported.
#[test]
fn invalid_queries_are_truth_problems_at_their_position() {
    let text = r#"{
  "format_version": 1,
  "corpus_fingerprint": "sha256:00",
  "cases": [
    {"id": "a", "query": "alpha AND (", "query_type": "BooleanAnd", "expected_files": []},
    {"id": "b", "query": "fine", "query_type": "SpecialCharacters", "expected_files": []},
    {"id": "c", "query": "regex:(unclosed", "query_type": "Regex", "expected_files": []}
  ]
}"#;
    let p = problems(text);
    let summary: Vec<(usize, String)> = p
        .iter()
        .map(|p| (p.line, p.field.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        summary,
        [
            (5, "cases[0].query".to_string()),
            (7, "cases[2].query".to_string())
        ],
        "{p:#?}"
    );
    assert!(
        p[0].message
            .contains("`alpha AND (` is not a valid query: column 12"),
        "{}",
        p[0].message
    );
    assert!(p[1].message.contains("regex:(unclosed"), "{}", p[1].message);
}

/// Type errors are reported for every case, not only the first one serde stops at, each at
/// its field when it can be told.
#[test]
fn every_shape_problem_is_reported_not_only_the_first() {
    let text = r#"{
  "format_version": 1,
  "corpus_fingerprint": "sha256:00",
  "cases": [
    {"id": "a", "query": "x", "query_type": "Literal", "expected_files": []},
    {"id": "b", "query": "y", "query_type": "Regex", "expected_files": []},
    {"id": "c", "query": "z", "query_type": "Regex", "expected_files": "a.rs"},
    {"id": "d", "query_type": "Regex", "expected_files": []},
    {"id": "e", "query": "w", "query_type": "Regex", "expected_files": [], "colour": 1}
  ]
}"#;
    let p = problems(text);
    let summary: Vec<(usize, String)> = p
        .iter()
        .map(|p| (p.line, p.field.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        summary,
        [
            (5, "cases[0].query_type".to_string()),
            (7, "cases[2]".to_string()),
            (8, "cases[3].query".to_string()),
            (9, "cases[4].colour".to_string()),
        ],
        "{p:#?}"
    );
    assert_eq!(p[0].column, 31, "{p:#?}");
    assert!(p[0].message.contains("unknown variant `Literal`"));
    assert!(p[1].message.contains("invalid type"), "{}", p[1].message);
    assert!(p[2].message.contains("missing field `query`"));
    assert!(p[3].message.contains("unknown field `colour`"));
}

#[test]
fn other_format_versions_are_refused() {
    let p = problems(&GOOD.replace("\"format_version\": 1", "\"format_version\": 2"));
    assert_eq!((p[0].line, p[0].column), (2, 3));
    assert!(p[0].message.contains("format version 2 is not supported"));
}

#[test]
fn qrels_round_trip() {
    let text = GOOD.replace(
        "\"expected_files\": [\"src/lib.rs\"]",
        "\"expected_files\": [\"src/lib.rs\", \"src/b.rs\"], \"relevance\": {\"src/lib.rs\": 2, \"src/b.rs\": 1}",
    );
    let ds = GroundTruthDataset::parse(&text, Path::new("t.json")).unwrap();
    let qrels = ds.to_qrels();
    assert_eq!(qrels, "a 0 src/lib.rs 2\na 0 src/b.rs 1\n");
    let topics = "a\tBooleanAnd\tpub AND fn\nempty\tRegex\t/nothing/\n";
    let back = GroundTruthDataset::from_qrels(
        &qrels,
        Path::new("q"),
        topics,
        Path::new("t"),
        "sha256:00".into(),
    )
    .unwrap();
    assert_eq!(back.cases[0].query, "pub AND fn");
    let mut files = back.cases[0].expected_files.clone();
    files.sort();
    assert_eq!(files, ["src/b.rs", "src/lib.rs"]);
    assert_eq!(back.cases[0].relevance["src/lib.rs"], 2);
    assert!(back.cases[1].expected_files.is_empty());

    let err = GroundTruthDataset::from_qrels(
        "a 0 x\n",
        Path::new("q.txt"),
        topics,
        Path::new("t"),
        String::new(),
    )
    .unwrap_err();
    assert_eq!(err.0[0].line, 1);
    assert!(
        err.0[0]
            .to_string()
            .starts_with("q.txt:1:1: expected 4 fields"),
        "{}",
        err.0[0]
    );
    let err = GroundTruthDataset::from_qrels(
        "",
        Path::new("q"),
        "a\tNope\tx\n",
        Path::new("topics.tsv"),
        String::new(),
    )
    .unwrap_err();
    assert!(err.0[0].to_string().contains("unknown query type `Nope`"));
}

#[test]
fn the_committed_schema_is_generated_from_the_types() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/ground-truth.schema.json");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    if committed != json_schema() && std::env::var_os("VERITY_BLESS").is_some() {
        std::fs::write(&path, json_schema()).unwrap();
        return;
    }
    assert_eq!(
        committed,
        json_schema(),
        "docs/ground-truth.schema.json is stale: run with VERITY_BLESS=1"
    );
}
