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
    // One word of 305 bytes: not in the code field, matched by verification alone.
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
