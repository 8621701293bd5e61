//! Verity's benchmarks, each against a named baseline in the same run.
//!
//! Speed is measured the way users feel it: the engine in process and as one process per
//! query beside `rg -l` and codesearch ([`search`], with [`peer`] and [`http`]); the vector
//! index's recall against its speed ([`vector`]); retrieval quality on labelled questions
//! ([`semantic`]); the parallel runner against plain tokio baselines ([`runner`]); and `verity
//! eval` against the trec_eval binary ([`trec_eval`]). Every benchmark takes a plain
//! configuration and returns a report that serializes to JSON and renders as Markdown; the
//! `verity bench` commands only turn flags into configurations and print reports.
//!
//! Timings here are measurements, never assertions: what the tests of this crate and of the
//! CLI check is that the figures are computed and that the answers compared are the same.
#![warn(missing_docs)]

pub mod error;
pub mod http;
pub mod peer;
pub mod runner;
pub mod search;
pub mod semantic;
pub mod stats;
pub mod trec_eval;
pub mod vector;

pub use error::BenchError;
