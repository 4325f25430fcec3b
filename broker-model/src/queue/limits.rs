//! A queue's length limits and time-to-live, set by RabbitMQ's policy keys
//! `max-length`, `max-length-bytes`, `overflow`, `message-ttl` and
//! `expires`, and the rules that follow from them. Every queue type applies
//! the same rules on its master or leader; how the result reaches mirrors
//! and Raft followers is the queue type's business.
//!
//! Kept free of I/O so the rules can be tested on their own.

use std::time::Duration;

use crate::queue::fifo::Fifo;
use crate::queue::protocol::Stored;
use crate::settings::ConfigError;

/// What a queue does when a publish would take it past its length limit
/// (`overflow`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Overflow {
    /// "Drop or dead-letter messages from the front of the queue (i.e. the
    /// oldest messages in the queue)": RabbitMQ's default.
    #[default]
    DropHead,
    /// "The most recently published messages will be discarded", and a
    /// publisher using confirms or transactions is told with a `basic.nack`.
    RejectPublish,
    /// As `RejectPublish`, and the refused message is dead-lettered.
    RejectPublishDlx,
}

/// A queue's length limits and time-to-live (policy keys, or the
/// `x-`-arguments of `queue.declare`). `None` is no limit.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Limits {
    /// `max-length`: ready messages the queue keeps.
    pub max_length: Option<u64>,
    /// `max-length-bytes`: total body size of the ready messages it keeps.
    pub max_length_bytes: Option<u64>,
    /// `overflow`: what happens at the limit.
    pub overflow: Overflow,
    /// `message-ttl`: how long a message may stay in the queue.
    pub message_ttl: Option<Duration>,
    /// `expires`: how long the queue may stay unused before it is deleted.
    pub expires: Option<Duration>,
    /// `delivery-limit` (quorum queues only): how many times a message may
    /// come back to the queue unsettled before it is dropped (or
    /// dead-lettered) instead of delivered again.
    pub delivery_limit: Option<u32>,
}

impl Limits {
    /// Whether a message this queue refuses at its limit is dead-lettered.
    pub(crate) fn dead_letters_refused(&self) -> bool {
        self.overflow == Overflow::RejectPublishDlx
    }

    /// Whether a length limit is set, so that `overflow` means something.
    pub fn bounded(&self) -> bool {
        self.max_length.is_some() || self.max_length_bytes.is_some()
    }

    /// Checks the values RabbitMQ refuses, and those whose effect rests on
    /// handing a message to a waiting consumer in the instant it is
    /// published, which this model's consumers, who ask for deliveries,
    /// cannot be given. The error names the setting.
    pub fn validate(&self, message_bytes: u32) -> Result<(), ConfigError> {
        let err = |key: &'static str, message: String| Err(ConfigError { key, message });
        let direct = "RabbitMQ would hand such a message to a consumer waiting with room before \
                      dropping it, which the model does not do";
        if self.expires.is_some_and(|e| e.is_zero()) {
            return err(
                "expires",
                "`expires` must be above 0: RabbitMQ refuses a queue TTL of 0".into(),
            );
        }
        if self.message_ttl.is_some_and(|t| t.is_zero()) {
            return err(
                "message-ttl",
                format!(
                    "`message-ttl` = 0 expires every message on arrival; {direct}: use 1 or more"
                ),
            );
        }
        if self.overflow == Overflow::DropHead {
            if self.max_length == Some(0) {
                return err(
                    "max-length",
                    format!(
                        "`max-length` = 0 with `overflow = \"drop-head\"` drops every message on \
                         arrival; {direct}: use 1 or more, or `overflow = \"reject-publish\"`"
                    ),
                );
            }
            if let Some(bytes) = self.max_length_bytes {
                if bytes < u64::from(message_bytes) {
                    return err(
                        "max-length-bytes",
                        format!(
                            "`max-length-bytes` = {bytes} is smaller than one message \
                             (`message_bytes` = {message_bytes}): with `overflow = \"drop-head\"` \
                             every message is dropped on arrival; {direct}: use at least \
                             {message_bytes}, or `overflow = \"reject-publish\"`"
                        ),
                    );
                }
            }
        }
        Ok(())
    }
}

/// Whether a classic queue takes a publish under `reject-publish`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Admission {
    /// The message fits.
    Accept,
    /// It would take the ready messages past the limit: refused.
    Reject,
}

/// Whether a quorum queue takes publishes under `reject-publish`. Its
/// state machine tells publishers to block once the ready messages are over
/// the limit, and to go on once they are back to 80% of it, so the queue
/// may go past its limit by the publishes already on their way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Intake {
    /// Publishes are taken.
    #[default]
    Open,
    /// Publishes are refused.
    Blocked,
}

/// Whether a queue exists, as far as `expires` goes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Existence {
    /// Declared and not deleted.
    #[default]
    Declared,
    /// Deleted for going unused for `expires`: a publish to it routes
    /// nowhere, and the next consumer to subscribe declares it again.
    Deleted,
}

/// When a queue was last used, as `expires` counts it: "the queue has no
/// consumers, the queue has not been recently redeclared, and basic.get
/// has not been invoked". Publishing does not count.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Lease {
    /// The last moment the queue had a consumer, or was declared.
    pub(crate) last_used: Duration,
    /// Whether it still exists.
    pub(crate) existence: Existence,
}

impl Lease {
    /// The lease of a queue declared at `now`.
    pub(crate) fn declared(now: Duration) -> Self {
        Lease {
            last_used: now,
            existence: Existence::Declared,
        }
    }

    /// Notes a use at `now` while `fifo` has consumers.
    pub(crate) fn renew(&mut self, fifo: &Fifo, now: Duration) {
        if fifo.has_consumers() {
            self.last_used = now;
        }
    }
}

/// A queue's limits for messages of one size: what its master or leader
/// applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Policy {
    /// The most ready messages it keeps: `max-length`, and
    /// `max-length-bytes` over the message size, whichever is smaller.
    max_ready: Option<u64>,
    overflow: Overflow,
    message_ttl: Option<Duration>,
    expires: Option<Duration>,
}

/// The share of the limit a quorum queue's ready messages must fall back
/// to before publishers blocked by `reject-publish` may go on.
const LOW_LIMIT: f64 = 0.8;

impl Policy {
    /// The policy of `limits` for messages of `message_bytes` each.
    pub(crate) fn new(limits: &Limits, message_bytes: u32) -> Self {
        let by_bytes = limits
            .max_length_bytes
            .map(|b| b / u64::from(message_bytes.max(1)));
        let max_ready = match (limits.max_length, by_bytes) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Policy {
            max_ready,
            overflow: limits.overflow,
            message_ttl: limits.message_ttl,
            expires: limits.expires,
        }
    }

    /// Whether anything here runs on a timer (`message-ttl`, `expires`).
    pub(crate) fn timed(&self) -> bool {
        self.message_ttl.is_some() || self.expires.is_some()
    }

    /// Under `reject-publish`, whether a classic queue holding `ready`
    /// ready messages takes one more: not if it would go past the limit.
    pub(crate) fn admit(&self, ready: u64) -> Admission {
        match (self.overflow, self.max_ready) {
            (Overflow::RejectPublish | Overflow::RejectPublishDlx, Some(max))
                if ready + 1 > max =>
            {
                Admission::Reject
            }
            _ => Admission::Accept,
        }
    }

    /// Under `reject-publish`, whether a quorum queue takes publishes now
    /// that it holds `ready` ready messages, having been `was`.
    pub(crate) fn intake(&self, was: Intake, ready: u64) -> Intake {
        let (Overflow::RejectPublish, Some(max)) = (self.overflow, self.max_ready) else {
            return Intake::Open;
        };
        if ready > max {
            return Intake::Blocked;
        }
        let low = (max as f64 * LOW_LIMIT) as u64;
        match was {
            Intake::Blocked if ready > low => Intake::Blocked,
            _ => Intake::Open,
        }
    }

    /// Under `drop-head`, removes the oldest ready messages of `fifo` until
    /// its ready messages fit the limit, returning them. Messages delivered
    /// and not yet acknowledged do not count and are never dropped.
    pub(crate) fn make_room(&self, fifo: &mut Fifo) -> Vec<(u64, Stored)> {
        match (self.overflow, self.max_ready) {
            (Overflow::DropHead, Some(max)) => fifo.drop_head(fifo.ready().saturating_sub(max)),
            _ => Vec::new(),
        }
    }

    /// Removes from the head of `fifo` the ready messages that have been in
    /// the queue for `message-ttl` or longer at `now`, returning them.
    /// Expired messages are discarded only once they reach the head, and a
    /// delivered message awaiting its acknowledgement does not expire.
    pub(crate) fn expire(&self, fifo: &mut Fifo, now: Duration) -> Vec<(u64, Stored)> {
        let Some(ttl) = self.message_ttl else {
            return Vec::new();
        };
        fifo.drop_head_while(|s| s.enqueued() + ttl <= now)
    }

    /// Whether a queue last used as `lease` says is due for deletion at
    /// `now`: it has existed unused for `expires`.
    pub(crate) fn unused_too_long(&self, lease: &Lease, fifo: &Fifo, now: Duration) -> bool {
        match self.expires {
            Some(expires) => {
                lease.existence == Existence::Declared
                    && !fifo.has_consumers()
                    && lease.last_used + expires <= now
            }
            None => false,
        }
    }

    /// When the next message at the head of `fifo` expires, or the queue
    /// would be deleted for going unused, whichever is first.
    pub(crate) fn next_deadline(&self, fifo: &Fifo, lease: &Lease) -> Option<Duration> {
        let message = self
            .message_ttl
            .and_then(|ttl| fifo.head().map(|s| s.enqueued() + ttl));
        let queue = self
            .expires
            .filter(|_| lease.existence == Existence::Declared && !fifo.has_consumers())
            .map(|e| lease.last_used + e);
        match (message, queue) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests;
