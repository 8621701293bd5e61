//! Fuzzing the query parser and matcher with proptest: arbitrary input never panics, errors
//! point inside the query, and candidate planning never loses a match.
//!
//! CI raises the parser's case count with `VERITY_FUZZ_CASES` for a bounded fuzzing run. (Not
//! `PROPTEST_CASES`: proptest lets that variable override every test's own count, including
//! the index-building properties below.)

use crate::common;

use proptest::prelude::*;
use verity_engine::matcher::{FileText, Matcher};
use verity_engine::{parse, BuildOptions, CodeIndex, Deadline, SearchOptions};

/// Characters that stress the grammar: operators, quotes, slashes, regex metacharacters,
/// whitespace, non-ASCII.
fn query_strategy() -> impl Strategy<Value = String> {
    let atoms = prop_oneof![
        Just("AND".to_string()),
        Just("OR".to_string()),
        Just("NOT".to_string()),
        Just("NEAR/2".to_string()),
        Just("NEAR/".to_string()),
        Just("lit:".to_string()),
        Just("regex:".to_string()),
        "[a-z_]{1,5}",
        "[ ()\"/\\\\*?~0-9\\[\\]{}.+|^$<>,&:#@!-]",
        "[ \t\n]",
        "[\u{80}-\u{10FFFF}]",
    ];
    prop::collection::vec(atoms, 0..12).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("VERITY_FUZZ_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(2000),
        ..ProptestConfig::default()
    })]

    #[test]
    fn parser_never_panics_and_errors_point_inside(q in query_strategy(), text in "[a-z ():\n\"]{0,60}") {
        match parse(&q) {
            Ok(ast) => {
                if let Ok(m) = Matcher::compile(&ast) {
                    let _ = m.matches(&FileText::new(&text), &Deadline::none());
                }
            }
            Err(e) => {
                let len = q.chars().count();
                prop_assert!(e.column >= 1 && e.column <= len + 1, "column {} for {:?} ({} chars): {}", e.column, q, len, e);
                prop_assert!(!e.message.is_empty());
            }
        }
    }

    #[test]
    fn arbitrary_unicode_never_panics(q in "\\PC{0,40}") {
        let _ = parse(&q);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Whatever the trigram and phrase plans propose, a literal's answer is exactly the files
    /// whose text contains it.
    #[test]
    fn literal_search_equals_brute_force(
        files in prop::collection::vec("[abc:<> \n]{0,40}", 1..6),
        needle in "[abc:<> ]{1,6}",
    ) {
        let corpus = tempfile::tempdir().unwrap();
        for (i, f) in files.iter().enumerate() {
            common::write(corpus.path(), &format!("f{i}.txt"), f);
        }
        let idx = tempfile::tempdir().unwrap();
        let (index, _) = CodeIndex::build(corpus.path(), &idx.path().join("i"), &BuildOptions::default()).unwrap();
        let got: Vec<String> = {
            let mut v: Vec<String> = index
                .search(&format!("lit:{needle}"), &SearchOptions::default())
                .unwrap()
                .hits
                .into_iter()
                .map(|h| h.path)
                .collect();
            v.sort();
            v
        };
        let want: Vec<String> = files
            .iter()
            .enumerate()
            .filter(|(_, f)| f.contains(needle.as_str()))
            .map(|(i, _)| format!("f{i}.txt"))
            .collect();
        prop_assert_eq!(got, want);
    }
}
