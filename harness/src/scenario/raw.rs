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
    pub at: Spanned<SimDuration>,
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

/// `[config]` of a `system = "log"` scenario: Kafka's setting names.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawLogConfig {
    pub brokers: Option<Spanned<u32>>,
    pub partitions: Option<Spanned<u32>>,
    #[serde(rename = "replication.factor")]
    pub replication_factor: Option<Spanned<u32>>,
    #[serde(rename = "min.insync.replicas")]
    pub min_insync_replicas: Option<Spanned<u32>>,
    pub acks: Option<Spanned<RawAcks>>,
    pub retries: Option<Spanned<u32>>,
    #[serde(rename = "request.timeout.ms")]
    pub request_timeout_ms: Option<Spanned<u64>>,
    #[serde(rename = "retry.backoff.ms")]
    pub retry_backoff_ms: Option<Spanned<u64>>,
    #[serde(rename = "max.in.flight.requests.per.connection")]
    pub max_in_flight: Option<Spanned<u32>>,
    #[serde(rename = "enable.idempotence")]
    pub enable_idempotence: Option<Spanned<bool>>,
    #[serde(rename = "unclean.leader.election.enable")]
    pub unclean_leader_election: Option<Spanned<bool>>,
    #[serde(rename = "log.flush.interval.messages")]
    pub flush_interval_messages: Option<Spanned<u64>>,
    #[serde(rename = "log.flush.interval.ms")]
    pub flush_interval_ms: Option<Spanned<u64>>,
    #[serde(rename = "replica.lag.time.max.ms")]
    pub replica_lag_time_max_ms: Option<Spanned<u64>>,
    #[serde(rename = "replica.fetch.wait.max.ms")]
    pub replica_fetch_wait_max_ms: Option<Spanned<u64>>,
    #[serde(rename = "broker.heartbeat.interval.ms")]
    pub heartbeat_interval_ms: Option<Spanned<u64>>,
    #[serde(rename = "broker.session.timeout.ms")]
    pub session_timeout_ms: Option<Spanned<u64>>,
    #[serde(rename = "enable.auto.commit")]
    pub enable_auto_commit: Option<Spanned<bool>>,
    #[serde(rename = "auto.commit.interval.ms")]
    pub auto_commit_interval_ms: Option<Spanned<u64>>,
    #[serde(rename = "auto.offset.reset")]
    pub auto_offset_reset: Option<Spanned<RawOffsetReset>>,
    #[serde(rename = "max.poll.records")]
    pub max_poll_records: Option<Spanned<u32>>,
    #[serde(rename = "fetch.max.wait.ms")]
    pub fetch_max_wait_ms: Option<Spanned<u64>>,
}

#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RawOffsetReset {
    Earliest,
    Latest,
}

/// `acks = "all"`, `acks = 1`, `acks = "-1"`, …
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawAcks(pub broker_model::log::Acks);

impl<'de> Deserialize<'de> for RawAcks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use broker_model::log::Acks;
        struct V;
        const ALLOWED: &str = "acks must be 0, 1, \"all\" or -1";
        impl Visitor<'_> for V {
            type Value = RawAcks;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(ALLOWED)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawAcks, E> {
                match v {
                    0 => Ok(RawAcks(Acks::None)),
                    1 => Ok(RawAcks(Acks::Leader)),
                    -1 => Ok(RawAcks(Acks::All)),
                    _ => Err(E::custom(format!("`{v}` is not allowed: {ALLOWED}"))),
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawAcks, E> {
                match v {
                    "0" => Ok(RawAcks(Acks::None)),
                    "1" => Ok(RawAcks(Acks::Leader)),
                    "all" | "-1" => Ok(RawAcks(Acks::All)),
                    _ => Err(E::custom(format!("`{v}` is not allowed: {ALLOWED}"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl RawLogConfig {
    /// The span of the value of `key`, when the file sets it.
    pub fn span_of(&self, key: &str) -> Option<std::ops::Range<usize>> {
        fn s<T>(v: &Option<Spanned<T>>) -> Option<std::ops::Range<usize>> {
            v.as_ref().map(Spanned::span)
        }
        match key {
            "brokers" => s(&self.brokers),
            "partitions" => s(&self.partitions),
            "replication.factor" => s(&self.replication_factor),
            "min.insync.replicas" => s(&self.min_insync_replicas),
            "request.timeout.ms" => s(&self.request_timeout_ms),
            "max.in.flight.requests.per.connection" => s(&self.max_in_flight),
            "log.flush.interval.messages" => s(&self.flush_interval_messages),
            "log.flush.interval.ms" => s(&self.flush_interval_ms),
            "replica.lag.time.max.ms" => s(&self.replica_lag_time_max_ms),
            "broker.heartbeat.interval.ms" => s(&self.heartbeat_interval_ms),
            "broker.session.timeout.ms" => s(&self.session_timeout_ms),
            "auto.commit.interval.ms" => s(&self.auto_commit_interval_ms),
            "max.poll.records" => s(&self.max_poll_records),
            _ => None,
        }
    }
}
