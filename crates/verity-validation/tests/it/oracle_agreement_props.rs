//! Property tests: on random small corpora and random queries, the oracle and the engine agree
//! on whether a query is valid and, when it is, on the exact set of matching files, in each of
//! the engine's ways of answering: every file with its lines, files only (`-l`, stopping at
//! each file's first match), and the best N (`--limit`, verifying in rank order).

use std::collections::BTreeSet;

use proptest::prelude::*;
use verity_engine::{BuildOptions, CodeIndex, EngineError, SearchOptions};
use verity_oracle::{Corpus, CorpusRules, Oracle};

const WORDS: &[&str] = &["foo", "bar", "Baz", "x_1", "变量", "fn", "AND", "a"];

fn text_strategy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => prop::sample::select(WORDS).prop_map(str::to_owned),
        // A word past the word index's 256 bytes: not indexed, found by trigrams.
        1 => Just("x_".repeat(130)),
        3 => prop::sample::select(vec![" ", " ", "\n", "\t", "\r\n", "  "]).prop_map(str::to_owned),
        2 => prop::sample::select(vec![":", "::", "<", ">", "(", ")", ",", ";", "&", "#", "\"", "*", "?", "/", "🦀", "\u{200B}"]).prop_map(str::to_owned),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn word() -> impl Strategy<Value = String> {
    prop::sample::select(&WORDS[..6]).prop_map(str::to_owned)
}

fn term() -> BoxedStrategy<String> {
    prop_oneof![
        3 => word(),
        1 => (word(), word()).prop_map(|(a, b)| format!("\"{a} {b}\"")),
        1 => (word(), prop::sample::select(vec!["::", " :: ", "<", "("]), word()).prop_map(|(a, s, b)| format!("\"{a}{s}{b}\"")),
        1 => (word(), 0u32..4, word()).prop_map(|(a, n, b)| format!("{a} NEAR/{n} {b}")),
        1 => (word(), 0u32..4, word()).prop_map(|(a, n, b)| format!("\"{a} {b}\"~{n}")),
        // Phrases on both sides, with symbols: the index narrows NEAR by the first word of
        // each side within a slop computed from the sides' word counts.
        1 => (word(), word(), prop::sample::select(vec!["::", " ", "<", "& "]), word(), 0u32..4, word(), word())
            .prop_map(|(a, b, s, c, n, d, e)| format!("\"{a} {b}{s}{c}\" NEAR/{n} \"& {d} {e}\"")),
        // With `?` and no `*`, a wildcard's words are looked up in the index's words (a
        // piece with `*` could match a word too long to be indexed, as the 260-byte one).
        1 => prop::sample::select(vec!["fo*", "*ar", "B?z", "x_*", "*", "?", "变*", "变?", "Ba?", "?n", "x_?", "f? ba?", "?o?", "x_*_1"]).prop_map(str::to_owned),
        1 => prop::sample::select(vec!["/fo+/", "/^\\s*bar/", "/a$/", "/[A-Z]\\w+/", "/::\\s*\\w/", "/\\bfn\\b/"]).prop_map(str::to_owned),
    ]
    .boxed()
}

fn structured() -> impl Strategy<Value = String> {
    term().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} AND {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} OR {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} NOT {b}")),
            inner.clone().prop_map(|a| format!("NOT {a}")),
            inner.clone().prop_map(|a| format!("({a})")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("{a} {b}")),
        ]
    })
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => structured(),
        2 => text_strategy().prop_filter("non-empty", |s| !s.trim().is_empty()),
        1 => text_strategy().prop_map(|s| format!("lit:{s}")),
        1 => "[a-z(|)\\\\.*+?\\[\\]{}^$0-9 ]{1,12}".prop_map(|s| format!("regex:{s}")),
    ]
}

fn check(files: &[String], queries: &[String]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    for (i, text) in files.iter().enumerate() {
        std::fs::write(dir.path().join(format!("f{i}.txt")), text).unwrap();
    }
    let idx = tempfile::tempdir().unwrap();
    let (index, _) =
        CodeIndex::build(dir.path(), &idx.path().join("i"), &BuildOptions::default()).unwrap();
    let corpus = Corpus::load(dir.path(), &CorpusRules::default()).unwrap();
    let oracle = Oracle::new(&corpus);
    for q in queries {
        let ours = index.search(q, &SearchOptions::default());
        let theirs = oracle.files(q);
        match (ours, theirs) {
            (Ok(r), Ok(want)) => {
                let got: BTreeSet<String> = r.hits.iter().map(|h| h.path.clone()).collect();
                prop_assert_eq!(&got, &want, "query {:?} over {:?}", q, files);
                prop_assert!(r.total_exact);
                let files_only = index
                    .search(
                        q,
                        &SearchOptions {
                            files_only: true,
                            ..SearchOptions::default()
                        },
                    )
                    .unwrap();
                let quick: BTreeSet<String> = files_only.hits.into_iter().map(|h| h.path).collect();
                prop_assert_eq!(&quick, &want, "files only: query {:?} over {:?}", q, files);
                let ranked: Vec<(String, f32)> =
                    r.hits.iter().map(|h| (h.path.clone(), h.score)).collect();
                for limit in 0..=files.len() {
                    let top = index
                        .search(
                            q,
                            &SearchOptions {
                                limit: Some(limit),
                                ..SearchOptions::default()
                            },
                        )
                        .unwrap();
                    let got: Vec<(String, f32)> =
                        top.hits.iter().map(|h| (h.path.clone(), h.score)).collect();
                    let n = limit.min(ranked.len());
                    prop_assert_eq!(&got[..], &ranked[..n], "limit {} of {:?}", limit, q);
                    prop_assert!(top.total <= r.total && top.total >= n);
                    if top.total_exact {
                        prop_assert_eq!(top.total, r.total);
                    }
                }
            }
            (Err(EngineError::Query(_)), Err(_)) => {}
            (Ok(_), Err(e)) => prop_assert!(false, "{q:?}: engine accepts, oracle rejects: {e}"),
            (Err(e), Ok(_)) => prop_assert!(false, "{q:?}: engine rejects, oracle accepts: {e}"),
            (Err(e), Err(_)) => prop_assert!(false, "{q:?}: unexpected engine error {e}"),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        // Each case builds an index: `VERITY_ORACLE_CASES` raises the count for longer runs.
        cases: std::env::var("VERITY_ORACLE_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(128),
        ..ProptestConfig::default()
    })]

    #[test]
    fn oracle_and_engine_agree(
        files in prop::collection::vec(text_strategy(), 1..6),
        queries in prop::collection::vec(query(), 1..12),
    ) {
        check(&files, &queries)?;
    }
}
