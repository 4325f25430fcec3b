//! The scenario's faults on real nodes: fired by the clock or by a
//! trigger read from the clients' events or from the broker itself, and
//! undone when their time is up or at the heal.
//!
//! - `crash` of a node: `kill -9` of its Erlang VM; `restart_after` is when
//!   the harness starts it again (a real node then takes seconds to boot,
//!   where the model's restarts are immediate).
//! - `crash` of a client: `kill -9` of its process; a producer starts again
//!   where its upstream had got.
//! - `stop_app` of a node: `rabbitmqctl stop_app`, then `start_app`.
//! - `unbind`: `queue.unbind` over AMQP, and `queue.bind` again.
//!
//! Triggers: `after_producer_ack` and `consumer_received_unacked` read the
//! clients' events; `mirror_unsynced` asks `rabbitmqctl list_queues` for
//! the queue's mirrors and which are synchronised. A real node does not
//! show which entries its followers hold, so `leader_ahead_of_followers`
//! fires at the first producer acknowledgement after `at`, while publishes
//! are still being replicated.

use std::time::{Duration, Instant, SystemTime};

use broker_model::queue::{node_host, queue_name, Binding};
use broker_model::{Event, EventKind};
use lapin::types::FieldTable;
use tokio::runtime::Runtime;

use super::client::{since, Role};
use super::clients::{host, Clients, Shared};
use super::error::RealError;
use super::held::Held;
use super::nodes::{ctl, Cluster, Node};
use super::queues;
use super::targets::Targets;
use crate::fault::apply::NEMESIS;
use crate::fault::{Action, Condition, Fault};

/// What undoes a fault.
#[derive(Clone, Debug)]
enum Undo {
    StartNode(u32),
    StartApp(u32),
    StartClient(Role),
    Bind(Binding),
}

/// How often `mirror_unsynced` asks the broker.
const MIRROR_POLL: Duration = Duration::from_millis(500);

/// The fault injector of a real run.
pub(crate) struct Nemesis<'a> {
    targets: Targets<'a>,
    waiting: Vec<&'a Fault>,
    undo_at: Vec<(Duration, Undo)>,
    undo_at_heal: Vec<Undo>,
    history: &'a Shared,
    epoch: SystemTime,
    /// Events of the history already read.
    cursor: usize,
    /// The time of the last producer acknowledgement read.
    last_ack_us: Option<u64>,
    /// Deliveries each consumer process holds unprocessed.
    held: Held,
    last_mirror_poll: Option<Instant>,
}

impl<'a> Nemesis<'a> {
    /// The injector of `faults`, whose roles mean the nodes of `targets`'
    /// cluster and its clients.
    pub(crate) fn new(
        targets: Targets<'a>,
        faults: &'a [Fault],
        history: &'a Shared,
        epoch: SystemTime,
    ) -> Self {
        Nemesis {
            targets,
            waiting: faults.iter().collect(),
            undo_at: Vec::new(),
            undo_at_heal: Vec::new(),
            history,
            epoch,
            cursor: 0,
            last_ack_us: None,
            held: Held::default(),
            last_mirror_poll: None,
        }
    }

    fn record(&self, kind: EventKind) {
        self.record_at(since(self.epoch), kind);
    }

    fn record_at(&self, at_us: u64, kind: EventKind) {
        self.history.lock().expect("history lock").push(Event {
            at_us,
            host: NEMESIS.to_string(),
            kind,
        });
    }

    /// Reads the clients' new events.
    fn read(&mut self) {
        let history = self.history.lock().expect("history lock");
        for e in &history[self.cursor..] {
            if let EventKind::SendOk { .. } = e.kind {
                self.last_ack_us = Some(e.at_us);
            }
            self.held.read(e);
        }
        self.cursor = history.len();
    }

    /// Fires the faults that are due, and undoes those whose time is up.
    pub(crate) fn tick(
        &mut self,
        now: Duration,
        cluster: &mut Cluster,
        clients: &mut Clients,
        runtime: &Runtime,
    ) -> Result<(), RealError> {
        self.read();
        let mut due = Vec::new();
        let mut i = 0;
        while i < self.waiting.len() {
            let fault = self.waiting[i];
            if fault.at <= now && self.fires(fault, cluster) {
                due.push(self.waiting.remove(i));
            } else {
                i += 1;
            }
        }
        for fault in due {
            self.apply(fault, now, cluster, clients, runtime)?;
        }
        let (ready, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.undo_at)
            .into_iter()
            .partition(|(at, _)| *at <= now);
        self.undo_at = later;
        for (_, undo) in ready {
            self.undo(undo, cluster, clients, runtime)?;
        }
        Ok(())
    }

    /// Ends every fault.
    pub(crate) fn heal(
        &mut self,
        cluster: &mut Cluster,
        clients: &mut Clients,
        runtime: &Runtime,
    ) -> Result<(), RealError> {
        let mut all: Vec<Undo> = std::mem::take(&mut self.undo_at)
            .into_iter()
            .map(|(_, u)| u)
            .collect();
        all.append(&mut self.undo_at_heal);
        for undo in all {
            self.undo(undo, cluster, clients, runtime)?;
        }
        Ok(())
    }

    /// Whether `fault`'s trigger holds now (a timed fault: always).
    fn fires(&mut self, fault: &Fault, cluster: &mut Cluster) -> bool {
        let Some(trigger) = &fault.trigger else {
            return true;
        };
        let from_us = fault.at.as_micros() as u64;
        match trigger.condition {
            Condition::AfterProducerAck | Condition::LeaderAheadOfFollowers => {
                self.last_ack_us.is_some_and(|t| t >= from_us)
            }
            Condition::ConsumerReceivedUnacked => self.held.total() > 0,
            Condition::MirrorUnsynced => {
                if self
                    .last_mirror_poll
                    .is_some_and(|t| t.elapsed() < MIRROR_POLL)
                {
                    return false;
                }
                self.last_mirror_poll = Some(Instant::now());
                let dest = &trigger.dest;
                let Some(listed) = queues::list_any(cluster) else {
                    return false;
                };
                listed
                    .iter()
                    .any(|q| q.name == *dest && q.mirrors.iter().any(|m| !q.synced.contains(m)))
            }
            Condition::BeforeFsync => false,
        }
    }

    fn apply(
        &mut self,
        fault: &Fault,
        now: Duration,
        cluster: &mut Cluster,
        clients: &mut Clients,
        runtime: &Runtime,
    ) -> Result<(), RealError> {
        let detail = fault.to_string();
        // When the fault strikes: once its targets are known, before the
        // kill or the stop, which take time on a real node.
        let mut at = since(self.epoch);
        let (undos, hosts) = match &fault.action {
            Action::Crash { target, .. } => {
                let (nodes, roles) = self.targets.resolve(target, cluster);
                at = since(self.epoch);
                let (mut undos, mut hosts) = on_running_nodes(cluster, nodes, |node| {
                    node.kill();
                    Ok(Undo::StartNode(node.index))
                })?;
                for role in roles {
                    if clients.kill(&host(role)).is_some() {
                        hosts.push(host(role));
                        undos.push(Undo::StartClient(role));
                    }
                }
                (undos, hosts)
            }
            Action::StopApp { target, .. } => {
                let (nodes, _) = self.targets.resolve(target, cluster);
                at = since(self.epoch);
                on_running_nodes(cluster, nodes, |node| {
                    ctl(&node.name(), &["stop_app"])?;
                    Ok(Undo::StartApp(node.index))
                })?
            }
            Action::Unbind { binding, .. } => {
                runtime.block_on(rebind(cluster, binding, Rebind::Unbind))?;
                (vec![Undo::Bind(binding.clone())], Vec::new())
            }
            Action::Heal => {
                self.record(EventKind::Fault {
                    action: "heal".into(),
                    hosts: Vec::new(),
                    detail,
                });
                return self.heal(cluster, clients, runtime);
            }
            other => {
                return Err(RealError::Command(format!(
                    "`{}` cannot run on real nodes",
                    other.name()
                )))
            }
        };
        self.record_at(
            at,
            EventKind::Fault {
                action: fault.action.name().into(),
                hosts,
                detail,
            },
        );
        for undo in undos {
            match fault.action.duration() {
                Some(d) => self.undo_at.push((now + d, undo)),
                None => self.undo_at_heal.push(undo),
            }
        }
        Ok(())
    }

    fn undo(
        &mut self,
        undo: Undo,
        cluster: &mut Cluster,
        clients: &mut Clients,
        runtime: &Runtime,
    ) -> Result<(), RealError> {
        match undo {
            Undo::StartNode(n) => {
                if let Some(node) = cluster.node(n) {
                    if !node.running() {
                        node.restart()?;
                        self.record(EventKind::Heal {
                            detail: format!("{} started again", node_host(n)),
                            hosts: vec![node_host(n)],
                        });
                    }
                }
            }
            Undo::StartApp(n) => {
                if let Some(node) = cluster.node(n) {
                    if node.running() {
                        ctl(&node.name(), &["start_app"])?;
                        self.record(EventKind::Heal {
                            detail: "start_app".into(),
                            hosts: vec![node_host(n)],
                        });
                    }
                }
            }
            Undo::StartClient(role) => {
                if !clients.is_up(&host(role)) {
                    clients.start(role)?;
                    self.record(EventKind::Heal {
                        detail: format!("{} started again", host(role)),
                        hosts: vec![host(role)],
                    });
                }
            }
            Undo::Bind(binding) => {
                runtime.block_on(rebind(cluster, &binding, Rebind::Bind))?;
                self.record(EventKind::Heal {
                    detail: format!(
                        "{} -> {} bound again",
                        binding.exchange,
                        queue_name(binding.queue)
                    ),
                    hosts: Vec::new(),
                });
            }
        }
        Ok(())
    }
}

/// Does `act` to every node of `nodes` whose VM runs; returns what undoes
/// each and the hosts hit.
fn on_running_nodes(
    cluster: &mut Cluster,
    nodes: Vec<u32>,
    mut act: impl FnMut(&mut Node) -> Result<Undo, RealError>,
) -> Result<(Vec<Undo>, Vec<String>), RealError> {
    let mut undos = Vec::new();
    let mut hosts = Vec::new();
    for n in nodes {
        if let Some(node) = cluster.node(n) {
            if node.running() {
                undos.push(act(node)?);
                hosts.push(node_host(n));
            }
        }
    }
    Ok((undos, hosts))
}

#[derive(Clone, Copy)]
enum Rebind {
    Unbind,
    Bind,
}

/// `queue.unbind` or `queue.bind` of `binding`, on any running node.
async fn rebind(cluster: &mut Cluster, binding: &Binding, how: Rebind) -> Result<(), RealError> {
    let port = cluster
        .nodes
        .iter_mut()
        .find_map(|n| n.running().then(|| n.port()))
        .ok_or_else(|| RealError::Command("no node runs to change a binding".into()))?;
    let conn = super::declare::connect(port).await?;
    let amqp = |e: lapin::Error| RealError::Amqp(e.to_string());
    let ch = conn.create_channel().await.map_err(amqp)?;
    let (queue, exchange, key) = (
        queue_name(binding.queue),
        binding.exchange.as_str(),
        binding.routing_key.as_str(),
    );
    match how {
        Rebind::Unbind => ch
            .queue_unbind(
                queue.into(),
                exchange.into(),
                key.into(),
                FieldTable::default(),
            )
            .await
            .map_err(amqp)?,
        Rebind::Bind => ch
            .queue_bind(
                queue.into(),
                exchange.into(),
                key.into(),
                Default::default(),
                FieldTable::default(),
            )
            .await
            .map_err(amqp)?,
    }
    let _ = conn.close(200, "done".into()).await;
    Ok(())
}
