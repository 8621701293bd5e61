//! # verity-eval
//!
//! Evaluates ranked retrieval runs against relevance judgments exactly as trec_eval 9.0.8
//! does, so that numbers from Verity and from the tool the field uses can be compared digit for
//! digit — for Verity's own engine and for any other engine's TREC run file.
//!
//! * [`input`] — streaming readers of qrels and run files, with file and line in every error;
//! * [`catalogue`] — the measures by name: trec_eval's families, order, groups and parameters;
//! * `res_rels` — one query's ranking joined with its judgments, as trec_eval forms it;
//! * [`measures`] — each measure of one query, ported from trec_eval's `m_*.c` operation for
//!   operation;
//! * [`evaluate`](mod@evaluate) — every query in trec_eval's order, and the averages;
//! * [`report`] — trec_eval's text output (and JSON);
//! * [`synth`] — a synthetic run and qrels of any size, for benchmarks;
//! * [`compare`] — two runs side by side: per-query differences and paired significance tests
//!   (a randomisation test and Student's paired t-test).
//!
//! The conventions that matter (all confirmed against trec_eval's output in the tests): the
//! run's rank column is ignored and documents are ordered by score descending, then document id
//! descending by bytes; P@k divides by k; recall and average precision divide by every relevant
//! document in the qrels; nDCG's gain is the relevance value; queries only in the run are
//! ignored; with `-c` queries only in the qrels count, adding 0 to the sums.

#![warn(missing_docs)]

pub mod catalogue;
pub mod compare;
pub mod evaluate;
pub mod input;
pub mod measures;
pub mod report;
mod res_rels;
pub mod synth;

pub use catalogue::{Measure, MeasureSelection};
pub use evaluate::{evaluate, values_of, Evaluation, Options};
pub use input::{EvalError, Qrels, Run};
pub use measures::Value;
