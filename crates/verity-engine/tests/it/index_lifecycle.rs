//! Index lifecycle: incremental updates, format versions, corruption, deadlines.

use crate::common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::*;
use verity_engine::{
    BuildOptions, CancelToken, CodeIndex, Deadline, EngineError, SearchOptions, TextCompression,
    FORMAT_VERSION,
};

fn paths(index: &CodeIndex, q: &str) -> BTreeSet<String> {
    index
        .search(q, &SearchOptions::default())
        .unwrap()
        .hits
        .into_iter()
        .map(|h| h.path)
        .collect()
}

/// Sets a file's mtime explicitly, so a change is seen even within one clock tick.
fn touch_later(path: &std::path::Path) {
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
        .unwrap();
}

/// Files are read in chunks of 1,024 in parallel while the previous chunk is written: every
/// file keeps its own text and words across chunk boundaries, and none is lost.
#[test]
fn every_file_keeps_its_text_across_read_chunks() {
    let corpus = tempfile::tempdir().unwrap();
    let n = 2_100;
    for i in 0..n {
        write(
            corpus.path(),
            &format!("d{}/f{i:05}.rs", i % 7),
            format!("fn marker_{i:05}() {{ word{i:05} + 1 }}\n"),
        );
    }
    let idx = tempfile::tempdir().unwrap();
    let (index, report) = CodeIndex::build(
        corpus.path(),
        &idx.path().join("i"),
        &BuildOptions::default(),
    )
    .unwrap();
    assert_eq!((report.added, report.files), (n, n));
    for i in [0, 1, 1022, 1023, 1024, 1025, 2046, 2047, 2048, 2049, n - 1] {
        let path = format!("d{}/f{i:05}.rs", i % 7);
        // A literal (trigrams, then the text) and a word (the word index) find it alone.
        assert_eq!(
            paths(&index, &format!("marker_{i:05}()")),
            set(&[&path]),
            "{i}"
        );
        assert_eq!(
            paths(&index, &format!("\"word{i:05}\"")),
            set(&[&path]),
            "{i}"
        );
    }
    assert_eq!(paths(&index, "marker_*").len(), n);
}

#[test]
fn reindex_updates_added_changed_and_deleted_files_only() {
    let corpus = tempfile::tempdir().unwrap();
    let root = corpus.path();
    write(root, "a.rs", "fn alpha() {}\n");
    write(root, "b.rs", "fn beta() {}\n");
    write(root, "c.rs", "fn gamma() {}\n");
    let idx = tempfile::tempdir().unwrap();
    let dir = idx.path().join("idx");
    let (index, r) = CodeIndex::build(root, &dir, &BuildOptions::default()).unwrap();
    assert_eq!(
        (r.files, r.added, r.updated, r.deleted, r.unchanged),
        (3, 3, 0, 0, 0)
    );
    assert_eq!(paths(&index, "fn"), set(&["a.rs", "b.rs", "c.rs"]));
    drop(index);

    // Nothing changed: nothing is read again.
    let (_, r) = CodeIndex::build(root, &dir, &BuildOptions::default()).unwrap();
    assert_eq!(
        (
            r.files,
            r.added,
            r.updated,
            r.deleted,
            r.unchanged,
            r.bytes_indexed
        ),
        (3, 0, 0, 0, 3, 0)
    );

    write(root, "b.rs", "fn beta_changed() {}\n");
    touch_later(&root.join("b.rs"));
    std::fs::remove_file(root.join("c.rs")).unwrap();
    write(root, "d.rs", "fn delta() {}\n");
    let (index, r) = CodeIndex::build(root, &dir, &BuildOptions::default()).unwrap();
    assert_eq!(
        (r.files, r.added, r.updated, r.deleted, r.unchanged),
        (3, 1, 1, 1, 1)
    );
    assert_eq!(paths(&index, "fn"), set(&["a.rs", "b.rs", "d.rs"]));
    assert_eq!(paths(&index, "beta_changed"), set(&["b.rs"]));
    assert!(paths(&index, "gamma").is_empty());
    assert!(paths(&index, "lit:fn beta()").is_empty());

    // A file that becomes binary leaves the index.
    write(root, "a.rs", b"fn alpha\0() {}\n");
    touch_later(&root.join("a.rs"));
    let (index, r) = CodeIndex::build(root, &dir, &BuildOptions::default()).unwrap();
    assert_eq!((r.files, r.deleted), (2, 1));
    assert_eq!(paths(&index, "fn"), set(&["b.rs", "d.rs"]));
}

#[test]
fn open_reports_missing_corrupt_and_foreign_indexes() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    assert!(matches!(
        CodeIndex::open(&missing),
        Err(EngineError::IndexMissing(_))
    ));

    let corpus = tempfile::tempdir().unwrap();
    write(corpus.path(), "a.rs", "fn a() {}\n");
    let dir = tmp.path().join("idx");
    CodeIndex::build(corpus.path(), &dir, &BuildOptions::default()).unwrap();

    // Another format version.
    let meta_path = dir.join("verity.json");
    let meta = std::fs::read_to_string(&meta_path).unwrap();
    let other = meta.replace(
        &format!("\"format_version\": {FORMAT_VERSION}"),
        "\"format_version\": 999",
    );
    std::fs::write(&meta_path, &other).unwrap();
    let err = CodeIndex::open(&dir).err().unwrap();
    assert!(
        matches!(err, EngineError::IndexVersion { found: 999, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("--rebuild"));
    // --rebuild recovers.
    let opts = BuildOptions {
        rebuild: true,
        ..Default::default()
    };
    let (rebuilt, _) = CodeIndex::build(corpus.path(), &dir, &opts).unwrap();
    assert!(CodeIndex::open(&dir).is_ok());
    let meta = std::fs::read_to_string(&meta_path).unwrap();

    // Corrupt pointer: the error names the line and column.
    std::fs::write(&meta_path, "{\n  \"format_version\": 1,\n  oops\n}").unwrap();
    let err = CodeIndex::open(&dir).err().unwrap();
    assert!(matches!(err, EngineError::IndexCorrupt { .. }), "{err}");
    assert!(err.to_string().contains("line 3"), "{err}");
    std::fs::write(&meta_path, meta).unwrap();

    // Corrupt tantivy files.
    let gen_dir = rebuilt.generation_dir().to_path_buf();
    drop(rebuilt);
    std::fs::write(gen_dir.join("meta.json"), "garbage").unwrap();
    let err = CodeIndex::open(&dir).err().unwrap();
    assert!(matches!(err, EngineError::IndexCorrupt { .. }), "{err}");

    // A generation's settings that do not parse.
    std::fs::write(gen_dir.join("generation.json"), "{").unwrap();
    let err = CodeIndex::open(&dir).err().unwrap();
    assert!(
        matches!(&err, EngineError::IndexCorrupt { path, .. } if path.ends_with("generation.json")),
        "{err}"
    );

    // A directory that is not an index is never overwritten.
    let foreign = tmp.path().join("foreign");
    write(&foreign, "precious.txt", "keep me");
    let err = CodeIndex::build(corpus.path(), &foreign, &BuildOptions::default())
        .err()
        .unwrap();
    assert!(matches!(err, EngineError::NotAnIndex(_)), "{err}");
    assert!(foreign.join("precious.txt").exists());

    // A corpus that does not exist.
    let err = CodeIndex::build(
        &tmp.path().join("no-corpus"),
        &tmp.path().join("i2"),
        &BuildOptions::default(),
    )
    .err()
    .unwrap();
    assert!(matches!(err, EngineError::Corpus { .. }), "{err}");
}

#[test]
fn deadlines_and_cancellation_stop_searches_with_distinct_errors() {
    let corpus = tempfile::tempdir().unwrap();
    for i in 0..200 {
        write(
            corpus.path(),
            &format!("f{i:03}.rs"),
            "fn x() {}\n".repeat(2000),
        );
    }
    let idx = tempfile::tempdir().unwrap();
    let (index, _) = CodeIndex::build(
        corpus.path(),
        &idx.path().join("idx"),
        &BuildOptions::default(),
    )
    .unwrap();

    let opts = |deadline| SearchOptions {
        deadline,
        ..Default::default()
    };
    let err = index
        .search("/x\\(\\)/", &opts(Deadline::at(Instant::now())))
        .unwrap_err();
    assert!(matches!(err, EngineError::Timeout), "{err}");

    let token = CancelToken::new();
    token.cancel();
    let err = index
        .search("/x\\(\\)/", &opts(Deadline::none().with_cancel(token)))
        .unwrap_err();
    assert!(matches!(err, EngineError::Cancelled), "{err}");

    // A generous deadline lets the same search finish.
    let res = index
        .search(
            "/x\\(\\)/",
            &opts(Deadline::after(Duration::from_secs(600))),
        )
        .unwrap();
    assert_eq!(res.total, 200);
}

#[test]
fn results_are_ordered_by_score_then_path_and_limited() {
    let corpus = tempfile::tempdir().unwrap();
    write(corpus.path(), "one.rs", "Error\n");
    write(corpus.path(), "many.rs", "Error Error Error Error\n");
    write(corpus.path(), "z.rs", "Error\n");
    write(corpus.path(), "a.rs", "Error\n");
    let idx = tempfile::tempdir().unwrap();
    let (index, _) = CodeIndex::build(
        corpus.path(),
        &idx.path().join("idx"),
        &BuildOptions::default(),
    )
    .unwrap();
    let res = index.search("Error", &SearchOptions::default()).unwrap();
    let order: Vec<&str> = res.hits.iter().map(|h| h.path.as_str()).collect();
    assert_eq!(order[0], "many.rs");
    assert_eq!(&order[1..], ["a.rs", "one.rs", "z.rs"]);
    let res = index
        .search(
            "Error",
            &SearchOptions {
                limit: Some(2),
                ..Default::default()
            },
        )
        .unwrap();
    // The best two, in the full order; the other matches were never verified, so the total
    // is a lower bound and says so.
    let best: Vec<&str> = res.hits.iter().map(|h| h.path.as_str()).collect();
    assert_eq!(best, ["many.rs", "a.rs"]);
    assert!(res.total >= 2 && res.total <= 4);
    assert_eq!(res.total_exact, res.total == 4);
    let all = index
        .search(
            "Error",
            &SearchOptions {
                limit: Some(10),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!((all.total, all.total_exact), (4, true));
    // Regexes have no words to score: path order.
    let res = index.search("/Err/", &SearchOptions::default()).unwrap();
    let order: Vec<&str> = res.hits.iter().map(|h| h.path.as_str()).collect();
    assert_eq!(order, ["a.rs", "many.rs", "one.rs", "z.rs"]);
}

/// The best n of a limited search are the first n of the full ranking, ties and segments
/// included, whether candidates are put in order by every path's rank (many candidates) or by
/// their own paths (few among many files, in a process that has not ranked every path).
#[test]
fn the_best_n_are_the_first_n_of_the_full_ranking_across_segments() {
    for padding in [0, 500] {
        best_n_across_segments(padding);
    }
}

fn best_n_across_segments(padding: usize) {
    let corpus = tempfile::tempdir().unwrap();
    let root = corpus.path();
    let idx = tempfile::tempdir().unwrap();
    let dir = idx.path().join("idx");
    // Each update commits a new segment, so candidates (and path ordinals, which are per
    // segment) come from several segments; paths interleave across them, and so do the files
    // that are no query's candidate.
    let mut index = None;
    for round in 0..4 {
        for i in 0..6 {
            let n = round + 4 * i;
            let body = "Error Result\n".repeat(1 + n % 3) + &format!("fn f{n}() {{}}\n");
            write(root, &format!("f{n:02}.rs"), &body);
        }
        for p in (round..padding).step_by(4) {
            write(root, &format!("f{p:02}_pad.txt"), "nothing to see\n");
        }
        let (i, _) = CodeIndex::build(root, &dir, &BuildOptions::default()).unwrap();
        index = Some(i);
    }
    let index = index.unwrap();
    for q in [
        "Error",
        "Error AND Result",
        "/fn f1/",
        "lit:Result",
        "fn NEAR/2 f1",
    ] {
        let full = index.search(q, &SearchOptions::default()).unwrap();
        assert!(full.total_exact);
        let ranked: Vec<(String, f32)> = full
            .hits
            .iter()
            .map(|h| (h.path.clone(), h.score))
            .collect();
        for limit in 0..=ranked.len() + 1 {
            let top = index
                .search(
                    q,
                    &SearchOptions {
                        limit: Some(limit),
                        ..Default::default()
                    },
                )
                .unwrap();
            let got: Vec<(String, f32)> =
                top.hits.iter().map(|h| (h.path.clone(), h.score)).collect();
            assert_eq!(
                got,
                ranked[..limit.min(ranked.len())],
                "{q} with limit {limit}, {padding} files that are no candidate"
            );
            if top.total_exact {
                assert_eq!(top.total, full.total);
            }
        }
    }
}

/// File names that are not UTF-8 keep their identity: two names that differ only in such bytes
/// are two files (lossy decoding made both `a�b.txt`: one was lost, and every re-index
/// reported it updated), text and vector search find each, and re-indexing changes nothing.
#[cfg(unix)]
#[test]
fn file_names_that_are_not_utf8_stay_distinct() {
    use std::os::unix::ffi::OsStrExt;
    let corpus = tempfile::tempdir().unwrap();
    let name = |b: &[u8]| corpus.path().join(std::ffi::OsStr::from_bytes(b));
    std::fs::write(name(b"a\xffb.txt"), "fn first_marker() {}\n").unwrap();
    std::fs::write(name(b"a\xfeb.txt"), "fn second_marker() {}\n").unwrap();
    std::fs::write(corpus.path().join("plain.rs"), "fn plain() {}\n").unwrap();
    let idx = tempfile::tempdir().unwrap();
    let (index, r) = CodeIndex::build(corpus.path(), idx.path(), &BuildOptions::default()).unwrap();
    assert_eq!(r.files, 3);
    let first = verity_core::path::from_bytes(b"a\xffb.txt").into_owned();
    let second = verity_core::path::from_bytes(b"a\xfeb.txt").into_owned();
    assert_eq!(paths(&index, "first_marker"), set(&[&first]));
    assert_eq!(paths(&index, "second_marker"), set(&[&second]));
    assert_eq!(index.vector_index().unwrap().files().len(), 3);
    let v = index
        .search("vector(k=3): second marker", &SearchOptions::default())
        .unwrap();
    assert_eq!(v.hits.len(), 3);
    assert_eq!(
        index.content(&first).unwrap().as_deref(),
        Some("fn first_marker() {}\n")
    );
    drop(index);
    let (_, again) = CodeIndex::build(corpus.path(), idx.path(), &BuildOptions::default()).unwrap();
    assert_eq!((again.unchanged, again.updated, again.added), (3, 0, 0));
}

/// Verification reads a candidate from the corpus only while the file's bytes hash to the
/// indexed ones: until the next `verity index`, every answer (files only, lines, best N) is the
/// indexed corpus's, whether a file was edited (same size or not), made binary, removed, or the
/// whole corpus moved away.
#[test]
fn answers_are_the_indexed_texts_until_the_next_build() {
    // A raw store is always read in place; with a compressed one, large unchanged files are
    // read from the corpus.
    for compression in [TextCompression::None, TextCompression::Lz4] {
        indexed_texts_until_the_next_build(compression);
    }
}

fn indexed_texts_until_the_next_build(text_compression: TextCompression) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("corpus");
    // Files of 4 KiB or more are the ones read from the corpus (with lz4); `e.rs` is small.
    let pad = format!("// {}\n", "filler ".repeat(700));
    let write_padded = |rel: &str, text: &str| write(&root, rel, format!("{text}{pad}"));
    write_padded("a.rs", "\u{feff}fn alpha() { let x = 1; }\n");
    write_padded("b.rs", "fn alpha_beta() {}\n// caf\u{e9}\n");
    write_padded("c.rs", "fn gamma() { alpha(); }\n");
    write_padded("d.rs", "struct Delta; // alpha\n");
    write(&root, "e.rs", "fn epsilon() { alpha(); }\n");
    write_padded("f.rs", "fn zeta() { alpha(); }\n");
    let text_only = BuildOptions {
        vectors: None,
        text_compression,
        ..Default::default()
    };
    let (index, _) = CodeIndex::build(&root, &tmp.path().join("idx"), &text_only).unwrap();
    let lines = |q: &str, o: &SearchOptions| -> Vec<(String, Vec<(usize, String)>)> {
        index
            .search(q, o)
            .unwrap()
            .hits
            .into_iter()
            .map(|h| {
                (
                    h.path,
                    h.lines.into_iter().map(|l| (l.line, l.text)).collect(),
                )
            })
            .collect()
    };
    let all = SearchOptions::default();
    let files_only = SearchOptions {
        files_only: true,
        ..SearchOptions::default()
    };
    let best = SearchOptions {
        limit: Some(2),
        ..SearchOptions::default()
    };
    // Three queries in every mode: all files with lines, files only, the best two.
    let answers = || {
        [&all, &files_only, &best].map(|o| {
            (
                lines("alpha", o),
                lines("lit:omega", o),
                lines("regex:^fn", o),
            )
        })
    };
    let before = answers();
    assert_eq!(before[0].0.len(), 6);
    assert!(before[0].1.is_empty());

    // Same size, other bytes; shorter; binary; gone; a small file changed; grown far past
    // its indexed size.
    write_padded("a.rs", "\u{feff}fn omega() { let x = 1; }\n");
    write_padded("b.rs", "fn omega() {}\n");
    write_padded("c.rs", "fn omega\0() { alpha(); }\n");
    std::fs::remove_file(root.join("d.rs")).unwrap();
    write(&root, "e.rs", "fn omega() {}\n");
    write_padded("f.rs", &"fn omega() { alpha(); }\n".repeat(5000));
    let after = answers();
    assert_eq!(after, before);

    // The corpus moved: every text comes from the index.
    std::fs::rename(&root, tmp.path().join("elsewhere")).unwrap();
    let moved = answers();
    assert_eq!(moved, before);
}

/// The text store's batches in the open generation: (file name, entries), from each footer.
fn text_batches(index: &CodeIndex) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = std::fs::read_dir(index.generation_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("texts-") && n.ends_with(".vtx"))
        .map(|n| {
            let b = std::fs::read(index.generation_dir().join(&n)).unwrap();
            // Footer: blocks u32, entries u32, tables offset u64, "VTX1".
            let entries = u32::from_le_bytes(b[b.len() - 16..b.len() - 12].try_into().unwrap());
            (n, entries)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn small_updates_keep_few_text_batches_and_every_text_right() {
    for compression in [TextCompression::None, TextCompression::Lz4] {
        small_updates(BuildOptions {
            text_compression: compression,
            ..BuildOptions::default()
        });
    }
}

fn small_updates(opts: BuildOptions) {
    let corpus = tempfile::tempdir().unwrap();
    let root = corpus.path();
    let body = |i: usize, v: usize| {
        format!(
            "fn f{i}() {{ marker_{i}_v{v}(); }}\n{}",
            "// pad\n".repeat(i * 40)
        )
    };
    let mut version = vec![0; 40];
    for (i, v) in version.iter().enumerate() {
        write(root, &format!("f{i}.rs"), body(i, *v));
    }
    let idx = tempfile::tempdir().unwrap();
    let dir = idx.path().join("idx");
    let (index, _) = CodeIndex::build(root, &dir, &opts).unwrap();
    assert_eq!(text_batches(&index).len(), 1);
    drop(index);
    let mut live = 40;
    for k in 1..=24usize {
        let i = (k * 7) % 40;
        version[i] = k;
        let path = root.join(format!("f{i}.rs"));
        write(root, &format!("f{i}.rs"), body(i, k));
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(std::time::SystemTime::now() + Duration::from_secs(5 + k as u64))
            .unwrap();
        // Every fifth update also adds a file.
        if k % 5 == 0 {
            write(root, &format!("new{k}.rs"), format!("fn new{k}() {{}}\n"));
            live += 1;
        }
        let (index, r) = CodeIndex::build(root, &dir, &opts).unwrap();
        assert_eq!((r.files, r.updated), (live, 1), "update {k}");
        let batches = text_batches(&index);
        let entries: u32 = batches.iter().map(|(_, n)| n).sum();
        // Folding keeps a logarithmic number of batches and at most as many dead texts as
        // live ones.
        assert!(
            batches.len() <= 2 + k.ilog2() as usize,
            "update {k}: {batches:?}"
        );
        assert!(entries as usize <= 2 * live, "update {k}: {batches:?}");
        // Every text, moved or not, is the file's.
        for (j, v) in version.iter().enumerate() {
            let p = format!("f{j}.rs");
            assert_eq!(
                index.content(&p).unwrap().as_deref(),
                Some(body(j, *v).as_str()),
                "update {k}, {p}"
            );
            assert_eq!(
                paths(&index, &format!("lit:marker_{j}_v{v}(")),
                set(&[p.as_str()]),
                "update {k}"
            );
        }
        if k > 1 {
            assert!(paths(&index, &format!("lit:marker_{i}_v{}(", k - 1)).is_empty());
        }
        assert!(index.verify().unwrap().is_intact(), "update {k}");
    }
    // A build that only deletes, most of the files: no mostly dead batch is left.
    for j in 0..30 {
        std::fs::remove_file(root.join(format!("f{j}.rs"))).unwrap();
    }
    live -= 30;
    let (index, r) = CodeIndex::build(root, &dir, &opts).unwrap();
    assert_eq!((r.files, r.deleted, r.added, r.updated), (live, 30, 0, 0));
    let batches = text_batches(&index);
    let entries: u32 = batches.iter().map(|(_, n)| n).sum();
    assert!(entries as usize <= 2 * live, "{batches:?}");
    for (j, v) in version.iter().enumerate().skip(30) {
        let p = format!("f{j}.rs");
        assert_eq!(
            index.content(&p).unwrap().as_deref(),
            Some(body(j, *v).as_str())
        );
        assert_eq!(
            paths(&index, &format!("lit:marker_{j}_v{v}(")),
            set(&[p.as_str()])
        );
    }
    assert!(paths(&index, "lit:marker_0_").is_empty());
    assert!(index.verify().unwrap().is_intact());
}
