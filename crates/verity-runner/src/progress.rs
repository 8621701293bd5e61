//! Live progress: an indicatif bar on a terminal; plain periodic lines otherwise (CI logs).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// Counters the reporter shows.
#[derive(Debug, Clone, Copy, Default)]
pub struct Snapshot {
    /// Jobs with a result.
    pub done: usize,
    /// Jobs in the run.
    pub total: usize,
    /// Of the done jobs, those that passed.
    pub passed: usize,
    /// Of the done jobs, those that did not pass.
    pub failed: usize,
    /// Jobs running now.
    pub running: usize,
}

/// Draws progress.
pub struct Reporter {
    bar: Option<ProgressBar>,
    started: Instant,
    interval: Duration,
    last_line: Instant,
    enabled: bool,
}

impl Reporter {
    /// A reporter for `total` jobs: a bar when `enabled` and standard error is a terminal, a
    /// plain line every `interval` otherwise, nothing when not `enabled`.
    pub fn new(total: usize, enabled: bool, interval: Duration) -> Self {
        let bar = (enabled && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{bar:30} {pos}/{len} {msg} [{elapsed_precise}, ETA {eta}]",
                )
                .expect("valid template"),
            );
            bar
        });
        Reporter {
            bar,
            started: Instant::now(),
            interval,
            last_line: Instant::now(),
            enabled,
        }
    }

    /// The text of a progress line.
    pub fn line(s: &Snapshot, elapsed: Duration) -> String {
        let rate = s.done as f64 / elapsed.as_secs_f64().max(1e-9);
        let eta = if rate > 0.0 {
            format!("{:.0}s", (s.total - s.done) as f64 / rate)
        } else {
            "?".into()
        };
        format!(
            "{}/{} done, {} passed, {} failed, {} running, {:.1} jobs/s, ETA {}",
            s.done, s.total, s.passed, s.failed, s.running, rate, eta
        )
    }

    /// Shows `s`: moves the bar, or prints a line once `interval` has passed since the last.
    pub fn update(&mut self, s: &Snapshot) {
        if !self.enabled {
            return;
        }
        if let Some(bar) = &self.bar {
            bar.set_position(s.done as u64);
            bar.set_message(format!(
                "{} passed, {} failed, {} running",
                s.passed, s.failed, s.running
            ));
        } else if self.last_line.elapsed() >= self.interval {
            self.last_line = Instant::now();
            eprintln!("progress: {}", Self::line(s, self.started.elapsed()));
        }
    }

    /// Clears the bar at the end of the run.
    pub fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_line_has_rate_and_eta() {
        let s = Snapshot {
            done: 50,
            total: 150,
            passed: 45,
            failed: 5,
            running: 2,
        };
        assert_eq!(
            Reporter::line(&s, Duration::from_secs(10)),
            "50/150 done, 45 passed, 5 failed, 2 running, 5.0 jobs/s, ETA 20s"
        );
    }
}
