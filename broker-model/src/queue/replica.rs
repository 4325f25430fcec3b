//! What a node does with a queue it hosts, whatever the queue's type.
//!
//! A classic queue (mirrored or not) and a quorum queue replicate in very
//! different ways, but the application in front of them asks the same
//! things: where the master or leader is, take this message, serve this
//! consumer, settle these deliveries. Each queue type answers them behind
//! [`QueueReplica`], so the application picks the queue once and never asks
//! which type it holds. Peer requests only one type understands (a mirror's
//! fetch, Raft's AppendEntries and RequestVote, a master's shutdown notice)
//! are answered "not mine" by default.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::time::Duration;

use crate::clock::now;
use crate::queue::fifo::{Dropped, Poll, Subscription};
use crate::queue::protocol::{
    AppendEntries, AppendReply, ClientError, ConsumerId, Location, Message, MirrorFetch,
    MirrorReply, NodeId, QueueId, QueueStatus, Reply, RequestVote, VoteReply,
};
use crate::queue::runtime::Io;

/// Every queue of an application run, by index.
pub(crate) type Queues = BTreeMap<QueueId, Rc<dyn QueueReplica>>;

/// A future run on the node's single thread, borrowing the replica.
pub(crate) type LocalFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// One node's replica of one queue.
pub(crate) trait QueueReplica {
    /// Starts this node's part of the queue, right after the application
    /// started. `trusted`, after an autoheal restart, names the only peers
    /// whose word counts while the queue settles who leads it.
    fn start(self: Rc<Self>, trusted: Option<BTreeSet<NodeId>>);

    /// Where the queue's master or leader is, as this node knows it, or
    /// a member to ask when it knows none.
    fn location(&self) -> Option<Location>;

    /// Takes in news of where the master or leader is.
    fn learn(&self, location: Location);

    /// Takes a client's message as master or leader; with `reply`,
    /// answers once the broker has taken responsibility for it.
    fn publish(&self, message: Message, reply: bool) -> LocalFuture<'_, Option<Reply>>;

    /// As master or leader, answers a consumer's request from the queue's
    /// delivery state, with the messages it could still be given.
    fn poll(&self, sub: &Subscription) -> Result<(Poll, u64), ClientError>;

    /// As master or leader, applies a consumer's rejections (`basic.reject`
    /// with `requeue`), then its acknowledgement.
    fn ack(&self, consumer: &ConsumerId, upto: u64, rejected: &[u64]);

    /// As master or leader, closes consumer connections silent for
    /// `timeout`.
    fn expire(&self, timeout: Duration) -> Vec<Dropped>;

    /// As master or leader, discards messages that outlived `message-ttl`
    /// and deletes a queue unused for `expires`; returns when the next of
    /// them is due, if anything is.
    fn expire_messages(&self) -> Option<Duration>;

    /// What this node tells a starting peer about the queue, if anything.
    fn status(&self) -> Option<QueueStatus> {
        None
    }

    /// The peers to tell, with the master's location, when this node's
    /// application stops in an orderly way.
    fn shutdown_notices(&self) -> Vec<(NodeId, Location)> {
        Vec::new()
    }

    /// Notes that the master `location` is stopping in an orderly way.
    fn master_stopping(&self, _location: Location) {}

    /// As master, answers a mirror's fetch.
    fn mirror_fetch(&self, _fetch: MirrorFetch) -> LocalFuture<'_, Option<MirrorReply>> {
        Box::pin(async { None })
    }

    /// As a Raft member, handles a leader's AppendEntries.
    fn raft_append(&self, _req: AppendEntries) -> Option<AppendReply> {
        None
    }

    /// As a Raft member, answers a candidate.
    fn raft_vote(&self, _req: RequestVote) -> Option<VoteReply> {
        None
    }
}

/// Closes, while this node serves the queue, consumer connections silent
/// for two heartbeats; their unacknowledged deliveries are requeued.
pub(crate) async fn sweep_consumers(replica: Rc<dyn QueueReplica>, io: Rc<Io>, q: QueueId) {
    let every = io.config().heartbeat / 2;
    let timeout = io.config().consumer_timeout();
    loop {
        tokio::time::sleep(every).await;
        let dropped = replica.expire(timeout);
        if !dropped.is_empty() {
            io.record_dropped(q, &dropped);
            io.changed.notify_waiters();
        }
    }
}

/// Applies, while this node serves the queue, `message-ttl` and `expires`
/// when they fall due, as RabbitMQ's queue process sets a timer for the
/// expiry of the message at its head and for its own.
pub(crate) async fn expire_on_time(replica: Rc<dyn QueueReplica>, io: Rc<Io>) {
    let idle = io.config().net_ticktime / 4;
    let soonest = Duration::from_millis(1);
    loop {
        let notified = io.changed.notified();
        match replica.expire_messages() {
            Some(due) => {
                let wait = due.saturating_sub(now()).clamp(soonest, idle);
                tokio::time::sleep(wait).await;
            }
            None => {
                tokio::select! {
                    biased;
                    _ = notified => {}
                    _ = tokio::time::sleep(idle) => {}
                }
            }
        }
    }
}
