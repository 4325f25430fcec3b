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
pub mod deploy;
pub mod disk;
pub mod history;
pub mod log;
pub mod observe;
pub mod process;
pub mod queue;
pub mod settings;
pub mod wire;
pub mod workload;

pub use deploy::{Deployment, HostRole, Instruments};
pub use history::{Event, EventKind, History, MsgId};
pub use observe::Observer;
pub use process::ProcessTable;
pub use workload::Workload;
