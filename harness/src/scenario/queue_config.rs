//! `[config]` of `system = "queue"` scenarios: RabbitMQ's setting names
//! (queue arguments, policy keys, `rabbitmq.conf` keys, client settings),
//! mapped onto the queue model's configuration.

use std::ops::Range;
use std::time::Duration;

use broker_model::queue::{
    AckMode, HaMode, PartitionHandling, Promote, PublishMode, QueueConfig, QueueType, SyncMode,
};
use serde::Deserialize;
use toml::{Spanned, Value};

use super::{ms, val, ErrAt, Setting};
use crate::scenario::ScenarioError;

/// `[config]` of a `system = "queue"` scenario.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawQueueConfig {
    pub nodes: Option<Spanned<u32>>,
    pub queues: Option<Spanned<u32>>,
    pub queue_type: Option<Spanned<RawQueueType>>,
    pub durable: Option<Spanned<bool>>,
    pub persistent: Option<Spanned<bool>>,
    pub publish_mode: Option<Spanned<RawPublishMode>>,
    pub confirm_timeout_ms: Option<Spanned<u64>>,
    pub retries: Option<Spanned<u32>>,
    pub retry_backoff_ms: Option<Spanned<u64>>,
    pub max_outstanding_confirms: Option<Spanned<u32>>,
    pub ack: Option<Spanned<RawAck>>,
    pub prefetch: Option<Spanned<u32>>,
    pub heartbeat_ms: Option<Spanned<u64>>,
    pub net_ticktime_ms: Option<Spanned<u64>>,
    pub cluster_partition_handling: Option<Spanned<RawPartitionHandling>>,
    #[serde(rename = "ha-mode")]
    pub ha_mode: Option<Spanned<RawHaMode>>,
    #[serde(rename = "ha-params")]
    pub ha_params: Option<Spanned<u32>>,
    #[serde(rename = "ha-sync-mode")]
    pub ha_sync_mode: Option<Spanned<RawSyncMode>>,
    #[serde(rename = "ha-promote-on-failure")]
    pub ha_promote_on_failure: Option<Spanned<RawPromote>>,
    #[serde(rename = "ha-promote-on-shutdown")]
    pub ha_promote_on_shutdown: Option<Spanned<RawPromote>>,
    #[serde(rename = "x-quorum-initial-group-size")]
    pub quorum_group_size: Option<Spanned<u32>>,
}

#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RawQueueType {
    Classic,
    Mirrored,
    Quorum,
}

#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RawPublishMode {
    FireAndForget,
    Transaction,
    Confirm,
}

#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RawAck {
    Auto,
    Manual,
}

#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawPartitionHandling {
    Ignore,
    Autoheal,
    PauseMinority,
}

#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RawHaMode {
    All,
    Exactly,
}

#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RawSyncMode {
    Manual,
    Automatic,
}

#[derive(Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum RawPromote {
    Always,
    WhenSynced,
}

impl RawQueueConfig {
    /// The span of the value of `key`, when the file sets it.
    pub fn span_of(&self, key: &str) -> Option<Range<usize>> {
        fn s<T>(v: &Option<Spanned<T>>) -> Option<Range<usize>> {
            v.as_ref().map(Spanned::span)
        }
        match key {
            "nodes" => s(&self.nodes),
            "queues" => s(&self.queues),
            "queue_type" => s(&self.queue_type),
            "durable" => s(&self.durable),
            "persistent" => s(&self.persistent),
            "publish_mode" => s(&self.publish_mode),
            "confirm_timeout_ms" => s(&self.confirm_timeout_ms),
            "retries" => s(&self.retries),
            "retry_backoff_ms" => s(&self.retry_backoff_ms),
            "max_outstanding_confirms" => s(&self.max_outstanding_confirms),
            "ack" => s(&self.ack),
            "prefetch" => s(&self.prefetch),
            "heartbeat_ms" => s(&self.heartbeat_ms),
            "net_ticktime_ms" => s(&self.net_ticktime_ms),
            "cluster_partition_handling" => s(&self.cluster_partition_handling),
            "ha-mode" => s(&self.ha_mode),
            "ha-params" => s(&self.ha_params),
            "ha-sync-mode" => s(&self.ha_sync_mode),
            "ha-promote-on-failure" => s(&self.ha_promote_on_failure),
            "ha-promote-on-shutdown" => s(&self.ha_promote_on_shutdown),
            "x-quorum-initial-group-size" => s(&self.quorum_group_size),
            _ => None,
        }
    }

    /// The mirroring policy keys the file sets, with their spans.
    fn ha_keys(&self) -> Vec<(&'static str, Range<usize>)> {
        let mut keys = Vec::new();
        for key in [
            "ha-mode",
            "ha-params",
            "ha-sync-mode",
            "ha-promote-on-failure",
            "ha-promote-on-shutdown",
        ] {
            if let Some(span) = self.span_of(key) {
                keys.push((key, span));
            }
        }
        keys
    }
}

fn promote(p: RawPromote) -> Promote {
    match p {
        RawPromote::Always => Promote::Always,
        RawPromote::WhenSynced => Promote::WhenSynced,
    }
}

/// The model's configuration from the file's `[config]`, defaults filled
/// in and combinations checked.
pub fn convert(
    raw: Option<&Spanned<RawQueueConfig>>,
    err: &ErrAt,
) -> Result<QueueConfig, ScenarioError> {
    let d = QueueConfig::default();
    let Some(spanned) = raw else {
        return Ok(d);
    };
    let r = spanned.get_ref();
    let queue_type = match val(&r.queue_type) {
        Some(RawQueueType::Classic) | None => QueueType::Classic,
        Some(RawQueueType::Mirrored) => QueueType::Mirrored,
        Some(RawQueueType::Quorum) => QueueType::Quorum,
    };
    let publish_mode = match val(&r.publish_mode) {
        Some(RawPublishMode::FireAndForget) | None => PublishMode::FireAndForget,
        Some(RawPublishMode::Transaction) => PublishMode::Transaction,
        Some(RawPublishMode::Confirm) => PublishMode::Confirm,
    };
    let ack = match val(&r.ack) {
        Some(RawAck::Manual) | None => AckMode::Manual,
        Some(RawAck::Auto) => AckMode::Auto,
    };
    let at = |key: &str| r.span_of(key).or_else(|| Some(spanned.span()));

    // Settings that mean nothing in the configuration the file describes are
    // refused rather than silently ignored.
    if queue_type != QueueType::Mirrored {
        if let Some((key, span)) = r.ha_keys().into_iter().next() {
            return Err(err(
                Some(span),
                Some(key),
                format!(
                    "`{key}` is a mirroring policy key: it applies only with \
                     `queue_type = \"mirrored\"`"
                ),
            ));
        }
    }
    if queue_type != QueueType::Quorum {
        if let Some(s) = &r.quorum_group_size {
            return Err(err(
                Some(s.span()),
                Some("x-quorum-initial-group-size"),
                "`x-quorum-initial-group-size` applies only with `queue_type = \"quorum\"`".into(),
            ));
        }
    }
    let ha_mode = match (val(&r.ha_mode), val(&r.ha_params)) {
        (Some(RawHaMode::All) | None, None) => HaMode::All,
        (Some(RawHaMode::Exactly), Some(n)) => HaMode::Exactly(n),
        (Some(RawHaMode::Exactly), None) => {
            return Err(err(
                at("ha-mode"),
                Some("ha-mode"),
                "`ha-mode = \"exactly\"` needs `ha-params`, the number of nodes holding the \
                 queue (master included)"
                    .into(),
            ))
        }
        (_, Some(_)) => {
            return Err(err(
                at("ha-params"),
                Some("ha-params"),
                "`ha-params` applies only with `ha-mode = \"exactly\"`".into(),
            ))
        }
    };
    if ack == AckMode::Auto {
        if let Some(s) = &r.prefetch {
            return Err(err(
                Some(s.span()),
                Some("prefetch"),
                "`prefetch` has no effect with `ack = \"auto\"`: RabbitMQ does not limit \
                 deliveries to consumers that do not acknowledge"
                    .into(),
            ));
        }
    }
    let publisher_keys: &[&str] = match publish_mode {
        PublishMode::FireAndForget => &[
            "confirm_timeout_ms",
            "retries",
            "retry_backoff_ms",
            "max_outstanding_confirms",
        ],
        PublishMode::Transaction => &["max_outstanding_confirms"],
        PublishMode::Confirm => &[],
    };
    for key in publisher_keys {
        if let Some(span) = r.span_of(key) {
            let mode = match publish_mode {
                PublishMode::FireAndForget => "fire-and-forget",
                PublishMode::Transaction => "transaction",
                PublishMode::Confirm => "confirm",
            };
            return Err(err(
                Some(span),
                Some(key),
                format!("`{key}` has no effect with `publish_mode = \"{mode}\"`"),
            ));
        }
    }

    let config = QueueConfig {
        nodes: val(&r.nodes).unwrap_or(d.nodes),
        queues: val(&r.queues).unwrap_or(d.queues),
        queue_type,
        // Quorum queues are durable by definition; RabbitMQ refuses to
        // declare one otherwise (checked below when the file says so).
        durable: val(&r.durable).unwrap_or(queue_type == QueueType::Quorum || d.durable),
        persistent: val(&r.persistent).unwrap_or(d.persistent),
        publish_mode,
        confirm_timeout: ms(&r.confirm_timeout_ms).unwrap_or(d.confirm_timeout),
        retries: val(&r.retries).unwrap_or(d.retries),
        retry_backoff: ms(&r.retry_backoff_ms).unwrap_or(d.retry_backoff),
        max_outstanding_confirms: val(&r.max_outstanding_confirms)
            .unwrap_or(d.max_outstanding_confirms),
        ack,
        prefetch: val(&r.prefetch).unwrap_or(d.prefetch),
        heartbeat: ms(&r.heartbeat_ms).unwrap_or(d.heartbeat),
        net_ticktime: ms(&r.net_ticktime_ms).unwrap_or(d.net_ticktime),
        partition_handling: match val(&r.cluster_partition_handling) {
            Some(RawPartitionHandling::Ignore) | None => PartitionHandling::Ignore,
            Some(RawPartitionHandling::Autoheal) => PartitionHandling::Autoheal,
            Some(RawPartitionHandling::PauseMinority) => PartitionHandling::PauseMinority,
        },
        ha_mode,
        ha_sync_mode: match val(&r.ha_sync_mode) {
            Some(RawSyncMode::Manual) | None => SyncMode::Manual,
            Some(RawSyncMode::Automatic) => SyncMode::Automatic,
        },
        ha_promote_on_failure: val(&r.ha_promote_on_failure)
            .map_or(d.ha_promote_on_failure, promote),
        ha_promote_on_shutdown: val(&r.ha_promote_on_shutdown)
            .map_or(d.ha_promote_on_shutdown, promote),
        quorum_group_size: val(&r.quorum_group_size),
    };
    config
        .validate()
        .map_err(|e| err(at(e.key), Some(e.key), e.message))?;
    Ok(config)
}

/// The configuration as settings named as in scenario files, defaults
/// included, listing only the keys that apply to its publish mode, ack mode
/// and queue type (the others are refused in files).
pub fn describe(c: &QueueConfig) -> Vec<Setting> {
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
    lines
}

/// Every setting a queue `[config]` may hold, with a representative value,
/// for the JSON Schema: the union over the modes that enable them.
pub fn every_setting() -> Vec<Setting> {
    let mirrored = QueueConfig {
        queue_type: QueueType::Mirrored,
        ha_mode: HaMode::Exactly(2),
        publish_mode: PublishMode::Confirm,
        ack: AckMode::Manual,
        ..QueueConfig::default()
    };
    let quorum = QueueConfig {
        queue_type: QueueType::Quorum,
        ..QueueConfig::default()
    };
    let mut all = describe(&mirrored);
    for (k, v) in describe(&quorum) {
        if !all.iter().any(|(have, _)| *have == k) {
            all.push((k, v));
        }
    }
    all
}

/// The configuration in one line for the guarantee matrix: the settings
/// that decide what survives a fault always (queue type, publish mode,
/// durability, ack mode, the mirroring policy), then every other setting
/// that differs from the default.
pub fn label(c: &QueueConfig) -> String {
    let mut parts = vec!["queue".to_string()];
    let shown_value = |key: &str| {
        describe(c)
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
    let defaults = describe(&QueueConfig {
        queue_type: c.queue_type,
        publish_mode: c.publish_mode,
        ack: c.ack,
        durable: c.durable,
        ..QueueConfig::default()
    });
    for (key, value) in describe(c) {
        if SHOWN.contains(&key) {
            continue;
        }
        let default = defaults.iter().find(|(k, _)| *k == key).map(|(_, v)| v);
        if default != Some(&value) {
            let text = match value {
                Some(Value::String(s)) => s,
                Some(v) => v.to_string(),
                None => "unset".into(),
            };
            parts.push(format!("{key}={text}"));
        }
    }
    parts.join(" · ")
}
