//! `verity bench search` and `verity corpus synth`, end to end on small inputs. Timings are
//! not asserted (they are measurements, not behaviour); the structure and the comparisons are.

use crate::common::*;
use std::path::{Path, PathBuf};
use verity_testkit::rg;

/// `verity bench search --json` over the sample corpus and benches/queries/mixed.txt,
/// `iterations` timed runs per query and no warm-up, with `extra` flags.
fn quick_bench(iterations: &str, extra: &[&str]) -> std::process::Output {
    let (corpus, queries) = (sample(), repo().join("benches/queries/mixed.txt"));
    let mut args = vec![
        "bench",
        "search",
        "--corpus",
        corpus.to_str().unwrap(),
        "--queries",
        queries.to_str().unwrap(),
        "--iterations",
        iterations,
        "--warmup",
        "0",
        "--json",
    ];
    args.extend_from_slice(extra);
    verity(&args)
}

#[test]
fn bench_search_reports_builds_latency_throughput_targets_and_rg() {
    let tmp = tempfile::tempdir().unwrap();
    let html = tmp.path().join("bench.html");
    let o = quick_bench(
        "2",
        &[
            "--rg-iterations",
            "1",
            "--throughput-queries",
            "60",
            "--clients",
            "4",
            "--incremental",
            "--cold",
            "--cold-iterations",
            "1",
            "--html",
            html.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(r["files"], 17);
    // --cold: every query also ran as a process of its own, which printed the same files.
    for q in r["queries"].as_array().unwrap() {
        assert!(q["process_median_ms"].as_f64().unwrap() > 0.0, "{q}");
        // The process's own account of its time: opening and searching, within its wall time.
        let (open, search) = (
            q["process_open_ms"].as_f64().unwrap(),
            q["process_search_ms"].as_f64().unwrap(),
        );
        assert!(open > 0.0 && search >= 0.0, "{q}");
        assert!(
            open + search < q["process_median_ms"].as_f64().unwrap() * 2.0,
            "{q}"
        );
        assert_eq!(q["process_same_files"], true, "{q}");
    }
    assert!(r["process_median_of_medians_ms"].as_f64().unwrap() > 0.0);
    let builds = r["builds"].as_array().unwrap();
    assert_eq!(builds.len(), 2);
    assert_eq!(builds[0]["files_indexed"], 17);
    // 1% of 17 files, every 100th in path order: the first.
    assert_eq!(builds[1]["files_indexed"], 1);
    // Two modes (the best 10, every file); in each, every query type of the file has latency
    // figures, each from 2 runs per query, and a throughput.
    let modes = r["modes"].as_array().unwrap();
    let names: Vec<&str> = modes.iter().map(|m| m["mode"].as_str().unwrap()).collect();
    assert_eq!(names, ["best 10", "all files"]);
    for m in modes {
        let lat = m["latency"].as_object().unwrap();
        assert_eq!(lat.len(), 8, "{lat:?}");
        assert_eq!(lat["Proximity"]["runs"], 4);
        assert_eq!(m["overall"]["runs"], 2 * 26);
        assert!(m["queries_per_second"].as_f64().unwrap() > 0.0);
    }
    assert_eq!(r["throughput_queries"], 60);
    // The file count is the exact total, whatever the best-10 mode verified.
    let default_q = r["queries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["query"] == "lit:&mut self")
        .unwrap();
    assert!(default_q["files"].as_u64().unwrap() > 0);
    let targets = r["targets"].as_array().unwrap();
    // p50, p95, p99 and throughput per mode, and memory.
    assert_eq!(targets.len(), 9);
    assert_eq!(targets[0]["name"], "best 10: p50 < 50 ms");
    assert_eq!(targets[4]["name"], "all files: p50 < 50 ms");
    // 17 documents cannot show the 100,000-document memory target.
    assert_eq!(targets[8]["met"], serde_json::Value::Null);
    if rg::available() {
        // Every lit:/regex: query ran through rg and found the same files.
        let compared = r["queries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|q| q["same_files"] == true)
            .count();
        assert_eq!(r["identical_file_sets"], format!("{compared}/{compared}"));
        assert_eq!(compared, 12);
    }
    let page = std::fs::read_to_string(&html).unwrap();
    // A latency CDF per mode, and the speed-up over rg.
    assert_eq!(
        page.matches("<svg").count(),
        if rg::available() { 3 } else { 2 }
    );
}

/// codesearch as a peer: its index built in the same run (time and size reported), every
/// query it can express run through `csearch -l`, and its file sets equal Verity's on the
/// files both index (the rest are refused with the reason).
#[test]
fn bench_search_runs_codesearch_beside_verity() {
    if !have("cindex") {
        eprintln!("skipped: codesearch is not installed");
        return;
    }
    let o = quick_bench(
        "1",
        &[
            "--rg-iterations",
            "1",
            "--throughput-queries",
            "10",
            "--embedder",
            "none",
            "--peer",
            "csearch",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let build = &r["peer_build"];
    assert!(build["files"].as_u64().unwrap() >= 17, "{build}");
    assert!(build["index_bytes"].as_u64().unwrap() > 0, "{build}");
    let (mut ran, mut refused) = (0, 0);
    for q in r["queries"].as_array().unwrap() {
        let p = &q["peer"];
        if p["median_ms"].is_number() {
            ran += 1;
            assert_eq!(p["same_files"], true, "{q}");
            assert_eq!(p["unexplained"], 0, "{q}");
        } else {
            refused += 1;
            assert!(p["note"].as_str().is_some_and(|n| !n.is_empty()), "{q}");
        }
    }
    // Literals and regexes run; phrases, NEAR, AND and NOT cannot be one csearch.
    assert!(ran >= 10 && refused >= 4, "ran {ran}, refused {refused}");
    assert!(r["peer_median_speedup"].as_f64().unwrap() > 0.0);
}

/// `--http`: the queries through a running `verity serve` over the same index, one at a time
/// and as an open-loop load; every scheduled request is sent and answered.
#[test]
fn bench_search_measures_a_verity_serve_over_http() {
    let tmp = tempfile::tempdir().unwrap();
    let index = tmp.path().join("index");
    index_sample(&index);
    let (mut server, base) = serve(&index);
    let o = quick_bench(
        "1",
        &[
            "--index",
            index.to_str().unwrap(),
            "--no-rg",
            "--throughput-queries",
            "20",
            "--clients",
            "4",
            "--http",
            &base,
            "--http-rate",
            "40",
            "--http-seconds",
            "1",
        ],
    );
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let h = &r["http"];
    let n = r["queries"].as_array().unwrap().len();
    // The server answered every query with the files the in-process search found.
    assert_eq!(h["same_answers"], format!("{n}/{n}"), "{h}");
    assert_eq!(h["serial"]["runs"], n);
    // What serving adds is part of each request's time.
    assert_eq!(h["serial_overhead"]["runs"], n);
    assert!(
        h["serial_overhead"]["p50_ms"].as_f64().unwrap() <= h["serial"]["p50_ms"].as_f64().unwrap()
    );
    let load = &h["load"];
    assert_eq!(
        (load["scheduled"].as_u64(), load["answered_200"].as_u64()),
        (Some(40), Some(40)),
        "{load}"
    );
    assert_eq!(load["errors"], 0);
    assert_eq!(load["latency"]["runs"], 40);
    if cfg!(target_os = "linux") {
        assert!(
            load["server_peak_rss_bytes"].as_u64().unwrap() > 0,
            "{load}"
        );
    }
    let targets = r["targets"].as_array().unwrap();
    assert!(targets
        .iter()
        .any(|t| t["name"].as_str().unwrap().starts_with("HTTP load")));
}

#[test]
fn bench_search_input_errors() {
    let corpus = repo().join("sample-corpus");
    let o = verity(&["bench", "search", "--corpus", corpus.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("--queries FILE and --truth FILE"));
    let tmp = tempfile::tempdir().unwrap();
    let q = tmp.path().join("q.txt");
    std::fs::write(&q, "Nonsense\tlit:x\n").unwrap();
    let o = verity(&[
        "bench",
        "search",
        "--corpus",
        corpus.to_str().unwrap(),
        "--queries",
        q.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("q.txt:1: unknown query type `Nonsense`"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn corpus_synth_is_deterministic_and_refuses_a_non_empty_directory() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    for d in [&a, &b] {
        let o = verity(&[
            "corpus",
            "synth",
            "--files",
            "120",
            "--seed",
            "3",
            d.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        assert!(text(&o.stdout).starts_with("wrote 120 files"));
    }
    let list = |d: &Path| {
        let mut v: Vec<(String, Vec<u8>)> = walk(d)
            .into_iter()
            .map(|p| {
                (
                    p.strip_prefix(d).unwrap().display().to_string(),
                    std::fs::read(&p).unwrap(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let (la, lb) = (list(&a), list(&b));
    assert_eq!(la.len(), 120);
    assert_eq!(la, lb);
    assert_eq!(
        la.iter().filter(|(p, _)| p.ends_with(".rs")).count(),
        120 - 2 * 3
    );
    let o = verity(&["corpus", "synth", "--files", "5", a.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o.stderr).contains("not empty"));
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn bench_vector_sets_recall_against_queries_per_second() {
    let o = verity(&[
        "bench",
        "vector",
        "--chunks",
        "600",
        "--queries",
        "40",
        "--ef",
        "4,256",
        "--json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["chunks"].as_u64().unwrap() >= 500, "{v}");
    assert_eq!(v["embedder"], "hash-256");
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let recall = |i: usize| rows[i]["recall_at_k"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&recall(0)));
    // On 600 chunks a 256-wide search is all but exhaustive.
    assert!(recall(1) >= 0.97, "{v}");
    assert!(recall(1) >= recall(0), "{v}");
    assert!(rows
        .iter()
        .all(|r| r["queries_per_second"].as_f64().unwrap() > 0.0));
    let tp = v["throughput"].as_array().unwrap();
    assert_eq!(tp[0]["embedder"], "hash-256");
    assert!(tp[0]["chunks_per_second"].as_f64().unwrap() > 0.0);
    let o = verity(&["bench", "vector", "--ef", "0"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn bench_vector_measures_each_scalar_kind_against_the_embedders_vectors() {
    let mut sizes = Vec::new();
    for (kind, tolerance) in [("f32", 1e-6), ("f16", 1e-3), ("i8", 1e-6)] {
        let o = verity(&[
            "bench",
            "vector",
            "--chunks",
            "400",
            "--queries",
            "30",
            "--ef",
            "256",
            "--vector-scalar",
            kind,
            "--json",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["scalar"], kind);
        // Exact search finds the embedder's own nearest chunks and reports their similarity
        // as its f32 vectors give it: i8 is lossless for the hash embedder.
        assert_eq!(v["exact_recall_at_k"], 1.0, "{kind}: {v}");
        let error = v["max_similarity_error"].as_f64().unwrap();
        assert!(error <= tolerance, "{kind}: {error}");
        let vectors = v["vector_bytes"].as_u64().unwrap();
        assert!(vectors > 0 && v["text_bytes"].as_u64().unwrap() > 0, "{v}");
        sizes.push(vectors);
    }
    assert!(sizes[0] > sizes[1] && sizes[1] > sizes[2], "{sizes:?}");
}

#[test]
fn bench_semantic_scores_every_system_on_the_labelled_questions() {
    let o = verity(&["bench", "semantic", "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["questions"], 15);
    assert_eq!(v["judgements"], 20);
    let systems = v["systems"].as_array().unwrap();
    let names: Vec<&str> = systems
        .iter()
        .map(|s| s["system"].as_str().unwrap())
        .collect();
    assert_eq!(
        &names[..3],
        ["BM25", "hash-256 vector", "BM25 + hash-256 hybrid"]
    );
    // MiniLM rows appear exactly when the model is at hand.
    let with_model = std::env::var_os("VERITY_MINILM_DIR").is_some();
    assert_eq!(names.len(), if with_model { 5 } else { 3 }, "{names:?}");
    for s in systems {
        for m in ["ndcg_at_10", "mrr"] {
            let x = s[m].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&x), "{s}");
        }
    }
    // BM25 finds the answer to most of these questions: a broken pipeline scores near 0.
    assert!(systems[0]["mrr"].as_f64().unwrap() > 0.5, "{v}");
    let bad = repo().join("README.md");
    let o = verity(&["bench", "semantic", "--questions", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o.stderr).contains("README.md:3: expected ID<TAB>QUESTION"),
        "{}",
        text(&o.stderr)
    );
}

/// `verity bench runner` measures every workload, the engine's included, and prints a row per
/// comparison with its ratio and target.
#[test]
fn bench_runner_measures_every_workload_through_the_engine_too() {
    let o = verity(&[
        "bench",
        "runner",
        "--repetitions",
        "1",
        "--scale",
        "0.01",
        "--cases",
        "60",
    ]);
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", text(&o.stderr));
    for row in [
        "| a. no-op jobs",
        "| b. CPU-bound jobs",
        "| c. 10 ms latency-bound",
        "| e1. engine cases, --jobs 2 vs 1 |",
        "| e2. CPU time of e1",
        "| e3. median case latency",
    ] {
        let line = out
            .lines()
            .find(|l| l.starts_with(row))
            .unwrap_or_else(|| panic!("no row {row} in\n{out}"));
        // The ratio cell is a measured number.
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let ratio: f64 = cells[5]
            .split('×')
            .next()
            .and_then(|x| x.trim().split(' ').next())
            .and_then(|x| x.trim_end_matches('%').parse().ok())
            .unwrap_or_else(|| panic!("no number in {line}"));
        assert!(ratio.is_finite() && ratio > 0.0, "{line}");
    }
}
