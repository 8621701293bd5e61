//! `verity bench search --peer csearch`: an indexed peer side by side.
//!
//! ripgrep reads every byte, so it is the wrong yardstick for an index; the right one is the
//! engine Verity's design descends from, Russ Cox's codesearch (trigram index, candidates
//! verified with RE2). In the same run as Verity's: its index is built from the same corpus
//! (`cindex`, timed; its size read), and every query it can express runs as a `csearch -l`
//! process per run, through the same adapter `verity validate --backend csearch` uses (a
//! literal becomes an escaped RE2 pattern; a regex is translated or refused where RE2 reads it
//! differently).
//!
//! File sets are compared on the files both engines index. What lies outside is explained, not
//! counted: codesearch skips files with lines over 2,000 bytes, invalid UTF-8 or more than
//! 20,000 distinct trigrams, and indexes files Verity's walk rules skip.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use serde::Serialize;
use verity_core::Deadline;
use verity_validation::adapter::{Tool, ToolBackend};
use verity_validation::protocol::WalkRules;
use verity_validation::{BackendError, BackendQuery, QueryType, SearchBackend};

use crate::error::BenchError;
use crate::stats::median;

/// The peer's index: how long `cindex` took and what it wrote.
#[derive(Debug, Clone, Serialize)]
pub struct PeerBuild {
    /// The peer and its indexer.
    pub name: String,
    /// Files it indexed.
    pub files: usize,
    /// Wall time of the build.
    pub seconds: f64,
    /// Size of its index.
    pub index_bytes: u64,
}

/// One query through the peer.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PeerQuery {
    /// Median wall time of a `csearch` process, ms; none when it cannot express the query.
    pub median_ms: Option<f64>,
    /// Same files as Verity's answer, on the files both index.
    pub same_files: Option<bool>,
    /// Files in one answer and not the other, on the files both index.
    pub unexplained: usize,
    /// Files in one answer only because the other engine does not index them.
    pub explained: usize,
    /// Why the peer cannot run the query, or which files differ.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// codesearch over a corpus, ready to be asked.
pub struct Peer {
    backend: ToolBackend,
    /// The files codesearch indexed.
    files: BTreeSet<String>,
    /// How its index was built.
    pub build: PeerBuild,
}

impl Peer {
    /// Builds codesearch's index of `corpus` (timed with `cindex` alone) and starts the
    /// adapter, which builds its own copy to query.
    pub fn csearch(corpus: &Path, walk: &WalkRules) -> Result<Peer, BenchError> {
        let tmp = tempfile::tempdir()
            .map_err(|e| BenchError::input(format!("temporary directory: {e}")))?;
        let file = tmp.path().join("csearchindex");
        crate::search::settle_writes();
        let started = Instant::now();
        let out = Command::new("cindex")
            .arg(corpus)
            .env("CSEARCHINDEX", &file)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| BenchError::input(format!("--peer csearch: running cindex: {e}")))?;
        let seconds = started.elapsed().as_secs_f64();
        if !out.success() {
            return Err(BenchError::input(format!(
                "--peer csearch: cindex exited with {out}"
            )));
        }
        let index_bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        let backend = ToolBackend::new(Tool::Csearch, corpus, walk)
            .map_err(|e| BenchError::input(format!("--peer csearch: {e}")))?;
        let files: BTreeSet<String> = backend
            .walk()
            .files
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        Ok(Peer {
            build: PeerBuild {
                name: "codesearch (cindex)".into(),
                files: files.len(),
                seconds,
                index_bytes,
            },
            backend,
            files,
        })
    }

    /// Runs `query` `iterations` times (after one untimed run) and compares the files it
    /// found with `ours` (Verity's answer), where `universe` is every file Verity indexes.
    pub fn run(
        &self,
        query: &str,
        iterations: usize,
        ours: &BTreeSet<String>,
        universe: &BTreeSet<String>,
    ) -> PeerQuery {
        let ask = BackendQuery {
            id: "bench",
            query,
            query_type: QueryType::SpecialCharacters,
            k: None,
        };
        let once = || -> Result<(f64, BTreeSet<String>), BackendError> {
            let t = Instant::now();
            let r = self.backend.search(&ask, &Deadline::none())?;
            Ok((
                t.elapsed().as_secs_f64() * 1000.0,
                r.hits.into_iter().map(|h| h.path).collect(),
            ))
        };
        let theirs = match once() {
            Ok((_, files)) => files,
            Err(e) => {
                return PeerQuery {
                    note: Some(e.to_string()),
                    ..PeerQuery::default()
                }
            }
        };
        let mut times = Vec::new();
        for _ in 0..iterations.max(1) {
            match once() {
                Ok((ms, _)) => times.push(ms),
                Err(e) => {
                    return PeerQuery {
                        note: Some(e.to_string()),
                        ..PeerQuery::default()
                    }
                }
            }
        }
        let both = |p: &String| self.files.contains(p) && universe.contains(p);
        let differ: Vec<&String> = ours.symmetric_difference(&theirs).collect();
        let unexplained: Vec<&&String> = differ.iter().filter(|p| both(p)).collect();
        let note = (!unexplained.is_empty()).then(|| {
            let only_ours: Vec<&str> = ours
                .difference(&theirs)
                .filter(|p| both(p))
                .take(3)
                .map(String::as_str)
                .collect();
            let only_theirs: Vec<&str> = theirs
                .difference(ours)
                .filter(|p| both(p))
                .take(3)
                .map(String::as_str)
                .collect();
            format!("only verity {only_ours:?}, only codesearch {only_theirs:?}")
        });
        PeerQuery {
            median_ms: Some(median(&mut times)),
            same_files: Some(unexplained.is_empty()),
            unexplained: unexplained.len(),
            explained: differ.len() - unexplained.len(),
            note,
        }
    }
}
