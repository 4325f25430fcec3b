//! A publish to a named exchange, as the channel on the publisher's node
//! handles it: the exchange picks the queues, the message goes to each
//! queue's master or leader as a publish to the default exchange does, and
//! the confirm waits for every one of them ("a confirm is sent once every
//! queue the message was routed to has taken it").
//!
//! A message that routes to no queue is dropped by the exchange, and still
//! confirmed: "the broker will issue a confirm once the exchange verifies a
//! message won't route to any queue". With `mandatory` the broker first
//! sends it back (`basic.return`), which the publisher takes as a failure.
//! A classic queue whose node is down is no live queue: the message goes
//! only to the others, and routes to no queue if there are none.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use crate::history::{DropReason, EventKind};
use crate::queue::exchange::Routed;
use crate::queue::protocol::{ClientError, ClientOp, Publication, Reply};
use crate::queue::queue_down::{unrouted, Reach};
use crate::queue::replica::Queues;
use crate::queue::routing;
use crate::queue::runtime::Io;

/// Routes `p` through its exchange and publishes it to every queue it
/// routes to; with `p.reply`, answers once all of them answered.
pub(crate) async fn publish(io: &Io, queues: &Queues, p: Publication) -> Option<Reply> {
    let targets = match io.routes(&p.exchange, &p.routing_key) {
        Routed::Queues(targets) => targets,
        Routed::Unroutable => {
            io.record(EventKind::Drop {
                dest: p.exchange.clone(),
                reason: DropReason::Unroutable,
                msgs: vec![p.message.msg],
            });
            return p.reply.then_some(Reply::Publish(unrouted(p.mandatory)));
        }
    };
    let (targets, down): (Vec<_>, Vec<_>) = targets
        .into_iter()
        .partition(|q| routing::reach(io, queues, *q) == Reach::Queue);
    for queue in down {
        routing::record_down(io, queue, p.message.msg);
    }
    if targets.is_empty() {
        return p.reply.then_some(Reply::Publish(unrouted(p.mandatory)));
    }
    let publishes = targets.into_iter().map(|queue| {
        let op = ClientOp::Publish {
            queue,
            message: p.message,
            reply: p.reply,
            mandatory: false,
        };
        Box::pin(routing::route(io, queues, op))
            as Pin<Box<dyn Future<Output = Option<Reply>> + '_>>
    });
    let answers = join_all(publishes.collect()).await;
    p.reply.then(|| Reply::Publish(combine(answers)))
}

/// The confirm of a message routed to several queues: an ack if every
/// queue acked; a nack if some queue may hold it and another did not
/// confirm it; otherwise the first queue's refusal.
fn combine(answers: Vec<Option<Reply>>) -> Result<(), ClientError> {
    let results: Vec<Result<(), ClientError>> = answers
        .into_iter()
        .map(|a| match a {
            Some(Reply::Publish(r)) => r,
            other => Err(ClientError::Nack(format!("unexpected answer {other:?}"))),
        })
        .collect();
    let Some(first) = results.iter().find_map(|r| r.clone().err()) else {
        return Ok(());
    };
    let stored_somewhere = results
        .iter()
        .any(|r| r.as_ref().map_or_else(ClientError::maybe_stored, |()| true));
    if stored_somewhere && results.len() > 1 {
        return Err(ClientError::Nack(format!(
            "not every queue the message routed to took it: {first:?}"
        )));
    }
    Err(first)
}

/// Runs `futures` together on this task, returning their outputs in order.
async fn join_all<'a, T>(futures: Vec<Pin<Box<dyn Future<Output = T> + 'a>>>) -> Vec<T> {
    let mut pending: Vec<Option<Pin<Box<dyn Future<Output = T> + 'a>>>> =
        futures.into_iter().map(Some).collect();
    let mut done: Vec<Option<T>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        for (slot, out) in pending.iter_mut().zip(done.iter_mut()) {
            if let Some(f) = slot {
                if let Poll::Ready(v) = f.as_mut().poll(cx) {
                    *out = Some(v);
                    *slot = None;
                }
            }
        }
        if pending.iter().all(Option::is_none) {
            Poll::Ready(done.iter_mut().map(|o| o.take().expect("ready")).collect())
        } else {
            Poll::Pending
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_confirmed_by_every_queue_is_acked() {
        let ok = Some(Reply::Publish(Ok(())));
        assert_eq!(combine(vec![ok.clone(), ok]), Ok(()));
    }

    #[test]
    fn a_message_one_queue_took_and_another_refused_is_nacked() {
        let ok = Some(Reply::Publish(Ok(())));
        let refused = Some(Reply::Publish(Err(ClientError::Rejected)));
        assert!(matches!(
            combine(vec![ok, refused.clone()]),
            Err(ClientError::Nack(_))
        ));
        assert_eq!(combine(vec![refused]), Err(ClientError::Rejected));
    }
}
