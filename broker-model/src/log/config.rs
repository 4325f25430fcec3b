//! Settings of the log model, named after the Kafka settings they model.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::deploy::HostContext;
use crate::disk::Writeback;
pub use crate::log::consumer_settings::{
    AssignmentStrategy, CommitPolicy, GroupOffsets, GroupSettings, OffsetReset, Subscription,
};

/// What every host of a log cluster is given.
pub(crate) type Context = HostContext<LogConfig>;

/// When a producer counts a send as successful (`acks`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Acks {
    /// `acks=0`: as soon as the request is written to the socket.
    None,
    /// `acks=1`: once the leader has appended it to its own log.
    Leader,
    /// `acks=all`: once every in-sync replica has it, and only while the
    /// in-sync set has at least `min.insync.replicas` members.
    All,
}

/// The retention and segment settings of the topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// `segment.bytes`: the active segment rolls before it would exceed this.
    pub segment_bytes: u64,
    /// `segment.ms`: the active segment rolls once its first record is this
    /// old.
    pub segment_ms: Duration,
    /// `retention.ms`: a closed segment whose newest record is older is
    /// deleted; `None` is `-1`, no time limit.
    pub retention_ms: Option<Duration>,
    /// `retention.bytes`: the most a partition keeps; `None` is `-1`, Kafka's
    /// default, no size limit.
    pub retention_bytes: Option<u64>,
    /// `log.retention.check.interval.ms`: how often brokers look for
    /// segments to delete.
    pub check_interval: Duration,
}

impl Default for Retention {
    /// Kafka's defaults (1 GiB segments rolled weekly, a week's retention),
    /// with the check interval scaled down a hundred times (Kafka's is five
    /// minutes) like the model's other times.
    fn default() -> Self {
        Retention {
            segment_bytes: 1 << 30,
            segment_ms: Duration::from_secs(7 * 24 * 3600),
            retention_ms: Some(Duration::from_secs(7 * 24 * 3600)),
            retention_bytes: None,
            check_interval: Duration::from_secs(3),
        }
    }
}

/// `eligible.leader.replicas.version`, the feature level of KIP-966's
/// eligible leader replicas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EligibleLeaderReplicas {
    /// 0: the ISR never empties, its last member is elected again whatever
    /// it lost, and the high watermark advances whatever the ISR's size.
    #[default]
    Disabled,
    /// 1: the controller keeps the replicas that left the ISR while it was
    /// below `min.insync.replicas` as eligible leaders, forgets those that
    /// restart after an unclean shutdown, and the high watermark advances
    /// only while the ISR has at least `min.insync.replicas` members.
    Enabled,
}

/// A deliberate bug, switched on only by tests that prove the property
/// suite catches an unsafe model. Scenario files cannot set it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sabotage {
    /// The model is as designed.
    #[default]
    None,
    /// Leaders acknowledge `acks=all` sends as soon as they have appended
    /// them, without waiting for the in-sync replicas.
    AckBeforeReplication,
}

/// The configuration of a log cluster and its clients.
///
/// Defaults follow Kafka's where they matter for durability (`acks=all`,
/// no fsync, unclean election off) and are scaled down in time so that a run
/// covers many failure detections in a few simulated seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct LogConfig {
    /// Broker hosts (`broker-1..`).
    pub brokers: u32,
    /// Partitions of the one topic.
    pub partitions: u32,
    /// `replication.factor`.
    pub replication_factor: u32,
    /// `min.insync.replicas`.
    pub min_insync_replicas: u32,
    /// `acks`.
    pub acks: Acks,
    /// `retries`: extra attempts after the first.
    pub retries: u32,
    /// `request.timeout.ms`.
    pub request_timeout: Duration,
    /// `retry.backoff.ms`.
    pub retry_backoff: Duration,
    /// `max.in.flight.requests.per.connection`.
    pub max_in_flight: u32,
    /// `enable.idempotence`: brokers drop a retried send they already hold.
    pub enable_idempotence: bool,
    /// `unclean.leader.election.enable`.
    pub unclean_leader_election: bool,
    /// `eligible.leader.replicas.version` (KIP-966).
    pub eligible_leader_replicas: EligibleLeaderReplicas,
    /// `log.flush.interval.messages`: fsync after this many appends; `None`
    /// leaves data in the page cache (Kafka's default).
    pub flush_interval_messages: Option<u64>,
    /// `log.flush.interval.ms`: fsync on a timer as well.
    pub flush_interval: Option<Duration>,
    /// `replica.lag.time.max.ms`.
    pub replica_lag_time_max: Duration,
    /// `replica.fetch.wait.max.ms`: how long a leader holds an empty fetch.
    pub replica_fetch_wait_max: Duration,
    /// `broker.heartbeat.interval.ms`.
    pub heartbeat_interval: Duration,
    /// `broker.session.timeout.ms`: missed heartbeats for this long fence a
    /// broker.
    pub session_timeout: Duration,
    /// `enable.auto.commit`.
    pub enable_auto_commit: bool,
    /// `auto.commit.interval.ms`.
    pub auto_commit_interval: Duration,
    /// With manual commit, when the application commits.
    pub commit: CommitPolicy,
    /// `assign()` or `subscribe()`.
    pub subscription: Subscription,
    /// The consumer group's settings, used with `subscribe()`.
    pub group: GroupSettings,
    /// `auto.offset.reset`.
    pub auto_offset_reset: OffsetReset,
    /// The group's committed offsets before the consumers start.
    pub group_offsets: GroupOffsets,
    /// `max.poll.records`: the most messages a consumer holds unprocessed.
    pub max_poll_records: u32,
    /// `fetch.max.wait.ms`: how long a leader holds an empty consumer fetch.
    pub fetch_max_wait: Duration,
    /// The brokers' kernels: `vm.dirty_writeback_centisecs` and
    /// `vm.dirty_expire_centisecs`.
    pub writeback: Writeback,
    /// The topic's segments and retention (`segment.*`, `retention.*`,
    /// `log.retention.check.interval.ms`).
    pub retention: Retention,
    /// A deliberate bug for the property suite's own test; never set it.
    #[doc(hidden)]
    pub sabotage: Sabotage,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            brokers: 3,
            partitions: 1,
            replication_factor: 3,
            min_insync_replicas: 1,
            acks: Acks::All,
            retries: 5,
            request_timeout: Duration::from_millis(1000),
            retry_backoff: Duration::from_millis(100),
            max_in_flight: 5,
            enable_idempotence: false,
            unclean_leader_election: false,
            eligible_leader_replicas: EligibleLeaderReplicas::Disabled,
            flush_interval_messages: None,
            flush_interval: None,
            replica_lag_time_max: Duration::from_millis(1000),
            replica_fetch_wait_max: Duration::from_millis(100),
            heartbeat_interval: Duration::from_millis(50),
            session_timeout: Duration::from_millis(600),
            enable_auto_commit: true,
            auto_commit_interval: Duration::from_millis(200),
            commit: CommitPolicy::AfterProcessing,
            subscription: Subscription::Assign,
            group: GroupSettings::default(),
            auto_offset_reset: OffsetReset::Earliest,
            group_offsets: GroupOffsets::New,
            max_poll_records: 50,
            fetch_max_wait: Duration::from_millis(100),
            writeback: Writeback::default(),
            retention: Retention::default(),
            sabotage: Sabotage::None,
        }
    }
}

impl LogConfig {
    /// The replicas of `partition`, preferred leader first: brokers are
    /// assigned round-robin, like Kafka's default assignment.
    pub(crate) fn replicas(&self, partition: u32) -> Vec<u32> {
        (0..self.replication_factor)
            .map(|i| (partition + i) % self.brokers + 1)
            .collect()
    }

    /// The internal partition that stores committed consumer offsets
    /// (Kafka's `__consumer_offsets`), numbered after the topic's partitions.
    pub(crate) fn offsets_partition(&self) -> u32 {
        self.partitions
    }

    /// Every partition brokers host: the topic's and the offsets partition.
    pub(crate) fn all_partitions(&self) -> std::ops::RangeInclusive<u32> {
        0..=self.offsets_partition()
    }

    /// Checks the values and combinations Kafka itself would refuse. The
    /// error names the offending setting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |key: &'static str, message: String| Err(ConfigError { key, message });
        if self.brokers == 0 {
            return err("brokers", "`brokers` must be at least 1".into());
        }
        if self.partitions == 0 {
            return err("partitions", "`partitions` must be at least 1".into());
        }
        if self.replication_factor == 0 || self.replication_factor > self.brokers {
            return err(
                "replication.factor",
                format!(
                    "`replication.factor` = {} must be between 1 and `brokers` = {}",
                    self.replication_factor, self.brokers
                ),
            );
        }
        if self.min_insync_replicas == 0 || self.min_insync_replicas > self.replication_factor {
            return err(
                "min.insync.replicas",
                format!(
                    "`min.insync.replicas` = {} must be between 1 and `replication.factor` = {}",
                    self.min_insync_replicas, self.replication_factor
                ),
            );
        }
        if self.max_in_flight == 0 {
            return err(
                "max.in.flight.requests.per.connection",
                "`max.in.flight.requests.per.connection` must be at least 1".into(),
            );
        }
        if self.max_poll_records == 0 {
            return err(
                "max.poll.records",
                "`max.poll.records` must be at least 1".into(),
            );
        }
        if self.flush_interval_messages == Some(0) {
            return err(
                "log.flush.interval.messages",
                "`log.flush.interval.messages` must be at least 1 (leave it out for no fsync)"
                    .into(),
            );
        }
        let positive = [
            ("request.timeout.ms", self.request_timeout),
            ("replica.lag.time.max.ms", self.replica_lag_time_max),
            ("broker.heartbeat.interval.ms", self.heartbeat_interval),
            ("broker.session.timeout.ms", self.session_timeout),
            ("auto.commit.interval.ms", self.auto_commit_interval),
        ];
        for (key, value) in positive {
            if value.is_zero() {
                return err(key, format!("`{key}` must be above 0"));
            }
        }
        let r = &self.retention;
        if r.segment_bytes == 0 {
            return err("segment.bytes", "`segment.bytes` must be at least 1".into());
        }
        for (key, value) in [
            ("segment.ms", r.segment_ms),
            ("log.retention.check.interval.ms", r.check_interval),
        ] {
            if value.is_zero() {
                return err(key, format!("`{key}` must be above 0"));
            }
        }
        if self.flush_interval.is_some_and(|d| d.is_zero()) {
            return err(
                "log.flush.interval.ms",
                "`log.flush.interval.ms` must be above 0 (leave it out for no timed fsync)".into(),
            );
        }
        if self.session_timeout <= self.heartbeat_interval {
            return err(
                "broker.session.timeout.ms",
                "`broker.session.timeout.ms` must be longer than `broker.heartbeat.interval.ms`"
                    .into(),
            );
        }
        self.validate_group()
    }

    /// The consumer-side settings Kafka's client refuses, and the
    /// application behaviours that need a group.
    fn validate_group(&self) -> Result<(), ConfigError> {
        let err = |key: &'static str, message: String| Err(ConfigError { key, message });
        if self.enable_auto_commit && self.commit == CommitPolicy::BeforeProcessing {
            return err(
                "commit",
                "`commit` says when the application commits: it needs `enable.auto.commit = false`"
                    .into(),
            );
        }
        let g = &self.group;
        if self.subscription == Subscription::Assign {
            if g.commit_on_revoke {
                return err(
                    "commit.on.revoke",
                    "`commit.on.revoke` needs `subscription = \"subscribe\"`: assigned partitions are never revoked".into(),
                );
            }
            return Ok(());
        }
        for (key, value) in [
            ("session.timeout.ms", g.session_timeout),
            ("heartbeat.interval.ms", g.heartbeat_interval),
            ("max.poll.interval.ms", g.max_poll_interval),
        ] {
            if value.is_zero() {
                return err(key, format!("`{key}` must be above 0"));
            }
        }
        if g.heartbeat_interval >= g.session_timeout {
            return err(
                "heartbeat.interval.ms",
                "`heartbeat.interval.ms` must be lower than `session.timeout.ms`".into(),
            );
        }
        Ok(())
    }
}

pub use crate::settings::ConfigError;

/// Host name of broker `id` (1-based).
pub fn broker_host(id: u32) -> String {
    format!("broker-{id}")
}

/// Host name of the controller.
pub const CONTROLLER: &str = "controller";

/// The name a partition goes by in histories and reports.
pub fn partition_name(partition: u32) -> String {
    format!("p{partition}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_are_assigned_round_robin() {
        let c = LogConfig {
            brokers: 3,
            replication_factor: 2,
            ..LogConfig::default()
        };
        assert_eq!(c.replicas(0), vec![1, 2]);
        assert_eq!(c.replicas(2), vec![3, 1]);
    }

    #[test]
    fn impossible_combinations_are_refused() {
        let c = LogConfig {
            replication_factor: 3,
            min_insync_replicas: 4,
            ..LogConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().key, "min.insync.replicas");
        let c = LogConfig {
            brokers: 2,
            replication_factor: 3,
            min_insync_replicas: 1,
            ..LogConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().key, "replication.factor");
    }
}
