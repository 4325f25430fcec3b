//! The length limits and time-to-live of `system = "queue"` scenarios:
//! RabbitMQ's policy keys `max-length`, `max-length-bytes`, `overflow`,
//! `message-ttl`, `expires` and `delivery-limit`, read into the model's
//! [`Limits`].

use std::ops::Range;
use std::time::Duration;

use broker_model::queue::{Limits, Overflow};
use schemars::JsonSchema;
use serde::Deserialize;

use super::error::{ErrAt, ScenarioError};
use super::spanned::{val, Spanned};

/// `overflow`.
#[derive(Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawOverflow {
    /// Drop the oldest ready messages to make room (RabbitMQ's default).
    DropHead,
    /// Refuse the new message; a publisher using confirms or transactions
    /// is told with a `basic.nack`.
    RejectPublish,
    /// Refuse the new message as "reject-publish" does, and dead-letter it
    /// (classic and mirrored queues only).
    RejectPublishDlx,
}

/// A `[config]`'s length, TTL, expiry and delivery-limit keys, as read.
pub(crate) struct LimitKeys<'a> {
    pub(crate) max_length: &'a Option<Spanned<u64>>,
    pub(crate) max_length_bytes: &'a Option<Spanned<u64>>,
    pub(crate) overflow: &'a Option<Spanned<RawOverflow>>,
    pub(crate) message_ttl: &'a Option<Spanned<u64>>,
    pub(crate) expires: &'a Option<Spanned<u64>>,
    pub(crate) delivery_limit: &'a Option<Spanned<u32>>,
}

/// The limits a file's `[config]` sets, checked against the workload's
/// message size `message_bytes`.
pub(crate) fn limits(
    r: &LimitKeys<'_>,
    message_bytes: u32,
    at: impl Fn(&str) -> Option<Range<usize>>,
    err: &ErrAt,
) -> Result<Limits, ScenarioError> {
    let overflow = match val(r.overflow) {
        Some(RawOverflow::DropHead) | None => Overflow::DropHead,
        Some(RawOverflow::RejectPublish) => Overflow::RejectPublish,
        Some(RawOverflow::RejectPublishDlx) => Overflow::RejectPublishDlx,
    };
    let limits = Limits {
        max_length: val(r.max_length),
        max_length_bytes: val(r.max_length_bytes),
        overflow,
        message_ttl: val(r.message_ttl).map(Duration::from_millis),
        expires: val(r.expires).map(Duration::from_millis),
        delivery_limit: val(r.delivery_limit),
    };
    if r.overflow.is_some() && !limits.bounded() {
        return Err(err(
            at("overflow"),
            Some("overflow"),
            "`overflow` applies only with `max-length` or `max-length-bytes`".into(),
        ));
    }
    limits
        .validate(message_bytes)
        .map_err(|e| err(at(e.key), Some(e.key), e.message))?;
    Ok(limits)
}
