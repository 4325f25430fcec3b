//! Scenario files as written, with the source span of every value that a
//! later check may need to point at.
//!
//! These are the types the parser reads a file into, and the JSON Schema of
//! scenario files is derived from them: their doc comments are the schema's
//! descriptions, and a key or value the parser accepts is in the schema
//! because it is in these types.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{json, Value};

use super::model::SYSTEMS;
use super::one_or_many::OneOrMany;
use super::spanned::Spanned;
use super::workload::RawWorkload;
use crate::duration::{parse_duration, SimDuration};
use crate::fault::trigger::CONDITION_NAMES;

/// The most seeds `seeds = N` may ask for.
const MAX_SEEDS: i64 = 10_000;

/// An mqsim scenario: which system, which configuration, which faults, and
/// what the author expects the checker to find.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScenario<C> {
    /// The scenario's name, as reports show it.
    #[schemars(length(min = 1))]
    pub name: Spanned<String>,
    /// What the scenario shows, in a sentence or two.
    #[serde(default)]
    pub description: String,
    /// The system under test: "log" (the Kafka-like replicated log) or
    /// "queue" (the RabbitMQ-like queue cluster). It decides which keys
    /// `[config]` takes.
    #[allow(dead_code, reason = "read by the first pass; kept so the key is known")]
    #[schemars(with = "SystemName")]
    pub system: Spanned<String>,
    /// What the author expects the checker to find: compared with the
    /// verdict, never used to reach it.
    pub expect: Spanned<RawExpect>,
    /// The seeds to run: a number N for seeds 1 to N (default 5), or a list
    /// such as [3, 17].
    pub seeds: Option<Spanned<RawSeeds>>,
    /// Simulated time of the workload and the faults (default 10s).
    pub duration: Option<Spanned<SimDuration>>,
    /// When the final drain gives up: "auto" (the default) keeps draining
    /// while consumers make progress, until none has processed a message
    /// for 30s or for at most ten times `duration`; a duration is a fixed
    /// deadline. A run whose drain gives up while messages are still
    /// readable is inconclusive.
    pub drain: Option<Spanned<RawDrain>>,
    /// Simulated network latency between any two hosts.
    #[serde(default)]
    pub network: RawNetwork,
    /// What the producers and consumers do.
    pub workload: Option<Spanned<RawWorkload>>,
    /// The system's settings, under the real system's own names; which keys
    /// apply depends on `system`.
    pub config: Option<Spanned<C>>,
    /// Faults at a time (`at`) or on a condition (`when`), in file order.
    #[serde(default)]
    pub faults: Vec<Spanned<RawFault>>,
    /// A random fault schedule drawn per seed, on top of `faults`.
    pub nemesis: Option<Spanned<super::raw_nemesis::RawNemesis>>,
}

/// Just enough of a file to learn its system.
#[derive(Deserialize)]
pub(crate) struct RawHead {
    pub system: Option<Spanned<String>>,
}

/// What the author expects the checker to find.
#[derive(Deserialize, JsonSchema, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawExpect {
    /// At least one acknowledged message is lost.
    Loss,
    /// No acknowledged message is lost (duplicates are allowed).
    NoLoss,
}

/// `drain = "auto"` or `drain = "30s"`.
pub(crate) enum RawDrain {
    /// Follow the backlog.
    Auto,
    /// A fixed deadline.
    Fixed(SimDuration),
}

impl<'de> Deserialize<'de> for RawDrain {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawDrain;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"auto\" or a duration such as \"30s\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawDrain, E> {
                if v.trim() == "auto" {
                    return Ok(RawDrain::Auto);
                }
                parse_duration(v)
                    .map(|d| RawDrain::Fixed(SimDuration(d)))
                    .map_err(|_| {
                        E::custom(format!(
                            "`{v}` is not a drain: write \"auto\" (drain while consumers make progress) or a fixed deadline such as \"30s\""
                        ))
                    })
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawDrain, E> {
                u64::try_from(v)
                    .map(|ms| RawDrain::Fixed(SimDuration(Duration::from_millis(ms))))
                    .map_err(|_| E::custom("a drain deadline cannot be negative"))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawDrain {
    fn schema_name() -> Cow<'static, str> {
        "Drain".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let deadline = generator.subschema_for::<SimDuration>();
        json_schema!({
            "anyOf": [
                {
                    "const": "auto",
                    "description": "Drain while consumers make progress (the default)."
                },
                deadline
            ]
        })
    }
}

/// `seeds = 5` (seeds 1 to 5) or `seeds = [3, 17]`.
pub(crate) struct RawSeeds(pub Vec<u64>);

impl<'de> Deserialize<'de> for RawSeeds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawSeeds;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number of seeds (1 to 10000) or a list of seeds")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawSeeds, E> {
                if !(1..=MAX_SEEDS).contains(&v) {
                    return Err(E::custom("the number of seeds must be between 1 and 10000"));
                }
                Ok(RawSeeds((1..=v as u64).collect()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<RawSeeds, A::Error> {
                let mut seeds = Vec::new();
                while let Some(s) = seq.next_element::<u64>()? {
                    seeds.push(s);
                }
                if seeds.is_empty() {
                    return Err(de::Error::custom("the list of seeds is empty"));
                }
                Ok(RawSeeds(seeds))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawSeeds {
    fn schema_name() -> Cow<'static, str> {
        "Seeds".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "anyOf": [
                {"type": "integer", "minimum": 1, "maximum": MAX_SEEDS},
                {"type": "array", "minItems": 1, "items": {"type": "integer", "minimum": 0}}
            ]
        })
    }
}

/// `[network]`: simulated latency between any two hosts.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNetwork {
    /// The least latency of a datagram (default 1ms).
    pub min_latency: Option<Spanned<SimDuration>>,
    /// The most latency of a datagram (default 5ms).
    pub max_latency: Option<Spanned<SimDuration>>,
}

/// What a fault does.
#[derive(Deserialize, JsonSchema, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RawAction {
    /// Cut `target` off from `peer` (default: every other host), both ways.
    Partition,
    /// Cut `target` off from every other host.
    Isolate,
    /// Drop a share (`rate`) of the datagrams between `target` and `peer`.
    Drop,
    /// Add `latency` to the datagrams between `target` and `peer`.
    Delay,
    /// Hold the datagrams between `target` and `peer`, then deliver them all
    /// at once when the fault ends.
    Hold,
    /// Stop `target`'s process; what it fsynced survives (restarts after
    /// `restart_after`, if given).
    Crash,
    /// Cut `target`'s power: writes not yet fsynced are lost too (restarts
    /// after `restart_after`, if given).
    #[serde(alias = "power-loss")]
    PowerLoss,
    /// Stop `target`'s broker application in an orderly way
    /// (`rabbitmqctl stop_app`; queue nodes only): the process and its
    /// cluster links stay up, and the mirrors of the queues it masters apply
    /// `ha-promote-on-shutdown`. Started again after `restart_after`, if
    /// given (`start_app`).
    #[serde(alias = "stop-app")]
    StopApp,
    /// End every network fault.
    Heal,
    /// Remove the binding of `queue` to `exchange` with `routing_key` from
    /// the cluster's metadata (`queue.unbind`), and put it back after
    /// `duration`: a binding that disappears for a while, or, at 0s, one
    /// that appears late.
    Unbind,
}

impl RawAction {
    pub(crate) const ALL: [RawAction; 10] = [
        RawAction::Partition,
        RawAction::Isolate,
        RawAction::Drop,
        RawAction::Delay,
        RawAction::Hold,
        RawAction::Crash,
        RawAction::PowerLoss,
        RawAction::StopApp,
        RawAction::Heal,
        RawAction::Unbind,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            RawAction::Partition => "partition",
            RawAction::Isolate => "isolate",
            RawAction::Drop => "drop",
            RawAction::Delay => "delay",
            RawAction::Hold => "hold",
            RawAction::Crash => "crash",
            RawAction::PowerLoss => "power_loss",
            RawAction::StopApp => "stop_app",
            RawAction::Heal => "heal",
            RawAction::Unbind => "unbind",
        }
    }

    /// The keys the action takes besides `at` and `action`, required first.
    pub(crate) fn keys(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            RawAction::Partition | RawAction::Hold => {
                (&["target"], &["peer", "partition", "duration"])
            }
            RawAction::Isolate => (&["target"], &["partition", "duration"]),
            RawAction::Drop => (&["target", "rate"], &["peer", "partition", "duration"]),
            RawAction::Delay => (&["target", "latency"], &["peer", "partition", "duration"]),
            RawAction::Crash | RawAction::PowerLoss | RawAction::StopApp => {
                (&["target"], &["partition", "restart_after"])
            }
            RawAction::Heal => (&[], &[]),
            RawAction::Unbind => (&["exchange", "queue"], &["routing_key", "duration"]),
        }
    }
}

/// One fault, at a time (`at`) or on a condition (`when`).
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(transform = fault_needs)]
pub(crate) struct RawFault {
    /// Simulated time of the fault, or with `when`, the time from which the
    /// condition is watched.
    pub at: Option<Spanned<SimDuration>>,
    /// Fire when this condition holds instead of at a time.
    #[schemars(with = "Option<ConditionName>")]
    pub when: Option<Spanned<String>>,
    /// With `when`: how long after the condition holds the fault fires.
    pub after: Option<Spanned<SimDuration>>,
    /// With `when`: how many times the fault may fire (default 1).
    #[schemars(range(min = 1))]
    pub times: Option<Spanned<u32>>,
    /// What the fault does.
    pub action: Spanned<RawAction>,
    /// The hosts the fault hits.
    pub target: Option<Spanned<OneOrMany>>,
    /// The other side of a network fault (default: every other host).
    pub peer: Option<Spanned<OneOrMany>>,
    /// The partition (or queue) that roles refer to (default 0).
    pub partition: Option<Spanned<u32>>,
    /// How long a network fault lasts (default: until `heal` or the end).
    pub duration: Option<Spanned<SimDuration>>,
    /// After a crash or a power loss, when the host restarts (default: never).
    pub restart_after: Option<Spanned<SimDuration>>,
    /// For `drop`: the probability a datagram is dropped.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub rate: Option<Spanned<f64>>,
    /// For `delay`: the latency added to every datagram.
    pub latency: Option<Spanned<SimDuration>>,
    /// For `unbind`: the binding's exchange.
    pub exchange: Option<Spanned<String>>,
    /// For `unbind`: the binding's queue (`q0`, …).
    pub queue: Option<Spanned<String>>,
    /// For `unbind`: the binding's key (default "").
    pub routing_key: Option<Spanned<String>>,
}

/// A fault needs `at` or `when`, and the keys its action requires.
fn fault_needs(schema: &mut Schema) {
    let needs = RawAction::ALL
        .iter()
        .map(|a| {
            json!({
                "if": {"properties": {"action": {"const": a.name()}}},
                "then": {"required": a.keys().0}
            })
        })
        .collect();
    schema.insert(
        "anyOf".into(),
        json!([{"required": ["at"]}, {"required": ["when"]}]),
    );
    schema.insert("allOf".into(), Value::Array(needs));
}

impl RawFault {
    /// The optional keys present, with their spans.
    pub(crate) fn present(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
        let mut keys = Vec::new();
        let mut add = |k, s: Option<std::ops::Range<usize>>| {
            if let Some(s) = s {
                keys.push((k, s));
            }
        };
        add("target", self.target.as_ref().map(Spanned::span));
        add("peer", self.peer.as_ref().map(Spanned::span));
        add("partition", self.partition.as_ref().map(Spanned::span));
        add("duration", self.duration.as_ref().map(Spanned::span));
        add(
            "restart_after",
            self.restart_after.as_ref().map(Spanned::span),
        );
        add("rate", self.rate.as_ref().map(Spanned::span));
        add("latency", self.latency.as_ref().map(Spanned::span));
        add("exchange", self.exchange.as_ref().map(Spanned::span));
        add("queue", self.queue.as_ref().map(Spanned::span));
        add("routing_key", self.routing_key.as_ref().map(Spanned::span));
        keys
    }

    /// The trigger keys present, with their spans.
    pub(crate) fn trigger_keys(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
        let mut keys = Vec::new();
        if let Some(s) = &self.after {
            keys.push(("after", s.span()));
        }
        if let Some(s) = &self.times {
            keys.push(("times", s.span()));
        }
        keys
    }
}

/// Declares a type that exists only for the schema: a string that is one of
/// the names the parser accepts, from the list it checks against.
macro_rules! name_schema {
    ($name:ident, $title:literal, $names:expr) => {
        struct $name;

        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                $title.into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({"type": "string", "enum": $names})
            }
        }
    };
}

name_schema!(SystemName, "System", SYSTEMS);
name_schema!(ConditionName, "Condition", CONDITION_NAMES);
