//! The vector index's unit tests.

use super::persist::{self, FILES_FILE, GRAPH_FILE};
use super::*;
use crate::embed::HashEmbedder;

fn corpus(n: usize) -> Vec<(String, String)> {
    let words = [
        "parse", "request", "error", "cache", "store", "matrix", "server", "token", "query",
        "index", "thread", "socket",
    ];
    (0..n)
        .map(|i| {
            let text: String = (0..60)
                .map(|l| {
                    format!(
                        "fn {}_{}(x: {}) -> {} {{}}\n",
                        words[(i * 7 + l) % words.len()],
                        words[(i + l * 3) % words.len()],
                        words[(i * l) % words.len()],
                        l
                    )
                })
                .collect();
            (format!("src/f{i:03}.rs"), text)
        })
        .collect()
}

/// The tests' hash dimensions: the default, at which `i8` rows are packed (at 64 the corpus's
/// components pass 15 too often, and its rows stay plain).
const DIM: usize = 256;

/// The index of `texts` (path, text), hash-256 vectors stored as `scalar`.
fn build_texts(texts: &[(String, String)], scalar: Scalar) -> VectorIndex {
    let e = HashEmbedder::new(DIM);
    let config = VectorConfig {
        embedder: EmbedderSpec::Hash { dim: DIM },
        scalar,
        ..VectorConfig::default()
    };
    let files = texts
        .iter()
        .map(|(p, t)| FileVectors::embed(&e, config.chunk.into(), p, 0, t).unwrap())
        .collect();
    VectorIndex::assemble(config, &e, files).unwrap()
}

fn build(n: usize) -> VectorIndex {
    build_texts(&corpus(n), VectorConfig::default().scalar)
}

/// `index` with its vectors in a graph (searches in `hnsw` mode).
fn with_graph(mut index: VectorIndex) -> VectorIndex {
    index.set_search_mode(VectorSearch::Hnsw).unwrap();
    assert!(index.has_graph());
    index
}

/// The index of `n` corpus files stored both ways: flat (as built) and in a graph.
fn both(n: usize) -> [VectorIndex; 2] {
    [build(n), with_graph(build(n))]
}

#[test]
fn hnsw_agrees_with_exact_search_and_survives_a_round_trip() {
    for index in both(60) {
        agrees_and_round_trips(index);
    }
}

fn agrees_and_round_trips(index: VectorIndex) {
    assert_eq!(index.len(), 120, "two 40-line chunks per 60-line file");
    let q = HashEmbedder::new(DIM).embed_one("parse request error");
    let exact = index.exact(&q, 10);
    let approx = index.search(&q, 10).unwrap();
    assert_eq!(exact.len(), 10);
    let kth = exact[9].similarity;
    let found = approx.iter().filter(|h| h.similarity >= kth - 1e-3).count();
    assert!(found >= 9, "recall {found}/10");
    for w in approx.windows(2) {
        assert!(w[0].similarity >= w[1].similarity);
    }

    let dir = tempfile::tempdir().unwrap();
    index.save(dir.path()).unwrap();
    let reopened = VectorIndex::open(dir.path()).unwrap();
    assert_eq!(reopened.has_graph(), index.has_graph());
    assert_eq!(reopened.exact(&q, 10), exact);
    assert_eq!(reopened.search(&q, 10).unwrap(), approx);
    if !index.has_graph() {
        assert_eq!(approx, exact, "without a graph every search is exact");
    }
    assert_eq!(
        reopened.file_vectors("src/f007.rs"),
        index.file_vectors("src/f007.rs")
    );
    assert!(reopened.file_vectors("nope").is_none());
}

#[test]
fn exact_search_in_the_graph_equals_brute_force_ties_included() {
    // Files 0 and 12 of this corpus are the same text, and every 12th file repeats lines:
    // ties at the cut-off are common, and must be cut in (similarity, path, line) order.
    // The flat rows' scan and usearch's brute force over the graph alike.
    for index in both(60) {
        exact_equals_brute_force(&index);
    }
}

fn exact_equals_brute_force(index: &VectorIndex) {
    let e = HashEmbedder::new(DIM);
    let reference = index.exact_searcher();
    for q in [
        "parse request error",
        "socket",
        "matrix cache store",
        "fn x",
        "token",
    ] {
        let v = e.embed_one(q);
        for k in [1, 2, 3, 5, 10, 37, 120, 500] {
            let ids = |hs: &[ChunkHit]| {
                hs.iter()
                    .map(|h| (h.path.clone(), h.first_line))
                    .collect::<Vec<_>>()
            };
            let got = index.search_exact(&v, k).unwrap();
            let want = reference.search(&v, k);
            assert_eq!(ids(&got), ids(&want), "{q} k={k}");
            for (g, w) in got.iter().zip(&want) {
                assert!((g.similarity - w.similarity).abs() < 1e-5, "{q} k={k}");
            }
            let n = index.nearest(&v, k, Some(VectorSearch::Exact)).unwrap();
            assert!(n.exact);
            assert_eq!(ids(&n.hits), ids(&got));
            // Without a graph, even an `hnsw` search is exact, and says so.
            assert_eq!(
                index
                    .nearest(&v, k, Some(VectorSearch::Hnsw))
                    .unwrap()
                    .exact,
                !index.has_graph()
            );
        }
    }
    // `auto` is exact at this size.
    assert!(index.searches_exactly(Some(VectorSearch::Auto)));
    assert_eq!(
        index.searches_exactly(Some(VectorSearch::Hnsw)),
        !index.has_graph()
    );
    assert_eq!(index.searches_exactly(None), !index.has_graph());
}

/// The chunks (path, first line) the graph alone returns for `v`: no siblings.
fn raw_graph(index: &VectorIndex, v: &[f32], k: usize) -> Vec<(String, usize)> {
    let (m, _) = index
        .graph_search(index.graph().expect("a graph"), v, k)
        .unwrap();
    m.keys
        .iter()
        .filter_map(|key| index.position(*key))
        .map(|pos| {
            let h = index.hit(pos, 0.0);
            (h.path, h.first_line)
        })
        .collect()
}

#[test]
fn the_windows_beside_the_graphs_hits_are_scored_exactly() {
    // 200-line files: seven overlapping windows each, so a hit has siblings on both sides.
    let texts: Vec<(String, String)> = corpus(80)
        .into_iter()
        .map(|(p, t)| {
            (
                p,
                t.repeat(4).lines().take(200).collect::<Vec<_>>().join("\n"),
            )
        })
        .collect();
    let index = with_graph(build_texts(&texts, Scalar::I8));
    // A beam of one (usearch searches at least k wide): the graph alone misses chunks.
    index.set_expansion_search(1);
    let e = HashEmbedder::new(DIM);
    let reference = index.exact_searcher();
    // Every pair of words: which chunks a beam of one misses differs from build to build
    // (the graph is built by several threads); over 144 queries, some always are.
    let words = [
        "parse", "request", "error", "cache", "store", "matrix", "server", "token", "query",
        "index", "thread", "socket",
    ];
    let mut found_by_siblings = 0;
    for (a, b) in words.iter().flat_map(|a| words.iter().map(move |b| (a, b))) {
        let v = e.embed_one(&format!("{a} {b} x"));
        let k = 3;
        let graph = raw_graph(&index, &v, k);
        let hits = index.graph_hits(&v, k, &HashSet::new()).unwrap();
        // Every window within SIBLINGS of a graph hit, in its file, is there, scored as
        // exact search scores it.
        for (path, line) in &graph {
            for h in reference.search(&v, usize::MAX) {
                let near = h.path == *path && h.first_line.abs_diff(*line) <= SIBLINGS * 30;
                if near {
                    let got = hits
                        .iter()
                        .find(|g| g.path == h.path && g.first_line == h.first_line)
                        .unwrap_or_else(|| panic!("{path}:{} missing", h.first_line));
                    assert!((got.similarity - h.similarity).abs() < 1e-6);
                }
            }
        }
        // The search is their best k, in the documented order.
        let mut best = hits.clone();
        best.sort_by(rank_order);
        best.truncate(k);
        assert_eq!(index.search(&v, k).unwrap(), best);
        found_by_siblings += reference
            .search(&v, k)
            .iter()
            .filter(|h| !graph.contains(&(h.path.clone(), h.first_line)))
            .filter(|h| {
                best.iter()
                    .any(|b| (&b.path, b.first_line) == (&h.path, h.first_line))
            })
            .count();
    }
    assert!(
        found_by_siblings > 0,
        "no exact top chunk came from a sibling: the test proves nothing"
    );
}

#[test]
fn chunks_of_the_named_files_are_never_missed_by_the_graph() {
    let index = with_graph(build(60));
    // A beam of one (usearch searches at least k wide): the graph alone misses some of
    // the exact top.
    index.set_expansion_search(1);
    let e = HashEmbedder::new(DIM);
    let reference = index.exact_searcher();
    let mut helped = 0;
    let words = [
        "parse", "request", "error", "cache", "store", "matrix", "socket", "token",
    ];
    // Every pair of words: the graph is built by several threads, so which chunks a beam
    // of one misses differs from run to run; over 64 queries some always are (with 8, a
    // run now and then missed none, and the check below failed).
    let pairs = words.iter().flat_map(|a| words.iter().map(move |b| (a, b)));
    for (w, w2) in pairs {
        let q = format!("{w} {w2} x");
        let v = e.embed_one(&q);
        // The file of the exact best chunk: the one whose chunks must not be missed.
        let file = reference.search(&v, 1)[0].path.clone();
        let file = file.as_str();
        let k = 2;
        let exact = reference.search(&v, k);
        let graph = raw_graph(&index, &v, k);
        let got = index
            .nearest_with_files(&v, k, Some(VectorSearch::Hnsw), &[file, "no/such.rs"])
            .unwrap();
        assert!(!got.exact);
        assert!(got.hits.len() <= k);
        for w in got.hits.windows(2) {
            assert_ne!(rank_order(&w[0], &w[1]), std::cmp::Ordering::Greater);
            assert!((&w[0].path, w[0].first_line) != (&w[1].path, w[1].first_line));
        }
        // Every chunk of the file in the exact top k is there, with its exact similarity.
        for want in exact.iter().filter(|h| h.path == file) {
            let found = got
                .hits
                .iter()
                .find(|h| h.path == file && h.first_line == want.first_line)
                .unwrap_or_else(|| panic!("{q}: {file} L{} missed", want.first_line));
            assert!((found.similarity - want.similarity).abs() < 1e-5);
            let in_graph = graph.contains(&(file.to_owned(), want.first_line));
            if !in_graph {
                helped += 1;
            }
        }
    }
    // Exact search (and an empty list of files) is the plain search.
    let v = e.embed_one("socket");
    assert_eq!(
        index
            .nearest_with_files(&v, 5, Some(VectorSearch::Exact), &["src/f001.rs"])
            .unwrap(),
        index.nearest(&v, 5, Some(VectorSearch::Exact)).unwrap()
    );
    assert!(
        helped > 0,
        "the graph found every chunk itself: the test proves nothing"
    );
}

#[test]
fn a_mapped_index_answers_as_a_loaded_one_from_many_threads() {
    for index in both(60) {
        mapped_answers_as_loaded(&index);
    }
}

fn mapped_answers_as_loaded(index: &VectorIndex) {
    let dir = tempfile::tempdir().unwrap();
    index.save(dir.path()).unwrap();
    let loaded = VectorIndex::open(dir.path()).unwrap();
    let viewed = VectorIndex::view(dir.path()).unwrap();
    assert_eq!(viewed.len(), loaded.len());
    assert_eq!(viewed.has_graph(), index.has_graph());
    let e = HashEmbedder::new(DIM);
    let queries: Vec<Vec<f32>> = ["parse request", "socket", "matrix cache", "token index"]
        .iter()
        .map(|q| e.embed_one(q))
        .collect();
    // More threads than cores: every search needs one of the reserved slots.
    std::thread::scope(|s| {
        for _ in 0..8 {
            let (viewed, loaded, queries) = (&viewed, &loaded, &queries);
            s.spawn(move || {
                for _ in 0..20 {
                    for q in queries {
                        assert_eq!(viewed.search(q, 5).unwrap(), loaded.search(q, 5).unwrap());
                        assert_eq!(
                            viewed.search_exact(q, 5).unwrap(),
                            loaded.search_exact(q, 5).unwrap()
                        );
                    }
                }
            });
        }
    });
    assert_eq!(
        viewed.file_vectors("src/f003.rs"),
        loaded.file_vectors("src/f003.rs")
    );
}

#[test]
fn the_search_mode_is_saved_with_the_index_and_decides_the_storage() {
    let mut index = build(5);
    assert_eq!(index.search_mode(), VectorSearch::Exact, "as built");
    assert!(!index.has_graph());
    let q = HashEmbedder::new(DIM).embed_one("parse request error");
    let exact = index.exact(&q, 4);
    index.set_search_mode(VectorSearch::Hnsw).unwrap();
    assert!(index.has_graph());
    let dir = tempfile::tempdir().unwrap();
    index.save(dir.path()).unwrap();
    assert!(dir.path().join(GRAPH_FILE).exists());
    let mut reopened = VectorIndex::open(dir.path()).unwrap();
    assert_eq!(reopened.search_mode(), VectorSearch::Hnsw);
    assert!(!reopened.searches_exactly(None));
    assert!(reopened.searches_exactly(Some(VectorSearch::Exact)));
    // `auto` at this size is exact: the graph goes, and its file with it.
    reopened.set_search_mode(VectorSearch::Auto).unwrap();
    assert!(!reopened.has_graph());
    assert_eq!(
        reopened.exact(&q, 4),
        exact,
        "the vectors survive both moves"
    );
    reopened.save(dir.path()).unwrap();
    assert!(!dir.path().join(GRAPH_FILE).exists());
    assert!(dir.path().join(flat::FLAT_FILE).exists());
    let again = VectorIndex::view(dir.path()).unwrap();
    assert_eq!(again.search_mode(), VectorSearch::Auto);
    assert!(!again.has_graph() && again.searches_exactly(None));
    assert_eq!(again.search_exact(&q, 4).unwrap(), exact);
}

#[test]
fn a_streamed_build_grows_the_graph_past_its_estimate() {
    let e = HashEmbedder::new(DIM);
    let config = VectorConfig {
        embedder: EmbedderSpec::Hash { dim: DIM },
        ..VectorConfig::default()
    };
    let files = corpus(80);
    // An estimate of one chunk for 160: the graph must grow, many times, while files
    // arrive in parallel.
    let streamed: VectorIndex = VectorIndex::build(
        config.clone(),
        &e,
        1,
        files.par_iter().map(|(p, t)| {
            FileVectors::embed(&e, config.chunk.into(), p, 0, t).map_err(VectorError::Embed)
        }),
    )
    .unwrap();
    let assembled = build(80);
    assert_eq!(streamed.len(), 160);
    let graph_size = |i: VectorIndex| with_graph(i).graph().unwrap().size();
    let nonzero = streamed
        .exact_searcher()
        .vectors()
        .iter()
        .filter(|v| !is_zero(v))
        .count();
    assert_eq!(streamed.next_key, 160);
    let mut keys: Vec<u64> = streamed.files.iter().flat_map(|f| f.keys()).collect();
    keys.sort_unstable();
    assert_eq!(keys, (0..160).collect::<Vec<_>>(), "every key once");
    for q in ["parse request error", "socket thread", "matrix cache"] {
        let v = e.embed_one(q);
        assert_eq!(streamed.exact(&v, 10), assembled.exact(&v, 10), "{q}");
    }
    // The vectors read back from the graph are the ones that went in.
    let (a, b) = (
        streamed.file_vectors("src/f042.rs").unwrap(),
        assembled.file_vectors("src/f042.rs").unwrap(),
    );
    assert_eq!((a.chunks, a.vectors), (b.chunks, b.vectors));
    // An error from the producer stops the build and comes back as it was.
    let err = VectorIndex::build::<VectorError, _>(
        config,
        &e,
        4,
        (0..10usize).into_par_iter().map(|i| {
            if i == 7 {
                Err(VectorError::Hnsw("file 7 is unreadable".into()))
            } else {
                Ok(
                    FileVectors::embed(&e, ChunkOptions::default(), &format!("f{i}"), 0, "x")
                        .unwrap(),
                )
            }
        }),
    )
    .unwrap_err();
    assert!(err.to_string().contains("file 7 is unreadable"), "{err}");
    // The graph built from the rows holds every vector with features.
    assert_eq!(graph_size(streamed), nonzero);
    assert_eq!(graph_size(assembled), nonzero);
}

#[test]
fn an_update_in_place_answers_as_a_fresh_build() {
    let e = HashEmbedder::new(DIM);
    let config = VectorConfig {
        embedder: EmbedderSpec::Hash { dim: DIM },
        ..VectorConfig::default()
    };
    let embed =
        |(p, t): &(String, String)| FileVectors::embed(&e, config.chunk.into(), p, 0, t).unwrap();
    for graph in [false, true] {
        let mut files = corpus(40);
        let mut index =
            VectorIndex::assemble(config.clone(), &e, files.iter().map(embed).collect()).unwrap();
        if graph {
            index = with_graph(index);
        }
        update_as_fresh(index, &mut files, embed, &config, &e);
    }
}

fn update_as_fresh(
    index: VectorIndex,
    files: &mut Vec<(String, String)>,
    embed: impl Fn(&(String, String)) -> FileVectors,
    config: &VectorConfig,
    e: &HashEmbedder,
) {
    let dir = tempfile::tempdir().unwrap();
    index.save(dir.path()).unwrap();
    let index = VectorIndex::open(dir.path()).unwrap();
    let graph = index.has_graph();

    // Change two files, remove two, add one.
    files[3].1 = "fn matrix_determinant() {}\n".repeat(50);
    files[7].1 = "struct SocketServer;\n".to_string();
    let removed: Vec<String> = vec![files[10].0.clone(), files[11].0.clone()];
    files.push((
        "src/zz_new.rs".into(),
        "fn brand_new_token_parser() {}\n".into(),
    ));
    let changed: Vec<FileVectors> = [3, 7, files.len() - 1]
        .iter()
        .map(|&i| embed(&files[i]))
        .collect();
    let updated = index.update(changed, &removed).unwrap();
    files.retain(|(p, _)| !removed.contains(p));
    let fresh =
        VectorIndex::assemble(config.clone(), e, files.iter().map(embed).collect()).unwrap();

    assert_eq!(updated.len(), fresh.len());
    assert_eq!(updated.has_graph(), graph, "an update keeps the storage");
    if let Some(g) = updated.graph() {
        let nonzero = fresh
            .exact_searcher()
            .vectors()
            .iter()
            .filter(|v| !is_zero(v))
            .count();
        assert_eq!(g.size(), nonzero);
    }
    for q in [
        "matrix determinant",
        "socket server",
        "brand new token parser",
        "parse request",
    ] {
        let v = e.embed_one(q);
        let ids = |hs: Vec<ChunkHit>| {
            hs.into_iter()
                .map(|h| (h.path, h.first_line))
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(updated.exact(&v, 10)), ids(fresh.exact(&v, 10)), "{q}");
        // usearch's brute force skips the chunks taken out of the graph.
        assert_eq!(
            ids(updated.search_exact(&v, 10).unwrap()),
            ids(fresh.exact(&v, 10)),
            "{q}"
        );
        let best = updated.search(&v, 3).unwrap();
        // By similarity, not path: files 0 and 12 of this corpus have the same text, so the
        // best chunk can be a tie, which the parallel-built graph may break either way.
        let top = &fresh.exact(&v, 1)[0];
        assert!(
            (best[0].similarity - top.similarity).abs() < 1e-6,
            "{q}: graph found {} ({}), exact {} ({})",
            best[0].path,
            best[0].similarity,
            top.path,
            top.similarity
        );
        assert!(best.iter().all(|h| !removed.contains(&h.path)), "{q}");
    }
    // Saved and reopened, the update holds, and keys are never reused.
    let dir2 = tempfile::tempdir().unwrap();
    updated.save(dir2.path()).unwrap();
    let reopened = VectorIndex::open(dir2.path()).unwrap();
    assert_eq!(reopened.next_key, updated.next_key);
    let v = e.embed_one("brand new token parser");
    assert_eq!(reopened.search(&v, 1).unwrap()[0].path, "src/zz_new.rs");
}

#[test]
fn every_scalar_kind_keeps_similarities_and_shrinks_the_vectors() {
    let e = HashEmbedder::new(DIM);
    let mut texts = corpus(40);
    // A table of constants: sums of hundreds of the same features, past what i8 holds.
    // (Lines that differ: 40 copies of one line would be 40 times its vector, which i8
    // holds exactly.)
    let table: String = (0..60)
        .map(|i| format!("    0x00, 0x00, {}0x{i:02x},\n", "0x01, ".repeat(i % 7)))
        .collect();
    texts.push(("src/table.rs".into(), table));
    let f32_reference: Vec<(String, Vec<Vec<f32>>)> = texts
        .iter()
        .map(|(p, t)| {
            let f = FileVectors::embed(&e, ChunkOptions::default(), p, 0, t).unwrap();
            (p.clone(), f.vectors)
        })
        .collect();
    let mut sizes = Vec::new();
    let mut metas = Vec::new();
    for (scalar, tolerance, graph) in [
        (Scalar::F32, 1e-6, false),
        (Scalar::F16, 1e-3, false),
        // Lossless for the hash embedder: its vectors are small integers, normalised.
        (Scalar::I8, 1e-6, false),
        (Scalar::F32, 1e-6, true),
        (Scalar::F16, 1e-3, true),
        (Scalar::I8, 1e-6, true),
    ] {
        let mut index = build_texts(&texts, scalar);
        if graph {
            index = with_graph(index);
        }
        let dir = tempfile::tempdir().unwrap();
        index.save(dir.path()).unwrap();
        let file = if graph { GRAPH_FILE } else { flat::FLAT_FILE };
        sizes.push(std::fs::metadata(dir.path().join(file)).unwrap().len());
        metas.push(std::fs::read_to_string(dir.path().join("meta.json")).unwrap());
        let reopened = VectorIndex::view(dir.path()).unwrap();
        assert_eq!(reopened.config().scalar, scalar);
        // Only i8 keeps f32 vectors, and only of what it cannot hold: the table's.
        let unrounded = reopened.unrounded_len();
        assert_eq!(unrounded > 0, scalar == Scalar::I8, "{scalar}: {unrounded}");
        assert!(unrounded < 5, "{unrounded}");
        let long = "0x00 0x00 0x00 0x01 ".repeat(200);
        for q in [
            "parse request error",
            "socket thread",
            "matrix",
            &long,
            "0x00, 0x02",
        ] {
            let v = e.embed_one(q);
            // Every reported similarity against the f32 vectors the embedder made.
            for hit in reopened
                .search_exact(&v, 20)
                .unwrap()
                .into_iter()
                .chain(reopened.search(&v, 20).unwrap())
            {
                let (_, vectors) = f32_reference.iter().find(|(p, _)| *p == hit.path).unwrap();
                let f = reopened.file_vectors(&hit.path).unwrap();
                let ci = f.chunks.iter().position(|c| c.0 == hit.first_line).unwrap();
                let truth = exact::similarity(&v, &vectors[ci]);
                // f16 rounds the query as well as the chunks: about 1e-4 each.
                assert!(
                    (hit.similarity - truth).abs() <= tolerance,
                    "{scalar} {q} {}: {} vs {truth}",
                    hit.path,
                    hit.similarity
                );
            }
        }
    }
    // f32 → f16: 4 and 2 bytes a component, flat. i8 rows are packed in five bits a
    // component (160 bytes for 256), with each row's norm and exception count (8 bytes) and
    // three bytes for each component outside −16..=15: less than a byte a component (this
    // corpus repeats a dozen words, so its sums are larger than real code's).
    let chunks = build_texts(&texts, Scalar::I8).len() as u64;
    assert_eq!(sizes[0], sizes[1] * 2, "{sizes:?}");
    assert_eq!(sizes[1], 2 * DIM as u64 * chunks, "{sizes:?}");
    assert!(metas[2].contains(r#""rows": "packed""#), "{}", metas[2]);
    assert!(
        sizes[2] >= 168 * chunks && sizes[2] < 256 * chunks,
        "{sizes:?} for {chunks} chunks"
    );
    assert!(sizes[3] > sizes[4] && sizes[4] > sizes[5], "{sizes:?}");
    assert!(
        sizes[5] > sizes[2],
        "a graph holds more than the rows: {sizes:?}"
    );
}

proptest::proptest! {
    /// The chunk table reads back as written, whatever the paths share: bytes of one
    /// character too (`é` and `ê` share their first byte).
    #[test]
    fn the_chunk_table_round_trips(
        mut paths in proptest::collection::vec("[a-c/éê]{0,12}", 0..40),
        numbers in proptest::collection::vec((proptest::num::u64::ANY, 0usize..1 << 40, 0u64..1 << 62), 40),
    ) {
        paths.sort();
        let rows: Vec<persist::FileRow> = paths
            .iter()
            .zip(&numbers)
            .map(|(p, (h, l, k))| (p.as_str(), *h, *l, *k))
            .collect();
        let opts = ChunkOptions::default();
        let back = persist::files_from_bytes(&persist::files_to_bytes(rows.iter().copied()), opts)
            .unwrap();
        proptest::prop_assert_eq!(back.len(), rows.len());
        for (a, b) in back.iter().zip(&rows) {
            proptest::prop_assert_eq!((a.path, a.hash, a.lines, a.first_key), *b);
            proptest::prop_assert_eq!(a.chunks, window_count(a.lines, opts));
        }
    }
}

#[test]
fn a_damaged_index_is_reported_with_its_file() {
    for index in [build(3), with_graph(build(3))] {
        let dir = tempfile::tempdir().unwrap();
        index.save(dir.path()).unwrap();
        let vectors = if index.has_graph() {
            GRAPH_FILE
        } else {
            flat::FLAT_FILE
        };
        std::fs::write(dir.path().join(vectors), b"short").unwrap();
        let err = VectorIndex::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains(vectors), "{err}");
        let err = VectorIndex::view(dir.path()).unwrap_err().to_string();
        assert!(err.contains(vectors), "{err}");
        // The chunk table of another index: the chunk count does not fit.
        let five = if index.has_graph() {
            with_graph(build(5))
        } else {
            build(5)
        };
        five.save(dir.path()).unwrap();
        let small = tempfile::tempdir().unwrap();
        index.save(small.path()).unwrap();
        let files = dir.path().join(FILES_FILE);
        std::fs::copy(small.path().join(FILES_FILE), &files).unwrap();
        let err = VectorIndex::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains(FILES_FILE), "{err}");
        // Two files claiming the same keys.
        index.save(dir.path()).unwrap();
        let opts = index.config().chunk.into();
        let table = persist::files_from_bytes(&std::fs::read(&files).unwrap(), opts).unwrap();
        let mut rows: Vec<persist::FileRow> = table
            .iter()
            .map(|f| (f.path, f.hash, f.lines, f.first_key))
            .collect();
        rows[1].3 = rows[0].3;
        std::fs::write(&files, persist::files_to_bytes(rows.iter().copied())).unwrap();
        let err = VectorIndex::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains(FILES_FILE) && err.contains("keys"), "{err}");
        // Absurd line counts: refused, not summed past usize.
        let names: Vec<String> = (0..80).map(|i| format!("f{i:02}")).collect();
        let huge = names
            .iter()
            .zip(0..)
            .map(|(p, i)| (p.as_str(), 0, usize::MAX / 2, i * (1 << 56)));
        std::fs::write(&files, persist::files_to_bytes(huge)).unwrap();
        let err = VectorIndex::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains(FILES_FILE), "{err}");
        // A table cut short, or with a path that is not UTF-8: the byte is named.
        let bytes = persist::files_to_bytes(rows.iter().copied());
        std::fs::write(&files, &bytes[..bytes.len() - 3]).unwrap();
        let err = VectorIndex::open(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains(FILES_FILE) && err.contains("cut short at byte"),
            "{err}"
        );
        let mut bad = bytes.clone();
        bad[2] = 0xff;
        std::fs::write(&files, &bad).unwrap();
        let err = VectorIndex::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("not UTF-8 at byte 0"), "{err}");
        // The second path claims more of the first than it has.
        let mut bad = bytes.clone();
        let second = 2 + bytes[1] as usize + 8 + 1 + 1;
        bad[second] = 0x7f;
        std::fs::write(&files, &bad).unwrap();
        let err = VectorIndex::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("more than the previous one's"), "{err}");
        std::fs::write(dir.path().join("meta.json"), b"{").unwrap();
        let err = VectorIndex::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("meta.json"), "{err}");
    }
}

#[test]
fn zero_queries_and_zero_chunks_find_nothing() {
    let e = HashEmbedder::new(16);
    let files = vec![
        FileVectors::embed(&e, ChunkOptions::default(), "a", 0, ":: -> {}\n").unwrap(),
        FileVectors::embed(&e, ChunkOptions::default(), "b", 0, "parse me\n").unwrap(),
    ];
    let make = || VectorIndex::assemble(VectorConfig::default(), &e, files.clone()).unwrap();
    for index in [make(), with_graph(make())] {
        let q = e.embed_one("parse");
        let paths = |hs: Vec<ChunkHit>| hs.into_iter().map(|h| h.path).collect::<Vec<_>>();
        assert_eq!(paths(index.exact(&q, 10)), ["b"]);
        assert_eq!(paths(index.search(&q, 10).unwrap()), ["b"]);
        assert_eq!(paths(index.search_exact(&q, 10).unwrap()), ["b"]);
        assert!(index.exact(&e.embed_one("::"), 10).is_empty());
        assert!(index
            .search_exact(&e.embed_one("::"), 10)
            .unwrap()
            .is_empty());
    }
}

#[test]
fn chunks_that_are_not_the_windows_of_the_lines_are_refused_and_keys_never_return() {
    let e = HashEmbedder::new(DIM);
    let config = VectorConfig {
        embedder: EmbedderSpec::Hash { dim: DIM },
        ..VectorConfig::default()
    };
    let texts = corpus(3);
    let mut odd = FileVectors::embed(&e, config.chunk.into(), &texts[0].0, 0, &texts[0].1).unwrap();
    odd.chunks[0].0 = 2;
    let err = VectorIndex::assemble(config.clone(), &e, vec![odd])
        .unwrap_err()
        .to_string();
    assert!(err.contains("not the windows of its lines"), "{err}");

    // The file with the last keys goes: saved and reopened, its keys are still never reused.
    let files = texts
        .iter()
        .map(|(p, t)| FileVectors::embed(&e, config.chunk.into(), p, 0, t).unwrap())
        .collect();
    let index = VectorIndex::assemble(config, &e, files).unwrap();
    let last = index.files().iter().max_by_key(|f| f.first_key).unwrap();
    let (path, end) = (last.path.to_owned(), last.first_key + last.chunks as u64);
    let updated = index.update(Vec::new(), &[path]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    updated.save(dir.path()).unwrap();
    assert_eq!(VectorIndex::open(dir.path()).unwrap().next_key, end);
    assert_eq!(VectorIndex::view(dir.path()).unwrap().next_key, end);
}
