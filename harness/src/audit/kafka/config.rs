//! Kafka's keys, from the broker, topic, producer and consumer files, into
//! the raw `[config]` of a `system = "log"` scenario: every key the log
//! model has, from a file or from Kafka's default.

use crate::audit::error::ReadError;
use crate::audit::kafka::resolve::{
    at_least, boolean, flush_interval, millis, number, positive_u32, time_or_unlimited, Resolver,
    Role, LONG_MAX,
};
use crate::audit::time_scale::scaled_ms;
use crate::scenario::log_config::{
    RawAcks, RawLogConfig, RawOffsetReset, RawStrategy, RawSubscription,
};
use crate::scenario::spanned::Spanned;
use broker_model::log::Acks;

use Role::{Broker, Consumer, Producer, Topic};

/// The keys the audit reads from each file (any other is not modelled).
pub(crate) const BROKER_KEYS: &[&str] = &[
    "num.partitions",
    "default.replication.factor",
    "min.insync.replicas",
    "unclean.leader.election.enable",
    "log.flush.interval.messages",
    "log.flush.interval.ms",
    "log.retention.ms",
    "log.retention.minutes",
    "log.retention.hours",
    "log.retention.bytes",
    "log.segment.bytes",
    "log.roll.ms",
    "log.roll.hours",
    "log.retention.check.interval.ms",
    "replica.lag.time.max.ms",
    "replica.fetch.wait.max.ms",
    "broker.heartbeat.interval.ms",
    "broker.session.timeout.ms",
    "eligible.leader.replicas.version",
];
/// Topic-level configuration, plus the two `kafka-topics --create` takes.
pub(crate) const TOPIC_KEYS: &[&str] = &[
    "partitions",
    "replication.factor",
    "min.insync.replicas",
    "unclean.leader.election.enable",
    "flush.messages",
    "flush.ms",
    "retention.ms",
    "retention.bytes",
    "segment.bytes",
    "segment.ms",
];
pub(crate) const PRODUCER_KEYS: &[&str] = &[
    "acks",
    "enable.idempotence",
    "retries",
    "delivery.timeout.ms",
    "request.timeout.ms",
    "retry.backoff.ms",
    "max.in.flight.requests.per.connection",
];
pub(crate) const CONSUMER_KEYS: &[&str] = &[
    "group.id",
    "enable.auto.commit",
    "auto.commit.interval.ms",
    "auto.offset.reset",
    "max.poll.records",
    "fetch.max.wait.ms",
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "max.poll.interval.ms",
    "partition.assignment.strategy",
];
/// The consumer keys that mean something only in a consumer group.
pub(crate) const GROUP_KEYS: &[&str] = &[
    "session.timeout.ms",
    "heartbeat.interval.ms",
    "max.poll.interval.ms",
    "partition.assignment.strategy",
];

/// The topic's settings: partitions, replication, durability, retention.
pub(crate) fn topic(r: &mut Resolver, raw: &mut RawLogConfig) -> Result<(), ReadError> {
    raw.partitions = Some(r.value(
        &[(Topic, "partitions"), (Broker, "num.partitions")],
        (Broker, "num.partitions", "1"),
        positive_u32,
    )?);
    raw.replication_factor = Some(r.value(
        &[
            (Topic, "replication.factor"),
            (Broker, "default.replication.factor"),
        ],
        (Broker, "default.replication.factor", "1"),
        positive_u32,
    )?);
    raw.min_insync_replicas = Some(r.value(
        &[
            (Topic, "min.insync.replicas"),
            (Broker, "min.insync.replicas"),
        ],
        (Broker, "min.insync.replicas", "1"),
        positive_u32,
    )?);
    raw.unclean_leader_election = Some(r.value(
        &[
            (Topic, "unclean.leader.election.enable"),
            (Broker, "unclean.leader.election.enable"),
        ],
        (Broker, "unclean.leader.election.enable", "false"),
        boolean,
    )?);
    let messages = r.value(
        &[
            (Topic, "flush.messages"),
            (Broker, "log.flush.interval.messages"),
        ],
        (Broker, "log.flush.interval.messages", LONG_MAX),
        |k, v| flush_interval(k, v, false),
    )?;
    raw.flush_interval_messages = messages.get_ref().map(|n| clone_tag(&messages, n));
    let ms = r.value(
        &[(Topic, "flush.ms"), (Broker, "log.flush.interval.ms")],
        (Broker, "log.flush.interval.ms", LONG_MAX),
        |k, v| flush_interval(k, v, true),
    )?;
    raw.flush_interval_ms = ms.get_ref().map(|n| clone_tag(&ms, n));
    raw.retention_ms = Some(r.value(
        &[
            (Topic, "retention.ms"),
            (Broker, "log.retention.ms"),
            (Broker, "log.retention.minutes"),
            (Broker, "log.retention.hours"),
        ],
        (Broker, "log.retention.hours", "168"),
        time_or_unlimited,
    )?);
    raw.retention_bytes = Some(r.value(
        &[(Topic, "retention.bytes"), (Broker, "log.retention.bytes")],
        (Broker, "log.retention.bytes", "-1"),
        |k, v| at_least(k, v, -1),
    )?);
    raw.segment_bytes = Some(r.value(
        &[(Topic, "segment.bytes"), (Broker, "log.segment.bytes")],
        (Broker, "log.segment.bytes", "1073741824"),
        |k, v| at_least(k, v, 14).map(|n| n as u64),
    )?);
    raw.segment_ms = Some(r.value(
        &[
            (Topic, "segment.ms"),
            (Broker, "log.roll.ms"),
            (Broker, "log.roll.hours"),
        ],
        (Broker, "log.roll.hours", "168"),
        |k, v| {
            let n = time_or_unlimited(k, v)?;
            u64::try_from(n)
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("`{k}` = {v} is refused by Kafka: it must be at least 1"))
        },
    )?);
    Ok(())
}

/// The brokers' replication and liveness settings.
pub(crate) fn brokers(r: &mut Resolver, raw: &mut RawLogConfig) -> Result<(), ReadError> {
    let mut ms = |key: &'static str, default: &'static str| {
        r.value(&[(Broker, key)], (Broker, key, default), millis)
            .map(Some)
    };
    raw.retention_check_interval_ms = ms("log.retention.check.interval.ms", "300000")?;
    raw.replica_lag_time_max_ms = ms("replica.lag.time.max.ms", "30000")?;
    raw.replica_fetch_wait_max_ms = ms("replica.fetch.wait.max.ms", "500")?;
    raw.heartbeat_interval_ms = ms("broker.heartbeat.interval.ms", "2000")?;
    raw.session_timeout_ms = ms("broker.session.timeout.ms", "9000")?;
    raw.eligible_leader_replicas_version = Some(r.value(
        &[(Broker, "eligible.leader.replicas.version")],
        (Broker, "eligible.leader.replicas.version", "0"),
        number,
    )?);
    Ok(())
}

/// The producer's settings. Idempotence follows Kafka 3.x: on by default,
/// but "if idempotence is not explicitly enabled", conflicting settings
/// (acks other than all, retries 0, more than 5 requests in flight) turn
/// it off; explicitly enabled, they are a `ConfigException`.
pub(crate) fn producer(r: &mut Resolver, raw: &mut RawLogConfig) -> Result<(), ReadError> {
    let acks = r.value(
        &[(Producer, "acks")],
        (Producer, "acks", "all"),
        |k, v| match v {
            "all" | "-1" => Ok(RawAcks(Acks::All)),
            "1" => Ok(RawAcks(Acks::Leader)),
            "0" => Ok(RawAcks(Acks::None)),
            _ => Err(format!(
                "`{k}` = `{v}` is refused by Kafka: it must be one of all, -1, 0, 1"
            )),
        },
    )?;
    let in_flight = r.value(
        &[(Producer, "max.in.flight.requests.per.connection")],
        (Producer, "max.in.flight.requests.per.connection", "5"),
        positive_u32,
    )?;
    let request_ms = match r.sources.find(&[(Producer, "request.timeout.ms")]) {
        Some(f) => at_least(f.key, f.value, 0).map_err(|m| f.error(m))?,
        None => 30_000,
    };
    raw.request_timeout_ms = Some(r.value(
        &[(Producer, "request.timeout.ms")],
        (Producer, "request.timeout.ms", "30000"),
        millis,
    )?);
    let backoff = r.value(
        &[(Producer, "retry.backoff.ms")],
        (Producer, "retry.backoff.ms", "100"),
        |k, v| at_least(k, v, 0),
    )?;
    let backoff_ms = *backoff.get_ref();
    raw.retry_backoff_ms = Some(clone_tag(&backoff, scaled_ms(backoff_ms as u64)));
    let retries = r.value(
        &[(Producer, "retries")],
        (Producer, "retries", "2147483647"),
        |k, v| at_least(k, v, 0).map(|n| n.min(i64::from(i32::MAX))),
    )?;
    let delivery = delivery_timeout(r, request_ms)?;
    // Kafka retries until `delivery.timeout.ms` runs out: the attempts that
    // fit in it bound the retries.
    let fit = (delivery / (request_ms + backoff_ms).max(1) - 1).max(0);
    let retries_n = (*retries.get_ref()).min(fit) as u32;
    raw.retries = Some(clone_tag(&retries, retries_n));
    if i64::from(retries_n) < *retries.get_ref() {
        if let Some(s) = r
            .tags
            .settings
            .iter_mut()
            .rev()
            .find(|s| s.key == "retries")
        {
            s.value = format!("{} ({retries_n} fit in delivery.timeout.ms)", s.value);
        }
    }

    let idempotence = r.sources.find(&[(Producer, "enable.idempotence")]);
    let conflict = if acks.get_ref().0 != Acks::All {
        Some("acks is not all")
    } else if *retries.get_ref() == 0 {
        Some("retries is 0")
    } else if *in_flight.get_ref() > 5 {
        Some("max.in.flight.requests.per.connection is above 5")
    } else {
        None
    };
    raw.enable_idempotence = Some(match idempotence {
        Some(f) => {
            let on = boolean(f.key, f.value).map_err(|m| f.error(m))?;
            if let (true, Some(why)) = (on, conflict) {
                return Err(f.error(format!(
                    "`enable.idempotence` = true is refused by Kafka when {why} \
                     (ConfigException): the idempotent producer needs acks=all, retries above \
                     0 and at most 5 requests in flight"
                )));
            }
            r.read_from(&f, on)
        }
        None => {
            let on = conflict.is_none();
            let text = if on { "true" } else { "false" };
            r.defaulted(Producer, "enable.idempotence", text, on)
        }
    });
    raw.acks = Some(acks);
    raw.max_in_flight = Some(in_flight);
    Ok(())
}

/// `delivery.timeout.ms` (real milliseconds): Kafka refuses one below
/// `request.timeout.ms` (linger.ms, 0 here, added), and raises its default
/// to it.
fn delivery_timeout(r: &mut Resolver, request_ms: i64) -> Result<i64, ReadError> {
    match r.sources.find(&[(Producer, "delivery.timeout.ms")]) {
        Some(f) => {
            let ms = at_least(f.key, f.value, 0).map_err(|m| f.error(m))?;
            if ms < request_ms {
                return Err(f.error(format!(
                    "`delivery.timeout.ms` = {ms} is refused by Kafka: it must be at least \
                     linger.ms + request.timeout.ms ({request_ms})"
                )));
            }
            r.read_from(&f, ());
            Ok(ms)
        }
        None => {
            let ms = request_ms.max(120_000);
            r.defaulted(Producer, "delivery.timeout.ms", &ms.to_string(), ());
            Ok(ms)
        }
    }
}

/// The consumer's settings. A consumer with a `group.id` is taken to
/// `subscribe()`, so its group's keys apply; without one it can only
/// `assign()`, and Kafka refuses `enable.auto.commit=true` (it has nowhere
/// to commit) and turns the default off.
pub(crate) fn consumer(r: &mut Resolver, raw: &mut RawLogConfig) -> Result<bool, ReadError> {
    let group = r
        .sources
        .find(&[(Consumer, "group.id")])
        .filter(|f| !f.value.is_empty());
    let grouped = group.is_some();
    raw.subscription = Some(match &group {
        Some(f) => {
            let value = f.value.to_string();
            r.tags.tag_in_file(
                "group.id",
                &value,
                &f.file.path,
                f.line,
                RawSubscription::Subscribe,
            )
        }
        None => r.defaulted(Consumer, "group.id", "(none)", RawSubscription::Assign),
    });
    raw.enable_auto_commit = Some(match r.sources.find(&[(Consumer, "enable.auto.commit")]) {
        Some(f) => {
            let on = boolean(f.key, f.value).map_err(|m| f.error(m))?;
            if on && !grouped {
                return Err(f.error(
                    "`enable.auto.commit` = true is refused by Kafka without a `group.id` \
                     (InvalidConfigurationException): set `group.id`, or commit nothing"
                        .into(),
                ));
            }
            r.read_from(&f, on)
        }
        None => {
            let text = if grouped { "true" } else { "false" };
            r.defaulted(Consumer, "enable.auto.commit", text, grouped)
        }
    });
    raw.auto_commit_interval_ms = Some(r.value(
        &[(Consumer, "auto.commit.interval.ms")],
        (Consumer, "auto.commit.interval.ms", "5000"),
        millis,
    )?);
    raw.auto_offset_reset = Some(r.value(
        &[(Consumer, "auto.offset.reset")],
        (Consumer, "auto.offset.reset", "latest"),
        |k, v| match v.to_ascii_lowercase().as_str() {
            "earliest" => Ok(RawOffsetReset::Earliest),
            "latest" => Ok(RawOffsetReset::Latest),
            "none" => Ok(RawOffsetReset::None),
            _ => Err(format!(
                "`{k}` = `{v}` is refused by Kafka: it must be one of earliest, latest, none"
            )),
        },
    )?);
    raw.max_poll_records = Some(r.value(
        &[(Consumer, "max.poll.records")],
        (Consumer, "max.poll.records", "500"),
        positive_u32,
    )?);
    raw.fetch_max_wait_ms = Some(r.value(
        &[(Consumer, "fetch.max.wait.ms")],
        (Consumer, "fetch.max.wait.ms", "500"),
        millis,
    )?);
    if grouped {
        group_settings(r, raw)?;
    }
    Ok(grouped)
}

/// The settings of a consumer group member.
fn group_settings(r: &mut Resolver, raw: &mut RawLogConfig) -> Result<(), ReadError> {
    raw.group_session_timeout_ms = Some(r.value(
        &[(Consumer, "session.timeout.ms")],
        (Consumer, "session.timeout.ms", "45000"),
        millis,
    )?);
    raw.group_heartbeat_interval_ms = Some(r.value(
        &[(Consumer, "heartbeat.interval.ms")],
        (Consumer, "heartbeat.interval.ms", "3000"),
        millis,
    )?);
    raw.max_poll_interval_ms = Some(r.value(
        &[(Consumer, "max.poll.interval.ms")],
        (Consumer, "max.poll.interval.ms", "300000"),
        millis,
    )?);
    raw.assignment_strategy = Some(r.value(
        &[(Consumer, "partition.assignment.strategy")],
        (
            Consumer,
            "partition.assignment.strategy",
            "org.apache.kafka.clients.consumer.RangeAssignor,\
             org.apache.kafka.clients.consumer.CooperativeStickyAssignor",
        ),
        strategy,
    )?);
    Ok(())
}

/// The first assignor of the list, which the group uses when every member
/// lists the same.
fn strategy(key: &str, v: &str) -> Result<RawStrategy, String> {
    let first = v.split(',').next().unwrap_or("").trim();
    let class = first.rsplit('.').next().unwrap_or(first);
    match class {
        "RangeAssignor" | "range" => Ok(RawStrategy::Range),
        "RoundRobinAssignor" | "roundrobin" => Ok(RawStrategy::RoundRobin),
        "CooperativeStickyAssignor" | "cooperative-sticky" => Ok(RawStrategy::CooperativeSticky),
        _ => Err(format!(
            "`{key}` = `{first}` is not modelled: the model has RangeAssignor, \
             RoundRobinAssignor and CooperativeStickyAssignor"
        )),
    }
}

/// `value` under the tag of `like`.
fn clone_tag<T, U>(like: &Spanned<T>, value: U) -> Spanned<U> {
    Spanned::new(like.span(), value)
}
