//! The oracle's literal and regex answers equal `rg -l` on the sample corpus and on this
//! workspace's sources (ripgrep is the peer for these two query types).

use std::path::{Path, PathBuf};

use verity_oracle::{Corpus, CorpusRules, Oracle};
use verity_testkit::rg;

const LITERALS: &[&str] = &[
    "::",
    "Result<T, E>",
    "Result<E, T>",
    "#[derive(Debug)]",
    "&mut self",
    "[workspace]",
    "->",
    "@decorator",
    "HashMap<String, Vec<u32>>",
    "fn main",
    "pub fn",
    "impl",
    "'static",
    "?;",
    "Option<",
    "#[cfg(test)]",
    "Ok(())",
    "println!(",
    "{}",
    "=>",
    "&&",
    "||",
    "zz_absent_zz",
];

const REGEXES: &[&str] = &[
    r"fn\s+\w+\s*\(",
    r"^fn",
    r"^$",
    r"\bimpl\b",
    r"[A-Z][a-z]+Error",
    r"\d{3}",
    r"^\s*//",
    r"\)$",
    r"(?i)result",
    r"(pub|async)\s+fn",
    r"^[^a-z]*$",
    r"self\.\w+",
    r"\s+$",
    r"^#\[",
];

fn root(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(rel)
        .canonicalize()
        .unwrap()
}

fn agree(rel: &str) {
    if !rg::available() {
        return;
    }
    let dir = root(rel);
    let corpus = Corpus::load(&dir, &CorpusRules::default()).unwrap();
    let oracle = Oracle::new(&corpus);
    let mut non_empty = 0;
    for lit in LITERALS {
        let want = rg::files_with_matches(&dir, lit, true);
        assert_eq!(
            oracle.files(&format!("lit:{lit}")).unwrap(),
            want,
            "literal {lit:?} in {rel}"
        );
        non_empty += usize::from(!want.is_empty());
    }
    for re in REGEXES {
        let want = rg::files_with_matches(&dir, re, false);
        assert_eq!(
            oracle.files(&format!("regex:{re}")).unwrap(),
            want,
            "regex {re:?} in {rel}"
        );
        non_empty += usize::from(!want.is_empty());
    }
    assert!(
        non_empty * 4 >= (LITERALS.len() + REGEXES.len()) * 3,
        "too few queries matched in {rel}"
    );
}

#[test]
fn oracle_agrees_with_ripgrep_on_the_sample_corpus() {
    agree("sample-corpus");
}

#[test]
fn oracle_agrees_with_ripgrep_on_the_workspace_sources() {
    agree("crates");
}
