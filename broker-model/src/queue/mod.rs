//! A RabbitMQ-like queue cluster.
//!
//! Nodes `node-1..N` hold queues `q0..`: classic queues on one node,
//! classic queues mirrored across nodes (a master and mirrors with
//! `ha-mode`, `ha-sync-mode` and promotion policies), or quorum queues
//! replicated by Raft. Publishers publish without confirmation, in
//! transactions or with publisher confirms; consumers acknowledge
//! automatically or manually within a prefetch window. Clients connect to
//! one node, which routes their operations to the queue's master or leader,
//! and reconnect to the next node when the connection fails. Nodes detect
//! each other's failures by ticks and handle partitions as
//! `cluster_partition_handling` says.

mod app;
mod channel;
mod classic;
mod client;
mod cluster;
mod config;
mod consumer;
mod consumer_id;
mod dead_letter;
mod dead_lettering;
mod delivery;
pub(crate) mod exchange;
mod fifo;
mod incarnation;
mod limits;
mod names;
mod node;
mod protocol;
mod publisher;
mod queue_down;
mod quorum;
mod replica;
mod republish;
mod routing;
mod runtime;
mod store;

pub use config::{
    node_host, queue_name, AckMode, HaMode, PartitionHandling, Promote, PublishMode, QueueConfig,
    QueueType, SyncMode,
};
pub use dead_lettering::{DeadLetterStrategy, DeadLettering};
pub use exchange::{Binding, Exchange, ExchangeType, Topology, Unbound};
pub use limits::{Limits, Overflow};

use crate::deploy::{Deployment, HostRole, Installer, Instruments};
use crate::workload::Workload;

/// Adds the nodes, publishers and consumers of a queue cluster to `sim`, in
/// that order (turmoil steps hosts in registration order).
pub fn install(
    sim: &mut turmoil::Sim<'_>,
    config: &QueueConfig,
    workload: &Workload,
    instruments: &Instruments,
) -> Deployment {
    let mut installer = Installer::new(sim, config, workload, instruments, config.writeback);
    for id in 1..=config.nodes {
        installer.spawn(&config::node_host(id), HostRole::Broker, move |c| {
            node::run(c, id)
        });
    }
    let dests = (0..config.queues).map(|q| {
        let hosts = config.members(q).into_iter().map(config::node_host);
        (config::queue_name(q), hosts.collect())
    });
    installer.finish(publisher::run, consumer::run, dests)
}
