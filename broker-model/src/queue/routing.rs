//! Client operations on a node: served here when this node is the queue's
//! master or leader, otherwise passed on to the node that is, as a RabbitMQ
//! channel sends to a queue process on another node. A publish for a
//! classic queue whose node is down goes nowhere ([`queue_down`]).

use std::time::Duration;

use crate::history::{DropReason, EventKind, MsgId};
use crate::queue::config::{node_host, queue_name};
use crate::queue::delivery;
use crate::queue::fifo::Subscription;
use crate::queue::protocol::{ClientError, ClientOp, QueueId, Reply, Request};
use crate::queue::queue_down::{self, unrouted, Reach};
use crate::queue::replica::Queues;
use crate::queue::runtime::{Io, POLL_WAIT};

/// Serves an operation of a client connected to this node. A publish for
/// a classic queue whose node this node knows to be down routes to no
/// queue: it is dropped, and confirmed, or returned with `mandatory`.
/// Everything else goes to the queue's master or leader.
pub(crate) async fn client(io: &Io, queues: &Queues, op: ClientOp) -> Option<Reply> {
    if let ClientOp::Publish {
        queue,
        message,
        reply,
        mandatory,
    } = &op
    {
        if reach(io, queues, *queue) == Reach::Down {
            record_down(io, *queue, message.msg);
            return reply.then(|| Reply::Publish(unrouted(*mandatory)));
        }
    }
    route(io, queues, op).await
}

/// Where a publish for `queue` goes from this node.
pub(crate) fn reach(io: &Io, queues: &Queues, queue: QueueId) -> Reach {
    let location = queues.get(&queue).and_then(|r| r.location());
    queue_down::reach(io.config().queue_type, location, |node| {
        io.cluster().known_lost(node, None)
    })
}

/// Records that `msg`, published for `queue` while the queue's node was
/// down, went to no queue.
pub(crate) fn record_down(io: &Io, queue: QueueId, msg: MsgId) {
    io.record(EventKind::Drop {
        dest: queue_name(queue),
        reason: DropReason::QueueDown,
        msgs: vec![msg],
    });
}

/// Serves a client operation: here if this node is the queue's master
/// or leader, otherwise by passing it on to the node that is.
pub(crate) async fn route(io: &Io, queues: &Queues, op: ClientOp) -> Option<Reply> {
    let q = op.queue();
    let mut redirects = 0;
    loop {
        let Some(location) = queues.get(&q).and_then(|r| r.location()) else {
            return error_reply(&op, ClientError::NoMaster);
        };
        if location.node == io.me() {
            let reply = serve(io, queues, op.clone()).await;
            return match reply.as_ref().and_then(reply_error) {
                Some(ClientError::NotMaster(_)) => error_reply(&op, ClientError::NoMaster),
                _ => reply,
            };
        }
        if io.cluster().known_lost(location.node, None) {
            return error_reply(&op, ClientError::NoMaster);
        }
        let target = node_host(location.node);
        let timeout = match &op {
            ClientOp::Publish { reply: true, .. } => io.config().confirm_timeout * 9 / 10,
            ClientOp::Consume { .. } => POLL_WAIT + Duration::from_millis(300),
            ClientOp::Publish { reply: false, .. } | ClientOp::Ack { .. } => {
                let _ = io.endpoint().cast(&target, Request::Routed(op)).await;
                return None;
            }
        };
        let reply = io
            .endpoint()
            .call(&target, Request::Routed(op.clone()), timeout)
            .await;
        let Ok(reply) = reply else {
            return error_reply(
                &op,
                ClientError::Nack(format!("{} did not answer", queue_name(q))),
            );
        };
        match reply_error(&reply) {
            Some(ClientError::NotMaster(Some(newer)))
                if newer.newer_than(&location) && redirects < 2 =>
            {
                redirects += 1;
                if let Some(replica) = queues.get(&q) {
                    replica.learn(*newer);
                }
            }
            Some(ClientError::NotMaster(_)) | Some(ClientError::Unavailable) => {
                return error_reply(&op, ClientError::NoMaster)
            }
            _ => return Some(reply),
        }
    }
}

/// Serves a client operation as the queue's master or leader.
pub(crate) async fn serve(io: &Io, queues: &Queues, op: ClientOp) -> Option<Reply> {
    let q = op.queue();
    let Some(replica) = queues.get(&q) else {
        return error_reply(&op, ClientError::NoMaster);
    };
    match op {
        ClientOp::Publish { message, reply, .. } => replica.publish(message, reply).await,
        ClientOp::Consume {
            consumer,
            ack,
            prefetch,
            received,
            acked,
            rejected,
            ..
        } => {
            let sub = Subscription {
                consumer,
                ack,
                prefetch,
                received,
                acked,
                rejected,
            };
            Some(delivery::consume(io, replica.as_ref(), q, &sub).await)
        }
        ClientOp::Ack {
            consumer,
            upto,
            rejected,
            ..
        } => {
            delivery::acknowledge(io, replica.as_ref(), &consumer, upto, &rejected);
            None
        }
    }
}

/// The reply carrying `error` for `op`, if `op` expects one.
pub(crate) fn error_reply(op: &ClientOp, error: ClientError) -> Option<Reply> {
    match op {
        ClientOp::Publish { reply: true, .. } => Some(Reply::Publish(Err(error))),
        ClientOp::Consume { .. } => Some(Reply::Consume(Err(error))),
        ClientOp::Publish { reply: false, .. } | ClientOp::Ack { .. } => None,
    }
}

fn reply_error(reply: &Reply) -> Option<&ClientError> {
    match reply {
        Reply::Publish(Err(e)) | Reply::Consume(Err(e)) => Some(e),
        _ => None,
    }
}
