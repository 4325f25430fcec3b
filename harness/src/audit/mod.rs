//! `mqsim audit`: reads a deployment's own configuration files (Kafka's
//! `.properties`, RabbitMQ's `definitions.json` and `rabbitmq.conf`) into
//! one configuration per topic or queue, then runs every fault class of the
//! guarantee matrix against each and verifies which single setting changes
//! cure what loses.
//!
//! Reading: `properties` (Java `.properties`), `kafka` and `rabbitmq` (each
//! system's files into raw scenario configuration, checked by the scenario
//! parser's own checks through `tags`), with times scaled by `time_scale`;
//! `read` maps the command's arguments onto them.
//!
//! The engine, in the order it works: `applies` picks the fault classes a
//! configuration could lose a message to, `probe` gives each its fixed
//! fault schedules and workload, `plan` turns them into scenarios, `engine`
//! runs them over the seeds, shrinks the first losing run (`reproducer`)
//! and re-runs each known cure of `cure`, costed by `cost`. `json` and
//! `junit` write the findings for machines, written whole by
//! `reports::files`.

mod applies;

mod combine;
mod cost;
mod cure;
mod deployment;
mod engine;
mod error;
#[cfg(test)]
mod examples_tests;
mod failure;
pub mod json;
pub mod junit;
mod kafka;
mod origin;
mod plan;
mod probe;
mod properties;
mod rabbitmq;
pub mod read;
mod reproducer;
mod tags;
mod time_scale;

pub use applies::{applies, Applicability};
pub use cure::{cures, Change};
pub use deployment::{Deployment, NotModelled, Target, TargetSetting, TimeScale};
pub use engine::{audit, AuditOptions, Progress};
pub use error::ReadError;
pub use failure::AuditError;
pub use kafka::{read_kafka, KafkaFiles};
pub use origin::Origin;
pub use probe::{probes, Probe};
pub use rabbitmq::{read_rabbitmq, RabbitFiles};
pub use reports::audit::AuditReport;

#[cfg(test)]
mod outputs_tests;
