//! A consumer: subscribes to every queue (competing with other consumers),
//! hands deliveries to an application that processes them one at a time,
//! and acknowledges as its mode says.
//!
//! With `ack = "auto"` the broker forgot each message when it sent it, so
//! whatever sits in the consumer's buffer when it crashes is gone. With
//! `ack = "manual"` the consumer acknowledges after processing; what it held
//! unacknowledged goes back to the queue when its connection dies, and is
//! delivered again (possibly twice).
//!
//! A poison message (a share of the workload, `poison`) fails in the
//! application; with manual acknowledgements the consumer hands it back
//! with `basic.reject` and `requeue = true`, and the broker delivers it
//! again, to this consumer or another, for as long as the queue lets it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::clock::now;
use crate::history::{EventKind, MsgId};
use crate::queue::client::Connection;
use crate::queue::config::Context;
use crate::queue::config::{queue_name, AckMode};
use crate::queue::protocol::{Batch, ClientError, ClientOp, ConsumerId, QueueId, Reply};
use crate::queue::runtime::POLL_WAIT;
use crate::workload::application::{Application, Handled, Reading, Received};
use crate::workload::{consumer_host, start, PoisonAction};

/// What the consumer knows of one queue on its current connection.
#[derive(Default)]
struct Channel {
    connection: u32,
    subscription: u32,
    received: u64,
    acked: u64,
    /// The last answer had no delivery and nothing left in the queue.
    drained: bool,
    /// Delivery tags rejected and not yet known to have reached the queue:
    /// sent with every request until an answer shows the queue had them.
    rejected: Vec<u64>,
}

/// A delivery waiting for the application.
struct Item {
    queue: QueueId,
    connection: u32,
    subscription: u32,
    tag: u64,
    msg: MsgId,
    /// It carries `x-death`: a dead-letter exchange routed it here.
    dead_lettered: bool,
}

impl Received for Item {
    fn msg(&self) -> MsgId {
        self.msg
    }

    fn dead_lettered(&self) -> bool {
        self.dead_lettered
    }
}

struct Consumer {
    incarnation: u64,
    conn: Connection,
    channels: RefCell<BTreeMap<QueueId, Channel>>,
    app: Application<Item>,
    /// Told when the application crashed on a poison message.
    crashed: Notify,
}

/// Runs consumer `index` (1-based) until crashed. An application that
/// crashes on a poison message (`poison_action = "crash"`) ends this run
/// of the consumer, with everything it held in memory; the next run starts
/// at once, as a new process with new connections.
pub(crate) async fn run(ctx: Context, index: u32) -> turmoil::Result {
    let host = consumer_host(index);
    let (endpoint, _requests) = start(&ctx.processes, &host).await?;
    let first = index % ctx.config.nodes + 1;
    let queues = ctx.config.queues;
    loop {
        let app = Application::new(
            host.clone(),
            &ctx.history,
            &ctx.observer,
            ctx.workload.processing_time,
        )
        .with_poison(ctx.workload.poison);
        let consumer = Rc::new(Consumer {
            incarnation: now().as_micros() as u64,
            conn: Connection::new(Rc::clone(&endpoint), ctx.clone(), first),
            channels: RefCell::new((0..queues).map(|q| (q, Channel::default())).collect()),
            app,
            crashed: Notify::new(),
        });
        consumer.publish();
        let readers: Vec<_> = (0..queues)
            .map(|q| tokio::task::spawn_local(Rc::clone(&consumer).consume(q)))
            .collect();
        tokio::select! {
            biased;
            () = consumer.process() => {}
            () = consumer.crashed.notified() => {}
        }
        for reader in readers {
            reader.abort();
        }
    }
}

impl Consumer {
    fn ctx(&self) -> &Context {
        &self.conn.ctx
    }

    fn drained(&self) -> bool {
        self.channels.borrow().values().all(|c| c.drained)
    }

    /// How far the consumer's reads have got: what waits in a queue is the
    /// queue's to report, so a queue consumer has no lag of its own.
    fn reading(&self) -> Reading {
        Reading {
            read_all: self.drained(),
            lag: 0,
        }
    }

    fn publish(&self) {
        self.app.publish(self.reading());
    }

    fn id(&self, connection: u32, subscription: u32) -> ConsumerId {
        ConsumerId {
            host: self.app.host().to_string(),
            incarnation: self.incarnation,
            connection,
            subscription,
        }
    }

    /// Asks for deliveries from queue `q` for as long as the consumer runs,
    /// carrying what it received and acknowledged.
    async fn consume(self: Rc<Self>, q: QueueId) {
        let config = Rc::clone(&self.ctx().config);
        let timeout = POLL_WAIT + Duration::from_millis(500);
        loop {
            let number = self.conn.number();
            let (subscription, received, acked, rejected) = {
                let mut channels = self.channels.borrow_mut();
                let c = channels.get_mut(&q).expect("one channel per queue");
                if c.connection != number {
                    *c = Channel {
                        connection: number,
                        subscription: 1,
                        ..Channel::default()
                    };
                }
                (c.subscription, c.received, c.acked, c.rejected.clone())
            };
            let op = ClientOp::Consume {
                queue: q,
                consumer: self.id(number, subscription),
                ack: config.ack,
                prefetch: config.prefetch,
                received,
                acked,
                rejected: rejected.clone(),
            };
            match self.conn.call(op, timeout).await {
                Ok(Reply::Consume(Ok(batch))) => {
                    if self.conn.number() == number {
                        self.rejects_arrived(q, subscription, &rejected);
                        self.deliver(q, (number, subscription), received, batch);
                    }
                }
                Ok(Reply::Consume(Err(ClientError::Cancelled))) => {
                    self.resubscribe(q, subscription)
                }
                Ok(Reply::Consume(Err(e))) => {
                    self.not_drained(q);
                    if e == ClientError::Unavailable {
                        self.conn.reconnect(number);
                    }
                    tokio::time::sleep(config.retry_backoff).await;
                }
                _ => {
                    // No answer: the connection is taken for dead.
                    self.not_drained(q);
                    self.conn.reconnect(number);
                    tokio::time::sleep(config.retry_backoff).await;
                }
            }
        }
    }

    /// Subscribes again after the queue cancelled subscription `old`.
    fn resubscribe(&self, q: QueueId, old: u32) {
        if let Some(c) = self.channels.borrow_mut().get_mut(&q) {
            if c.subscription == old {
                c.subscription += 1;
                c.received = 0;
                c.acked = 0;
                c.drained = false;
            }
        }
        self.publish();
    }

    fn not_drained(&self, q: QueueId) {
        if let Some(c) = self.channels.borrow_mut().get_mut(&q) {
            c.drained = false;
        }
        self.publish();
    }

    fn deliver(
        &self,
        q: QueueId,
        (connection, subscription): (u32, u32),
        received: u64,
        batch: Batch,
    ) {
        {
            let mut channels = self.channels.borrow_mut();
            let c = channels.get_mut(&q).expect("one channel per queue");
            if c.connection != connection
                || c.subscription != subscription
                || c.received != received
            {
                return;
            }
            let dest = queue_name(q);
            // A batch holds, in order, every delivery of this subscription
            // the queue still has out beyond `received`. Tags may skip: a
            // quorum queue's new leader delivers again what was unsettled,
            // and a settlement made under the previous leader, applied
            // later, takes the message back out of this consumer's window
            // before it arrived. AMQP delivery tags rise on a channel; they
            // need not be consecutive.
            for d in &batch.deliveries {
                if d.tag <= c.received {
                    continue;
                }
                c.received = d.tag;
                self.ctx().history.record(
                    self.app.host(),
                    EventKind::Receive {
                        msg: d.msg,
                        dest: dest.clone(),
                        offset: None,
                        redelivered: d.redelivered,
                    },
                );
                self.app.push(Item {
                    queue: q,
                    connection,
                    subscription,
                    tag: d.tag,
                    msg: d.msg,
                    dead_lettered: d.dead_letter.is_some(),
                });
            }
            c.drained = batch.deliveries.is_empty() && batch.remaining == 0;
        }
        self.publish();
        self.app.notify();
    }

    /// The application: processes deliveries one at a time and, with manual
    /// acknowledgements, acknowledges each after processing it.
    async fn process(&self) {
        let manual = self.ctx().config.ack == AckMode::Manual;
        let crash = self.ctx().workload.poison_action == PoisonAction::Crash;
        self.app
            .process(
                || self.reading(),
                |item, handled| async move {
                    match (manual, handled) {
                        (_, Handled::Poisoned) if crash => self.crash(&item).await,
                        (true, Handled::Processed) => self.ack(&item).await,
                        (true, Handled::Poisoned) => self.reject(&item).await,
                        // With automatic acknowledgements the broker forgot
                        // the message when it sent it: a poison message is
                        // simply never processed.
                        (false, _) => {}
                    }
                },
            )
            .await;
    }

    /// Acknowledges `item` (and every earlier delivery of its channel),
    /// unless its connection is gone: a delivery tag means nothing on a new
    /// connection, and the broker will deliver the message again.
    async fn ack(&self, item: &Item) {
        let Some((upto, rejected)) = self.settle(item, Settlement::Ack) else {
            return;
        };
        self.ctx()
            .history
            .record(self.app.host(), EventKind::Ack { msg: item.msg });
        self.send_settlement(item, upto, rejected).await;
    }

    /// The application crashes on `item`: this run of the consumer ends
    /// holding it, unacknowledged, and never goes on.
    async fn crash(&self, item: &Item) {
        self.ctx()
            .history
            .record(self.app.host(), EventKind::Crash { msg: item.msg });
        self.crashed.notify_one();
        std::future::pending::<()>().await;
    }

    /// Hands `item` back with `basic.reject` and `requeue = true`, unless
    /// its connection is gone (the broker requeues it anyway then).
    async fn reject(&self, item: &Item) {
        let Some((upto, rejected)) = self.settle(item, Settlement::Reject) else {
            return;
        };
        self.ctx().history.record(
            self.app.host(),
            EventKind::Reject {
                msg: item.msg,
                requeue: true,
            },
        );
        self.send_settlement(item, upto, rejected).await;
    }

    /// Notes the settlement of `item` on its channel; returns what to send
    /// (the acknowledged tag and the rejections not yet known to have
    /// arrived), or `None` when its connection is gone.
    fn settle(&self, item: &Item, how: Settlement) -> Option<(u64, Vec<u64>)> {
        let mut channels = self.channels.borrow_mut();
        let c = channels
            .get_mut(&item.queue)
            .expect("one channel per queue");
        let live = c.connection == item.connection
            && c.subscription == item.subscription
            && self.conn.number() == item.connection;
        if !live {
            return None;
        }
        match how {
            Settlement::Ack => c.acked = c.acked.max(item.tag),
            Settlement::Reject => c.rejected.push(item.tag),
        }
        Some((c.acked, c.rejected.clone()))
    }

    async fn send_settlement(&self, item: &Item, upto: u64, rejected: Vec<u64>) {
        let op = ClientOp::Ack {
            queue: item.queue,
            consumer: self.id(item.connection, item.subscription),
            upto,
            rejected,
        };
        let _ = self.conn.cast(op).await;
    }

    /// Forgets the rejections a request carried once the queue answered
    /// it: it applied them before anything else in the request.
    fn rejects_arrived(&self, q: QueueId, subscription: u32, sent: &[u64]) {
        if sent.is_empty() {
            return;
        }
        if let Some(c) = self.channels.borrow_mut().get_mut(&q) {
            if c.subscription == subscription {
                c.rejected.retain(|t| !sent.contains(t));
            }
        }
    }
}

/// How the application settles a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Settlement {
    /// `basic.ack`: processed.
    Ack,
    /// `basic.reject` with `requeue`: a poison message.
    Reject,
}
