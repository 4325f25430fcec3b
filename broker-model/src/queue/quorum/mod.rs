//! Quorum queues on a node: a Raft group per queue whose log holds the
//! queue's changes (enqueue, settle), as RabbitMQ's quorum queues do.
//!
//! Every member fsyncs log entries before acknowledging them, and the
//! leader confirms a publish only once a majority holds it: a confirmed
//! message survives the loss of any minority of members. Every message is
//! written to disk, whatever its delivery mode, because the log is the
//! queue. Deliveries and unacknowledged messages are the leader's own
//! business (not replicated); a new leader delivers again whatever was not
//! settled, marked redelivered.

mod dead_letters;
mod delivery_count;
mod discards;
mod dlx_worker;
mod election;
mod leader;
mod limits;
mod queue;
mod raft;
mod replication;
mod returns;
mod state;

use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

use crate::queue::fifo::{Dropped, Poll, Subscription};
use crate::queue::protocol::{
    AppendEntries, AppendReply, ClientError, ConsumerId, Location, Message, NodeId, Reply,
    RequestVote, VoteReply,
};
use crate::queue::replica::{expire_on_time, sweep_consumers, LocalFuture, QueueReplica};

pub(crate) use queue::QuorumQueue;

impl QueueReplica for QuorumQueue {
    /// Starts this node's member of the queue, if it is one.
    fn start(self: Rc<Self>, _trusted: Option<BTreeSet<NodeId>>) {
        let me = self.io.me();
        let (members, first_start) = {
            let st = self.state.borrow();
            let Some(r) = &st.raft else {
                return;
            };
            (
                r.members.clone(),
                r.term == 0 && r.log.is_empty() && st.home == me,
            )
        };
        self.report_view(&self.state.borrow());
        if first_start {
            // The declaring node leads the new queue's first term.
            let queue = Rc::clone(&self);
            self.io.spawn(async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                queue.start_election();
            });
        }
        self.io.spawn(Rc::clone(&self).election_timer());
        for peer in members.into_iter().filter(|m| *m != me) {
            self.io.spawn(Rc::clone(&self).replicate(peer));
        }
        let sweep: Rc<dyn QueueReplica> = Rc::clone(&self) as Rc<dyn QueueReplica>;
        if self.io.policy().timed() {
            self.io
                .spawn(expire_on_time(Rc::clone(&sweep), Rc::clone(&self.io)));
        }
        self.io
            .spawn(sweep_consumers(sweep, Rc::clone(&self.io), self.q));
    }

    /// A node that knows no leader (it is not a member and restarted after
    /// the last election, say) asks a live member, which redirects it.
    fn location(&self) -> Option<Location> {
        self.state.borrow().location().or_else(|| {
            let cluster = self.io.cluster();
            self.io
                .config()
                .members(self.q)
                .into_iter()
                .find(|m| *m != self.io.me() && !cluster.known_lost(*m, None))
                .map(|node| Location {
                    epoch: 0,
                    node,
                    incarnation: None,
                })
        })
    }

    fn learn(&self, location: Location) {
        let mut st = self.state.borrow_mut();
        if st.hint.is_none_or(|h| location.newer_than(&h)) {
            st.hint = Some(location);
        }
    }

    fn publish(&self, message: Message, reply: bool) -> LocalFuture<'_, Option<Reply>> {
        Box::pin(self.publish_message(message, reply))
    }

    fn poll(&self, sub: &Subscription) -> Result<(Poll, u64), ClientError> {
        self.poll_leader(sub)
    }

    fn ack(&self, consumer: &ConsumerId, upto: u64, rejected: &[u64]) {
        self.ack_leader(consumer, upto, rejected);
    }

    fn expire(&self, timeout: Duration) -> Vec<Dropped> {
        self.expire_leader(timeout)
    }

    fn expire_messages(&self) -> Option<Duration> {
        self.expire_messages_leader()
    }

    fn raft_append(&self, req: AppendEntries) -> Option<AppendReply> {
        self.answer_append(req)
    }

    fn raft_vote(&self, req: RequestVote) -> Option<VoteReply> {
        self.answer_vote(req)
    }
}
