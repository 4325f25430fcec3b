//! `mqsim audit`: reads a deployment's own configuration files (Kafka's
//! `.properties`, RabbitMQ's `definitions.json` and `rabbitmq.conf`) into
//! one configuration per topic or queue, then runs every fault class of the
//! guarantee matrix against each and verifies which single setting changes
//! cure what loses.

mod deployment;
mod origin;

pub use deployment::{Deployment, NotModelled, Target, TargetSetting, TimeScale};
pub use origin::Origin;
