//! A publisher: sends its share of the workload at the configured rate, in
//! the configured mode, and records what it was told about each message.
//!
//! - `fire-and-forget`: the message counts as sent once written to the
//!   socket; nothing tells the publisher otherwise.
//! - `transaction`: `tx.select` once, then per message a publish and a
//!   `tx.commit` that returns only when the broker has taken
//!   responsibility. Publish and commit travel together here, as on a TCP
//!   channel they arrive in order. One transaction at a time: synchronous.
//! - `confirm`: up to `max_outstanding_confirms` publishes await their
//!   `basic.ack` at once.
//!
//! A publisher publishes through the default exchange to the queues `q0..`
//! in turn, or, when the configuration names an exchange, to that exchange
//! with the routing keys in turn; with `mandatory` a message that routes to
//! no queue (no binding matched, or its classic queue's node is down)
//! comes back (`basic.return`) and counts as refused.
//!
//! In the two acknowledged modes a nack, a refusal or a timeout is followed
//! by another attempt, so a message may be stored twice (at-least-once).
//! Only a publisher told every time that nothing was stored records a
//! failure; one that may have had a message stored records it as unknown.

use std::rc::Rc;

use crate::history::{EventKind, MsgId};
use crate::queue::client::Connection;
use crate::queue::config::Context;
use crate::queue::config::{queue_name, PublishMode, QueueConfig};
use crate::queue::protocol::{
    ClientError, ClientOp, Message, Publication, QueueId, Reply, Request,
};
use crate::wire::CallError;
use crate::workload::pace::{Pace, SendOutcome, Sends, Source};
use crate::workload::{producer_host, start};

/// Runs publisher `index` (1-based) until crashed; it idles once done.
pub(crate) async fn run(ctx: Context, index: u32, source: Source) -> turmoil::Result {
    let host = producer_host(index);
    let (endpoint, _requests) = start(&ctx.processes, &host).await?;
    let first = (index - 1) % ctx.config.nodes + 1;
    let conn = Rc::new(Connection::new(endpoint, ctx.clone(), first));
    let window = match ctx.config.publish_mode {
        PublishMode::Confirm => ctx.config.max_outstanding_confirms as usize,
        PublishMode::FireAndForget | PublishMode::Transaction => 1,
    };
    let sends = Sends {
        host: &host,
        index,
        workload: &ctx.workload,
        pace: Pace::Schedule,
        window,
    };
    sends
        .run(&source, &ctx.observer, |msg| {
            let (conn, host) = (Rc::clone(&conn), host.clone());
            async move { send(&conn, &host, msg).await }
        })
        .await
}

/// Where a publisher sends a message: straight to a queue through the
/// default exchange, or to a named exchange with a routing key.
enum Target {
    Queue(QueueId),
    Exchange {
        exchange: String,
        routing_key: String,
    },
}

impl Target {
    /// The target of message `msg` in `config`.
    fn of(config: &QueueConfig, msg: MsgId) -> Self {
        let topology = &config.topology;
        match &topology.exchange {
            None => Target::Queue(msg.seq % config.queues),
            Some(exchange) => Target::Exchange {
                exchange: exchange.clone(),
                routing_key: topology.routing_key(u64::from(msg.seq), config.queues),
            },
        }
    }

    /// Where the history says the message went.
    fn dest(&self) -> String {
        match self {
            Target::Queue(q) => queue_name(*q),
            Target::Exchange { exchange, .. } => exchange.clone(),
        }
    }

    /// The request that publishes `message` there.
    fn request(&self, config: &QueueConfig, message: Message, reply: bool) -> Request {
        match self {
            Target::Queue(queue) => Request::Client(ClientOp::Publish {
                queue: *queue,
                message,
                reply,
                mandatory: config.topology.mandatory,
            }),
            Target::Exchange {
                exchange,
                routing_key,
            } => Request::Exchange(Publication {
                exchange: exchange.clone(),
                routing_key: routing_key.clone(),
                message,
                reply,
                mandatory: config.topology.mandatory,
            }),
        }
    }
}

/// Publishes one message, retrying as the mode allows; records its
/// outcome.
async fn send(conn: &Connection, host: &str, msg: MsgId) -> SendOutcome {
    let ctx = &conn.ctx;
    let config = &ctx.config;
    let target = Target::of(config, msg);
    ctx.history.record(
        host,
        EventKind::Send {
            msg,
            dest: target.dest(),
        },
    );
    let message = Message {
        msg,
        persistent: config.persistent,
        dead_letter: None,
    };
    if config.publish_mode == PublishMode::FireAndForget {
        let req = target.request(config, message, false);
        let (kind, outcome) = match conn.notify(req).await {
            Ok(()) => (
                EventKind::SendOk { msg, offset: None },
                SendOutcome::Acknowledged,
            ),
            Err(e) => (
                EventKind::SendFail {
                    msg,
                    error: e.to_string(),
                },
                SendOutcome::NotAcknowledged,
            ),
        };
        ctx.history.record(host, kind);
        return outcome;
    }
    let mut maybe_stored = false;
    let mut last_error = String::new();
    for attempt in 0..=config.retries {
        if attempt > 0 {
            tokio::time::sleep(config.retry_backoff).await;
        }
        let number = conn.number();
        let req = target.request(config, message, true);
        match conn.request(req, config.confirm_timeout).await {
            Ok(Reply::Publish(Ok(()))) => {
                ctx.history
                    .record(host, EventKind::SendOk { msg, offset: None });
                return SendOutcome::Acknowledged;
            }
            Ok(Reply::Publish(Err(e))) => {
                maybe_stored |= e.maybe_stored();
                last_error = format!("{e:?}");
                if e == ClientError::Unavailable {
                    conn.reconnect(number);
                }
            }
            Ok(other) => last_error = format!("unexpected reply {other:?}"),
            Err(CallError::Timeout) => {
                maybe_stored = true;
                last_error = "no confirm in time".into();
                conn.reconnect(number);
            }
            Err(e) => last_error = e.to_string(),
        }
    }
    ctx.history
        .record(host, EventKind::send_gave_up(msg, last_error, maybe_stored));
    SendOutcome::NotAcknowledged
}
