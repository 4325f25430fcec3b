//! What a scenario is once read and checked: the system and its
//! configuration, the workload, the faults, and the author's expectation.

use std::path::PathBuf;
use std::time::Duration;

use broker_model::log::LogConfig;
use broker_model::queue::QueueConfig;
use broker_model::Workload;
use broker_model::{consumer_host, producer_host};

use crate::fault::random::RandomNemesis;
use crate::fault::Fault;
pub use crate::network::Network;

/// The systems scenario files may name.
pub const SYSTEMS: &[&str] = &["log", "queue"];

/// What the author expects the checker to find.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// At least one acknowledged message is lost.
    Loss,
    /// No acknowledged message is lost (duplicates are allowed).
    NoLoss,
}

impl Expect {
    /// The name used in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Expect::Loss => "loss",
            Expect::NoLoss => "no-loss",
        }
    }
}

/// The system under test and its configuration.
#[derive(Clone, Debug, PartialEq)]
pub enum System {
    /// The Kafka-like replicated log.
    Log(LogConfig),
    /// The RabbitMQ-like queue cluster.
    Queue(QueueConfig),
}

impl System {
    /// The name used in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            System::Log(_) => "log",
            System::Queue(_) => "queue",
        }
    }
}

/// A scenario, checked and ready to run.
#[derive(Clone, Debug, PartialEq)]
pub struct Scenario {
    /// The file it came from.
    pub file: PathBuf,
    /// Its name.
    pub name: String,
    /// What it shows.
    pub description: String,
    /// The system and its configuration.
    pub system: System,
    /// The author's expectation, compared with the verdict (never used to
    /// reach it).
    pub expect: Expect,
    /// The seeds to run.
    pub seeds: Vec<u64>,
    /// Simulated time for the workload and the faults.
    pub duration: Duration,
    /// The most simulated time the final drain may take.
    pub drain: Duration,
    /// Network latency.
    pub network: Network,
    /// What the clients do.
    pub workload: Workload,
    /// The faults, in file order.
    pub faults: Vec<Fault>,
    /// A random fault schedule drawn per seed, on top of `faults`.
    pub nemesis: Option<RandomNemesis>,
}

impl Scenario {
    /// A scenario built in Rust rather than read from a file: `system` with
    /// the default workload and network, seeds 1 to 5, 10 simulated
    /// seconds, a 30-second drain, no faults, expecting no loss. Adjust the
    /// public fields from there.
    pub fn new(name: &str, system: System) -> Scenario {
        Scenario {
            file: PathBuf::from(format!("{name}.toml")),
            name: name.to_string(),
            description: String::new(),
            system,
            expect: Expect::NoLoss,
            seeds: (1..=5).collect(),
            duration: Duration::from_secs(10),
            drain: Duration::from_secs(30),
            network: Network::default(),
            workload: Workload::default(),
            faults: Vec::new(),
            nemesis: None,
        }
    }
}

/// One setting of a system's `[config]`, named as in scenario files;
/// `None` when it is left unset.
pub(crate) type Setting = (&'static str, Option<toml::Value>);

/// Every host a scenario of this system and workload has.
pub(crate) fn host_names(system: &System, workload: &Workload) -> Vec<String> {
    let mut hosts = Vec::new();
    match system {
        System::Log(c) => {
            hosts.push(broker_model::log::CONTROLLER.to_string());
            hosts.extend((1..=c.brokers).map(broker_model::log::broker_host));
        }
        System::Queue(c) => hosts.extend((1..=c.nodes).map(broker_model::queue::node_host)),
    }
    hosts.extend((1..=workload.producers).map(producer_host));
    hosts.extend((1..=workload.consumers).map(consumer_host));
    hosts
}

/// The destinations a scenario's faults may name by index (`partition = i`),
/// in index order.
pub fn dest_names(system: &System) -> Vec<String> {
    match system {
        System::Log(c) => (0..c.partitions)
            .map(broker_model::log::partition_name)
            .collect(),
        System::Queue(c) => (0..c.queues).map(broker_model::queue::queue_name).collect(),
    }
}
