//! Candidate plans narrow as documented: the files a query verifies, not only the files it
//! returns (answers are the same with any superset; the number of candidates is the cost).

use crate::common::{set, write};

use std::collections::BTreeSet;

use verity_engine::{BuildOptions, CodeIndex, SearchOptions};

/// The files `q` returns, and how many candidates it verified.
fn search(index: &CodeIndex, q: &str) -> (BTreeSet<String>, usize) {
    let r = index.search(q, &SearchOptions::default()).unwrap();
    (r.hits.into_iter().map(|h| h.path).collect(), r.candidates)
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
