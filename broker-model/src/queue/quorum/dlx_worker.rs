//! The bookkeeping of a quorum queue's dead-letter worker
//! (rabbit_fifo_dlx_worker), under `dead-letter-strategy = at-least-once`.
//!
//! "One rabbit_fifo_dlx_worker process exists per (source) quorum queue
//! that has at-least-once dead lettering enabled", co-located with the
//! queue's leader. It consumes the queue's discards (at most
//! `dead_letter_worker_consumer_prefetch` at a time), republishes each to
//! the dead-letter exchange's target queues with publisher confirms, and
//! settles it in the source queue only once every target it routed to
//! confirmed it. A message with a confirm missing after
//! `dead_letter_worker_publisher_confirm_timeout` is sent again, to the
//! targets that have not confirmed; one that routes nowhere (no binding,
//! or only back to where it was dead-lettered from) is kept and tried again
//! at the same pace, as RabbitMQ logs a warning and retries. What the
//! worker has in flight is its own, not replicated: a new leader starts a
//! new worker, which sends again everything still in the discards
//! (duplicates in the targets, never a loss).
//!
//! Kept free of I/O so the protocol can be tested on its own.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::queue::dead_lettering::Destination;
use crate::queue::protocol::QueueId;
use crate::queue::quorum::discards::Discards;

/// `dead_letter_worker_consumer_prefetch`: RabbitMQ's default, 32.
pub(crate) const CONSUMER_PREFETCH: usize = 32;

/// `dead_letter_worker_publisher_confirm_timeout`: RabbitMQ's 180 s,
/// scaled down a hundredfold as `net_ticktime` is (60 s to 600 ms).
pub(crate) const PUBLISHER_CONFIRM_TIMEOUT: Duration = Duration::from_millis(1800);

/// Where one dead letter the worker took stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Sent (or routed nowhere), awaiting confirms.
    Publishing,
    /// Every target confirmed it; its settlement is proposed.
    Settling,
}

/// A dead letter the worker took from the discards (rabbit_fifo_dlx_worker's
/// `#pending{}`).
#[derive(Clone, Debug)]
struct Pending {
    /// The queues it routed to at its last attempt.
    targets: Vec<QueueId>,
    /// The queues that confirmed it, at any attempt.
    confirmed: BTreeSet<QueueId>,
    /// When it was last sent, or found to route nowhere.
    last_attempt: Duration,
    stage: Stage,
}

/// What to do with a dead letter the exchange just routed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Forward {
    /// Publish it to these queues, which have not confirmed it yet.
    Send(Vec<QueueId>),
    /// Every queue it routes to already confirmed it (or it routes nowhere
    /// now and one did): settle it.
    Settle,
    /// It routes to no queue: keep it and try again after the timeout.
    Nowhere,
}

/// What a target's confirm did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Confirmed {
    /// It was the last confirm missing: settle the dead letter.
    Settle,
    /// Other targets have yet to confirm.
    Waiting,
    /// The worker no longer waits for this dead letter.
    Stale,
}

/// One leader's dead-letter worker for one queue.
#[derive(Clone, Debug)]
pub(crate) struct Worker {
    prefetch: usize,
    timeout: Duration,
    pending: BTreeMap<u64, Pending>,
}

impl Default for Worker {
    fn default() -> Self {
        Worker::new(CONSUMER_PREFETCH, PUBLISHER_CONFIRM_TIMEOUT)
    }
}

impl Worker {
    /// A worker holding at most `prefetch` dead letters at once and
    /// sending again after `timeout` without every confirm.
    pub(crate) fn new(prefetch: usize, timeout: Duration) -> Self {
        Worker {
            prefetch,
            timeout,
            pending: BTreeMap::new(),
        }
    }

    /// The dead letters to send at `now`, oldest first: those of
    /// `discards` it has not taken yet, as far as the prefetch allows, and
    /// those it took whose last attempt is `timeout` old. Forgets the ones
    /// `discards` no longer holds (their settlement committed).
    pub(crate) fn take_due(&mut self, discards: &Discards, now: Duration) -> Vec<u64> {
        self.pending.retain(|seq, _| discards.contains(*seq));
        let mut due: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, p)| p.stage == Stage::Publishing && p.last_attempt + self.timeout <= now)
            .map(|(seq, _)| *seq)
            .collect();
        let room = self.prefetch.saturating_sub(self.pending.len());
        let fresh: Vec<u64> = discards
            .seqs()
            .filter(|seq| !self.pending.contains_key(seq))
            .take(room)
            .collect();
        for seq in &fresh {
            self.pending.insert(
                *seq,
                Pending {
                    targets: Vec::new(),
                    confirmed: BTreeSet::new(),
                    last_attempt: now,
                    stage: Stage::Publishing,
                },
            );
        }
        for seq in &due {
            if let Some(p) = self.pending.get_mut(seq) {
                p.last_attempt = now;
            }
        }
        due.extend(fresh);
        due.sort_unstable();
        due
    }

    /// Takes in where the dead-letter exchange routed the dead letter at
    /// `seq` now, and says where to send it: the queues it routes to that
    /// have not confirmed it, as the topology may have changed since the
    /// last attempt.
    pub(crate) fn routed(&mut self, seq: u64, destination: &Destination) -> Forward {
        let Some(p) = self.pending.get_mut(&seq) else {
            return Forward::Nowhere;
        };
        let targets = match destination {
            Destination::Queues(targets) => targets.clone(),
            Destination::Unroutable | Destination::Cycle => Vec::new(),
        };
        let unconfirmed: Vec<QueueId> = targets
            .iter()
            .copied()
            .filter(|q| !p.confirmed.contains(q))
            .collect();
        p.targets = targets;
        if !unconfirmed.is_empty() {
            return Forward::Send(unconfirmed);
        }
        if p.confirmed.is_empty() {
            return Forward::Nowhere;
        }
        p.stage = Stage::Settling;
        Forward::Settle
    }

    /// Takes in `target`'s publisher confirm for the dead letter at `seq`,
    /// from any attempt.
    pub(crate) fn confirmed(&mut self, seq: u64, target: QueueId) -> Confirmed {
        let Some(p) = self.pending.get_mut(&seq) else {
            return Confirmed::Stale;
        };
        if p.stage == Stage::Settling {
            return Confirmed::Stale;
        }
        p.confirmed.insert(target);
        if p.targets.iter().all(|q| p.confirmed.contains(q)) {
            p.stage = Stage::Settling;
            return Confirmed::Settle;
        }
        Confirmed::Waiting
    }

    /// When the next dead letter is due to be sent again, if any waits.
    pub(crate) fn next_attempt(&self) -> Option<Duration> {
        self.pending
            .values()
            .filter(|p| p.stage == Stage::Publishing)
            .map(|p| p.last_attempt + self.timeout)
            .min()
    }
}

#[cfg(test)]
mod tests;
