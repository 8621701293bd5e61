//! Medians and latency percentiles: how every benchmark summarises its timed runs.

use serde::Serialize;
use verity_runner::stats::percentile;

/// The median of `xs` (sorted in place); NaN when empty.
pub fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Latency percentiles of a set of timed runs, ms.
#[derive(Debug, Clone, Serialize)]
pub struct Latency {
    /// Timed runs.
    pub runs: usize,
    /// Median.
    pub p50_ms: f64,
    /// 95th percentile.
    pub p95_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// The slowest run.
    pub max_ms: f64,
}

/// The percentiles of `times` (sorted in place).
pub fn latency(times: &mut [f64]) -> Latency {
    times.sort_by(f64::total_cmp);
    Latency {
        runs: times.len(),
        p50_ms: percentile(times, 50.0),
        p95_ms: percentile(times, 95.0),
        p99_ms: percentile(times, 99.0),
        max_ms: times.last().copied().unwrap_or(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&mut [3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&mut [4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn latency_percentiles_come_from_the_sorted_runs() {
        let mut t: Vec<f64> = (1..=100).rev().map(f64::from).collect();
        let l = latency(&mut t);
        assert_eq!((l.runs, l.max_ms), (100, 100.0));
        assert!(l.p50_ms >= 50.0 && l.p50_ms <= 51.0, "{l:?}");
        assert!(l.p99_ms >= 99.0, "{l:?}");
    }
}
