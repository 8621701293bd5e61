//! `--backend http://HOST:PORT/PATH`: a deployed search service, validated where it runs.
//!
//! The same messages as the process protocol ([`crate::protocol`], docs/backends.md), over
//! HTTP/1.1: `GET URL` answers the [`Handshake`], and each query is a `POST URL` whose JSON
//! body is a [`Request`] and whose `200` answer is a [`Response`]. Connections are kept alive
//! and pooled (ureq), so each worker reuses its own. A request that outlives its deadline is
//! abandoned and counted a timeout; a status other than 200, a connection failure or a body
//! that is not a response is a retryable protocol error that says which.

use std::time::{Duration, Instant};

use verity_core::Deadline;

use crate::backend::{BackendError, BackendQuery, BackendResponse, SearchBackend};
use crate::protocol::{quote, Handshake, Request, Response, WalkRules, PROTOCOL_VERSION};

/// The largest answer read, in bytes: far past any answer a search of a corpus of files of at
/// most 10 MiB each could need in practice, and still a bound on a service gone wrong.
pub const MAX_ANSWER_BYTES: u64 = 4 << 30;

/// A service speaking the backend protocol over HTTP.
pub struct HttpBackend {
    url: String,
    agent: ureq::Agent,
    corpus: String,
    handshake: Handshake,
    name: String,
}

impl HttpBackend {
    /// Connects to `url` and reads the service's handshake (`GET url`), so that a wrong
    /// address or protocol fails before any case runs.
    pub fn connect(
        url: &str,
        corpus: &std::path::Path,
        startup_timeout: Duration,
    ) -> Result<HttpBackend, BackendError> {
        let corpus = std::fs::canonicalize(corpus)
            .map_err(|e| BackendError::Io(format!("{}: {e}", corpus.display())))?
            .to_string_lossy()
            .into_owned();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            // Statuses are the protocol's business, read below, not transport errors.
            .http_status_as_error(false)
            .max_idle_connections_per_host(64)
            .build()
            .into();
        let mut answer = agent
            .get(url)
            .config()
            .timeout_global(Some(startup_timeout))
            .build()
            .call()
            .map_err(|e| BackendError::Unavailable(format!("GET {url}: {e}")))?;
        let status = answer.status();
        let body = answer
            .body_mut()
            .read_to_string()
            .map_err(|e| BackendError::Unavailable(format!("GET {url}: {e}")))?;
        if status != 200 {
            return Err(BackendError::Unavailable(format!(
                "GET {url} answered {status}: {}",
                quote(&body)
            )));
        }
        let handshake: Handshake = serde_json::from_str(&body).map_err(|e| {
            BackendError::Unavailable(format!(
                "GET {url} is not a protocol handshake ({e}): {}",
                quote(&body)
            ))
        })?;
        if handshake.protocol != PROTOCOL_VERSION {
            return Err(BackendError::Unavailable(format!(
                "{url} speaks protocol version {}, this Verity speaks {PROTOCOL_VERSION}",
                handshake.protocol
            )));
        }
        let name = handshake.name();
        Ok(HttpBackend {
            url: url.to_string(),
            agent,
            corpus,
            handshake,
            name,
        })
    }

    /// What the service said about itself.
    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }
}

impl SearchBackend for HttpBackend {
    fn name(&self) -> &str {
        &self.name
    }

    fn reports_lines(&self) -> bool {
        self.handshake.lines
    }

    fn walk_rules(&self) -> Option<WalkRules> {
        self.handshake.walk.clone()
    }

    fn search(
        &self,
        q: &BackendQuery<'_>,
        deadline: &Deadline,
    ) -> Result<BackendResponse, BackendError> {
        self.handshake.check_supports(q.query_type)?;
        deadline.check()?;
        let remaining = deadline
            .instant()
            .map(|t| t.saturating_duration_since(Instant::now()));
        let request = Request {
            id: q.id.to_string(),
            query: q.query.to_string(),
            query_type: q.query_type,
            k: q.k,
            deadline_ms: remaining.map(|d| d.as_millis() as u64),
            corpus: self.corpus.clone(),
        };
        let body = serde_json::to_string(&request).expect("a request serializes");
        let sent = self
            .agent
            .post(&self.url)
            .config()
            .timeout_global(remaining)
            .build()
            .header("content-type", "application/json")
            .send(body.as_str());
        let mut answer = match sent {
            Ok(a) => a,
            Err(ureq::Error::Timeout(_)) => return Err(BackendError::Timeout),
            Err(e) => return Err(BackendError::Protocol(format!("POST {}: {e}", self.url))),
        };
        let status = answer.status();
        // ureq stops reading a body at 10 MiB unless told otherwise; an answer listing every
        // matching line of a common literal (`//` on 3,000 files of real code) is larger.
        let text = match answer
            .body_mut()
            .with_config()
            .limit(MAX_ANSWER_BYTES)
            .read_to_string()
        {
            Ok(t) => t,
            Err(ureq::Error::Timeout(_)) => return Err(BackendError::Timeout),
            Err(e) => {
                return Err(BackendError::Protocol(format!(
                    "POST {}: reading the answer: {e}",
                    self.url
                )))
            }
        };
        if status != 200 {
            return Err(BackendError::Protocol(format!(
                "POST {} answered {status}: {}",
                self.url,
                quote(&text)
            )));
        }
        let response: Response = serde_json::from_str(&text).map_err(|e| {
            BackendError::Protocol(format!(
                "POST {} answered with something that is not a protocol response ({e}): {}",
                self.url,
                quote(&text)
            ))
        })?;
        if response.id != request.id {
            return Err(BackendError::Protocol(format!(
                "POST {} answered id {:?} to request {:?}",
                self.url, response.id, request.id
            )));
        }
        response.into_result()
    }
}
