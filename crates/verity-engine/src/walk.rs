//! Which files of a directory tree are part of the corpus.
//!
//! The walk follows ripgrep's defaults, so that `rg` run with the same flags sees the same files:
//! `.gitignore`, `.ignore` and `.git/info/exclude` rules are honoured (also outside a git
//! repository, like `rg --no-require-git`), hidden files and directories are skipped, symbolic
//! links are not followed. On top of that, directories named `.git`, `target` and
//! `node_modules` are skipped unless [`WalkOptions::default_excludes`] is off.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Directory names skipped by default.
pub const DEFAULT_EXCLUDED_DIRS: &[&str] = &[".git", "target", "node_modules"];

/// Default size cap: files larger than this are skipped.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// Settings of a corpus walk; stored with the index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WalkOptions {
    /// Honour .gitignore / .ignore files.
    pub respect_ignore_files: bool,
    /// Include hidden files and directories.
    pub hidden: bool,
    /// Skip directories named in [`DEFAULT_EXCLUDED_DIRS`].
    pub default_excludes: bool,
    /// Files larger than this many bytes are skipped.
    pub max_file_size: u64,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            respect_ignore_files: true,
            hidden: false,
            default_excludes: true,
            max_file_size: DEFAULT_MAX_FILE_SIZE,
        }
    }
}

/// Why a file found by the walk is not in the corpus.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// Contains a NUL byte.
    Binary,
    /// Larger than the size cap.
    TooLarge,
    /// Could not be read (permissions, vanished, I/O error).
    Unreadable,
    /// A symbolic link (links are not followed).
    Symlink,
    /// Not a regular file (socket, FIFO, device).
    NotAFile,
    /// The walk itself failed here (unreadable directory, link loop).
    WalkError,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipReason::Binary => "binary",
            SkipReason::TooLarge => "too large",
            SkipReason::Unreadable => "unreadable",
            SkipReason::Symlink => "symlink",
            SkipReason::NotAFile => "not a regular file",
            SkipReason::WalkError => "walk error",
        })
    }
}

/// A skipped entry: what, where and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// Corpus-relative path with `/` separators.
    pub path: String,
    /// Why it was skipped.
    pub reason: SkipReason,
    /// The underlying error, when there was one.
    pub detail: Option<String>,
}

/// A file the walk selected, before it is read.
#[derive(Debug, Clone)]
pub struct WalkedFile {
    /// Absolute (or root-joined) path to read.
    pub abs: PathBuf,
    /// Corpus-relative path with `/` separators.
    pub rel: String,
    /// Size in bytes.
    pub size: u64,
    /// Modification time in ns since the epoch (0 when unknown).
    pub mtime_ns: u64,
}

/// Result of a walk: the selected files (sorted by relative path) and what was skipped.
#[derive(Debug, Default)]
pub struct Walk {
    /// The selected files, by relative path.
    pub files: Vec<WalkedFile>,
    /// What was skipped, with the reason.
    pub skipped: Vec<Skipped>,
}

/// Corpus-relative path of `path` under `root`, with `/` separators, as lossless text (a file
/// name that is not UTF-8 keeps its bytes: [`verity_core::path`]).
pub fn relative_path(root: &Path, path: &Path) -> String {
    verity_core::path::relative(root, path)
}

/// Walks `root` and returns the files of the corpus. `exclude` is a path (for example the index
/// directory) that is never part of the corpus.
pub fn walk(root: &Path, opts: &WalkOptions, exclude: Option<&Path>) -> Walk {
    let mut builder = ignore::WalkBuilder::new(root);
    builder
        .hidden(!opts.hidden)
        .parents(opts.respect_ignore_files)
        .ignore(opts.respect_ignore_files)
        .git_ignore(opts.respect_ignore_files)
        .git_global(false)
        .git_exclude(opts.respect_ignore_files)
        .require_git(false)
        .follow_links(false);
    let default_excludes = opts.default_excludes;
    let exclude = exclude.and_then(|p| p.canonicalize().ok());
    builder.filter_entry(move |e| {
        let is_dir = e.file_type().is_some_and(|t| t.is_dir());
        if is_dir && default_excludes && e.depth() > 0 {
            if let Some(name) = e.file_name().to_str() {
                if DEFAULT_EXCLUDED_DIRS.contains(&name) {
                    return false;
                }
            }
        }
        if let (true, Some(ex)) = (is_dir, &exclude) {
            if e.path().canonicalize().ok().as_ref() == Some(ex) {
                return false;
            }
        }
        true
    });

    // Directories are listed and files stat'ed by several threads (ignore's parallel walker,
    // as in ripgrep): on the cargo registry sources (13,500 files) the one-thread walk was
    // 110-350 ms of a 3.5 s build. The parallel walker does not sort; the lists are sorted
    // after.
    let out = std::sync::Mutex::new(Walk::default());
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    builder.threads(threads).build_parallel().run(|| {
        let out = &out;
        Box::new(move |entry| {
            if let Some(item) = visit(root, opts, entry) {
                let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
                match item {
                    Ok(file) => out.files.push(file),
                    Err(skipped) => out.skipped.push(skipped),
                }
            }
            ignore::WalkState::Continue
        })
    });
    let mut out = out.into_inner().unwrap_or_else(|e| e.into_inner());
    out.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    out.skipped.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// What one entry of the walk is: a file of the corpus, something skipped, or neither (a
/// directory).
fn visit(
    root: &Path,
    opts: &WalkOptions,
    entry: Result<ignore::DirEntry, ignore::Error>,
) -> Option<Result<WalkedFile, Skipped>> {
    let entry = match entry {
        Ok(e) => e,
        Err(err) => {
            let path = error_path(&err)
                .map(|p| relative_path(root, &p))
                .unwrap_or_default();
            return Some(Err(Skipped {
                path,
                reason: SkipReason::WalkError,
                detail: Some(err.to_string()),
            }));
        }
    };
    // `None`: stdin, never produced for a directory walk.
    let ft = entry.file_type()?;
    if ft.is_dir() {
        return None;
    }
    let rel = relative_path(root, entry.path());
    let skipped = |rel, reason, detail| {
        Some(Err(Skipped {
            path: rel,
            reason,
            detail,
        }))
    };
    if ft.is_symlink() {
        return skipped(rel, SkipReason::Symlink, None);
    }
    if !ft.is_file() {
        return skipped(rel, SkipReason::NotAFile, None);
    }
    let meta = match entry.metadata() {
        Ok(m) => m,
        Err(err) => return skipped(rel, SkipReason::Unreadable, Some(err.to_string())),
    };
    if meta.len() > opts.max_file_size {
        return skipped(
            rel,
            SkipReason::TooLarge,
            Some(format!("{} bytes", meta.len())),
        );
    }
    let mtime_ns = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as u64);
    Some(Ok(WalkedFile {
        abs: entry.into_path(),
        rel,
        size: meta.len(),
        mtime_ns,
    }))
}

fn error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}
