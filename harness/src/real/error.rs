//! Why a run on real nodes could not finish.

use std::path::Path;

/// Why a run on real nodes could not finish.
#[derive(Debug)]
pub enum RealError {
    /// A command (`rabbitmq-server`, `rabbitmqctl`, a client) failed.
    Command(String),
    /// An AMQP operation of the harness failed.
    Amqp(String),
    /// A file or folder could not be written.
    Io(String),
}

impl RealError {
    /// A file or folder error at `path`.
    pub(crate) fn io(path: &Path, e: std::io::Error) -> Self {
        RealError::Io(format!("{}: {e}", path.display()))
    }
}

impl std::fmt::Display for RealError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RealError::Command(m) | RealError::Amqp(m) | RealError::Io(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for RealError {}
