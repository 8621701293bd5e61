//! The HTTP API's handlers (docs/serve.md): search, a file's text, health, statistics,
//! Prometheus metrics, and the Verity backend protocol for `verity validate --backend http://…`.
//!
//! Every answer is JSON except `/metrics` (Prometheus text). An error is
//! `{"error": {"kind", "message", "column"?}}` with the status that fits: 400 for a request
//! or query that is wrong (with the query's column), 404, 408 when the search's deadline
//! passed, 413 for a body over the limit, 503 with `Retry-After` when the server is full.
//! User input never gets a 500: that is kept for a damaged index or a failing disk.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use verity_core::{CancelToken, Deadline};
use verity_engine::{EngineError, SearchOptions};

use crate::admission::Refusal;
use crate::AppState;

/// The body of `POST /api/search`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    /// The query, in Verity's query language (docs/query-language.md).
    pub query: String,
    /// Files returned, best first; the server's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<usize>,
    /// Only which files match, as `verity search -l`: no lines.
    #[serde(default)]
    pub files_only: bool,
    /// Matching lines kept per file; the server's default when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_lines: Option<usize>,
    /// Milliseconds the search may take, from its arrival; at most the server's maximum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u64>,
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// A stable, machine-readable name for the error (docs/serve.md lists them).
    pub kind: &'static str,
    /// What went wrong, for people.
    pub message: String,
    /// For a refused query: the 1-based column the parser stopped at.
    pub column: Option<usize>,
}

impl ApiError {
    fn new(status: StatusCode, kind: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            kind,
            message: message.into(),
            column: None,
        }
    }

    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    fn refused(r: Refusal) -> ApiError {
        match r {
            Refusal::Full => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "overloaded",
                "every search slot is busy and the queue is full; retry later",
            ),
            Refusal::Expired => ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "timeout",
                "the deadline passed while the search waited for a slot",
            ),
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> ApiError {
        match e {
            EngineError::Query(q) => ApiError {
                status: StatusCode::BAD_REQUEST,
                kind: "query",
                column: Some(q.column),
                message: format!("invalid query at column {}: {}", q.column, q.message),
            },
            EngineError::Timeout => {
                ApiError::new(StatusCode::REQUEST_TIMEOUT, "timeout", "search timed out")
            }
            EngineError::Cancelled => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "cancelled",
                "search cancelled",
            ),
            // The index cannot answer this kind of query (no vectors, no model): the request
            // asks for what this server does not offer.
            e @ EngineError::Vector(_) => {
                ApiError::new(StatusCode::BAD_REQUEST, "unsupported", e.to_string())
            }
            e => ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        #[derive(Serialize)]
        struct Body<'a> {
            kind: &'a str,
            message: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            column: Option<usize>,
        }
        let body = serde_json::json!({ "error": Body {
            kind: self.kind,
            message: &self.message,
            column: self.column,
        }});
        let mut r = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::SERVICE_UNAVAILABLE {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        r
    }
}

/// Reads a JSON body: a body past the limit is 413, anything that is not the expected JSON
/// is 400 with the line and column serde found the problem at.
fn json_body<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let bytes = body.map_err(|r| {
        let status = r.status();
        let kind = if status == StatusCode::PAYLOAD_TOO_LARGE {
            "too_large"
        } else {
            "bad_request"
        };
        ApiError::new(status, kind, r.body_text())
    })?;
    serde_json::from_slice(&bytes).map_err(|e| {
        let mut err = ApiError::bad_request(format!("request body: {e}"));
        err.column = Some(e.column());
        err
    })
}

/// The deadline of a request that arrived at `arrived`: the server's maximum, shortened by
/// the request's own `timeout_ms`.
fn deadline_of(state: &AppState, arrived: Instant, timeout_ms: Option<u64>) -> Instant {
    let max = state.config.max_timeout;
    let d = timeout_ms.map_or(max, |ms| Duration::from_millis(ms).min(max));
    arrived + d
}

/// Cancels a search when its request is dropped (the client went away): the blocking task
/// then stops at its next deadline check instead of searching for nobody.
struct CancelOnDrop(CancelToken);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Runs `work` on the blocking pool within a search slot, under `deadline`.
async fn run_search<T: Send + 'static>(
    state: &Arc<AppState>,
    deadline: Instant,
    work: impl FnOnce(Deadline) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let _slot = state
        .admission
        .admit(deadline)
        .await
        .map_err(ApiError::refused)?;
    let token = CancelToken::new();
    let _guard = CancelOnDrop(token.clone());
    let engine_deadline = Deadline::at(deadline.into_std()).with_cancel(token);
    tokio::task::spawn_blocking(move || work(engine_deadline))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                format!("the search failed: {e}"),
            )
        })?
}

fn generation_header(r: &mut Response, generation: u64) {
    r.headers_mut()
        .insert("x-verity-generation", HeaderValue::from(generation));
}

/// `POST /api/search`: the same JSON as `verity search --json`.
pub async fn search(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let arrived = Instant::now();
    let answer = search_inner(&state, arrived, body).await;
    let r = match answer {
        Ok(r) => r,
        Err(e) => e.into_response(),
    };
    state
        .metrics
        .record("search", r.status().as_u16(), arrived.elapsed());
    r
}

async fn search_inner(
    state: &Arc<AppState>,
    arrived: Instant,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let req: SearchRequest = json_body(body)?;
    let c = &state.config;
    if req.query.len() > c.max_query_bytes {
        return Err(ApiError::bad_request(format!(
            "the query is {} bytes; this server takes at most {}",
            req.query.len(),
            c.max_query_bytes
        )));
    }
    let limit = req.limit.unwrap_or(c.default_limit);
    if limit == 0 || limit > c.max_limit {
        return Err(ApiError::bad_request(format!(
            "`limit` must be from 1 to {}, got {limit}",
            c.max_limit
        )));
    }
    if req.timeout_ms == Some(0) {
        return Err(ApiError::bad_request("`timeout_ms` must be at least 1"));
    }
    let max_lines = req.max_lines.unwrap_or(c.max_lines_per_file);
    let served = state.index.current();
    let generation = served.generation;
    let deadline = deadline_of(state, arrived, req.timeout_ms);
    let results = run_search(state, deadline, move |deadline| {
        let opts = SearchOptions {
            limit: Some(limit),
            deadline,
            max_lines_per_file: Some(max_lines),
            files_only: req.files_only,
            vector_search: None,
        };
        served
            .index()
            .search(&req.query, &opts)
            .map_err(ApiError::from)
    })
    .await?;
    let mut r = axum::Json(results).into_response();
    generation_header(&mut r, generation);
    Ok(r)
}

/// The query of `GET /api/file`.
#[derive(Debug, Deserialize)]
pub struct FileQuery {
    /// Corpus-relative, `/`-separated, as search hits name it.
    pub path: String,
}

/// `GET /api/file?path=P`: the indexed text of one file, from the generation served.
pub async fn file(
    State(state): State<Arc<AppState>>,
    query: Result<Query<FileQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let arrived = Instant::now();
    let answer = async {
        let Query(q) = query.map_err(|e| ApiError::bad_request(e.body_text()))?;
        let served = state.index.current();
        let generation = served.generation;
        let path = q.path.clone();
        let text = tokio::task::spawn_blocking(move || served.index().content(&path))
            .await
            .map_err(|e| {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", e.to_string())
            })??;
        let Some(text) = text else {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no indexed file {:?}", q.path),
            ));
        };
        let mut r = axum::Json(serde_json::json!({
            "path": q.path,
            "generation": generation,
            "text": text,
        }))
        .into_response();
        generation_header(&mut r, generation);
        Ok::<_, ApiError>(r)
    }
    .await;
    let r = answer.unwrap_or_else(IntoResponse::into_response);
    state
        .metrics
        .record("file", r.status().as_u16(), arrived.elapsed());
    r
}

/// `GET /api/health`: the server answers, and from which generation.
pub async fn health(State(state): State<Arc<AppState>>) -> Response {
    let served = state.index.current();
    let r = axum::Json(serde_json::json!({
        "status": "ok",
        "generation": served.generation,
        "files": served.index().num_files(),
    }))
    .into_response();
    state.metrics.record("health", 200, Duration::ZERO);
    r
}

/// `GET /api/stats`: the index served, the queue, and the counters with latency percentiles.
pub async fn stats(State(state): State<Arc<AppState>>) -> Response {
    let served = state.index.current();
    let index = served.index();
    let r = axum::Json(serde_json::json!({
        "index": state.index.dir(),
        "generation": served.generation,
        "files": index.num_files(),
        "chunks": index.vector_index().map(|v| v.len()),
        "query_types": served.handshake.query_types,
        "uptime_s": state.started.elapsed().as_secs_f64(),
        "queued": state.admission.queued(),
        "limits": {
            "max_concurrent": state.config.max_concurrent,
            "max_queued": state.config.max_queued,
            "max_body_bytes": state.config.max_body_bytes,
            "max_query_bytes": state.config.max_query_bytes,
            "max_timeout_ms": state.config.max_timeout.as_millis() as u64,
        },
        "memory": memory(),
        "metrics": state.metrics.snapshot(),
    }))
    .into_response();
    state.metrics.record("stats", 200, Duration::ZERO);
    r
}

/// This process's resident memory and its peak, in bytes (Linux: `VmRSS`, `VmHWM`; null
/// elsewhere), so that a load test can see whether memory stays flat.
fn memory() -> serde_json::Value {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    };
    serde_json::json!({ "rss_bytes": field("VmRSS:"), "peak_rss_bytes": field("VmHWM:") })
}

/// `GET /metrics`: Prometheus's text format.
pub async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    let served = state.index.current();
    let text = state.metrics.prometheus(&[
        (
            "verity_index_generation",
            "The index generation served.",
            served.generation as f64,
        ),
        (
            "verity_index_files",
            "Files in the generation served.",
            served.index().num_files() as f64,
        ),
        (
            "verity_search_queued",
            "Searches waiting for a slot.",
            state.admission.queued() as f64,
        ),
    ]);
    state.metrics.record("metrics", 200, Duration::ZERO);
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        text,
    )
        .into_response()
}

/// `GET /api/protocol`: the backend protocol's handshake (docs/backends.md).
pub async fn handshake(State(state): State<Arc<AppState>>) -> Response {
    state.metrics.record("handshake", 200, Duration::ZERO);
    axum::Json(state.index.current().handshake.clone()).into_response()
}

/// `POST /api/protocol`: one protocol request, answered as `verity serve --stdio` answers it.
pub async fn protocol(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    use verity_validation::protocol::{answer, Request};
    let arrived = Instant::now();
    let r = async {
        let req: Request = json_body(body)?;
        let deadline = deadline_of(&state, arrived, req.deadline_ms);
        let served = state.index.current();
        let r = run_search(&state, deadline, move |d| {
            Ok(answer(&served.backend, &req, &d))
        })
        .await?;
        Ok::<_, ApiError>(axum::Json(r).into_response())
    }
    .await
    .unwrap_or_else(IntoResponse::into_response);
    state
        .metrics
        .record("protocol", r.status().as_u16(), arrived.elapsed());
    r
}

/// Anything else: 404 in JSON.
pub async fn not_found(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!("no such endpoint: {uri} (docs/serve.md lists them)"),
    )
}
