//! The `verity` binary: exit codes, error messages and output formats.

use crate::common::*;
use std::path::Path;
use std::process::Command;

/// Indexes the sample corpus into a fresh directory; returns (tempdir guard, index path).
fn indexed_sample() -> (tempfile::TempDir, String) {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let o = verity(&[
        "index",
        sample().to_str().unwrap(),
        "--index",
        idx.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    (tmp, idx.to_str().unwrap().to_owned())
}

#[test]
fn index_prints_a_summary_and_lists_skips_when_verbose() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("c");
    std::fs::create_dir_all(&corpus).unwrap();
    std::fs::write(corpus.join("a.rs"), "fn a() {}\n").unwrap();
    std::fs::write(corpus.join("b.bin"), b"\0\0\0").unwrap();
    std::fs::write(corpus.join("c.txt"), b"caf\xe9\n").unwrap();
    let idx = tmp.path().join("idx");
    let o = verity(&[
        "index",
        corpus.to_str().unwrap(),
        "--index",
        idx.to_str().unwrap(),
        "--verbose",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("indexed 2 files"), "{out}");
    assert!(out.contains("skipped 1 files: 1 binary"), "{out}");
    assert!(out.contains("skipped\tbinary\tb.bin"), "{out}");
    assert!(out.contains("lossy\tc.txt"), "{out}");

    let o = verity(&[
        "index",
        corpus.to_str().unwrap(),
        "--index",
        idx.to_str().unwrap(),
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["files"], 2);
    assert_eq!(v["unchanged"], 2);
    assert_eq!(v["skipped"][0]["reason"], "binary");
}

#[test]
fn index_defaults_to_a_hidden_directory_inside_the_corpus_and_never_indexes_it() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("a.rs"), "fn a() {}\n").unwrap();
    let o = verity(&["index", tmp.path().to_str().unwrap(), "--hidden"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = verity(&["index", tmp.path().to_str().unwrap(), "--hidden"]);
    assert!(stdout(&o).contains("indexed 1 files"), "{}", stdout(&o));
    let idx = tmp.path().join(".verity");
    let o = verity(&["search", "fn", "--index", idx.to_str().unwrap(), "-l"]);
    assert_eq!(stdout(&o), "a.rs\n");
}

#[test]
fn search_formats_and_exit_codes() {
    let (_tmp, idx) = indexed_sample();
    let o = verity(&["search", "Result<T, E>", "--index", &idx, "-l"]);
    assert_eq!(o.status.code(), Some(0));
    let files: Vec<&str> = std::str::from_utf8(&o.stdout).unwrap().lines().collect();
    assert!(files.contains(&"rust-app/src/error.rs"), "{files:?}");

    let o = verity(&["search", "fn m?in", "--index", &idx]);
    let out = stdout(&o);
    assert!(out.contains("rust-app/src/main.rs"), "{out}");
    assert!(out.contains("fn main() -> ExitCode {"), "{out}");

    let o = verity(&[
        "search",
        "\"use std::collections::HashMap\"",
        "--index",
        &idx,
        "--json",
        "--limit",
        "1",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["hits"].as_array().unwrap().len(), 1);
    assert!(v["hits"][0]["lines"][0]["line"].as_u64().unwrap() >= 1);
    // The best one was found without verifying every candidate: the total says so.
    assert_eq!(v["total_exact"], false);
    let o = verity(&[
        "search",
        "\"use std::collections::HashMap\"",
        "--index",
        &idx,
        "--json",
    ]);
    let all: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(all["total_exact"], true);
    assert!(all["total"].as_u64().unwrap() >= 3);
    assert_eq!(all["hits"][0]["path"], v["hits"][0]["path"]);
    let o = verity(&[
        "search",
        "\"use std::collections::HashMap\"",
        "--index",
        &idx,
        "--limit",
        "1",
    ]);
    assert!(stdout(&o).contains("1 of at least "), "{}", stdout(&o));

    let o = verity(&["search", "zz_nothing_matches_this", "--index", &idx]);
    assert_eq!(o.status.code(), Some(1));
}

#[test]
fn bad_queries_exit_2_and_name_the_column() {
    let (_tmp, idx) = indexed_sample();
    let long = "a".repeat(10_001);
    let cases: &[(&str, &str)] = &[
        ("", "column 1: empty query"),
        ("\"unclosed phrase", "column 1: unbalanced `\"`"),
        ("(pub AND fn", "column 1: unbalanced `(`"),
        ("pub AND fn)", "column 11: unbalanced `)`"),
        ("/fn(/", "column 4: invalid regular expression"),
        ("regex:[a-", "invalid regular expression"),
        ("pub AND", "column 8: expected a term"),
        (&long, "limit is 10000"),
    ];
    for (q, needle) in cases {
        let o = verity(&["search", q, "--index", &idx]);
        assert_eq!(o.status.code(), Some(2), "{q}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(needle), "{q}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

#[test]
fn bad_indexes_and_corpora_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("missing");
    let o = verity(&["search", "x", "--index", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no index at"), "{}", stderr(&o));

    let (_t, idx) = indexed_sample();
    let meta = Path::new(&idx).join("verity.json");
    let original = std::fs::read_to_string(&meta).unwrap();
    // A version this engine does not read: the next one.
    let other = verity_engine::FORMAT_VERSION + 1;
    std::fs::write(
        &meta,
        original.replace(
            &format!("\"format_version\": {}", verity_engine::FORMAT_VERSION),
            &format!("\"format_version\": {other}"),
        ),
    )
    .unwrap();
    let o = verity(&["search", "x", "--index", &idx]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains(&format!("format version {other}")),
        "{}",
        stderr(&o)
    );

    std::fs::write(&meta, "{ not json").unwrap();
    let o = verity(&["search", "x", "--index", &idx]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("is corrupt"), "{}", stderr(&o));
    // The same damage, the same answer from `index` (an input error, like `search`'s) and an
    // unusable index for `validate` (infrastructure, docs/ci.md).
    let o = verity(&["index", sample().to_str().unwrap(), "--index", &idx]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("is corrupt"), "{}", stderr(&o));
    let out = tmp.path().join("report");
    let o = verity(&[
        "validate",
        "--corpus",
        sample().to_str().unwrap(),
        "--index",
        &idx,
        "--cases",
        "5",
        "--no-progress",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));

    let o = verity(&[
        "index",
        tmp.path().join("no-such-dir").to_str().unwrap(),
        "--index",
        tmp.path().join("i").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no-such-dir"), "{}", stderr(&o));

    let file = tmp.path().join("file.txt");
    std::fs::write(&file, "x").unwrap();
    let o = verity(&[
        "index",
        file.to_str().unwrap(),
        "--index",
        tmp.path().join("i").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a directory"), "{}", stderr(&o));

    let o = verity(&["search", "x", "--index", &idx, "--timeout", "-1"]);
    assert_eq!(o.status.code(), Some(2));
    let o = verity(&["search", "--no-such-flag"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn killing_an_index_run_leaves_the_previous_index_usable() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("c");
    std::fs::create_dir_all(&corpus).unwrap();
    std::fs::write(corpus.join("keep.rs"), "fn keep_me() {}\n").unwrap();
    let idx = tmp.path().join("idx");
    let o = verity(&[
        "index",
        corpus.to_str().unwrap(),
        "--index",
        idx.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0));
    // A larger update, killed wherever it is: before or after its commit, the index opens.
    for i in 0..300 {
        std::fs::write(
            corpus.join(format!("f{i}.rs")),
            "fn filler() {}\n".repeat(500),
        )
        .unwrap();
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_verity"))
        .args([
            "index",
            corpus.to_str().unwrap(),
            "--index",
            idx.to_str().unwrap(),
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(30));
    let _ = child.kill();
    let _ = child.wait();
    let o = verity(&["search", "keep_me", "--index", idx.to_str().unwrap(), "-l"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stdout(&o), "keep.rs\n");
}

#[test]
fn demo_runs_every_query_type_on_the_sample_corpus() {
    let o = verity(&["demo"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    for kind in [
        "special characters",
        "boolean AND",
        "boolean OR",
        "boolean NOT",
        "phrase",
        "proximity",
        "wildcard",
        "regex",
        "vector",
        "hybrid",
    ] {
        assert!(
            out.contains(kind),
            "{kind} missing from demo output:\n{out}"
        );
    }
    assert!(out.contains("rust-app/tests/integration.rs"), "{out}");
    // The vector example finds the argument parser of the Rust app among its three chunks.
    let line = out.lines().find(|l| l.starts_with("vector ")).unwrap();
    assert!(line.contains("rust-app/src/main.rs"), "{line}");
}

#[test]
fn vector_and_hybrid_search_print_chunks_and_ranks() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let corpus = concat!(env!("CARGO_MANIFEST_DIR"), "/../../sample-corpus");
    let o = verity(&["index", corpus, "--index", idx.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("vectors: 24 chunks; 17 files embedded"),
        "{}",
        stdout(&o)
    );
    let idx = idx.to_str().unwrap();
    let o = verity(&["search", "vector(k=2): LRU cache eviction", "--index", idx]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("rust-app/src/cache.rs  (similarity "), "{out}");
    assert!(out.contains("  lines 1-"), "{out}");
    let o = verity(&["search", "hybrid(k=3): HashMap", "--index", idx, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    let hits = v["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 3);
    assert!(hits[0]["fusion"]["text"].is_u64(), "{v}");
    // Errors: a bad parameter is a query error (2); a text-only index cannot answer (3).
    let o = verity(&["search", "vector(k=0): x", "--index", idx]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("column 8"), "{}", stderr(&o));
    let text_only = tmp.path().join("text-only");
    let o = verity(&[
        "index",
        corpus,
        "--index",
        text_only.to_str().unwrap(),
        "--embedder",
        "none",
    ]);
    assert_eq!(o.status.code(), Some(0));
    let o = verity(&[
        "search",
        "vector: x",
        "--index",
        text_only.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stderr(&o).contains("has no vectors"), "{}", stderr(&o));
}

#[test]
fn vector_search_modes_are_chosen_at_index_and_search_time() {
    let tmp = tempfile::tempdir().unwrap();
    let idx = tmp.path().join("idx");
    let idx = idx.to_str().unwrap();
    let sample = sample();
    let index = |mode: &str| {
        let o = verity(&[
            "index",
            sample.to_str().unwrap(),
            "--index",
            idx,
            "--vector-search",
            mode,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        stdout(&o)
    };
    let approximate = |extra: &[&str]| {
        let mut args = vec!["search", "--json", "vector(k=3): LRU cache", "--index", idx];
        args.extend_from_slice(extra);
        let o = verity(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert!(!v["hits"].as_array().unwrap().is_empty(), "{v}");
        v["approximate"].as_bool().unwrap_or(false)
    };
    // The index records its mode, which decides how the vectors are kept; a search can ask
    // for exact search of a graph, and gets an exact answer without one.
    let built = index("hnsw");
    assert!(built.contains(", in an HNSW graph,"), "{built}");
    assert!(approximate(&[]));
    assert!(!approximate(&["--vector-search", "exact"]));
    let built = index("auto");
    assert!(built.contains(", flat, searched exactly,"), "{built}");
    assert!(!approximate(&[]), "auto is exact on 24 chunks");
    assert!(
        !approximate(&["--vector-search", "hnsw"]),
        "no graph to search: the answer is exact"
    );
    let vectors = std::fs::read_dir(idx)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with("gen-"))
        .max()
        .unwrap()
        .join("vectors");
    assert!(vectors.join("vectors.flat").exists());
    assert!(!vectors.join("hnsw.usearch").exists(), "the graph is gone");

    let o = verity(&[
        "search",
        "vector: x",
        "--index",
        idx,
        "--vector-search",
        "fast",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("exact, hnsw or auto"), "{}", stderr(&o));
    // A timeout too long to represent is no timeout, not a panic.
    let o = verity(&["search", "fn", "--index", idx, "--timeout", "1e20", "-l"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// `verity … | head -1`: once the reader has gone, the command stops writing and exits 0
/// without a message (as grep does), instead of panicking on the closed pipe.
#[test]
fn a_closed_pipe_ends_output_quietly() {
    use std::process::Stdio;
    let (_tmp, idx) = indexed_sample();
    let commands: [&[&str]; 3] = [
        &["search", "e", "--index", &idx],
        &["search", "e", "--index", &idx, "--json"],
        &["truth", "schema"],
    ];
    for args in commands {
        let mut child = Command::new(env!("CARGO_BIN_EXE_verity"))
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run verity");
        // Close the reading end before the command has written anything.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        assert_eq!(stderr(&o), "", "{args:?}");
    }
}

#[test]
fn index_verify_finds_a_flipped_byte_no_search_notices() {
    let (_t, idx) = indexed_sample();
    let o = verity(&["index", "--verify", "--index", &idx]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("intact"), "{}", stdout(&o));

    // One byte of a vector file: searching still answers, only the checksum tells.
    let generation = std::fs::read_dir(&idx)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_string_lossy().starts_with("gen-"))
        .unwrap();
    let target = generation.join("vectors").join("vectors.flat");
    let mut bytes = std::fs::read(&target).unwrap();
    let at = bytes.len() - 7;
    bytes[at] ^= 0x10;
    std::fs::write(&target, bytes).unwrap();
    let o = verity(&["index", "--verify", "--index", &idx]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("damaged\t") && stdout(&o).contains("vectors/vectors.flat"),
        "{}",
        stdout(&o)
    );
    assert!(stderr(&o).contains("--rebuild"), "{}", stderr(&o));

    // --verify needs an index to check.
    let o = verity(&["index", "--verify"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// `truth generate -o` writes through what is there: a pipe (or `/dev/stdout`) is written in
/// place, a link's target is replaced and the link kept. (Writing a temporary file and
/// renaming it over the path replaced `/dev/stdout` itself with a regular file.)
#[cfg(unix)]
#[test]
fn truth_output_to_a_pipe_or_a_link_writes_through_it() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("pipe");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let o = verity(&[
        "truth",
        "generate",
        sample().to_str().unwrap(),
        "--cases",
        "5",
        "-o",
        fifo.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let got = reader.join().unwrap();
    assert!(got.contains("\"corpus_fingerprint\""), "{got}");
    use std::os::unix::fs::FileTypeExt;
    assert!(std::fs::symlink_metadata(&fifo)
        .unwrap()
        .file_type()
        .is_fifo());

    let target = tmp.path().join("real.json");
    std::fs::write(&target, "old").unwrap();
    let link = tmp.path().join("link.json");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let o = verity(&[
        "truth",
        "generate",
        sample().to_str().unwrap(),
        "--cases",
        "5",
        "-o",
        link.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(std::fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(std::fs::read_to_string(&target)
        .unwrap()
        .contains("\"corpus_fingerprint\""));
}

/// A corpus with file names that are not UTF-8: `search -l` prints each name's own bytes (as
/// ripgrep does), and validation passes against the oracle and against ripgrep itself, which
/// reads the same names byte for byte.
#[cfg(unix)]
#[test]
fn file_names_that_are_not_utf8_are_searched_printed_and_validated() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    let name = |b: &[u8]| corpus.join(std::ffi::OsStr::from_bytes(b));
    std::fs::write(
        name(b"a\xffb.rs"),
        "fn first_marker() -> Result<u8, E> {}\n",
    )
    .unwrap();
    std::fs::write(name(b"a\xfeb.rs"), "fn second_marker(x: &mut u8) {}\n").unwrap();
    for i in 0..12 {
        std::fs::write(
            corpus.join(format!("f{i}.rs")),
            format!("pub fn f{i}() -> Option<u{i}> {{ None }}\n// marker {i}\n"),
        )
        .unwrap();
    }
    let idx = tmp.path().join("idx");
    let o = verity(&[
        "index",
        corpus.to_str().unwrap(),
        "--index",
        idx.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let o = verity(&[
        "search",
        "-l",
        "first_marker",
        "--index",
        idx.to_str().unwrap(),
    ]);
    assert_eq!(o.stdout, b"a\xffb.rs\n");
    let o = verity(&["search", "second_marker", "--index", idx.to_str().unwrap()]);
    assert!(stdout(&o).contains("a\u{FFFD}b.rs"), "{}", stdout(&o));

    for backend in ["verity", "rg"] {
        let out = tmp.path().join(format!("report-{backend}"));
        let o = verity(&[
            "validate",
            "--corpus",
            corpus.to_str().unwrap(),
            "--backend",
            backend,
            "--embedder",
            "none",
            "--cases",
            "60",
            "--no-progress",
            "-o",
            out.to_str().unwrap(),
        ]);
        assert_eq!(
            o.status.code(),
            Some(0),
            "{backend}: {}\n{}",
            stdout(&o),
            stderr(&o)
        );
    }
}

/// `search --stats`: where the time went, on standard error, leaving the output as it was.
#[test]
fn search_stats_go_to_stderr_and_leave_the_output_alone() {
    let (_t, idx) = indexed_sample();
    let plain = verity(&["search", "-l", "fn", "--index", &idx]);
    let with = verity(&["search", "-l", "--stats", "fn", "--index", &idx]);
    assert_eq!(with.status.code(), Some(0), "{}", stderr(&with));
    assert_eq!(with.stdout, plain.stdout);
    let line = stderr(&with);
    assert!(line.starts_with("stats: open "), "{line}");
    for part in [
        "ms, search ",
        " candidates, ",
        " files), print ",
        "process so far ",
    ] {
        assert!(line.contains(part), "{part}: {line}");
    }
}

/// The executable is linked at a fixed address on x86-64 Linux (`build.rs`): starting a
/// position-independent one costs about 0.7 ms of relocations and page faults, a fifth of a
/// query process that finds nothing.
#[cfg(all(target_os = "linux", target_arch = "x86_64", target_env = "gnu"))]
#[test]
fn the_executable_is_linked_at_a_fixed_address() {
    use std::io::Read;
    let mut bytes = [0u8; 18];
    std::fs::File::open(env!("CARGO_BIN_EXE_verity"))
        .and_then(|mut f| f.read_exact(&mut bytes))
        .unwrap();
    assert_eq!(&bytes[..4], b"\x7fELF");
    // e_type: 2 is an executable at a fixed address, 3 a shared object (what PIE is).
    let e_type = u16::from_le_bytes([bytes[16], bytes[17]]);
    assert_eq!(
        e_type, 2,
        "the verity binary is position-independent (ELF type {e_type})"
    );
}
