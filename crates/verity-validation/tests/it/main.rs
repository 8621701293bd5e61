//! The integration tests of `verity-validation`, built as one test binary (each file a module): one
//! link of the crate and its dependencies instead of one per file.

mod engine_vs_oracle;
mod exec_backend;
mod fault_injection;
mod oracle_agreement_props;
mod parallel_validation;
mod truth_loading;
mod vector_truth;
