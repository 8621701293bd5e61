//! `verity bench vector`: the vector index measured ann-benchmarks style. A synthetic corpus
//! large enough for `--chunks` chunks is indexed with the chosen embedder; every query's exact
//! k nearest chunks are computed by brute force; then for each search expansion (ef) the HNSW
//! graph answers every query, and recall@k (a returned chunk counts when its similarity is
//! within 0.001 of the exact k-th) is set against queries per second, in the same run. Also: the
//! build, the embedding throughput of both embedders, and the p50 of whole `vector:` queries.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use rand::seq::IndexedRandom;
use rand::SeedableRng;
use serde::Serialize;
use verity_engine::{BuildOptions, CodeIndex, EmbedderSpec, SearchOptions, VectorConfig};
use verity_runner::stats::percentile;
use verity_vector::embed::Embedder;

use crate::exit::{CmdResult, Failure, INTERNAL_ERROR};
use crate::out::outln;
use crate::BenchVectorArgs;

#[derive(Debug, Serialize)]
struct EfRow {
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

#[derive(Debug, Serialize)]
struct VectorReport {
    embedder: String,
    files: usize,
    chunks: usize,
    build_seconds: f64,
    queries: usize,
    k: usize,
    exact_qps: f64,
    /// Exact search as the engine runs it (`--vector-search exact`: usearch's brute force over
    /// the graph's vectors, ties cut in order): median and 95th percentile per query.
    exact_p50_ms: f64,
    exact_p95_ms: f64,
    engine_exact_qps: f64,
    /// The chunk count up to which `--vector-search auto` searches exactly.
    auto_exact_max_chunks: usize,
    rows: Vec<EfRow>,
    default_ef: usize,
    vector_query_p50_ms: f64,
    throughput: Vec<Throughput>,
}

fn embed_throughput(e: &dyn Embedder, texts: &[&str]) -> Result<Throughput, Failure> {
    let started = Instant::now();
    // In batches of 64, as the index builder hands a file's chunks over.
    for batch in texts.chunks(64) {
        e.embed(batch).map_err(|e| Failure::input(e.to_string()))?;
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(Throughput {
        embedder: e.name(),
        chunks: texts.len(),
        seconds,
        chunks_per_second: texts.len() as f64 / seconds,
    })
}

pub fn run(args: &BenchVectorArgs) -> CmdResult {
    let io = |e: std::io::Error| Failure {
        code: INTERNAL_ERROR,
        message: e.to_string(),
    };
    let embedder = match &args.model {
        Some(dir) if args.minilm => EmbedderSpec::MiniLm { dir: dir.clone() },
        None if args.minilm => {
            return Err(Failure::input("--minilm needs --model DIR"));
        }
        _ => EmbedderSpec::default(),
    };
    if args.k == 0 || args.queries == 0 || args.ef.is_empty() || args.ef.contains(&0) {
        return Err(Failure::input(
            "--k, --queries and every --ef must be at least 1",
        ));
    }
    let tmp = tempfile::tempdir().map_err(io)?;
    let corpus = tmp.path().join("corpus");
    // Synthetic files average about 2.7 chunks of 40 lines (stride 30).
    let files = (args.chunks as f64 / 2.6).ceil() as usize;
    eprintln!("writing {files} synthetic files…");
    verity_validation::synth::write_tree(&corpus, files, args.seed).map_err(io)?;
    let mut config = VectorConfig {
        embedder: embedder.clone(),
        ..VectorConfig::default()
    };
    if let Some(m) = args.hnsw_m {
        config.hnsw.connectivity = m.max(2);
    }
    if let Some(ef) = args.hnsw_ef_construction {
        config.hnsw.expansion_add = ef.max(1);
    }
    eprintln!("indexing with vectors ({:?})…", config.embedder);
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
    let paths: Vec<&str> = vi.files().iter().map(|f| f.path.as_str()).collect();
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
    // The brute-force baseline scores vectors held in memory; reading them back from the
    // graph happens once, before the clock starts.
    let exact_searcher = vi.exact_searcher();
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
    // The engine's exact mode, checked against the reference as it is timed.
    let mut exact_times = Vec::with_capacity(vectors.len());
    let started = Instant::now();
    for (q, truth) in vectors.iter().zip(&exact) {
        let t = Instant::now();
        let hits = vi
            .search_exact(q, k)
            .map_err(|e| Failure::input(e.to_string()))?;
        exact_times.push(t.elapsed().as_secs_f64() * 1000.0);
        let got: Vec<f32> = hits.iter().map(|h| h.similarity).collect();
        if got.len() != truth.len() || got.iter().zip(truth).any(|(a, b)| (a - b).abs() > 1e-4) {
            return Err(Failure {
                code: INTERNAL_ERROR,
                message: format!("exact search disagrees with brute force: {got:?} vs {truth:?}"),
            });
        }
    }
    let engine_exact_qps = vectors.len() as f64 / started.elapsed().as_secs_f64();
    exact_times.sort_by(f64::total_cmp);

    let mut rows = Vec::new();
    for &ef in &args.ef {
        vi.set_expansion_search(ef);
        let mut found = 0usize;
        let mut wanted = 0usize;
        let mut times = Vec::with_capacity(vectors.len());
        let started = Instant::now();
        for (q, truth) in vectors.iter().zip(&exact) {
            let t = Instant::now();
            let hits = vi.search(q, k).map_err(|e| Failure::input(e.to_string()))?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            let Some(kth) = truth.last() else { continue };
            wanted += truth.len();
            found += hits
                .iter()
                .filter(|h| f64::from(h.similarity) >= f64::from(*kth) - 1e-3)
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
    vi.set_expansion_search(default_ef);
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
        let content = index.content(&f.path)?.unwrap_or_default();
        let lines: Vec<&str> = content.lines().collect();
        for (a, b) in &f.chunks {
            chunk_texts.push(lines[a - 1..(*b).min(lines.len())].join("\n"));
        }
    }
    let refs: Vec<&str> = chunk_texts.iter().map(String::as_str).collect();
    let mut throughput = vec![embed_throughput(
        &verity_vector::embed::HashEmbedder::default(),
        &refs,
    )?];
    let model_dir = args
        .model
        .clone()
        .or_else(|| std::env::var_os("VERITY_MINILM_DIR").map(PathBuf::from));
    if let Some(dir) = model_dir {
        let m = verity_vector::minilm::MiniLmEmbedder::load(&dir)
            .map_err(|e| Failure::input(e.to_string()))?;
        let n = refs.len().min(args.minilm_sample);
        throughput.push(embed_throughput(&m, &refs[..n])?);
    }

    let report = VectorReport {
        embedder: vi.embedder_name().to_owned(),
        files: report.files,
        chunks: report.chunks,
        build_seconds,
        queries: vectors.len(),
        k,
        exact_qps,
        exact_p50_ms: percentile(&exact_times, 50.0),
        exact_p95_ms: percentile(&exact_times, 95.0),
        engine_exact_qps,
        auto_exact_max_chunks: verity_engine::EXACT_SEARCH_MAX_CHUNKS,
        rows,
        default_ef,
        vector_query_p50_ms: percentile(&whole, 50.0),
        throughput,
    };
    if args.json {
        outln!(
            "{}",
            serde_json::to_string_pretty(&report).expect("serializes")
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    outln!(
        "{} chunks of {} files, embedder {}; HNSW M {} ef_construction {}; built (text + vectors) in {:.1} s; {} queries, k = {}",
        report.chunks,
        report.files,
        report.embedder,
        config.hnsw.connectivity,
        config.hnsw.expansion_add,
        report.build_seconds,
        report.queries,
        k
    )?;
    outln!("\n| ef | recall@{k} | queries/s | p50 ms |\n|---:|---:|---:|---:|")?;
    outln!(
        "| exact (brute force, f64 reference) | 1.000 | {:.0} | |",
        report.exact_qps
    )?;
    outln!(
        "| exact (`--vector-search exact`) | 1.000 | {:.0} | {:.3} (p95 {:.3}) |",
        report.engine_exact_qps,
        report.exact_p50_ms,
        report.exact_p95_ms
    )?;
    for r in &report.rows {
        outln!(
            "| {}{} | {:.4} | {:.0} | {:.3} |",
            r.ef,
            if r.ef == default_ef { " (default)" } else { "" },
            r.recall_at_k,
            r.queries_per_second,
            r.p50_ms
        )?;
    }
    outln!(
        "\nwhole `vector(k={k}):` query (embed + search + roll-up, the index's default mode: {}) p50: {:.3} ms",
        if report.chunks <= report.auto_exact_max_chunks { "exact" } else { "hnsw" },
        report.vector_query_p50_ms
    )?;
    outln!("\n| embedder | chunks | seconds | chunks/s |\n|---|---:|---:|---:|")?;
    for t in &report.throughput {
        outln!(
            "| {} | {} | {:.2} | {:.0} |",
            t.embedder,
            t.chunks,
            t.seconds,
            t.chunks_per_second
        )?;
    }
    Ok(ExitCode::SUCCESS)
}
