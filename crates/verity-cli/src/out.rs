//! Standard output that survives a closed pipe.
//!
//! `println!` panics when the reader has gone (`verity search … | head -1`). Commands print
//! through [`outln!`] and [`out!`] instead, which return a [`Failure`]: a closed pipe becomes
//! [`Failure::closed_pipe`], which ends the command quietly with exit 0, as grep and ripgrep
//! do; any other write error is an internal error that says it was standard output.

use std::fmt;
use std::io::{self, Write};

use crate::exit::Failure;

/// Writes `args` to standard output.
pub fn write(args: fmt::Arguments<'_>) -> Result<(), Failure> {
    io::stdout().lock().write_fmt(args).map_err(stdout_error)
}

/// Writes raw bytes to standard output (a file name that is not UTF-8, as ripgrep prints it).
pub fn bytes(b: &[u8]) -> Result<(), Failure> {
    io::stdout().lock().write_all(b).map_err(stdout_error)
}

/// The failure for an error writing to standard output.
pub fn stdout_error(e: io::Error) -> Failure {
    if e.kind() == io::ErrorKind::BrokenPipe {
        Failure::closed_pipe()
    } else {
        Failure::internal(format!("writing to standard output: {e}"))
    }
}

/// `print!` that returns `Result<(), Failure>`.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::out::write(format_args!($($arg)*))
    };
}

/// `println!` that returns `Result<(), Failure>`.
macro_rules! outln {
    () => {
        $crate::out::write(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::out::write(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {out, outln};
