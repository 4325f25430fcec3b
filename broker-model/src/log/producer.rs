//! A producer: sends its share of the workload at the configured rate and
//! records what it was told about each message.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::history::{EventKind, MsgId};
use crate::log::client::Client;
use crate::log::config::{partition_name, Acks};
use crate::log::protocol::{ErrorCode, Reply, Request};
use crate::log::Context;
use crate::observe::AckCounter;
use crate::wire::{CallError, Endpoint};
use crate::workload::producer_host;

/// The producer's upstream: the next message its application will hand it.
///
/// It lives outside the process, like the database or file a real producer
/// reads from, so a restarted producer carries on where it was rather than
/// sending everything again; messages in flight when it crashed never get an
/// outcome and count as unknown.
#[derive(Clone, Default)]
pub struct Source {
    next: Rc<Cell<u32>>,
    incarnations: Rc<Cell<u32>>,
}

/// Runs producer `index` (1-based) until crashed; it idles once done.
pub async fn run(ctx: Context, index: u32, source: Source) -> turmoil::Result {
    let host = producer_host(index);
    ctx.processes.wait_until_started(&host).await;
    let incarnation = source.incarnations.get() + 1;
    source.incarnations.set(incarnation);
    let producer_id = (u64::from(index) << 32) | u64::from(incarnation);

    let (endpoint, _requests) = Endpoint::bind().await?;
    let client = Rc::new(Client::new(endpoint, ctx.clone()));
    let total = ctx.workload.messages_for(index);
    let in_flight = ctx.config.max_in_flight as usize;
    let window = Arc::new(Semaphore::new(in_flight));
    let tally = Rc::new(AckCounter::new(&host, &ctx.observer));

    let interval = ctx.workload.send_interval();
    loop {
        let seq = source.next.get();
        if seq >= total {
            break;
        }
        source.next.set(seq + 1);
        let permit = Arc::clone(&window).acquire_owned().await?;
        let msg = MsgId::new(index, seq);
        let (client, host, tally) = (Rc::clone(&client), host.clone(), Rc::clone(&tally));
        tokio::task::spawn_local(async move {
            if send(&client, &host, msg, producer_id).await {
                tally.acknowledged();
            }
            drop(permit);
        });
        tokio::time::sleep(interval).await;
    }
    let _all = window.acquire_many(in_flight as u32).await?;
    tally.publish(true);
    std::future::pending::<()>().await;
    Ok(())
}

/// Sends one message with retries; records its outcome. Returns whether it
/// was acknowledged.
async fn send(client: &Client, host: &str, msg: MsgId, producer: u64) -> bool {
    let ctx = &client.ctx;
    let config = &ctx.config;
    let p = msg.seq % config.partitions;
    ctx.history.record(
        host,
        EventKind::Send {
            msg,
            dest: partition_name(p),
        },
    );
    let mut maybe_written = false;
    let mut last_error = String::new();
    for attempt in 0..=config.retries {
        if attempt > 0 {
            tokio::time::sleep(config.retry_backoff).await;
        }
        let req = Request::Produce {
            partition: p,
            msg,
            producer,
            acks: config.acks,
            idempotent: config.enable_idempotence,
        };
        if config.acks == Acks::None {
            let Some(leader) = client.leader(p).await else {
                last_error = "no leader known".into();
                continue;
            };
            let host_name = crate::log::config::broker_host(leader);
            match client.endpoint.cast(&host_name, req).await {
                Ok(()) => {
                    ctx.history
                        .record(host, EventKind::SendOk { msg, offset: None });
                    return true;
                }
                Err(e) => {
                    last_error = e.to_string();
                    continue;
                }
            }
        }
        match client.call_leader(p, req, config.request_timeout).await {
            Ok(Reply::Produce(Ok(offset))) => {
                ctx.history.record(
                    host,
                    EventKind::SendOk {
                        msg,
                        offset: Some(offset),
                    },
                );
                return true;
            }
            Ok(Reply::Produce(Err(code))) => {
                maybe_written |= code.maybe_written();
                last_error = format!("{code:?}");
                if code != ErrorCode::NotEnoughReplicas {
                    client.forget_leader(p);
                }
            }
            Ok(other) => last_error = format!("unexpected reply {other:?}"),
            Err(CallError::Timeout) => {
                maybe_written = true;
                last_error = "request timed out".into();
            }
            Err(e) => last_error = e.to_string(),
        }
    }
    ctx.history.record(
        host,
        EventKind::send_gave_up(msg, last_error, maybe_written),
    );
    false
}
