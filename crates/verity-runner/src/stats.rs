//! Statistics of a run, computed from its results alone (so they cannot disagree with them).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::job::{ExecutionResult, JobStatus};

/// Counts per category (query type).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CategoryStats {
    /// Jobs of the category.
    pub total: usize,
    /// Passed, flaky included.
    pub passed: usize,
    /// Ran and answered wrong.
    pub failed: usize,
    /// Could not run.
    pub errored: usize,
    /// Ran out of time.
    pub timed_out: usize,
    /// Never finished: the run stopped first.
    pub cancelled: usize,
    /// The backend cannot express the case.
    pub unsupported: usize,
    /// Passed after an error.
    pub flaky: usize,
    /// Median job duration, ms.
    pub p50_ms: f64,
    /// 95th percentile job duration, ms.
    pub p95_ms: f64,
}

/// Everything measured about a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExecutionStats {
    /// total = passed + failed + errored + timed_out + cancelled + unsupported.
    pub total: usize,
    /// Passed, flaky included.
    pub passed: usize,
    /// Ran and answered wrong.
    pub failed: usize,
    /// Could not run.
    pub errored: usize,
    /// Ran out of time.
    pub timed_out: usize,
    /// Never finished: the run stopped first.
    pub cancelled: usize,
    /// Cases the backend cannot express.
    pub unsupported: usize,
    /// Passed after an error (a subset of `passed`).
    pub flaky: usize,
    /// Attempts beyond the first.
    pub retries: usize,
    /// Median job duration (all attempts), ms.
    pub p50_ms: f64,
    /// 95th percentile job duration, ms.
    pub p95_ms: f64,
    /// 99th percentile job duration, ms.
    pub p99_ms: f64,
    /// Longest job duration, ms.
    pub max_ms: f64,
    /// Mean duration of a job that ran to an end (all its attempts), ms.
    pub mean_job_ms: f64,
    /// The same counts and percentiles per category (query type).
    pub per_category: BTreeMap<String, CategoryStats>,
    /// Times the monitor lowered concurrency.
    pub throttle_events: usize,
    /// Lowest concurrency limit reached.
    pub min_concurrency: usize,
    /// Wall time of the runs, ms (summed when the executor ran several times).
    pub wall_time_ms: f64,
    /// Finished jobs per second of wall time.
    pub throughput: f64,
    /// Busy time per worker, ms: how well the load was balanced.
    pub worker_busy_ms: Vec<f64>,
    /// Attempts that outlived their timeout and were still running on their executor thread.
    pub abandoned_attempts: usize,
    /// The most attempts whose validator ran at the same moment (measured on the executors,
    /// hung attempts included): the bound `max_concurrent_tests` held if this is within it.
    pub peak_concurrency: usize,
}

/// The statistics under the names of the design Verity grew from, measured like the richer
/// fields of [`ExecutionStats`] (never derived from the configuration).
#[derive(Debug, Clone, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct SeedStats {
    /// Every job of the run.
    pub total_jobs: usize,
    /// Jobs that ran to an end: all but the cancelled and the unsupported.
    pub completed_jobs: usize,
    /// Completed jobs that did not pass: failed, errored or timed out.
    pub failed_jobs: usize,
    /// Mean duration of a completed job (all its attempts), in milliseconds.
    pub average_execution_time: f64,
    /// The most attempts that ran at the same moment.
    pub peak_concurrent_jobs: usize,
    /// Completed jobs per second of wall time.
    pub throughput_per_second: f64,
    /// Attempts beyond the first, over all jobs.
    pub total_retries: usize,
}

/// Nearest-rank percentile of sorted values.
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

impl ExecutionStats {
    /// These statistics under the seed design's names.
    pub fn seed(&self) -> SeedStats {
        let completed = self.total - self.cancelled - self.unsupported;
        SeedStats {
            total_jobs: self.total,
            completed_jobs: completed,
            failed_jobs: self.failed + self.errored + self.timed_out,
            average_execution_time: self.mean_job_ms,
            peak_concurrent_jobs: self.peak_concurrency,
            throughput_per_second: if self.wall_time_ms > 0.0 {
                completed as f64 / (self.wall_time_ms / 1000.0)
            } else {
                0.0
            },
            total_retries: self.retries,
        }
    }

    /// Counts and latencies from results; run-level figures are filled in by the executor.
    pub fn from_results<O>(results: &[ExecutionResult<O>]) -> ExecutionStats {
        let mut s = ExecutionStats {
            total: results.len(),
            ..Default::default()
        };
        let mut all = Vec::new();
        let mut by_cat: BTreeMap<String, (CategoryStats, Vec<f64>)> = BTreeMap::new();
        for r in results {
            let (c, lat) = by_cat.entry(r.category.clone()).or_default();
            c.total += 1;
            match r.status {
                JobStatus::Passed => {
                    s.passed += 1;
                    c.passed += 1;
                }
                JobStatus::Failed => {
                    s.failed += 1;
                    c.failed += 1;
                }
                JobStatus::Errored => {
                    s.errored += 1;
                    c.errored += 1;
                }
                JobStatus::TimedOut => {
                    s.timed_out += 1;
                    c.timed_out += 1;
                }
                JobStatus::Cancelled => {
                    s.cancelled += 1;
                    c.cancelled += 1;
                }
                JobStatus::Unsupported => {
                    s.unsupported += 1;
                    c.unsupported += 1;
                }
            }
            if r.flaky {
                s.flaky += 1;
                c.flaky += 1;
            }
            s.retries += r.attempts.len().saturating_sub(1);
            if let Some(last) = r.attempts.last() {
                all.push(last.duration_ms);
                lat.push(last.duration_ms);
            }
        }
        let ended: Vec<f64> = results
            .iter()
            .filter(|r| !matches!(r.status, JobStatus::Cancelled | JobStatus::Unsupported))
            .map(|r| r.duration_ms)
            .collect();
        s.mean_job_ms = if ended.is_empty() {
            0.0
        } else {
            ended.iter().sum::<f64>() / ended.len() as f64
        };
        all.sort_by(f64::total_cmp);
        s.p50_ms = percentile(&all, 50.0);
        s.p95_ms = percentile(&all, 95.0);
        s.p99_ms = percentile(&all, 99.0);
        s.max_ms = all.last().copied().unwrap_or(0.0);
        for (k, (mut c, mut lat)) in by_cat {
            lat.sort_by(f64::total_cmp);
            c.p50_ms = percentile(&lat, 50.0);
            c.p95_ms = percentile(&lat, 95.0);
            s.per_category.insert(k, c);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&v, 50.0), 50.0);
        assert_eq!(percentile(&v, 95.0), 95.0);
        assert_eq!(percentile(&v, 99.0), 99.0);
        assert_eq!(percentile(&v, 100.0), 100.0);
        assert_eq!(percentile(&[7.0], 50.0), 7.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }
}
