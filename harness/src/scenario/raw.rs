//! Scenario files as written, with the source span of every value that a
//! later check may need to point at.

use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

use super::duration::SimDuration;

/// The keys every scenario file shares; `C` is the system's `[config]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawScenario<C> {
    pub name: Spanned<String>,
    #[serde(default)]
    pub description: String,
    #[allow(dead_code, reason = "read by the first pass; kept so the key is known")]
    pub system: Spanned<String>,
    pub expect: Spanned<RawExpect>,
    pub seeds: Option<Spanned<RawSeeds>>,
    pub duration: Option<Spanned<SimDuration>>,
    pub drain: Option<Spanned<SimDuration>>,
    #[serde(default)]
    pub network: RawNetwork,
    pub workload: Option<Spanned<RawWorkload>>,
    pub config: Option<Spanned<C>>,
    #[serde(default)]
    pub faults: Vec<Spanned<RawFault>>,
    pub nemesis: Option<Spanned<RawNemesis>>,
}

/// `[nemesis]`: a seeded random fault schedule.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNemesis {
    pub kinds: Spanned<Vec<String>>,
    pub interval: Option<Spanned<SimDuration>>,
    pub max_concurrent: Option<Spanned<u32>>,
    pub targets: Option<Spanned<OneOrMany>>,
    pub partition: Option<Spanned<u32>>,
    pub min_duration: Option<Spanned<SimDuration>>,
    pub max_duration: Option<Spanned<SimDuration>>,
    pub start: Option<Spanned<SimDuration>>,
    pub stop: Option<Spanned<SimDuration>>,
    pub rate: Option<Spanned<f64>>,
    pub latency: Option<Spanned<SimDuration>>,
}

/// Just enough of a file to learn its system.
#[derive(Deserialize)]
pub struct RawHead {
    pub system: Option<Spanned<String>>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "kebab-case")]
pub enum RawExpect {
    Loss,
    NoLoss,
}

/// `seeds = 5` (seeds 1 to 5) or `seeds = [3, 17]`.
pub struct RawSeeds(pub Vec<u64>);

impl<'de> Deserialize<'de> for RawSeeds {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawSeeds;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number of seeds (1 to 10000) or a list of seeds")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawSeeds, E> {
                if !(1..=10_000).contains(&v) {
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

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawNetwork {
    pub min_latency: Option<Spanned<SimDuration>>,
    pub max_latency: Option<Spanned<SimDuration>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawWorkload {
    pub producers: Option<Spanned<u32>>,
    pub consumers: Option<Spanned<u32>>,
    pub messages: Option<Spanned<u32>>,
    pub rate: Option<Spanned<f64>>,
    pub processing_time: Option<SimDuration>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum RawAction {
    Partition,
    Isolate,
    Drop,
    Delay,
    Hold,
    Crash,
    #[serde(alias = "power-loss")]
    PowerLoss,
    Heal,
}

impl RawAction {
    pub const ALL: [RawAction; 8] = [
        RawAction::Partition,
        RawAction::Isolate,
        RawAction::Drop,
        RawAction::Delay,
        RawAction::Hold,
        RawAction::Crash,
        RawAction::PowerLoss,
        RawAction::Heal,
    ];

    pub fn name(self) -> &'static str {
        match self {
            RawAction::Partition => "partition",
            RawAction::Isolate => "isolate",
            RawAction::Drop => "drop",
            RawAction::Delay => "delay",
            RawAction::Hold => "hold",
            RawAction::Crash => "crash",
            RawAction::PowerLoss => "power_loss",
            RawAction::Heal => "heal",
        }
    }

    /// The keys the action takes besides `at` and `action`, required first.
    pub fn keys(self) -> (&'static [&'static str], &'static [&'static str]) {
        match self {
            RawAction::Partition | RawAction::Hold => {
                (&["target"], &["peer", "partition", "duration"])
            }
            RawAction::Isolate => (&["target"], &["partition", "duration"]),
            RawAction::Drop => (&["target", "rate"], &["peer", "partition", "duration"]),
            RawAction::Delay => (&["target", "latency"], &["peer", "partition", "duration"]),
            RawAction::Crash | RawAction::PowerLoss => {
                (&["target"], &["partition", "restart_after"])
            }
            RawAction::Heal => (&[], &[]),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFault {
    pub at: Option<Spanned<SimDuration>>,
    pub when: Option<Spanned<String>>,
    pub after: Option<Spanned<SimDuration>>,
    pub times: Option<Spanned<u32>>,
    pub action: Spanned<RawAction>,
    pub target: Option<Spanned<OneOrMany>>,
    pub peer: Option<Spanned<OneOrMany>>,
    pub partition: Option<Spanned<u32>>,
    pub duration: Option<Spanned<SimDuration>>,
    pub restart_after: Option<Spanned<SimDuration>>,
    pub rate: Option<Spanned<f64>>,
    pub latency: Option<Spanned<SimDuration>>,
}

impl RawFault {
    /// The optional keys present, with their spans.
    pub fn present(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
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
        keys
    }

    /// The trigger keys present, with their spans.
    pub fn trigger_keys(&self) -> Vec<(&'static str, std::ops::Range<usize>)> {
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

/// `target = "leader"` or `target = ["broker-1", "broker-2"]`.
pub struct OneOrMany(pub Vec<String>);

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = OneOrMany;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a host or role name, or a list of them")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<OneOrMany, E> {
                Ok(OneOrMany(vec![v.to_string()]))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<OneOrMany, A::Error> {
                let mut all = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    all.push(s);
                }
                if all.is_empty() {
                    return Err(de::Error::custom("the list of targets is empty"));
                }
                Ok(OneOrMany(all))
            }
        }
        d.deserialize_any(V)
    }
}
