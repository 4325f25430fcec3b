//! Queue scenarios on real RabbitMQ nodes, to hold the model's verdicts to
//! the real broker's.
//!
//! A run starts a fresh cluster of local nodes from Debian's
//! `rabbitmq-server` ([`nodes`]), declares what the scenario's `[config]`
//! says ([`declare`]), runs its producers and consumers as processes of
//! their own speaking AMQP through `lapin` ([`client`], gathered by
//! [`clients`]), inflicts the faults one machine can inflict for real
//! ([`faults`]; [`plan`] says which, and why the others are skipped),
//! drains, and hands the clients' history to the same checker the
//! simulation uses ([`run`]). [`compare`] holds the two verdicts side by
//! side.

pub mod client;
mod clients;
pub mod compare;
mod declare;
mod faults;
mod held;
mod nodes;
pub mod plan;
mod queues;
mod run;
mod targets;
mod verdicts;

use std::path::Path;

pub use nodes::{available, broker_version};
pub use run::{run_real, RealOptions, RealOutcome};
pub use verdicts::{side_by_side, SideBySide};

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
