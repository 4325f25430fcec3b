//! Reading a scenario file: TOML into the raw, spanned form, then into a
//! checked [`Scenario`].
//!
//! A file is read in two passes: the first learns `system`, the second
//! reads the whole file with that system's `[config]` keys, refusing unknown
//! keys. Every error names the file, the line and column, the key, and what
//! is allowed.

use std::path::Path;
use std::time::Duration;

use broker_model::{PoisonAction, Workload};
use serde::de::DeserializeOwned;

use super::error::{ErrAt, ScenarioError};
use super::log_config::{self, RawLogConfig};
use super::model::{dest_names, host_names, Drain, Expect, Network, Scenario, System, SYSTEMS};
use super::queue_config::{self, RawQueueConfig};
use super::raw::{RawDrain, RawExpect, RawHead, RawScenario};
use super::spanned::Spanned;
use super::validate;
use super::workload::{
    RawPoisonAction, RawWorkload, MAX_CLIENTS, MAX_MESSAGES, MAX_MESSAGE_BYTES, MAX_RATE,
};

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
            let message_bytes = raw
                .workload
                .as_ref()
                .and_then(|w| w.get_ref().message_bytes.as_ref())
                .map_or(Workload::default().message_bytes, |b| *b.get_ref());
            let config = queue_config::convert(raw.config.as_ref(), message_bytes, &err)?;
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
    let drain = match raw.drain.as_ref().map(Spanned::get_ref) {
        None | Some(RawDrain::Auto) => Drain::FollowBacklog,
        Some(RawDrain::Fixed(d)) => Drain::Fixed(d.0),
    };

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
    if workload.poison > 0.0 && matches!(system, System::Log(_)) {
        let span = raw
            .workload
            .as_ref()
            .and_then(|w| w.get_ref().poison.as_ref())
            .map(Spanned::span);
        return Err(err(
            span,
            Some("poison"),
            "`poison` applies only with `system = \"queue\"`: the log model's consumers do not \
             model poison messages"
                .into(),
        ));
    }
    let hosts = host_names(&system, &workload);
    let dests = dest_names(&system);
    let bindings = match &system {
        System::Queue(c) => c.topology.bindings.clone(),
        System::Log(_) => Vec::new(),
    };
    let mut faults = Vec::new();
    for f in &raw.faults {
        faults.push(validate::fault(f, &hosts, &dests, &bindings, &err)?);
    }
    let nemesis = match &raw.nemesis {
        Some(n) => Some(validate::random_nemesis(n, &hosts, &dests, &err)?),
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

pub(crate) fn workload(
    raw: Option<&Spanned<RawWorkload>>,
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
    if let Some(p) = positive(&r.producers, "producers", MAX_CLIENTS)? {
        w.producers = p;
    }
    if let Some(c) = positive(&r.consumers, "consumers", MAX_CLIENTS)? {
        w.consumers = c;
    }
    if let Some(m) = positive(&r.messages, "messages", MAX_MESSAGES)? {
        w.messages = m;
    }
    if let Some(rate) = &r.rate {
        let v = *rate.get_ref();
        if !(v.is_finite() && v > 0.0 && v <= MAX_RATE) {
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
    if let Some(b) = positive(&r.message_bytes, "message_bytes", MAX_MESSAGE_BYTES)? {
        w.message_bytes = b;
    }
    if let Some(start) = r.consumer_start {
        w.consumer_start = start.0;
    }
    if let Some(poison) = &r.poison {
        let v = *poison.get_ref();
        if !(0.0..=1.0).contains(&v) {
            return Err(err(
                Some(poison.span()),
                Some("poison"),
                format!("`poison` = {v} must be between 0 and 1 (a share of the messages)"),
            ));
        }
        w.poison = v;
    }
    if let Some(action) = &r.poison_action {
        if w.poison == 0.0 {
            return Err(err(
                Some(action.span()),
                Some("poison_action"),
                "`poison_action` applies only with `poison` above 0".into(),
            ));
        }
        w.poison_action = match action.get_ref() {
            RawPoisonAction::Reject => PoisonAction::Reject,
            RawPoisonAction::Crash => PoisonAction::Crash,
        };
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
