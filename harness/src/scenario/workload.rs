//! `[workload]` as a scenario file writes it: how many clients, how fast,
//! how slow to process, and the share of poison messages.

use schemars::JsonSchema;
use serde::Deserialize;

use super::spanned::Spanned;
use crate::duration::SimDuration;

/// The most producers, and the most consumers, a workload may have.
pub(crate) const MAX_CLIENTS: u32 = 64;
/// The most messages a workload may send.
pub(crate) const MAX_MESSAGES: u32 = 1_000_000;
/// The highest send rate, in messages per simulated second.
pub(crate) const MAX_RATE: f64 = 1_000_000.0;
/// The largest message size a scenario may give: Kafka's default
/// `message.max.bytes` (1 MiB) rounded.
pub(crate) const MAX_MESSAGE_BYTES: u32 = 1 << 20;

/// `[workload]`: what the producers and consumers do.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWorkload {
    /// Producer hosts `producer-1..N` (default 1).
    #[schemars(range(min = 1, max = MAX_CLIENTS))]
    pub producers: Option<Spanned<u32>>,
    /// Consumer hosts `consumer-1..N`, in one consumer group (default 1).
    #[schemars(range(min = 1, max = MAX_CLIENTS))]
    pub consumers: Option<Spanned<u32>>,
    /// Messages in total, split across the producers (default 200).
    #[schemars(range(min = 1, max = MAX_MESSAGES))]
    pub messages: Option<Spanned<u32>>,
    /// Messages per simulated second, all producers together (default 100).
    #[schemars(range(max = MAX_RATE), extend("exclusiveMinimum" = 0))]
    pub rate: Option<Spanned<f64>>,
    /// A consumer's time to process one message (default 5ms).
    pub processing_time: Option<SimDuration>,
    /// The size of one message in bytes, which size limits count (default
    /// 100).
    #[schemars(range(min = 1, max = MAX_MESSAGE_BYTES))]
    pub message_bytes: Option<Spanned<u32>>,
    /// When the consumers first start (default 0s): a consumer group that
    /// joins after the producers began.
    pub consumer_start: Option<SimDuration>,
    /// The share of messages (0 to 1) the consumers' application cannot
    /// process (default 0): poison messages, chosen by message id. With
    /// manual acknowledgements the consumer rejects each with
    /// `requeue = true`; with automatic ones it is never processed. Queue
    /// model only.
    #[schemars(range(min = 0, max = 1))]
    pub poison: Option<Spanned<f64>>,
    /// What the application does with a poison message (only with
    /// `poison`; default `reject`).
    pub poison_action: Option<Spanned<RawPoisonAction>>,
}

/// `poison_action`.
#[derive(Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RawPoisonAction {
    /// The consumer hands it back with `basic.reject` and `requeue = true`
    /// (with manual acknowledgements).
    Reject,
    /// The consumer's process crashes holding it (and whatever else it had
    /// not acknowledged) and starts again at once.
    Crash,
}
