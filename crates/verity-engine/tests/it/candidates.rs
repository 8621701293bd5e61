//! Candidate plans narrow as documented: the files a query verifies, not only the files it
//! returns (answers are the same with any superset; the number of candidates is the cost).

use crate::common::{set, write};

use std::collections::BTreeSet;

use verity_engine::{BuildOptions, CodeIndex, SearchOptions, SearchResults};

/// The files `q` returns, and how many candidates it verified.
fn search(index: &CodeIndex, q: &str) -> (BTreeSet<String>, usize) {
    let r = index.search(q, &SearchOptions::default()).unwrap();
    (r.hits.into_iter().map(|h| h.path).collect(), r.candidates)
}

/// The files `q` returns when only files are asked for (`-l`) or lines too, with the answer.
fn listed(index: &CodeIndex, q: &str, files_only: bool) -> (BTreeSet<String>, SearchResults) {
    let opts = SearchOptions {
        files_only,
        ..Default::default()
    };
    let r = index.search(q, &opts).unwrap();
    (r.hits.iter().map(|h| h.path.clone()).collect(), r)
}

#[test]
fn a_wildcard_without_a_star_is_looked_up_in_the_indexed_words() {
    let corpus = tempfile::tempdir().unwrap();
    let root = corpus.path();
    // Every file holds the folded trigram `vec`, which is all the trigrams `Vec?` has.
    write(root, "a.rs", "let v: Vec<u8> = Vec::new();\n");
    write(root, "b.rs", "let vs = Vecs::new();\n");
    write(root, "c.rs", "fn main() { vector(); }\n");
    write(root, "d.rs", "const VEC1: u8 = 1; // Vec\n");
    write(root, "e.rs", "fn mein() { let x: Vec2 = y; }\n");
    write(root, "f.rs", "main(); fn start() { vec![] }\n");
    // A word of 302 bytes is not indexed; `Vec?` cannot match it (it is one whole word), and
    // `Vec*` must still find it.
    write(root, "g.rs", format!("Vecx{}\n", "_".repeat(298)));
    let idx = tempfile::tempdir().unwrap();
    let (index, _) =
        CodeIndex::build(root, &idx.path().join("i"), &BuildOptions::default()).unwrap();

    // Only the files holding a four-character word that starts with `Vec`, case and all.
    assert_eq!(search(&index, "Vec?"), (set(&["b.rs", "e.rs"]), 2));
    // Each piece is a word of the file: `fn` and a word `m?in`; f.rs has both, apart.
    let (files, candidates) = search(&index, "fn m?in");
    assert_eq!(files, set(&["c.rs", "e.rs"]));
    assert_eq!(candidates, 3, "c.rs, e.rs and f.rs hold both words");
    // A `*` can match a word too long to be indexed: the trigrams narrow instead.
    let (files, candidates) = search(&index, "Vec*");
    assert_eq!(files, set(&["a.rs", "b.rs", "d.rs", "e.rs", "g.rs"]));
    assert!(candidates >= 4);
}

/// Thousands of candidates in several segments are verified in long runs, each with its own
/// store reader and matcher; short best-N rounds share the searcher's. Either way every
/// candidate is checked against its indexed text: a large file read from the corpus while its
/// hash is the indexed one, from the store once it changed.
#[test]
fn long_runs_of_candidates_across_segments_verify_every_file() {
    let corpus = tempfile::tempdir().unwrap();
    let root = corpus.path();
    let idx = tempfile::tempdir().unwrap();
    let dir = idx.path().join("idx");
    // Every file holds every trigram of the queries, so every file is a candidate; a third
    // of them match. Every tenth file is large enough to be read from the corpus.
    let body = |n: usize| {
        let line = if n.is_multiple_of(3) {
            "let a: Arc<Mutex<u8>> = x;\n"
        } else {
            "let a: Arc<RwLock<u8>> = x; // Arc<Mutex-free Index<usize> Mutexes\n"
        };
        let pad = if n.is_multiple_of(10) { 5_000 } else { 20 };
        format!("// file {n}\n{}{line}", "// padding\n".repeat(pad / 11))
    };
    let (rounds, per_round) = (4, 400);
    let mut index = None;
    // Each round commits a segment of its own.
    for round in 0..rounds {
        for n in round * per_round..(round + 1) * per_round {
            write(root, &format!("d{}/f{n:04}.rs", n % 7), body(n));
        }
        let (i, _) = CodeIndex::build(root, &dir, &BuildOptions::default()).unwrap();
        index = Some(i);
    }
    let index = index.unwrap();
    // A large matching file changed after indexing: its indexed text still matches.
    write(root, "d0/f0030.rs", "nothing here any more\n");
    let expected: BTreeSet<String> = (0..rounds * per_round)
        .filter(|n| n.is_multiple_of(3))
        .map(|n| format!("d{}/f{n:04}.rs", n % 7))
        .collect();
    for q in ["lit:Arc<Mutex<", r"regex:Mutex<\w+>", "\"Arc<Mutex<u8>>\""] {
        let full = index.search(q, &SearchOptions::default()).unwrap();
        for files_only in [true, false] {
            let (got, r) = listed(&index, q, files_only);
            assert_eq!(got, expected, "{q}, files only: {files_only}");
            if !files_only {
                assert!(r.hits.iter().all(|h| h.line_count == 1), "{q}");
            }
            // Score descending, then path: files of one segment are not in path order (the
            // directories interleave), and four segments are merged.
            assert!(
                r.hits.windows(2).all(|w| w[0].score > w[1].score
                    || (w[0].score == w[1].score && w[0].path < w[1].path)),
                "{q}, files only: {files_only}: not in (score, path) order"
            );
        }
        // The best ten, in rounds of a few candidates, are the first ten of the full answer.
        let top = index
            .search(
                q,
                &SearchOptions {
                    limit: Some(10),
                    ..Default::default()
                },
            )
            .unwrap();
        let first: Vec<(&String, f32)> = full
            .hits
            .iter()
            .take(10)
            .map(|h| (&h.path, h.score))
            .collect();
        let got: Vec<(&String, f32)> = top.hits.iter().map(|h| (&h.path, h.score)).collect();
        assert_eq!(got, first, "{q} --limit 10");
    }
    // Every file is a candidate of the literal.
    let r = index
        .search("lit:Arc<Mutex<", &SearchOptions::default())
        .unwrap();
    assert_eq!(r.candidates, rounds * per_round);
}

/// With every matching file listed and thousands of candidates, a one-word wildcard takes
/// the files it certainly matches from the indexed words and reads only the rest: a word too
/// long to be indexed still matches, and a candidate whose words only contain the pattern's
/// text does not. The answer is the one verification gives when lines are collected.
#[test]
fn a_one_word_wildcard_over_thousands_of_candidates_lists_exactly_its_files() {
    let corpus = tempfile::tempdir().unwrap();
    let root = corpus.path();
    let lines = [
        "let e: IoError = x;\n",            // `*Error`, `Io*`
        "let e = ErrorKind::Other;\n",      // neither: `Error` is only part of a word
        "type MyError = u8; // MyErrors\n", // `*Error`
        "struct Errorless;\n",              // neither
    ];
    let n = 4_200;
    for i in 0..n {
        write(root, &format!("f{i:04}.rs"), lines[i % 4]);
    }
    // One word of 305 bytes: not in the word index, matched by verification alone.
    write(root, "long.rs", format!("{}Error\n", "x".repeat(300)));
    let idx = tempfile::tempdir().unwrap();
    let (index, _) =
        CodeIndex::build(root, &idx.path().join("idx"), &BuildOptions::default()).unwrap();
    let name = |i: usize| format!("f{i:04}.rs");
    let mut star_error: BTreeSet<String> = (0..n)
        .filter(|i| i % 4 == 0 || i % 4 == 2)
        .map(name)
        .collect();
    star_error.insert("long.rs".into());
    let io: BTreeSet<String> = (0..n).filter(|i| i % 4 == 0).map(name).collect();
    for (q, expected) in [("*Error", &star_error), ("Io*", &io)] {
        for files_only in [true, false] {
            let (got, r) = listed(&index, q, files_only);
            assert_eq!(&got, expected, "{q}, files only: {files_only}");
            assert!(r.candidates >= 4096, "{q}: {} candidates", r.candidates);
        }
    }
}

/// With every matching file listed and thousands of candidates, words, one-word phrases,
/// two single words `NEAR/n` and their `AND`, `OR` and `NOT` take the files they certainly
/// match from the index (and `NEAR` of two words has no other candidate at all): the
/// answer is the one verification gives when lines are collected, and the one the rules of
/// docs/query-language.md give file by file.
#[test]
fn certain_matches_from_the_index_list_exactly_the_verified_files() {
    let corpus = tempfile::tempdir().unwrap();
    let root = corpus.path();
    let long = "x".repeat(300);
    // Each file is one of these; `near3` says whether `fn NEAR/3 Result` matches it.
    let kinds: Vec<(String, bool)> = vec![
        (
            "fn foo() -> Result<(), E> { BTreeMap::new() }\n".into(),
            true,
        ),
        ("fn a b c d Result\nBTreeMap\n".into(), false), // four words between
        ("Result x y fn\n\"tokio\" BTreeMap\n".into(), true), // the other order
        ("fn :: :: -> Result\n// BTreeMap's\n".into(), true), // symbols do not count
        (format!("fn {long} x Result\n"), true),         // an over-long word counts
        (format!("fn {long} x y z Result\n"), false),    // four, with the over-long one
        ("fn x y z w fn tokio\n".into(), false),
        ("fn fn // MyBTreeMapExt\n".into(), false), // `BTreeMap` inside a word only
        ("fn tokio async VecDeque BTreeMap\n".into(), false),
        ("tokio\nResult\n".into(), false),
        ("nothing here but tokio_x\n".into(), false), // `tokio` inside a word only
        ("FnResult fn_Result Result_fn\n".into(), false), // no word `fn` or `Result`
    ];
    // A third of the files match `fn NEAR/3 Result`: enough for the queries built on it to
    // have the candidates that make certain matches worth taking (`CERTAIN_FROM`).
    let n = 13_200;
    for i in 0..n {
        write(root, &format!("f{i:05}.rs"), &kinds[i % kinds.len()].0);
    }
    let idx = tempfile::tempdir().unwrap();
    let (index, _) =
        CodeIndex::build(root, &idx.path().join("idx"), &BuildOptions::default()).unwrap();
    let near3: BTreeSet<String> = (0..n)
        .filter(|i| kinds[i % kinds.len()].1)
        .map(|i| format!("f{i:05}.rs"))
        .collect();
    let queries = [
        "fn NEAR/3 Result",
        "Result NEAR/3 fn",
        "fn NEAR/2 Result",
        "fn NEAR/4 Result",
        "fn NEAR/0 fn",
        "fn NEAR/3 fn",
        "fn NEAR/4 fn",
        "BTreeMap OR VecDeque",
        "BTreeMap AND fn",
        "tokio NOT async",
        "NOT tokio",
        "fn NOT (fn NEAR/3 Result)",
        "(fn NEAR/3 Result) OR tokio",
        "(fn NEAR/3 Result) AND NOT BTreeMap",
        "\"tokio\" OR \"Result\"",
        "Result AND NOT \"Result\"",
        "fn_* OR fn NEAR/3 Result",
    ];
    for q in queries {
        let (files, r) = listed(&index, q, true);
        let (with_lines, _) = listed(&index, q, false);
        assert_eq!(files, with_lines, "{q}");
        // An exact answer from the index is the plan itself (its candidates are its files);
        // the others have enough candidates for their certain matches to be taken.
        if q.starts_with("fn NEAR") || q.starts_with("Result NEAR") {
            assert_eq!(r.candidates, files.len(), "{q}");
        } else {
            assert!(r.candidates >= 4096, "{q}: {} candidates", r.candidates);
        }
        if q == "fn NEAR/3 Result" || q == "Result NEAR/3 fn" {
            assert_eq!(files, near3, "{q}");
        }
    }
}
