//! Live progress of a run, drawn from the runner's events: an indicatif bar when standard error
//! is a terminal, a plain `progress:` line every interval otherwise (CI logs), and a line for
//! each thing a person watching should know at once (the concurrency limit moved, the run is
//! stopping).

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use verity_runner::{CancelReason, Counts, EventSink, RunEvent};

/// Draws a run's progress on standard error. An [`EventSink`]: hand it to
/// `ParallelExecutor::execute_all_with`.
pub struct ProgressReporter {
    bar: Option<ProgressBar>,
    started: Instant,
    interval: Duration,
    last_line: Instant,
    enabled: bool,
}

impl ProgressReporter {
    /// A reporter that draws a bar when `enabled` and standard error is a terminal, a plain
    /// line every `interval` otherwise, and nothing when not `enabled`.
    pub fn new(enabled: bool, interval: Duration) -> Self {
        ProgressReporter {
            bar: None,
            started: Instant::now(),
            interval,
            last_line: Instant::now(),
            enabled,
        }
    }

    /// The text of a progress line.
    pub fn line(c: &Counts, elapsed: Duration) -> String {
        let rate = c.done as f64 / elapsed.as_secs_f64().max(1e-9);
        let eta = if rate > 0.0 {
            format!("{:.0}s", c.total.saturating_sub(c.done) as f64 / rate)
        } else {
            "?".into()
        };
        format!(
            "{}/{} done, {} passed, {} failed, {} running, {:.1} jobs/s, ETA {}",
            c.done, c.total, c.passed, c.failed, c.running, rate, eta
        )
    }

    /// The line an event that a person should see at once prints, if it is one.
    pub fn notice(event: &RunEvent) -> Option<String> {
        match event {
            RunEvent::ConcurrencyChanged { from, to } if to < from => Some(format!(
                "memory pressure: running at most {to} jobs at once (was {from})"
            )),
            // An interrupt is announced by whoever caught it (the CLI's signal handler, which
            // also covers the phases before the run); saying it twice would only confuse.
            RunEvent::Stopping {
                reason: CancelReason::Interrupt,
            } => None,
            RunEvent::Stopping { reason } => Some(format!(
                "stopping ({reason}): no new case starts; running cases finish"
            )),
            _ => None,
        }
    }

    /// Prints a line without tearing the bar.
    fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
    }
}

impl EventSink for ProgressReporter {
    fn event(&mut self, event: &RunEvent) {
        if !self.enabled {
            return;
        }
        if let Some(line) = Self::notice(event) {
            self.say(&line);
        }
        match event {
            RunEvent::Started { total, .. } => {
                self.started = Instant::now();
                self.last_line = Instant::now();
                self.bar = std::io::stderr().is_terminal().then(|| {
                    let bar = ProgressBar::new(*total as u64);
                    bar.set_style(
                        ProgressStyle::with_template(
                            "{bar:30} {pos}/{len} {msg} [{elapsed_precise}, ETA {eta}]",
                        )
                        .expect("valid template"),
                    );
                    bar
                });
            }
            RunEvent::JobFinished { counts, .. } => {
                if let Some(bar) = &self.bar {
                    bar.set_position(counts.done as u64);
                    bar.set_message(format!(
                        "{} passed, {} failed, {} running",
                        counts.passed, counts.failed, counts.running
                    ));
                } else if self.last_line.elapsed() >= self.interval {
                    self.last_line = Instant::now();
                    eprintln!("progress: {}", Self::line(counts, self.started.elapsed()));
                }
            }
            RunEvent::Finished { .. } => {
                if let Some(bar) = self.bar.take() {
                    bar.finish_and_clear();
                }
            }
            RunEvent::ConcurrencyChanged { .. } | RunEvent::Stopping { .. } => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_line_has_rate_and_eta() {
        let c = Counts {
            done: 50,
            total: 150,
            passed: 45,
            failed: 5,
            running: 2,
        };
        assert_eq!(
            ProgressReporter::line(&c, Duration::from_secs(10)),
            "50/150 done, 45 passed, 5 failed, 2 running, 5.0 jobs/s, ETA 20s"
        );
    }

    #[test]
    fn throttling_and_stops_are_said_at_once_easing_and_interrupts_are_not() {
        let said = |e: RunEvent| ProgressReporter::notice(&e);
        insta::assert_snapshot!(
            [
                said(RunEvent::ConcurrencyChanged { from: 8, to: 4 }),
                said(RunEvent::ConcurrencyChanged { from: 4, to: 5 }),
                said(RunEvent::Stopping {
                    reason: CancelReason::Interrupt
                }),
                said(RunEvent::Stopping {
                    reason: CancelReason::TestFailure
                }),
            ]
            .map(|l| l.unwrap_or_else(|| "(nothing)".into()))
            .join("\n"),
            @r"
        memory pressure: running at most 4 jobs at once (was 8)
        (nothing)
        (nothing)
        stopping (the failure limit was reached): no new case starts; running cases finish
        "
        );
    }
}
