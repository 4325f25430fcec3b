//! A Kafka-like replicated log.
//!
//! One topic of `partitions` partitions, each replicated on
//! `replication.factor` brokers with a leader and followers; a controller
//! that detects dead brokers and elects leaders; producers with `acks`,
//! retries and idempotence; a consumer group whose committed offsets live in
//! a replicated internal partition, as Kafka's `__consumer_offsets` does.

pub mod broker;
pub mod client;
pub mod config;
pub mod consumer;
pub mod controller;
pub mod producer;
pub mod protocol;
pub mod replica;

pub use config::{Acks, LogConfig, OffsetReset, Sabotage};

use crate::deploy::{Deployment, HostRole, Instruments};
use crate::workload::{consumer_host, producer_host, Workload};

/// What every host of a log cluster is given.
pub type Context = crate::deploy::HostContext<LogConfig>;

/// Adds the controller, brokers, producers and consumers of a log cluster to
/// `sim`, in that order (turmoil steps hosts in registration order).
pub fn install(
    sim: &mut turmoil::Sim<'_>,
    config: &LogConfig,
    workload: &Workload,
    instruments: &Instruments,
) -> Deployment {
    let ctx = Context::new(config, workload, instruments);
    let mut deployment = Deployment::default();

    let c = ctx.clone();
    deployment.spawn(sim, config::CONTROLLER, HostRole::Controller, move || {
        controller::run(c.clone())
    });

    for id in 1..=config.brokers {
        let c = ctx.clone();
        let host = config::broker_host(id);
        deployment.spawn(sim, &host, HostRole::Broker, move || {
            broker::run(c.clone(), id)
        });
    }
    for index in 1..=workload.producers {
        let c = ctx.clone();
        let source = producer::Source::default();
        deployment.spawn(sim, &producer_host(index), HostRole::Producer, move || {
            producer::run(c.clone(), index, source.clone())
        });
    }
    for index in 1..=workload.consumers {
        let c = ctx.clone();
        deployment.spawn(sim, &consumer_host(index), HostRole::Consumer, move || {
            consumer::run(c.clone(), index)
        });
    }
    for p in 0..config.partitions {
        deployment.dests.insert(
            config::partition_name(p),
            config
                .replicas(p)
                .into_iter()
                .map(config::broker_host)
                .collect(),
        );
    }
    deployment
}
