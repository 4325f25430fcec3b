//! What a queue replica runs on: the node's process, and the handle the
//! broker application gives each of its queues.
//!
//! RabbitMQ runs queues as Erlang processes inside a node's VM. The VM (its
//! distribution links, its ticks, its view of the cluster) outlives the
//! broker application, which partition handling stops and restarts; the
//! application's queues, and every task they started, live only as long as
//! one run of it. [`Process`] is the first, [`Io`] one run of the second as
//! a queue sees it: the socket, the history, the observer, the disk, the
//! notification that something changed, and a place to run tasks that end
//! with the run.

use std::cell::{Ref, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinSet;

use crate::deploy::HostContext;
use crate::history::{DropReason, EventKind};
use crate::observe::ReplicaView;
use crate::queue::cluster::Cluster;
use crate::queue::config::{node_host, queue_name, QueueConfig};
use crate::queue::dead_lettering::{DeadLetterStrategy, DeadLetters};
use crate::queue::exchange::Routed;
use crate::queue::fifo::Dropped;
use crate::queue::limits::Policy;
use crate::queue::protocol::{
    ClientError, ClientOp, Incarnation, Location, Message, NodeId, QueueId, Reply, Request, Stored,
};
use crate::queue::store::Store;
use crate::wire::Endpoint;

/// How long a master holds a consumer request that finds nothing to deliver.
pub(crate) const POLL_WAIT: Duration = Duration::from_millis(100);

/// How long a master holds a mirror's request that finds no new change.
pub(crate) const MIRROR_WAIT: Duration = Duration::from_millis(100);

/// A publish with publisher confirms that a quorum queue's dead-letter
/// worker asks of its node (`dead-letter-strategy = at-least-once`): the
/// node routes it as a channel would, and says whether the target queue
/// confirmed it.
pub(crate) struct ConfirmedPublish {
    /// The `basic.publish`, with `reply`.
    pub(crate) op: ClientOp,
    /// Told whether the target confirmed it (`basic.ack`) or not (a
    /// `basic.nack`, a refusal, no leader, no answer in time).
    pub(crate) confirmed: oneshot::Sender<bool>,
}

/// What lives as long as the node's process (the Erlang VM): its socket and
/// its view of the cluster.
pub(crate) struct Process {
    /// The host name.
    pub(crate) host: String,
    /// The node id.
    pub(crate) id: NodeId,
    /// The cluster context.
    pub(crate) ctx: HostContext<QueueConfig>,
    /// The socket.
    pub(crate) endpoint: Rc<Endpoint<Request, Reply>>,
    /// This process run.
    pub(crate) vm: u64,
    /// Who is up.
    pub(crate) cluster: RefCell<Cluster>,
    /// Woken when a peer goes down, comes up, restarts or changes state.
    pub(crate) cluster_changed: Notify,
}

/// One run of the broker application, as the queues it hosts see it.
pub(crate) struct Io {
    process: Rc<Process>,
    /// This run.
    pub(crate) incarnation: Incarnation,
    /// The disk.
    pub(crate) store: RefCell<Store>,
    /// Woken whenever a queue changes: long-polls and confirms wait on it.
    pub(crate) changed: Notify,
    tasks: RefCell<Option<JoinSet<()>>>,
    /// Where queues hand what they dead-letter, when a dead-letter
    /// exchange is set.
    dead_letters: RefCell<Option<mpsc::UnboundedSender<DeadLetters>>>,
    /// Where quorum queues' dead-letter workers hand the publishes they
    /// want confirmed, with at-least-once dead-lettering.
    confirmed_publishes: RefCell<Option<mpsc::UnboundedSender<ConfirmedPublish>>>,
}

impl Io {
    /// A new run of the application in `process`, with what its disk holds.
    pub(crate) fn new(process: Rc<Process>, incarnation: Incarnation, store: Store) -> Self {
        Io {
            process,
            incarnation,
            store: RefCell::new(store),
            changed: Notify::new(),
            tasks: RefCell::new(Some(JoinSet::new())),
            dead_letters: RefCell::new(None),
            confirmed_publishes: RefCell::new(None),
        }
    }

    /// Opens the way dead letters leave this run's queues, when the
    /// policy dead-letters anything; the receiver republishes them.
    pub(crate) fn open_dead_letters(&self) -> Option<mpsc::UnboundedReceiver<DeadLetters>> {
        let policy = &self.config().dead_lettering;
        policy.exchange.as_ref()?;
        if policy.strategy == DeadLetterStrategy::AtLeastOnce {
            return None;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        *self.dead_letters.borrow_mut() = Some(tx);
        Some(rx)
    }

    /// Opens the way quorum queues' dead-letter workers publish with
    /// confirms, under at-least-once dead-lettering; the receiver routes
    /// the publishes.
    pub(crate) fn open_confirmed_publishes(
        &self,
    ) -> Option<mpsc::UnboundedReceiver<ConfirmedPublish>> {
        let policy = &self.config().dead_lettering;
        policy.exchange.as_ref()?;
        if policy.strategy != DeadLetterStrategy::AtLeastOnce {
            return None;
        }
        let (tx, rx) = mpsc::unbounded_channel();
        *self.confirmed_publishes.borrow_mut() = Some(tx);
        Some(rx)
    }

    /// Publishes `message` to `queue` with a publisher confirm, through
    /// this node; the answer says whether the queue confirmed it.
    pub(crate) fn publish_confirmed(
        &self,
        queue: QueueId,
        message: Message,
    ) -> Option<oneshot::Receiver<bool>> {
        let sender = self.confirmed_publishes.borrow();
        let (tx, rx) = oneshot::channel();
        let op = ClientOp::Publish {
            queue,
            message,
            reply: true,
            mandatory: false,
        };
        sender
            .as_ref()?
            .send(ConfirmedPublish { op, confirmed: tx })
            .ok()?;
        Some(rx)
    }

    /// Records that queue `q` dead-lettered `removed` for `reason` to its
    /// dead-letter exchange.
    pub(crate) fn record_dead_lettered(
        &self,
        q: QueueId,
        reason: DropReason,
        removed: &[(u64, Stored)],
    ) {
        let Some(exchange) = &self.config().dead_lettering.exchange else {
            return;
        };
        if removed.is_empty() {
            return;
        }
        self.record(EventKind::DeadLettered {
            dest: queue_name(q),
            to: exchange.clone(),
            reason,
            msgs: removed.iter().map(|(_, s)| s.msg).collect(),
        });
    }

    /// Disposes of messages queue `q` removed for `reason`: dead-letters
    /// them if its policy says so, else records them dropped.
    pub(crate) fn dispose(&self, q: QueueId, reason: DropReason, removed: &[(u64, Stored)]) {
        let policy = &self.config().dead_lettering;
        let sender = self.dead_letters.borrow();
        let (Some(sender), true) = (sender.as_ref(), policy.takes(reason)) else {
            return self.record_drop(q, reason, removed);
        };
        if removed.is_empty() {
            return;
        }
        self.record_dead_lettered(q, reason, removed);
        let messages = removed.iter().map(|(_, s)| s.message()).collect();
        let _ = sender.send(DeadLetters {
            from: q,
            reason,
            messages,
        });
    }

    /// Runs `task` for as long as this application runs.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + 'static) {
        let mut tasks = self.tasks.borrow_mut();
        let Some(set) = tasks.as_mut() else {
            return;
        };
        while let Some(done) = set.try_join_next() {
            if let Err(e) = done {
                if e.is_panic() {
                    std::panic::resume_unwind(e.into_panic());
                }
            }
        }
        set.spawn_local(task);
    }

    /// Ends every task of this run; what it held in memory is gone.
    pub(crate) fn stop(&self) {
        let tasks = self.tasks.borrow_mut().take();
        drop(tasks);
        self.process.ctx.observer.forget_host(&self.process.host);
    }

    /// The configuration.
    pub(crate) fn config(&self) -> &QueueConfig {
        &self.process.ctx.config
    }

    /// The queues' length limits and time-to-live, for the workload's
    /// message size.
    pub(crate) fn policy(&self) -> Policy {
        Policy::new(
            &self.config().limits,
            self.process.ctx.workload.message_bytes,
        )
    }

    /// Where the exchanges send a message published to `exchange` with
    /// `key`, by the cluster's bindings as they stand now.
    pub(crate) fn routes(&self, exchange: &str, key: &str) -> Routed {
        let config = self.config();
        let unbound = &self.process.ctx.unbound;
        config
            .topology
            .route(exchange, key, config.queues, |b| unbound.is_bound(b))
    }

    /// This node's id.
    pub(crate) fn me(&self) -> NodeId {
        self.process.id
    }

    /// Every other node.
    pub(crate) fn peers(&self) -> Vec<NodeId> {
        self.process.cluster.borrow().peers()
    }

    /// Who is up, as this node's process sees it.
    pub(crate) fn cluster(&self) -> Ref<'_, Cluster> {
        self.process.cluster.borrow()
    }

    /// Woken when the process's view of the cluster changes.
    pub(crate) fn cluster_changed(&self) -> &Notify {
        &self.process.cluster_changed
    }

    /// The node's socket.
    pub(crate) fn endpoint(&self) -> &Endpoint<Request, Reply> {
        &self.process.endpoint
    }

    /// Records an event seen by this node.
    pub(crate) fn record(&self, kind: EventKind) {
        self.process.ctx.history.record(&self.process.host, kind);
    }

    /// Shows the harness this node's view of its replica of queue `q`.
    pub(crate) fn report(&self, q: QueueId, view: ReplicaView) {
        self.process
            .ctx
            .observer
            .replica(&queue_name(q), &self.process.host, view);
    }

    /// Tells every other node where queue `q`'s master or leader now is.
    pub(crate) fn announce(self: &Rc<Self>, q: QueueId, location: Location) {
        for peer in self.peers() {
            let io = Rc::clone(self);
            self.spawn(async move {
                let timeout = io.config().net_ticktime / 2;
                for _ in 0..3 {
                    let req = Request::Announce { queue: q, location };
                    let sent = io.endpoint().call(&node_host(peer), req, timeout).await;
                    if sent.is_ok() || io.cluster().known_lost(peer, None) {
                        return;
                    }
                }
            });
        }
    }

    /// Waits up to `confirm_timeout` for `verdict` to confirm a message
    /// (`Ok`) or give up on it (`Err` with the reason), asking again
    /// whenever a queue changes. Giving up, or running out of time, leaves
    /// the outcome unknown to the publisher: a nack.
    pub(crate) async fn confirm_when(
        &self,
        late: &str,
        mut verdict: impl FnMut() -> Option<Result<(), &'static str>>,
    ) -> Result<(), ClientError> {
        let deadline = tokio::time::Instant::now() + self.config().confirm_timeout;
        loop {
            let notified = self.changed.notified();
            if let Some(v) = verdict() {
                return v.map_err(|why| ClientError::Nack(why.into()));
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(ClientError::Nack(late.into()));
            }
        }
    }

    /// Records that this node dropped `dropped` from queue `q` because of
    /// `reason`.
    pub(crate) fn record_drop(&self, q: QueueId, reason: DropReason, dropped: &[(u64, Stored)]) {
        if dropped.is_empty() {
            return;
        }
        self.record(EventKind::Drop {
            dest: queue_name(q),
            reason,
            msgs: dropped.iter().map(|(_, s)| s.msg).collect(),
        });
    }

    /// Records what became of closed consumer connections' deliveries.
    pub(crate) fn record_dropped(&self, q: QueueId, dropped: &[Dropped]) {
        for d in dropped {
            if !d.requeued.is_empty() {
                self.record(EventKind::Requeue {
                    dest: queue_name(q),
                    consumer: d.consumer.host.clone(),
                    msgs: d.requeued.clone(),
                });
            }
            if !d.lost_in_flight.is_empty() {
                self.record(EventKind::Discard {
                    dest: queue_name(q),
                    reason: format!(
                        "auto-ack deliveries to {}'s closed connection, never confirmed received",
                        d.consumer.host
                    ),
                    msgs: d.lost_in_flight.clone(),
                });
            }
        }
    }
}
