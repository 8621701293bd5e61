//! # verity-testkit
//!
//! Support for the tests of Verity's crates, kept in one place so that every crate asks the
//! same question of the same peer the same way.
//!
//! * [`rg`] — ripgrep as the independent reference for literal and regex file sets: whether it
//!   is installed (and whether CI requires it), and the files it finds under Verity's walk
//!   rules.
//!
//! A dev-dependency only, and std-only: the oracle's tests use it, and Cargo must keep the
//! oracle apart from the engine.

#![warn(missing_docs)]

pub mod rg;
