//! # verity-report
//!
//! What a validation run leaves behind, and how it is shown. A [`Report`] is the versioned,
//! self-contained record of one run (or of several partitions merged): every case with its
//! result, timings and attempts, the statistics, the thresholds and the environment. Every
//! other output is rendered from it, so the formats cannot disagree with each other and any
//! report can be re-rendered later (`verity report show`).
//!
//! * [`model`] — the report.json data model (docs/report-schema.md) and its summaries;
//! * [`partition`] — deterministic splitting of cases across machines (`hash:M/N`, `count:M/N`);
//! * [`merge`](mod@merge) — recombining partition reports, refusing mixed truths or corpora;
//! * [`junit`], [`trec`], [`markdown`], [`html`], [`terminal`] — the renderings;
//! * [`progress`] — a run's live progress, drawn from the runner's events (a bar on a
//!   terminal, plain lines in logs);
//! * [`write`](mod@write) — writing the chosen formats into a directory, each file atomically;
//! * [`svg`] — the inline SVG charts (also used by `verity bench`).

#![warn(missing_docs)]

pub mod html;
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod model;
pub mod partition;
pub mod progress;
pub mod svg;
pub mod terminal;
pub mod trec;
pub mod write;

pub use merge::{merge, MergeError, MergeProblems};
pub use model::{
    CaseReport, Environment, Outcome, Report, ReportError, RunFigures, RunSettings, Selection,
    Summary, ThresholdCheck, TypeSummary, REPORT_VERSION,
};
pub use partition::{Partition, PartitionScheme};
pub use write::{write_reports, Format};
