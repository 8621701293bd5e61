//! The integration tests of `verity-eval`, built as one test binary (each file a module): one
//! link of the crate and its dependencies instead of one per file.

mod differential;
mod trec_eval_peers;
