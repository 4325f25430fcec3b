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
mod error;
mod faults;
mod held;
mod nodes;
pub mod plan;
mod queues;
mod run;
mod targets;
mod verdicts;

pub use error::RealError;
pub use nodes::{available, broker_version};
pub use run::{run_real, RealOptions, RealOutcome};
pub use verdicts::{side_by_side, SideBySide};
