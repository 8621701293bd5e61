//! Index generations: an update becomes visible whole (text and vectors together), an
//! interrupted update leaves the previous index, writers take turns, and searching writes
//! nothing. The phases of an update are reached deterministically through
//! [`BuildOptions::phase`], the way a concurrent search or a crash would meet them.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};

use crate::common::write;
use verity_engine::{BuildOptions, BuildPhase, CodeIndex, PhaseHook, SearchOptions};

fn files(index: &CodeIndex, q: &str) -> Vec<String> {
    let mut v: Vec<String> = index
        .search(q, &SearchOptions::default())
        .unwrap_or_else(|e| panic!("{q}: {e}"))
        .hits
        .into_iter()
        .map(|h| h.path)
        .collect();
    v.sort();
    v
}

/// What a search of generation 1 or 2 of [`corpus`] answers, text and vectors alike.
#[derive(Debug, PartialEq)]
struct Answers {
    generation: u64,
    alpha: Vec<String>,
    omega: Vec<String>,
    vector: Vec<String>,
}

fn answers(index: &CodeIndex) -> Answers {
    Answers {
        generation: index.generation(),
        alpha: files(index, "alpha_marker"),
        omega: files(index, "omega_marker"),
        vector: files(index, "vector(k=3): alpha marker function"),
    }
}

/// Generation 1: `a.rs` says alpha. The update rewrites it to say omega and adds `c.rs`.
fn corpus(root: &Path) {
    write(root, "a.rs", "fn alpha_marker() -> u32 { 1 }\n");
    write(root, "b.rs", "fn unrelated() {}\n");
}

fn update(root: &Path) {
    write(root, "a.rs", "fn omega_marker() -> u32 { 2 }\n");
    let f = std::fs::File::options()
        .write(true)
        .open(root.join("a.rs"))
        .unwrap();
    f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
        .unwrap();
    write(root, "c.rs", "fn omega_marker_too() { omega_marker(); }\n");
}

fn with_phase(hook: impl Fn(BuildPhase) + Send + Sync + 'static) -> BuildOptions {
    BuildOptions {
        phase: Some(PhaseHook(Arc::new(hook))),
        ..BuildOptions::default()
    }
}

fn generation_dirs(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("gen-"))
        .collect();
    v.sort();
    v
}

#[test]
fn searches_during_an_update_see_the_previous_generation_whole() {
    let root = tempfile::tempdir().unwrap();
    corpus(root.path());
    let idx = tempfile::tempdir().unwrap();
    let dir = idx.path().to_path_buf();
    let (first, _) = CodeIndex::build(root.path(), &dir, &BuildOptions::default()).unwrap();
    let before = answers(&first);
    assert_eq!(before.generation, 1);
    assert_eq!(before.alpha, ["a.rs"]);
    assert!(before.omega.is_empty());
    assert!(!before.vector.is_empty());

    update(root.path());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (d, s) = (dir.clone(), seen.clone());
    let opts = with_phase(move |phase| {
        // A search opened at this moment, as another process would open it.
        let a = answers(&CodeIndex::open(&d).unwrap());
        s.lock().unwrap().push((phase, a));
    });
    let (second, _) = CodeIndex::build(root.path(), &dir, &opts).unwrap();
    let after = answers(&second);
    assert_eq!(after.generation, 2);
    assert_eq!(after.omega, ["a.rs", "c.rs"]);
    assert!(after.alpha.is_empty());

    let seen = seen.lock().unwrap();
    let phases: Vec<BuildPhase> = seen.iter().map(|(p, _)| *p).collect();
    use BuildPhase::*;
    assert_eq!(phases, [Locked, TextCommitted, Written, Published]);
    for (phase, a) in seen.iter() {
        let want = if *phase == Published { &after } else { &before };
        assert_eq!(a, want, "a search opened at {phase:?}");
    }
    // The previous generation stays for searches that hold it; nothing older.
    assert_eq!(generation_dirs(&dir), ["gen-000001", "gen-000002"]);
    assert_eq!(
        answers(&first),
        before,
        "an open index keeps answering as it did"
    );
}

#[test]
fn an_update_interrupted_at_any_phase_leaves_the_previous_generation() {
    use BuildPhase::*;
    for stop in [Locked, TextCommitted, Written, Published] {
        let root = tempfile::tempdir().unwrap();
        corpus(root.path());
        let idx = tempfile::tempdir().unwrap();
        let dir = idx.path();
        let (first, _) = CodeIndex::build(root.path(), dir, &BuildOptions::default()).unwrap();
        let before = answers(&first);
        drop(first);

        update(root.path());
        // The build dies at `stop` (a panic unwinds out of it, as a kill ends it there).
        let opts = with_phase(move |phase| {
            if phase == stop {
                panic!("interrupted at {phase:?}");
            }
        });
        let died = catch_unwind(AssertUnwindSafe(|| {
            CodeIndex::build(root.path(), dir, &opts).map(|_| ())
        }));
        assert!(died.is_err(), "{stop:?}");

        let now = answers(&CodeIndex::open(dir).unwrap());
        if stop == Published {
            assert_eq!(now.generation, 2, "published before the interruption");
            assert_eq!(now.omega, ["a.rs", "c.rs"]);
        } else {
            assert_eq!(now, before, "interrupted at {stop:?}");
        }

        // The next update finishes the work and removes what the interrupted one left.
        let (again, _) = CodeIndex::build(root.path(), dir, &BuildOptions::default()).unwrap();
        let after = answers(&again);
        assert_eq!(after.omega, ["a.rs", "c.rs"], "after {stop:?}");
        assert!(after.alpha.is_empty());
        assert!(
            generation_dirs(dir).len() <= 2,
            "{:?}",
            generation_dirs(dir)
        );
        assert!(generation_dirs(dir)
            .last()
            .is_some_and(|n| n.ends_with(&after.generation.to_string())));
    }
}

#[test]
fn an_unchanged_corpus_keeps_its_generation() {
    let root = tempfile::tempdir().unwrap();
    corpus(root.path());
    let idx = tempfile::tempdir().unwrap();
    let (first, _) = CodeIndex::build(root.path(), idx.path(), &BuildOptions::default()).unwrap();
    drop(first);
    let (same, report) =
        CodeIndex::build(root.path(), idx.path(), &BuildOptions::default()).unwrap();
    assert_eq!(same.generation(), 1);
    assert_eq!((report.files, report.unchanged), (2, 2));
    assert!(report.chunks > 0, "the vectors are counted: {report:?}");
    assert_eq!(generation_dirs(idx.path()), ["gen-000001"]);

    // Other settings are a new generation even when no file changed.
    let text_only = BuildOptions {
        vectors: None,
        ..BuildOptions::default()
    };
    let (other, _) = CodeIndex::build(root.path(), idx.path(), &text_only).unwrap();
    assert_eq!(other.generation(), 2);
    assert!(other.vector_index().is_none());
}

/// Searching opens the published generation read-only: no lock file, no write of any kind.
/// (Run as root, as CI is, a read-only directory would not stop a write; so the test checks
/// that nothing is written at all.)
#[test]
fn searching_writes_nothing_in_the_index() {
    let root = tempfile::tempdir().unwrap();
    corpus(root.path());
    let idx = tempfile::tempdir().unwrap();
    drop(CodeIndex::build(root.path(), idx.path(), &BuildOptions::default()).unwrap());
    fn listing(dir: &Path) -> Vec<(String, u64, std::time::SystemTime)> {
        let mut v = Vec::new();
        for e in walkdir(dir) {
            let m = std::fs::metadata(&e).unwrap();
            v.push((e.display().to_string(), m.len(), m.modified().unwrap()));
        }
        v.sort();
        v
    }
    fn walkdir(dir: &Path) -> Vec<std::path::PathBuf> {
        let mut out = vec![dir.to_path_buf()];
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.extend(walkdir(&p));
            } else {
                out.push(p);
            }
        }
        out
    }
    let before = listing(idx.path());
    let index = CodeIndex::open(idx.path()).unwrap();
    let _ = answers(&index);
    drop(index);
    assert_eq!(listing(idx.path()), before);
}

/// A second writer waits for the first before it reads anything: it starts while the first
/// holds the lock, and it must not get past the lock until the first has published.
#[test]
fn a_second_writer_waits_for_the_first_before_reading_anything() {
    let root = tempfile::tempdir().unwrap();
    let src = root.path().join("src");
    for i in 0..50 {
        write(&src, &format!("f{i}.rs"), format!("fn f{i}() {{}}\n"));
    }
    let idx = tempfile::tempdir().unwrap();
    let dir = idx.path().to_path_buf();
    let text_only = BuildOptions {
        vectors: None,
        ..BuildOptions::default()
    };
    drop(CodeIndex::build(root.path(), &dir, &text_only).unwrap());
    for i in 0..20 {
        write(
            &src,
            &format!("f{i}.rs"),
            format!("fn f{i}() {{ changed(); }}\n"),
        );
        let f = std::fs::File::options()
            .write(true)
            .open(src.join(format!("f{i}.rs")))
            .unwrap();
        f.set_modified(std::time::SystemTime::now() + std::time::Duration::from_secs(5))
            .unwrap();
    }

    let first_published = Arc::new(AtomicBool::new(false));
    let second_early = Arc::new(AtomicBool::new(false));
    std::thread::scope(|s| {
        let (locked_tx, locked_rx) = mpsc::channel::<()>();
        let (started_tx, started_rx) = mpsc::channel::<()>();
        let (fp, se) = (first_published.clone(), second_early.clone());
        let (root2, dir2) = (root.path().to_path_buf(), dir.clone());
        let second_opts = BuildOptions {
            phase: Some(PhaseHook(Arc::new(move |phase| {
                if phase == BuildPhase::Locked && !fp.load(Ordering::SeqCst) {
                    se.store(true, Ordering::SeqCst);
                }
            }))),
            ..text_only.clone()
        };
        let (locked_tx, started_rx) = (Mutex::new(locked_tx), Mutex::new(started_rx));
        let fp = first_published.clone();
        let first_opts = BuildOptions {
            phase: Some(PhaseHook(Arc::new(move |phase| match phase {
                // Holding the lock, let the second writer start and wait until it has.
                BuildPhase::Locked => {
                    locked_tx.lock().unwrap().send(()).unwrap();
                    started_rx.lock().unwrap().recv().unwrap();
                }
                BuildPhase::Published => fp.store(true, Ordering::SeqCst),
                _ => {}
            }))),
            ..text_only.clone()
        };
        let (root1, dir1) = (root.path().to_path_buf(), dir.clone());
        let first = s.spawn(move || CodeIndex::build(&root1, &dir1, &first_opts).unwrap());
        let second = s.spawn(move || {
            locked_rx.recv().unwrap();
            started_tx.send(()).unwrap();
            CodeIndex::build(&root2, &dir2, &second_opts).unwrap()
        });
        first.join().unwrap();
        second.join().unwrap();
    });
    assert!(
        !second_early.load(Ordering::SeqCst),
        "the second writer got the lock while the first was writing"
    );
    let index = CodeIndex::open(&dir).unwrap();
    let mut changed = files(&index, "changed");
    assert_eq!(changed.len(), 20);
    changed.dedup();
    assert_eq!(changed.len(), 20, "a path indexed twice");
    assert_eq!(index.num_files(), 50);
}
