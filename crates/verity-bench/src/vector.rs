//! `verity bench vector`: the vector index measured ann-benchmarks style. A synthetic corpus
//! large enough for `--chunks` chunks is indexed with the chosen embedder (with the default
//! `auto` mode: stored flat and searched exactly below the threshold); every query's exact k
//! nearest chunks are computed by brute force; the engine's exact search is timed; then the
//! HNSW graph is built over the same vectors (timed, and its size taken), and for each search
//! expansion (ef) it answers every query, and recall@k (a returned chunk counts when its similarity is
//! within 0.001 of the exact k-th) is set against queries per second, in the same run. Also: the
//! build, the embedding throughput of both embedders, and the p50 of whole `vector:` queries.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use rand::seq::IndexedRandom;
use rand::SeedableRng;
use serde::Serialize;
use verity_engine::{BuildOptions, CodeIndex, EmbedderSpec, SearchOptions, VectorConfig};
use verity_runner::stats::percentile;
use verity_vector::embed::Embedder;

use crate::error::BenchError;

/// What `verity bench vector` measures.
#[derive(Debug, Clone)]
pub struct VectorBench {
    /// Chunks in the synthetic corpus (about: files are written to reach it).
    pub chunks: usize,
    /// Queries (words of random corpus lines).
    pub queries: usize,
    /// Neighbours per query.
    pub k: usize,
    /// Search expansions to measure.
    pub ef: Vec<usize>,
    /// The embedder that indexes the corpus.
    pub embedder: EmbedderSpec,
    /// HNSW edges per node (M); the index default when none.
    pub hnsw_m: Option<usize>,
    /// HNSW candidate list while building (efConstruction); the index default when none.
    pub hnsw_ef_construction: Option<usize>,
    /// How the graph stores components; the embedder's default when none.
    pub scalar: Option<verity_vector::scalar::Scalar>,
    /// A MiniLM model directory whose embedding throughput is measured too.
    pub minilm_model: Option<PathBuf>,
    /// Chunks MiniLM embeds for its throughput figure.
    pub minilm_sample: usize,
    /// Seed of the synthetic corpus and of the queries.
    pub seed: u64,
}

#[derive(Debug, Serialize)]
struct EfRow {
    /// Search expansion.
    ef: usize,
    recall_at_k: f64,
    queries_per_second: f64,
    p50_ms: f64,
}

#[derive(Debug, Serialize)]
struct Throughput {
    embedder: String,
    chunks: usize,
    seconds: f64,
    chunks_per_second: f64,
}

/// What `verity bench vector` measured: serialized as `--json` prints it, or rendered by
/// [`VectorReport::markdown`].
#[derive(Debug, Serialize)]
pub struct VectorReport {
    embedder: String,
    /// HNSW edges per node (M) and candidate list while building (efConstruction).
    hnsw_m: usize,
    hnsw_ef_construction: usize,
    /// How the graph stores components (`f32`, `f16`, `i8`).
    scalar: String,
    files: usize,
    chunks: usize,
    build_seconds: f64,
    /// How the built index stores its vectors (`flat` or `graph`).
    storage: String,
    /// Building the graph over the index's vectors, when it stores them flat (the ef rows'
    /// graph); 0 when the index has its own.
    graph_build_seconds: f64,
    /// The vector index's bytes when it holds that graph (`hnsw.usearch` in place of the
    /// flat rows).
    graph_vector_bytes: u64,
    /// The corpus's bytes, the vector index's (`vectors/`) and the text index's.
    corpus_bytes: u64,
    vector_bytes: u64,
    text_bytes: u64,
    queries: usize,
    k: usize,
    exact_qps: f64,
    /// Exact search as the engine runs it (`--vector-search exact`: the scan of the flat rows,
    /// or usearch's brute force over a graph's vectors; ties cut in order): median and 95th
    /// percentile per query.
    exact_p50_ms: f64,
    exact_p95_ms: f64,
    engine_exact_qps: f64,
    /// recall@k of the engine's exact mode against the embedder's f32 vectors (below 1 only
    /// when the stored scalar kind reorders chunks by more than 0.001).
    exact_recall_at_k: f64,
    /// The largest difference between a similarity the engine reported (exact mode) and the
    /// one the embedder's f32 vectors give.
    max_similarity_error: f64,
    /// The chunk count up to which `--vector-search auto` searches exactly.
    auto_exact_max_chunks: usize,
    rows: Vec<EfRow>,
    default_ef: usize,
    vector_query_p50_ms: f64,
    throughput: Vec<Throughput>,
}

fn embed_throughput(e: &dyn Embedder, texts: &[&str]) -> Result<Throughput, BenchError> {
    let started = Instant::now();
    // In batches of 64, as the index builder hands a file's chunks over.
    for batch in texts.chunks(64) {
        e.embed(batch)
            .map_err(|e| BenchError::input(e.to_string()))?;
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(Throughput {
        embedder: e.name(),
        chunks: texts.len(),
        seconds,
        chunks_per_second: texts.len() as f64 / seconds,
    })
}

/// Runs the benchmark; `note` hears what is happening.
pub fn run(args: &VectorBench, note: &dyn Fn(&str)) -> Result<VectorReport, BenchError> {
    let io = |e: std::io::Error| BenchError::internal(e.to_string());
    let embedder = args.embedder.clone();
    if args.k == 0 || args.queries == 0 || args.ef.is_empty() || args.ef.contains(&0) {
        return Err(BenchError::input(
            "--k, --queries and every --ef must be at least 1",
        ));
    }
    let tmp = tempfile::tempdir().map_err(io)?;
    let corpus = tmp.path().join("corpus");
    // Synthetic files average about 2.7 chunks of 40 lines (stride 30).
    let files = (args.chunks as f64 / 2.6).ceil() as usize;
    note(&format!("writing {files} synthetic files…"));
    verity_validation::synth::write_tree(&corpus, files, args.seed).map_err(io)?;
    let mut config = VectorConfig::for_embedder(embedder.clone());
    if let Some(kind) = args.scalar {
        config.scalar = kind;
    }
    if let Some(m) = args.hnsw_m {
        config.hnsw.connectivity = m.max(2);
    }
    if let Some(ef) = args.hnsw_ef_construction {
        config.hnsw.expansion_add = ef.max(1);
    }
    note(&format!("indexing with vectors ({:?})…", config.embedder));
    let started = Instant::now();
    let (index, report) = CodeIndex::build(
        &corpus,
        &tmp.path().join("index"),
        &BuildOptions {
            vectors: Some(config.clone()),
            ..BuildOptions::default()
        },
    )?;
    let build_seconds = started.elapsed().as_secs_f64();
    let vi = index.vector_index().expect("built with vectors");

    // Queries: a few words of random lines, as the truth generator makes them.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(args.seed);
    let paths: Vec<&str> = vi.files().iter().map(|f| f.path).collect();
    let mut texts = Vec::new();
    while texts.len() < args.queries {
        let path = paths.choose(&mut rng).expect("files");
        let content = index.content(path)?.unwrap_or_default();
        let lines: Vec<&str> = content.lines().filter(|l| l.len() > 12).collect();
        if let Some(l) = lines.choose(&mut rng) {
            let words: Vec<&str> = l
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .take(5)
                .collect();
            if words.len() >= 2 {
                texts.push(words.join(" "));
            }
        }
    }
    let vectors: Vec<Vec<f32>> = texts
        .iter()
        .map(|t| index.embed_query(t))
        .collect::<Result<_, _>>()?;
    let k = args.k;
    // The brute-force baseline scores the embedder's own f32 vectors of every chunk (made
    // again from the stored text, before the clock starts), not the graph's: what the graph's
    // scalar kind changes is part of what is measured.
    let chunk_embedder = config
        .embedder
        .load()
        .map_err(|e| BenchError::input(e.to_string()))?;
    let mut reference = Vec::with_capacity(vi.len());
    let mut position = HashMap::new();
    for f in vi.files().iter() {
        let content = index.content(f.path)?.unwrap_or_default();
        let chunks = verity_vector::chunk::chunk(&content, config.chunk.into());
        let texts: Vec<&str> = chunks.iter().map(|c| c.text.as_str()).collect();
        let made = chunk_embedder
            .embed(&texts)
            .map_err(|e| BenchError::input(e.to_string()))?;
        for (c, v) in chunks.iter().zip(made) {
            position.insert((f.path.to_owned(), c.first_line), reference.len());
            reference.push(v);
        }
    }
    let exact_searcher = vi.exact_searcher_over(reference).ok_or_else(|| {
        BenchError::internal("the stored text chunks differently from the vector index")
    })?;
    // The true similarity of a returned chunk, from the reference vectors.
    let reference = exact_searcher.vectors();
    let true_similarity = |q: &[f32], h: &verity_vector::store::ChunkHit| {
        position
            .get(&(h.path.clone(), h.first_line))
            .map(|&i| verity_vector::exact::similarity(q, &reference[i]))
    };
    let started = Instant::now();
    let exact: Vec<Vec<f32>> = vectors
        .iter()
        .map(|q| {
            exact_searcher
                .search(q, k)
                .into_iter()
                .map(|h| h.similarity)
                .collect()
        })
        .collect();
    let exact_qps = vectors.len() as f64 / started.elapsed().as_secs_f64();
    // The engine's exact mode, checked against the reference as it is timed: the k-th
    // similarity it finds, and every similarity it reports, against the embedder's vectors.
    let mut exact_times = Vec::with_capacity(vectors.len());
    let mut exact_recall = (0usize, 0usize);
    let mut similarity_error = 0.0f64;
    let started = Instant::now();
    for (q, truth) in vectors.iter().zip(&exact) {
        let t = Instant::now();
        let hits = vi
            .search_exact(q, k)
            .map_err(|e| BenchError::input(e.to_string()))?;
        exact_times.push(t.elapsed().as_secs_f64() * 1000.0);
        let Some(kth) = truth.last() else { continue };
        exact_recall.1 += truth.len();
        let mut found = 0;
        for h in &hits {
            let Some(s) = true_similarity(q, h) else {
                continue;
            };
            similarity_error = similarity_error.max(f64::from((s - h.similarity).abs()));
            if f64::from(s) >= f64::from(*kth) - 1e-3 {
                found += 1;
            }
        }
        exact_recall.0 += found.min(truth.len());
    }
    let exact_recall_at_k = if exact_recall.1 == 0 {
        1.0
    } else {
        exact_recall.0 as f64 / exact_recall.1 as f64
    };
    let engine_exact_qps = vectors.len() as f64 / started.elapsed().as_secs_f64();
    exact_times.sort_by(f64::total_cmp);

    // The graph the ef rows search: the index's own, or one built over its vectors.
    let storage = if vi.has_graph() { "graph" } else { "flat" };
    let mut graph_build_seconds = 0.0;
    let mut own = None;
    let graph_dir = tempfile::tempdir().map_err(io)?;
    if !vi.has_graph() {
        note("building the HNSW graph over the same vectors…");
        let mut g = verity_vector::store::VectorIndex::open(&index.vectors_dir())
            .map_err(|e| BenchError::internal(e.to_string()))?;
        let started = Instant::now();
        g.set_search_mode(verity_engine::VectorSearch::Hnsw)
            .map_err(|e| BenchError::internal(e.to_string()))?;
        graph_build_seconds = started.elapsed().as_secs_f64();
        g.save(graph_dir.path())
            .map_err(|e| BenchError::internal(e.to_string()))?;
        own = Some(g);
    }
    let graph_vector_bytes = match own {
        Some(_) => dir_size(graph_dir.path()).map_err(io)?,
        None => index.vectors_size_on_disk(),
    };
    let g = own.as_ref().unwrap_or(vi);
    let mut rows = Vec::new();
    for &ef in &args.ef {
        g.set_expansion_search(ef);
        let mut found = 0usize;
        let mut wanted = 0usize;
        let mut times = Vec::with_capacity(vectors.len());
        let started = Instant::now();
        for (q, truth) in vectors.iter().zip(&exact) {
            let t = Instant::now();
            let hits = g
                .search(q, k)
                .map_err(|e| BenchError::input(e.to_string()))?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            let Some(kth) = truth.last() else { continue };
            wanted += truth.len();
            found += hits
                .iter()
                .filter_map(|h| true_similarity(q, h))
                .filter(|s| f64::from(*s) >= f64::from(*kth) - 1e-3)
                .count()
                .min(truth.len());
        }
        let seconds = started.elapsed().as_secs_f64();
        times.sort_by(f64::total_cmp);
        rows.push(EfRow {
            ef,
            recall_at_k: if wanted == 0 {
                1.0
            } else {
                found as f64 / wanted as f64
            },
            queries_per_second: vectors.len() as f64 / seconds,
            p50_ms: percentile(&times, 50.0),
        });
    }
    let default_ef = config.hnsw.expansion_search;
    g.set_expansion_search(default_ef);
    let mut whole = Vec::new();
    for t in &texts {
        let q = format!("vector(k={k}): {t}");
        let started = Instant::now();
        index.search(&q, &SearchOptions::default())?;
        whole.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    whole.sort_by(f64::total_cmp);

    // Embedding throughput: the hash embedder over every chunk; MiniLM over a sample.
    let mut chunk_texts = Vec::new();
    for f in vi.files().iter().take(400) {
        let content = index.content(f.path)?.unwrap_or_default();
        let lines: Vec<&str> = content.lines().collect();
        for (a, b) in &f.ranges(config.chunk.into()) {
            chunk_texts.push(lines[a - 1..(*b).min(lines.len())].join("\n"));
        }
    }
    let refs: Vec<&str> = chunk_texts.iter().map(String::as_str).collect();
    let mut throughput = vec![embed_throughput(
        &verity_vector::embed::HashEmbedder::default(),
        &refs,
    )?];
    if let Some(dir) = &args.minilm_model {
        let m = verity_vector::minilm::MiniLmEmbedder::load(dir)
            .map_err(|e| BenchError::input(e.to_string()))?;
        let n = refs.len().min(args.minilm_sample);
        throughput.push(embed_throughput(&m, &refs[..n])?);
    }

    let vector_bytes = index.vectors_size_on_disk();
    Ok(VectorReport {
        embedder: vi.embedder_name().to_owned(),
        hnsw_m: config.hnsw.connectivity,
        hnsw_ef_construction: config.hnsw.expansion_add,
        scalar: config.scalar.to_string(),
        files: report.files,
        chunks: report.chunks,
        build_seconds,
        storage: storage.to_owned(),
        graph_build_seconds,
        graph_vector_bytes,
        corpus_bytes: report.bytes_indexed,
        vector_bytes,
        text_bytes: index.size_on_disk() - vector_bytes,
        queries: vectors.len(),
        k,
        exact_qps,
        exact_p50_ms: percentile(&exact_times, 50.0),
        exact_p95_ms: percentile(&exact_times, 95.0),
        engine_exact_qps,
        exact_recall_at_k,
        max_similarity_error: similarity_error,
        auto_exact_max_chunks: verity_engine::EXACT_SEARCH_MAX_CHUNKS,
        rows,
        default_ef,
        vector_query_p50_ms: percentile(&whole, 50.0),
        throughput,
    })
}

impl VectorReport {
    /// The report as the terminal shows it: a line about the index, then Markdown tables.
    pub fn markdown(&self) -> String {
        use std::fmt::Write;
        let report = self;
        let (k, default_ef) = (self.k, self.default_ef);
        let mut out = String::new();
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        let per_corpus = |b: u64| b as f64 / report.corpus_bytes.max(1) as f64;
        let _ = writeln!(out,
        "{} chunks of {} files ({:.1} MiB), embedder {}, stored as {}; HNSW M {} ef_construction {}; built (text + vectors) in {:.1} s; {} queries, k = {}",
        report.chunks,
        report.files,
        mib(report.corpus_bytes),
        report.embedder,
        report.scalar,
        report.hnsw_m,
        report.hnsw_ef_construction,
        report.build_seconds,
        report.queries,
        k
    );
        let _ = writeln!(
            out,
            "index on disk: vectors ({}) {:.1} MiB ({:.2}× the corpus), text {:.1} MiB ({:.2}×)",
            report.storage,
            mib(report.vector_bytes),
            per_corpus(report.vector_bytes),
            mib(report.text_bytes),
            per_corpus(report.text_bytes)
        );
        if report.storage == "flat" {
            let _ = writeln!(
                out,
                "the ef rows' graph: built over the same vectors in {:.1} s; vectors with it {:.1} MiB ({:.2}×)",
                report.graph_build_seconds,
                mib(report.graph_vector_bytes),
                per_corpus(report.graph_vector_bytes)
            );
        }
        let _ = writeln!(
            out,
            "\n| ef | recall@{k} | queries/s | p50 ms |\n|---:|---:|---:|---:|"
        );
        let _ = writeln!(
            out,
            "| exact (brute force, f64 reference) | 1.000 | {:.0} | |",
            report.exact_qps
        );
        let _ = writeln!(out,
        "| exact (`--vector-search exact`, similarities within {:.1e}) | {:.4} | {:.0} | {:.3} (p95 {:.3}) |",
        report.max_similarity_error,
        report.exact_recall_at_k,
        report.engine_exact_qps,
        report.exact_p50_ms,
        report.exact_p95_ms
    );
        for r in &report.rows {
            let _ = writeln!(
                out,
                "| {}{} | {:.4} | {:.0} | {:.3} |",
                r.ef,
                if r.ef == default_ef { " (default)" } else { "" },
                r.recall_at_k,
                r.queries_per_second,
                r.p50_ms
            );
        }
        let _ = writeln!(out,
        "\nwhole `vector(k={k}):` query (embed + search + roll-up, the index's default mode: {}) p50: {:.3} ms",
        if report.chunks <= report.auto_exact_max_chunks { "exact" } else { "hnsw" },
        report.vector_query_p50_ms
    );
        let _ = writeln!(
            out,
            "\n| embedder | chunks | seconds | chunks/s |\n|---|---:|---:|---:|"
        );
        for t in &report.throughput {
            let _ = writeln!(
                out,
                "| {} | {} | {:.2} | {:.0} |",
                t.embedder, t.chunks, t.seconds, t.chunks_per_second
            );
        }
        out
    }
}

/// Bytes of the files directly in `dir`.
fn dir_size(dir: &std::path::Path) -> std::io::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        total += entry?.metadata()?.len();
    }
    Ok(total)
}
