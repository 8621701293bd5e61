//! # verity-pipeline
//!
//! A whole validation run as one library call: [`validate()`] takes [`ValidateSettings`] and
//! returns the [`verity_report::Report`] — backend, corpus, truth, index, the parallel run,
//! the summary. The `verity` binary only turns flags and profiles into settings, prints the
//! summary and writes the report files; anything else that wants a run (a server, a test,
//! another tool) calls this.
//!
//! It sits above the crates it drives: `verity-validation` (truth, validator, backends),
//! `verity-runner` (the parallel engine), `verity-engine` (the embedded index) and
//! `verity-report` (the report model).

#![warn(missing_docs)]

pub mod error;
pub mod validate;

pub use error::PipelineError;
pub use validate::{validate, ValidateSettings};
