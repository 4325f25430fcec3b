//! Why an audit could not finish: never an outcome of a fault, which is a
//! finding, but a model's host failing or a file that cannot be written.

use std::fmt;
use std::path::PathBuf;

use crate::runner::RunError;

/// An audit that could not finish.
#[derive(Debug)]
pub enum AuditError {
    /// A run failed (a bug in a model, never an outcome of a fault).
    Run(RunError),
    /// A reproducer could not be written.
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditError::Run(e) => write!(f, "{e}"),
            AuditError::Write { path, source } => {
                write!(f, "cannot write {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for AuditError {}

impl From<RunError> for AuditError {
    fn from(e: RunError) -> Self {
        AuditError::Run(e)
    }
}
