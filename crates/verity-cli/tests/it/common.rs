//! What every CLI test needs: running the `verity` binary and reading what it printed.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the `verity` binary built for these tests with `args`.
pub fn verity(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_verity"))
        .args(args)
        .output()
        .expect("run verity")
}

/// Runs the `verity` binary in the working directory `cwd`.
pub fn verity_in(cwd: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_verity"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run verity")
}

/// Output bytes as text (lossy: a test shows what it got, whatever it got).
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// What a command printed on standard output.
pub fn stdout(o: &Output) -> String {
    text(&o.stdout)
}

/// What a command printed on standard error.
pub fn stderr(o: &Output) -> String {
    text(&o.stderr)
}

/// Can `program` be started? CI (VERITY_REQUIRE_RG) installs every peer: there, a missing
/// one is a failure, not a skip.
pub fn have(program: &str) -> bool {
    let ok = Command::new(program).arg("--help").output().is_ok();
    if !ok && std::env::var_os("VERITY_REQUIRE_RG").is_some() {
        panic!("{program} is required (VERITY_REQUIRE_RG is set) but cannot be run");
    }
    ok
}

/// The repository's root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The built-in sample corpus.
pub fn sample() -> PathBuf {
    repo().join("sample-corpus")
}

/// `verity index` of the sample corpus into `index`; it must succeed.
pub fn index_sample(index: &Path) {
    let o = verity(&[
        "index",
        sample().to_str().unwrap(),
        "--index",
        index.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
}

/// Starts `cmd` with its stdout piped and reads the first line it prints (a server's address).
pub fn spawn_first_line(cmd: &mut std::process::Command) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = cmd
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{cmd:?} starts: {e}"));
    let mut first = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    (child, first)
}

/// Starts `verity serve --index INDEX` on a free loopback port: the process, and its base URL
/// (`http://127.0.0.1:PORT/`) as its first line on stdout gives it. The caller kills it.
pub fn serve(index: &Path) -> (std::process::Child, String) {
    let (child, first) = spawn_first_line(
        std::process::Command::new(env!("CARGO_BIN_EXE_verity"))
            .args(["serve", "--listen", "127.0.0.1:0", "--index"])
            .arg(index),
    );
    // "verity serve: http://127.0.0.1:PORT/ (index …)"
    let base = first
        .strip_prefix("verity serve: ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("verity serve said {first:?}"))
        .to_string();
    (child, base)
}
