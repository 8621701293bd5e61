use std::fmt;
use std::io;

/// Everything that can go wrong in the inventory service.
#[derive(Debug)]
pub enum InventoryError {
    Io(io::Error),
    Parse { line: usize, message: String },
    Usage(String),
}

impl fmt::Display for InventoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InventoryError::Io(e) => write!(f, "i/o error: {e}"),
            InventoryError::Parse { line, message } => write!(f, "line {line}: {message}"),
            InventoryError::Usage(m) => write!(f, "usage: {m}"),
        }
    }
}

impl std::error::Error for InventoryError {}

impl From<io::Error> for InventoryError {
    fn from(e: io::Error) -> Self {
        InventoryError::Io(e)
    }
}

/// Convenience alias used across the crate.
pub type Result<T, E = InventoryError> = std::result::Result<T, E>;
