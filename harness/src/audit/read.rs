//! Where `mqsim audit` gets its deployment: the command's file arguments,
//! handed to the readers that turn those files into a [`Deployment`].

use std::path::PathBuf;

use crate::audit::deployment::Deployment;
use crate::audit::error::ReadError;
use crate::audit::kafka::{read_kafka, KafkaFiles};
use crate::audit::rabbitmq::{read_rabbitmq, RabbitFiles};

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

/// The deployment Kafka's files describe.
pub fn kafka(args: &KafkaArgs) -> Result<Deployment, ReadError> {
    read_kafka(&KafkaFiles {
        broker: args.broker.clone(),
        topic: args.topic.clone(),
        producer: Some(args.producer.clone()),
        consumer: Some(args.consumer.clone()),
        brokers: args.brokers,
    })
}

/// The deployment RabbitMQ's files describe.
pub fn rabbitmq(args: &RabbitmqArgs) -> Result<Deployment, ReadError> {
    read_rabbitmq(&RabbitFiles {
        definitions: args.definitions.clone(),
        conf: args.conf.clone(),
        client: Some(args.client.clone()),
        nodes: args.nodes,
        queues: args.queues.clone(),
    })
}
