//! A publisher process: sends its share of the workload at the scenario's
//! rate, in the scenario's publish mode, with the model publisher's retry
//! rules (`broker-model/src/queue/publisher.rs`), and reports each
//! message's outcome.
//!
//! - `fire-and-forget`: sent once `basic.publish` returns.
//! - `transaction`: `tx.select`, then per message `basic.publish` and
//!   `tx.commit`, one at a time; sent when the commit returns.
//! - `confirm`: up to `max_outstanding_confirms` publishes await their
//!   `basic.ack` at once; a `basic.nack`, a `basic.return` (`mandatory`),
//!   a closed connection or no confirm within `confirm_timeout_ms` is
//!   followed by another attempt after `retry_backoff_ms`, on the next
//!   node if the connection failed.

use std::sync::Arc;
use std::time::Duration;

use broker_model::queue::{queue_name, PublishMode, QueueConfig};
use broker_model::{EventKind, MsgId, Workload};
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};
use lapin::{BasicProperties, Channel, Confirmation};
use tokio::sync::{Mutex, Semaphore};

use super::emit::Emitter;
use super::link::Link;

/// What a publisher process needs.
pub(crate) struct Publisher {
    pub(crate) index: u32,
    pub(crate) config: QueueConfig,
    pub(crate) workload: Workload,
    pub(crate) link: Link,
    pub(crate) out: Emitter,
    /// The channel of the current connection, set up for the mode.
    channel: Mutex<Option<(u32, Channel)>>,
}

impl Publisher {
    /// Publisher `index` (1-based) of `config` and `workload`.
    pub(crate) fn new(
        index: u32,
        config: QueueConfig,
        workload: Workload,
        link: Link,
        out: Emitter,
    ) -> Self {
        Publisher {
            index,
            config,
            workload,
            link,
            out,
            channel: Mutex::new(None),
        }
    }

    /// Sends messages `from..` of this publisher's share, then returns once
    /// each has an outcome.
    pub(crate) async fn run(self: Arc<Self>, from: u32) {
        let base = self.workload.messages / self.workload.producers;
        let total =
            base + u32::from(self.index <= self.workload.messages % self.workload.producers);
        let interval =
            Duration::from_secs_f64(f64::from(self.workload.producers) / self.workload.rate);
        let window = match self.config.publish_mode {
            PublishMode::Confirm => self.config.max_outstanding_confirms as usize,
            PublishMode::FireAndForget | PublishMode::Transaction => 1,
        };
        let permits = Arc::new(Semaphore::new(window));
        let start = tokio::time::Instant::now();
        for seq in from..total {
            tokio::time::sleep_until(start + interval * (seq - from)).await;
            let permit = Arc::clone(&permits)
                .acquire_owned()
                .await
                .expect("the semaphore is never closed");
            let me = Arc::clone(&self);
            tokio::spawn(async move {
                me.send(MsgId::new(me.index, seq)).await;
                drop(permit);
            });
        }
        let _all = permits.acquire_many(window as u32).await;
    }

    /// Where message `msg` goes: an exchange and a routing key.
    fn target(&self, msg: MsgId) -> (String, String) {
        let topology = &self.config.topology;
        match &topology.exchange {
            None => (String::new(), queue_name(msg.seq % self.config.queues)),
            Some(x) => (
                x.clone(),
                topology.routing_key(u64::from(msg.seq), self.config.queues),
            ),
        }
    }

    /// The channel of the current connection, opened and put in the
    /// publish mode if the connection is new.
    async fn channel(&self) -> Result<(u32, Channel), String> {
        let held = self.link.connection().await?;
        let mut slot = self.channel.lock().await;
        if let Some((generation, ch)) = slot.as_ref() {
            if *generation == held.generation && ch.status().connected() {
                return Ok((*generation, ch.clone()));
            }
        }
        let opened = async {
            let ch = held.connection.create_channel().await?;
            match self.config.publish_mode {
                PublishMode::Confirm => ch.confirm_select(ConfirmSelectOptions::default()).await?,
                PublishMode::Transaction => ch.tx_select().await?,
                PublishMode::FireAndForget => {}
            }
            Ok::<_, lapin::Error>(ch)
        };
        match opened.await {
            Ok(ch) => {
                *slot = Some((held.generation, ch.clone()));
                Ok((held.generation, ch))
            }
            Err(e) => {
                drop(slot);
                self.link.failed(held.generation).await;
                Err(format!("open channel: {e}"))
            }
        }
    }

    /// Publishes `msg` once on `ch`; the attempt's outcome.
    async fn attempt(&self, ch: &Channel, msg: MsgId) -> Attempt {
        let (exchange, key) = self.target(msg);
        let props = BasicProperties::default()
            .with_message_id(msg.to_string().into())
            .with_delivery_mode(if self.config.persistent { 2 } else { 1 });
        let body = vec![b'x'; self.workload.message_bytes as usize];
        let options = BasicPublishOptions {
            mandatory: self.config.topology.mandatory,
            ..BasicPublishOptions::default()
        };
        let published = ch
            .basic_publish(exchange.into(), key.into(), options, &body, props)
            .await;
        let confirm = match published {
            Ok(c) => c,
            Err(e) => return Attempt::FailedBeforeSending(format!("publish: {e}")),
        };
        match self.config.publish_mode {
            PublishMode::FireAndForget => Attempt::Stored,
            PublishMode::Transaction => match ch.tx_commit().await {
                Ok(()) => Attempt::Stored,
                Err(e) => Attempt::FailedAfterSending(format!("tx.commit: {e}")),
            },
            PublishMode::Confirm => {
                match tokio::time::timeout(self.config.confirm_timeout, confirm).await {
                    Ok(Ok(Confirmation::Ack(None))) => Attempt::Stored,
                    Ok(Ok(Confirmation::Ack(Some(_)))) => Attempt::Refused("returned".into()),
                    Ok(Ok(Confirmation::Nack(_))) => Attempt::MaybeStored("nack".into()),
                    Ok(Ok(Confirmation::NotRequested)) => {
                        Attempt::FailedAfterSending("channel not in confirm mode".into())
                    }
                    Ok(Err(e)) => Attempt::FailedAfterSending(format!("confirm: {e}")),
                    Err(_) => Attempt::FailedAfterSending("no confirm in time".into()),
                }
            }
        }
    }

    /// Publishes `msg`, retrying as the mode allows; records its outcome.
    async fn send(&self, msg: MsgId) {
        let (exchange, key) = self.target(msg);
        let dest = if exchange.is_empty() { key } else { exchange };
        self.out.record(EventKind::Send { msg, dest });
        let retries = match self.config.publish_mode {
            PublishMode::FireAndForget => 0,
            PublishMode::Transaction | PublishMode::Confirm => self.config.retries,
        };
        let mut maybe_stored = false;
        let mut last_error = String::new();
        for attempt in 0..=retries {
            if attempt > 0 {
                tokio::time::sleep(self.config.retry_backoff).await;
            }
            let (generation, ch) = match self.channel().await {
                Ok(x) => x,
                Err(e) => {
                    last_error = e;
                    continue;
                }
            };
            match self.attempt(&ch, msg).await {
                Attempt::Stored => {
                    self.out.record(EventKind::SendOk { msg, offset: None });
                    return;
                }
                Attempt::Refused(e) => last_error = e,
                Attempt::MaybeStored(e) => {
                    maybe_stored = true;
                    last_error = e;
                }
                Attempt::FailedBeforeSending(e) => {
                    last_error = e;
                    self.link.failed(generation).await;
                }
                Attempt::FailedAfterSending(e) => {
                    maybe_stored = true;
                    last_error = e;
                    self.link.failed(generation).await;
                }
            }
        }
        self.out
            .record(EventKind::send_gave_up(msg, last_error, maybe_stored));
    }
}

/// What one attempt to publish came to.
enum Attempt {
    /// Confirmed, committed, or (fire-and-forget) written.
    Stored,
    /// Definitely not stored: returned as unroutable.
    Refused(String),
    /// `basic.nack`: the broker may or may not hold it.
    MaybeStored(String),
    /// The connection or channel failed before the publish left: not
    /// stored.
    FailedBeforeSending(String),
    /// The connection or channel failed after the publish left: whether it
    /// was stored is unknown.
    FailedAfterSending(String),
}
