//! Resource monitoring: real memory and CPU readings, and the concurrency limit they steer.
//!
//! Above the memory threshold (a fraction of system memory, or a resident-set limit for this
//! process) the limit is halved; once pressure falls it grows by one per reading (additive
//! increase, multiplicative decrease, as TCP congestion control). Each decrease is logged and
//! counted.

use std::sync::atomic::{AtomicUsize, Ordering};

use sysinfo::{Pid, ProcessRefreshKind, ProcessesToUpdate, System};

/// One reading of the machine.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// Resident memory of this process, bytes.
    pub process_rss: u64,
    /// Memory in use on the machine, bytes.
    pub system_used: u64,
    /// Memory of the machine, bytes.
    pub system_total: u64,
    /// Global CPU use, percent.
    pub cpu_percent: f32,
}

/// A source of readings: sysinfo in production, scripted in tests.
pub trait Probe: Send {
    /// The machine now.
    fn read(&mut self) -> Reading;
}

/// Reads the real process and system through sysinfo.
pub struct SysinfoProbe {
    sys: System,
    pid: Option<Pid>,
}

impl Default for SysinfoProbe {
    fn default() -> Self {
        SysinfoProbe {
            sys: System::new(),
            pid: sysinfo::get_current_pid().ok(),
        }
    }
}

impl Probe for SysinfoProbe {
    fn read(&mut self) -> Reading {
        self.sys.refresh_memory();
        self.sys.refresh_cpu_usage();
        let mut rss = 0;
        if let Some(pid) = self.pid {
            self.sys.refresh_processes_specifics(
                ProcessesToUpdate::Some(&[pid]),
                false,
                ProcessRefreshKind::nothing().with_memory(),
            );
            rss = self.sys.process(pid).map_or(0, |p| p.memory());
        }
        Reading {
            process_rss: rss,
            system_used: self.sys.used_memory(),
            system_total: self.sys.total_memory(),
            cpu_percent: self.sys.global_cpu_usage(),
        }
    }
}

/// The concurrency limit, shared by the dispatcher and the monitor.
#[derive(Debug)]
pub struct Limiter {
    max: usize,
    current: AtomicUsize,
    throttles: AtomicUsize,
    lowest: AtomicUsize,
}

impl Limiter {
    /// A limit that starts at `max` (at least 1) and never exceeds it.
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Limiter {
            max,
            current: AtomicUsize::new(max),
            throttles: AtomicUsize::new(0),
            lowest: AtomicUsize::new(max),
        }
    }

    /// How many jobs may run at once now.
    pub fn current(&self) -> usize {
        self.current.load(Ordering::Acquire)
    }

    /// How many times the limit was lowered.
    pub fn throttle_events(&self) -> usize {
        self.throttles.load(Ordering::Relaxed)
    }

    /// The lowest the limit went.
    pub fn lowest(&self) -> usize {
        self.lowest.load(Ordering::Relaxed)
    }

    /// Applies one reading's verdict: halve under pressure, else grow by one. Returns the
    /// limit before and after when it moved.
    pub fn adjust(&self, pressure: bool) -> Option<(usize, usize)> {
        let cur = self.current();
        let next = if pressure {
            (cur / 2).max(1)
        } else {
            (cur + 1).min(self.max)
        };
        if next != cur {
            self.current.store(next, Ordering::Release);
            if next < cur {
                self.throttles.fetch_add(1, Ordering::Relaxed);
                self.lowest.fetch_min(next, Ordering::Relaxed);
                tracing::warn!(
                    from = cur,
                    to = next,
                    "memory pressure: lowering concurrency"
                );
            } else {
                tracing::info!(from = cur, to = next, "pressure eased: raising concurrency");
            }
            return Some((cur, next));
        }
        None
    }
}

/// Is a reading over the limits?
pub fn under_pressure(r: &Reading, threshold: f64, max_rss: Option<u64>) -> bool {
    let system = r.system_total > 0 && (r.system_used as f64 / r.system_total as f64) > threshold;
    let process = max_rss.is_some_and(|m| r.process_rss > m);
    system || process
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aimd_halves_under_pressure_and_grows_by_one() {
        let l = Limiter::new(8);
        l.adjust(true);
        assert_eq!(l.current(), 4);
        l.adjust(true);
        l.adjust(true);
        l.adjust(true);
        assert_eq!(l.current(), 1);
        l.adjust(false);
        l.adjust(false);
        assert_eq!(l.current(), 3);
        for _ in 0..20 {
            l.adjust(false);
        }
        assert_eq!(l.current(), 8);
        assert_eq!(l.throttle_events(), 3, "1 stays 1: no event");
        assert_eq!(l.lowest(), 1);
    }

    #[test]
    fn pressure_from_system_memory_or_process_rss() {
        let r = Reading {
            process_rss: 100,
            system_used: 81,
            system_total: 100,
            cpu_percent: 0.0,
        };
        assert!(under_pressure(&r, 0.8, None));
        assert!(!under_pressure(&r, 0.9, None));
        assert!(under_pressure(&r, 0.9, Some(99)));
        assert!(!under_pressure(&r, 0.9, Some(100)));
    }

    #[test]
    fn sysinfo_reads_real_numbers() {
        let r = SysinfoProbe::default().read();
        assert!(r.system_total > 0);
        assert!(r.system_used > 0 && r.system_used <= r.system_total);
        assert!(r.process_rss > 0, "this test process has resident memory");
    }
}
