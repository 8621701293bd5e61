//! The integration tests of `verity-engine`, built as one test binary (each file a module): one
//! link of the crate and its dependencies instead of one per file.

mod common;

mod candidates;
mod damage;
mod generations;
mod index_lifecycle;
mod query_fuzz;
mod ripgrep_agreement;
mod vector_search;
