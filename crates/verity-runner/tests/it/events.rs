//! The events a run reports: what a progress reporter (or any watcher) can rely on.

use std::sync::Arc;
use std::time::Duration;

use verity_runner::{CancelReason, Counts, JobStatus, ParallelExecutor, RunEvent, TestPriority};

use crate::executor::{cases, config, rt, Behaviour, Fake, Scripted};

/// Runs `ex` to the end and returns every event it reported, in order.
fn events_of(mut ex: ParallelExecutor<Fake>) -> (Vec<RunEvent>, ParallelExecutor<Fake>) {
    let mut seen = Vec::new();
    let mut sink = |e: &RunEvent| seen.push(e.clone());
    rt().block_on(ex.execute_all_with(&mut sink));
    (seen, ex)
}

#[test]
fn a_run_starts_reports_each_job_once_in_order_and_ends_with_the_stats_counts() {
    let mut bs = vec![Behaviour::Pass; 12];
    bs.extend([Behaviour::Fail; 3]);
    bs.push(Behaviour::Flaky(1));
    let mut ex = ParallelExecutor::new(config(3, 2), Arc::new(Fake::default()));
    ex.add_test_cases(cases(&bs));
    let (events, ex) = events_of(ex);

    assert_eq!(
        events.first(),
        Some(&RunEvent::Started {
            total: 16,
            workers: 3
        })
    );
    let finished: Vec<(&str, Counts)> = events
        .iter()
        .filter_map(|e| match e {
            RunEvent::JobFinished { job, counts } => Some((job.job_id.as_str(), *counts)),
            _ => None,
        })
        .collect();
    // One event per job, `done` counting up by one, every job id once.
    assert_eq!(finished.len(), 16);
    for (i, (_, c)) in finished.iter().enumerate() {
        assert_eq!((c.done, c.total), (i + 1, 16));
        assert!(c.passed + c.failed <= c.done, "{c:?}");
    }
    let mut ids: Vec<&str> = finished.iter().map(|(id, _)| *id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 16);
    // The flaky job says so; the last event's counts are the statistics'.
    assert!(events.iter().any(|e| matches!(
        e,
        RunEvent::JobFinished { job, .. } if job.flaky && job.status == JobStatus::Passed && job.retry_count == 1
    )));
    let s = ex.get_stats();
    assert_eq!(
        events.last(),
        Some(&RunEvent::Finished {
            counts: Counts {
                done: 16,
                total: 16,
                passed: s.passed,
                failed: s.failed,
                running: 0,
            },
            cancel_reason: None,
        })
    );
    assert_eq!((s.passed, s.failed), (13, 3));
}

#[test]
fn a_stop_is_reported_once_before_the_end_and_unstarted_jobs_have_no_event() {
    let mut cfg = config(1, 0);
    cfg.fail_fast = true;
    let mut bs = vec![Behaviour::Fail];
    bs.extend([Behaviour::Pass; 20]);
    let input = cases(&bs)
        .into_iter()
        .map(|mut c| {
            c.priority = TestPriority::High;
            c
        })
        .collect::<Vec<_>>();
    let mut ex = ParallelExecutor::new(cfg, Arc::new(Fake::default()));
    ex.add_test_cases(input);
    let (events, ex) = events_of(ex);

    let stops: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| matches!(e, RunEvent::Stopping { .. }))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(stops.len(), 1, "{events:?}");
    assert_eq!(
        events[stops[0]],
        RunEvent::Stopping {
            reason: CancelReason::TestFailure
        }
    );
    let jobs = events
        .iter()
        .filter(|e| matches!(e, RunEvent::JobFinished { .. }))
        .count();
    let s = ex.get_stats();
    // Jobs the worker had claimed end as cancelled events; the rest were never claimed.
    assert!((1..21).contains(&jobs), "{jobs}");
    match events.last() {
        Some(RunEvent::Finished {
            counts,
            cancel_reason,
        }) => {
            assert_eq!(*cancel_reason, Some(CancelReason::TestFailure));
            assert_eq!((counts.done, counts.failed), (21, 1));
            assert_eq!(s.cancelled, 21 - 1 - s.passed);
        }
        other => panic!("the last event is {other:?}"),
    }
}

#[test]
fn the_monitor_reports_each_move_of_the_concurrency_limit() {
    let mut cfg = config(4, 0);
    cfg.resource_monitoring = true;
    cfg.monitor_interval = Duration::from_millis(5);
    let mut ex =
        ParallelExecutor::new(cfg, Arc::new(Fake::default())).with_probe(Box::new(Scripted(0)));
    ex.add_test_cases(cases(&[Behaviour::Busy(5); 60]));
    let (events, ex) = events_of(ex);
    let moves: Vec<(usize, usize)> = events
        .iter()
        .filter_map(|e| match e {
            RunEvent::ConcurrencyChanged { from, to } => Some((*from, *to)),
            _ => None,
        })
        .collect();
    // Three readings under pressure halve 4 to 2 to 1 (the third cannot go lower), then each
    // reading without pressure raises the limit by one.
    assert_eq!(&moves[..2], &[(4, 2), (2, 1)], "{moves:?}");
    assert!(moves[2..].iter().all(|(f, t)| t == &(f + 1)), "{moves:?}");
    let downs = moves.iter().filter(|(f, t)| t < f).count();
    assert_eq!(downs, ex.get_stats().throttle_events);
}
