//! The leader's side of a quorum queue: a publish is a proposed entry,
//! confirmed once a majority stores it; consumers are served from the
//! leader's own delivery state, and what leaves the queue is proposed for
//! settlement.

use std::time::Duration;

use crate::clock::now;
use crate::queue::fifo::{Dropped, Poll, Subscription};
use crate::queue::protocol::{ClientError, Command, ConsumerId, Message, Reply};
use crate::queue::quorum::limits::Refusal;
use crate::queue::quorum::queue::QuorumQueue;
use crate::queue::quorum::state::QuorumState;

impl QuorumQueue {
    /// Proposes, as leader, that `seqs` leave the queue.
    fn settle(&self, st: &mut QuorumState, seqs: Vec<u64>) {
        if seqs.is_empty() {
            return;
        }
        self.propose(st, Command::Settle(seqs));
        self.after_raft(st);
    }

    /// Publishes as leader of the queue; with `reply`, answers once a
    /// majority holds the message.
    pub(super) async fn publish_message(&self, message: Message, reply: bool) -> Option<Reply> {
        let proposed = {
            let mut st = self.state.borrow_mut();
            let location = st.location().filter(|l| l.node != self.io.me());
            let leading = st.raft.as_ref().is_some_and(|r| r.is_leader());
            if !leading {
                Err(ClientError::NotMaster(location))
            } else if let Some(refusal) = self.refuse(&st, message) {
                match refusal {
                    Refusal::Unroutable => Ok(None),
                    Refusal::Rejected => Err(ClientError::Rejected),
                }
            } else {
                let proposed = self
                    .propose(&mut st, Command::Enqueue(message))
                    .expect("a leader can propose");
                self.after_raft(&mut st);
                Ok(Some(proposed))
            }
        };
        self.io.changed.notify_waiters();
        let (index, term) = match proposed {
            Ok(Some(p)) => p,
            Ok(None) => return reply.then_some(Reply::Publish(Ok(()))),
            Err(e) => return reply.then_some(Reply::Publish(Err(e))),
        };
        if !reply {
            return None;
        }
        Some(Reply::Publish(self.committed(index, term).await))
    }

    /// As leader, answers a consumer's request from the queue's delivery
    /// state; what left the queue is proposed for settlement.
    pub(super) fn poll_leader(&self, sub: &Subscription) -> Result<(Poll, u64), ClientError> {
        let mut st = self.state.borrow_mut();
        let location = st.location().filter(|l| l.node != self.io.me());
        let Some(fifo) = &mut st.fifo else {
            return Err(ClientError::NotMaster(location));
        };
        if !fifo.subscribed(sub) {
            return Err(ClientError::Cancelled);
        }
        self.before_delivering(&mut st);
        let now = now();
        let st = &mut *st;
        let fifo = st.fifo.as_mut().expect("still leading");
        let mut poll = fifo.poll(sub, now);
        st.lease.renew(fifo, now);
        let remaining = fifo.remaining_for(&sub.consumer);
        let seqs = poll.removed.iter().map(|(s, _)| *s).collect();
        self.settle(st, seqs);
        self.propose_return(st, std::mem::take(&mut poll.returned));
        self.return_dropped(st, &poll.dropped);
        if !poll.dropped.is_empty() {
            self.after_raft(st);
        }
        self.report_view(st);
        Ok((poll, remaining))
    }

    /// As leader, applies a consumer's acknowledgement.
    pub(super) fn ack_leader(&self, consumer: &ConsumerId, upto: u64, rejected: &[u64]) {
        let mut st = self.state.borrow_mut();
        if let Some(fifo) = &mut st.fifo {
            let returned = fifo.reject(consumer, rejected);
            self.propose_return(&mut st, returned);
        }
        if let Some(fifo) = &mut st.fifo {
            let seqs = fifo
                .ack(consumer, upto)
                .into_iter()
                .map(|(s, _)| s)
                .collect();
            self.settle(&mut st, seqs);
        }
    }

    /// As leader, closes consumer connections silent for `timeout`.
    pub(super) fn expire_leader(&self, timeout: Duration) -> Vec<Dropped> {
        let mut st = self.state.borrow_mut();
        let Some(fifo) = &mut st.fifo else {
            return Vec::new();
        };
        let dropped = fifo.expire(now(), timeout);
        if !dropped.is_empty() {
            self.return_dropped(&mut st, &dropped);
            self.after_raft(&mut st);
        }
        dropped
    }

    /// Waits until the entry at `index`, proposed in `term`, is committed.
    /// A leader that loses its term on the way cannot tell whether it will
    /// be: the outcome is unknown.
    async fn committed(&self, index: u64, term: u64) -> Result<(), ClientError> {
        self.io
            .confirm_when("no majority stored the entry in time", || {
                let mut st = self.state.borrow_mut();
                let r = st.raft.as_ref()?;
                if r.commit >= index && r.term_at(index) == term {
                    st.confirmed += 1;
                    self.report_view(&st);
                    return Some(Ok(()));
                }
                (r.term != term || !r.is_leader())
                    .then_some(Err("leadership lost before the entry committed"))
            })
            .await
    }
}
