//! What the server counts: requests by endpoint and status, and search latencies, exposed as
//! JSON (`/api/stats`) and in Prometheus's text format (`/metrics`).

use std::collections::{BTreeMap, VecDeque};
use std::fmt::Write;
use std::sync::Mutex;
use std::time::Duration;

/// Upper bounds of the latency histogram's buckets, in seconds (Prometheus's convention).
const BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0,
];

/// How many recent search latencies the percentiles in `/api/stats` are computed over.
pub const WINDOW: usize = 10_000;

/// The counters, behind one lock: each request updates them once, after it is answered.
#[derive(Debug, Default)]
pub struct Metrics {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// (endpoint, status) → requests answered.
    requests: BTreeMap<(&'static str, u16), u64>,
    /// Searches answered (any status), per histogram bucket (the last is +Inf).
    buckets: [u64; BUCKETS.len() + 1],
    latency_sum: f64,
    latency_count: u64,
    /// The last [`WINDOW`] search latencies, in milliseconds.
    recent: VecDeque<f64>,
    reloads: u64,
    reload_failures: u64,
}

/// Latency percentiles over the recent window, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Percentiles {
    /// How many latencies they are computed over.
    pub count: usize,
    /// The median.
    pub p50: f64,
    /// The 95th percentile (nearest rank).
    pub p95: f64,
    /// The 99th percentile (nearest rank).
    pub p99: f64,
    /// The slowest.
    pub max: f64,
}

/// A snapshot of the counters for `/api/stats`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Snapshot {
    /// Searches answered with 200 (the search API and the backend protocol).
    pub queries_served: u64,
    /// Requests answered, by status.
    pub responses: BTreeMap<u16, u64>,
    /// Search latency, arrival to answer, over the last searches.
    pub latency_ms: Option<Percentiles>,
    /// New index generations picked up, and attempts that failed.
    pub reloads: u64,
    /// Generations that could not be opened (each failure counted once until it changes).
    pub reload_failures: u64,
}

/// The endpoints that run searches: their latencies make the histogram.
const SEARCH_ENDPOINTS: [&str; 2] = ["search", "protocol"];

impl Metrics {
    /// Records one answered request.
    pub fn record(&self, endpoint: &'static str, status: u16, took: Duration) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        *m.requests.entry((endpoint, status)).or_default() += 1;
        if SEARCH_ENDPOINTS.contains(&endpoint) {
            let secs = took.as_secs_f64();
            let bucket = BUCKETS
                .iter()
                .position(|&b| secs <= b)
                .unwrap_or(BUCKETS.len());
            m.buckets[bucket] += 1;
            m.latency_sum += secs;
            m.latency_count += 1;
            if m.recent.len() == WINDOW {
                m.recent.pop_front();
            }
            m.recent.push_back(secs * 1000.0);
        }
    }

    /// Records an attempt to pick up a new index generation.
    pub fn record_reload(&self, ok: bool) {
        let mut m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if ok {
            m.reloads += 1;
        } else {
            m.reload_failures += 1;
        }
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        let m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut responses = BTreeMap::new();
        let mut queries_served = 0;
        for (&(endpoint, status), &n) in &m.requests {
            *responses.entry(status).or_default() += n;
            if status == 200 && SEARCH_ENDPOINTS.contains(&endpoint) {
                queries_served += n;
            }
        }
        Snapshot {
            queries_served,
            responses,
            latency_ms: percentiles(m.recent.iter().copied().collect()),
            reloads: m.reloads,
            reload_failures: m.reload_failures,
        }
    }

    /// The counters in Prometheus's text exposition format, with `gauges` (name, help,
    /// value) appended.
    pub fn prometheus(&self, gauges: &[(&str, &str, f64)]) -> String {
        let m = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let mut out = String::new();
        out.push_str("# HELP verity_http_requests_total HTTP requests answered, by endpoint and status.\n# TYPE verity_http_requests_total counter\n");
        for (&(endpoint, status), &n) in &m.requests {
            let _ = writeln!(
                out,
                "verity_http_requests_total{{endpoint=\"{endpoint}\",status=\"{status}\"}} {n}"
            );
        }
        out.push_str("# HELP verity_search_duration_seconds Search latency, arrival to answer.\n# TYPE verity_search_duration_seconds histogram\n");
        let mut cumulative = 0;
        for (i, n) in m.buckets.iter().enumerate() {
            cumulative += n;
            let le = BUCKETS.get(i).map_or("+Inf".to_string(), |b| b.to_string());
            let _ = writeln!(
                out,
                "verity_search_duration_seconds_bucket{{le=\"{le}\"}} {cumulative}"
            );
        }
        let _ = writeln!(out, "verity_search_duration_seconds_sum {}", m.latency_sum);
        let _ = writeln!(
            out,
            "verity_search_duration_seconds_count {}",
            m.latency_count
        );
        out.push_str("# HELP verity_index_reloads_total New index generations picked up.\n# TYPE verity_index_reloads_total counter\n");
        let _ = writeln!(out, "verity_index_reloads_total {}", m.reloads);
        out.push_str("# HELP verity_index_reload_failures_total Generations that could not be opened.\n# TYPE verity_index_reload_failures_total counter\n");
        let _ = writeln!(
            out,
            "verity_index_reload_failures_total {}",
            m.reload_failures
        );
        for (name, help, value) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {value}"
            );
        }
        out
    }
}

/// Nearest-rank percentiles of `ms`; none for no latencies.
fn percentiles(mut ms: Vec<f64>) -> Option<Percentiles> {
    if ms.is_empty() {
        return None;
    }
    ms.sort_unstable_by(f64::total_cmp);
    let at = |p: f64| ms[((p * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1];
    Some(Percentiles {
        count: ms.len(),
        p50: at(0.50),
        p95: at(0.95),
        p99: at(0.99),
        max: ms[ms.len() - 1],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let p = percentiles((1..=100).map(f64::from).collect()).unwrap();
        assert_eq!(
            (p.count, p.p50, p.p95, p.p99, p.max),
            (100, 50.0, 95.0, 99.0, 100.0)
        );
        let one = percentiles(vec![7.0]).unwrap();
        assert_eq!((one.p50, one.p99), (7.0, 7.0));
        assert!(percentiles(Vec::new()).is_none());
    }

    #[test]
    fn counts_reach_stats_and_prometheus() {
        let m = Metrics::default();
        m.record("search", 200, Duration::from_millis(3));
        m.record("search", 400, Duration::from_micros(100));
        m.record("protocol", 200, Duration::from_secs(30));
        m.record("health", 200, Duration::from_micros(10));
        let s = m.snapshot();
        assert_eq!(s.queries_served, 2);
        assert_eq!(s.responses[&200], 3);
        assert_eq!(s.latency_ms.unwrap().count, 3);
        let text = m.prometheus(&[("verity_index_generation", "The generation served.", 4.0)]);
        assert!(text.contains("verity_http_requests_total{endpoint=\"search\",status=\"400\"} 1"));
        // Cumulative buckets: 100 µs ≤ 0.5 ms; 3 ms ≤ 5 ms; 30 s only in +Inf.
        assert!(text.contains("verity_search_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
        assert!(text.contains("verity_search_duration_seconds_bucket{le=\"0.005\"} 2\n"));
        assert!(text.contains("verity_search_duration_seconds_bucket{le=\"10\"} 2\n"));
        assert!(text.contains("verity_search_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("verity_search_duration_seconds_count 3\n"));
        assert!(text.contains("verity_index_generation 4\n"));
    }
}
