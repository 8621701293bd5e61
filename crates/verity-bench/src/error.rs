//! What can stop a benchmark.

use verity_engine::EngineError;

/// Why a benchmark could not finish. Every variant names what went wrong and where (a file, a
/// query, a program), so the command can print it as it is.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The benchmark's input is wrong: a query file, a flag's value, a program that is missing
    /// or fails, a file that cannot be read or written.
    #[error("{0}")]
    Input(String),
    /// Something failed that the input does not explain (a runtime that cannot start).
    #[error("{0}")]
    Internal(String),
    /// The engine refused or failed while building or searching.
    #[error(transparent)]
    Engine(#[from] EngineError),
}

impl BenchError {
    /// A [`BenchError::Input`] with this message.
    pub fn input(message: impl std::fmt::Display) -> Self {
        BenchError::Input(message.to_string())
    }

    /// A [`BenchError::Internal`] with this message.
    pub fn internal(message: impl std::fmt::Display) -> Self {
        BenchError::Internal(message.to_string())
    }

    /// Is the user's input the cause (a bad flag, file or query), not Verity?
    pub fn is_user_error(&self) -> bool {
        match self {
            BenchError::Input(_) => true,
            BenchError::Internal(_) => false,
            BenchError::Engine(e) => e.is_user_error(),
        }
    }
}
