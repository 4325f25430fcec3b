//! A queue scenario's `[config]` as settings and as a one-line label.

use std::time::Duration;

use broker_model::queue::{
    queue_name, AckMode, DeadLetterStrategy, ExchangeType, HaMode, Limits, Overflow,
    PartitionHandling, Promote, PublishMode, QueueConfig, QueueType, SyncMode, Topology,
};
use toml::Value;

use super::label::label_value;
use crate::scenario::kernel;
use crate::scenario::model::Setting;

/// The configuration as settings named as in scenario files, defaults
/// included, listing only the keys that apply to its publish mode, ack mode
/// and queue type (the others are refused in files).
pub(super) fn queue_settings(c: &QueueConfig) -> Vec<Setting> {
    let int = |n: u64| Some(Value::Integer(n as i64));
    let ms = |d: Duration| int(d.as_millis() as u64);
    let text = |t: &str| Some(Value::String(t.into()));
    let promote = |p: Promote| match p {
        Promote::Always => text("always"),
        Promote::WhenSynced => text("when-synced"),
    };
    let mut lines = vec![
        ("nodes", int(c.nodes.into())),
        ("queues", int(c.queues.into())),
        (
            "queue_type",
            text(match c.queue_type {
                QueueType::Classic => "classic",
                QueueType::Mirrored => "mirrored",
                QueueType::Quorum => "quorum",
            }),
        ),
        ("durable", Some(Value::Boolean(c.durable))),
        ("persistent", Some(Value::Boolean(c.persistent))),
        (
            "publish_mode",
            text(match c.publish_mode {
                PublishMode::FireAndForget => "fire-and-forget",
                PublishMode::Transaction => "transaction",
                PublishMode::Confirm => "confirm",
            }),
        ),
    ];
    if c.publish_mode != PublishMode::FireAndForget {
        lines.push(("confirm_timeout_ms", ms(c.confirm_timeout)));
        lines.push(("retries", int(c.retries.into())));
        lines.push(("retry_backoff_ms", ms(c.retry_backoff)));
    }
    if c.publish_mode == PublishMode::Confirm {
        lines.push((
            "max_outstanding_confirms",
            int(c.max_outstanding_confirms.into()),
        ));
    }
    lines.push((
        "ack",
        text(match c.ack {
            AckMode::Auto => "auto",
            AckMode::Manual => "manual",
        }),
    ));
    if c.ack == AckMode::Manual {
        lines.push(("prefetch", int(c.prefetch.into())));
    }
    lines.push(("heartbeat_ms", ms(c.heartbeat)));
    lines.push(("net_ticktime_ms", ms(c.net_ticktime)));
    lines.push((
        "cluster_partition_handling",
        text(match c.partition_handling {
            PartitionHandling::Ignore => "ignore",
            PartitionHandling::Autoheal => "autoheal",
            PartitionHandling::PauseMinority => "pause_minority",
        }),
    ));
    match c.queue_type {
        QueueType::Mirrored => {
            match c.ha_mode {
                HaMode::All => lines.push(("ha-mode", text("all"))),
                HaMode::Exactly(n) => {
                    lines.push(("ha-mode", text("exactly")));
                    lines.push(("ha-params", int(n.into())));
                }
            }
            lines.push((
                "ha-sync-mode",
                text(match c.ha_sync_mode {
                    SyncMode::Manual => "manual",
                    SyncMode::Automatic => "automatic",
                }),
            ));
            lines.push(("ha-promote-on-failure", promote(c.ha_promote_on_failure)));
            lines.push(("ha-promote-on-shutdown", promote(c.ha_promote_on_shutdown)));
        }
        // Unset means every node, RabbitMQ's default.
        QueueType::Quorum => lines.push((
            "x-quorum-initial-group-size",
            c.quorum_group_size.and_then(|n| int(n.into())),
        )),
        QueueType::Classic => {}
    }
    lines.extend(routing_settings(&c.topology, c.publish_mode));
    lines.extend(limit_settings(&c.limits));
    if let Some(e) = &c.dead_lettering.exchange {
        let text = |s: &str| Some(Value::String(s.into()));
        lines.push(("dead-letter-exchange", text(e)));
        if let Some(k) = &c.dead_lettering.routing_key {
            lines.push(("dead-letter-routing-key", text(k)));
        }
        let strategy = match c.dead_lettering.strategy {
            DeadLetterStrategy::AtMostOnce => "at-most-once",
            DeadLetterStrategy::AtLeastOnce => "at-least-once",
        };
        lines.push(("dead-letter-strategy", text(strategy)));
    }
    lines.extend(kernel::settings(&c.writeback).map(|(k, v)| (k, int(v))));
    lines
}

/// The exchanges, bindings and publishing target, when the file names an
/// exchange or declares any (unset: the default exchange alone);
/// `mandatory` only for publishers that wait for confirms or commits, and
/// on the default exchange only when set.
fn routing_settings(t: &Topology, mode: PublishMode) -> Vec<Setting> {
    let text = |s: &str| Value::String(s.into());
    let table = |pairs: Vec<(&str, Value)>| {
        Value::Table(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    };
    let mut lines = Vec::new();
    if !t.exchanges.is_empty() {
        let all = t.exchanges.iter().map(|x| {
            let mut pairs = vec![
                ("name", text(&x.name)),
                (
                    "type",
                    text(match x.kind {
                        ExchangeType::Direct => "direct",
                        ExchangeType::Fanout => "fanout",
                        ExchangeType::Topic => "topic",
                    }),
                ),
            ];
            if let Some(a) = &x.alternate_exchange {
                pairs.push(("alternate-exchange", text(a)));
            }
            table(pairs)
        });
        lines.push(("exchanges", Some(Value::Array(all.collect()))));
    }
    if !t.bindings.is_empty() {
        let all = t.bindings.iter().map(|b| {
            table(vec![
                ("exchange", text(&b.exchange)),
                ("queue", text(&queue_name(b.queue))),
                ("routing_key", text(&b.routing_key)),
            ])
        });
        lines.push(("bindings", Some(Value::Array(all.collect()))));
    }
    if let Some(e) = &t.exchange {
        lines.push(("exchange", Some(text(e))));
        if !t.routing_keys.is_empty() {
            let keys = t.routing_keys.iter().map(|k| text(k)).collect();
            lines.push(("routing_keys", Some(Value::Array(keys))));
        }
        if mode != PublishMode::FireAndForget {
            lines.push(("mandatory", Some(Value::Boolean(t.mandatory))));
        }
    } else if t.mandatory {
        lines.push(("mandatory", Some(Value::Boolean(true))));
    }
    lines
}

/// The length limits and time-to-live a queue has: only those set (unset
/// is no limit, RabbitMQ's default), and `overflow` only with a length
/// limit.
fn limit_settings(l: &Limits) -> Vec<Setting> {
    let int = |n: u64| Some(Value::Integer(n.min(i64::MAX as u64) as i64));
    let ms = |d: Duration| int(d.as_millis() as u64);
    let mut lines = Vec::new();
    if let Some(n) = l.max_length {
        lines.push(("max-length", int(n)));
    }
    if let Some(n) = l.max_length_bytes {
        lines.push(("max-length-bytes", int(n)));
    }
    if l.bounded() {
        lines.push(("overflow", Some(Value::String(overflow(l.overflow).into()))));
    }
    if let Some(t) = l.message_ttl {
        lines.push(("message-ttl", ms(t)));
    }
    if let Some(t) = l.expires {
        lines.push(("expires", ms(t)));
    }
    if let Some(n) = l.delivery_limit {
        lines.push(("delivery-limit", int(n.into())));
    }
    lines
}

fn overflow(o: Overflow) -> &'static str {
    match o {
        Overflow::DropHead => "drop-head",
        Overflow::RejectPublish => "reject-publish",
        Overflow::RejectPublishDlx => "reject-publish-dlx",
    }
}

/// Every setting a queue `[config]` may hold, with its default in the
/// configuration that enables it, for the JSON Schema: the settings of the
/// default configuration, then those only a mirrored queue with publisher
/// confirms lists, then those only a quorum queue lists, then the length
/// limits and time-to-live (unset: no default). `ha-params` has no default
/// (it goes with `ha-mode = "exactly"`), so it is not among them.
pub(crate) fn queue_defaults() -> Vec<Setting> {
    let mirrored = QueueConfig {
        queue_type: QueueType::Mirrored,
        publish_mode: PublishMode::Confirm,
        ..QueueConfig::default()
    };
    let quorum = QueueConfig {
        queue_type: QueueType::Quorum,
        ..QueueConfig::default()
    };
    let mut all: Vec<Setting> = Vec::new();
    for c in [QueueConfig::default(), mirrored, quorum] {
        for (k, v) in queue_settings(&c) {
            if !all.iter().any(|(have, _)| *have == k) {
                all.push((k, v));
            }
        }
    }
    // The limits have no default (unset is no limit); `overflow` has one,
    // listed once a length limit is set.
    all.extend([
        ("max-length", None),
        ("max-length-bytes", None),
        (
            "overflow",
            Some(Value::String(overflow(Overflow::default()).into())),
        ),
        ("message-ttl", None),
        ("expires", None),
        ("exchanges", None),
        ("bindings", None),
        ("exchange", None),
        ("routing_keys", None),
        ("mandatory", Some(Value::Boolean(false))),
        ("dead-letter-exchange", None),
        ("dead-letter-routing-key", None),
        (
            "dead-letter-strategy",
            Some(Value::String("at-most-once".into())),
        ),
        ("delivery-limit", None),
    ]);
    all
}

/// The configuration in one line for the guarantee matrix: the settings
/// that decide what survives a fault always (queue type, publish mode,
/// durability, ack mode, the mirroring policy), then every other setting
/// that differs from the default.
pub(super) fn queue_label(c: &QueueConfig) -> String {
    let mut parts = vec!["queue".to_string()];
    let shown_value = |key: &str| {
        queue_settings(c)
            .into_iter()
            .find(|(k, _)| *k == key)
            .and_then(|(_, v)| v)
            .map(|v| match v {
                Value::String(s) => s,
                other => other.to_string(),
            })
    };
    for key in ["queue_type", "publish_mode"] {
        parts.extend(shown_value(key));
    }
    parts.push(match (c.durable, c.persistent) {
        (true, true) => "durable+persistent".into(),
        (true, false) => "durable, transient messages".into(),
        (false, _) => "non-durable".into(),
    });
    parts.push(format!("{} ack", shown_value("ack").unwrap_or_default()));
    const SHOWN: &[&str] = &["queue_type", "publish_mode", "durable", "persistent", "ack"];
    // Defaults of the same modes, so that the keys only those modes have
    // count as changed only when their values are.
    let mut defaults = queue_settings(&QueueConfig {
        queue_type: c.queue_type,
        publish_mode: c.publish_mode,
        ack: c.ack,
        durable: c.durable,
        ..QueueConfig::default()
    });
    if c.limits.bounded() {
        defaults.push((
            "overflow",
            Some(Value::String(overflow(Overflow::default()).into())),
        ));
    }
    for (key, value) in queue_settings(c) {
        if SHOWN.contains(&key) {
            continue;
        }
        let default = defaults.iter().find(|(k, _)| *k == key).map(|(_, v)| v);
        if default != Some(&value) {
            parts.push(format!("{key}={}", label_value(value)));
        }
    }
    parts.join(" · ")
}
