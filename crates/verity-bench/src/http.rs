//! `verity bench search --http URL`: the same queries through a `verity serve` over HTTP,
//! beside the in-process figures.
//!
//! 1. **Latency**: each query, one at a time on a kept-alive connection, in the best-N mode;
//!    the answer's files must equal the in-process search's.
//! 2. **Load**: an open-loop schedule at `--http-rate` requests per second for
//!    `--http-seconds`, sent by `--clients` concurrent clients driven by the parallel execution
//!    engine. Each request's latency is measured from the time it was *meant* to be sent, so a
//!    server that falls behind is charged for the requests that waited (no coordinated
//!    omission, as wrk2 measures). Every scheduled request is sent: a request not answered 200
//!    is an error, and none is dropped silently. The server's memory is read from
//!    `/api/stats` before and after.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;
use verity_engine::Deadline;
use verity_runner::{JobError, ParallelConfig, ParallelExecutor, TestPriority, Validator, Verdict};

use crate::error::BenchError;
use crate::stats::Latency;

/// What `--http` measured.
#[derive(Debug, Serialize)]
pub struct HttpFigures {
    /// The server.
    pub url: String,
    /// One query at a time, best-N mode: latency over every run, ms.
    pub serial: Latency,
    /// Of each of those runs, the time outside the engine's search (its `elapsed_ms`):
    /// HTTP, JSON both ways, admission, the blocking pool. What serving adds, apart from how
    /// long a search itself takes.
    pub serial_overhead: Latency,
    /// Queries whose HTTP answer listed the same files, in the same order, as in-process.
    pub same_answers: String,
    /// The open-loop load phase.
    pub load: LoadFigures,
}

/// The open-loop load phase.
#[derive(Debug, Serialize)]
pub struct LoadFigures {
    /// Concurrent clients sending the schedule.
    pub clients: usize,
    /// Requests per second scheduled.
    pub rate_per_second: f64,
    /// How long the schedule lasts.
    pub seconds: f64,
    /// Requests scheduled (all are sent).
    pub scheduled: usize,
    /// Requests answered `200 OK`.
    pub answered_200: usize,
    /// Requests not answered `200 OK` (errors, refusals, timeouts).
    pub errors: usize,
    /// Latency from each request's intended send time, ms.
    pub latency: Latency,
    /// Answers per second actually achieved.
    pub achieved_per_second: f64,
    /// The server's resident memory read every 5 s during the load (Linux), from its start
    /// to its end: flat memory is a series that levels off.
    pub server_rss_samples_bytes: Vec<u64>,
    /// The server's resident memory before the load (Linux).
    pub server_rss_before_bytes: Option<u64>,
    /// The server's resident memory after the load (Linux).
    pub server_rss_after_bytes: Option<u64>,
    /// The server's peak resident memory (Linux).
    pub server_peak_rss_bytes: Option<u64>,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_idle_connections_per_host(256)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

/// An answer to `POST /api/search`.
struct Answer {
    status: u16,
    /// The hits' paths (200 only).
    paths: Vec<String>,
    /// The engine's own time for the search, as the answer reports it (200 only).
    engine_ms: f64,
}

/// `POST /api/search`.
fn search(agent: &ureq::Agent, url: &str, query: &str, limit: usize) -> Result<Answer, String> {
    let body = json!({ "query": query, "limit": limit, "max_lines": 20 }).to_string();
    let mut r = agent
        .post(&format!("{url}/api/search"))
        .header("content-type", "application/json")
        .send(&body)
        .map_err(|e| format!("POST {url}/api/search: {e}"))?;
    let status = r.status().as_u16();
    let text = r.body_mut().read_to_string().map_err(|e| e.to_string())?;
    if status != 200 {
        return Ok(Answer {
            status,
            paths: Vec::new(),
            engine_ms: 0.0,
        });
    }
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| e.to_string())?;
    let paths = v["hits"]
        .as_array()
        .map(|hs| {
            hs.iter()
                .filter_map(|h| h["path"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    Ok(Answer {
        status,
        paths,
        engine_ms: v["elapsed_ms"].as_f64().unwrap_or(0.0),
    })
}

/// The server's `memory` figures from `/api/stats`: (resident, peak).
fn server_memory(agent: &ureq::Agent, url: &str) -> (Option<u64>, Option<u64>) {
    let Ok(mut r) = agent.get(&format!("{url}/api/stats")).call() else {
        return (None, None);
    };
    let v: serde_json::Value = r
        .body_mut()
        .read_to_string()
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    (
        v["memory"]["rss_bytes"].as_u64(),
        v["memory"]["peak_rss_bytes"].as_u64(),
    )
}

/// One scheduled request: sleeps until its intended time, sends, records the latency from
/// that time.
struct Scheduled {
    url: String,
    agent: ureq::Agent,
    start: Instant,
    limit: usize,
    latencies: Mutex<Vec<f64>>,
    errors: Mutex<Vec<String>>,
}

impl Validator for Scheduled {
    /// (intended offset from the start, query).
    type Case = (Duration, String);
    type Output = ();

    fn case_id(&self, c: &(Duration, String)) -> String {
        format!("{:?}", c.0)
    }

    fn category(&self, _: &(Duration, String)) -> String {
        "http".into()
    }

    fn priority(&self, _: &(Duration, String)) -> TestPriority {
        TestPriority::Normal
    }

    fn validate(&self, c: &(Duration, String), _: &Deadline) -> Result<Verdict<()>, JobError> {
        let intended = self.start + c.0;
        if let Some(wait) = intended.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let answer = search(&self.agent, &self.url, &c.1, self.limit);
        let ms = intended.elapsed().as_secs_f64() * 1000.0;
        self.latencies.lock().unwrap().push(ms);
        match answer {
            Ok(a) if a.status == 200 => {}
            Ok(a) => self
                .errors
                .lock()
                .unwrap()
                .push(format!("status {}", a.status)),
            Err(e) => self.errors.lock().unwrap().push(e),
        }
        Ok(Verdict {
            passed: true,
            output: (),
        })
    }
}

/// Runs both phases against the server at `url`; `expected` holds each query's in-process
/// best-N files.
pub fn measure(
    url: &str,
    queries: &[(String, Vec<String>)],
    iterations: usize,
    limit: usize,
    clients: usize,
    rate: f64,
    seconds: f64,
) -> Result<HttpFigures, BenchError> {
    let url = url.trim_end_matches('/').to_string();
    let a = agent();
    // Latency, one at a time; the first run of each query checks the answer.
    let (mut times, mut overhead) = (Vec::new(), Vec::new());
    let mut same = 0;
    for (query, expected) in queries {
        for i in 0..iterations.max(1) + 1 {
            let t = Instant::now();
            let answer = search(&a, &url, query, limit).map_err(BenchError::input)?;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            if answer.status != 200 {
                return Err(BenchError::input(format!(
                    "{url}: {query:?} answered {}",
                    answer.status
                )));
            }
            match i {
                // A warm-up run, and the answer check.
                0 => same += usize::from(&answer.paths == expected),
                _ => {
                    times.push(ms);
                    overhead.push((ms - answer.engine_ms).max(0.0));
                }
            }
        }
    }
    let serial = crate::stats::latency(&mut times);
    let serial_overhead = crate::stats::latency(&mut overhead);

    // Load: an open-loop schedule.
    if !(rate > 0.0 && rate.is_finite() && seconds > 0.0 && seconds.is_finite()) {
        return Err(BenchError::input(
            "--http-rate and --http-seconds must be positive",
        ));
    }
    let scheduled = (rate * seconds).round().max(1.0) as usize;
    let (rss_before, _) = server_memory(&a, &url);
    let job = Arc::new(Scheduled {
        url: url.clone(),
        agent: agent(),
        start: Instant::now() + Duration::from_millis(100),
        limit,
        latencies: Mutex::new(Vec::with_capacity(scheduled)),
        errors: Mutex::new(Vec::new()),
    });
    let cases: Vec<(Duration, String)> = (0..scheduled)
        .map(|i| {
            (
                Duration::from_secs_f64(i as f64 / rate),
                queries[i % queries.len()].0.clone(),
            )
        })
        .collect();
    let cfg = ParallelConfig {
        max_concurrent_tests: clients.max(1),
        retry_attempts: 0,
        resource_monitoring: false,
        test_timeout_seconds: seconds + 60.0,
        ..ParallelConfig::default()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| BenchError::input(format!("async runtime: {e}")))?;
    let mut ex = ParallelExecutor::new(cfg, job.clone());
    ex.add_test_cases(cases);
    // The server's memory, every 5 s while the load runs.
    let (done, stop) = std::sync::mpsc::channel::<()>();
    let sampler = {
        let (a, url) = (agent(), url.clone());
        std::thread::spawn(move || {
            let mut samples = Vec::new();
            loop {
                samples.extend(server_memory(&a, &url).0);
                match stop.recv_timeout(Duration::from_secs(5)) {
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                    _ => return samples,
                }
            }
        })
    };
    rt.block_on(ex.execute_all());
    let _ = done.send(());
    let samples = sampler.join().unwrap_or_default();
    let elapsed = job.start.elapsed().as_secs_f64();
    let (rss_after, peak) = server_memory(&a, &url);
    let mut lat = std::mem::take(&mut *job.latencies.lock().unwrap());
    let errors = job.errors.lock().unwrap().len();
    let sent = lat.len();
    if sent != scheduled {
        return Err(BenchError::input(format!(
            "only {sent} of {scheduled} scheduled requests were sent"
        )));
    }
    Ok(HttpFigures {
        url,
        serial,
        serial_overhead,
        same_answers: format!("{same}/{}", queries.len()),
        load: LoadFigures {
            clients,
            rate_per_second: rate,
            seconds,
            scheduled,
            answered_200: sent - errors,
            errors,
            latency: crate::stats::latency(&mut lat),
            achieved_per_second: (sent - errors) as f64 / elapsed.max(1e-9),
            server_rss_samples_bytes: samples,
            server_rss_before_bytes: rss_before,
            server_rss_after_bytes: rss_after,
            server_peak_rss_bytes: peak,
        },
    })
}
