//! The integration tests of `verity-cli`, built as one test binary (each file a module): one
//! link of the crate and its dependencies instead of one per file.

mod common;

mod backends;
mod bench;
mod cli;
mod eval;
mod index_kill;
mod validate;
