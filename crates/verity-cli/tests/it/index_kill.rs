//! `verity index` killed at random moments of an update: afterwards the index answers exactly
//! as the old generation or exactly as the new one, text and vectors alike (never new text
//! with old or missing vectors), and the next `verity index` completes the update.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::*;

/// One file set per query, as `verity search -l` lists them.
type Answers = Vec<BTreeSet<String>>;

const QUERIES: [&str; 4] = [
    "old_marker",
    "new_marker",
    "vector(k=8): old marker handler",
    "vector(k=8): new marker handler",
];

fn answers(index: &Path) -> Answers {
    QUERIES
        .iter()
        .map(|q| {
            let o = verity(&["search", "-l", q, "--index", index.to_str().unwrap()]);
            assert!(
                matches!(o.status.code(), Some(0 | 1)),
                "{q}: exit {:?}: {}",
                o.status.code(),
                stderr(&o)
            );
            stdout(&o).lines().map(str::to_owned).collect()
        })
        .collect()
}

fn index(corpus: &Path, index: &Path) {
    let o = verity(&[
        "index",
        corpus.to_str().unwrap(),
        "--index",
        index.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// The old tree: 300 files, a third of them mention `old_marker`.
fn old_tree(root: &Path) {
    for i in 0..300 {
        let marker = if i % 3 == 0 { "old_marker" } else { "plain" };
        let body: String = (0..30)
            .map(|l| format!("fn f{i}_{l}() {{ {marker}_handler({l}); }}\n"))
            .collect();
        std::fs::write(root.join(format!("f{i:03}.rs")), body).unwrap();
    }
}

/// The update: 150 files rewritten to mention `new_marker`, 10 deleted, 20 added.
fn new_tree(root: &Path) {
    for i in 0..150 {
        let body: String = (0..30)
            .map(|l| format!("fn g{i}_{l}() {{ new_marker_handler({l}); }}\n"))
            .collect();
        let path = root.join(format!("f{i:03}.rs"));
        std::fs::write(&path, body).unwrap();
        let f = std::fs::File::options().write(true).open(&path).unwrap();
        f.set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
            .unwrap();
    }
    for i in 290..300 {
        std::fs::remove_file(root.join(format!("f{i:03}.rs"))).unwrap();
    }
    for i in 0..20 {
        std::fs::write(
            root.join(format!("n{i:02}.rs")),
            format!("fn added{i}() {{ new_marker_handler({i}); }}\n"),
        )
        .unwrap();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// A small xorshift generator: the kill times are random but reproducible from the seed.
fn fractions(seed: u64, n: usize) -> Vec<f64> {
    let mut x = seed.max(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x % 10_000) as f64 / 10_000.0
        })
        .collect()
}

#[test]
fn an_update_killed_at_any_moment_leaves_the_old_or_the_new_index_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let corpus = tmp.path().join("corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    old_tree(&corpus);
    let old_index = tmp.path().join("old");
    index(&corpus, &old_index);
    let old = answers(&old_index);
    assert!(!old[0].is_empty() && old[1].is_empty(), "{old:?}");

    new_tree(&corpus);
    // The new generation's answers, from a fresh build of the new tree.
    let fresh = tmp.path().join("fresh");
    index(&corpus, &fresh);
    let new = answers(&fresh);
    assert!(
        old[0] != new[0] && old[2] != new[2],
        "the update changes every answer"
    );

    // How long a whole update takes, so the kills fall before, during and after it.
    let probe = tmp.path().join("probe");
    copy_dir(&old_index, &probe);
    let started = Instant::now();
    index(&corpus, &probe);
    let whole = started.elapsed();
    assert_eq!(answers(&probe), new, "an uninterrupted update");

    let seed = 0x5eed_2026;
    let (mut saw_old, mut saw_new) = (0, 0);
    for (round, f) in fractions(seed, 12).into_iter().enumerate() {
        let victim = tmp.path().join(format!("kill{round}"));
        copy_dir(&old_index, &victim);
        let delay = whole.mul_f64(f * 1.2);
        let mut child = Command::new(env!("CARGO_BIN_EXE_verity"))
            .args([
                "index",
                corpus.to_str().unwrap(),
                "--index",
                victim.to_str().unwrap(),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();

        let got = answers(&victim);
        let what = format!("seed {seed:#x}, round {round}, killed after {delay:?} of {whole:?}");
        if got == old {
            saw_old += 1;
        } else {
            assert_eq!(got, new, "{what}: neither the old nor the new index");
            saw_new += 1;
        }
        // The next update finishes the job from whatever the kill left.
        index(&corpus, &victim);
        assert_eq!(answers(&victim), new, "{what}: the update after the kill");
    }
    eprintln!("kills that left the old index: {saw_old}; the new one: {saw_new}");
}
