//! Shared helpers for the engine's integration tests: a hostile fixture corpus and ripgrep.

#![allow(dead_code)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Writes a file, creating parent directories.
pub fn write(root: &Path, rel: &str, bytes: impl AsRef<[u8]>) {
    let p = root.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, bytes).unwrap();
}

/// Builds the fixture corpus: edge-case encodings, line endings, sizes and tree shapes.
pub fn build_fixture(root: &Path) {
    write(root, "empty.rs", "");
    write(
        root,
        "bom.rs",
        b"\xEF\xBB\xBFfn main() {\n    println!(\"bom\");\n}\n",
    );
    write(
        root,
        "crlf.rs",
        "use std::io;\r\nfn read() -> io::Result<()> {\r\n    Ok(())\r\n}\r\n",
    );
    write(
        root,
        "cjk.md",
        "# 变量和函数\n\nlet 变量 = \"值\";\nfn 函数() -> 结果<T, E> {}\n",
    );
    write(
        root,
        "emoji.txt",
        "crab 🦀 says hi\nfamily 👨\u{200D}👩\u{200D}👧 joined\nzero\u{200B}width here\n",
    );
    write(root, "latin1.txt", b"caf\xe9 au lait; na\xefve code\n");
    // A 5 MiB file whose markers straddle every 64 KiB boundary.
    let mut big = Vec::with_capacity(5 << 20);
    let filler = b"let value = compute(input, &mut state)?; // filler line\n";
    let mut k = 1usize;
    while big.len() < 5 << 20 {
        let boundary = k * 65536;
        while big.len() + filler.len() < boundary - 12 {
            big.extend_from_slice(filler);
        }
        while big.len() < boundary - 12 {
            big.push(b' ');
        }
        big.extend_from_slice(format!("MARKER_BOUNDARY_{k:04}\n").as_bytes());
        k += 1;
    }
    write(root, "big/five_mib.rs", &big);
    // A minified-style file: one 200 KB line with an over-long token.
    let mut long = String::from("var x=");
    long.push_str(&"a".repeat(1000));
    long.push(';');
    while long.len() < 200_000 {
        long.push_str("f(a,b)=>{return a+b};");
    }
    long.push('\n');
    write(root, "web/min.js", long);
    write(
        root,
        "bin/data.bin",
        b"\x00\x01\x02MARKER_BOUNDARY binary Result<T, E>\n",
    );
    write(
        root,
        "a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/deep.rs",
        "pub fn deep() -> usize { 42 }\n",
    );
    write(root, ".gitignore", "ignored/\n*.log\n");
    write(root, "ignored/skip.rs", "fn ignored_by_gitignore() {}\n");
    write(root, "run.log", "MARKER_BOUNDARY in a log\n");
    write(root, ".hidden.rs", "fn hidden() -> Result<T, E> {}\n");
    write(
        root,
        "target/debug/out.rs",
        "fn in_target() -> Result<T, E> {}\n",
    );
    write(
        root,
        "node_modules/pkg/index.js",
        "function inNodeModules() {}\n",
    );
    write(root, "trailing.txt", "no final newline -> here");
    write(root, "only_newlines.txt", "\n\n\n");
    #[cfg(unix)]
    {
        std::fs::create_dir_all(root.join("loop")).unwrap();
        std::os::unix::fs::symlink("..", root.join("loop/up")).unwrap();
        std::os::unix::fs::symlink("bom.rs", root.join("link.rs")).unwrap();
    }
    copy_dir(&sample_corpus(), &root.join("sample"));
}

/// Copies the tree `from` into `to`, creating `to` and its directories.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

pub fn sample_corpus() -> PathBuf {
    workspace_root().join("sample-corpus")
}

pub use verity_testkit::rg::{available as have_rg, files_with_matches as rg_files};

/// A set of paths, for comparing with an answer's files.
pub fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}
