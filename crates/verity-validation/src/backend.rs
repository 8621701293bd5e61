//! What the validator talks to: any search engine behind [`SearchBackend`].

use std::path::Path;

use verity_engine::{CodeIndex, Deadline, EngineError, SearchOptions, VectorSearch};
use verity_oracle::nearest::ChunkTable;
use verity_oracle::request::{HybridRequest, VectorRequest};
use verity_oracle::{read_request, Corpus, Oracle, Request};

use crate::truth::{GroundTruthCase, QueryType};

/// One returned file.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendHit {
    /// The file's path, relative to the corpus root, `/`-separated.
    pub path: String,
    /// The backend's score; only its order matters (ranked types), and backends without
    /// scores report 0.
    pub score: f32,
    /// Reported matching lines: (1-based number, text).
    pub lines: Vec<(usize, String)>,
    /// Vector and hybrid answers: the file's returned chunks as (first line, last line,
    /// similarity).
    pub chunks: Vec<(usize, usize, f32)>,
}

/// A backend's answer, best first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BackendResponse {
    /// The returned files, best first.
    pub hits: Vec<BackendHit>,
    /// The ranking is approximate (an HNSW graph): judged by recall@k, not equality.
    pub approximate: bool,
}

/// A query that could not run. These are *errors*, retried by the parallel engine; a wrong
/// answer is a *failure* and is reported by the validator instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackendError {
    /// The query ran past its deadline.
    #[error("timed out")]
    Timeout,
    /// The run was cancelled while the query ran.
    #[error("cancelled")]
    Cancelled,
    /// The backend could not be reached or started (a process that exited, a refused
    /// connection, a missing index).
    #[error("backend unavailable: {0}")]
    Unavailable(String),
    /// Reading or writing failed on the way to or from the backend.
    #[error("i/o error: {0}")]
    Io(String),
    /// The backend refused the query as invalid. The truth holds only valid queries, so this
    /// is a wrong answer, not a transient error: the validator reports it as a failure.
    #[error("query rejected: {0}")]
    Rejected(String),
    /// The backend cannot run this kind of query (a vector query on an index without vectors,
    /// a phrase for grep): the case is reported as unsupported, neither passed nor failed.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// The backend broke the protocol (a line that is not a response, a process that died):
    /// it is restarted and the case retried.
    #[error("protocol error: {0}")]
    Protocol(String),
}

impl From<verity_core::Interrupted> for BackendError {
    fn from(i: verity_core::Interrupted) -> Self {
        match i {
            verity_core::Interrupted::TimedOut => BackendError::Timeout,
            verity_core::Interrupted::Cancelled => BackendError::Cancelled,
        }
    }
}

impl BackendError {
    /// Is another attempt worthwhile?
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            BackendError::Timeout
                | BackendError::Unavailable(_)
                | BackendError::Io(_)
                | BackendError::Protocol(_)
        )
    }
}

/// What a backend is asked: the query in Verity's language (docs/query-language.md) and what
/// the case says about it, so that a backend with another query language can translate it
/// (or say it cannot).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackendQuery<'a> {
    /// The case's id, for backends that log or correlate.
    pub id: &'a str,
    /// The query, in Verity's query language.
    pub query: &'a str,
    /// The kind of query.
    pub query_type: QueryType,
    /// For ranked types, how many results are judged.
    pub k: Option<usize>,
}

impl<'a> BackendQuery<'a> {
    /// The query of `case`.
    pub fn of(case: &'a GroundTruthCase) -> Self {
        BackendQuery {
            id: &case.id,
            query: &case.query,
            query_type: case.query_type,
            k: case.k,
        }
    }

    /// The same request with another query text (for backends that rewrite queries).
    pub fn with_query<'b>(&self, query: &'b str) -> BackendQuery<'b>
    where
        'a: 'b,
    {
        BackendQuery { query, ..*self }
    }
}

/// A search engine under validation.
pub trait SearchBackend: Send + Sync {
    /// A short name for reports.
    fn name(&self) -> &str;
    /// Does the backend report matching lines (so content rules can be checked)?
    fn reports_lines(&self) -> bool {
        true
    }
    /// Which files the backend searches, when it differs from or may differ from Verity's
    /// walk: the truth is then computed over the same files. `None`: Verity's walk as asked.
    fn walk_rules(&self) -> Option<crate::walk::WalkRules> {
        None
    }
    /// Runs a query; must give up with [`BackendError::Timeout`] once `deadline` passes, and
    /// answer [`BackendError::Unsupported`] for a query it cannot express.
    fn search(
        &self,
        query: &BackendQuery<'_>,
        deadline: &Deadline,
    ) -> Result<BackendResponse, BackendError>;
}

/// The embedded engine.
pub struct EngineBackend {
    index: CodeIndex,
    vector_search: Option<VectorSearch>,
}

impl EngineBackend {
    /// The engine over an open index, searching vectors in the index's own mode.
    pub fn new(index: CodeIndex) -> Self {
        EngineBackend {
            index,
            vector_search: None,
        }
    }

    /// The engine over the index in `dir`.
    pub fn open(dir: &Path) -> Result<Self, EngineError> {
        Ok(EngineBackend::new(CodeIndex::open(dir)?))
    }

    /// Vector searches in `mode` instead of the index's own.
    pub fn with_vector_search(mut self, mode: Option<VectorSearch>) -> Self {
        self.vector_search = mode;
        self
    }

    /// The index it searches.
    pub fn index(&self) -> &CodeIndex {
        &self.index
    }
}

impl SearchBackend for EngineBackend {
    fn name(&self) -> &str {
        "verity-engine"
    }

    fn search(
        &self,
        query: &BackendQuery<'_>,
        deadline: &Deadline,
    ) -> Result<BackendResponse, BackendError> {
        let query = query.query;
        let opts = SearchOptions {
            deadline: deadline.clone(),
            vector_search: self.vector_search,
            ..SearchOptions::default()
        };
        match self.index.search(query, &opts) {
            Ok(r) => Ok(BackendResponse {
                approximate: r.approximate,
                hits: r
                    .hits
                    .into_iter()
                    .map(|h| BackendHit {
                        path: h.path,
                        score: h.score,
                        lines: h.lines.into_iter().map(|l| (l.line, l.text)).collect(),
                        chunks: h
                            .chunks
                            .into_iter()
                            .map(|c| (c.first_line, c.last_line, c.similarity))
                            .collect(),
                    })
                    .collect(),
            }),
            Err(EngineError::Timeout) => Err(BackendError::Timeout),
            Err(EngineError::Cancelled) => Err(BackendError::Cancelled),
            Err(EngineError::Query(e)) => Err(BackendError::Rejected(e.to_string())),
            // The backend cannot answer this kind of query at all (no vectors, no model): the
            // same answer on every attempt, so not worth a retry, and not a wrong answer.
            Err(e @ EngineError::Vector(_)) => Err(BackendError::Unsupported(e.to_string())),
            Err(e @ (EngineError::Io { .. } | EngineError::Corpus { .. })) => {
                Err(BackendError::Io(e.to_string()))
            }
            Err(e) => Err(BackendError::Unavailable(e.to_string())),
        }
    }
}

/// The oracle as a backend: file sets only (it reports no lines), in path order. Validating
/// the oracle against truth it generated checks the plumbing; validating it against curated
/// truth checks the oracle.
pub struct OracleBackend {
    corpus: Corpus,
    chunks: Option<ChunkTable>,
}

impl OracleBackend {
    /// The oracle over a loaded corpus. Vector and hybrid queries are unsupported until
    /// chunk vectors are given.
    pub fn new(corpus: Corpus) -> Self {
        OracleBackend {
            corpus,
            chunks: None,
        }
    }

    /// An oracle that also answers `vector:` and `hybrid:` queries exactly, from every chunk
    /// of the corpus embedded in `chunks`.
    pub fn with_vectors(corpus: Corpus, chunks: ChunkTable) -> Self {
        OracleBackend {
            corpus,
            chunks: Some(chunks),
        }
    }

    fn chunks(&self) -> Result<&ChunkTable, BackendError> {
        self.chunks.as_ref().ok_or_else(|| {
            BackendError::Unsupported(
                "the oracle needs the corpus's chunk embeddings for vector and hybrid queries"
                    .into(),
            )
        })
    }

    /// The exact answer to a vector query, rolled up to files in order of their best chunk.
    fn vector(&self, r: &VectorRequest) -> Result<Vec<BackendHit>, BackendError> {
        let truth = self.chunks()?.vector_truth(r, 0.0).map_err(unavailable)?;
        let mut hits: Vec<BackendHit> = Vec::new();
        for (span, sim) in truth.into_iter().take(r.k) {
            let chunk = (span.first, span.last, sim as f32);
            match hits.iter_mut().find(|h| h.path == span.path) {
                Some(h) => h.chunks.push(chunk),
                None => hits.push(BackendHit {
                    path: span.path,
                    score: sim as f32,
                    lines: Vec::new(),
                    chunks: vec![chunk],
                }),
            }
        }
        Ok(hits)
    }

    /// The exact fused ranking of a hybrid query, its `k` best files.
    fn hybrid(&self, r: &HybridRequest) -> Result<Vec<BackendHit>, BackendError> {
        let ranking = self
            .chunks()?
            .hybrid_ranking(&self.corpus, r)
            .map_err(unavailable)?;
        Ok(ranking
            .into_iter()
            .take(r.k)
            .map(|(path, score)| file_hit(path, score as f32))
            .collect())
    }
}

fn unavailable(e: verity_vector::embed::EmbedError) -> BackendError {
    BackendError::Unavailable(e.to_string())
}

fn file_hit(path: String, score: f32) -> BackendHit {
    BackendHit {
        path,
        score,
        lines: Vec::new(),
        chunks: Vec::new(),
    }
}

impl SearchBackend for OracleBackend {
    fn name(&self) -> &str {
        "verity-oracle"
    }

    fn reports_lines(&self) -> bool {
        false
    }

    fn search(
        &self,
        query: &BackendQuery<'_>,
        deadline: &Deadline,
    ) -> Result<BackendResponse, BackendError> {
        let query = query.query;
        if deadline.check().is_err() {
            return Err(BackendError::Timeout);
        }
        let hits = match read_request(query).map_err(|e| BackendError::Rejected(e.to_string()))? {
            Request::Vector(r) => self.vector(&r)?,
            Request::Hybrid(r) => self.hybrid(&r)?,
            Request::Text(_) => Oracle::new(&self.corpus)
                .files(query)
                .map_err(|e| BackendError::Rejected(e.to_string()))?
                .into_iter()
                .map(|path| file_hit(path, 0.0))
                .collect(),
        };
        Ok(BackendResponse {
            hits,
            approximate: false,
        })
    }
}
