//! `vector:` and `hybrid:` queries through the engine: chunk hits rolled up to files, the
//! HNSW answer against exact search, incremental re-embedding, fusion, and the errors.

use std::path::Path;

use verity_engine::{BuildOptions, CodeIndex, EngineError, SearchOptions};

fn write(root: &Path, rel: &str, text: &str) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

fn corpus(root: &Path) {
    write(
        root,
        "src/http.rs",
        &"fn parse_http_request(buf: &[u8]) -> Result<Request, ParseError> { todo!() }\n".repeat(3),
    );
    write(
        root,
        "src/matrix.rs",
        "fn determinant(m: &Matrix) -> f64 { 0.0 }\n",
    );
    write(
        root,
        "src/cache.rs",
        "struct LruCache { map: HashMap<Key, Entry> }\n",
    );
    let long: String = (1..=100)
        .map(|i| {
            if i == 75 {
                "let request = parse_http_request(&bytes)?;\n".to_string()
            } else {
                format!("let value_{i} = compute_{i}();\n")
            }
        })
        .collect();
    write(root, "src/long.rs", &long);
}

fn build(root: &Path, idx: &Path) -> CodeIndex {
    CodeIndex::build(root, idx, &BuildOptions::default())
        .unwrap()
        .0
}

#[test]
fn vector_queries_return_files_by_their_best_chunk() {
    let root = tempfile::tempdir().unwrap();
    corpus(root.path());
    let idx = tempfile::tempdir().unwrap();
    let index = build(root.path(), idx.path());
    let vi = index.vector_index().expect("vectors are built by default");
    // 100 lines in 40-line windows overlapping by 10: 1-40, 31-70, 61-100.
    assert_eq!(vi.len(), 3 + 3);

    let r = index
        .search("vector: parse http request", &SearchOptions::default())
        .unwrap();
    let paths: Vec<&str> = r.hits.iter().map(|h| h.path.as_str()).collect();
    assert_eq!(paths[0], "src/http.rs", "{paths:?}");
    assert!(paths.contains(&"src/long.rs"));
    for h in &r.hits {
        assert!(!h.chunks.is_empty());
        assert_eq!(
            h.score, h.chunks[0].similarity,
            "a file scores as its best chunk"
        );
        for w in h.chunks.windows(2) {
            assert!(w[0].similarity >= w[1].similarity);
        }
    }
    for w in r.hits.windows(2) {
        assert!(w[0].score >= w[1].score);
    }
    let long = r.hits.iter().find(|h| h.path == "src/long.rs").unwrap();
    assert_eq!(
        (long.chunks[0].first_line, long.chunks[0].last_line),
        (61, 100),
        "the chunk holding line 75 first"
    );

    // The graph's answer is the exact answer on a corpus this small.
    let q = index.embed_query("parse http request").unwrap();
    let exact = vi.exact(&q, 10);
    let approx = vi.search(&q, 10).unwrap();
    assert_eq!(approx.len(), exact.len());
    for (a, e) in approx.iter().zip(&exact) {
        assert_eq!((&a.path, a.first_line), (&e.path, e.first_line));
        // usearch computes in f32, the exact search in f64.
        assert!((a.similarity - e.similarity).abs() < 1e-5, "{a:?} vs {e:?}");
    }

    // k and min.
    let r = index
        .search("vector(k=1): parse http request", &SearchOptions::default())
        .unwrap();
    assert_eq!(r.hits.len(), 1);
    let r = index
        .search("vector(min=0.99): determinant", &SearchOptions::default())
        .unwrap();
    assert!(r.hits.is_empty(), "{:?}", r.hits);
}

#[test]
fn hybrid_fuses_bm25_and_vector_ranks() {
    let root = tempfile::tempdir().unwrap();
    corpus(root.path());
    let idx = tempfile::tempdir().unwrap();
    let index = build(root.path(), idx.path());

    let r = index
        .search("hybrid: parse_http_request", &SearchOptions::default())
        .unwrap();
    let top = &r.hits[0];
    let f = top.fusion.unwrap();
    assert!(f.text.is_some() && f.vector.is_some(), "{top:?}");
    for h in &r.hits {
        let f = h.fusion.unwrap();
        let expect = verity_engine::query::rrf_score(f.text, f.vector, 1.0, 1.0) as f32;
        assert_eq!(h.score, expect);
    }
    // With the text weight at 0 the order is the vector order.
    let hv = index
        .search(
            "hybrid(text=0): parse_http_request",
            &SearchOptions::default(),
        )
        .unwrap();
    let v = index
        .search(
            "vector(k=100): parse_http_request",
            &SearchOptions::default(),
        )
        .unwrap();
    let hv: Vec<&str> = hv.hits.iter().map(|h| h.path.as_str()).collect();
    let v: Vec<&str> = v.hits.iter().map(|h| h.path.as_str()).collect();
    assert_eq!(hv, v);
    // Text matches are exact: lines come from the text query.
    let r = index
        .search("hybrid(vector=0): determinant", &SearchOptions::default())
        .unwrap();
    assert_eq!(r.hits.len(), 1);
    assert_eq!(r.hits[0].lines[0].line, 1);
}

#[test]
fn updates_re_embed_only_changed_files_and_text_only_indexes_refuse_vector_queries() {
    let root = tempfile::tempdir().unwrap();
    corpus(root.path());
    let idx = tempfile::tempdir().unwrap();
    let (_, first) = CodeIndex::build(root.path(), idx.path(), &BuildOptions::default()).unwrap();
    assert_eq!((first.embedded_files, first.chunks), (4, 6));
    write(
        root.path(),
        "src/matrix.rs",
        "fn inverse(m: &Matrix) -> Matrix { m }\n",
    );
    let (_, second) = CodeIndex::build(root.path(), idx.path(), &BuildOptions::default()).unwrap();
    assert_eq!(second.embedded_files, 1);
    // A deleted file leaves the vector answers.
    std::fs::remove_file(root.path().join("src/cache.rs")).unwrap();
    let (after_delete, third) =
        CodeIndex::build(root.path(), idx.path(), &BuildOptions::default()).unwrap();
    assert_eq!((third.embedded_files, third.chunks), (0, 5));
    let r = after_delete
        .search(
            "vector(k=100): LruCache map Entry",
            &SearchOptions::default(),
        )
        .unwrap();
    assert!(
        r.hits.iter().all(|h| h.path != "src/cache.rs"),
        "{:?}",
        r.hits
    );
    write(
        root.path(),
        "src/cache.rs",
        "struct LruCache { map: HashMap<Key, Entry> }\n",
    );
    let (index, _) = CodeIndex::build(root.path(), idx.path(), &BuildOptions::default()).unwrap();
    let reopened = CodeIndex::open(idx.path()).unwrap();
    let q = "vector: inverse matrix";
    let a = index.search(q, &SearchOptions::default()).unwrap();
    let b = reopened.search(q, &SearchOptions::default()).unwrap();
    assert_eq!(a.hits[0].path, "src/matrix.rs");
    assert_eq!(
        a.hits.iter().map(|h| &h.path).collect::<Vec<_>>(),
        b.hits.iter().map(|h| &h.path).collect::<Vec<_>>()
    );

    let text_only = BuildOptions {
        vectors: None,
        ..BuildOptions::default()
    };
    let (index, _) = CodeIndex::build(root.path(), idx.path(), &text_only).unwrap();
    assert!(!idx.path().join("vectors").exists());
    let err = index.search(q, &SearchOptions::default()).unwrap_err();
    assert!(matches!(err, EngineError::Vector(_)), "{err}");
    assert!(err.to_string().contains("has no vectors"), "{err}");
    // Text queries are unaffected.
    assert_eq!(
        index
            .search("Matrix", &SearchOptions::default())
            .unwrap()
            .hits
            .len(),
        1
    );
}

#[test]
fn malformed_vector_queries_are_query_errors() {
    let root = tempfile::tempdir().unwrap();
    corpus(root.path());
    let idx = tempfile::tempdir().unwrap();
    let index = build(root.path(), idx.path());
    for q in [
        "vector:",
        "vector(k=x): a",
        "hybrid(depth=0): a",
        "vector(k=2: a",
    ] {
        let err = index.search(q, &SearchOptions::default()).unwrap_err();
        assert!(matches!(err, EngineError::Query(_)), "{q}: {err}");
    }
}

#[test]
fn a_small_update_edits_the_graph_and_answers_as_a_rebuild() {
    let root = tempfile::tempdir().unwrap();
    let words = [
        "parse", "token", "cache", "socket", "matrix", "thread", "queue", "index",
    ];
    for i in 0..20 {
        let text: String = (0..50)
            .map(|l| {
                format!(
                    "fn {}_{}(x: u32) {{}}\n",
                    words[(i + l) % 8],
                    words[(i * l) % 8]
                )
            })
            .collect();
        write(root.path(), &format!("src/f{i:02}.rs"), &text);
    }
    let idx = tempfile::tempdir().unwrap();
    build(root.path(), idx.path());
    // One file of twenty changes, one goes: an in-place edit of the graph.
    write(
        root.path(),
        "src/f05.rs",
        "fn quaternion_rotation_matrix() {}\n",
    );
    std::fs::remove_file(root.path().join("src/f06.rs")).unwrap();
    let (updated, report) =
        CodeIndex::build(root.path(), idx.path(), &BuildOptions::default()).unwrap();
    assert_eq!(report.embedded_files, 1);
    let fresh_dir = tempfile::tempdir().unwrap();
    let fresh = build(root.path(), fresh_dir.path());
    let (u, f) = (
        updated.vector_index().unwrap(),
        fresh.vector_index().unwrap(),
    );
    assert_eq!(u.len(), f.len());
    for q in ["quaternion rotation", "parse token", "socket queue"] {
        let v = fresh.embed_query(q).unwrap();
        let exact = |vi: &verity_vector::store::VectorIndex| {
            vi.exact(&v, 10)
                .into_iter()
                .map(|h| (h.path, h.first_line))
                .collect::<Vec<_>>()
        };
        assert_eq!(exact(u), exact(f), "{q}");
        let r = updated
            .search(&format!("vector(k=5): {q}"), &SearchOptions::default())
            .unwrap();
        assert!(r.hits.iter().all(|h| h.path != "src/f06.rs"));
    }
    let r = CodeIndex::open(idx.path())
        .unwrap()
        .search(
            "vector(k=1): quaternion rotation",
            &SearchOptions::default(),
        )
        .unwrap();
    assert_eq!(r.hits[0].path, "src/f05.rs");
}

/// The text side of a hybrid query verifies candidates in BM25 order and stops early; its
/// ranking must be exactly the first `depth` files of the full text search, ties included.
#[test]
fn hybrid_text_ranking_is_the_exact_top_of_the_text_search() {
    let root = tempfile::tempdir().unwrap();
    for i in 0..300usize {
        // Scores repeat (same counts, same lengths) so ties cross the cut-off; some
        // candidates contain the words only inside longer words and fail verification.
        let n = i % 7;
        let text = format!(
            "{}{}{}\n",
            "let cache = store(cache);\n".repeat(n),
            "fn cachestore_like() {}\n".repeat(i % 3),
            "// filler line\n".repeat(i % 11)
        );
        write(root.path(), &format!("src/f{i:03}.rs"), &text);
    }
    let idx = tempfile::tempdir().unwrap();
    let index = build(root.path(), idx.path());
    for (q, depth) in [
        ("cache OR store", 20),
        ("store", 7),
        ("cache AND store", 64),
        ("cache", 250),
    ] {
        let full = index.search(q, &SearchOptions::default()).unwrap();
        let want: Vec<&str> = full
            .hits
            .iter()
            .take(depth)
            .map(|h| h.path.as_str())
            .collect();
        let hybrid = index
            .search(
                &format!("hybrid(vector=0, k={depth}, depth={depth}): {q}"),
                &SearchOptions::default(),
            )
            .unwrap();
        let got: Vec<&str> = hybrid.hits.iter().map(|h| h.path.as_str()).collect();
        assert_eq!(got, want, "{q} depth {depth}");
        for (i, h) in hybrid.hits.iter().enumerate() {
            assert_eq!(h.fusion.unwrap().text, Some(i + 1));
        }
    }
}

/// Opening an index does not read `vectors/`: text queries answer even when the vector files
/// are damaged, and the first vector query reports the damage with its path.
#[test]
fn text_queries_never_read_the_vectors() {
    let root = tempfile::tempdir().unwrap();
    corpus(root.path());
    let idx = tempfile::tempdir().unwrap();
    let vdir = build(root.path(), idx.path())
        .generation_dir()
        .join("vectors");
    std::fs::write(vdir.join("files.bin"), "{ not a table").unwrap();
    std::fs::write(vdir.join("vectors.flat"), b"garbage").unwrap();

    let index = CodeIndex::open(idx.path()).expect("opens without reading vectors/");
    let r = index
        .search("parse_http_request", &SearchOptions::default())
        .unwrap();
    let files: Vec<&str> = r.hits.iter().map(|h| h.path.as_str()).collect();
    assert_eq!(files, ["src/http.rs", "src/long.rs"]);

    let e = index
        .search("vector: parse http request", &SearchOptions::default())
        .unwrap_err();
    assert!(
        matches!(&e, EngineError::IndexCorrupt { path, .. } if path.ends_with("vectors")),
        "{e:?}"
    );
    // The damaged file is named, and the advice given once.
    let message = e.to_string();
    assert!(message.contains("files.bin"), "{message}");
    assert_eq!(message.matches("is corrupt").count(), 1, "{message}");
    assert_eq!(message.matches("--rebuild").count(), 1, "{message}");
    // Asked again, the same error (the failed open is remembered, not retried).
    assert!(index
        .search("hybrid: parse_http_request", &SearchOptions::default())
        .is_err());
    assert!(index.vector_index().is_none());
}
