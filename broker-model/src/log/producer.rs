//! A producer: sends its share of the workload at the configured rate and
//! records what it was told about each message.

use std::rc::Rc;

use crate::history::{EventKind, MsgId};
use crate::log::client::Client;
use crate::log::config::{broker_host, partition_name, Acks, Context};
use crate::log::protocol::{ErrorCode, Reply, Request};
use crate::wire::CallError;
use crate::workload::pace::{Pace, SendOutcome, Sends, Source};
use crate::workload::{producer_host, start};

/// Runs producer `index` (1-based) until crashed; it idles once done.
pub(crate) async fn run(ctx: Context, index: u32, source: Source) -> turmoil::Result {
    let host = producer_host(index);
    let (endpoint, _requests) = start(&ctx.processes, &host).await?;
    let producer_id = (u64::from(index) << 32) | u64::from(source.start());
    let client = Rc::new(Client::new(endpoint, ctx.clone()));
    let sends = Sends {
        host: &host,
        index,
        workload: &ctx.workload,
        pace: Pace::Gap,
        window: ctx.config.max_in_flight as usize,
    };
    sends
        .run(&source, &ctx.observer, |msg| {
            let (client, host) = (Rc::clone(&client), host.clone());
            async move { send(&client, &host, msg, producer_id).await }
        })
        .await
}

/// Sends one message with retries; records its outcome.
async fn send(client: &Client, host: &str, msg: MsgId, producer: u64) -> SendOutcome {
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
            let host_name = broker_host(leader);
            match client.endpoint.cast(&host_name, req).await {
                Ok(()) => {
                    ctx.history
                        .record(host, EventKind::SendOk { msg, offset: None });
                    return SendOutcome::Acknowledged;
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
                return SendOutcome::Acknowledged;
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
    SendOutcome::NotAcknowledged
}
