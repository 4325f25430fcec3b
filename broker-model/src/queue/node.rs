//! A node of the queue cluster: one process that ticks its peers, handles
//! partitions, and runs the broker application ([`crate::queue::app`]),
//! which hosts queue masters, mirrors and Raft members.
//!
//! The two are kept apart because RabbitMQ's partition handling stops and
//! restarts the *application* while the Erlang process, its distribution
//! links and its ticks carry on: a paused node still sees the cluster, which
//! is how it knows when to resume. A process crash or power loss ends both.
//! Stopping the application drops every queue it held in memory; only the
//! disk survives into the next start.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::rc::Rc;

use tokio::sync::{mpsc, Notify};

use crate::clock::now;
use crate::deploy::HostContext;
use crate::history::EventKind;
use crate::queue::app::App;
use crate::queue::cluster::{Cluster, Heard};
use crate::queue::config::{node_host, PartitionHandling, QueueConfig};
use crate::queue::protocol::ClientError;
use crate::queue::protocol::{Incarnation, NodeId, NodeStatus, Reply, Request, Tick};
use crate::queue::routing::error_reply;
use crate::queue::runtime::Process;
use crate::wire::{Endpoint, Incoming};

struct Node {
    process: Rc<Process>,
    app: RefCell<Option<Rc<App>>>,
    starts: Cell<u32>,
    paused: Cell<bool>,
    /// An operator stopped the application (`rabbitmqctl stop_app`).
    stopped_by_operator: Cell<bool>,
}

/// Runs node `id` until the host is crashed.
pub(crate) async fn run(ctx: HostContext<QueueConfig>, id: NodeId) -> turmoil::Result {
    let host = node_host(id);
    ctx.processes.wait_until_started(&host).await;
    let started = now();
    let (endpoint, incoming) = Endpoint::bind().await?;
    let cluster = Cluster::new(id, ctx.config.nodes, ctx.config.net_ticktime, started);
    let process = Rc::new(Process {
        host,
        id,
        ctx,
        endpoint,
        vm: started.as_micros() as u64,
        cluster: RefCell::new(cluster),
        cluster_changed: Notify::new(),
    });
    let node = Rc::new(Node {
        process,
        app: RefCell::new(None),
        starts: Cell::new(0),
        paused: Cell::new(false),
        stopped_by_operator: Cell::new(false),
    });
    node.start_app(None);
    tokio::task::spawn_local(Rc::clone(&node).tick());
    node.serve(incoming).await;
    Ok(())
}

impl Node {
    fn incarnation(&self) -> Incarnation {
        Incarnation {
            vm: self.process.vm,
            app: self.starts.get(),
        }
    }

    fn start_app(&self, trusted: Option<BTreeSet<NodeId>>) {
        self.starts.set(self.starts.get() + 1);
        self.paused.set(false);
        let app = App::start(Rc::clone(&self.process), self.incarnation(), trusted);
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
            let _ = self.process.endpoint.cast(&node_host(peer), req).await;
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
                    app.io.spawn(async move { a.handle(from, id, body).await });
                }
                None => {
                    if let Some(reply) = refusal(&body) {
                        self.process.endpoint.reply(from, id, reply).await;
                    }
                }
            }
        }
    }

    fn on_tick(&self, tick: &Tick) {
        let heard = self.process.cluster.borrow_mut().heard(tick, now());
        if heard != Heard::Nothing {
            self.process.cluster_changed.notify_waiters();
        }
    }

    /// Ticks every peer a quarter of `net_ticktime` apart, marks silent
    /// peers down, and applies the partition handling mode. The mode is
    /// applied before queues learn of the peers that went down, so a node
    /// that pauses never acts alone on what it can no longer replicate.
    async fn tick(self: Rc<Self>) {
        let config = Rc::clone(&self.process.ctx.config);
        let every = config.net_ticktime / 4;
        let peers = self.process.cluster.borrow().peers();
        loop {
            // An operator's start goes before the tick, so that this very
            // tick tells the peers the application runs again: a peer that
            // still took it for stopped would treat the restarted master as
            // lost. A stop goes after it, so that the masters' shutdown
            // notices reach their mirrors before a tick says the
            // application stopped.
            self.operator_start();
            let tick = Tick {
                node: self.process.id,
                incarnation: self.incarnation(),
                running: self.app.borrow().is_some(),
            };
            for p in &peers {
                let _ = self
                    .process
                    .endpoint
                    .cast(&node_host(*p), Request::Tick(tick))
                    .await;
            }
            let down = self.process.cluster.borrow_mut().expire(now());
            self.operator_stop().await;
            match config.partition_handling {
                PartitionHandling::Ignore => {}
                PartitionHandling::PauseMinority => self.pause_minority().await,
                PartitionHandling::Autoheal => self.autoheal().await,
            }
            if !down.is_empty() {
                self.process.cluster_changed.notify_waiters();
            }
            tokio::time::sleep(every).await;
        }
    }

    fn visible(&self) -> Vec<String> {
        let cluster = self.process.cluster.borrow();
        (1..=self.process.ctx.config.nodes)
            .filter(|n| cluster.is_up(*n))
            .map(node_host)
            .collect()
    }

    /// `rabbitmqctl stop_app`: an operator stops the application in an
    /// orderly way, so the mirrors of the queues it masters apply
    /// `ha-promote-on-shutdown`. The process, its distribution links and
    /// its ticks carry on.
    async fn operator_stop(&self) {
        let host = &self.process.host;
        if self.process.ctx.processes.is_app_stopped(host) && !self.stopped_by_operator.get() {
            self.stopped_by_operator.set(true);
            self.stop_app().await;
        }
    }

    /// `rabbitmqctl start_app`, after an operator's stop.
    fn operator_start(&self) {
        let host = &self.process.host;
        if !self.process.ctx.processes.is_app_stopped(host) && self.stopped_by_operator.get() {
            self.stopped_by_operator.set(false);
            if self.app.borrow().is_none() && !self.paused.get() {
                self.start_app(None);
            }
        }
    }

    async fn pause_minority(&self) {
        let majority = self.process.cluster.borrow().sees_majority(now());
        let running = self.app.borrow().is_some();
        if running && !majority {
            self.process.ctx.history.record(
                &self.process.host,
                EventKind::Pause {
                    visible: self.visible(),
                },
            );
            self.stop_app().await;
            self.paused.set(true);
        } else if !running && majority && self.paused.get() && !self.stopped_by_operator.get() {
            self.process.ctx.history.record(
                &self.process.host,
                EventKind::Resume {
                    visible: self.visible(),
                },
            );
            // Resuming restarts Mnesia too, which takes the majority's
            // records: whatever split this node saw is over for it.
            self.process.cluster.borrow_mut().clear_partitions();
            self.start_app(None);
        }
    }

    async fn autoheal(&self) {
        if self.process.cluster.borrow().autoheal_verdict() != Some(true) {
            return;
        }
        let winners = {
            let mut cluster = self.process.cluster.borrow_mut();
            let w = cluster.partitioned().clone();
            cluster.clear_partitions();
            w
        };
        self.process.ctx.history.record(
            &self.process.host,
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
        Request::Exchange(p) => p
            .reply
            .then_some(Reply::Publish(Err(ClientError::Unavailable))),
        Request::Status => Some(Reply::Status(NodeStatus {
            running: false,
            queues: Vec::new(),
        })),
        _ => None,
    }
}
