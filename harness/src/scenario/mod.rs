//! Scenario files: which system, which configuration, which faults, and what
//! the author expects.
//!
//! A scenario is read in two passes: the first learns `system`, the second
//! reads the whole file with that system's `[config]` keys, refusing unknown
//! keys. Every error names the file, the line and column, the key, and what
//! is allowed.

pub mod duration;
pub mod error;
mod log_config;
mod queue_config;
mod raw;

use std::path::{Path, PathBuf};
use std::time::Duration;

use broker_model::log::LogConfig;
use broker_model::queue::QueueConfig;
use broker_model::workload::{consumer_host, producer_host};
use broker_model::Workload;
use serde::de::DeserializeOwned;
use toml::Spanned;

pub use error::ScenarioError;

use crate::fault::{Action, Fault, Selector, Target};
use log_config::RawLogConfig;
use queue_config::RawQueueConfig;
use raw::{OneOrMany, RawAction, RawExpect, RawHead, RawScenario};

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

/// Simulated network latency between any two hosts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Network {
    /// The least latency of a datagram.
    pub min_latency: Duration,
    /// The most latency of a datagram.
    pub max_latency: Duration,
}

impl Default for Network {
    fn default() -> Self {
        Network {
            min_latency: Duration::from_millis(1),
            max_latency: Duration::from_millis(5),
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
}

/// The systems scenario files may name.
const SYSTEMS: &[&str] = &["log", "queue"];

/// Reads and checks the scenario file at `path`.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| ScenarioError::whole_file(path, format!("cannot read: {e}")))?;
    parse(path, &text)
}

/// Checks the scenario `text`, reporting errors against `path`.
pub fn parse(path: &Path, text: &str) -> Result<Scenario, ScenarioError> {
    let err = |span, key: Option<&str>, msg: String| ScenarioError::at(path, text, span, key, msg);
    let head: RawHead = toml::from_str(text).map_err(|e| toml_error(path, text, e))?;
    let Some(system) = head.system else {
        return Err(ScenarioError::whole_file(
            path,
            format!("missing key `system`; allowed: {}", quoted(SYSTEMS)),
        ));
    };
    match system.get_ref().as_str() {
        "log" => {
            let raw: RawScenario<RawLogConfig> = read_full(path, text)?;
            let config = log_config::convert(raw.config.as_ref(), &err)?;
            finish(path, text, raw, System::Log(config))
        }
        "queue" => {
            let raw: RawScenario<RawQueueConfig> = read_full(path, text)?;
            let config = queue_config::convert(raw.config.as_ref(), &err)?;
            finish(path, text, raw, System::Queue(config))
        }
        other => Err(err(
            Some(system.span()),
            Some("system"),
            format!("unknown system `{other}`; allowed: {}", quoted(SYSTEMS)),
        )),
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn read_full<C: DeserializeOwned>(
    path: &Path,
    text: &str,
) -> Result<RawScenario<C>, ScenarioError> {
    toml::from_str(text).map_err(|e| toml_error(path, text, e))
}

fn toml_error(path: &Path, text: &str, e: toml::de::Error) -> ScenarioError {
    let message = e.message().trim().replace('\n', " ");
    let message = message
        .strip_prefix("TOML parse error: ")
        .unwrap_or(&message)
        .to_string();
    let key = unknown_field(&message);
    let message = match (&key, message.split_once("expected one of ")) {
        (Some(k), Some((_, allowed))) => format!("unknown key `{k}`; allowed keys: {allowed}"),
        (Some(k), None) => format!("unknown key `{k}`"),
        _ => message,
    };
    ScenarioError::at(path, text, e.span(), key.as_deref(), message)
}

/// The key named by serde's "unknown field `x`" message.
fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_string())
}

pub(crate) type ErrAt<'a> =
    dyn Fn(Option<std::ops::Range<usize>>, Option<&str>, String) -> ScenarioError + 'a;

fn finish<C>(
    path: &Path,
    text: &str,
    raw: RawScenario<C>,
    system: System,
) -> Result<Scenario, ScenarioError> {
    let err = |span, key: Option<&str>, msg: String| ScenarioError::at(path, text, span, key, msg);
    let name = raw.name.get_ref().trim().to_string();
    if name.is_empty() {
        return Err(err(
            Some(raw.name.span()),
            Some("name"),
            "`name` is empty".into(),
        ));
    }
    let expect = match raw.expect.get_ref() {
        RawExpect::Loss => Expect::Loss,
        RawExpect::NoLoss => Expect::NoLoss,
    };
    let seeds = raw
        .seeds
        .map_or_else(|| (1..=5).collect(), |s| s.into_inner().0);
    let duration = raw
        .duration
        .as_ref()
        .map_or(Duration::from_secs(10), |d| d.get_ref().0);
    if duration.is_zero() {
        let span = raw.duration.as_ref().map(Spanned::span);
        return Err(err(
            span,
            Some("duration"),
            "`duration` must be above 0".into(),
        ));
    }
    let drain = raw
        .drain
        .as_ref()
        .map_or(Duration::from_secs(30), |d| d.get_ref().0);

    let mut network = Network::default();
    if let Some(v) = &raw.network.min_latency {
        network.min_latency = v.get_ref().0;
    }
    if let Some(v) = &raw.network.max_latency {
        network.max_latency = v.get_ref().0;
    }
    if network.max_latency < network.min_latency {
        let span = raw
            .network
            .max_latency
            .as_ref()
            .or(raw.network.min_latency.as_ref())
            .map(Spanned::span);
        return Err(err(
            span,
            Some("max_latency"),
            "`max_latency` must not be below `min_latency`".into(),
        ));
    }

    let workload = workload(raw.workload.as_ref(), &err)?;
    let hosts = host_names(&system, &workload);
    let dests = dest_names(&system);
    let mut faults = Vec::new();
    for f in &raw.faults {
        faults.push(fault(f, &hosts, &dests, &err)?);
    }
    Ok(Scenario {
        file: path.to_path_buf(),
        name,
        description: raw.description.trim().to_string(),
        system,
        expect,
        seeds,
        duration,
        drain,
        network,
        workload,
        faults,
    })
}

fn workload(
    raw: Option<&Spanned<raw::RawWorkload>>,
    err: &ErrAt,
) -> Result<Workload, ScenarioError> {
    let mut w = Workload::default();
    let Some(raw) = raw else {
        return Ok(w);
    };
    let r = raw.get_ref();
    let positive =
        |v: &Option<Spanned<u32>>, key: &str, max: u32| -> Result<Option<u32>, ScenarioError> {
            match v {
                Some(s) if *s.get_ref() == 0 || *s.get_ref() > max => Err(err(
                    Some(s.span()),
                    Some(key),
                    format!("`{key}` must be between 1 and {max}"),
                )),
                Some(s) => Ok(Some(*s.get_ref())),
                None => Ok(None),
            }
        };
    if let Some(p) = positive(&r.producers, "producers", 64)? {
        w.producers = p;
    }
    if let Some(c) = positive(&r.consumers, "consumers", 64)? {
        w.consumers = c;
    }
    if let Some(m) = positive(&r.messages, "messages", 1_000_000)? {
        w.messages = m;
    }
    if let Some(rate) = &r.rate {
        let v = *rate.get_ref();
        if !(v.is_finite() && v > 0.0 && v <= 1_000_000.0) {
            return Err(err(
                Some(rate.span()),
                Some("rate"),
                "`rate` (messages per simulated second) must be above 0 and at most 1000000".into(),
            ));
        }
        w.rate = v;
    }
    if let Some(p) = r.processing_time {
        w.processing_time = p.0;
    }
    if w.messages < w.producers {
        let span = r.messages.as_ref().map(Spanned::span).or(Some(raw.span()));
        return Err(err(
            span,
            Some("messages"),
            format!(
                "`messages` = {} is fewer than `producers` = {}",
                w.messages, w.producers
            ),
        ));
    }
    Ok(w)
}

/// Every host a scenario of this system and workload has.
pub fn host_names(system: &System, workload: &Workload) -> Vec<String> {
    let mut hosts = Vec::new();
    match system {
        System::Log(c) => {
            hosts.push(broker_model::log::config::CONTROLLER.to_string());
            hosts.extend((1..=c.brokers).map(broker_model::log::config::broker_host));
        }
        System::Queue(c) => hosts.extend((1..=c.nodes).map(broker_model::queue::config::node_host)),
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
            .map(broker_model::log::config::partition_name)
            .collect(),
        System::Queue(c) => (0..c.queues)
            .map(broker_model::queue::config::queue_name)
            .collect(),
    }
}

fn fault(
    f: &Spanned<raw::RawFault>,
    hosts: &[String],
    dests: &[String],
    err: &ErrAt,
) -> Result<Fault, ScenarioError> {
    let r = f.get_ref();
    let action = *r.action.get_ref();
    let (required, optional) = action.keys();
    for (key, span) in r.present() {
        if !required.contains(&key) && !optional.contains(&key) {
            let takes: Vec<&str> = ["at", "action"]
                .iter()
                .chain(required)
                .chain(optional)
                .copied()
                .collect();
            return Err(err(
                Some(span),
                Some(key),
                format!(
                    "`{key}` does not apply to action `{}`; it takes: {}",
                    action.name(),
                    takes.join(", ")
                ),
            ));
        }
    }
    let present: Vec<&str> = r.present().iter().map(|(k, _)| *k).collect();
    for key in required {
        if !present.contains(key) {
            return Err(err(
                Some(r.action.span()),
                Some(key),
                format!("action `{}` needs `{key}`", action.name()),
            ));
        }
    }
    let dest = match &r.partition {
        Some(p) => dests.get(*p.get_ref() as usize).ok_or_else(|| {
            err(
                Some(p.span()),
                Some("partition"),
                format!(
                    "`partition` must be below {} (the number of destinations)",
                    dests.len()
                ),
            )
        })?,
        None => &dests[0],
    };
    let selector =
        |v: &Option<Spanned<OneOrMany>>, key: &str| -> Result<Option<Selector>, ScenarioError> {
            let Some(v) = v else {
                return Ok(None);
            };
            let mut targets = Vec::new();
            for name in &v.get_ref().0 {
                let t: Target = name
                    .parse()
                    .map_err(|m: String| err(Some(v.span()), Some(key), m))?;
                if let Target::Host(h) = &t {
                    if !hosts.contains(h) {
                        return Err(err(
                            Some(v.span()),
                            Some(key),
                            format!(
                                "no host `{h}` in this scenario; hosts: {}",
                                hosts.join(", ")
                            ),
                        ));
                    }
                }
                targets.push(t);
            }
            Ok(Some(Selector {
                targets,
                dest: dest.clone(),
            }))
        };
    let target = selector(&r.target, "target")?;
    let peer = selector(&r.peer, "peer")?;
    let dur = |v: &Option<Spanned<duration::SimDuration>>| v.as_ref().map(|d| d.get_ref().0);
    let duration = dur(&r.duration);
    let need = |t: Option<Selector>| t.expect("required keys were checked");
    let action = match action {
        RawAction::Partition => Action::Partition {
            target: need(target),
            peer,
            duration,
        },
        RawAction::Isolate => Action::Partition {
            target: need(target),
            peer: None,
            duration,
        },
        RawAction::Drop => {
            let rate = r.rate.as_ref().expect("required keys were checked");
            let v = *rate.get_ref();
            if !(0.0..=1.0).contains(&v) {
                return Err(err(
                    Some(rate.span()),
                    Some("rate"),
                    "`rate` is a probability: between 0.0 and 1.0".into(),
                ));
            }
            Action::Drop {
                target: need(target),
                peer,
                rate: v,
                duration,
            }
        }
        RawAction::Delay => Action::Delay {
            target: need(target),
            peer,
            latency: dur(&r.latency).expect("required keys were checked"),
            duration,
        },
        RawAction::Hold => Action::Hold {
            target: need(target),
            peer,
            duration,
        },
        RawAction::Crash => Action::Crash {
            target: need(target),
            restart_after: dur(&r.restart_after),
        },
        RawAction::PowerLoss => Action::PowerLoss {
            target: need(target),
            restart_after: dur(&r.restart_after),
        },
        RawAction::Heal => Action::Heal,
    };
    Ok(Fault {
        at: r.at.get_ref().0,
        action,
    })
}

/// Every `.toml` file under `paths` (files as given, folders searched
/// recursively), sorted, so runs visit scenarios in a stable order.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ScenarioError> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            collect(p, &mut files)
                .map_err(|e| ScenarioError::whole_file(p, format!("cannot list: {e}")))?;
        } else if p.exists() {
            files.push(p.clone());
        } else {
            return Err(ScenarioError::whole_file(p, "no such file or folder"));
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod queue_tests;
#[cfg(test)]
mod tests;

impl Scenario {
    /// The configuration as `key = value` pairs in scenario-file names,
    /// defaults included, for reports.
    pub fn config_lines(&self) -> Vec<(String, String)> {
        match &self.system {
            System::Log(c) => log_config::describe(c),
            System::Queue(c) => queue_config::describe(c),
        }
    }
}
