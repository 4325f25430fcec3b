//! Deterministic-simulation models of message brokers.
//!
//! Each model is a set of turmoil hosts (brokers, a controller, producers,
//! consumers) that talk only over turmoil's simulated network and keep only
//! what turmoil's simulated disk made durable. Faults are injected from
//! outside with turmoil's own machinery; whether a message survives them is
//! decided by the protocol running here, never by a script.
//!
//! Every host records what it saw in a shared [`history::History`], which
//! the harness's checker reads after the run.

mod clock;
mod deploy;
mod disk;
mod encode;
mod history;
pub mod log;
mod observe;
mod process;
pub mod queue;
mod settings;
mod wire;
mod workload;

pub use deploy::{Deployment, HostRole, Instruments};
pub use disk::{PageCache, Writeback};
pub use history::{to_json_lines, DropReason, Event, EventKind, History, LeaderSource, MsgId};
pub use observe::{ClientView, DiskView, Observations, Observer, ReplicaView};
pub use process::ProcessTable;
pub use settings::ConfigError;
pub use workload::{consumer_host, is_poison, producer_host, PoisonAction, Workload};
