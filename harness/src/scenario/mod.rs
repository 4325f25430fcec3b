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
pub mod schema;
pub mod starter;
pub mod writer;

use std::path::{Path, PathBuf};
use std::time::Duration;

use broker_model::log::LogConfig;
use broker_model::queue::QueueConfig;
use broker_model::workload::{consumer_host, producer_host};
use broker_model::Workload;
use serde::de::DeserializeOwned;
use toml::Spanned;

pub use error::ScenarioError;

use crate::fault::random::{Kind, RandomNemesis, KIND_NAMES};
use crate::fault::trigger::{Condition, Trigger};
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
    /// A random fault schedule drawn per seed, on top of `faults`.
    pub nemesis: Option<RandomNemesis>,
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
    let nemesis = match &raw.nemesis {
        Some(n) => Some(random_nemesis(n, &hosts, &dests, &err)?),
        None => None,
    };
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
        nemesis,
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
    let trigger = match &r.when {
        Some(when) => {
            let condition: Condition = when
                .get_ref()
                .parse()
                .map_err(|m: String| err(Some(when.span()), Some("when"), m))?;
            let times = match &r.times {
                Some(t) if *t.get_ref() == 0 => {
                    return Err(err(
                        Some(t.span()),
                        Some("times"),
                        "`times` must be at least 1".into(),
                    ))
                }
                Some(t) => *t.get_ref(),
                None => 1,
            };
            Some((condition, times))
        }
        None => {
            if let Some((key, span)) = r.trigger_keys().into_iter().next() {
                return Err(err(
                    Some(span),
                    Some(key),
                    format!("`{key}` only applies to a fault with `when`"),
                ));
            }
            if r.at.is_none() {
                return Err(err(
                    Some(r.action.span()),
                    Some("at"),
                    "a fault needs `at` (a time) or `when` (a condition)".into(),
                ));
            }
            None
        }
    };
    let (required, optional) = action.keys();
    for (key, span) in r.present() {
        if !required.contains(&key) && !optional.contains(&key) {
            let takes: Vec<&str> = ["at", "when", "after", "times", "action"]
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
    let target = selector(r.target.as_ref(), "target", hosts, dest, err)?;
    let peer = selector(r.peer.as_ref(), "peer", hosts, dest, err)?;
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
    let trigger = trigger.map(|(condition, times)| Trigger {
        condition,
        dest: dest.clone(),
        after: dur(&r.after).unwrap_or_default(),
        times,
    });
    Ok(Fault {
        at: dur(&r.at).unwrap_or_default(),
        trigger,
        action,
    })
}

/// Role and host names as a selector, every host checked to exist.
fn selector(
    v: Option<&Spanned<OneOrMany>>,
    key: &str,
    hosts: &[String],
    dest: &str,
    err: &ErrAt,
) -> Result<Option<Selector>, ScenarioError> {
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
        dest: dest.to_string(),
    }))
}

fn random_nemesis(
    raw: &Spanned<raw::RawNemesis>,
    hosts: &[String],
    dests: &[String],
    err: &ErrAt,
) -> Result<RandomNemesis, ScenarioError> {
    let r = raw.get_ref();
    let mut kinds = Vec::new();
    for k in r.kinds.get_ref() {
        kinds.push(
            k.parse::<Kind>()
                .map_err(|m| err(Some(r.kinds.span()), Some("kinds"), m))?,
        );
    }
    if kinds.is_empty() {
        return Err(err(
            Some(r.kinds.span()),
            Some("kinds"),
            format!("`kinds` is empty; allowed: {}", KIND_NAMES.join(", ")),
        ));
    }
    let dest = match &r.partition {
        Some(p) => dests.get(*p.get_ref() as usize).ok_or_else(|| {
            err(
                Some(p.span()),
                Some("partition"),
                format!("`partition` must be below {}", dests.len()),
            )
        })?,
        None => &dests[0],
    };
    let targets = selector(r.targets.as_ref(), "targets", hosts, dest, err)?
        .map_or_else(|| vec![Target::AnyBroker], |s| s.targets);
    let d = |v: &Option<Spanned<duration::SimDuration>>, default: u64| {
        v.as_ref()
            .map_or(Duration::from_millis(default), |s| s.get_ref().0)
    };
    let interval = d(&r.interval, 1000);
    if interval.is_zero() {
        let span = r.interval.as_ref().map(Spanned::span);
        return Err(err(
            span,
            Some("interval"),
            "`interval` must be above 0".into(),
        ));
    }
    let max_concurrent = r.max_concurrent.as_ref().map_or(1, |m| *m.get_ref());
    if max_concurrent == 0 {
        let span = r.max_concurrent.as_ref().map(Spanned::span);
        return Err(err(
            span,
            Some("max_concurrent"),
            "`max_concurrent` must be at least 1".into(),
        ));
    }
    let (min_duration, max_duration) = (d(&r.min_duration, 200), d(&r.max_duration, 2000));
    if max_duration < min_duration {
        let span = r
            .max_duration
            .as_ref()
            .or(r.min_duration.as_ref())
            .map(Spanned::span);
        return Err(err(
            span,
            Some("max_duration"),
            "`max_duration` must not be below `min_duration`".into(),
        ));
    }
    let rate = r.rate.as_ref().map_or(0.3, |v| *v.get_ref());
    if !(0.0..=1.0).contains(&rate) {
        let span = r.rate.as_ref().map(Spanned::span);
        return Err(err(
            span,
            Some("rate"),
            "`rate` is a probability: between 0.0 and 1.0".into(),
        ));
    }
    let cluster = hosts
        .iter()
        .filter(|h| !h.starts_with("producer-") && !h.starts_with("consumer-"))
        .cloned()
        .collect();
    Ok(RandomNemesis {
        kinds,
        interval,
        max_concurrent,
        targets,
        dest: dest.clone(),
        min_duration,
        max_duration,
        start: d(&r.start, 1000),
        stop: r.stop.as_ref().map(|s| s.get_ref().0),
        rate,
        latency: d(&r.latency, 200),
        cluster,
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

/// A `*.ms` setting's value as a duration.
fn ms(v: &Option<Spanned<u64>>) -> Option<Duration> {
    v.as_ref().map(|s| Duration::from_millis(*s.get_ref()))
}

/// A setting's value without its span.
fn val<T: Copy>(v: &Option<Spanned<T>>) -> Option<T> {
    v.as_ref().map(|s| *s.get_ref())
}

/// One setting of a system's `[config]`, named as in scenario files;
/// `None` when it is left unset.
pub type Setting = (&'static str, Option<toml::Value>);

impl Scenario {
    /// Every `[config]` setting, defaults included.
    pub fn settings(&self) -> Vec<Setting> {
        match &self.system {
            System::Log(c) => log_config::describe(c),
            System::Queue(c) => queue_config::describe(c),
        }
    }

    /// The configuration as `key = value` text pairs, for reports.
    pub fn config_lines(&self) -> Vec<(String, String)> {
        self.settings()
            .into_iter()
            .map(|(k, v)| {
                let text = match v {
                    Some(toml::Value::String(s)) => s,
                    Some(other) => other.to_string(),
                    None => "unset".into(),
                };
                (k.to_string(), text)
            })
            .collect()
    }

    /// The configuration in one line: the system and the settings that
    /// decide what survives a fault, then any other non-default setting.
    pub fn configuration_label(&self) -> String {
        match &self.system {
            System::Log(c) => log_config::label(c),
            System::Queue(c) => queue_config::label(c),
        }
    }
}
