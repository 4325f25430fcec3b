//! A queue's contents and its consumers, as the master (or Raft leader)
//! keeps them: ready messages in order, and per consumer connection the
//! deliveries it has not acknowledged.
//!
//! Kept free of I/O so it can be tested on its own. Every message has a
//! position (`seq`) assigned when it was enqueued; a requeued message goes
//! back to its old position, as RabbitMQ puts it back where it was.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::history::MsgId;
use crate::queue::config::AckMode;
use crate::queue::protocol::{ConsumerId, Delivery, Stored};

/// The most deliveries one answer carries.
pub(crate) const MAX_BATCH: usize = 100;

#[derive(Clone, Debug)]
struct Consumer {
    ack: AckMode,
    prefetch: u32,
    /// The last delivery tag handed out.
    last_tag: u64,
    /// Deliveries sent and not yet settled: with manual ack, until the
    /// consumer acknowledges them (they are still in the queue); with auto
    /// ack, until the consumer confirms receiving them (they already left
    /// the queue, and live only in this send buffer).
    out: BTreeMap<u64, (u64, Stored)>,
    /// The highest tag the consumer said it received.
    received: u64,
    /// When the consumer was last heard from.
    last_seen: Duration,
}

/// A consumer connection the queue gave up on, and what became of the
/// deliveries it held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Dropped {
    /// The connection.
    pub(crate) consumer: ConsumerId,
    /// Unacknowledged deliveries put back in the queue, marked redelivered.
    pub(crate) requeued: Vec<MsgId>,
    /// Those of them the queue holds aside instead of making them ready at
    /// once (see [`Fifo::holding_returns`]), with their positions.
    pub(crate) held: Vec<(u64, Stored)>,
    /// Auto-ack deliveries that had left the queue but were never confirmed
    /// received: gone with the connection.
    pub(crate) lost_in_flight: Vec<MsgId>,
}

/// What a consumer request produced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Poll {
    /// Deliveries for the consumer (resent or new), in tag order.
    pub(crate) deliveries: Vec<Delivery>,
    /// Messages that left the queue because of this request (acknowledged,
    /// or delivered with auto-ack), with their positions.
    pub(crate) removed: Vec<(u64, Stored)>,
    /// Earlier connections of the same consumer, closed by this one.
    pub(crate) dropped: Vec<Dropped>,
    /// Deliveries the consumer rejected with `requeue`, taken back from it
    /// and not yet in the queue again (see [`Fifo::reject`]).
    pub(crate) returned: Vec<(u64, Stored)>,
}

/// A consumer's request, as the queue's master or leader reads it.
#[derive(Clone, Debug)]
pub(crate) struct Subscription {
    /// The subscription.
    pub(crate) consumer: ConsumerId,
    /// Its acknowledgement mode.
    pub(crate) ack: AckMode,
    /// Its prefetch count (0 = unlimited).
    pub(crate) prefetch: u32,
    /// The highest delivery tag it has received.
    pub(crate) received: u64,
    /// Every delivery tag up to this one is acknowledged.
    pub(crate) acked: u64,
    /// Delivery tags rejected with `requeue`, applied before `acked`.
    pub(crate) rejected: Vec<u64>,
}

/// A queue's messages and consumers.
#[derive(Clone, Debug, Default)]
pub(crate) struct Fifo {
    ready: BTreeMap<u64, Stored>,
    consumers: BTreeMap<ConsumerId, Consumer>,
    /// A closed connection's deliveries are handed to the caller rather
    /// than made ready at once.
    hold_returns: bool,
}

impl Fifo {
    /// A queue holding `messages`, all ready.
    pub(crate) fn with_messages(messages: impl IntoIterator<Item = (u64, Stored)>) -> Self {
        Fifo {
            ready: messages.into_iter().collect(),
            consumers: BTreeMap::new(),
            hold_returns: false,
        }
    }

    /// The queue, handing the deliveries of a closed connection to the
    /// caller ([`Dropped::held`]) instead of making them ready: a quorum
    /// queue with a delivery limit counts their return in its log first,
    /// so that none is delivered again before the count says it may be.
    pub(crate) fn holding_returns(self) -> Self {
        Fifo {
            hold_returns: true,
            ..self
        }
    }

    /// Whether `sub`, which says it has received and acknowledged up to
    /// its tags, belongs to a subscription this queue knows or starts a new
    /// one. A request carrying tags the queue never handed out comes from a
    /// subscription an earlier master or run held.
    pub(crate) fn subscribed(&self, sub: &Subscription) -> bool {
        self.consumers.contains_key(&sub.consumer) || (sub.received == 0 && sub.acked == 0)
    }

    /// Adds a message at position `seq`.
    pub(crate) fn enqueue(&mut self, seq: u64, stored: Stored) {
        self.ready.insert(seq, stored);
    }

    /// Messages waiting for delivery to a consumer (RabbitMQ's
    /// `messages_ready`).
    pub(crate) fn ready(&self) -> u64 {
        self.ready.len() as u64
    }

    /// Messages the queue holds: ready, or delivered and unacknowledged.
    pub(crate) fn len(&self) -> u64 {
        self.ready.len() as u64 + self.unacked(None)
    }

    fn unacked(&self, except: Option<&ConsumerId>) -> u64 {
        self.consumers
            .iter()
            .filter(|(id, c)| c.ack == AckMode::Manual && Some(*id) != except)
            .map(|(_, c)| c.out.len() as u64)
            .sum()
    }

    /// Every message the queue holds, in position order.
    pub(crate) fn contents(&self) -> Vec<(u64, Stored)> {
        let mut all: BTreeMap<u64, Stored> = self.ready.clone();
        for c in self.consumers.values() {
            if c.ack == AckMode::Manual {
                all.extend(c.out.values().copied());
            }
        }
        all.into_iter().collect()
    }

    /// The lowest position still held, if any.
    pub(crate) fn min_seq(&self) -> Option<u64> {
        let ready = self.ready.keys().next().copied();
        let out = self
            .consumers
            .values()
            .filter(|c| c.ack == AckMode::Manual)
            .flat_map(|c| c.out.values().map(|(seq, _)| *seq))
            .min();
        match (ready, out) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Removes the messages at `seqs` wherever they are (ready or held by a
    /// consumer), returning those that were there.
    pub(crate) fn remove(&mut self, seqs: &[u64]) -> Vec<(u64, Stored)> {
        let mut removed = Vec::new();
        for seq in seqs {
            if let Some(s) = self.ready.remove(seq) {
                removed.push((*seq, s));
                continue;
            }
            // Auto-ack deliveries already left the queue; they stay in their
            // connection's send buffer until received.
            for c in self.consumers.values_mut() {
                if c.ack != AckMode::Manual {
                    continue;
                }
                let tag = c.out.iter().find(|(_, (s, _))| s == seq).map(|(t, _)| *t);
                if let Some(entry) = tag.and_then(|t| c.out.remove(&t)) {
                    removed.push(entry);
                    break;
                }
            }
        }
        removed
    }

    /// Handles a consumer's request: registers the connection (closing
    /// earlier ones of the same consumer), applies its acknowledgements and
    /// receipts, and hands out deliveries: first any it did not receive,
    /// otherwise new ones within its prefetch window.
    pub(crate) fn poll(&mut self, sub: &Subscription, now: Duration) -> Poll {
        let id = &sub.consumer;
        let mut out = Poll {
            dropped: self.register(id, sub.ack, sub.prefetch, now),
            ..Poll::default()
        };
        out.returned = self.reject(id, &sub.rejected);
        out.removed = self.ack(id, sub.acked);
        let c = self.consumers.get_mut(id).expect("registered above");
        c.received = c.received.max(sub.received.min(c.last_tag));
        if c.ack == AckMode::Auto {
            let received = c.received;
            c.out.retain(|tag, _| *tag > received);
        }
        let received = c.received;
        out.deliveries = c
            .out
            .range(received + 1..)
            .map(|(tag, (_, s))| Delivery {
                tag: *tag,
                msg: s.msg,
                redelivered: s.redelivered,
                dead_letter: s.dead_letter,
            })
            .collect();
        if !out.deliveries.is_empty() {
            return out;
        }
        let room = match c.ack {
            AckMode::Auto => MAX_BATCH,
            AckMode::Manual if c.prefetch == 0 => MAX_BATCH,
            AckMode::Manual => (c.prefetch as usize)
                .saturating_sub(c.out.len())
                .min(MAX_BATCH),
        };
        for _ in 0..room {
            let Some((seq, stored)) = self.ready.pop_first() else {
                break;
            };
            c.last_tag += 1;
            c.out.insert(c.last_tag, (seq, stored));
            out.deliveries.push(Delivery {
                tag: c.last_tag,
                msg: stored.msg,
                redelivered: stored.redelivered,
                dead_letter: stored.dead_letter,
            });
            if c.ack == AckMode::Auto {
                out.removed.push((seq, stored));
            }
        }
        out
    }

    fn register(
        &mut self,
        id: &ConsumerId,
        ack: AckMode,
        prefetch: u32,
        now: Duration,
    ) -> Vec<Dropped> {
        let superseded: Vec<ConsumerId> = self
            .consumers
            .keys()
            .filter(|old| id.supersedes(old))
            .cloned()
            .collect();
        let dropped = superseded
            .iter()
            .filter_map(|old| self.drop_consumer(old))
            .collect();
        let c = self.consumers.entry(id.clone()).or_insert(Consumer {
            ack,
            prefetch,
            last_tag: 0,
            out: BTreeMap::new(),
            received: 0,
            last_seen: now,
        });
        c.last_seen = now;
        dropped
    }

    /// Applies `basic.ack` with `multiple`: every delivery up to `upto` of
    /// this connection leaves the queue. Returns what left.
    pub(crate) fn ack(&mut self, id: &ConsumerId, upto: u64) -> Vec<(u64, Stored)> {
        let Some(c) = self.consumers.get_mut(id) else {
            return Vec::new();
        };
        if c.ack != AckMode::Manual {
            return Vec::new();
        }
        let keep = c.out.split_off(&(upto + 1));
        let acked = std::mem::replace(&mut c.out, keep);
        acked.into_values().collect()
    }

    /// Applies `basic.reject` with `requeue = true` to the deliveries
    /// `tags` of this connection: they are taken back from the consumer,
    /// marked redelivered, and returned to the caller, which puts them
    /// back with [`Fifo::requeue`] when the queue type says so (a classic
    /// queue at once; a quorum queue once its log has counted the return).
    /// Tags already settled are ignored, so a consumer may repeat a
    /// rejection until it knows it arrived.
    pub(crate) fn reject(&mut self, id: &ConsumerId, tags: &[u64]) -> Vec<(u64, Stored)> {
        let Some(c) = self.consumers.get_mut(id) else {
            return Vec::new();
        };
        if c.ack != AckMode::Manual {
            return Vec::new();
        }
        let mut returned = Vec::new();
        for tag in tags {
            if let Some((seq, mut stored)) = c.out.remove(tag) {
                stored.redelivered = true;
                returned.push((seq, stored));
            }
        }
        returned
    }

    /// Puts returned messages back at their original positions. Being
    /// older than anything published after them, they are normally at the
    /// head of the queue, where RabbitMQ puts a requeued message (a
    /// quorum queue's `returns` are served before its other messages).
    pub(crate) fn requeue(&mut self, returned: impl IntoIterator<Item = (u64, Stored)>) {
        self.ready.extend(returned);
    }

    /// Closes a consumer connection: its unacknowledged deliveries go back
    /// to the queue marked redelivered; its unconfirmed auto-ack deliveries
    /// are gone.
    pub(crate) fn drop_consumer(&mut self, id: &ConsumerId) -> Option<Dropped> {
        let c = self.consumers.remove(id)?;
        let mut d = Dropped {
            consumer: id.clone(),
            requeued: Vec::new(),
            held: Vec::new(),
            lost_in_flight: Vec::new(),
        };
        for (seq, mut stored) in c.out.into_values() {
            match c.ack {
                AckMode::Manual => {
                    stored.redelivered = true;
                    d.requeued.push(stored.msg);
                    if self.hold_returns {
                        d.held.push((seq, stored));
                    } else {
                        self.ready.insert(seq, stored);
                    }
                }
                AckMode::Auto => d.lost_in_flight.push(stored.msg),
            }
        }
        Some(d)
    }

    /// Closes every consumer connection silent for longer than `timeout`.
    pub(crate) fn expire(&mut self, now: Duration, timeout: Duration) -> Vec<Dropped> {
        let dead: Vec<ConsumerId> = self
            .consumers
            .iter()
            .filter(|(_, c)| now.saturating_sub(c.last_seen) > timeout)
            .map(|(id, _)| id.clone())
            .collect();
        dead.iter()
            .filter_map(|id| self.drop_consumer(id))
            .collect()
    }

    /// Messages `id` could still be given: ready ones and those other
    /// connections hold unacknowledged.
    pub(crate) fn remaining_for(&self, id: &ConsumerId) -> u64 {
        self.ready.len() as u64 + self.unacked(Some(id))
    }

    /// The oldest ready message, which RabbitMQ calls the head of the
    /// queue: the next to be delivered, and the first to be dropped or to
    /// expire.
    pub(crate) fn head(&self) -> Option<&Stored> {
        self.ready.values().next()
    }

    /// Removes the `n` oldest ready messages, returning them.
    pub(crate) fn drop_head(&mut self, n: u64) -> Vec<(u64, Stored)> {
        (0..n).map_while(|_| self.ready.pop_first()).collect()
    }

    /// Removes ready messages from the head for as long as `gone` says so,
    /// stopping at the first it does not, returning them.
    pub(crate) fn drop_head_while(&mut self, gone: impl Fn(&Stored) -> bool) -> Vec<(u64, Stored)> {
        let mut out = Vec::new();
        while let Some(entry) = self.ready.first_entry() {
            if !gone(entry.get()) {
                break;
            }
            let (seq, stored) = entry.remove_entry();
            out.push((seq, stored));
        }
        out
    }

    /// Whether any consumer connection is subscribed.
    pub(crate) fn has_consumers(&self) -> bool {
        !self.consumers.is_empty()
    }

    /// Marks every message as possibly delivered before, as a new master
    /// must: it cannot know what the old one handed out.
    pub(crate) fn mark_all_redelivered(&mut self) {
        for s in self.ready.values_mut() {
            s.redelivered = true;
        }
    }
}

#[cfg(test)]
mod tests;
