//! The integration tests of `verity-runner`, built as one test binary (each file a module): one
//! link of the crate and its dependencies instead of one per file.

mod cpu;
mod events;
mod executor;
