//! A Kafka deployment's files (`server.properties`, the topic's
//! configuration, the producer's and consumer's properties) into one
//! target: the topic, as the log model runs it.

mod config;
mod files;
mod resolve;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use broker_model::Workload;

use crate::audit::deployment::{Deployment, Target};
use crate::audit::error::ReadError;
use crate::audit::origin::Origin;
use crate::audit::tags::{Place, Tags};
use crate::audit::time_scale::SCALE;
use crate::scenario::log_config::{self, RawLogConfig};
use crate::scenario::System;
use files::PropFile;
use resolve::{Resolver, Sources};

/// The files of a Kafka deployment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct KafkaFiles {
    /// `server.properties`.
    pub broker: PathBuf,
    /// The topic's configuration (`retention.ms=…`, as `kafka-configs`
    /// sets it), plus `partitions` and `replication.factor` as
    /// `kafka-topics --create` takes them.
    pub topic: Option<PathBuf>,
    /// The producer's properties.
    pub producer: Option<PathBuf>,
    /// The consumer's properties.
    pub consumer: Option<PathBuf>,
    /// The number of brokers (`--brokers`); by default the replication
    /// factor, and at least 3.
    pub brokers: Option<u32>,
}

/// Reads a Kafka deployment's files.
pub fn read_kafka(files: &KafkaFiles) -> Result<Deployment, ReadError> {
    let load = |p: &Option<PathBuf>| p.as_deref().map(PropFile::load).transpose();
    let broker = PropFile::load(&files.broker)?;
    let topic = load(&files.topic)?;
    let producer = load(&files.producer)?;
    let consumer = load(&files.consumer)?;
    let sources = Sources {
        broker: &broker,
        topic: topic.as_ref(),
        producer: producer.as_ref(),
        consumer: consumer.as_ref(),
    };
    deployment(sources, files.topic.as_deref(), files.brokers)
}

/// The deployment the files describe.
fn deployment(
    sources: Sources,
    topic_path: Option<&Path>,
    brokers: Option<u32>,
) -> Result<Deployment, ReadError> {
    let mut not_modelled = sources.broker.not_modelled(config::BROKER_KEYS, &[]);
    if let Some(t) = sources.topic {
        not_modelled.extend(t.not_modelled(config::TOPIC_KEYS, &[]));
    }
    if let Some(p) = sources.producer {
        not_modelled.extend(p.not_modelled(config::PRODUCER_KEYS, &[]));
    }
    let broker_path = sources.broker.path.clone();
    let consumer = sources.consumer;
    let mut r = Resolver {
        sources,
        tags: Tags::new(&broker_path),
    };
    let mut raw = RawLogConfig::default();
    config::topic(&mut r, &mut raw)?;
    config::brokers(&mut r, &mut raw)?;
    config::producer(&mut r, &mut raw)?;
    let grouped = config::consumer(&mut r, &mut raw)?;
    if let Some(c) = consumer {
        let unused = if grouped { &[][..] } else { config::GROUP_KEYS };
        not_modelled.extend(c.not_modelled(config::CONSUMER_KEYS, unused));
    }
    let rf = raw.replication_factor.as_ref().map_or(1, |v| *v.get_ref());
    let (count, origin, text) = match brokers {
        Some(n) => (n, Origin::Default("the --brokers option"), n.to_string()),
        None => {
            let n = rf.max(3);
            (
                n,
                Origin::Default("mqsim: the replication factor, at least 3"),
                n.to_string(),
            )
        }
    };
    let place = Place {
        path: broker_path.clone(),
        line: None,
    };
    raw.brokers = Some(r.tags.tag("brokers", &text, origin, place, count));

    let whole = r.tags.whole(raw);
    let config = log_config::convert(Some(&whole), &Tags::scenario_error)
        .map_err(|e| r.tags.audit_error(e))?;
    let name = topic_path
        .and_then(|p| p.file_stem())
        .map_or_else(|| "topic".to_string(), |s| s.to_string_lossy().into_owned());
    Ok(Deployment {
        targets: vec![Target {
            name,
            system: System::Log(config),
            workload: Workload::default(),
            settings: r.tags.settings,
        }],
        not_modelled,
        time_scale: SCALE,
    })
}
