//! Classic queues on a node, mirrored or not.
//!
//! A classic queue lives on its home node; nothing else holds it, so when
//! that node is down the queue is unavailable, and what comes back after a
//! restart is what the disk kept (persistent messages of a durable queue).
//!
//! A mirrored queue has a master and mirrors. The master orders every
//! change (enqueue, removal) in a list that mirrors pull, like the
//! guaranteed-multicast ring RabbitMQ uses; a confirm waits until every
//! current mirror holds the message (and, for a persistent message in a
//! durable queue, until master and mirrors have fsynced it). A mirror that
//! joins, or rejoins after a restart, starts *unsynchronised*: it gets the
//! queue's existing messages only with `ha-sync-mode = automatic`. When the
//! master is lost, the oldest mirror the promotion policy allows takes over
//! with exactly what it holds; messages it never had are gone. A node that
//! comes back finds the new master and rejoins as a mirror, dropping what
//! its own disk held, as RabbitMQ's restarted mirrors do.

mod master;
mod membership;
mod mirror;
mod promotion;
mod queue;
mod state;
mod succession;

use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

use crate::queue::fifo::{Dropped, Poll, Subscription};
use crate::queue::protocol::{
    ClientError, ConsumerId, Location, Message, MirrorFetch, MirrorReply, NodeId, QueueStatus,
    Reply,
};
use crate::queue::replica::{expire_on_time, sweep_consumers, LocalFuture, QueueReplica};
use membership::Mirrors;

pub(crate) use queue::ClassicQueue;

impl QueueReplica for ClassicQueue {
    fn start(self: Rc<Self>, trusted: Option<BTreeSet<NodeId>>) {
        // A classic queue's home node is its master at every start. A
        // mirrored queue is declared at the very first start, before any
        // master was recorded: its home node is master and the other
        // members are its mirrors from the outset.
        let me = self.io.me();
        let (mirrored, first, home) = {
            let st = self.state.borrow();
            let first = st.member && (!st.mirrored || st.record.is_none());
            (st.mirrored, first, st.home)
        };
        if first && home == me {
            let others: Vec<NodeId> = self
                .io
                .config()
                .members(self.q)
                .into_iter()
                .filter(|n| *n != me)
                .collect();
            let mirrors = if mirrored {
                Mirrors::declared(&others)
            } else {
                Mirrors::default()
            };
            self.become_master(1, mirrors, None);
        } else if first && mirrored {
            let declared = Location {
                epoch: 1,
                node: home,
                incarnation: None,
            };
            let mut st = self.state.borrow_mut();
            self.follow(&mut st, declared, Some(0));
        } else {
            self.report_view(&self.state.borrow());
        }
        let sweep: Rc<dyn QueueReplica> = Rc::clone(&self) as Rc<dyn QueueReplica>;
        if self.io.policy().timed() {
            self.io
                .spawn(expire_on_time(Rc::clone(&sweep), Rc::clone(&self.io)));
        }
        self.io
            .spawn(sweep_consumers(sweep, Rc::clone(&self.io), self.q));
        if mirrored {
            self.io.spawn(Rc::clone(&self).supervise(trusted));
            self.io.spawn(Rc::clone(&self).mirror_loop());
        }
    }

    fn location(&self) -> Option<Location> {
        self.state.borrow().location()
    }

    fn learn(&self, location: Location) {
        if location.node != self.io.me()
            && self
                .io
                .cluster()
                .split_from(location.node, location.incarnation)
        {
            return;
        }
        {
            let mut st = self.state.borrow_mut();
            let Some(carry) = st.news(location) else {
                return;
            };
            self.follow(&mut st, location, carry);
        }
        self.io.changed.notify_waiters();
    }

    fn publish(&self, message: Message, reply: bool) -> LocalFuture<'_, Option<Reply>> {
        Box::pin(self.publish_message(message, reply))
    }

    fn poll(&self, sub: &Subscription) -> Result<(Poll, u64), ClientError> {
        self.poll_master(sub)
    }

    fn ack(&self, consumer: &ConsumerId, upto: u64, rejected: &[u64]) {
        self.ack_master(consumer, upto, rejected);
    }

    fn expire(&self, timeout: Duration) -> Vec<Dropped> {
        self.expire_master(timeout)
    }

    fn expire_messages(&self) -> Option<Duration> {
        self.expire_messages_master()
    }

    /// Only a mirrored queue's nodes tell each other where they stand; a
    /// classic queue has nothing to settle.
    fn status(&self) -> Option<QueueStatus> {
        let st = self.state.borrow();
        if !st.mirrored {
            return None;
        }
        let policy = self.io.config().promote_policy(false);
        Some(st.status(|m| self.successor(m, policy) == Some(self.io.me())))
    }

    fn shutdown_notices(&self) -> Vec<(NodeId, Location)> {
        self.state.borrow().mirror_nodes()
    }

    fn master_stopping(&self, location: Location) {
        self.state.borrow_mut().master_stopping(location);
    }

    fn mirror_fetch(&self, fetch: MirrorFetch) -> LocalFuture<'_, Option<MirrorReply>> {
        Box::pin(self.answer_fetch(fetch))
    }
}
