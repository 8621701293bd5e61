//! Fault injection: every kind of index file damaged in turn. Whatever the damage, searching
//! and updating never panic (a damaged index is `IndexCorrupt`, naming the generation), and
//! `verify` names the damaged file, including damage no search notices (a flipped byte in a
//! norm or a vector).

use std::path::{Path, PathBuf};

use crate::common::{copy_dir, write};
use verity_engine::{BuildOptions, CodeIndex, EngineError, SearchOptions};

const QUERIES: [&str; 6] = [
    "fn",
    "\"pub fn\"",
    "lock NEAR/3 unwrap",
    "regex:f[0-9]+_",
    "vector: parse the request",
    "hybrid(k=5): parse request",
];

fn corpus(root: &Path) {
    for i in 0..120 {
        let body: String = (0..25)
            .map(|l| format!("pub fn f{i}_{l}() {{ let g = lock(); g.unwrap(); parse({l}); }}\n"))
            .collect();
        write(root, &format!("src/m{i:03}.rs"), body);
    }
}

/// Overwrites up to 64 bytes a quarter into `path` with pseudo-random ones (a fixed sequence,
/// so every run damages the same way).
fn damage(path: &Path) {
    let mut b = std::fs::read(path).unwrap();
    let n = b.len();
    let from = n / 4;
    let to = (from + 64).min(n);
    let mut x: u32 = 0x9e37_79b9;
    for byte in &mut b[from..to] {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        let new = (x >> 24) as u8;
        *byte = if new == *byte { !new } else { new };
    }
    std::fs::write(path, b).unwrap();
}

/// The generation's files of each kind: tantivy's by extension, then the others by name.
fn files_of_each_kind(gen_dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let names: Vec<String> = std::fs::read_dir(gen_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    // tantivy's files, and the text store's batch (`.vtx`).
    for ext in ["idx", "pos", "term", "fast", "fieldnorm", "store", "vtx"] {
        let f = names
            .iter()
            .find(|n| n.ends_with(&format!(".{ext}")))
            .unwrap_or_else(|| panic!("no .{ext} file in {names:?}"));
        out.push((ext.to_owned(), gen_dir.join(f)));
    }
    for name in [
        "meta.json",
        "generation.json",
        "vectors/meta.json",
        "vectors/files.bin",
        "vectors/vectors.flat",
    ] {
        out.push((name.to_owned(), gen_dir.join(name)));
    }
    out
}

fn is_corrupt(e: &EngineError) -> bool {
    matches!(e, EngineError::IndexCorrupt { .. })
}

#[test]
fn damaged_index_files_are_errors_never_panics_and_verify_names_them() {
    let root = tempfile::tempdir().unwrap();
    corpus(root.path());
    let tmp = tempfile::tempdir().unwrap();
    let pristine = tmp.path().join("pristine");
    let opts = BuildOptions {
        threads: 1,
        ..BuildOptions::default()
    };
    let (index, _) = CodeIndex::build(root.path(), &pristine, &opts).unwrap();
    let v = index.verify().unwrap();
    assert!(v.is_intact(), "{v:?}");
    assert!(v.files >= 10, "{v:?}");
    let rel_gen = index
        .generation_dir()
        .strip_prefix(&pristine)
        .unwrap()
        .to_path_buf();
    drop(index);

    // How often opening, searching or updating reported the damage itself.
    let mut noticed = 0;
    for (kind, file) in files_of_each_kind(&pristine.join(&rel_gen)) {
        let dir = tmp
            .path()
            .join(format!("damaged-{}", kind.replace('/', "-")));
        copy_dir(&pristine, &dir);
        let target = dir.join(file.strip_prefix(&pristine).unwrap());
        damage(&target);

        // Opening and searching: answers or IndexCorrupt, never a panic (a panic fails the
        // test here: nothing catches it).
        match CodeIndex::open(&dir) {
            Err(e) => {
                assert!(is_corrupt(&e), "{kind}: open: {e:?}");
                noticed += 1;
            }
            Ok(index) => {
                for q in QUERIES {
                    if let Err(e) = index.search(q, &SearchOptions::default()) {
                        assert!(is_corrupt(&e), "{kind}: {q}: {e:?}");
                        noticed += 1;
                        assert!(e.to_string().contains("--rebuild"), "{kind}: {e}");
                    }
                }
                // Verify names the file, whatever searching noticed.
                let v = index.verify().unwrap();
                let rel = target
                    .strip_prefix(index.generation_dir())
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                assert_eq!(v.damaged, [rel], "{kind}");
            }
        }

        // Updating over the damage: an error, or a new generation in which the damage is
        // still found (a linked file keeps the checksum it was written with) unless the
        // update replaced the file. Never a panic.
        write(root.path(), "src/new.rs", "pub fn brand_new() {}\n");
        match CodeIndex::build(root.path(), &dir, &opts) {
            Err(e) => {
                assert!(
                    is_corrupt(&e) || matches!(e, EngineError::Tantivy(_) | EngineError::Vector(_)),
                    "{kind}: build: {e:?}"
                );
                noticed += 1;
            }
            Ok((updated, _)) => {
                let name = target.file_name().unwrap();
                let linked = updated.generation_dir().join(name);
                if !kind.contains('.') && linked.exists() {
                    let v = updated.verify().unwrap();
                    assert_eq!(
                        v.damaged,
                        [name.to_string_lossy().into_owned()],
                        "{kind}: the update blessed the damage"
                    );
                }
            }
        }
        std::fs::remove_file(root.path().join("src/new.rs")).unwrap();

        // --rebuild always recovers.
        let rebuild = BuildOptions {
            rebuild: true,
            ..opts.clone()
        };
        let (fixed, _) = CodeIndex::build(root.path(), &dir, &rebuild).unwrap();
        assert!(fixed.verify().unwrap().is_intact(), "{kind}");
        assert_eq!(
            fixed.search("fn", &SearchOptions::default()).unwrap().total,
            120,
            "{kind}"
        );
    }
    // The damage above is of a kind searching often cannot see, but some of it is seen; the
    // rest only verify finds.
    assert!(
        noticed > 0,
        "no damage was noticed: the test corrupts nothing that matters"
    );
}
