//! Reading qrels (`QID ITER DOCNO REL`) and runs (`QID ITER DOCNO RANK SCORE RUNID`).
//!
//! Both are read whole and parsed in parallel chunks of lines (a run of 2,000,000 lines is
//! about 60 MB), then gathered in file order. Fields are separated by any run of spaces or
//! tabs, as trec_eval reads them. Every problem names the file and line; the first problem in
//! file order is the one reported.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

/// Input that cannot be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line that is not what the format says.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The line, from 1.
        line: usize,
        /// What is wrong with it.
        message: String,
    },
    /// A `-m` name that is no measure or group.
    #[error("unknown measure `{0}` (see `verity eval --help` for the list)")]
    UnknownMeasure(String),
    #[error("bad parameters in `{0}`: cut-offs are whole numbers from 1, recall levels lie in 0..1, multiples of R are positive, utility takes 4 numbers, set_F and relstring 1, gains are LEVEL=GAIN pairs")]
    /// `-m` parameters a measure does not take.
    BadParameter(String),
    #[error("duplicate cut-offs in `{0}`")]
    /// The same cut-off twice (trec_eval refuses it too).
    DuplicateCutoffs(String),
    #[error("`{0}` needs preference judgments or judgment groups (trec_eval -R prefs or qrels_jg), which verity eval does not read")]
    /// A measure computed from preference judgments or judgment groups.
    OtherInput(String),
    #[error("no query is in both the qrels and the run")]
    /// The qrels and the run share no query (trec_eval exits 7).
    NoQueries,
}

/// A fast hasher for document ids: evaluation looks up every retrieved document (millions),
/// and the ids come from files, not from an adversary.
pub type FastHash = std::hash::BuildHasherDefault<rustc_hash::FxHasher>;

/// One query's judgments: document id → relevance value.
pub type Judgments = HashMap<String, i64, FastHash>;

/// Judgments: query id → document id → relevance value.
#[derive(Debug, Default, Clone)]
pub struct Qrels {
    /// Query id → its judgments.
    pub queries: HashMap<String, Judgments>,
}

/// One retrieved document.
#[derive(Debug, Clone, PartialEq)]
pub struct Retrieved {
    /// The document id.
    pub doc: String,
    /// The score as written (trec_eval compares it in single precision).
    pub score: f64,
    /// Line in the run file (for duplicate-document errors).
    pub line: usize,
}

/// A run: query id → retrieved documents in file order.
#[derive(Debug, Default, Clone)]
pub struct Run {
    /// Query id → its documents in file order.
    pub queries: HashMap<String, Vec<Retrieved>>,
    /// The run id of the first line (trec_eval's `runid`).
    pub run_id: String,
    /// The file it was read from (for errors).
    pub path: PathBuf,
}

/// The fields of a line: separated by runs of spaces and tabs.
fn fields(line: &str) -> Fields<'_> {
    Fields { line, at: 0 }
}

/// An iterator over the fields of a line that looks at bytes: both separators are ASCII, so
/// every field still starts and ends on a character boundary, and no character needs to be
/// decoded (a `char` pattern split decodes every one, and evaluation reads millions of lines).
struct Fields<'a> {
    line: &'a str,
    at: usize,
}

impl<'a> Iterator for Fields<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let b = self.line.as_bytes();
        let sep = |c: u8| c == b' ' || c == b'\t';
        while self.at < b.len() && sep(b[self.at]) {
            self.at += 1;
        }
        if self.at == b.len() {
            return None;
        }
        let start = self.at;
        while self.at < b.len() && !sep(b[self.at]) {
            self.at += 1;
        }
        Some(&self.line[start..self.at])
    }
}

/// Lines of `bytes` in chunks of about `size` bytes, each starting at a line: (bytes, number
/// of the chunk's first line).
fn chunks(bytes: &[u8], size: usize) -> Vec<(&[u8], usize)> {
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut line = 1;
    while !rest.is_empty() {
        let mut end = size.min(rest.len());
        // Extend to the end of the line (a chunk never splits one).
        end = match rest[end..].iter().position(|b| *b == b'\n') {
            Some(i) if end < rest.len() => end + i + 1,
            _ => rest.len(),
        };
        let (chunk, tail) = rest.split_at(end);
        out.push((chunk, line));
        line += newlines(chunk);
        rest = tail;
    }
    out
}

/// A chunk as text: it starts at a line and ends after one, so it is UTF-8 exactly when its
/// lines are. Invalid bytes are an error naming the line.
fn chunk_text<'a>(path: &Path, chunk: &'a [u8], first: usize) -> Result<&'a str, EvalError> {
    std::str::from_utf8(chunk).map_err(|e| {
        let at = e.valid_up_to();
        let start = chunk[..at]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        EvalError::Parse {
            path: path.to_path_buf(),
            line: first + newlines(&chunk[..at]),
            message: format!("not UTF-8 (byte {})", at - start + 1),
        }
    })
}

/// Line ends in `bytes`.
fn newlines(bytes: &[u8]) -> usize {
    bytes.iter().filter(|b| **b == b'\n').count()
}

/// Parses the non-blank lines of `text` (read from `path`) with `each(line)`, in parallel
/// chunks; the results come back per chunk, in file order, with their line numbers. The first
/// failing line, in file order, is the error.
fn parse_lines<'a, T: Send>(
    path: &Path,
    bytes: &'a [u8],
    each: impl Fn(&'a str) -> Result<T, String> + Sync,
) -> Result<Vec<Vec<(usize, T)>>, EvalError> {
    // About 4 MiB a chunk: enough chunks to keep every core busy, few enough to be cheap.
    let parts: Vec<Result<Vec<(usize, T)>, EvalError>> = chunks(bytes, 4 << 20)
        .into_par_iter()
        .map(|(chunk, first)| {
            let chunk = chunk_text(path, chunk, first)?;
            let mut out = Vec::with_capacity(chunk.len() / 32);
            for (i, line) in chunk.split_terminator('\n').enumerate() {
                let line = line.strip_suffix('\r').unwrap_or(line);
                if line.trim().is_empty() {
                    continue;
                }
                let n = first + i;
                let item = each(line).map_err(|message| EvalError::Parse {
                    path: path.to_path_buf(),
                    line: n,
                    message,
                })?;
                out.push((n, item));
            }
            Ok(out)
        })
        .collect();
    // The parts in file order, not copied into one vector: a run's lines are a few hundred
    // megabytes once parsed.
    parts.into_iter().collect()
}

/// The whole file.
fn read(path: &Path) -> Result<Vec<u8>, EvalError> {
    std::fs::read(path).map_err(|source| EvalError::Io {
        path: path.to_path_buf(),
        source,
    })
}

impl Qrels {
    /// Reads a qrels file (`QID ITER DOCNO REL` per line).
    pub fn load(path: &Path) -> Result<Qrels, EvalError> {
        let bytes = read(path)?;
        let lines = parse_lines(path, &bytes, |line| {
            let mut it = fields(line);
            let (Some(qid), Some(_iter), Some(doc), Some(rel), None) =
                (it.next(), it.next(), it.next(), it.next(), it.next())
            else {
                return Err(format!(
                    "expected 4 fields (QID ITER DOCNO REL), found {}",
                    fields(line).count()
                ));
            };
            let rel: i64 = rel
                .parse()
                .map_err(|_| format!("relevance `{rel}` is not an integer"))?;
            Ok((qid, doc, rel))
        })?;
        let mut q = Qrels::default();
        for (_, (qid, doc, rel)) in lines.into_iter().flatten() {
            // A later judgment of the same document replaces the earlier one (trec_eval
            // refuses to evaluate such a query; docs/eval.md).
            q.queries
                .entry(qid.to_owned())
                .or_default()
                .insert(doc.to_owned(), rel);
        }
        Ok(q)
    }
}

/// Reads qrels and a run at the same time (each is also parsed in parallel chunks). The
/// qrels' error comes first when both fail.
pub fn load(qrels: &Path, run: &Path) -> Result<(Qrels, Run), EvalError> {
    let (qrels, run) = rayon::join(|| Qrels::load(qrels), || Run::load(run));
    Ok((qrels?, run?))
}

/// Consecutive lines of one query within a chunk of the run.
struct Stretch<'a> {
    qid: &'a str,
    docs: Vec<Retrieved>,
}

/// A chunk of a run, parsed: its stretches, and the run id of its first line.
type ParsedChunk<'a> = Result<(Vec<Stretch<'a>>, Option<&'a str>), EvalError>;

impl Run {
    /// Reads a run file (`QID ITER DOCNO RANK SCORE RUNID` per line).
    pub fn load(path: &Path) -> Result<Run, EvalError> {
        let bytes = read(path)?;
        // Each chunk gathers its lines into stretches of one query as it parses them, so no
        // per-line intermediate is kept: the stretches are moved into place afterwards.
        let parts: Vec<ParsedChunk<'_>> = chunks(&bytes, 4 << 20)
            .into_par_iter()
            .map(|(chunk, first)| {
                let chunk = chunk_text(path, chunk, first)?;
                let mut stretches: Vec<Stretch<'_>> = Vec::new();
                let mut run_id = None;
                for (i, line) in chunk.split_terminator('\n').enumerate() {
                    let line = line.strip_suffix('\r').unwrap_or(line);
                    if line.trim().is_empty() {
                        continue;
                    }
                    let n = first + i;
                    let (qid, doc, score, tag) =
                        run_line(line).map_err(|message| EvalError::Parse {
                            path: path.to_path_buf(),
                            line: n,
                            message,
                        })?;
                    run_id.get_or_insert(tag);
                    let d = Retrieved {
                        doc: doc.to_owned(),
                        score,
                        line: n,
                    };
                    match stretches.last_mut() {
                        Some(s) if s.qid == qid => s.docs.push(d),
                        _ => stretches.push(Stretch { qid, docs: vec![d] }),
                    }
                }
                Ok((stretches, run_id))
            })
            .collect();
        let mut run = Run {
            path: path.to_path_buf(),
            ..Run::default()
        };
        for part in parts {
            let (stretches, run_id) = part?;
            if run.run_id.is_empty() {
                if let Some(id) = run_id {
                    run.run_id = id.to_owned();
                }
            }
            for s in stretches {
                match run.queries.get_mut(s.qid) {
                    Some(docs) => docs.extend(s.docs),
                    None => {
                        run.queries.insert(s.qid.to_owned(), s.docs);
                    }
                }
            }
        }
        Ok(run)
    }
}

/// The fields of a run line: (query, document, score, run id).
fn run_line(line: &str) -> Result<(&str, &str, f64, &str), String> {
    let mut it = fields(line);
    let (Some(qid), Some(_iter), Some(doc), Some(_rank), Some(score), Some(tag), None) = (
        it.next(),
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
    let score: f64 = score
        .parse()
        .ok()
        .filter(|s: &f64| !s.is_nan())
        .ok_or_else(|| format!("score `{score}` is not a number"))?;
    Ok((qid, doc, score, tag))
}
