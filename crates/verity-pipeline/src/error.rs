//! Why a validation run could not produce a report.

use verity_engine::EngineError;

/// A run that stopped before it had a report. Wrong answers are not errors: they are in the
/// report.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// Bad settings, corpus, truth or backend: the user's to fix.
    #[error("{0}")]
    Input(String),
    /// The embedded engine's index could not be built or opened.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Something on this machine failed (threads, temporary files).
    #[error("{0}")]
    Internal(String),
}

impl PipelineError {
    /// An input error with this message.
    pub fn input(message: impl std::fmt::Display) -> Self {
        PipelineError::Input(message.to_string())
    }

    /// Is this the user's to fix (bad input), rather than the machine's?
    pub fn is_user_error(&self) -> bool {
        match self {
            PipelineError::Input(_) => true,
            // A path that is not an index directory, or a corpus that cannot be read, is the
            // user's; an index that cannot be built or opened (damaged, another format) is the
            // engine's: docs/ci.md's exit 3, "infrastructure".
            PipelineError::Engine(e) => matches!(
                e,
                EngineError::NotAnIndex(_)
                    | EngineError::NotADirectory(_)
                    | EngineError::Corpus { .. }
                    | EngineError::Query(_)
            ),
            PipelineError::Internal(_) => false,
        }
    }
}
