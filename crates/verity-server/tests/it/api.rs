//! The JSON API: answers equal to the embedded engine's, errors with fitting statuses.

use serde_json::json;
use verity_engine::SearchOptions;

use crate::common::Running;

#[test]
fn search_answers_as_the_engine_does_with_highlights() {
    let s = Running::start(|_| {});
    let (status, r) = s.search("Result<T, E>");
    assert_eq!(status, 200, "{r}");
    let hits = r["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["path"], "src/main.rs");
    let line = &hits[0]["lines"][0];
    assert_eq!(line["line"], 4);
    // The highlight is the literal's byte range in the line.
    let text = line["text"].as_str().unwrap();
    let [a, b] = [&line["spans"][0][0], &line["spans"][0][1]].map(|v| v.as_u64().unwrap() as usize);
    assert_eq!(&text[a..b], "Result<T, E>");

    // The same JSON as the engine's own answer (but the time it took).
    let index = verity_engine::CodeIndex::open(&s.index).unwrap();
    for query in [
        "unwrap",
        "fn",
        "/fn\\s+\\w+/",
        "lock NEAR/1 unwrap",
        "vector:start the program",
    ] {
        let (status, mut served) = s.search(query);
        assert_eq!(status, 200, "{query}: {served}");
        let opts = SearchOptions {
            limit: Some(100),
            max_lines_per_file: Some(20),
            ..SearchOptions::default()
        };
        // Through text, as the server sends it (an f32 score reads back as its shortest form).
        let own = serde_json::to_string(&index.search(query, &opts).unwrap()).unwrap();
        let mut own: serde_json::Value = serde_json::from_str(&own).unwrap();
        served["elapsed_ms"] = json!(0);
        own["elapsed_ms"] = json!(0);
        assert_eq!(served, own, "{query}");
    }
    // Non-ASCII: spans are byte offsets on character boundaries.
    let (_, r) = s.search("café");
    let line = &r["hits"][0]["lines"][0];
    let text = line["text"].as_str().unwrap();
    let [a, b] = [&line["spans"][0][0], &line["spans"][0][1]].map(|v| v.as_u64().unwrap() as usize);
    assert_eq!(&text[a..b], "café");

    // files_only and limit.
    let (status, r) = s.post(
        "/api/search",
        &json!({"query": "fn", "files_only": true, "limit": 1}).to_string(),
    );
    assert_eq!(status, 200);
    assert_eq!(r["hits"].as_array().unwrap().len(), 1);
    assert_eq!(r["hits"][0]["lines"], json!([]));
}

#[test]
fn user_errors_are_json_with_the_status_that_fits() {
    let s = Running::start(|c| {
        c.max_body_bytes = 1024;
        c.max_query_bytes = 100;
    });
    let error = |status: u16, r: &serde_json::Value, kind: &str| {
        assert_eq!(r["error"]["kind"], kind, "{r}");
        assert!(!r["error"]["message"].as_str().unwrap().is_empty());
        status
    };
    // A query the language refuses: 400 with its column.
    let (st, r) = s.search("regex:fn(");
    assert_eq!(error(st, &r, "query"), 400);
    assert!(r["error"]["column"].as_u64().unwrap() >= 1, "{r}");
    // Bodies that are not the request.
    let (st, r) = s.post("/api/search", "{\"query\": ");
    assert_eq!(error(st, &r, "bad_request"), 400);
    let (st, r) = s.post("/api/search", "{\"query\": \"x\", \"limt\": 3}");
    assert_eq!(error(st, &r, "bad_request"), 400);
    assert!(
        r["error"]["message"].as_str().unwrap().contains("limt"),
        "{r}"
    );
    let (st, r) = s.post("/api/search", "{\"query\": \"x\", \"limit\": 0}");
    assert_eq!(error(st, &r, "bad_request"), 400);
    let (st, r) = s.post("/api/search", "{\"query\": \"x\", \"timeout_ms\": 0}");
    assert_eq!(error(st, &r, "bad_request"), 400);
    // Past the limits.
    let (st, r) = s.search(&"x".repeat(101));
    assert_eq!(error(st, &r, "bad_request"), 400);
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("101 bytes"),
        "{r}"
    );
    let (st, r) = s.post(
        "/api/search",
        &json!({"query": "y".repeat(2000)}).to_string(),
    );
    assert_eq!(error(st, &r, "too_large"), 413);
    // No such endpoint or file.
    let (st, body) = s.get("/api/nothing");
    assert_eq!(st, 404);
    assert!(body.contains("not_found"), "{body}");
    let (st, body) = s.get("/api/file?path=no/such.rs");
    assert_eq!(st, 404);
    assert!(body.contains("no/such.rs"), "{body}");
    let (st, _) = s.get("/api/file");
    assert_eq!(st, 400);
    // None of that was a server error.
    let stats: serde_json::Value = serde_json::from_str(&s.get("/api/stats").1).unwrap();
    let responses = stats["metrics"]["responses"].as_object().unwrap();
    assert!(responses.keys().all(|k| !k.starts_with('5')), "{stats}");
}

#[test]
fn a_full_server_refuses_with_503_and_retry_after() {
    let s = Running::start(|c| {
        c.max_concurrent = 1;
        c.max_queued = 0;
    });
    // Take the only slot, as a long search would.
    let slot = s.hold_slot();
    let mut r = Running::agent()
        .post(&format!("{}/api/search", s.url))
        .send(r#"{"query": "fn"}"#)
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(r.headers().get("retry-after").unwrap(), "1");
    let body: serde_json::Value =
        serde_json::from_str(&r.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(body["error"]["kind"], "overloaded");
    drop(slot);
    assert_eq!(s.search("fn").0, 200);
}

#[test]
fn file_health_stats_metrics_and_the_protocol() {
    let s = Running::start(|_| {});
    let (st, body) = s.get("/api/file?path=src/lib.rs");
    assert_eq!(st, 200);
    let f: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(f["text"].as_str().unwrap().starts_with("pub fn run()"));

    let (st, body) = s.get("/api/health");
    assert_eq!(st, 200);
    let h: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (h["status"].as_str(), h["files"].as_u64()),
        (Some("ok"), Some(4))
    );

    // The backend protocol: the handshake, then one request.
    let (st, body) = s.get("/api/protocol");
    assert_eq!(st, 200);
    let hs: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(hs["protocol"], 1);
    assert_eq!(hs["engine"], "verity-engine");
    let (st, r) = s.post(
        "/api/protocol",
        &json!({"id": "c1", "query": "unwrap", "query_type": "SpecialCharacters", "corpus": "/"})
            .to_string(),
    );
    assert_eq!(st, 200);
    assert_eq!(r["id"], "c1");
    let paths: Vec<&str> = r["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["path"].as_str().unwrap())
        .collect();
    // Ranked by BM25: the shorter file first (11 words against 13; symbols do not count).
    assert_eq!(paths, ["src/lib.rs", "src/main.rs"]);

    for q in ["fn", "unwrap", "regex:fn("] {
        s.search(q);
    }
    let stats: serde_json::Value = serde_json::from_str(&s.get("/api/stats").1).unwrap();
    // Two searches and one protocol request answered 200; one search 400.
    assert_eq!(stats["metrics"]["queries_served"], 3, "{stats}");
    assert_eq!(stats["metrics"]["latency_ms"]["count"], 4, "{stats}");
    assert_eq!(stats["files"], 4);
    let (st, metrics) = s.get("/metrics");
    assert_eq!(st, 200);
    assert!(
        metrics.contains("verity_http_requests_total{endpoint=\"search\",status=\"200\"} 2\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("verity_http_requests_total{endpoint=\"search\",status=\"400\"} 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("verity_search_duration_seconds_count 4\n"),
        "{metrics}"
    );
    assert!(metrics.contains("verity_index_files 4\n"), "{metrics}");

    // The page is self-contained: no external asset.
    let (st, page) = s.get("/");
    assert_eq!(st, 200);
    assert!(page.contains("<input id=\"q\""));
    for external in ["src=\"http", "href=\"http", "@import", "url(http"] {
        assert!(!page.contains(external), "{external}");
    }
}

/// Found on 3,247 files of real code: `//` matches almost every line of every file, and its
/// protocol answer (every matching line, for the content rules) passed the HTTP client's
/// default 10 MiB limit, so three cases errored. An answer of any size must arrive whole.
#[test]
fn protocol_answers_larger_than_ten_mib_arrive_whole() {
    use verity_validation::backend::{BackendQuery, SearchBackend};
    use verity_validation::http::HttpBackend;
    let s = Running::start(|_| {});
    // 4 files of 3 MiB, every line a match: an answer of about 13 MiB.
    let line = format!("// {}\n", "x".repeat(60));
    let text = line.repeat(3 * 1024 * 1024 / line.len());
    for n in 0..4 {
        std::fs::write(s.root.path().join(format!("big{n}.rs")), &text).unwrap();
    }
    let opts = verity_engine::BuildOptions {
        threads: 1,
        vectors: None,
        rebuild: true,
        ..verity_engine::BuildOptions::default()
    };
    verity_engine::CodeIndex::build(s.root.path(), &s.index, &opts).unwrap();
    s.state.index.refresh().unwrap();
    let backend = HttpBackend::connect(
        &format!("{}/api/protocol", s.url),
        s.root.path(),
        std::time::Duration::from_secs(10),
    )
    .unwrap();
    let q = BackendQuery {
        id: "big",
        query: "//",
        query_type: verity_validation::QueryType::SpecialCharacters,
        k: None,
    };
    let r = backend
        .search(&q, &verity_engine::Deadline::none())
        .unwrap();
    let lines: usize = r.hits.iter().map(|h| h.lines.len()).sum();
    let bytes: usize = r
        .hits
        .iter()
        .flat_map(|h| &h.lines)
        .map(|(_, t)| t.len())
        .sum();
    assert!(bytes > 10 * 1024 * 1024, "{bytes}");
    // Every line of the four files, and the comment of src/cafe.rs.
    assert_eq!(lines, 4 * text.lines().count() + 1);
}
