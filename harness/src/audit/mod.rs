//! `mqsim audit`: reads a deployment's own configuration files (Kafka's
//! `.properties`, RabbitMQ's `definitions.json` and `rabbitmq.conf`) into
//! one configuration per topic or queue, then runs every fault class of the
//! guarantee matrix against each and verifies which single setting changes
//! cure what loses.
//!
//! Reading: `properties` (Java `.properties`), `kafka` and `rabbitmq` (each
//! system's files into raw scenario configuration, checked by the scenario
//! parser's own checks through `tags`), with times scaled by `time_scale`.

mod deployment;
mod error;
#[cfg(test)]
mod examples_tests;
mod kafka;
mod origin;
mod properties;
mod rabbitmq;
mod tags;
mod time_scale;

pub use deployment::{Deployment, NotModelled, Target, TargetSetting, TimeScale};
pub use error::AuditError;
pub use kafka::{read_kafka, KafkaFiles};
pub use origin::Origin;
pub use rabbitmq::{read_rabbitmq, RabbitFiles};
