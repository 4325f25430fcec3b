//! The master's side of a classic queue: taking messages in, confirming
//! them once the broker is responsible for them, and serving consumers.
//! Every change is appended to the list mirrors pull; persistent messages
//! of a durable queue are journaled.

use std::time::Duration;

use crate::clock::now;
use crate::history::{DropReason, EventKind};
use crate::queue::classic::queue::ClassicQueue;
use crate::queue::classic::state::{ClassicState, Master, Role};
use crate::queue::config::{queue_name, QueueType};
use crate::queue::fifo::{Dropped, Poll, Subscription};
use crate::queue::limits::{Admission, Existence, Lease};
use crate::queue::protocol::{ClientError, ConsumerId, Message, Op, Reply, Stored};
use crate::queue::store::Entry;

/// A message taken in by a master, not yet confirmed.
struct Pending {
    epoch: u32,
    index: Option<u64>,
    journaled: bool,
}

/// What a master did with a publish it did not refuse.
enum Taken {
    /// The message is in the queue, to be confirmed once the broker is
    /// responsible for it.
    Enqueued(Pending),
    /// The queue was deleted for going unused (`expires`): the message
    /// routes to no queue, which RabbitMQ confirms at once and forgets.
    Unroutable,
}

impl ClassicQueue {
    /// Publishes as master of the queue; with `reply`, answers once the
    /// broker has taken responsibility.
    pub(super) async fn publish_message(&self, message: Message, reply: bool) -> Option<Reply> {
        let pending = {
            let mut st = self.state.borrow_mut();
            self.enqueue(&mut st, message)
        };
        let pending = match pending {
            Ok(Taken::Enqueued(p)) => p,
            Ok(Taken::Unroutable) => return reply.then_some(Reply::Publish(Ok(()))),
            Err(e) => return reply.then_some(Reply::Publish(Err(e))),
        };
        self.io.changed.notify_waiters();
        if !reply {
            return None;
        }
        Some(Reply::Publish(self.taken(pending).await))
    }

    /// As master, answers a consumer's request from the queue's delivery
    /// state; what left the queue is settled here.
    pub(super) fn poll_master(&self, sub: &Subscription) -> Result<(Poll, u64), ClientError> {
        let mut st = self.state.borrow_mut();
        let location = st.location();
        let Role::Master(m) = &mut st.role else {
            return Err(ClientError::NotMaster(location));
        };
        if !m.fifo.subscribed(sub) {
            return Err(ClientError::Cancelled);
        }
        let now = now();
        if m.lease.existence == Existence::Deleted {
            // The consumer declares the queue before consuming from it.
            m.lease = Lease::declared(now);
        }
        let policy = self.io.policy();
        let expired = policy.expire(&mut m.fifo, now);
        self.drop_messages(m, DropReason::Expired, &expired);
        let mut poll = m.fifo.poll(sub, now);
        // A classic queue puts a rejected delivery back at once.
        m.fifo.requeue(std::mem::take(&mut poll.returned));
        m.lease.renew(&m.fifo, now);
        let remaining = m.fifo.remaining_for(&sub.consumer);
        self.settle_removed(m, &poll.removed);
        if !poll.dropped.is_empty() {
            let over = policy.make_room(&mut m.fifo);
            self.drop_messages(m, DropReason::Overflow, &over);
        }
        self.report_view(&st);
        Ok((poll, remaining))
    }

    /// As master, applies a consumer's acknowledgement.
    pub(super) fn ack_master(&self, consumer: &ConsumerId, upto: u64, rejected: &[u64]) {
        let mut st = self.state.borrow_mut();
        if let Role::Master(m) = &mut st.role {
            let returned = m.fifo.reject(consumer, rejected);
            m.fifo.requeue(returned);
            let removed = m.fifo.ack(consumer, upto);
            self.settle_removed(m, &removed);
            self.report_view(&st);
        }
    }

    /// As master, closes consumer connections silent for `timeout`.
    pub(super) fn expire_master(&self, timeout: Duration) -> Vec<Dropped> {
        let mut st = self.state.borrow_mut();
        let Role::Master(m) = &mut st.role else {
            return Vec::new();
        };
        let dropped = m.fifo.expire(now(), timeout);
        if !dropped.is_empty() {
            let over = self.io.policy().make_room(&mut m.fifo);
            self.drop_messages(m, DropReason::Overflow, &over);
            self.report_view(&st);
        }
        dropped
    }

    /// As master, discards the messages at the head that outlived
    /// `message-ttl` and deletes the queue once it has gone unused for
    /// `expires`. Returns when to look again.
    pub(super) fn expire_messages_master(&self) -> Option<Duration> {
        let mut st = self.state.borrow_mut();
        let Role::Master(m) = &mut st.role else {
            return None;
        };
        let now = now();
        let policy = self.io.policy();
        m.lease.renew(&m.fifo, now);
        let expired = policy.expire(&mut m.fifo, now);
        let mut changed = !expired.is_empty();
        self.drop_messages(m, DropReason::Expired, &expired);
        if policy.unused_too_long(&m.lease, &m.fifo, now) {
            let all = m.fifo.drop_head(u64::MAX);
            self.drop_messages(m, DropReason::QueueExpired, &all);
            m.lease.existence = Existence::Deleted;
            changed = true;
        }
        let next = policy.next_deadline(&m.fifo, &m.lease);
        if changed {
            self.report_view(&st);
            drop(st);
            self.io.changed.notify_waiters();
        }
        next
    }

    /// Takes a message in as master, unless its limits refuse it; under
    /// `drop-head` the oldest ready messages make room for it.
    fn enqueue(&self, st: &mut ClassicState, message: Message) -> Result<Taken, ClientError> {
        let Message {
            msg,
            persistent,
            dead_letter,
        } = message;
        let location = st.location();
        let (q, mirrored, durable) = (st.q, st.mirrored, st.durable);
        let Role::Master(m) = &mut st.role else {
            return Err(ClientError::NotMaster(location));
        };
        let policy = self.io.policy();
        let stored = Stored {
            msg,
            persistent,
            redelivered: false,
            enqueued_us: now().as_micros() as u64,
            dead_letter,
        };
        if m.lease.existence == Existence::Deleted {
            self.io
                .record_drop(q, DropReason::QueueExpired, &[(m.next_seq, stored)]);
            return Ok(Taken::Unroutable);
        }
        if policy.admit(m.fifo.ready()) == Admission::Reject {
            let refused = [(m.next_seq, stored)];
            if dead_letter.is_some() {
                self.io
                    .record_drop(q, DropReason::DeadLetterFailed, &refused);
            } else if self.io.config().limits.dead_letters_refused() {
                self.io.dispose(q, DropReason::Overflow, &refused);
            } else {
                self.io.record_drop(q, DropReason::Overflow, &refused);
            }
            return Err(ClientError::Rejected);
        }
        let seq = m.next_seq;
        m.next_seq += 1;
        m.fifo.enqueue(seq, stored);
        let index = mirrored.then(|| {
            m.ops.push(Op::Enqueue { seq, stored });
            m.ops.len() as u64 - 1
        });
        let journaled = durable && persistent;
        if journaled {
            self.io.store.borrow_mut().append(&Entry::Enqueue {
                queue: q,
                seq,
                stored,
            });
        }
        let epoch = m.location.epoch;
        self.io.record(EventKind::Append {
            dest: queue_name(q),
            offset: seq,
            epoch,
            msgs: vec![msg],
        });
        let over = policy.make_room(&mut m.fifo);
        self.drop_messages(m, DropReason::Overflow, &over);
        self.report_view(st);
        Ok(Taken::Enqueued(Pending {
            epoch,
            index,
            journaled,
        }))
    }

    /// Waits until the broker has taken responsibility for a message: on
    /// disk if it is persistent in a durable queue, and held by every
    /// mirror. A master lost on the way leaves the outcome unknown.
    async fn taken(&self, pending: Pending) -> Result<(), ClientError> {
        if pending.journaled {
            self.io.store.borrow_mut().sync();
        }
        let late = "the mirrors did not all take the message in time";
        self.io
            .confirm_when(late, || {
                let mut st = self.state.borrow_mut();
                match &mut st.role {
                    Role::Master(m) if m.location.epoch == pending.epoch => {
                        if !pending.index.is_none_or(|i| m.mirrors.cover(i)) {
                            return None;
                        }
                        m.confirmed += 1;
                        self.report_view(&st);
                        if !pending.journaled {
                            self.io.store.borrow_mut().acked_unsynced();
                        }
                        Some(Ok(()))
                    }
                    _ => Some(Err("the master changed before confirming")),
                }
            })
            .await
    }

    /// Records that messages left the queue: in the change list for the
    /// mirrors and, for persistent ones of a durable queue, on disk.
    pub(super) fn settle_removed(&self, m: &mut Master, removed: &[(u64, Stored)]) {
        if removed.is_empty() {
            return;
        }
        let seqs = removed.iter().map(|(s, _)| *s).collect();
        self.forget(m, removed, Op::Remove { seqs });
    }

    /// Records that the queue's limits dropped messages: on this node, in
    /// the change list so that every mirror drops the same ones, and on
    /// disk.
    fn drop_messages(&self, m: &mut Master, reason: DropReason, dropped: &[(u64, Stored)]) {
        if dropped.is_empty() {
            return;
        }
        self.io.dispose(self.q, reason, dropped);
        let seqs = dropped.iter().map(|(s, _)| *s).collect();
        self.forget(m, dropped, Op::Drop { seqs, reason });
    }

    /// Passes `op`, the removal of `removed`, to the mirrors and writes it
    /// to disk for persistent messages of a durable queue.
    fn forget(&self, m: &mut Master, removed: &[(u64, Stored)], op: Op) {
        if self.io.config().queue_type == QueueType::Mirrored {
            m.ops.push(op);
        }
        let on_disk: Vec<u64> = removed
            .iter()
            .filter(|(_, s)| s.persistent)
            .map(|(seq, _)| *seq)
            .collect();
        if self.io.config().durable && !on_disk.is_empty() {
            self.io.store.borrow_mut().append(&Entry::Remove {
                queue: self.q,
                seqs: on_disk,
            });
        }
        m.mirrors.refresh_sync(m.fifo.min_seq());
    }
}
