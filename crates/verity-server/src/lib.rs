//! `verity serve`: the engine as a long-running HTTP service.
//!
//! One process opens an index once and answers searches from it over HTTP/1.1, as Zoekt,
//! Hound and livegrep do, instead of reopening the index per query as `verity search` must:
//!
//! - [`api`]: the JSON API (`POST /api/search`, `GET /api/file`, `/api/health`,
//!   `/api/stats`), Prometheus text at `/metrics`, and the Verity backend protocol at
//!   `/api/protocol`, so that `verity validate --backend http://…/api/protocol` checks the
//!   deployed service exactly as it checks the embedded engine;
//! - [`page`]: a search page at `/`, self-contained (no external asset);
//! - [`state`]: the generation served, swapped when `verity index` publishes a new one;
//! - [`admission`]: bounded concurrency with a bounded queue, refusing past it (503);
//! - [`metrics`]: request counts and latency percentiles;
//! - [`config`]: limits, and the listening-address policy (loopback unless named).
//!
//! Searches run on tokio's blocking pool within an admission slot, each under a deadline
//! counted from the request's arrival; a request whose client goes away cancels its search.
//! Shutdown stops accepting connections and finishes the requests in flight. The HTTP is
//! axum's (hyper underneath): none of it is written here.

#![warn(missing_docs)]

pub mod admission;
pub mod api;
pub mod config;
pub mod error;
pub mod metrics;
pub mod page;
pub mod state;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

pub use config::{is_exposed, parse_listen, ServeConfig, DEFAULT_LISTEN};
pub use error::ServeError;

/// What every handler shares.
pub struct AppState {
    /// The settings the server was started with.
    pub config: ServeConfig,
    /// The index generation served.
    pub index: state::IndexHolder,
    /// The search slots and their queue.
    pub admission: admission::Admission,
    /// What has been answered, and how fast.
    pub metrics: metrics::Metrics,
    /// When the server started (for its uptime).
    pub started: Instant,
}

/// The routes of the service over `state`.
pub fn router(state: Arc<AppState>) -> Router {
    let body_limit = state.config.max_body_bytes;
    Router::new()
        .route("/", get(page::index))
        .route("/api/search", post(api::search))
        .route("/api/file", get(api::file))
        .route("/api/health", get(api::health))
        .route("/api/stats", get(api::stats))
        .route("/api/protocol", get(api::handshake).post(api::protocol))
        .route("/metrics", get(api::metrics))
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .with_state(state)
}

/// A server bound to its address, its index open, not yet answering.
pub struct Server {
    state: Arc<AppState>,
    listener: tokio::net::TcpListener,
}

impl Server {
    /// Opens the index of `config` and binds `addr` (port 0 picks a free port; see
    /// [`Server::local_addr`]).
    pub async fn bind(config: ServeConfig, addr: SocketAddr) -> Result<Server, ServeError> {
        let dir = config.index.clone();
        let vector_search = config.vector_search;
        let index =
            tokio::task::spawn_blocking(move || state::IndexHolder::open(dir, vector_search))
                .await
                .map_err(|e| ServeError::Io(std::io::Error::other(e)))??;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let state = Arc::new(AppState {
            admission: admission::Admission::new(config.max_concurrent, config.max_queued),
            config,
            index,
            metrics: metrics::Metrics::default(),
            started: Instant::now(),
        });
        Ok(Server { state, listener })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The shared state (for the generation served and the counters).
    pub fn state(&self) -> Arc<AppState> {
        self.state.clone()
    }

    /// Answers requests until `shutdown` completes, then stops accepting connections and
    /// returns once the requests in flight are answered. Meanwhile it follows the index's
    /// published generation every `reload_interval`.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let follower = tokio::spawn(follow_generations(self.state.clone()));
        let served = axum::serve(self.listener, router(self.state))
            .with_graceful_shutdown(shutdown)
            .await;
        follower.abort();
        served.map_err(ServeError::Io)
    }
}

/// Looks for a newly published generation, forever. A generation that cannot be opened is
/// reported once and tried again at the next look; the served one stays meanwhile.
async fn follow_generations(state: Arc<AppState>) {
    let mut tick = tokio::time::interval(state.config.reload_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_error = None;
    loop {
        tick.tick().await;
        let s = state.clone();
        let Ok(result) = tokio::task::spawn_blocking(move || s.index.refresh()).await else {
            continue;
        };
        match result {
            Ok(None) => last_error = None,
            Ok(Some(generation)) => {
                state.metrics.record_reload(true);
                eprintln!("verity serve: now serving generation {generation}");
                last_error = None;
            }
            Err(e) => {
                let message = e.to_string();
                if last_error.as_ref() != Some(&message) {
                    state.metrics.record_reload(false);
                    eprintln!("verity serve: keeping the generation served: {message}");
                    last_error = Some(message);
                }
            }
        }
    }
}
