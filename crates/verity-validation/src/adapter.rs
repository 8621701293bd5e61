//! Built-in adapters: command-line search tools validated as backends (`--backend rg`,
//! `grep`, `git-grep`, `ugrep`, `csearch`), one process per query.
//!
//! An adapter translates what the tool can express and answers
//! [`BackendError::Unsupported`] for the rest, so that a case is never failed for a query the
//! tool has no syntax for, and never sent with another meaning:
//!
//! | query | `rg` | `grep`, `git-grep`, `ugrep` | `csearch` |
//! |---|---|---|---|
//! | literal | `-F` | `-F` | escaped regex |
//! | regex | as written (Rust's `regex`, Verity's dialect) | when it means the same in GNU ERE ([`ere_pattern`]) | when it means the same in RE2 ([`re2_pattern`]) |
//! | wildcard | the regex of docs/query-language.md §3 | unsupported | unsupported |
//! | OR of literals and regexes | several `-e` | several `-e` | one alternation |
//! | AND, NOT, phrase, NEAR, vector, hybrid | unsupported | unsupported | unsupported |
//!
//! Each adapter also says which files it searches ([`WalkRules`]), so that the truth is
//! computed over the same files: `rg` applies Verity's walk exactly (it is the model for it);
//! the others cannot apply every rule (docs/backends.md has the table), and codesearch's
//! index lists the files it took.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::str::FromStr;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use verity_core::Deadline;
use verity_oracle::syntax::WildPart;
use verity_oracle::{read_request, Expr, Request};

use crate::backend::{BackendError, BackendHit, BackendQuery, BackendResponse, SearchBackend};
use crate::protocol::WalkRules;

/// A command-line search tool Verity can drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    /// ripgrep, `rg`.
    Ripgrep,
    /// GNU grep, `grep -r`.
    Grep,
    /// `git grep --no-index`, outside any repository.
    GitGrep,
    /// ugrep, `ugrep -r`.
    Ugrep,
    /// Russ Cox's codesearch: `cindex` once, then `csearch` per query.
    Csearch,
}

impl FromStr for Tool {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "rg" | "ripgrep" => Ok(Tool::Ripgrep),
            "grep" => Ok(Tool::Grep),
            "git-grep" => Ok(Tool::GitGrep),
            "ugrep" => Ok(Tool::Ugrep),
            "csearch" | "codesearch" => Ok(Tool::Csearch),
            _ => Err(format!(
                "unknown tool `{s}` (expected rg, grep, git-grep, ugrep or csearch)"
            )),
        }
    }
}

/// How a tool reads regexes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// Rust's `regex` crate: Verity's own.
    Rust,
    /// GNU extended regular expressions (with `\w \s \b`).
    Ere,
    /// RE2, as Go's regexp implements it (codesearch).
    Re2,
}

impl Tool {
    /// The name used in `--backend`.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Ripgrep => "rg",
            Tool::Grep => "grep",
            Tool::GitGrep => "git-grep",
            Tool::Ugrep => "ugrep",
            Tool::Csearch => "csearch",
        }
    }

    /// The program run per query.
    pub fn program(self) -> &'static str {
        match self {
            Tool::Ripgrep => "rg",
            Tool::Grep => "grep",
            Tool::GitGrep => "git",
            Tool::Ugrep => "ugrep",
            Tool::Csearch => "csearch",
        }
    }

    fn dialect(self) -> Dialect {
        match self {
            Tool::Ripgrep => Dialect::Rust,
            Tool::Grep | Tool::GitGrep | Tool::Ugrep => Dialect::Ere,
            Tool::Csearch => Dialect::Re2,
        }
    }

    /// The walk the tool applies when asked for `wanted`: the same, except where the tool
    /// has no such rule (then what it does instead). For codesearch the list of indexed
    /// files is added when the index is built.
    pub fn walk_rules(self, wanted: &WalkRules) -> WalkRules {
        match self {
            Tool::Ripgrep => wanted.clone(),
            // GNU grep reads no .gitignore and has no size cap; hidden files and the default
            // excluded directories it skips by name.
            Tool::Grep => WalkRules {
                ignore_files: false,
                max_filesize: u64::MAX,
                ..wanted.clone()
            },
            // git grep --no-index honours .gitignore with --exclude-standard; no size cap.
            Tool::GitGrep => WalkRules {
                max_filesize: u64::MAX,
                ..wanted.clone()
            },
            // ugrep reads .gitignore with --ignore-files; no size cap.
            Tool::Ugrep => WalkRules {
                max_filesize: u64::MAX,
                ..wanted.clone()
            },
            // cindex skips every name that starts with `.` (and editor backups, and files it
            // will not index: see the file list), reads no ignore files, excludes no
            // directory by name and has no size cap below 1 GiB.
            Tool::Csearch => WalkRules {
                hidden: false,
                ignore_files: false,
                default_excludes: false,
                max_filesize: u64::MAX,
                files: None,
            },
        }
    }
}

/// Marks a translated pattern that needs `-i` (never the start of a valid ERE).
const IGNORE_CASE: &str = "(?i)";

/// What to run for a query: fixed strings or regexes, any of which may match.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Patterns {
    Fixed(Vec<String>),
    Regex(Vec<String>),
}

/// A codesearch index built for the run.
struct CodesearchIndex {
    /// Holds the index file; removed with the backend.
    _dir: tempfile::TempDir,
    file: PathBuf,
    /// Indexed files that hold a NUL byte: binary by Verity's definition (docs/backends.md).
    binary: BTreeSet<String>,
}

/// A tool as a backend.
pub struct ToolBackend {
    tool: Tool,
    corpus: PathBuf,
    walk: WalkRules,
    name: String,
    codesearch: Option<CodesearchIndex>,
}

impl ToolBackend {
    /// The tool over `corpus`, asked to search the files of `wanted` (it applies
    /// [`Tool::walk_rules`]). For codesearch, builds its index with `cindex`. Fails when the
    /// tool cannot be run.
    pub fn new(tool: Tool, corpus: &Path, wanted: &WalkRules) -> Result<ToolBackend, BackendError> {
        let corpus = std::fs::canonicalize(corpus)
            .map_err(|e| BackendError::Io(format!("{}: {e}", corpus.display())))?;
        let unavailable = |e: std::io::Error| {
            BackendError::Unavailable(format!("running {}: {e}", tool.program()))
        };
        let name = match tool {
            Tool::Csearch => "codesearch (cindex, csearch)".to_string(),
            _ => {
                let out = Command::new(tool.program())
                    .arg("--version")
                    .output()
                    .map_err(unavailable)?;
                let first = String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .next()
                    .unwrap_or(tool.program())
                    .trim()
                    .to_string();
                match tool {
                    Tool::GitGrep => format!("git grep ({first})"),
                    _ => first,
                }
            }
        };
        let mut walk = tool.walk_rules(wanted);
        let codesearch = match tool {
            Tool::Csearch => {
                let (index, files) = build_codesearch_index(&corpus)?;
                walk.files = Some(files);
                Some(index)
            }
            _ => None,
        };
        Ok(ToolBackend {
            tool,
            corpus,
            walk,
            name,
            codesearch,
        })
    }

    /// The files the tool searches.
    pub fn walk(&self) -> &WalkRules {
        &self.walk
    }

    fn patterns(&self, query: &str) -> Result<Patterns, String> {
        let expr = match read_request(query) {
            Ok(Request::Text(e)) => e,
            Ok(Request::Vector(_)) | Ok(Request::Hybrid(_)) => {
                return Err("vector and hybrid queries need an embedding index".into())
            }
            // Let the tool see what Verity's own parser rejects: a valid case never gets here.
            Err(e) => return Err(format!("not a valid query: {e}")),
        };
        let terms = match expr {
            Expr::Any(terms) => terms,
            one => vec![one],
        };
        if self.tool != Tool::Csearch && terms.iter().all(|t| matches!(t, Expr::Substring(_))) {
            return Ok(Patterns::Fixed(
                terms
                    .into_iter()
                    .map(|t| match t {
                        Expr::Substring(s) => s,
                        _ => unreachable!("checked above"),
                    })
                    .collect(),
            ));
        }
        let regexes = terms
            .iter()
            .map(|t| self.regex(t))
            .collect::<Result<Vec<_>, _>>()?;
        // `-i` folds every pattern of the invocation.
        let folded = regexes
            .iter()
            .filter(|r| r.starts_with(IGNORE_CASE))
            .count();
        if self.tool.dialect() == Dialect::Ere && folded > 0 && folded < regexes.len() {
            return Err("`(?i)` on some alternatives only: -i folds them all".into());
        }
        Ok(Patterns::Regex(regexes))
    }

    /// One term as a regex in the tool's dialect.
    fn regex(&self, term: &Expr) -> Result<String, String> {
        match (self.tool.dialect(), term) {
            (Dialect::Rust | Dialect::Re2, Expr::Substring(s)) => Ok(regex_syntax::escape(s)),
            (Dialect::Rust, Expr::LineRegex(r)) => Ok(r.as_str().to_string()),
            (Dialect::Rust, Expr::Wildcard(parts)) => Ok(wildcard_regex(parts)),
            (Dialect::Ere, Expr::Substring(s)) => Ok(ere_escape(s)),
            (Dialect::Ere, Expr::LineRegex(r)) => match ere_pattern(r.as_str())? {
                (p, false) => Ok(p),
                (p, true) => Ok(format!("{IGNORE_CASE}{p}")),
            },
            (Dialect::Re2, Expr::LineRegex(r)) => re2_pattern(r.as_str()),
            (Dialect::Ere, Expr::Wildcard(_)) => {
                Err("a wildcard needs Unicode word classes, which ERE lacks".into())
            }
            (Dialect::Re2, Expr::Wildcard(_)) => {
                Err("a wildcard needs Unicode word boundaries, which RE2 lacks".into())
            }
            (_, Expr::All(_)) => Err("AND needs more than one search per file".into()),
            (_, Expr::Negate(_)) => Err("NOT needs more than one search per file".into()),
            (_, Expr::Phrase(_)) => Err("a phrase matches tokens across lines".into()),
            (_, Expr::Near { .. }) => Err("NEAR counts tokens across lines".into()),
            (_, Expr::Any(_)) => Err("nested OR".into()),
        }
    }

    fn command(&self, patterns: &Patterns) -> Command {
        let mut cmd = Command::new(self.tool.program());
        cmd.current_dir(&self.corpus);
        // UTF-8, so that `.` and classes match characters as Verity's do.
        cmd.env("LC_ALL", "C.UTF-8");
        let w = &self.walk;
        let mut pathspecs: Vec<String> = Vec::new();
        match self.tool {
            Tool::Ripgrep => {
                cmd.args([
                    "--files-with-matches",
                    "--null",
                    "--no-config",
                    "--no-messages",
                    "--no-require-git",
                    "--no-ignore-global",
                ]);
                if w.max_filesize != u64::MAX {
                    cmd.arg("--max-filesize").arg(w.max_filesize.to_string());
                }
                if w.hidden {
                    cmd.arg("--hidden");
                }
                if !w.ignore_files {
                    cmd.arg("--no-ignore");
                }
                if w.default_excludes {
                    cmd.args(["-g", "!.git", "-g", "!target", "-g", "!node_modules"]);
                }
            }
            Tool::Grep => {
                cmd.args(["-r", "-l", "-Z", "-s", "--binary-files=without-match"]);
                if !w.hidden {
                    cmd.args(["--exclude=.*", "--exclude-dir=.*"]);
                }
                if w.default_excludes {
                    cmd.args([
                        "--exclude-dir=.git",
                        "--exclude-dir=target",
                        "--exclude-dir=node_modules",
                    ]);
                }
            }
            Tool::GitGrep => {
                // No user or system configuration (a global excludes file, a pager, colour).
                cmd.env("GIT_CONFIG_NOSYSTEM", "1")
                    .env("GIT_CONFIG_GLOBAL", "/dev/null")
                    .env("HOME", "/nonexistent");
                cmd.args(["grep", "--no-index", "-l", "-z", "-I", "--no-color"]);
                if w.ignore_files {
                    cmd.arg("--exclude-standard");
                }
                if !w.hidden {
                    pathspecs.push(":(exclude,glob)**/.*".into());
                    pathspecs.push(":(exclude,glob)**/.*/**".into());
                }
                if w.default_excludes {
                    for d in [".git", "target", "node_modules"] {
                        pathspecs.push(format!(":(exclude,glob)**/{d}/**"));
                    }
                }
            }
            Tool::Ugrep => {
                cmd.args(["-r", "-l", "--null", "-s", "-I"]);
                if w.hidden {
                    cmd.arg("--hidden");
                }
                if w.ignore_files {
                    cmd.args(["--ignore-files=.gitignore", "--ignore-files=.ignore"]);
                }
                if w.default_excludes {
                    cmd.args([
                        "--exclude-dir=.git",
                        "--exclude-dir=target",
                        "--exclude-dir=node_modules",
                    ]);
                }
            }
            Tool::Csearch => {
                if let Some(index) = &self.codesearch {
                    cmd.env("CSEARCHINDEX", &index.file);
                }
                cmd.arg("-l");
                // One pattern: the alternatives joined.
                let joined = match patterns {
                    Patterns::Fixed(p) | Patterns::Regex(p) => p
                        .iter()
                        .map(|x| format!("(?:{x})"))
                        .collect::<Vec<_>>()
                        .join("|"),
                };
                cmd.arg("--").arg(joined);
                return cmd;
            }
        }
        let list = match patterns {
            Patterns::Fixed(p) => {
                cmd.arg("-F");
                p
            }
            Patterns::Regex(p) => {
                if self.tool.dialect() == Dialect::Ere {
                    cmd.arg("-E");
                    if p.iter().any(|x| x.starts_with(IGNORE_CASE)) {
                        cmd.arg("-i");
                    }
                }
                p
            }
        };
        for p in list {
            // The marker is for the ERE tools alone: for rg, `(?i)` is part of the regex.
            let p = match self.tool.dialect() {
                Dialect::Ere => p.strip_prefix(IGNORE_CASE).unwrap_or(p),
                _ => p,
            };
            cmd.arg("-e").arg(p);
        }
        // No path operand: the tools then search the working directory (the corpus) and
        // print paths relative to it. (GNU grep would apply --exclude-dir=.* to an explicit
        // `.` and search nothing.)
        if !pathspecs.is_empty() {
            cmd.arg("--").args(&pathspecs);
        }
        cmd
    }

    /// The corpus-relative paths in a tool's output.
    ///
    /// The tools print names as raw bytes; they become Verity's lossless text form
    /// ([`verity_core::path`]), so a name that is not UTF-8 is compared byte for byte.
    fn paths(&self, out: &[u8]) -> Vec<String> {
        let text = |b: &[u8]| verity_core::path::from_bytes(b).into_owned();
        let mut paths: Vec<String> = match self.tool {
            Tool::Csearch => {
                let root = crate::adapter::path_bytes(&self.corpus);
                out.split(|b| *b == b'\n')
                    .map(|l| {
                        let l = l.strip_suffix(b"\r").unwrap_or(l);
                        let rel = l
                            .strip_prefix(root.as_slice())
                            .and_then(|r| r.strip_prefix(b"/"))
                            .unwrap_or(l);
                        text(rel)
                    })
                    .collect()
            }
            _ => out
                .split(|b| *b == 0)
                .map(|l| {
                    let l = l.strip_prefix(b"\n").unwrap_or(l);
                    text(l.strip_prefix(b"./").unwrap_or(l))
                })
                .collect(),
        };
        paths.retain(|p| !p.is_empty());
        if let Some(index) = &self.codesearch {
            // codesearch indexes files with NUL bytes; Verity's language defines them as
            // binary, never matching (docs/backends.md: a documented difference).
            paths.retain(|p| !index.binary.contains(p));
        }
        paths.sort();
        paths.dedup();
        paths
    }
}

/// The bytes of a path (its text form where paths are not bytes).
fn path_bytes(p: &Path) -> Vec<u8> {
    #[cfg(unix)]
    {
        std::os::unix::ffi::OsStrExt::as_bytes(p.as_os_str()).to_vec()
    }
    #[cfg(not(unix))]
    {
        p.to_string_lossy().into_owned().into_bytes()
    }
}

/// Builds a codesearch index of `corpus` in a temporary directory; returns it and the
/// corpus-relative files it took (from `cindex -verbose`).
fn build_codesearch_index(corpus: &Path) -> Result<(CodesearchIndex, Vec<String>), BackendError> {
    let dir =
        tempfile::tempdir().map_err(|e| BackendError::Io(format!("temporary directory: {e}")))?;
    let file = dir.path().join("csearchindex");
    let out = Command::new("cindex")
        .arg("-verbose")
        .arg(corpus)
        .env("CSEARCHINDEX", &file)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| BackendError::Unavailable(format!("running cindex: {e}")))?;
    if !out.status.success() {
        return Err(BackendError::Unavailable(format!(
            "cindex {} exited with {}: {}",
            corpus.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    // Lines read `DATE TIME SIZE TRIGRAMS PATH` for every file indexed.
    let root = format!("{}/", corpus.display());
    let mut files = Vec::new();
    for line in String::from_utf8_lossy(&out.stderr).lines() {
        let mut parts = line.splitn(5, ' ');
        let (_, _, a, b, path) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        );
        let numbers = a.is_some_and(|x| x.parse::<u64>().is_ok())
            && b.is_some_and(|x| x.parse::<u64>().is_ok());
        if let (true, Some(rel)) = (numbers, path.and_then(|p| p.strip_prefix(&root))) {
            files.push(rel.to_string());
        }
    }
    let binary = files
        .iter()
        .filter(|f| std::fs::read(corpus.join(f)).is_ok_and(|b| b.contains(&0)))
        .cloned()
        .collect();
    Ok((
        CodesearchIndex {
            _dir: dir,
            file,
            binary,
        },
        files,
    ))
}

impl SearchBackend for ToolBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn reports_lines(&self) -> bool {
        false
    }

    fn walk_rules(&self) -> Option<WalkRules> {
        Some(self.walk.clone())
    }

    fn search(
        &self,
        q: &BackendQuery<'_>,
        deadline: &Deadline,
    ) -> Result<BackendResponse, BackendError> {
        let patterns = self
            .patterns(q.query)
            .map_err(|why| BackendError::Unsupported(format!("{}: {why}", self.tool.name())))?;
        let mut child = self
            .command(&patterns)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| BackendError::Unavailable(format!("{}: {e}", self.tool.program())))?;
        let mut stdout = child.stdout.take().expect("stdout is piped");
        let mut stderr = child.stderr.take().expect("stderr is piped");
        // Read both pipes to their end on threads (a full pipe would stall the tool), and wait
        // for the output no longer than the deadline.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut out = Vec::new();
            let r = stdout.read_to_end(&mut out).map(|_| out);
            let _ = tx.send(r);
        });
        let err_reader = std::thread::spawn(move || {
            let mut err = Vec::new();
            let _ = stderr.read_to_end(&mut err);
            err
        });
        let wait = deadline
            .instant()
            .map(|t| t.saturating_duration_since(Instant::now()))
            .unwrap_or(Duration::MAX);
        let out = match rx.recv_timeout(wait) {
            Ok(Ok(out)) => out,
            Ok(Err(e)) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(BackendError::Io(format!("{}: {e}", self.tool.program())));
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(BackendError::Timeout);
            }
        };
        let status = child
            .wait()
            .map_err(|e| BackendError::Io(format!("{}: {e}", self.tool.program())))?;
        let err = err_reader.join().unwrap_or_default();
        // 0: matches, 1: none. 2 is an error, which the tools also report for an unreadable
        // file while still listing the rest: only an error with no output is the query's.
        match status.code() {
            Some(0 | 1) => {}
            Some(2) if !out.is_empty() => {}
            _ => {
                return Err(BackendError::Rejected(format!(
                    "{} exited with {status}: {}",
                    self.tool.name(),
                    String::from_utf8_lossy(&err).trim()
                )))
            }
        }
        Ok(BackendResponse {
            approximate: false,
            hits: self
                .paths(&out)
                .into_iter()
                .map(|path| BackendHit {
                    path,
                    score: 0.0,
                    lines: Vec::new(),
                    chunks: Vec::new(),
                })
                .collect(),
        })
    }
}

/// A wildcard as the regex docs/query-language.md §3 defines: whole words within one line.
fn wildcard_regex(parts: &[WildPart]) -> String {
    const WORD: &str = r"[\p{Alphabetic}\p{N}_]";
    const NOT_WORD: &str = r"[^\p{Alphabetic}\p{N}_]";
    let mut re = format!("(?:^|{NOT_WORD})");
    for p in parts {
        match p {
            WildPart::Char(c) => re.push_str(&regex_syntax::escape(&c.to_string())),
            WildPart::AnyRun => re.push_str(&format!("{WORD}*")),
            WildPart::One => re.push_str(WORD),
            WildPart::Gap => re.push_str(r"\s+"),
        }
    }
    re.push_str(&format!("(?:{NOT_WORD}|$)"));
    re
}

/// A literal as a POSIX ERE.
fn ere_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if r"\.[]()*+?{}|^$".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A Rust regex as a GNU ERE (`grep -E`), when it is written in the syntax the two share:
/// characters, `.`, bracket expressions without escapes or set operations, `* + ? {m,n}`,
/// `|`, groups, `^ $`, a backslash before a metacharacter, and GNU's `\w \W \s \S \b \B`.
/// `(?:…)` becomes `(…)` (ERE has no back-references, so capturing changes nothing), and a
/// leading `(?i)` becomes `grep -i` (the returned flag). Anything else (`\d`, `\p{…}`, other
/// flags) is refused with the reason, and the case is reported unsupported rather than sent
/// with another meaning. Where the shared syntax still differs (Unicode tables of `\w`, case
/// folding), validation is what finds out: docs/backends.md lists what it found.
pub fn ere_pattern(pattern: &str) -> Result<(String, bool), String> {
    let (pattern, ignore_case) = match pattern.strip_prefix("(?i)") {
        Some(rest) => (rest, true),
        None => (pattern, false),
    };
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = String::with_capacity(pattern.len());
    let mut i = 0;
    while i < chars.len() {
        let from = i;
        match chars[i] {
            '\\' => match chars.get(i + 1) {
                Some(c) if r"\.[]()*+?{}|^$wWsSbB".contains(*c) => i += 2,
                Some(c) => return Err(format!("`\\{c}` has no GNU ERE equivalent")),
                None => return Err("a trailing backslash".into()),
            },
            '(' if chars.get(i + 1) == Some(&'?') => {
                if chars.get(i + 2) == Some(&':') {
                    out.push('(');
                    i += 3;
                    continue;
                }
                return Err("`(?` flags have no GNU ERE equivalent (but a leading `(?i)`)".into());
            }
            '[' => {
                // A bracket expression: up to the first `]` that is not its first member.
                i += 1;
                if chars.get(i) == Some(&'^') {
                    i += 1;
                }
                if chars.get(i) == Some(&']') {
                    i += 1;
                }
                loop {
                    match chars.get(i) {
                        None => return Err("an unclosed bracket expression".into()),
                        Some(']') => break,
                        Some('\\') => {
                            return Err(
                                "a backslash in a bracket expression is literal in POSIX ERE"
                                    .into(),
                            )
                        }
                        Some('[') if chars.get(i + 1) == Some(&':') => {
                            // A POSIX class such as [:alpha:]: means the same in both.
                            match chars[i..].iter().collect::<String>().find(":]") {
                                Some(end) => i += end + 2,
                                None => return Err("an unclosed character class".into()),
                            }
                        }
                        Some('[') => return Err("a nested bracket expression is a Rust set".into()),
                        Some('&' | '-' | '~') if chars.get(i + 1) == chars.get(i) => {
                            return Err(format!(
                                "`{}{}` is a Rust set operation",
                                chars[i], chars[i]
                            ))
                        }
                        Some(_) => i += 1,
                    }
                }
                i += 1;
            }
            _ => i += 1,
        }
        out.extend(&chars[from..i]);
    }
    Ok((out, ignore_case))
}

/// A Rust regex as RE2 (Go's regexp, codesearch), when the two read it alike. The syntax is
/// largely shared (Rust's was modelled on RE2); what differs in meaning is refused: Perl
/// classes and word boundaries (`\w \d \s \b` and their negations are ASCII in RE2, Unicode in
/// Rust), class set operations and nested classes (Rust only), `{,n}`, and flags other than
/// `i m s U`.
pub fn re2_pattern(pattern: &str) -> Result<String, String> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut in_class = false;
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                match chars.get(i + 1) {
                    Some(c) if "wWdDsSbB".contains(*c) => {
                        return Err(format!(
                            "`\\{c}` is ASCII in RE2 and Unicode in Rust's regex"
                        ))
                    }
                    None => return Err("a trailing backslash".into()),
                    _ => {}
                }
                i += 2;
                continue;
            }
            '[' if in_class && chars.get(i + 1) != Some(&':') => {
                return Err("a nested class is a Rust set".into());
            }
            '[' if in_class => {}
            '[' => in_class = true,
            ']' if in_class => in_class = false,
            '&' | '-' | '~' if in_class && chars.get(i + 1) == Some(&chars[i]) => {
                return Err(format!(
                    "`{}{}` is a Rust set operation",
                    chars[i], chars[i]
                ));
            }
            '{' if !in_class && chars.get(i + 1) == Some(&',') => {
                return Err("`{,n}` is Rust-only".into());
            }
            '(' if !in_class && chars.get(i + 1) == Some(&'?') => {
                let flags: String = chars[i + 2..]
                    .iter()
                    .take_while(|c| **c != ')' && **c != ':')
                    .collect();
                if !flags.chars().all(|c| "imsU-".contains(c)) {
                    return Err(format!("`(?{flags}` is not an RE2 group or flag"));
                }
            }
            _ => {}
        }
        i += 1;
    }
    Ok(pattern.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backend(tool: Tool) -> ToolBackend {
        ToolBackend {
            tool,
            corpus: PathBuf::from("."),
            walk: tool.walk_rules(&WalkRules::default()),
            name: tool.name().into(),
            codesearch: None,
        }
    }

    #[test]
    fn re2_accepts_what_it_reads_alike_and_refuses_the_rest() {
        for ok in [
            "foo.*bar",
            r"fn [a-z_]+\(",
            "(?i)foo",
            "(?:a|b)",
            r"\p{L}+",
            "[[:alpha:]]",
        ] {
            assert_eq!(re2_pattern(ok).as_deref(), Ok(ok), "{ok}");
        }
        for bad in [
            r"\w+", r"\bfoo", r"\d", "[a&&b]", "[[a]]", "a{,3}", "(?x)a b",
        ] {
            assert!(re2_pattern(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ere_accepts_the_shared_syntax_and_refuses_the_rest() {
        for ok in [
            "foo.*bar",
            r"fn [a-z_]+\(",
            "^use (std|core)::",
            "[[:alpha:]]{2,3}$",
            "[]a]x",
            r"a\|b\.",
            r"\bfoo\w*\s*$",
        ] {
            assert_eq!(ere_pattern(ok), Ok((ok.to_string(), false)), "{ok}");
        }
        assert_eq!(ere_pattern("(?i)a(?:b|c)"), Ok(("a(b|c)".into(), true)));
        for bad in [
            r"\d+", "a(?i)foo", "(?s:.)", r"[\w]", "[a&&b]", "[[a]]", r"\p{L}",
        ] {
            assert!(ere_pattern(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn literals_become_fixed_strings_and_the_rest_regexes_or_unsupported() {
        let rg = backend(Tool::Ripgrep);
        assert_eq!(
            rg.patterns("Result<T, E>"),
            Ok(Patterns::Fixed(vec!["Result<T, E>".into()]))
        );
        assert_eq!(
            rg.patterns("foo OR bar"),
            Ok(Patterns::Fixed(vec!["foo".into(), "bar".into()]))
        );
        assert_eq!(
            rg.patterns("foo OR /ba+r/"),
            Ok(Patterns::Regex(vec!["foo".into(), "ba+r".into()]))
        );
        assert!(rg.patterns("foo AND bar").is_err());
        assert!(rg.patterns("\"a b\"").is_err());
        let re = match rg.patterns("Data*").unwrap() {
            Patterns::Regex(r) => regex::Regex::new(&r[0]).unwrap(),
            p => panic!("{p:?}"),
        };
        assert!(re.is_match("let x: DataFrame = 1;"));
        assert!(!re.is_match("MyDataFrame"));
    }

    fn args(b: &ToolBackend, query: &str) -> Vec<String> {
        let p = b.patterns(query).unwrap();
        b.command(&p)
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    /// Found on real code: rg was sent `FMTID` for `regex:(?i)FMTID`, grep's `-i` marker
    /// stripped from its pattern too.
    #[test]
    fn case_folding_reaches_each_tool_in_its_own_syntax() {
        let mut b = backend(Tool::Ripgrep);
        let rg = args(&b, "regex:(?i)FMTID");
        assert_eq!(&rg[rg.len() - 2..], ["-e", "(?i)FMTID"]);
        assert!(!rg.contains(&"-i".to_string()));
        b.tool = Tool::Grep;
        let grep = args(&b, "regex:(?i)FMTID");
        assert_eq!(&grep[grep.len() - 2..], ["-e", "FMTID"]);
        assert!(grep.contains(&"-i".to_string()));
        assert!(grep.contains(&"-E".to_string()));
    }
}
