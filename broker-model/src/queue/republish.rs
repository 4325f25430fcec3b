//! The node's side of dead-lettering: republishing what a queue removed to
//! its dead-letter exchange, from the node where the queue's master or
//! leader runs.
//!
//! At-most-once (the default), without publisher confirms: nothing waits
//! for the outcome and nothing is tried again; a message that reaches no
//! queue is a `drop` with reason `dead_letter_failed`. At-least-once
//! (quorum queues), the queue's dead-letter worker decides where each
//! message goes and asks the node to publish it with a confirm, as
//! rabbit_fifo_dlx_worker publishes through `rabbit_queue_type:deliver`;
//! the node only routes the publish and reports the confirm.

use std::rc::Rc;

use tokio::sync::mpsc::UnboundedReceiver;

use crate::history::{DropReason, EventKind};
use crate::queue::config::queue_name;
use crate::queue::dead_lettering::{destination, letter, DeadLetters, Destination};
use crate::queue::protocol::{ClientOp, Message, QueueId, Reply};
use crate::queue::replica::Queues;
use crate::queue::routing;
use crate::queue::runtime::{ConfirmedPublish, Io};

/// Republishes every batch of dead letters this application run's queues
/// hand over, in order, for as long as the run lasts.
pub(crate) async fn run(io: Rc<Io>, queues: Queues, mut letters: UnboundedReceiver<DeadLetters>) {
    while let Some(batch) = letters.recv().await {
        for message in batch.messages {
            republish(&io, &queues, batch.from, batch.reason, message).await;
        }
    }
}

/// Routes every publish the dead-letter workers of this application run's
/// quorum queues ask for, each on its own, and tells the worker whether the
/// target queue confirmed it.
pub(crate) async fn serve_confirmed(
    io: Rc<Io>,
    queues: Queues,
    mut publishes: UnboundedReceiver<ConfirmedPublish>,
) {
    while let Some(ConfirmedPublish { op, confirmed }) = publishes.recv().await {
        let (node, queues) = (Rc::clone(&io), queues.clone());
        io.spawn(async move {
            let reply = routing::route(&node, &queues, op).await;
            let _ = confirmed.send(matches!(reply, Some(Reply::Publish(Ok(())))));
        });
    }
}

/// Routes one dead-lettered `message` through the dead-letter exchange and
/// hands it to each target queue's master or leader as a publish without
/// a reply.
async fn republish(io: &Io, queues: &Queues, from: QueueId, reason: DropReason, message: Message) {
    let config = io.config();
    let policy = &config.dead_lettering;
    let exchange = policy.exchange.as_deref().unwrap_or_default();
    let key = policy.routing_key(&config.topology, config.queues, message.msg);
    let failed = |dest: String| {
        io.record(EventKind::Drop {
            dest,
            reason: DropReason::DeadLetterFailed,
            msgs: vec![message.msg],
        })
    };
    let targets = match destination(io.routes(exchange, &key), from, &message) {
        Destination::Queues(targets) => targets,
        Destination::Unroutable | Destination::Cycle => return failed(queue_name(from)),
    };
    let message = letter(message, reason, from);
    for queue in targets {
        if !reachable(io, queues, queue) {
            failed(queue_name(queue));
            continue;
        }
        let op = ClientOp::Publish {
            queue,
            message,
            reply: false,
            mandatory: false,
        };
        routing::route(io, queues, op).await;
    }
}

/// Whether this node knows a master or leader of `queue` it can reach.
fn reachable(io: &Io, queues: &Queues, queue: QueueId) -> bool {
    let location = queues.get(&queue).and_then(|r| r.location());
    location.is_some_and(|l| l.node == io.me() || !io.cluster().known_lost(l.node, None))
}
