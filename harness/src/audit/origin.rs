//! Where an effective setting's value came from.

use std::fmt;
use std::path::PathBuf;

/// Where one setting of an audited configuration got its value, so the
/// page can say why the broker behaves as it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A line of one of the user's files.
    File {
        /// The file.
        path: PathBuf,
        /// Its line, from 1.
        line: u32,
    },
    /// A RabbitMQ policy, by name.
    Policy(String),
    /// A RabbitMQ operator policy, by name.
    OperatorPolicy(String),
    /// A queue's own `x-` argument in `definitions.json`.
    QueueArgument {
        /// The file.
        path: PathBuf,
        /// The queue.
        queue: String,
    },
    /// The broker's or client's own default, in the version it comes from
    /// (`"Kafka 3.9"`, `"RabbitMQ 4.0"`).
    Default(&'static str),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::File { path, line } => write!(f, "{}:{line}", path.display()),
            Origin::Policy(name) => write!(f, "policy {name}"),
            Origin::OperatorPolicy(name) => write!(f, "operator policy {name}"),
            Origin::QueueArgument { path, queue } => {
                write!(f, "{} (queue {queue}'s arguments)", path.display())
            }
            Origin::Default(version) => write!(f, "default ({version})"),
        }
    }
}
