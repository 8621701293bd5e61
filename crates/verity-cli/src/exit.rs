//! How a command ends: a [`Failure`] carries the exit code (`verity_core::exit`, one table for
//! every command) and the message for stderr.

use std::process::ExitCode;

use verity_engine::EngineError;

pub use verity_core::exit::{INPUT_ERROR, INTERNAL_ERROR, NO as NO_MATCH};

/// A command that failed: the message for stderr and the exit code.
#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

/// The code of [`Failure::closed_pipe`]: not an exit code of its own, the process exits 0.
const CLOSED_PIPE: u8 = 0;

impl Failure {
    /// Standard output was closed by its reader (`verity search … | head -1`): the command
    /// stops writing and the process exits 0 without a message.
    pub fn closed_pipe() -> Self {
        Failure {
            code: CLOSED_PIPE,
            message: String::new(),
        }
    }

    /// Is this [`Failure::closed_pipe`]?
    pub fn is_closed_pipe(&self) -> bool {
        self.code == CLOSED_PIPE
    }

    pub fn input(message: impl std::fmt::Display) -> Self {
        Failure {
            code: INPUT_ERROR,
            message: message.to_string(),
        }
    }

    /// Something failed that the user's input does not explain (exit 3).
    pub fn internal(message: impl std::fmt::Display) -> Self {
        Failure {
            code: INTERNAL_ERROR,
            message: message.to_string(),
        }
    }

    /// An input error (exit 2) when `user_error`, else an internal one (exit 3): how a
    /// library's error that says which it is becomes an exit.
    pub fn classified(user_error: bool, message: impl std::fmt::Display) -> Self {
        if user_error {
            Failure::input(message)
        } else {
            Failure::internal(message)
        }
    }
}

impl From<EngineError> for Failure {
    fn from(e: EngineError) -> Self {
        Failure::classified(e.is_user_error(), e)
    }
}

pub type CmdResult = Result<ExitCode, Failure>;
