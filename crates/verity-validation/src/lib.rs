//! # verity-validation
//!
//! Proves a search engine right. This crate holds:
//!
//! * [`truth`] — the ground-truth data model (docs/ground-truth.md), its loading with
//!   positioned errors, the JSON Schema, TREC qrels import and export;
//! * [`generator`] — mines cases of every text query type from a corpus; expected files come
//!   from the independent oracle (`verity-oracle`), never from the engine;
//! * [`backend`] — the [`backend::SearchBackend`] trait the validator talks to, with the engine
//!   and the oracle behind it; [`spec`] — which backend `--backend` names; [`walk`] — which
//!   files a backend searches;
//! * [`adapter`], [`exec`], [`http`], [`protocol`] — other engines as backends: command-line
//!   tools, processes and services speaking the backend protocol;
//! * [`validator`] — [`validator::CorrectnessValidator`]: one case in, a verdict out, saying
//!   exactly what is wrong (precision, recall, F1, missing and unexpected files, content rules,
//!   counts, latency, ranked metrics). A wrong answer is a *failure*; a query that could not run
//!   is an *error*, and only errors are worth retrying;
//! * [`parallel`] — the validator as a job of the parallel execution engine;
//! * [`synth`] — large synthetic source trees for scale tests (`verity corpus synth`).

#![warn(missing_docs)]

pub mod adapter;
pub mod backend;
pub mod exec;
pub mod generator;
pub mod http;
mod locate;
pub mod parallel;
pub mod protocol;
pub mod spec;
pub mod synth;
pub mod truth;
pub mod validator;
pub mod vectors;
pub mod walk;

pub use backend::{
    BackendError, BackendHit, BackendQuery, BackendResponse, EngineBackend, OracleBackend,
    SearchBackend,
};
pub use generator::{
    generate, ranked_case, GeneratorOptions, VectorTruth, HYBRID_TOLERANCE, VECTOR_TOLERANCE,
};
pub use spec::BackendSpec;
pub use truth::{
    CountRange, GroundTruthCase, GroundTruthDataset, Priority, QueryType, TruthErrors, TruthProblem,
};
pub use validator::{CorrectnessValidator, RankedFile, ValidationResult, ValidatorOptions};
