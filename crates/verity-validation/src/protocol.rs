//! The Verity backend protocol (docs/backends.md): how `verity validate --backend exec:…` talks
//! to a search engine in another process, one JSON object per line.
//!
//! The engine writes a [`Handshake`] line first. Then, for each request line Verity writes
//! ([`Request`]), it writes one [`Response`] line with the same `id`: the hits, or an error
//! whose [`ErrorKind`] says whether another attempt could help. The types here are the
//! protocol's definition: docs/backend-protocol.schema.json is generated from them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::backend::{BackendError, BackendHit, BackendResponse, EngineBackend};
use crate::truth::QueryType;
pub use crate::walk::WalkRules;

/// The protocol version this Verity speaks.
pub const PROTOCOL_VERSION: u32 = 1;

/// The first line an engine writes: who it is and what it can do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Handshake {
    /// Must be [`PROTOCOL_VERSION`].
    pub protocol: u32,
    /// The engine's name, for reports.
    pub engine: String,
    /// The engine's version, for reports.
    #[serde(default)]
    pub version: String,
    /// The query types it answers; Verity reports the others as unsupported without asking.
    /// Absent: every type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query_types: Option<Vec<QueryType>>,
    /// The engine reports each hit's matching lines, so that the cases' content rules (which
    /// lines must match) are checked too. Absent: false, and only file sets are judged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub lines: bool,
    /// The engine answers several requests at once, in any order, matched by id: Verity then
    /// starts one process and sends it up to `--jobs` requests at a time. Absent: false, and
    /// Verity starts one process per concurrent request, each answering one at a time.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub concurrent: bool,
    /// Which files the engine searches, when it says (see [`WalkRules`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub walk: Option<WalkRules>,
}

impl Handshake {
    /// The engine's name and version, for reports.
    pub fn name(&self) -> String {
        if self.version.is_empty() {
            self.engine.clone()
        } else {
            format!("{} {}", self.engine, self.version)
        }
    }

    /// `Unsupported` for a query type the handshake does not list: such cases are never sent.
    pub fn check_supports(&self, query_type: QueryType) -> Result<(), BackendError> {
        match &self.query_types {
            Some(types) if !types.contains(&query_type) => Err(BackendError::Unsupported(format!(
                "{} answers no {query_type} queries (its handshake)",
                self.engine
            ))),
            _ => Ok(()),
        }
    }
}

/// The longest piece of an offending line or body quoted in an error.
const QUOTE_CHARS: usize = 200;

/// `text` for an error message: trimmed, escaped, cut after [`QUOTE_CHARS`] characters.
pub(crate) fn quote(text: &str) -> String {
    let text = text.trim_end();
    match text.char_indices().nth(QUOTE_CHARS) {
        Some((i, _)) => format!("{:?}…", &text[..i]),
        None => format!("{text:?}"),
    }
}

/// One query, as Verity sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Request {
    /// Echoed in the response. Unique within a run.
    pub id: String,
    /// The query, in Verity's query language (docs/query-language.md).
    pub query: String,
    /// The kind of query, so that an engine with another language can translate it.
    pub query_type: QueryType,
    /// For ranked types: how many results are judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub k: Option<usize>,
    /// Milliseconds the engine has to answer; after that Verity stops waiting, terminates the
    /// process and starts another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    /// The corpus root, absolute. Paths in the response are relative to it, `/`-separated.
    pub corpus: String,
}

/// One answer: `hits`, or `error`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Response {
    /// The request's id.
    pub id: String,
    /// The matching files, best first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hits: Option<Vec<Hit>>,
    /// Why there is no answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
    /// The ranking is approximate (an ANN index): judged by recall, not equality.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub approximate: bool,
}

/// One matching file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Hit {
    /// Relative to the corpus root, `/`-separated.
    pub path: String,
    /// The engine's score (ranked types); 0 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    /// The matching lines, when the engine reports them: content rules are then checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lines: Option<Vec<Line>>,
    /// Vector and hybrid answers: the file's returned chunks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunks: Option<Vec<Chunk>>,
}

/// A matching line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// 1-based line number.
    pub line: usize,
    /// The line's text, without the line break.
    pub text: String,
}

/// A returned chunk of a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Chunk {
    /// First line, 1-based.
    pub first_line: usize,
    /// Last line, inclusive.
    pub last_line: usize,
    /// Cosine similarity to the query.
    pub similarity: f32,
}

/// An engine's error.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ErrorBody {
    /// What kind of error: it decides whether Verity retries.
    pub kind: ErrorKind,
    /// For people.
    #[serde(default)]
    pub message: String,
}

/// The kinds of engine error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The engine gave up at its deadline (retried).
    Timeout,
    /// The engine could not answer now (retried).
    Unavailable,
    /// The engine says the query is invalid: a wrong answer, since truth holds valid queries.
    Rejected,
    /// The engine cannot express this query: reported as unsupported, not failed.
    Unsupported,
}

impl Response {
    /// The response as a backend answer, checking that it has exactly one of `hits` and
    /// `error`.
    pub fn into_result(self) -> Result<BackendResponse, BackendError> {
        match (self.hits, self.error) {
            (Some(hits), None) => Ok(BackendResponse {
                approximate: self.approximate,
                hits: hits.into_iter().map(Hit::into_backend_hit).collect(),
            }),
            (None, Some(e)) => Err(match e.kind {
                ErrorKind::Timeout => BackendError::Timeout,
                ErrorKind::Unavailable => BackendError::Unavailable(e.message),
                ErrorKind::Rejected => BackendError::Rejected(e.message),
                ErrorKind::Unsupported => BackendError::Unsupported(e.message),
            }),
            (Some(_), Some(_)) => Err(BackendError::Protocol(format!(
                "response {} has both `hits` and `error`",
                self.id
            ))),
            (None, None) => Err(BackendError::Protocol(format!(
                "response {} has neither `hits` nor `error`",
                self.id
            ))),
        }
    }

    /// The response for a backend's answer (used by engines written with this crate, and by
    /// the tests).
    pub fn from_result(id: String, r: Result<BackendResponse, BackendError>) -> Response {
        match r {
            Ok(r) => Response {
                id,
                approximate: r.approximate,
                hits: Some(r.hits.into_iter().map(Hit::from_backend_hit).collect()),
                error: None,
            },
            Err(e) => {
                let kind = match &e {
                    BackendError::Timeout | BackendError::Cancelled => ErrorKind::Timeout,
                    BackendError::Rejected(_) => ErrorKind::Rejected,
                    BackendError::Unsupported(_) => ErrorKind::Unsupported,
                    BackendError::Unavailable(_)
                    | BackendError::Io(_)
                    | BackendError::Protocol(_) => ErrorKind::Unavailable,
                };
                Response {
                    id,
                    approximate: false,
                    hits: None,
                    error: Some(ErrorBody {
                        kind,
                        message: e.to_string(),
                    }),
                }
            }
        }
    }
}

impl Hit {
    fn into_backend_hit(self) -> BackendHit {
        BackendHit {
            path: self.path,
            score: self.score.unwrap_or(0.0),
            lines: self
                .lines
                .unwrap_or_default()
                .into_iter()
                .map(|l| (l.line, l.text))
                .collect(),
            chunks: self
                .chunks
                .unwrap_or_default()
                .into_iter()
                .map(|c| (c.first_line, c.last_line, c.similarity))
                .collect(),
        }
    }

    fn from_backend_hit(h: BackendHit) -> Hit {
        Hit {
            path: h.path,
            score: Some(h.score),
            lines: (!h.lines.is_empty()).then(|| {
                h.lines
                    .into_iter()
                    .map(|(line, text)| Line { line, text })
                    .collect()
            }),
            chunks: (!h.chunks.is_empty()).then(|| {
                h.chunks
                    .into_iter()
                    .map(|(first_line, last_line, similarity)| Chunk {
                        first_line,
                        last_line,
                        similarity,
                    })
                    .collect()
            }),
        }
    }
}

/// The deadline a request asks for, counted from now.
pub fn deadline_of(req: &Request) -> verity_core::Deadline {
    match req.deadline_ms {
        Some(ms) => verity_core::Deadline::after(std::time::Duration::from_millis(ms)),
        None => verity_core::Deadline::none(),
    }
}

/// The answer of `backend` to one request within `deadline` (usually [`deadline_of`] the
/// request): what [`serve`] writes for each line, and what `verity serve` answers each `POST`.
pub fn answer(
    backend: &dyn crate::backend::SearchBackend,
    req: &Request,
    deadline: &verity_core::Deadline,
) -> Response {
    let q = crate::backend::BackendQuery {
        id: &req.id,
        query: &req.query,
        query_type: req.query_type,
        k: req.k,
    };
    Response::from_result(req.id.clone(), backend.search(&q, deadline))
}

/// Serves `backend` over the protocol: writes `handshake`, then answers each request line of
/// `input` with one response line on `output`, in order, until `input` ends. A line that is
/// not a request gets an `unavailable` error response (with the id, when one can be read), so
/// the caller always hears back. Returns the number of requests answered, or the I/O error
/// that ended the conversation (a closed `output`).
pub fn serve(
    backend: &dyn crate::backend::SearchBackend,
    handshake: &Handshake,
    input: impl std::io::BufRead,
    mut output: impl std::io::Write,
) -> std::io::Result<usize> {
    let mut say = |line: String| -> std::io::Result<()> {
        output.write_all(line.as_bytes())?;
        output.write_all(b"\n")?;
        output.flush()
    };
    say(serde_json::to_string(handshake).expect("a handshake serializes"))?;
    let mut answered = 0;
    for line in input.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let response = match serde_json::from_str::<Request>(&line) {
            Ok(req) => answer(backend, &req, &deadline_of(&req)),
            Err(e) => {
                #[derive(Deserialize)]
                struct Id {
                    id: String,
                }
                let id = serde_json::from_str::<Id>(&line).map_or_else(|_| String::new(), |x| x.id);
                Response::from_result(
                    id,
                    Err(BackendError::Unavailable(format!("not a request: {e}"))),
                )
            }
        };
        say(serde_json::to_string(&response).expect("a response serializes"))?;
        answered += 1;
    }
    Ok(answered)
}

/// The JSON Schema of every protocol message, for docs/backend-protocol.schema.json.
pub fn json_schema() -> String {
    /// Every message of the Verity backend protocol, version 1. Each line is one of these,
    /// untagged: a handshake (the engine's first line), a request (Verity to the engine) or a
    /// response (the engine to Verity).
    #[derive(JsonSchema)]
    #[serde(untagged)]
    #[allow(dead_code)]
    enum BackendProtocol {
        /// The engine's first line.
        Handshake(Handshake),
        /// Verity to the engine.
        Request(Request),
        /// The engine to Verity.
        Response(Response),
    }
    let schema = schemars::schema_for!(BackendProtocol);
    serde_json::to_string_pretty(&schema).expect("a schema serializes") + "\n"
}

impl EngineBackend {
    /// What this engine says of itself over the backend protocol (`verity serve`): the
    /// query types its index answers (the text types only, without vectors), matching lines,
    /// and the walk rules the index was built with, so that truth covers the same files.
    pub fn handshake(&self) -> Handshake {
        let walk = &self.index().meta().walk;
        let query_types = if self.index().vector_index().is_some() {
            QueryType::ALL.to_vec()
        } else {
            QueryType::TEXT.to_vec()
        };
        Handshake {
            protocol: PROTOCOL_VERSION,
            engine: "verity-engine".into(),
            version: verity_engine::VERSION.into(),
            query_types: Some(query_types),
            lines: true,
            concurrent: false,
            walk: Some(WalkRules {
                hidden: walk.hidden,
                ignore_files: walk.respect_ignore_files,
                default_excludes: walk.default_excludes,
                max_filesize: walk.max_file_size,
                files: None,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_need_exactly_one_of_hits_and_error() {
        let ok: Response = serde_json::from_str(
            r#"{"id":"a","hits":[{"path":"src/a.rs","lines":[{"line":3,"text":"x"}]}]}"#,
        )
        .unwrap();
        let r = ok.into_result().unwrap();
        assert_eq!(r.hits[0].path, "src/a.rs");
        assert_eq!(r.hits[0].lines, vec![(3, "x".to_string())]);

        let unsupported: Response = serde_json::from_str(
            r#"{"id":"a","error":{"kind":"unsupported","message":"no phrases"}}"#,
        )
        .unwrap();
        assert_eq!(
            unsupported.into_result(),
            Err(BackendError::Unsupported("no phrases".into()))
        );

        let neither: Response = serde_json::from_str(r#"{"id":"a"}"#).unwrap();
        assert!(matches!(
            neither.into_result(),
            Err(BackendError::Protocol(_))
        ));
        // Unknown fields are a protocol error, not silently dropped.
        assert!(serde_json::from_str::<Response>(r#"{"id":"a","hit":[]}"#).is_err());
    }

    #[test]
    fn answers_round_trip_through_the_wire_format() {
        let answer = BackendResponse {
            approximate: true,
            hits: vec![BackendHit {
                path: "a.rs".into(),
                score: 0.5,
                lines: vec![(1, "fn main() {}".into())],
                chunks: vec![(1, 20, 0.5)],
            }],
        };
        let wire =
            serde_json::to_string(&Response::from_result("7".into(), Ok(answer.clone()))).unwrap();
        let back: Response = serde_json::from_str(&wire).unwrap();
        assert_eq!(back.into_result(), Ok(answer));
    }
}
