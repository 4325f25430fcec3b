//! A node of the queue cluster: one process that ticks its peers and runs
//! the broker application, and the application itself, which hosts queue
//! masters, mirrors and Raft members and routes client operations.
//!
//! The two are kept apart because RabbitMQ's partition handling stops and
//! restarts the *application* while the Erlang process, its distribution
//! links and its ticks carry on: a paused node still sees the cluster, which
//! is how it knows when to resume. A process crash or power loss ends both.
//! Stopping the application drops every queue it held in memory; only the
//! disk survives into the next start.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use tokio::sync::{mpsc, Notify};
use tokio::task::JoinSet;

use crate::clock::now;
use crate::history::EventKind;
use crate::queue::cluster::{Cluster, Heard};
use crate::queue::config::{node_host, queue_name, PartitionHandling, QueueType};
use crate::queue::delivery::Subscription;
use crate::queue::mirrored::MirroredState;
use crate::queue::protocol::{
    ClientError, ClientOp, Incarnation, Location, NodeId, NodeStatus, QueueId, Reply, Request, Tick,
};
use crate::queue::quorum::QuorumState;
use crate::queue::store::Store;
use crate::queue::Context;
use crate::wire::{Endpoint, Incoming};

/// How long a master holds a consumer request that finds nothing to deliver.
pub const POLL_WAIT: Duration = Duration::from_millis(100);

/// How long a master holds a mirror's request that finds no new change.
pub const MIRROR_WAIT: Duration = Duration::from_millis(100);

/// What lives as long as the node's process: its socket and its view of the
/// cluster.
pub struct Net {
    /// The host name.
    pub host: String,
    /// The node id.
    pub id: NodeId,
    /// The cluster context.
    pub ctx: Context,
    /// The socket.
    pub endpoint: Rc<Endpoint<Request, Reply>>,
    /// This process run.
    pub vm: u64,
    /// Who is up.
    pub cluster: RefCell<Cluster>,
    /// Woken when a peer goes down, comes up, restarts or changes state.
    pub cluster_changed: Notify,
}

struct Node {
    net: Rc<Net>,
    app: RefCell<Option<Rc<App>>>,
    starts: Cell<u32>,
    paused: Cell<bool>,
}

/// One run of the broker application on a node.
pub struct App {
    /// The process it runs in.
    pub net: Rc<Net>,
    /// This run.
    pub incarnation: Incarnation,
    /// The disk.
    pub store: RefCell<Store>,
    /// Every queue, as this node holds it.
    pub queues: BTreeMap<QueueId, QueueRt>,
    /// Woken whenever a queue changes: long-polls and confirms wait on it.
    pub changed: Notify,
    tasks: RefCell<Option<JoinSet<()>>>,
}

/// A queue on one node.
pub enum QueueRt {
    /// A classic queue, mirrored or not.
    Mirrored(RefCell<MirroredState>),
    /// A quorum queue.
    Quorum(RefCell<QuorumState>),
}

/// Runs node `id` until the host is crashed.
pub async fn run(ctx: Context, id: NodeId) -> turmoil::Result {
    let host = node_host(id);
    ctx.processes.wait_until_started(&host).await;
    let started = now();
    let (endpoint, incoming) = Endpoint::bind().await?;
    let cluster = Cluster::new(id, ctx.config.nodes, ctx.config.net_ticktime, started);
    let net = Rc::new(Net {
        host,
        id,
        ctx,
        endpoint,
        vm: started.as_micros() as u64,
        cluster: RefCell::new(cluster),
        cluster_changed: Notify::new(),
    });
    let node = Rc::new(Node {
        net,
        app: RefCell::new(None),
        starts: Cell::new(0),
        paused: Cell::new(false),
    });
    node.start_app(None);
    tokio::task::spawn_local(Rc::clone(&node).tick());
    node.serve(incoming).await;
    Ok(())
}

impl Node {
    fn incarnation(&self) -> Incarnation {
        Incarnation {
            vm: self.net.vm,
            app: self.starts.get(),
        }
    }

    fn start_app(&self, trusted: Option<BTreeSet<NodeId>>) {
        self.starts.set(self.starts.get() + 1);
        self.paused.set(false);
        let app = App::start(Rc::clone(&self.net), self.incarnation(), trusted);
        *self.app.borrow_mut() = Some(app);
    }

    /// Stops the application. An orderly stop tells the mirrors of every
    /// queue it masters, so they apply `ha-promote-on-shutdown`.
    async fn stop_app(&self) {
        let Some(app) = self.app.borrow_mut().take() else {
            return;
        };
        let notices = app.shutdown_notices();
        app.stop();
        for (peer, req) in notices {
            let _ = self.net.endpoint.cast(&node_host(peer), req).await;
        }
    }

    async fn serve(self: Rc<Self>, mut incoming: mpsc::UnboundedReceiver<Incoming<Request>>) {
        while let Some(Incoming { from, id, body }) = incoming.recv().await {
            if let Request::Tick(t) = body {
                self.on_tick(&t);
                continue;
            }
            let app = self.app.borrow().clone();
            match app {
                Some(app) => {
                    let a = Rc::clone(&app);
                    app.spawn(async move { a.handle(from, id, body).await });
                }
                None => {
                    if let Some(reply) = refusal(&body) {
                        self.net.endpoint.reply(from, id, reply).await;
                    }
                }
            }
        }
    }

    fn on_tick(&self, tick: &Tick) {
        let heard = self.net.cluster.borrow_mut().heard(tick, now());
        if heard != Heard::Nothing {
            self.net.cluster_changed.notify_waiters();
        }
    }

    /// Ticks every peer a quarter of `net_ticktime` apart, marks silent
    /// peers down, and applies the partition handling mode. The mode is
    /// applied before queues learn of the peers that went down, so a node
    /// that pauses never acts alone on what it can no longer replicate.
    async fn tick(self: Rc<Self>) {
        let config = Rc::clone(&self.net.ctx.config);
        let every = config.net_ticktime / 4;
        let peers = self.net.cluster.borrow().peers();
        loop {
            let tick = Tick {
                node: self.net.id,
                incarnation: self.incarnation(),
                running: self.app.borrow().is_some(),
            };
            for p in &peers {
                let _ = self
                    .net
                    .endpoint
                    .cast(&node_host(*p), Request::Tick(tick))
                    .await;
            }
            let down = self.net.cluster.borrow_mut().expire(now());
            match config.partition_handling {
                PartitionHandling::Ignore => {}
                PartitionHandling::PauseMinority => self.pause_minority().await,
                PartitionHandling::Autoheal => self.autoheal().await,
            }
            if !down.is_empty() {
                self.net.cluster_changed.notify_waiters();
            }
            tokio::time::sleep(every).await;
        }
    }

    fn visible(&self) -> Vec<String> {
        let cluster = self.net.cluster.borrow();
        (1..=self.net.ctx.config.nodes)
            .filter(|n| cluster.is_up(*n))
            .map(node_host)
            .collect()
    }

    async fn pause_minority(&self) {
        let majority = self.net.cluster.borrow().sees_majority(now());
        let running = self.app.borrow().is_some();
        if running && !majority {
            self.net.ctx.history.record(
                &self.net.host,
                EventKind::Pause {
                    visible: self.visible(),
                },
            );
            self.stop_app().await;
            self.paused.set(true);
        } else if !running && majority && self.paused.get() {
            self.net.ctx.history.record(
                &self.net.host,
                EventKind::Resume {
                    visible: self.visible(),
                },
            );
            self.start_app(None);
        }
    }

    async fn autoheal(&self) {
        if self.net.cluster.borrow().autoheal_verdict() != Some(true) {
            return;
        }
        let winners = {
            let mut cluster = self.net.cluster.borrow_mut();
            let w = cluster.partitioned().clone();
            cluster.clear_partitions();
            w
        };
        self.net.ctx.history.record(
            &self.net.host,
            EventKind::Autoheal {
                winners: winners.iter().copied().map(node_host).collect(),
            },
        );
        self.stop_app().await;
        self.start_app(Some(winners));
    }
}

/// What a node whose application is not running answers: clients are
/// refused (they reconnect elsewhere), peers learn it is not running, and
/// replication requests go unanswered.
fn refusal(body: &Request) -> Option<Reply> {
    match body {
        Request::Client(op) | Request::Routed(op) => error_reply(op, ClientError::Unavailable),
        Request::Status => Some(Reply::Status(NodeStatus {
            running: false,
            queues: Vec::new(),
        })),
        _ => None,
    }
}

/// The reply carrying `error` for `op`, if `op` expects one.
pub fn error_reply(op: &ClientOp, error: ClientError) -> Option<Reply> {
    match op {
        ClientOp::Publish { reply: true, .. } => Some(Reply::Publish(Err(error))),
        ClientOp::Consume { .. } => Some(Reply::Consume(Err(error))),
        ClientOp::Publish { reply: false, .. } | ClientOp::Ack { .. } => None,
    }
}

fn reply_error(reply: &Reply) -> Option<&ClientError> {
    match reply {
        Reply::Publish(Err(e)) | Reply::Consume(Err(e)) => Some(e),
        _ => None,
    }
}

impl App {
    fn start(net: Rc<Net>, incarnation: Incarnation, trusted: Option<BTreeSet<NodeId>>) -> Rc<App> {
        let ctx = &net.ctx;
        let (store, mut recovered) =
            Store::open(&net.host, ctx.history.clone(), ctx.observer.clone())
                .expect("the simulated disk is readable");
        ctx.history.record(
            &net.host,
            EventKind::Recover {
                entries: recovered.entries,
                msgs: recovered.msgs(),
            },
        );
        let config = Rc::clone(&ctx.config);
        let queues = (0..config.queues)
            .map(|q| {
                let rt = match config.queue_type {
                    QueueType::Classic | QueueType::Mirrored => {
                        QueueRt::Mirrored(RefCell::new(MirroredState::new(
                            &config,
                            net.id,
                            q,
                            recovered.messages.remove(&q).unwrap_or_default(),
                            recovered.records.get(&q).copied(),
                        )))
                    }
                    QueueType::Quorum => QueueRt::Quorum(RefCell::new(QuorumState::new(
                        &config,
                        net.id,
                        q,
                        recovered.logs.remove(&q).unwrap_or_default(),
                        recovered.votes.get(&q).copied(),
                    ))),
                };
                (q, rt)
            })
            .collect();
        let app = Rc::new(App {
            net,
            incarnation,
            store: RefCell::new(store),
            queues,
            changed: Notify::new(),
            tasks: RefCell::new(Some(JoinSet::new())),
        });
        for q in 0..config.queues {
            match &app.queues[&q] {
                QueueRt::Mirrored(_) => app.start_mirrored(q, trusted.clone()),
                QueueRt::Quorum(_) => app.start_quorum(q),
            }
        }
        app
    }

    /// Runs `task` for as long as this application runs.
    pub fn spawn(&self, task: impl Future<Output = ()> + 'static) {
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
    fn stop(&self) {
        let tasks = self.tasks.borrow_mut().take();
        drop(tasks);
        self.net.ctx.observer.forget_host(&self.net.host);
    }

    /// Whether this run has been stopped.
    pub fn stopped(&self) -> bool {
        self.tasks.borrow().is_none()
    }

    /// The configuration.
    pub fn config(&self) -> &super::QueueConfig {
        &self.net.ctx.config
    }

    /// This node's id.
    pub fn me(&self) -> NodeId {
        self.net.id
    }

    /// Records an event seen by this node.
    pub fn record(&self, kind: EventKind) {
        self.net.ctx.history.record(&self.net.host, kind);
    }

    /// Every other node.
    pub fn peers(&self) -> Vec<NodeId> {
        self.net.cluster.borrow().peers()
    }

    /// Tells every other node where queue `q`'s master or leader now is.
    pub fn announce(self: &Rc<Self>, q: QueueId, location: Location) {
        for peer in self.peers() {
            let app = Rc::clone(self);
            self.spawn(async move {
                let timeout = app.config().net_ticktime / 2;
                for _ in 0..3 {
                    let req = Request::Announce { queue: q, location };
                    let sent = app.net.endpoint.call(&node_host(peer), req, timeout).await;
                    if sent.is_ok() || app.net.cluster.borrow().known_lost(peer, None) {
                        return;
                    }
                }
            });
        }
    }

    async fn handle(self: Rc<Self>, from: std::net::SocketAddr, id: Option<u64>, body: Request) {
        let reply = match body {
            Request::Client(op) => self.route(op).await,
            Request::Routed(op) => self.serve(op).await,
            Request::Status => Some(Reply::Status(self.status())),
            Request::Announce { queue, location } => {
                self.learn(queue, location);
                Some(Reply::Announced)
            }
            Request::Shutdown { queue, location } => {
                self.master_stopping(queue, location);
                None
            }
            Request::MirrorFetch(f) => self.mirror_fetch(f).await.map(Reply::MirrorFetch),
            Request::Append(a) => self.raft_append(a).map(Reply::Append),
            Request::Vote(v) => self.raft_vote(v).map(Reply::Vote),
            Request::Tick(_) => None,
        };
        if let Some(reply) = reply {
            self.net.endpoint.reply(from, id, reply).await;
        }
    }

    /// Where queue `q`'s master or leader is, as this node knows. A node
    /// that knows no Raft leader (it is not a member and restarted after
    /// the last election, say) asks a live member, which redirects it.
    fn master_of(&self, q: QueueId) -> Option<Location> {
        match self.queues.get(&q)? {
            QueueRt::Mirrored(s) => s.borrow().location(),
            QueueRt::Quorum(s) => s.borrow().location().or_else(|| {
                let cluster = self.net.cluster.borrow();
                self.config()
                    .members(q)
                    .into_iter()
                    .find(|m| *m != self.me() && !cluster.known_lost(*m, None))
                    .map(|node| Location {
                        epoch: 0,
                        node,
                        incarnation: None,
                    })
            }),
        }
    }

    /// Takes in news of where queue `q`'s master or leader is.
    pub fn learn(self: &Rc<Self>, q: QueueId, location: Location) {
        match self.queues.get(&q) {
            Some(QueueRt::Mirrored(_)) => self.mirrored_learn(q, location),
            Some(QueueRt::Quorum(_)) => self.quorum_learn(q, location),
            None => {}
        }
    }

    fn master_stopping(&self, q: QueueId, location: Location) {
        if let Some(QueueRt::Mirrored(s)) = self.queues.get(&q) {
            s.borrow_mut().master_stopping(location);
        }
    }

    fn shutdown_notices(&self) -> Vec<(NodeId, Request)> {
        let mut notices = Vec::new();
        for (q, rt) in &self.queues {
            if let QueueRt::Mirrored(s) = rt {
                for (peer, location) in s.borrow().mirror_nodes() {
                    notices.push((
                        peer,
                        Request::Shutdown {
                            queue: *q,
                            location,
                        },
                    ));
                }
            }
        }
        notices
    }

    fn status(&self) -> NodeStatus {
        let queues = self
            .queues
            .iter()
            .filter_map(|(q, rt)| match rt {
                QueueRt::Mirrored(s) if self.config().queue_type == QueueType::Mirrored => {
                    Some((*q, self.mirrored_status(&s.borrow())))
                }
                _ => None,
            })
            .collect();
        NodeStatus {
            running: true,
            queues,
        }
    }

    /// Serves a client operation: here if this node is the queue's master
    /// or leader, otherwise by passing it on to the node that is, as a
    /// RabbitMQ channel sends to a queue process on another node.
    async fn route(self: &Rc<Self>, op: ClientOp) -> Option<Reply> {
        let q = op.queue();
        let mut redirects = 0;
        loop {
            let Some(location) = self.master_of(q) else {
                return error_reply(&op, ClientError::NoMaster);
            };
            if location.node == self.me() {
                let reply = self.serve(op.clone()).await;
                return match reply.as_ref().and_then(reply_error) {
                    Some(ClientError::NotMaster(_)) => error_reply(&op, ClientError::NoMaster),
                    _ => reply,
                };
            }
            if self.net.cluster.borrow().known_lost(location.node, None) {
                return error_reply(&op, ClientError::NoMaster);
            }
            let target = node_host(location.node);
            let timeout = match &op {
                ClientOp::Publish { reply: true, .. } => self.config().confirm_timeout * 9 / 10,
                ClientOp::Consume { .. } => POLL_WAIT + Duration::from_millis(300),
                ClientOp::Publish { reply: false, .. } | ClientOp::Ack { .. } => {
                    let _ = self.net.endpoint.cast(&target, Request::Routed(op)).await;
                    return None;
                }
            };
            let reply = self
                .net
                .endpoint
                .call(&target, Request::Routed(op.clone()), timeout)
                .await;
            let Ok(reply) = reply else {
                return error_reply(
                    &op,
                    ClientError::Nack(format!("{} did not answer", queue_name(q))),
                );
            };
            match reply_error(&reply) {
                Some(ClientError::NotMaster(Some(newer)))
                    if newer.newer_than(&location) && redirects < 2 =>
                {
                    redirects += 1;
                    self.learn(q, *newer);
                }
                Some(ClientError::NotMaster(_)) | Some(ClientError::Unavailable) => {
                    return error_reply(&op, ClientError::NoMaster)
                }
                _ => return Some(reply),
            }
        }
    }

    /// Serves a client operation as the queue's master or leader.
    async fn serve(self: &Rc<Self>, op: ClientOp) -> Option<Reply> {
        let q = op.queue();
        let Some(rt) = self.queues.get(&q) else {
            return error_reply(&op, ClientError::NoMaster);
        };
        match (op, rt) {
            (ClientOp::Publish { message, reply, .. }, QueueRt::Mirrored(_)) => {
                self.mirrored_publish(q, message, reply).await
            }
            (ClientOp::Publish { message, reply, .. }, QueueRt::Quorum(_)) => {
                self.quorum_publish(q, message, reply).await
            }
            (
                ClientOp::Consume {
                    consumer,
                    ack,
                    prefetch,
                    received,
                    acked,
                    ..
                },
                _,
            ) => {
                let sub = Subscription {
                    consumer,
                    ack,
                    prefetch,
                    received,
                    acked,
                };
                Some(self.consume(q, &sub).await)
            }
            (ClientOp::Ack { consumer, upto, .. }, _) => {
                self.acknowledge(q, &consumer, upto);
                None
            }
        }
    }

    /// Waits up to `confirm_timeout` for `verdict` to confirm a message
    /// (`Ok`) or give up on it (`Err` with the reason), asking again
    /// whenever a queue changes. Giving up, or running out of time, leaves
    /// the outcome unknown to the publisher: a nack.
    pub async fn confirm_when(
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

    /// The queue's name in histories.
    pub fn dest(q: QueueId) -> String {
        queue_name(q)
    }
}
