//! The dead-lettering policy of `system = "queue"` scenarios: RabbitMQ's
//! policy keys `dead-letter-exchange`, `dead-letter-routing-key` and
//! `dead-letter-strategy`, read into the model's [`DeadLettering`] and
//! checked as RabbitMQ checks them.

use std::ops::Range;

use broker_model::queue::{
    DeadLetterStrategy, DeadLettering, Limits, Overflow, QueueType, Topology,
};
use schemars::JsonSchema;
use serde::Deserialize;

use super::error::{ErrAt, ScenarioError};
use super::spanned::{val, Spanned};

/// `dead-letter-strategy`.
#[derive(Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawDeadLetterStrategy {
    /// Republish once, without confirms: lost if it reaches no queue.
    AtMostOnce,
    /// Keep each dead letter in the source queue until every target queue
    /// confirmed it, resending after a timeout (quorum queues with
    /// `overflow = "reject-publish"` only).
    AtLeastOnce,
}

/// A `[config]`'s dead-lettering keys, as read.
pub(crate) struct DeadLetterKeys<'a> {
    pub(crate) exchange: &'a Option<Spanned<String>>,
    pub(crate) routing_key: &'a Option<Spanned<String>>,
    pub(crate) strategy: &'a Option<Spanned<RawDeadLetterStrategy>>,
}

/// The dead-lettering policy a file's `[config]` sets, for queues of
/// `queue_type` with `limits`, among the exchanges of `topology`.
pub(crate) fn dead_lettering(
    r: &DeadLetterKeys<'_>,
    queue_type: QueueType,
    limits: &Limits,
    topology: &Topology,
    at: impl Fn(&str) -> Option<Range<usize>>,
    err: &ErrAt,
) -> Result<DeadLettering, ScenarioError> {
    let refuse = |key: &'static str, message: String| Err(err(at(key), Some(key), message));
    if queue_type == QueueType::Quorum && limits.overflow == Overflow::RejectPublishDlx {
        return refuse(
            "overflow",
            "`overflow = \"reject-publish-dlx\"` is not supported by quorum queues (RabbitMQ \
             falls back to `drop-head`); allowed: `drop-head`, `reject-publish`"
                .into(),
        );
    }
    let exchange = r.exchange.as_ref().map(|e| e.get_ref().clone());
    if let Some(name) = &exchange {
        if !name.is_empty() && topology.exchange(name).is_none() {
            return refuse(
                "dead-letter-exchange",
                format!(
                    "`dead-letter-exchange` names no declared exchange `{name}`: RabbitMQ would \
                     drop every dead-lettered message; declare it in [[config.exchanges]], or \
                     write \"\" for the default exchange"
                ),
            );
        }
    }
    let set = [
        ("dead-letter-routing-key", r.routing_key.is_some()),
        ("dead-letter-strategy", r.strategy.is_some()),
    ];
    for (key, set) in set {
        if exchange.is_none() && set {
            return refuse(
                key,
                format!("`{key}` applies only with `dead-letter-exchange`"),
            );
        }
    }
    let strategy = match val(r.strategy) {
        Some(RawDeadLetterStrategy::AtMostOnce) | None => DeadLetterStrategy::AtMostOnce,
        Some(RawDeadLetterStrategy::AtLeastOnce) => {
            let why = if queue_type != QueueType::Quorum {
                "RabbitMQ supports it for quorum queues only"
            } else if limits.overflow != Overflow::RejectPublish {
                "it requires `overflow = \"reject-publish\"` (with another overflow RabbitMQ \
                 falls back to at-most-once)"
            } else {
                ""
            };
            if !why.is_empty() {
                return refuse(
                    "dead-letter-strategy",
                    format!(
                        "`dead-letter-strategy = \"at-least-once\"` is refused: {why}; \
                         allowed: `at-most-once`"
                    ),
                );
            }
            DeadLetterStrategy::AtLeastOnce
        }
    };
    Ok(DeadLettering {
        exchange,
        routing_key: r.routing_key.as_ref().map(|k| k.get_ref().clone()),
        strategy,
    })
}
