//! The engine's file sets for literal and regex queries equal ripgrep's on the same trees:
//! a hostile fixture corpus, and this workspace's own sources.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;

use common::*;
use verity_engine::{BuildOptions, CodeIndex, SearchOptions, SkipReason};

const LITERALS: &[&str] = &[
    "::",
    "Result<T, E>",
    "Result<E, T>",
    "#[derive(Debug)]",
    "&mut self",
    "[workspace]",
    "->",
    "=>",
    "@decorator",
    "HashMap<String, Vec<u32>>",
    "use std::collections::HashMap",
    "fn main",
    "MARKER_BOUNDARY",
    "MARKER_BOUNDARY_0001",
    "MARKER_BOUNDARY_0080",
    "filler line",
    "变量",
    "结果<T, E>",
    "🦀",
    "\u{200B}",
    "👨\u{200D}👩",
    "caf",
    "au lait",
    "pub fn",
    "&&",
    "||",
    "'static",
    "?;",
    "Option<",
    "unwrap()",
    "#[cfg(test)]",
    "io::Result<()>",
    "Ok(())",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "return a+b",
    "no final newline",
    "x",
    "zz_no_such_string_anywhere",
    "println!(",
    "${",
    "{}",
];

const REGEXES: &[&str] = &[
    r"fn\s+\w+\s*\(",
    r"^fn",
    r"^$",
    r"\bimpl\b",
    r"[A-Z][a-z]+Error",
    r"\d{4}",
    r"^\s*//",
    r"\)$",
    r"\r$",
    r"(?i)marker_boundary",
    r"MARKER_BOUNDARY_00[0-9][05]",
    r"\p{Han}+",
    r"a{300}",
    r"^.{10000,}$",
    r"\s+$",
    r"^#\[",
    r"<[A-Z], [A-Z]>",
    r"Result<\(\)>",
    r"(pub|async)\s+fn",
    r"here$",
    r"\u{200B}",
    r"^[^a-z]*$",
    r"self\.\w+",
    r"import .* from",
];

/// The engine's file set, checked to be the same whether it lists every matching line or
/// only decides which files match (`verity search -l`, the mode that is `rg -l`'s peer).
fn engine_files(index: &CodeIndex, query: &str) -> BTreeSet<String> {
    let files = |files_only| -> BTreeSet<String> {
        let opts = SearchOptions {
            files_only,
            ..SearchOptions::default()
        };
        index
            .search(query, &opts)
            .unwrap_or_else(|e| panic!("{query}: {e}"))
            .hits
            .into_iter()
            .map(|h| h.path)
            .collect()
    };
    let with_lines = files(false);
    assert_eq!(
        files(true),
        with_lines,
        "{query}: -l and full answers differ"
    );
    with_lines
}

fn check_agreement(root: &Path) -> usize {
    let tmp = tempfile::tempdir().unwrap();
    let (index, _) =
        CodeIndex::build(root, &tmp.path().join("idx"), &BuildOptions::default()).unwrap();
    let mut checked = 0;
    let mut non_empty = 0;
    for lit in LITERALS {
        let ours = engine_files(&index, &format!("lit:{lit}"));
        let theirs = rg_files(root, lit, true);
        assert_eq!(ours, theirs, "literal {lit:?} in {}", root.display());
        checked += 1;
        non_empty += usize::from(!theirs.is_empty());
    }
    for re in REGEXES {
        let ours = engine_files(&index, &format!("regex:{re}"));
        let theirs = rg_files(root, re, false);
        assert_eq!(ours, theirs, "regex {re:?} in {}", root.display());
        checked += 1;
        non_empty += usize::from(!theirs.is_empty());
    }
    // Agreement on empty answers proves little: most queries must find something.
    assert!(
        non_empty * 4 >= checked * 3,
        "only {non_empty} of {checked} queries matched anything"
    );
    checked
}

#[test]
fn fixture_corpus_agrees_with_ripgrep() {
    if !have_rg() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    build_fixture(dir.path());
    assert!(check_agreement(dir.path()) >= 50);
}

#[test]
fn workspace_sources_agree_with_ripgrep() {
    if !have_rg() {
        return;
    }
    let root = workspace_root().join("crates");
    assert!(check_agreement(&root) >= 50);
}

#[test]
fn fixture_walk_skips_and_counts_by_reason() {
    let dir = tempfile::tempdir().unwrap();
    build_fixture(dir.path());
    let tmp = tempfile::tempdir().unwrap();
    let (index, report) = CodeIndex::build(
        dir.path(),
        &tmp.path().join("idx"),
        &BuildOptions::default(),
    )
    .unwrap();
    let files: BTreeSet<String> = index.files().unwrap().into_iter().map(|(p, _)| p).collect();
    for present in [
        "empty.rs",
        "bom.rs",
        "crlf.rs",
        "cjk.md",
        "latin1.txt",
        "big/five_mib.rs",
        "web/min.js",
        "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/deep.rs",
        "sample/rust-app/src/main.rs",
    ] {
        assert!(files.contains(present), "{present} should be indexed");
    }
    for absent in [
        "bin/data.bin",
        "ignored/skip.rs",
        "run.log",
        ".hidden.rs",
        "target/debug/out.rs",
        "node_modules/pkg/index.js",
        "link.rs",
    ] {
        assert!(!files.contains(absent), "{absent} should not be indexed");
    }
    let reasons: Vec<(String, SkipReason)> = report
        .skipped
        .iter()
        .map(|s| (s.path.clone(), s.reason))
        .collect();
    assert!(reasons.contains(&("bin/data.bin".into(), SkipReason::Binary)));
    assert!(reasons.contains(&("link.rs".into(), SkipReason::Symlink)));
    assert!(reasons.contains(&("loop/up".into(), SkipReason::Symlink)));
    assert_eq!(report.lossy, vec!["latin1.txt".to_string()]);
    assert_eq!(report.files, files.len());

    // A smaller size cap skips the big file, and says why.
    let opts = BuildOptions {
        walk: verity_engine::WalkOptions {
            max_file_size: 1 << 20,
            ..Default::default()
        },
        ..Default::default()
    };
    let tmp2 = tempfile::tempdir().unwrap();
    let (_, report) = CodeIndex::build(dir.path(), &tmp2.path().join("idx"), &opts).unwrap();
    assert!(report
        .skipped
        .iter()
        .any(|s| s.path == "big/five_mib.rs" && s.reason == SkipReason::TooLarge));
}

#[test]
fn match_locations_are_the_matching_lines() {
    let dir = tempfile::tempdir().unwrap();
    build_fixture(dir.path());
    let tmp = tempfile::tempdir().unwrap();
    let (index, _) = CodeIndex::build(
        dir.path(),
        &tmp.path().join("idx"),
        &BuildOptions::default(),
    )
    .unwrap();
    let res = index
        .search("MARKER_BOUNDARY_0002", &SearchOptions::default())
        .unwrap();
    assert_eq!(res.hits.len(), 1);
    let hit = &res.hits[0];
    assert_eq!(hit.path, "big/five_mib.rs");
    assert_eq!(hit.line_count, 1);
    let content = std::fs::read_to_string(dir.path().join("big/five_mib.rs")).unwrap();
    let expected_line = content
        .lines()
        .position(|l| l.contains("MARKER_BOUNDARY_0002"))
        .unwrap()
        + 1;
    assert_eq!(hit.lines[0].line, expected_line);
    assert!(hit.lines[0].text.ends_with("MARKER_BOUNDARY_0002"));

    // CRLF: the displayed line has no `\r`.
    let res = index
        .search("io::Result<()>", &SearchOptions::default())
        .unwrap();
    let crlf = res.hits.iter().find(|h| h.path == "crlf.rs").unwrap();
    assert_eq!(crlf.lines[0].line, 2);
    assert_eq!(crlf.lines[0].text, "fn read() -> io::Result<()> {");

    // A phrase across the 64 KiB boundary chunking would split, found by token sequence.
    let res = index
        .search(
            "\"MARKER_BOUNDARY_0003 let value\"",
            &SearchOptions::default(),
        )
        .unwrap();
    assert_eq!(res.total, 1);
    assert_eq!(res.hits[0].lines.len(), 2);
}
