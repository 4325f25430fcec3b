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
//! In the two acknowledged modes a nack, a refusal or a timeout is followed
//! by another attempt, so a message may be stored twice (at-least-once).
//! Only a publisher told every time that nothing was stored records a
//! failure; one that may have had a message stored records it as unknown.

use std::rc::Rc;

use crate::history::{EventKind, MsgId};
use crate::queue::client::Connection;
use crate::queue::config::Context;
use crate::queue::config::{queue_name, PublishMode};
use crate::queue::protocol::{ClientError, ClientOp, Message, Reply};
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

/// Publishes one message, retrying as the mode allows; records its
/// outcome.
async fn send(conn: &Connection, host: &str, msg: MsgId) -> SendOutcome {
    let ctx = &conn.ctx;
    let config = &ctx.config;
    let queue = msg.seq % config.queues;
    ctx.history.record(
        host,
        EventKind::Send {
            msg,
            dest: queue_name(queue),
        },
    );
    let message = Message {
        msg,
        persistent: config.persistent,
        dead_letter: None,
    };
    if config.publish_mode == PublishMode::FireAndForget {
        let op = ClientOp::Publish {
            queue,
            message,
            reply: false,
        };
        let (kind, outcome) = match conn.cast(op).await {
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
        let op = ClientOp::Publish {
            queue,
            message,
            reply: true,
        };
        match conn.call(op, config.confirm_timeout).await {
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
