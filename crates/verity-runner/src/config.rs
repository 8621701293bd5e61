//! Settings of a parallel run.

use std::collections::HashMap;
use std::time::Duration;

/// Delay before a retry.
#[derive(Debug, Clone, PartialEq)]
pub enum Backoff {
    /// The same delay before every retry.
    Fixed(Duration),
    /// `initial * factor^(retry - 1)`, at most `max`, with up to `jitter` (0..1) of it added
    /// at random so that retries of many jobs do not line up.
    Exponential {
        /// The delay before the first retry.
        initial: Duration,
        /// What each further retry multiplies the delay by.
        factor: f64,
        /// The longest delay.
        max: Duration,
        /// The largest fraction of the delay added at random (0 to 1).
        jitter: f64,
    },
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::Exponential {
            initial: Duration::from_millis(100),
            factor: 2.0,
            max: Duration::from_secs(5),
            jitter: 0.2,
        }
    }
}

impl Backoff {
    /// The delay before retry number `retry` (1-based); `unit` in [0, 1) draws the jitter.
    pub fn delay(&self, retry: u32, unit: f64) -> Duration {
        match self {
            Backoff::Fixed(d) => *d,
            Backoff::Exponential {
                initial,
                factor,
                max,
                jitter,
            } => {
                let base = initial.as_secs_f64() * factor.powi(retry.saturating_sub(1) as i32);
                let base = base.min(max.as_secs_f64());
                let with_jitter = base * (1.0 + jitter.clamp(0.0, 1.0) * unit.clamp(0.0, 1.0));
                Duration::from_secs_f64(with_jitter.min(max.as_secs_f64()))
            }
        }
    }
}

/// Settings of the [`crate::ParallelExecutor`]; the names follow the design Verity grew from.
#[derive(Debug, Clone)]
pub struct ParallelConfig {
    /// Jobs running at once, at most. Default: min(CPUs, 8).
    pub max_concurrent_tests: usize,
    /// Threads each worker's executor has for a job's own parallel work (rayon inside the
    /// validator: the engine verifies candidates in parallel). Default 1: `max_concurrent_tests`
    /// workers then keep at most that many cores busy, and the throttle, which lowers the
    /// number of workers, lowers real CPU use with it.
    pub threads_per_worker: usize,
    /// Per-attempt timeout. Default 30 s.
    pub test_timeout_seconds: f64,
    /// Retries after an *error* (never after a failure). Default 2.
    pub retry_attempts: u32,
    /// The delay before each retry. Default: exponential from 100 ms, doubling, at most 5 s,
    /// with up to 20% jitter.
    pub backoff: Backoff,
    /// How many jobs a worker claims from the queue at once. Default 10. Claiming in batches
    /// takes the queue lock once per batch instead of once per job; the executor caps it at
    /// `ceil(queued / workers)` so that claiming never starves other workers (load balance).
    pub batch_size: usize,
    /// Watch memory and lower concurrency under pressure. Default true.
    pub resource_monitoring: bool,
    /// Throttle above this fraction of system memory in use. Default 0.8.
    pub memory_threshold: f64,
    /// Throttle when this process's resident memory exceeds this many bytes.
    pub max_rss_bytes: Option<u64>,
    /// How often the monitor reads memory. Default 500 ms.
    pub monitor_interval: std::time::Duration,
    /// Stop dispatching after the first failure.
    pub fail_fast: bool,
    /// Stop dispatching after this many failures.
    pub max_fail: Option<usize>,
    /// Stop the whole run after this long.
    pub global_timeout: Option<std::time::Duration>,
    /// Time running jobs get to finish after a stop before they are cancelled.
    pub grace_period: std::time::Duration,
    /// Expected duration (ms) per job id, from a previous run: longest first within a priority.
    pub history: HashMap<String, f64>,
}

impl Default for ParallelConfig {
    fn default() -> Self {
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        ParallelConfig {
            max_concurrent_tests: cpus.min(8),
            threads_per_worker: 1,
            test_timeout_seconds: 30.0,
            retry_attempts: 2,
            backoff: Backoff::default(),
            batch_size: 10,
            resource_monitoring: true,
            memory_threshold: 0.8,
            max_rss_bytes: None,
            monitor_interval: std::time::Duration::from_millis(500),
            fail_fast: false,
            max_fail: None,
            global_timeout: None,
            grace_period: std::time::Duration::from_secs(2),
            history: HashMap::new(),
        }
    }
}

impl ParallelConfig {
    /// [`test_timeout_seconds`](Self::test_timeout_seconds) as a duration, at least 1 ms.
    pub fn test_timeout(&self) -> std::time::Duration {
        verity_core::seconds(self.test_timeout_seconds.max(0.001))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_backoff_grows_and_is_capped() {
        let b = Backoff::Exponential {
            initial: Duration::from_millis(100),
            factor: 2.0,
            max: Duration::from_millis(500),
            jitter: 0.5,
        };
        assert_eq!(b.delay(1, 0.0), Duration::from_millis(100));
        assert_eq!(b.delay(2, 0.0), Duration::from_millis(200));
        assert_eq!(b.delay(3, 0.0), Duration::from_millis(400));
        assert_eq!(b.delay(4, 0.0), Duration::from_millis(500));
        assert_eq!(b.delay(2, 0.5), Duration::from_millis(250));
        assert_eq!(b.delay(9, 0.99), Duration::from_millis(500));
        assert_eq!(
            Backoff::Fixed(Duration::from_millis(7)).delay(5, 0.3),
            Duration::from_millis(7)
        );
    }
}
