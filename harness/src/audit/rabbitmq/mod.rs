//! A RabbitMQ deployment's files (`definitions.json`, `rabbitmq.conf`,
//! `client.toml`) into targets: the queues, grouped by effective
//! configuration, as the queue model runs them.

mod client;
mod client_settings;
mod conf;
mod context;
mod definitions;
mod effective;
mod policy;
mod target;
#[cfg(test)]
mod tests;
mod topology;

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::audit::deployment::{Deployment, NotModelled};
use crate::audit::error::ReadError;
use crate::audit::origin::Origin;
use crate::audit::tags::Place;
use crate::audit::time_scale::{scaled_ms, SCALE};
use crate::scenario::queue_config::RawPartitionHandling;
use client::ClientFile;
use conf::Conf;
use context::{Cluster, Context, Valued};
use definitions::DefinitionsFile;
use effective::{note, DefaultType, QueueView, RABBITMQ};

/// The files of a RabbitMQ deployment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RabbitFiles {
    /// `definitions.json`, as `rabbitmqctl export_definitions` writes it.
    pub definitions: PathBuf,
    /// `rabbitmq.conf`.
    pub conf: Option<PathBuf>,
    /// `client.toml`: how the application publishes and consumes.
    pub client: Option<PathBuf>,
    /// The number of nodes (`--nodes`); by default the length of
    /// `rabbitmq.conf`'s node list, else 3.
    pub nodes: Option<u32>,
    /// The queues to audit (`--queue`); empty is every queue.
    pub queues: Vec<String>,
}

/// Reads a RabbitMQ deployment's files.
pub fn read_rabbitmq(files: &RabbitFiles) -> Result<Deployment, ReadError> {
    let file = DefinitionsFile::load(&files.definitions)?;
    let conf = files.conf.as_deref().map(Conf::load).transpose()?;
    let client = match &files.client {
        Some(p) => ClientFile::load(p)?,
        None => ClientFile::absent(Path::new("client.toml")),
    };
    deployment(&file, conf.as_ref(), &client, files.nodes, &files.queues)
}

/// The deployment the files describe.
fn deployment(
    file: &DefinitionsFile,
    conf: Option<&Conf>,
    client: &ClientFile,
    nodes: Option<u32>,
    selected: &[String],
) -> Result<Deployment, ReadError> {
    let defs = &file.definitions;
    let mut not_modelled: Vec<NotModelled> = Vec::new();
    for key in defs.other.keys() {
        let line = file.line_of(key, None, None);
        note(&mut not_modelled, file, key, line);
    }
    if let Some(c) = conf {
        not_modelled.extend(c.not_modelled());
    }
    let policies = policy::compile(file, &defs.policies, false)?;
    let operator = policy::compile(file, &defs.operator_policies, true)?;
    let cluster = cluster(file, conf, nodes)?;

    for name in selected {
        if !defs.queues.iter().any(|q| q.name == *name) {
            let all: Vec<&str> = defs.queues.iter().map(|q| q.name.as_str()).collect();
            return Err(ReadError::file(
                &file.path,
                format!(
                    "no queue `{name}` in the definitions; queues: {}",
                    all.join(", ")
                ),
            ));
        }
    }
    let mut groups: Vec<(String, Vec<QueueView>)> = Vec::new();
    for q in &defs.queues {
        if !selected.is_empty() && !selected.contains(&q.name) {
            continue;
        }
        let default = default_type(file, conf, &q.vhost);
        let Some(kind) = effective::kind(file, q, &default)? else {
            if selected.contains(&q.name) {
                return Err(file.error(
                    "queues",
                    &q.name,
                    "x-queue-type",
                    format!(
                        "queue `{}` is a stream, which the model does not have",
                        q.name
                    ),
                ));
            }
            let line = file.line_of("queues", Some(&q.name), Some("x-queue-type"));
            note(&mut not_modelled, file, &format!("stream {}", q.name), line);
            continue;
        };
        let view = effective::queue(
            file,
            q,
            kind,
            &default,
            &policies,
            &operator,
            &mut not_modelled,
        )?;
        let values: Vec<(&String, &Value)> =
            view.settings.iter().map(|(k, s)| (k, &s.value)).collect();
        let key = format!("{}|{:?}|{values:?}", view.vhost, view.kind);
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, g)) => g.push(view),
            None => groups.push((key, vec![view])),
        }
    }
    if groups.is_empty() {
        return Err(ReadError::file(
            &file.path,
            "no classic or quorum queue to audit in the definitions",
        ));
    }
    let cx = Context {
        file,
        client,
        cluster: &cluster,
        policies: &policies,
    };
    let mut targets = Vec::new();
    for (_, group) in &groups {
        targets.push(target::target(&cx, group, &mut not_modelled)?);
    }
    Ok(Deployment {
        targets,
        not_modelled,
        time_scale: SCALE,
    })
}

/// The type of the queues of `vhost` declared without `x-queue-type`.
fn default_type(file: &DefinitionsFile, conf: Option<&Conf>, vhost: &str) -> DefaultType {
    let of_vhost = file
        .definitions
        .vhosts
        .iter()
        .find(|v| v.name == vhost)
        .and_then(|v| v.default_queue_type());
    if let Some(name) = of_vhost {
        let line = file.line_of("vhosts", Some(vhost), Some("default_queue_type"));
        return DefaultType {
            name: name.to_string(),
            origin: Origin::File {
                path: file.path.clone(),
                line,
            },
            place: Place {
                path: file.path.clone(),
                line: Some(line),
            },
        };
    }
    if let Some((c, e)) = conf.and_then(|c| Some((c, c.get("default_queue_type")?))) {
        return DefaultType {
            name: e.value.clone(),
            origin: Origin::File {
                path: c.path.clone(),
                line: e.line,
            },
            place: Place {
                path: c.path.clone(),
                line: Some(e.line),
            },
        };
    }
    DefaultType {
        name: "classic".into(),
        origin: Origin::Default(RABBITMQ),
        place: Place {
            path: file.path.clone(),
            line: None,
        },
    }
}

/// The cluster's nodes, partition handling and heartbeat.
fn cluster(
    file: &DefinitionsFile,
    conf: Option<&Conf>,
    nodes: Option<u32>,
) -> Result<Cluster, ReadError> {
    let nowhere = |path: &Path| Place {
        path: path.to_path_buf(),
        line: None,
    };
    let conf_path = conf.map_or(file.path.as_path(), |c| c.path.as_path());
    let at = |line: u32| Place {
        path: conf_path.to_path_buf(),
        line: Some(line),
    };
    let in_conf = |line: u32| Origin::File {
        path: conf_path.to_path_buf(),
        line,
    };
    let listed = conf.map(Conf::nodes).unwrap_or_default();
    let nodes = match (nodes, listed.first()) {
        (Some(n), _) => Valued {
            value: n,
            text: n.to_string(),
            origin: Origin::Default("the --nodes option"),
            place: nowhere(&file.path),
        },
        (None, Some(first)) => Valued {
            value: listed.len() as u32,
            text: listed
                .iter()
                .map(|e| e.value.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            origin: in_conf(first.line),
            place: at(first.line),
        },
        (None, None) => Valued {
            value: 3,
            text: "3".into(),
            origin: Origin::Default("mqsim: 3 nodes"),
            place: nowhere(&file.path),
        },
    };
    let key = "cluster_partition_handling";
    let partition_handling = match conf.and_then(|c| c.get(key)) {
        Some(e) => Valued {
            value: serde_json::from_value::<RawPartitionHandling>(Value::String(e.value.clone()))
                .map_err(|_| {
                ReadError::at(
                    conf_path,
                    e.line,
                    key,
                    format!(
                        "`{key}` = `{}` cannot be audited: the model has ignore, autoheal \
                             and pause_minority",
                        e.value
                    ),
                )
            })?,
            text: e.value.clone(),
            origin: in_conf(e.line),
            place: at(e.line),
        },
        None => Valued {
            value: RawPartitionHandling::Ignore,
            text: "ignore".into(),
            origin: Origin::Default(RABBITMQ),
            place: nowhere(conf_path),
        },
    };
    let heartbeat_ms = match conf.and_then(|c| c.get("heartbeat")) {
        Some(e) => Valued {
            value: e
                .value
                .parse::<u64>()
                .map(|s| scaled_ms(s * 1000))
                .map_err(|_| {
                    ReadError::at(
                        conf_path,
                        e.line,
                        "heartbeat",
                        format!(
                            "`heartbeat` = `{}` is refused by RabbitMQ: it takes whole seconds",
                            e.value
                        ),
                    )
                })?,
            text: format!("{} s", e.value),
            origin: in_conf(e.line),
            place: at(e.line),
        },
        None => Valued {
            value: scaled_ms(60_000),
            text: "60 s".into(),
            origin: Origin::Default(RABBITMQ),
            place: nowhere(conf_path),
        },
    };
    Ok(Cluster {
        nodes,
        partition_handling,
        heartbeat_ms,
    })
}
