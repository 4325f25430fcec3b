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

/// How the final drain decides that it is over.
///
/// Either way it ends, drained, once every client has been done for a
/// quiet second. What differs is when it gives up: a run that gives up
/// while consumers could still read messages is inconclusive, since the
/// messages they had not reached were not shown lost.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Drain {
    /// `drain = "<duration>"`: gives up at this deadline after the heal,
    /// whatever consumers still had to read.
    Fixed(Duration),
    /// The default (`drain = "auto"`, or no `drain` key): keeps draining
    /// while consumers make progress, so a consumer that lags its producers
    /// is given the time to catch up. Gives up once no consumer has
    /// processed a message for [`Drain::STALL`], or at [`Drain::cap`].
    FollowBacklog,
}

impl Drain {
    /// How long a following drain waits for a consumer to process another
    /// message.
    pub const STALL: Duration = Duration::from_secs(30);

    /// The longest a drain may last after the heal of a run whose faulty
    /// phase took `duration`: a fixed drain's own deadline, or for a
    /// following drain ten times `duration`, and at least [`Drain::STALL`].
    /// It follows `duration`, so a scenario shortened in Rust or by the
    /// shrinker keeps a proportionate drain.
    pub fn cap(self, duration: Duration) -> Duration {
        match self {
            Drain::Fixed(deadline) => deadline,
            Drain::FollowBacklog => (duration * 10).max(Self::STALL),
        }
    }

    /// How long the drain goes on without a message processed before it
    /// gives up, when it follows the backlog.
    pub fn stall(self) -> Option<Duration> {
        match self {
            Drain::Fixed(_) => None,
            Drain::FollowBacklog => Some(Self::STALL),
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
    /// When the final drain gives up.
    pub drain: Drain,
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
    /// seconds, a drain that follows the backlog, no faults, expecting no
    /// loss. Adjust the public fields from there.
    pub fn new(name: &str, system: System) -> Scenario {
        Scenario {
            file: PathBuf::from(format!("{name}.toml")),
            name: name.to_string(),
            description: String::new(),
            system,
            expect: Expect::NoLoss,
            seeds: (1..=5).collect(),
            duration: Duration::from_secs(10),
            drain: Drain::FollowBacklog,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_following_drain_is_capped_at_ten_times_the_run_and_at_least_its_stall() {
        let secs = Duration::from_secs;
        assert_eq!(Drain::FollowBacklog.cap(secs(82)), secs(820));
        assert_eq!(Drain::FollowBacklog.cap(secs(1)), secs(30));
        assert_eq!(Drain::FollowBacklog.stall(), Some(secs(30)));
        assert_eq!(Drain::Fixed(secs(10)).cap(secs(82)), secs(10));
        assert_eq!(Drain::Fixed(secs(10)).stall(), None);
    }
}
