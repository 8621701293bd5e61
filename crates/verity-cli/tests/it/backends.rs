//! `verity validate --backend`: other engines validated end to end on the sample corpus —
//! ripgrep and GNU grep through the built-in adapters, and Verity's own engine through the
//! backend protocol (`exec:verity serve --stdio`), whose answers must equal the embedded run's.

use std::path::Path;
use std::process::Command;

use crate::common::*;
use verity_report::Report;
use verity_runner::JobStatus;
use verity_validation::QueryType;

#[test]
fn every_adapter_passes_what_it_can_express_and_the_rest_is_unsupported() {
    use QueryType::*;
    for (tool, program, expressible) in [
        (
            "rg",
            "rg",
            &[SpecialCharacters, BooleanOr, Wildcard, Regex][..],
        ),
        ("grep", "grep", &[SpecialCharacters, BooleanOr, Regex][..]),
        (
            "git-grep",
            "git",
            &[SpecialCharacters, BooleanOr, Regex][..],
        ),
        ("ugrep", "ugrep", &[SpecialCharacters, BooleanOr, Regex][..]),
        (
            "csearch",
            "cindex",
            &[SpecialCharacters, BooleanOr, Regex][..],
        ),
    ] {
        if !have(program) {
            eprintln!("skipped: {tool} is not installed");
            continue;
        }
        let cwd = tempfile::tempdir().unwrap();
        let o = verity_in(
            cwd.path(),
            &[
                "validate",
                "--backend",
                tool,
                "--cases",
                "300",
                "--no-progress",
            ],
        );
        let out = text(&o.stdout);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{tool}: {out}\n{}",
            text(&o.stderr)
        );
        assert!(out.contains("capability of"), "{out}");
        let report = Report::load(&cwd.path().join("verity-report/report.json")).unwrap();
        assert!(report.environment.engine.contains(&format!("({tool})")));
        assert_eq!(report.summary.failed, 0);
        assert!(report.summary.unsupported > 0);
        for c in &report.cases {
            match c.status {
                JobStatus::Passed | JobStatus::Unsupported => {}
                s => panic!("{tool}: {} {s}: {}", c.id, c.problem()),
            }
        }
        for t in expressible {
            let counts = &report.per_type[t.name()].counts;
            assert!(counts.passed > 0, "{tool} runs {t} cases");
        }
        for t in [QueryType::Phrase, QueryType::Vector] {
            let counts = &report.per_type[t.name()].counts;
            assert_eq!(counts.unsupported, counts.total, "{tool}: {t}");
        }
        // The capability matrix is in every human format.
        let md = std::fs::read_to_string(cwd.path().join("verity-report/report.md")).unwrap();
        assert!(md.contains("## Capability of"), "{md}");
        let html = std::fs::read_to_string(cwd.path().join("verity-report/report.html")).unwrap();
        assert!(html.contains("<h2>Capability of"));
    }
}

/// A running `examples/http_bridge.py` in front of a stdio backend; killed on drop.
struct Bridge {
    child: std::process::Child,
    url: String,
}

impl Bridge {
    fn start(command: &[&str]) -> Bridge {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/http_bridge.py");
        let (child, first) =
            spawn_first_line(Command::new("python3").arg(script).arg("--").args(command));
        let url = first
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("bridge said {first:?}"))
            .to_string();
        Bridge { child, url }
    }
}

/// `verity serve` on a free loopback port, its backend-protocol endpoint as `url`.
fn serve_http(index: &Path) -> Bridge {
    let (child, base) = serve(index);
    Bridge {
        child,
        url: format!("{base}api/protocol"),
    }
}

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The embedded engine and the same engine behind `exec:verity serve --stdio`, behind HTTP
/// (the stdio server behind examples/http_bridge.py), and served by `verity serve` itself give
/// the same answers to every case: the protocol loses nothing (paths, order, scores, lines).
#[test]
fn the_engine_through_the_protocol_answers_exactly_as_embedded() {
    let cwd = tempfile::tempdir().unwrap();
    let index = cwd.path().join("index");
    index_sample(&index);
    let exec = format!(
        "exec:'{}' serve --stdio --index '{}'",
        env!("CARGO_BIN_EXE_verity"),
        index.display()
    );
    let bridge = Bridge::start(&[
        env!("CARGO_BIN_EXE_verity"),
        "serve",
        "--stdio",
        "--index",
        index.to_str().unwrap(),
    ]);
    let server = serve_http(&index);
    let mut reports = Vec::new();
    for (name, backend) in [
        ("embedded", "verity"),
        ("exec", exec.as_str()),
        ("http", bridge.url.as_str()),
        ("serve", server.url.as_str()),
    ] {
        let out = cwd.path().join(name);
        let o = verity_in(
            cwd.path(),
            &[
                "validate",
                "--backend",
                backend,
                "--cases",
                "400",
                "--seed",
                "3",
                "--no-progress",
                "--output",
                out.to_str().unwrap(),
            ],
        );
        assert_eq!(
            o.status.code(),
            Some(0),
            "{name}: {}\n{}",
            text(&o.stdout),
            text(&o.stderr)
        );
        reports.push((
            Report::load(&out.join("report.json")).unwrap(),
            std::fs::read_to_string(out.join("run.trec")).unwrap(),
        ));
    }
    let embedded = &reports[0];
    assert_eq!(embedded.0.summary.passed, 400);
    for other in &reports[1..] {
        assert_eq!(other.0.summary.passed, 400);
        assert!(other.0.environment.engine.starts_with("verity-engine"));
        // The TREC run holds every returned file with its rank and score.
        assert_eq!(embedded.1, other.1, "{}", other.0.environment.engine);
    }
}

/// The example backend in docs/backends.md (examples/verity_backend.py) passes every case it
/// supports, with its matching lines checked against the content rules.
#[test]
fn the_python_example_backend_passes_what_it_supports() {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/verity_backend.py");
    let cwd = tempfile::tempdir().unwrap();
    let spec = format!("exec:python3 '{}'", example.display());
    let o = verity_in(
        cwd.path(),
        &["validate", "--backend", &spec, "--no-progress"],
    );
    let out = text(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}\n{}", text(&o.stderr));
    let report = Report::load(&cwd.path().join("verity-report/report.json")).unwrap();
    assert_eq!(
        report.environment.engine,
        format!("python-example 1.0 ({spec})")
    );
    let special = &report.per_type["SpecialCharacters"].counts;
    assert_eq!(special.passed, special.total);
    assert!(special.total > 0);
    assert_eq!(
        report.summary.passed + report.summary.unsupported,
        report.summary.total
    );
}

#[test]
fn bad_backend_specs_are_input_errors() {
    let cwd = tempfile::tempdir().unwrap();
    for (spec, says) in [
        ("zoekt", "unknown backend `zoekt`"),
        ("exec:", "needs a command"),
        ("exec:exit 3", "stopped before its handshake"),
        ("http://127.0.0.1:9/verity", "GET http://127.0.0.1:9/verity"),
        ("https://example.invalid/", "HTTPS is not supported"),
    ] {
        let o = verity_in(
            cwd.path(),
            &["validate", "--backend", spec, "--no-progress"],
        );
        assert_eq!(o.status.code(), Some(2), "{spec}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains(says),
            "{spec}: {}",
            text(&o.stderr)
        );
    }
}

/// `verity serve`: flags it cannot honour are input errors naming the flag; SIGTERM stops it
/// cleanly (exit 0) after the requests it has.
#[test]
fn serve_refuses_bad_addresses_and_stops_on_sigterm() {
    let cwd = tempfile::tempdir().unwrap();
    let index = cwd.path().join("index");
    for (args, says) in [
        (&["--listen", "example.com:80"][..], "host name"),
        (&["--listen", "127.0.0.1:99999"][..], "--listen"),
        (&["--timeout", "0"][..], "--timeout"),
        (&["--max-concurrent", "0"][..], "--max-concurrent"),
    ] {
        let mut all = vec!["serve", "--index", index.to_str().unwrap()];
        all.extend_from_slice(args);
        let o = verity_in(cwd.path(), &all);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", text(&o.stderr));
        assert!(
            text(&o.stderr).contains(says),
            "{args:?}: {}",
            text(&o.stderr)
        );
    }
    // No index there yet.
    let o = verity_in(
        cwd.path(),
        &["serve", "--index", index.to_str().unwrap(), "--listen", "0"],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(text(&o.stderr).contains("no index"), "{}", text(&o.stderr));

    index_sample(&index);
    let (mut child, base) = serve(&index);
    // The address is taken: a second server says so.
    let port = base
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .to_string();
    let o = verity_in(
        cwd.path(),
        &[
            "serve",
            "--index",
            index.to_str().unwrap(),
            "--listen",
            &port,
        ],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("cannot listen"),
        "{}",
        text(&o.stderr)
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
}
