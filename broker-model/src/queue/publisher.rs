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

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::history::{EventKind, MsgId};
use crate::observe::AckCounter;
use crate::queue::client::Connection;
use crate::queue::config::{queue_name, PublishMode};
use crate::queue::protocol::{ClientError, ClientOp, Message, Reply};
use crate::queue::Context;
use crate::wire::{CallError, Endpoint};
use crate::workload::producer_host;

/// The publisher's upstream: the next message its application will hand it.
///
/// It lives outside the process, like the database or file a real
/// publisher reads from, so a restarted publisher carries on where it was;
/// messages in flight when it crashed never get an outcome and count as
/// unknown.
#[derive(Clone, Default)]
pub struct Source {
    next: Rc<Cell<u32>>,
}

/// Runs publisher `index` (1-based) until crashed; it idles once done.
pub async fn run(ctx: Context, index: u32, source: Source) -> turmoil::Result {
    let host = producer_host(index);
    ctx.processes.wait_until_started(&host).await;
    let (endpoint, _requests) = Endpoint::bind().await?;
    let first = (index - 1) % ctx.config.nodes + 1;
    let conn = Rc::new(Connection::new(endpoint, ctx.clone(), first));
    let total = ctx.workload.messages_for(index);
    let window = match ctx.config.publish_mode {
        PublishMode::Confirm => ctx.config.max_outstanding_confirms as usize,
        PublishMode::FireAndForget | PublishMode::Transaction => 1,
    };
    let permits = Arc::new(Semaphore::new(window));
    let acked = Rc::new(AckCounter::new(&host, &ctx.observer));

    // Messages are due on a schedule rather than a gap after each send, so
    // that a publisher held back (by its window, or a slow commit) catches
    // up at once, and rates above one message per simulation tick hold.
    let interval = ctx.workload.send_interval();
    let start = tokio::time::Instant::now();
    let first_seq = source.next.get();
    loop {
        let seq = source.next.get();
        if seq >= total {
            break;
        }
        tokio::time::sleep_until(start + interval * (seq - first_seq)).await;
        source.next.set(seq + 1);
        let permit = Arc::clone(&permits).acquire_owned().await?;
        let msg = MsgId::new(index, seq);
        let (conn, host, acked) = (Rc::clone(&conn), host.clone(), Rc::clone(&acked));
        tokio::task::spawn_local(async move {
            if send(&conn, &host, msg).await {
                acked.acknowledged();
            }
            drop(permit);
        });
    }
    let _all = permits.acquire_many(window as u32).await?;
    acked.publish(true);
    std::future::pending::<()>().await;
    Ok(())
}

/// Publishes one message, retrying as the mode allows; records its
/// outcome. Returns whether it was acknowledged.
async fn send(conn: &Connection, host: &str, msg: MsgId) -> bool {
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
    };
    if config.publish_mode == PublishMode::FireAndForget {
        let op = ClientOp::Publish {
            queue,
            message,
            reply: false,
        };
        let kind = match conn.cast(op).await {
            Ok(()) => EventKind::SendOk { msg, offset: None },
            Err(e) => EventKind::SendFail {
                msg,
                error: e.to_string(),
            },
        };
        let ok = matches!(kind, EventKind::SendOk { .. });
        ctx.history.record(host, kind);
        return ok;
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
                return true;
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
    false
}
