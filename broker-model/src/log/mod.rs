//! A Kafka-like replicated log.
//!
//! One topic of `partitions` partitions, each replicated on
//! `replication.factor` brokers with a leader and followers; a controller
//! that detects dead brokers and elects leaders; producers with `acks`,
//! retries and idempotence; a consumer group whose committed offsets live in
//! a replicated internal partition, as Kafka's `__consumer_offsets` does.

mod broker;
mod client;
mod config;
mod consumer;
mod consumer_settings;
mod controller;
mod elr;
mod group;
mod leadership;
mod producer;
mod protocol;
mod replica;
mod segments;

pub use config::{
    broker_host, partition_name, Acks, AssignmentStrategy, CommitPolicy, EligibleLeaderReplicas,
    GroupOffsets, GroupSettings, LogConfig, OffsetReset, Retention, Sabotage, Subscription,
    CONTROLLER,
};

use crate::deploy::{Deployment, HostRole, Installer, Instruments};
use crate::workload::Workload;

/// Adds the controller, brokers, producers and consumers of a log cluster to
/// `sim`, in that order (turmoil steps hosts in registration order).
pub fn install(
    sim: &mut turmoil::Sim<'_>,
    config: &LogConfig,
    workload: &Workload,
    instruments: &Instruments,
) -> Deployment {
    let mut installer = Installer::new(sim, config, workload, instruments, config.writeback);
    installer.spawn(config::CONTROLLER, HostRole::Controller, controller::run);
    for id in 1..=config.brokers {
        installer.spawn(&config::broker_host(id), HostRole::Broker, move |c| {
            broker::run(c, id)
        });
    }
    let dests = (0..config.partitions).map(|p| {
        let hosts = config.replicas(p).into_iter().map(config::broker_host);
        (config::partition_name(p), hosts.collect())
    });
    installer.finish(producer::run, consumer::run, dests)
}
