//! ripgrep, the reference for which files a literal or a regex matches.
//!
//! Tests that compare with ripgrep skip themselves when `rg` is not installed, unless
//! `VERITY_REQUIRE_RG` is set (CI sets it): then its absence fails them, so that a check
//! nobody ran cannot pass.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// Is ripgrep on `PATH`? When it is not, says so on stderr (the test is skipped), or panics
/// under `VERITY_REQUIRE_RG`.
pub fn available() -> bool {
    let ok = Command::new("rg")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            std::env::var_os("VERITY_REQUIRE_RG").is_none(),
            "ripgrep (rg) is required by VERITY_REQUIRE_RG but is not on PATH"
        );
        eprintln!("skipping: ripgrep (rg) is not on PATH");
    }
    ok
}

/// The files under `root` (relative, `/`-separated) in which `rg` finds `pattern`: a fixed
/// string when `fixed`, else a regex. The walk is Verity's default (docs/query-language.md
/// §1): files up to 10 MiB, `.gitignore` and `.ignore` honoured without a git repository,
/// hidden files skipped, `target` and `node_modules` excluded. Panics when `rg` fails (exit
/// code 2: a bad pattern or an unreadable tree), since a test must not compare with nothing.
pub fn files_with_matches(root: &Path, pattern: &str, fixed: bool) -> BTreeSet<String> {
    let mut cmd = Command::new("rg");
    cmd.current_dir(root).args([
        "--files-with-matches",
        "--no-config",
        "--no-require-git",
        "--no-messages",
        "--max-filesize",
        "10M",
        "-g",
        "!target",
        "-g",
        "!node_modules",
    ]);
    if fixed {
        cmd.arg("--fixed-strings");
    }
    let out = cmd.arg("-e").arg(pattern).output().expect("run rg");
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "rg failed on {pattern:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("rg prints UTF-8 paths for these trees")
        .lines()
        .map(|l| l.trim_start_matches("./").to_owned())
        .collect()
}
