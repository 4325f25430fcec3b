//! A quorum queue's length limits and time-to-live, applied by its leader.
//!
//! RabbitMQ's quorum queue state machine decides what `drop-head`,
//! `message-ttl` and `expires` remove from the queue, so every member
//! removes the same messages. Here the leader alone knows which messages
//! are ready and which are delivered and unacknowledged (they do not count
//! toward the limit and do not expire), so it decides and proposes the
//! removal as a Raft command; every member drops the messages when it
//! applies the command, and a new leader after a failover keeps exactly
//! the drops that were committed.

use std::time::Duration;

use crate::clock::now;
use crate::history::DropReason;
use crate::queue::dead_lettering::DeadLetterStrategy;
use crate::queue::limits::{Existence, Intake, Lease};
use crate::queue::protocol::{Command, Message, Stored};
use crate::queue::quorum::queue::QuorumQueue;
use crate::queue::quorum::state::QuorumState;

/// Why a leader did not propose a publish.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Refusal {
    /// The queue was deleted for going unused: the message routes to no
    /// queue, which RabbitMQ confirms at once and forgets.
    Unroutable,
    /// `reject-publish` blocks publishers until the queue has drained to
    /// 80% of its limit: a `basic.nack`.
    Rejected,
}

impl QuorumQueue {
    /// Whether the leader's limits refuse `message`; records the drop.
    pub(super) fn refuse(&self, st: &QuorumState, message: Message) -> Option<Refusal> {
        let (reason, refusal) = if st.lease.existence == Existence::Deleted {
            (DropReason::QueueExpired, Refusal::Unroutable)
        } else if st.intake == Intake::Blocked
            && message.dead_letter.is_some()
            && self.io.config().dead_lettering.strategy == DeadLetterStrategy::AtMostOnce
        {
            // At-least-once, the source queue keeps the message and its
            // worker sends it again: refused like any publish, not lost.
            (DropReason::DeadLetterFailed, Refusal::Rejected)
        } else if st.intake == Intake::Blocked {
            (DropReason::Overflow, Refusal::Rejected)
        } else {
            return None;
        };
        let stored = Stored {
            msg: message.msg,
            persistent: message.persistent,
            redelivered: false,
            enqueued_us: now().as_micros() as u64,
            dead_letter: message.dead_letter,
        };
        self.io.record_drop(self.q, reason, &[(0, stored)]);
        Some(refusal)
    }

    /// As leader, what the queue's length limits drop now: under
    /// `drop-head` the oldest ready messages past the limit, and anything
    /// committed into a queue deleted for going unused. Updates whether
    /// `reject-publish` lets publishes in.
    pub(super) fn limit_drops(&self, st: &mut QuorumState) -> Option<(DropReason, Vec<u64>)> {
        let policy = self.io.policy();
        let fifo = st.fifo.as_mut()?;
        let (reason, dropped) = if st.lease.existence == Existence::Deleted {
            (DropReason::QueueExpired, fifo.drop_head(u64::MAX))
        } else {
            (DropReason::Overflow, policy.make_room(fifo))
        };
        // rabbit_fifo's `is_over_limit` counts the dead letters kept for
        // at-least-once dead-lettering along with the ready messages.
        st.intake = policy.intake(st.intake, fifo.ready() + st.discards.len());
        (!dropped.is_empty()).then(|| (reason, dropped.into_iter().map(|(s, _)| s).collect()))
    }

    /// As leader, before serving a consumer: the consumer declares a
    /// deleted queue again, and expired messages at the head are dropped
    /// rather than delivered.
    pub(super) fn before_delivering(&self, st: &mut QuorumState) {
        let now = now();
        if st.lease.existence == Existence::Deleted {
            st.lease = Lease::declared(now);
        }
        let Some(fifo) = st.fifo.as_mut() else {
            return;
        };
        let expired = self.io.policy().expire(fifo, now);
        if self.propose_expiry(st, expired) {
            self.after_raft(st);
        }
    }

    /// Proposes dropping the `expired` messages as one Raft command, so
    /// that every member drops them once it is committed; false when there
    /// are none.
    fn propose_expiry<T>(&self, st: &mut QuorumState, expired: Vec<(u64, T)>) -> bool {
        if expired.is_empty() {
            return false;
        }
        let seqs = expired.into_iter().map(|(s, _)| s).collect();
        self.propose(
            st,
            Command::Drop {
                seqs,
                reason: DropReason::Expired,
            },
        );
        true
    }

    /// As leader, drops the messages at the head that outlived
    /// `message-ttl` and deletes the queue once it has gone unused for
    /// `expires`. Returns when to look again.
    pub(super) fn expire_messages_leader(&self) -> Option<Duration> {
        let mut guard = self.state.borrow_mut();
        let st = &mut *guard;
        let now = now();
        let policy = self.io.policy();
        let fifo = st.fifo.as_mut()?;
        st.lease.renew(fifo, now);
        let expired = policy.expire(fifo, now);
        let unused = policy.unused_too_long(&st.lease, fifo, now);
        if unused {
            st.lease.existence = Existence::Deleted;
        }
        let next = policy.next_deadline(fifo, &st.lease);
        let changed = self.propose_expiry(st, expired) || unused;
        if unused && st.discards.len() > 0 {
            // RabbitMQ deletes the queue with the dead letters it keeps for
            // at-least-once dead-lettering.
            let seqs = st.discards.seqs().collect();
            let reason = DropReason::QueueExpired;
            self.propose(st, Command::Drop { seqs, reason });
        }
        if changed {
            self.after_raft(st);
            drop(guard);
            self.io.changed.notify_waiters();
        }
        next
    }
}
