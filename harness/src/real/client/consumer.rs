//! A consumer process: subscribes to every queue (`q0..`), one channel per
//! queue, hands deliveries to an application that processes them one at a
//! time in the scenario's processing time, and acknowledges after
//! processing (`ack = "manual"`) or never (`ack = "auto"`, `no-ack`), as
//! the model's consumer does (`broker-model/src/queue/consumer.rs`).
//!
//! With `no-ack` RabbitMQ forgets a message as it sends it, and sends
//! without limit: what waits in this process's buffer when it is killed is
//! gone. With manual acknowledgements what it held unacknowledged goes back
//! to the queue when its connection closes.

use std::collections::VecDeque;
use std::sync::Arc;

use broker_model::queue::{queue_name, AckMode, QueueConfig};
use broker_model::{is_poison, EventKind, MsgId, PoisonAction, Workload};
use futures_lite::StreamExt;
use lapin::options::{BasicAckOptions, BasicConsumeOptions, BasicQosOptions, BasicRejectOptions};
use lapin::types::FieldTable;
use lapin::Channel;
use tokio::sync::{Mutex, Notify};

use super::emit::Emitter;
use super::link::Link;

/// A delivery waiting for the application.
struct Item {
    msg: MsgId,
    channel: Channel,
    tag: u64,
    dead_lettered: bool,
}

/// What a consumer process needs.
pub(crate) struct Subscriber {
    pub(crate) config: QueueConfig,
    pub(crate) workload: Workload,
    pub(crate) link: Link,
    pub(crate) out: Emitter,
    buffer: Mutex<VecDeque<Item>>,
    arrived: Notify,
}

impl Subscriber {
    /// A consumer of `config`'s queues.
    pub(crate) fn new(config: QueueConfig, workload: Workload, link: Link, out: Emitter) -> Self {
        Subscriber {
            config,
            workload,
            link,
            out,
            buffer: Mutex::new(VecDeque::new()),
            arrived: Notify::new(),
        }
    }

    /// Consumes until the process is killed.
    pub(crate) async fn run(self: Arc<Self>) {
        for q in 0..self.config.queues {
            tokio::spawn(Arc::clone(&self).read(queue_name(q)));
        }
        self.process().await;
    }

    /// Subscribes to `queue`, again after every failure, and fills the
    /// buffer with what arrives.
    async fn read(self: Arc<Self>, queue: String) {
        loop {
            if let Err((generation, e)) = self.subscribe(&queue).await {
                tracing::debug!("{}: {queue}: {e}", self.out.host());
                if let Some(g) = generation {
                    self.link.failed(g).await;
                }
            }
            tokio::time::sleep(self.config.retry_backoff).await;
        }
    }

    /// One subscription to `queue`, until its channel or connection fails.
    async fn subscribe(&self, queue: &str) -> Result<(), (Option<u32>, String)> {
        let held = self.link.connection().await.map_err(|e| (None, e))?;
        let fail = |e: lapin::Error| (Some(held.generation), e.to_string());
        let ch = held.connection.create_channel().await.map_err(fail)?;
        let prefetch = u16::try_from(self.config.prefetch).unwrap_or(u16::MAX);
        ch.basic_qos(prefetch, BasicQosOptions::default())
            .await
            .map_err(fail)?;
        let options = BasicConsumeOptions {
            no_ack: self.config.ack == AckMode::Auto,
            ..BasicConsumeOptions::default()
        };
        let tag = format!("{}-{queue}", self.out.host());
        let mut deliveries = match ch
            .basic_consume(
                queue.into(),
                tag.as_str().into(),
                options,
                FieldTable::default(),
            )
            .await
        {
            Ok(d) => d,
            // A refused subscription (the queue's node is down) closes the
            // channel, not the connection.
            Err(e) => return Err((None, e.to_string())),
        };
        while let Some(delivery) = deliveries.next().await {
            let delivery = match delivery {
                Ok(d) => d,
                Err(e) => return Err((Some(held.generation), e.to_string())),
            };
            let id = delivery
                .properties
                .message_id()
                .as_ref()
                .map(|s| s.to_string())
                .unwrap_or_default();
            let Ok(msg) = id.parse::<MsgId>() else {
                continue;
            };
            let dead_lettered = delivery
                .properties
                .headers()
                .as_ref()
                .is_some_and(|h| h.inner().keys().any(|k| k.as_str() == "x-death"));
            self.out.record(EventKind::Receive {
                msg,
                dest: queue.to_string(),
                offset: None,
                redelivered: delivery.redelivered,
            });
            self.buffer.lock().await.push_back(Item {
                msg,
                channel: ch.clone(),
                tag: delivery.delivery_tag,
                dead_lettered,
            });
            self.arrived.notify_one();
        }
        Ok(())
    }

    /// The application: one message at a time, each taking the scenario's
    /// processing time, acknowledged after processing with manual acks.
    async fn process(&self) {
        loop {
            let next = self.buffer.lock().await.pop_front();
            let Some(item) = next else {
                self.arrived.notified().await;
                continue;
            };
            tokio::time::sleep(self.workload.processing_time).await;
            if is_poison(self.workload.poison, item.msg) && !item.dead_lettered {
                self.poisoned(&item).await;
                continue;
            }
            self.out.record(EventKind::Processed {
                msg: item.msg,
                dead_lettered: item.dead_lettered,
            });
            // A delivery tag means nothing once its channel is closed: the
            // broker has put the message back in the queue.
            if self.config.ack == AckMode::Manual && item.channel.status().connected() {
                self.out.record(EventKind::Ack { msg: item.msg });
                let _ = item
                    .channel
                    .basic_ack(item.tag, BasicAckOptions::default())
                    .await;
            }
        }
    }

    /// The application fails on a poison message: it hands it back with
    /// `basic.reject` and `requeue` (manual acks), or crashes
    /// (`poison_action = "crash"`): the process exits holding it and
    /// whatever else it had not acknowledged, and the harness starts it
    /// again at once, as a supervisor would. With `no-ack` the broker
    /// forgot the message when it sent it.
    async fn poisoned(&self, item: &Item) {
        if self.workload.poison_action == PoisonAction::Crash {
            self.out.record(EventKind::Crash { msg: item.msg });
            std::process::exit(CRASHED);
        }
        if self.config.ack == AckMode::Manual && item.channel.status().connected() {
            self.out.record(EventKind::Reject {
                msg: item.msg,
                requeue: true,
            });
            let _ = item
                .channel
                .basic_reject(item.tag, BasicRejectOptions { requeue: true })
                .await;
        }
    }
}

/// The exit code of a consumer whose application crashed on a poison
/// message.
pub const CRASHED: i32 = 3;
