//! Writing a report's formats into a directory. Each file is written to a temporary file in
//! the same directory and renamed into place, so a reader (or a CI artifact upload) never sees
//! a half-written report, even if the run is killed while writing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::model::Report;
use crate::{html, junit, markdown, trec};

/// An output format of `verity validate --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// report.json
    Json,
    /// junit.xml
    Junit,
    /// report.md
    Markdown,
    /// report.html
    Html,
    /// run.trec and qrels.trec
    Trec,
}

impl Format {
    /// Every format, in the order they are written.
    pub const ALL: [Format; 5] = [
        Format::Json,
        Format::Junit,
        Format::Markdown,
        Format::Html,
        Format::Trec,
    ];

    /// The files this format writes.
    pub fn files(self) -> &'static [&'static str] {
        match self {
            Format::Json => &["report.json"],
            Format::Junit => &["junit.xml"],
            Format::Markdown => &["report.md"],
            Format::Html => &["report.html"],
            Format::Trec => &["run.trec", "qrels.trec"],
        }
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "json" => Format::Json,
            "junit" => Format::Junit,
            "md" | "markdown" => Format::Markdown,
            "html" => Format::Html,
            "trec" => Format::Trec,
            _ => {
                return Err(format!(
                    "unknown format `{s}` (expected json, junit, md, html or trec)"
                ))
            }
        })
    }
}

fn write_atomic(dir: &Path, name: &str, contents: &str) -> std::io::Result<PathBuf> {
    // A hidden sibling with the process id, so concurrent writers into one directory do not
    // collide; `std::fs` creates it with the usual permissions (CI artifacts must be readable).
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join(name))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map(|()| dir.join(name))
}

/// Writes `formats` of `report` into `dir` (created if needed); returns the files written.
pub fn write_reports(
    report: &Report,
    dir: &Path,
    formats: &[Format],
) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let mut written = Vec::new();
    let mut put = |name: &str, text: String| -> Result<(), String> {
        let p = write_atomic(dir, name, &text)
            .map_err(|e| format!("{}: {e}", dir.join(name).display()))?;
        written.push(p);
        Ok(())
    };
    for f in formats {
        match f {
            Format::Json => put(
                "report.json",
                serde_json::to_string_pretty(report).expect("reports serialize") + "\n",
            )?,
            Format::Junit => put("junit.xml", junit::render(report))?,
            Format::Markdown => put("report.md", markdown::render(report))?,
            Format::Html => put("report.html", html::render(report))?,
            Format::Trec => {
                put("run.trec", trec::run_file(report))?;
                put("qrels.trec", trec::qrels_file(report))?;
            }
        }
    }
    // The renames themselves survive a power loss only once the directory is synced.
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(written)
}
