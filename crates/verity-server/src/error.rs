//! Errors that stop a server from starting or running.

/// Why `verity serve` could not serve.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// `--listen` names no address this server will listen on.
    #[error("{0}")]
    Listen(String),
    /// The listening socket could not be opened or failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// Why the system refused it.
        source: std::io::Error,
    },
    /// The index cannot be opened.
    #[error(transparent)]
    Engine(#[from] verity_engine::EngineError),
    /// Serving failed after it started.
    #[error("serving failed: {0}")]
    Io(#[from] std::io::Error),
}
