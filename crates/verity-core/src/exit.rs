//! The exit codes of every `verity` command, in one place (README, docs/ci.md).
//!
//! One meaning each, across commands, as grep's: 0 the answer is yes, 1 the command ran and the
//! answer is no (a search matched nothing, a validation found wrong answers, a truth check or a
//! merge found problems), 2 the input was wrong, 3 the machine or the engine could not answer.

/// The command did what was asked and everything checked out.
pub const SUCCESS: u8 = 0;
/// The command ran and the answer is no: no match, wrong answers, problems found.
pub const NO: u8 = 1;
/// Bad usage, flags, configuration, query, corpus, truth or index: the message names what
/// and where.
pub const INPUT_ERROR: u8 = 2;
/// An internal error, an unusable index or backend, or cases that could not be answered.
pub const INTERNAL_ERROR: u8 = 3;
/// Interrupted (Ctrl-C), after writing what was done (128 + SIGINT).
pub const INTERRUPTED: u8 = 130;
