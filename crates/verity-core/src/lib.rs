//! # verity-core
//!
//! The small vocabulary that Verity's crates share, kept apart so that each crate's
//! dependencies say what it uses: the parallel runner needs deadlines and cancellation but not
//! the search engine; the oracle needs query types but none of the engine's code.
//!
//! * [`deadline`] — [`Deadline`] and [`CancelToken`]: when a search or a case must stop, and
//!   [`Interrupted`], why it stopped;
//! * [`exit`] — the exit codes of every command;
//! * [`path`] — corpus-relative paths as text, losslessly (file names that are not UTF-8);
//! * [`query_type`] — [`QueryType`], the ten kinds of query a validation case exercises, and
//!   their default scheduling [`Priority`].

#![warn(missing_docs)]

pub mod deadline;
pub mod exit;
pub mod path;
pub mod query_type;

pub use deadline::{seconds, CancelToken, Deadline, Interrupted, MAX_SECONDS};
pub use query_type::{Priority, QueryType, UnknownQueryType};
