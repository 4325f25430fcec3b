//! Where `mqsim audit` gets its deployment: the command's file arguments,
//! and the readers that turn those files into a [`Deployment`]. The
//! readers are not built yet; each says so, and the command exits 2.

use std::fmt;
use std::path::PathBuf;

use crate::audit::deployment::Deployment;

/// The files of a Kafka deployment.
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct KafkaArgs {
    /// The brokers' `server.properties`.
    #[arg(long)]
    pub broker: PathBuf,
    /// The topic's configuration (`kafka-configs --describe` as properties).
    #[arg(long)]
    pub topic: Option<PathBuf>,
    /// The producers' properties.
    #[arg(long)]
    pub producer: PathBuf,
    /// The consumers' properties.
    #[arg(long)]
    pub consumer: PathBuf,
    /// Brokers in the cluster.
    #[arg(long)]
    pub brokers: Option<u32>,
}

/// The files of a RabbitMQ deployment.
#[derive(Clone, Debug, PartialEq, Eq, clap::Args)]
pub struct RabbitmqArgs {
    /// `rabbitmqctl export_definitions`'s `definitions.json`.
    #[arg(long)]
    pub definitions: PathBuf,
    /// `rabbitmq.conf`.
    #[arg(long)]
    pub conf: Option<PathBuf>,
    /// What no broker file records: publish mode, persistence, `mandatory`,
    /// ack mode, prefetch, retries, with the keys of scenario files.
    #[arg(long)]
    pub client: PathBuf,
    /// Nodes in the cluster (default: `rabbitmq.conf`'s node list).
    #[arg(long)]
    pub nodes: Option<u32>,
    /// Audit only these queues (repeat for several).
    #[arg(long = "queue")]
    pub queues: Vec<String>,
}

/// Files that cannot be read into a deployment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    /// What is wrong, with file, line and key where there are.
    pub message: String,
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ReadError {}

fn not_built(system: &str) -> ReadError {
    ReadError {
        message: format!("the {system} reader is not built yet"),
    }
}

/// The deployment Kafka's files describe.
pub fn kafka(_args: &KafkaArgs) -> Result<Deployment, ReadError> {
    Err(not_built("Kafka"))
}

/// The deployment RabbitMQ's files describe.
pub fn rabbitmq(_args: &RabbitmqArgs) -> Result<Deployment, ReadError> {
    Err(not_built("RabbitMQ"))
}
