//! Following `verity index` without a restart, and stopping without dropping requests.

use std::time::{Duration, Instant};

use crate::common::{build, Running};

/// Polls `cond` until it holds, for at most 20 s: the server notices a new generation on its
/// own schedule, so the test waits for the condition, never for a fixed time.
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < until, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn generation(s: &Running) -> u64 {
    let (_, body) = s.get("/api/health");
    serde_json::from_str::<serde_json::Value>(&body).unwrap()["generation"]
        .as_u64()
        .unwrap()
}

#[test]
fn a_new_generation_is_served_without_a_restart_and_requests_in_flight_finish_on_theirs() {
    let s = Running::start(|c| c.reload_interval = Duration::from_millis(10));
    let first = generation(&s);
    assert_eq!(s.search("brand_new_fn").1["total"], 0);
    // A request in flight holds the generation it started with.
    let in_flight = s.state.index.current();

    std::fs::write(s.root.path().join("src/new.rs"), "fn brand_new_fn() {}\n").unwrap();
    build(s.root.path(), &s.index);
    wait_for("the new generation", || generation(&s) > first);
    let (status, r) = s.search("brand_new_fn");
    assert_eq!(status, 200);
    assert_eq!(r["hits"][0]["path"], "src/new.rs");
    assert_eq!(s.state.metrics.snapshot().reloads, 1);

    // The old generation still answers, whole, for the request that holds it.
    let old = in_flight
        .index()
        .search("fn", &verity_engine::SearchOptions::default())
        .unwrap();
    assert_eq!(old.total, 3);
    assert_eq!(in_flight.generation, first);
}

#[test]
fn shutdown_finishes_the_requests_in_flight() {
    let mut s = Running::start(|c| {
        c.max_concurrent = 1;
        c.max_queued = 4;
    });
    // Hold the only slot: the next request waits in the queue, in flight.
    let slot = s.hold_slot();
    let url = s.url.clone();
    let request = std::thread::spawn(move || {
        let mut r = Running::agent()
            .post(&format!("{url}/api/search"))
            .send(r#"{"query": "unwrap"}"#)
            .unwrap();
        (r.status().as_u16(), r.body_mut().read_to_string().unwrap())
    });
    wait_for("the request to queue", || s.state.admission.queued() == 1);
    // Stop: the server stops accepting connections at once…
    s.stop();
    wait_for("the listener to close", || {
        Running::agent()
            .get(&format!("{}/api/health", s.url))
            .call()
            .is_err()
    });
    // …and the request in flight is still answered once it gets its slot.
    drop(slot);
    let (status, body) = request.join().unwrap();
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("src/lib.rs"), "{body}");
    s.join();
}
