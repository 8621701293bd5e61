//! Reading qrels (`QID ITER DOCNO REL`) and runs (`QID ITER DOCNO RANK SCORE RUNID`).
//!
//! Both are read line by line, so files of millions of lines stream. Fields are separated by
//! any run of spaces or tabs, as trec_eval reads them. Every problem names the file and line.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Input that cannot be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {message}")]
    Parse {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("unknown measure `{0}` (see `verity eval --help` for the list)")]
    UnknownMeasure(String),
    #[error("bad parameters in `{0}`: cut-offs are whole numbers from 1, recall levels lie in 0..1, multiples of R are positive")]
    BadParameter(String),
}

/// Judgments: query id → document id → relevance value.
#[derive(Debug, Default, Clone)]
pub struct Qrels {
    pub queries: HashMap<String, HashMap<String, i64>>,
}

/// One retrieved document.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrieved {
    pub doc: String,
    pub score: f64,
    /// Line in the run file (for duplicate-document errors).
    pub line: usize,
}

/// A run: query id → retrieved documents in file order.
#[derive(Debug, Default, Clone)]
pub struct Run {
    pub queries: HashMap<String, Vec<Retrieved>>,
    /// The run id of the first line (trec_eval's `runid`).
    pub run_id: String,
    pub path: PathBuf,
}

fn fields(line: &str) -> impl Iterator<Item = &str> {
    line.split([' ', '\t']).filter(|f| !f.is_empty())
}

fn read_lines(
    path: &Path,
    mut each: impl FnMut(usize, &str) -> Result<(), String>,
) -> Result<(), EvalError> {
    let file = std::fs::File::open(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut buf = Vec::with_capacity(256);
    let mut n = 0;
    loop {
        buf.clear();
        let read = reader
            .read_until(b'\n', &mut buf)
            .map_err(|source| EvalError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        if read == 0 {
            return Ok(());
        }
        n += 1;
        let line = std::str::from_utf8(&buf).map_err(|e| EvalError::Parse {
            path: path.to_path_buf(),
            line: n,
            message: format!("not UTF-8 (byte {})", e.valid_up_to() + 1),
        })?;
        let line = line.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        each(n, line).map_err(|message| EvalError::Parse {
            path: path.to_path_buf(),
            line: n,
            message,
        })?;
    }
}

impl Qrels {
    pub fn load(path: &Path) -> Result<Qrels, EvalError> {
        let mut q = Qrels::default();
        read_lines(path, |_, line| {
            let f: Vec<&str> = fields(line).collect();
            let [qid, _iter, doc, rel] = f[..] else {
                return Err(format!(
                    "expected 4 fields (QID ITER DOCNO REL), found {}",
                    f.len()
                ));
            };
            let rel: i64 = rel
                .parse()
                .map_err(|_| format!("relevance `{rel}` is not an integer"))?;
            // A later judgment of the same document replaces the earlier one, as in trec_eval.
            q.queries
                .entry(qid.to_owned())
                .or_default()
                .insert(doc.to_owned(), rel);
            Ok(())
        })?;
        Ok(q)
    }
}

impl Run {
    pub fn load(path: &Path) -> Result<Run, EvalError> {
        let mut run = Run {
            path: path.to_path_buf(),
            ..Run::default()
        };
        // Consecutive lines usually share a query: remember the last one to skip a lookup.
        let mut last_qid = String::new();
        let mut current: Vec<Retrieved> = Vec::new();
        read_lines(path, |n, line| {
            let mut it = fields(line);
            let (Some(qid), Some(_iter), Some(doc), Some(_rank), Some(score), Some(tag)) = (
                it.next(),
                it.next(),
                it.next(),
                it.next(),
                it.next(),
                it.next(),
            ) else {
                return Err(format!(
                    "expected 6 fields (QID ITER DOCNO RANK SCORE RUNID), found {}",
                    fields(line).count()
                ));
            };
            if it.next().is_some() {
                return Err(format!(
                    "expected 6 fields (QID ITER DOCNO RANK SCORE RUNID), found {}",
                    fields(line).count()
                ));
            }
            let score: f64 = score
                .parse()
                .ok()
                .filter(|s: &f64| !s.is_nan())
                .ok_or_else(|| format!("score `{score}` is not a number"))?;
            if run.run_id.is_empty() {
                run.run_id = tag.to_owned();
            }
            if qid != last_qid {
                if !last_qid.is_empty() {
                    run.queries
                        .entry(std::mem::take(&mut last_qid))
                        .or_default()
                        .append(&mut current);
                }
                last_qid = qid.to_owned();
            }
            current.push(Retrieved {
                doc: doc.to_owned(),
                score,
                line: n,
            });
            Ok(())
        })?;
        if !last_qid.is_empty() {
            run.queries
                .entry(last_qid)
                .or_default()
                .append(&mut current);
        }
        Ok(run)
    }
}
