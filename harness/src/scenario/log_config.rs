//! `[config]` of `system = "log"` scenarios: Kafka's setting names, mapped
//! onto the log model's configuration.

use std::borrow::Cow;
use std::fmt;

use std::time::Duration;

use broker_model::log::{
    Acks, AssignmentStrategy, CommitPolicy, EligibleLeaderReplicas, GroupOffsets, GroupSettings,
    LogConfig, OffsetReset, Retention, Subscription,
};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::json;

use super::error::{ErrAt, ScenarioError};
use super::kernel;
use super::spanned::{ms, val, Spanned};

/// `[config]` of a `system = "log"` scenario: Kafka's setting names (quoted
/// in TOML because of the dots). Every key is optional; times are scaled
/// down from Kafka's defaults so that a run sees many failure detections in
/// a few simulated seconds.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "LogConfig")]
pub(crate) struct RawLogConfig {
    /// Broker hosts `broker-1..N`.
    pub brokers: Option<Spanned<u32>>,
    /// Partitions of the one topic (`num.partitions`); messages go
    /// round-robin.
    pub partitions: Option<Spanned<u32>>,
    /// Replicas per partition, assigned round-robin.
    #[serde(rename = "replication.factor")]
    pub replication_factor: Option<Spanned<u32>>,
    /// With `acks = "all"`, the leader refuses writes (NotEnoughReplicas)
    /// while the in-sync replica set is smaller than this.
    #[serde(rename = "min.insync.replicas")]
    pub min_insync_replicas: Option<Spanned<u32>>,
    /// When a producer counts a send as done: 0 once written to the socket,
    /// 1 once the leader appended it, "all" (or -1) once every in-sync
    /// replica has it.
    pub acks: Option<Spanned<RawAcks>>,
    /// Extra attempts after a timeout or a retriable error.
    pub retries: Option<Spanned<u32>>,
    /// How long a producer waits for a reply (and a leader holds an
    /// `acks = "all"` request).
    #[serde(rename = "request.timeout.ms")]
    pub request_timeout_ms: Option<Spanned<u64>>,
    /// The pause between a producer's attempts.
    #[serde(rename = "retry.backoff.ms")]
    pub retry_backoff_ms: Option<Spanned<u64>>,
    /// Sends a producer has outstanding at once.
    #[serde(rename = "max.in.flight.requests.per.connection")]
    pub max_in_flight: Option<Spanned<u32>>,
    /// The leader drops a retried message it already holds (same producer
    /// id and message).
    #[serde(rename = "enable.idempotence")]
    pub enable_idempotence: Option<Spanned<bool>>,
    /// Elect an out-of-sync replica leader when no in-sync one is alive.
    #[serde(rename = "unclean.leader.election.enable")]
    pub unclean_leader_election: Option<Spanned<bool>>,
    /// KIP-966's eligible leader replicas: 0 (default) keeps the last
    /// in-sync replica as the only one that may lead, whatever it lost; 1
    /// lets replicas that left the in-sync set while it was below
    /// `min.insync.replicas` lead, forgets replicas back from an unclean
    /// shutdown, and holds the high watermark below `min.insync.replicas`.
    #[serde(rename = "eligible.leader.replicas.version")]
    #[schemars(range(min = 0, max = 1))]
    pub eligible_leader_replicas_version: Option<Spanned<u32>>,
    /// Fsync after this many appends; unset means the page cache only
    /// (Kafka's default), so a power loss takes what was not yet flushed.
    #[serde(rename = "log.flush.interval.messages")]
    pub flush_interval_messages: Option<Spanned<u64>>,
    /// Fsync on a timer as well; unset by default.
    #[serde(rename = "log.flush.interval.ms")]
    pub flush_interval_ms: Option<Spanned<u64>>,
    /// A follower not caught up for this long leaves the in-sync replica
    /// set.
    #[serde(rename = "replica.lag.time.max.ms")]
    pub replica_lag_time_max_ms: Option<Spanned<u64>>,
    /// How long a leader holds a follower's fetch that finds nothing new.
    #[serde(rename = "replica.fetch.wait.max.ms")]
    pub replica_fetch_wait_max_ms: Option<Spanned<u64>>,
    /// Broker-to-controller heartbeats (KRaft).
    #[serde(rename = "broker.heartbeat.interval.ms")]
    pub heartbeat_interval_ms: Option<Spanned<u64>>,
    /// Missed heartbeats for this long fence a broker and move its
    /// leaderships (KRaft).
    #[serde(rename = "broker.session.timeout.ms")]
    pub session_timeout_ms: Option<Spanned<u64>>,
    /// Commit the position of everything handed to the application on a
    /// timer, processed or not; false commits after processing.
    #[serde(rename = "enable.auto.commit")]
    pub enable_auto_commit: Option<Spanned<bool>>,
    /// The auto-commit timer.
    #[serde(rename = "auto.commit.interval.ms")]
    pub auto_commit_interval_ms: Option<Spanned<u64>>,
    /// With `"enable.auto.commit" = false`, when the application commits:
    /// "after-processing" (default) each record once processed,
    /// "before-processing" the polled position as soon as `poll` returns
    /// (a common bug). Application behaviour, not a Kafka setting.
    pub commit: Option<Spanned<RawCommit>>,
    /// How consumers get partitions: "assign" (default,
    /// `KafkaConsumer.assign()`: a fixed share each) or "subscribe"
    /// (`subscribe()`: a consumer group whose coordinator moves partitions
    /// when members join, leave or die).
    pub subscription: Option<Spanned<RawSubscription>>,
    /// How the group shares partitions: "range" (default) and
    /// "roundrobin" rebalance eagerly (every member gives up everything);
    /// "cooperative-sticky" incrementally (members keep their partitions,
    /// only moved ones are revoked). Needs `subscription = "subscribe"`.
    #[serde(rename = "partition.assignment.strategy")]
    pub assignment_strategy: Option<Spanned<RawStrategy>>,
    /// A member the coordinator has not heard from for this long is
    /// removed and its partitions move (default 450, Kafka's 45000 scaled
    /// down a hundred times). Needs `subscription = "subscribe"`.
    #[serde(rename = "session.timeout.ms")]
    #[schemars(range(min = 1))]
    pub group_session_timeout_ms: Option<Spanned<u64>>,
    /// How often a member heartbeats to the coordinator (default 30,
    /// Kafka's 3000 scaled down). Needs `subscription = "subscribe"`.
    #[serde(rename = "heartbeat.interval.ms")]
    #[schemars(range(min = 1))]
    pub group_heartbeat_interval_ms: Option<Spanned<u64>>,
    /// A consumer whose application holds a polled record longer than this
    /// leaves the group (default 3000, Kafka's 300000 scaled down). Needs
    /// `subscription = "subscribe"`.
    #[serde(rename = "max.poll.interval.ms")]
    #[schemars(range(min = 1))]
    pub max_poll_interval_ms: Option<Spanned<u64>>,
    /// The application's `onPartitionsRevoked` commits what it processed
    /// of the partitions it gives up. Needs `subscription = "subscribe"`.
    #[serde(rename = "commit.on.revoke")]
    pub commit_on_revoke: Option<Spanned<bool>>,
    /// Where a consumer starts without a committed offset, or when its
    /// offset is beyond the log.
    #[serde(rename = "auto.offset.reset")]
    pub auto_offset_reset: Option<Spanned<RawOffsetReset>>,
    /// The group's committed offsets before its consumers start: `new`
    /// (the default: none), or set to each partition's log start or end as
    /// `kafka-consumer-groups.sh --reset-offsets --to-earliest` (or
    /// `--to-latest`) sets them when the consumers are deployed.
    pub group_offsets: Option<Spanned<RawGroupOffsets>>,
    /// The most messages a consumer holds unprocessed.
    #[serde(rename = "max.poll.records")]
    pub max_poll_records: Option<Spanned<u32>>,
    /// How long a leader holds a consumer's fetch that finds nothing new.
    #[serde(rename = "fetch.max.wait.ms")]
    pub fetch_max_wait_ms: Option<Spanned<u64>>,
    /// A closed segment whose newest record is older than this is deleted,
    /// read or not; -1 keeps records for ever (default a week).
    #[serde(rename = "retention.ms")]
    #[schemars(range(min = -1))]
    pub retention_ms: Option<Spanned<i64>>,
    /// The oldest segments are deleted while a partition holds more than
    /// this; -1, the default, is no limit.
    #[serde(rename = "retention.bytes")]
    #[schemars(range(min = -1))]
    pub retention_bytes: Option<Spanned<i64>>,
    /// The active segment rolls before it would exceed this (default 1 GiB).
    #[serde(rename = "segment.bytes")]
    #[schemars(range(min = 1))]
    pub segment_bytes: Option<Spanned<u64>>,
    /// The active segment rolls once its first record is this old (default
    /// a week).
    #[serde(rename = "segment.ms")]
    #[schemars(range(min = 1))]
    pub segment_ms: Option<Spanned<u64>>,
    /// How often brokers delete what retention lets go (default 3000,
    /// scaled down from Kafka's five minutes).
    #[serde(rename = "log.retention.check.interval.ms")]
    #[schemars(range(min = 1))]
    pub retention_check_interval_ms: Option<Spanned<u64>>,
    /// How often the kernel's flusher wakes to write back dirty pages, in
    /// hundredths of a second; 0 turns periodic writeback off. Scaled ten
    /// times down from Linux's 500, like the model's other times.
    #[serde(rename = "vm.dirty_writeback_centisecs")]
    pub dirty_writeback_centisecs: Option<Spanned<u64>>,
    /// How long data may stay dirty in the page cache before the flusher
    /// writes it back, in hundredths of a second. Scaled ten times down
    /// from Linux's 3000.
    #[serde(rename = "vm.dirty_expire_centisecs")]
    pub dirty_expire_centisecs: Option<Spanned<u64>>,
}

/// `auto.offset.reset`.
#[derive(Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawOffsetReset {
    /// The oldest message still in the log.
    Earliest,
    /// Only messages appended from now on.
    Latest,
    /// Neither: the consumer reports the error and stops reading the
    /// partition.
    None,
}

/// `group_offsets`.
#[derive(Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawGroupOffsets {
    /// A new group: nothing committed, `auto.offset.reset` decides.
    New,
    /// Each partition's log start.
    ToEarliest,
    /// Each partition's log end when the consumers are deployed.
    ToLatest,
}

/// `commit`.
#[derive(Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawCommit {
    /// Each record's position once processed.
    AfterProcessing,
    /// The polled position before processing.
    BeforeProcessing,
}

/// `subscription`.
#[derive(Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RawSubscription {
    /// A fixed share of the partitions per consumer.
    Assign,
    /// A consumer group.
    Subscribe,
}

/// `partition.assignment.strategy`, as librdkafka names them.
#[derive(Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawStrategy {
    /// `RangeAssignor`.
    Range,
    /// `RoundRobinAssignor`.
    #[serde(rename = "roundrobin")]
    RoundRobin,
    /// `CooperativeStickyAssignor` (KIP-429).
    CooperativeSticky,
}

/// The keys that only a consumer group uses.
const GROUP_KEYS: [&str; 5] = [
    "partition.assignment.strategy",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "max.poll.interval.ms",
    "commit.on.revoke",
];

/// `acks` written as a number.
const ACKS_NUMBERS: [(i64, Acks); 3] = [(0, Acks::None), (1, Acks::Leader), (-1, Acks::All)];
/// `acks` written as text.
const ACKS_TEXTS: [(&str, Acks); 4] = [
    ("0", Acks::None),
    ("1", Acks::Leader),
    ("all", Acks::All),
    ("-1", Acks::All),
];

/// `acks = "all"`, `acks = 1`, `acks = "-1"`, …
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawAcks(pub Acks);

impl<'de> Deserialize<'de> for RawAcks {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        const ALLOWED: &str = "acks must be 0, 1, \"all\" or -1";
        impl Visitor<'_> for V {
            type Value = RawAcks;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(ALLOWED)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawAcks, E> {
                match ACKS_NUMBERS.iter().find(|(n, _)| *n == v) {
                    Some(&(_, acks)) => Ok(RawAcks(acks)),
                    None => Err(E::custom(format!("`{v}` is not allowed: {ALLOWED}"))),
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawAcks, E> {
                match ACKS_TEXTS.iter().find(|(t, _)| *t == v) {
                    Some(&(_, acks)) => Ok(RawAcks(acks)),
                    None => Err(E::custom(format!("`{v}` is not allowed: {ALLOWED}"))),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawAcks {
    fn schema_name() -> Cow<'static, str> {
        "Acks".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let numbers = ACKS_NUMBERS.iter().map(|(n, _)| json!(n));
        let texts = ACKS_TEXTS.iter().map(|(t, _)| json!(t));
        json_schema!({"enum": numbers.chain(texts).collect::<Vec<_>>()})
    }
}

impl RawLogConfig {
    /// The span of the value of `key`, when the file sets it.
    pub(crate) fn span_of(&self, key: &str) -> Option<std::ops::Range<usize>> {
        fn s<T>(v: &Option<Spanned<T>>) -> Option<std::ops::Range<usize>> {
            v.as_ref().map(Spanned::span)
        }
        match key {
            "brokers" => s(&self.brokers),
            "partitions" => s(&self.partitions),
            "replication.factor" => s(&self.replication_factor),
            "min.insync.replicas" => s(&self.min_insync_replicas),
            "eligible.leader.replicas.version" => s(&self.eligible_leader_replicas_version),
            "request.timeout.ms" => s(&self.request_timeout_ms),
            "max.in.flight.requests.per.connection" => s(&self.max_in_flight),
            "log.flush.interval.messages" => s(&self.flush_interval_messages),
            "log.flush.interval.ms" => s(&self.flush_interval_ms),
            "replica.lag.time.max.ms" => s(&self.replica_lag_time_max_ms),
            "broker.heartbeat.interval.ms" => s(&self.heartbeat_interval_ms),
            "broker.session.timeout.ms" => s(&self.session_timeout_ms),
            "auto.commit.interval.ms" => s(&self.auto_commit_interval_ms),
            "max.poll.records" => s(&self.max_poll_records),
            "retention.ms" => s(&self.retention_ms),
            "retention.bytes" => s(&self.retention_bytes),
            "segment.bytes" => s(&self.segment_bytes),
            "segment.ms" => s(&self.segment_ms),
            "log.retention.check.interval.ms" => s(&self.retention_check_interval_ms),
            "commit" => s(&self.commit),
            "subscription" => s(&self.subscription),
            "partition.assignment.strategy" => s(&self.assignment_strategy),
            "session.timeout.ms" => s(&self.group_session_timeout_ms),
            "heartbeat.interval.ms" => s(&self.group_heartbeat_interval_ms),
            "max.poll.interval.ms" => s(&self.max_poll_interval_ms),
            "commit.on.revoke" => s(&self.commit_on_revoke),
            _ => None,
        }
    }
}

/// A Kafka limit where -1 means none: `Some(None)` for -1, `Some(Some(v))`
/// for a value, `None` when the file leaves it out.
fn unlimited_or(
    v: &Option<Spanned<i64>>,
    key: &str,
    err: &ErrAt,
) -> Result<Option<Option<u64>>, ScenarioError> {
    match v {
        None => Ok(None),
        Some(s) if *s.get_ref() == -1 => Ok(Some(None)),
        Some(s) => match u64::try_from(*s.get_ref()) {
            Ok(v) => Ok(Some(Some(v))),
            Err(_) => Err(err(
                Some(s.span()),
                Some(key),
                format!("`{key}` must be -1 (no limit) or at least 0"),
            )),
        },
    }
}

/// `eligible.leader.replicas.version`: the feature levels Kafka knows.
fn elr_version(
    v: &Option<Spanned<u32>>,
    err: &ErrAt,
) -> Result<Option<EligibleLeaderReplicas>, ScenarioError> {
    const KEY: &str = "eligible.leader.replicas.version";
    match v.as_ref().map(|s| (*s.get_ref(), s.span())) {
        None => Ok(None),
        Some((0, _)) => Ok(Some(EligibleLeaderReplicas::Disabled)),
        Some((1, _)) => Ok(Some(EligibleLeaderReplicas::Enabled)),
        Some((n, span)) => Err(err(
            Some(span),
            Some(KEY),
            format!("`{KEY}` = {n} is not a feature level Kafka knows: 0 (off) or 1"),
        )),
    }
}

/// The model's configuration from the file's `[config]`, defaults filled
/// in and combinations checked.
pub(crate) fn convert(
    raw: Option<&Spanned<RawLogConfig>>,
    err: &ErrAt,
) -> Result<LogConfig, ScenarioError> {
    let d = LogConfig::default();
    let Some(spanned) = raw else {
        return Ok(d);
    };
    let r = spanned.get_ref();
    let config = LogConfig {
        brokers: val(&r.brokers).unwrap_or(d.brokers),
        partitions: val(&r.partitions).unwrap_or(d.partitions),
        replication_factor: val(&r.replication_factor).unwrap_or(d.replication_factor),
        min_insync_replicas: val(&r.min_insync_replicas).unwrap_or(d.min_insync_replicas),
        acks: r.acks.as_ref().map_or(d.acks, |a| a.get_ref().0),
        retries: val(&r.retries).unwrap_or(d.retries),
        request_timeout: ms(&r.request_timeout_ms).unwrap_or(d.request_timeout),
        retry_backoff: ms(&r.retry_backoff_ms).unwrap_or(d.retry_backoff),
        max_in_flight: val(&r.max_in_flight).unwrap_or(d.max_in_flight),
        enable_idempotence: val(&r.enable_idempotence).unwrap_or(d.enable_idempotence),
        unclean_leader_election: val(&r.unclean_leader_election)
            .unwrap_or(d.unclean_leader_election),
        eligible_leader_replicas: elr_version(&r.eligible_leader_replicas_version, err)?
            .unwrap_or(d.eligible_leader_replicas),
        flush_interval_messages: val(&r.flush_interval_messages).or(d.flush_interval_messages),
        flush_interval: ms(&r.flush_interval_ms).or(d.flush_interval),
        replica_lag_time_max: ms(&r.replica_lag_time_max_ms).unwrap_or(d.replica_lag_time_max),
        replica_fetch_wait_max: ms(&r.replica_fetch_wait_max_ms)
            .unwrap_or(d.replica_fetch_wait_max),
        heartbeat_interval: ms(&r.heartbeat_interval_ms).unwrap_or(d.heartbeat_interval),
        session_timeout: ms(&r.session_timeout_ms).unwrap_or(d.session_timeout),
        enable_auto_commit: val(&r.enable_auto_commit).unwrap_or(d.enable_auto_commit),
        auto_commit_interval: ms(&r.auto_commit_interval_ms).unwrap_or(d.auto_commit_interval),
        commit: match val(&r.commit) {
            Some(RawCommit::AfterProcessing) => CommitPolicy::AfterProcessing,
            Some(RawCommit::BeforeProcessing) => CommitPolicy::BeforeProcessing,
            None => d.commit,
        },
        subscription: match val(&r.subscription) {
            Some(RawSubscription::Assign) => Subscription::Assign,
            Some(RawSubscription::Subscribe) => Subscription::Subscribe,
            None => d.subscription,
        },
        group: GroupSettings {
            strategy: match val(&r.assignment_strategy) {
                Some(RawStrategy::Range) => AssignmentStrategy::Range,
                Some(RawStrategy::RoundRobin) => AssignmentStrategy::RoundRobin,
                Some(RawStrategy::CooperativeSticky) => AssignmentStrategy::CooperativeSticky,
                None => d.group.strategy,
            },
            session_timeout: ms(&r.group_session_timeout_ms).unwrap_or(d.group.session_timeout),
            heartbeat_interval: ms(&r.group_heartbeat_interval_ms)
                .unwrap_or(d.group.heartbeat_interval),
            max_poll_interval: ms(&r.max_poll_interval_ms).unwrap_or(d.group.max_poll_interval),
            commit_on_revoke: val(&r.commit_on_revoke).unwrap_or(d.group.commit_on_revoke),
        },
        auto_offset_reset: match val(&r.auto_offset_reset) {
            Some(RawOffsetReset::Earliest) => OffsetReset::Earliest,
            Some(RawOffsetReset::Latest) => OffsetReset::Latest,
            Some(RawOffsetReset::None) => OffsetReset::None,
            None => d.auto_offset_reset,
        },
        group_offsets: match val(&r.group_offsets) {
            Some(RawGroupOffsets::New) => GroupOffsets::New,
            Some(RawGroupOffsets::ToEarliest) => GroupOffsets::ToEarliest,
            Some(RawGroupOffsets::ToLatest) => GroupOffsets::ToLatest,
            None => d.group_offsets,
        },
        max_poll_records: val(&r.max_poll_records).unwrap_or(d.max_poll_records),
        fetch_max_wait: ms(&r.fetch_max_wait_ms).unwrap_or(d.fetch_max_wait),
        writeback: kernel::writeback(&r.dirty_writeback_centisecs, &r.dirty_expire_centisecs, err)?,
        retention: Retention {
            segment_bytes: val(&r.segment_bytes).unwrap_or(d.retention.segment_bytes),
            segment_ms: ms(&r.segment_ms).unwrap_or(d.retention.segment_ms),
            retention_ms: match unlimited_or(&r.retention_ms, "retention.ms", err)? {
                Some(v) => v.map(Duration::from_millis),
                None => d.retention.retention_ms,
            },
            retention_bytes: unlimited_or(&r.retention_bytes, "retention.bytes", err)?
                .unwrap_or(d.retention.retention_bytes),
            check_interval: ms(&r.retention_check_interval_ms)
                .unwrap_or(d.retention.check_interval),
        },
        sabotage: d.sabotage,
    };
    if config.subscription == Subscription::Assign {
        if let Some(key) = GROUP_KEYS.into_iter().find(|k| r.span_of(k).is_some()) {
            return Err(err(
                r.span_of(key),
                Some(key),
                format!(
                    "`{key}` applies to a consumer group: it needs `subscription = \"subscribe\"`"
                ),
            ));
        }
    }
    config.validate().map_err(|e| {
        let span = r.span_of(e.key).or_else(|| Some(spanned.span()));
        err(span, Some(e.key), e.message)
    })?;
    Ok(config)
}
