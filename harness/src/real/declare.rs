//! What a scenario's `[config]` declares on real nodes: a policy holding
//! the settings the model applies to every queue (the `ha-*` keys, length
//! limits, TTLs, dead-lettering), set before the queues exist so that
//! mirrors are placed at declaration, as RabbitMQ places them; the
//! exchanges and their bindings; and queues `q0..`, each declared through
//! a connection to its home node (RabbitMQ's default
//! `queue_master_locator = client-local` puts a classic master, or a
//! quorum queue's first leader, on the declaring node).

use std::time::Duration;

use broker_model::queue::{
    queue_name, DeadLetterStrategy, ExchangeType, HaMode, Overflow, Promote, QueueConfig,
    QueueType, SyncMode,
};
use lapin::options::{ExchangeDeclareOptions, QueueBindOptions, QueueDeclareOptions};
use lapin::types::{AMQPValue, FieldTable, ShortString};
use lapin::{Connection, ConnectionProperties, ExchangeKind};
use serde_json::{json, Map, Value};

use super::client::amqp_uri;
use super::error::RealError;
use super::nodes::{ctl, Cluster};

/// The policy name and the queues it applies to.
pub(crate) const POLICY: &str = "mqsim";
const POLICY_PATTERN: &str = "^q[0-9]+$";

/// The policy definition that gives every queue the model's per-queue
/// settings; `None` when there is nothing to set.
pub(crate) fn policy(config: &QueueConfig) -> Option<Value> {
    let mut d = Map::new();
    if config.queue_type == QueueType::Mirrored {
        match config.ha_mode {
            HaMode::All => {
                d.insert("ha-mode".into(), json!("all"));
            }
            HaMode::Exactly(n) => {
                d.insert("ha-mode".into(), json!("exactly"));
                d.insert("ha-params".into(), json!(n));
            }
        }
        let sync = match config.ha_sync_mode {
            SyncMode::Manual => "manual",
            SyncMode::Automatic => "automatic",
        };
        d.insert("ha-sync-mode".into(), json!(sync));
        let promote = |p: Promote| match p {
            Promote::Always => "always",
            Promote::WhenSynced => "when-synced",
        };
        d.insert(
            "ha-promote-on-failure".into(),
            json!(promote(config.ha_promote_on_failure)),
        );
        d.insert(
            "ha-promote-on-shutdown".into(),
            json!(promote(config.ha_promote_on_shutdown)),
        );
    }
    let limits = &config.limits;
    if let Some(n) = limits.max_length {
        d.insert("max-length".into(), json!(n));
    }
    if let Some(n) = limits.max_length_bytes {
        d.insert("max-length-bytes".into(), json!(n));
    }
    if limits.bounded() {
        let overflow = match limits.overflow {
            Overflow::DropHead => "drop-head",
            Overflow::RejectPublish => "reject-publish",
            Overflow::RejectPublishDlx => "reject-publish-dlx",
        };
        d.insert("overflow".into(), json!(overflow));
    }
    let ms = |t: Duration| json!(t.as_millis() as u64);
    if let Some(t) = limits.message_ttl {
        d.insert("message-ttl".into(), ms(t));
    }
    if let Some(t) = limits.expires {
        d.insert("expires".into(), ms(t));
    }
    if let Some(n) = limits.delivery_limit {
        d.insert("delivery-limit".into(), json!(n));
    }
    let dlx = &config.dead_lettering;
    if let Some(x) = &dlx.exchange {
        d.insert("dead-letter-exchange".into(), json!(x));
        if let Some(k) = &dlx.routing_key {
            d.insert("dead-letter-routing-key".into(), json!(k));
        }
        if dlx.strategy == DeadLetterStrategy::AtLeastOnce {
            d.insert("dead-letter-strategy".into(), json!("at-least-once"));
        }
    }
    (!d.is_empty()).then_some(Value::Object(d))
}

/// The `queue.declare` arguments of every queue.
pub(crate) fn queue_arguments(config: &QueueConfig) -> FieldTable {
    let mut args = FieldTable::default();
    let queue_type = match config.queue_type {
        QueueType::Classic | QueueType::Mirrored => "classic",
        QueueType::Quorum => "quorum",
    };
    args.insert(
        ShortString::from("x-queue-type"),
        AMQPValue::LongString(queue_type.into()),
    );
    if let (QueueType::Quorum, Some(n)) = (config.queue_type, config.quorum_group_size) {
        args.insert(
            ShortString::from("x-quorum-initial-group-size"),
            AMQPValue::LongUInt(n),
        );
    }
    args
}

/// Declares `config`'s policy, exchanges, queues and bindings on `cluster`.
pub(crate) async fn declare(cluster: &Cluster, config: &QueueConfig) -> Result<(), RealError> {
    let first = cluster.nodes[0].name();
    if let Some(definition) = policy(config) {
        let text = definition.to_string();
        ctl(
            &first,
            &[
                "set_policy",
                "--apply-to",
                "queues",
                POLICY,
                POLICY_PATTERN,
                &text,
            ],
        )?;
    }
    let amqp = |e: lapin::Error| RealError::Amqp(e.to_string());
    for q in 0..config.queues {
        let port = cluster.nodes[(config.home(q) - 1) as usize].port();
        let conn = connect(port).await?;
        let ch = conn.create_channel().await.map_err(amqp)?;
        let options = QueueDeclareOptions {
            durable: config.durable,
            ..QueueDeclareOptions::default()
        };
        ch.queue_declare(queue_name(q).into(), options, queue_arguments(config))
            .await
            .map_err(amqp)?;
        let _ = conn.close(200, "declared".into()).await;
    }
    let conn = connect(cluster.nodes[0].port()).await?;
    let ch = conn.create_channel().await.map_err(amqp)?;
    for x in &config.topology.exchanges {
        let kind = match x.kind {
            ExchangeType::Direct => ExchangeKind::Direct,
            ExchangeType::Fanout => ExchangeKind::Fanout,
            ExchangeType::Topic => ExchangeKind::Topic,
        };
        let mut args = FieldTable::default();
        if let Some(alt) = &x.alternate_exchange {
            args.insert(
                ShortString::from("alternate-exchange"),
                AMQPValue::LongString(alt.as_str().into()),
            );
        }
        let options = ExchangeDeclareOptions {
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        ch.exchange_declare(x.name.as_str().into(), kind, options, args)
            .await
            .map_err(amqp)?;
    }
    for b in &config.topology.bindings {
        ch.queue_bind(
            queue_name(b.queue).into(),
            b.exchange.as_str().into(),
            b.routing_key.as_str().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(amqp)?;
    }
    let _ = conn.close(200, "declared".into()).await;
    Ok(())
}

/// Opens a connection to the node listening on `port`.
pub(crate) async fn connect(port: u16) -> Result<Connection, RealError> {
    Connection::connect(&amqp_uri(port), ConnectionProperties::default())
        .await
        .map_err(|e| RealError::Amqp(format!("connect to port {port}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_model::queue::Limits;

    #[test]
    fn a_classic_queue_without_limits_needs_no_policy() {
        assert_eq!(policy(&QueueConfig::default()), None);
    }

    #[test]
    fn a_mirrored_queue_gets_its_ha_keys_as_a_policy() {
        let c = QueueConfig {
            queue_type: QueueType::Mirrored,
            ha_mode: HaMode::Exactly(2),
            ha_promote_on_failure: Promote::WhenSynced,
            ..QueueConfig::default()
        };
        let p = policy(&c).expect("a policy");
        assert_eq!(p["ha-mode"], "exactly");
        assert_eq!(p["ha-params"], 2);
        assert_eq!(p["ha-sync-mode"], "manual");
        assert_eq!(p["ha-promote-on-failure"], "when-synced");
    }

    #[test]
    fn limits_and_dead_lettering_become_policy_keys_in_milliseconds() {
        let mut c = QueueConfig {
            limits: Limits {
                max_length: Some(50),
                message_ttl: Some(Duration::from_millis(1500)),
                ..Limits::default()
            },
            ..QueueConfig::default()
        };
        c.dead_lettering.exchange = Some("dlx".into());
        let p = policy(&c).expect("a policy");
        assert_eq!(p["max-length"], 50);
        assert_eq!(p["overflow"], "drop-head");
        assert_eq!(p["message-ttl"], 1500);
        assert_eq!(p["dead-letter-exchange"], "dlx");
        assert!(p.get("dead-letter-strategy").is_none());
    }
}
