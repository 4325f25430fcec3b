//! The controller: failure detection, leader election, the in-sync sets.
//!
//! Like KRaft's active controller it owns the partition table, persists
//! every change before acting on it, fences brokers whose heartbeats stop
//! (or that come back as a new process), and elects leaders from the
//! in-sync set, or from any live replica when unclean election is on. With
//! eligible leader replicas (KIP-966) the rules of `elr` apply: a broker
//! back as a new process registers after an unclean shutdown, since the log
//! model's brokers only ever stop by crashing or losing power.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::Duration;

use crate::clock::now;
use crate::disk::Document;
use crate::history::EventKind;
use crate::log::config::{
    broker_host, partition_name, Context, EligibleLeaderReplicas, CONTROLLER,
};
use crate::log::elr::{Change, Rules};
use crate::log::protocol::{BrokerId, ErrorCode, PartitionId, PartitionState, Reply, Request};

use crate::wire::Endpoint;

#[derive(Clone, Debug)]
struct Liveness {
    incarnation: Option<u64>,
    last_seen: Duration,
    alive: bool,
}

/// What an election did to a partition's entry in the table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Election {
    /// A new leader epoch began, with a leader or, forced, offline.
    Held,
    /// No replica was eligible and none was forced: nothing changed.
    Skipped,
}

/// The controller's state; pure logic, driven by [`run`].
pub(crate) struct Controller {
    ctx: Context,
    rules: Rules,
    partitions: BTreeMap<PartitionId, PartitionState>,
    brokers: BTreeMap<BrokerId, Liveness>,
    store: Option<Document<Vec<PartitionState>>>,
}

fn names(brokers: &[BrokerId]) -> Vec<String> {
    brokers.iter().copied().map(broker_host).collect()
}

impl Controller {
    /// A controller with the table `stored` (or the initial one: preferred
    /// leaders, every replica in sync) and every broker presumed alive as
    /// of `now`, so that dead ones are found by the usual timeout.
    pub(crate) fn new(ctx: Context, stored: Option<Vec<PartitionState>>, now: Duration) -> Self {
        let partitions = match stored {
            Some(table) => table.into_iter().map(|s| (s.partition, s)).collect(),
            None => ctx
                .config
                .all_partitions()
                .map(|p| {
                    let replicas = ctx.config.replicas(p);
                    let state = PartitionState {
                        partition: p,
                        leader: replicas.first().copied(),
                        leader_epoch: 1,
                        isr: replicas.clone(),
                        partition_epoch: 1,
                        replicas,
                        elr: Vec::new(),
                        last_known_leader: None,
                    };
                    (p, state)
                })
                .collect(),
        };
        let brokers = (1..=ctx.config.brokers)
            .map(|b| {
                (
                    b,
                    Liveness {
                        incarnation: None,
                        last_seen: now,
                        alive: true,
                    },
                )
            })
            .collect();
        let rules = Rules {
            elr: ctx.config.eligible_leader_replicas,
            min_isr: ctx.config.min_insync_replicas,
            unclean_election: ctx.config.unclean_leader_election,
        };
        Controller {
            ctx,
            rules,
            partitions,
            brokers,
            store: None,
        }
    }

    /// The partition table.
    pub(crate) fn table(&self) -> Vec<PartitionState> {
        self.partitions.values().cloned().collect()
    }

    fn persist(&self) {
        if let Some(store) = &self.store {
            store
                .store(&self.table())
                .expect("controller metadata write");
        }
    }

    fn record(&self, kind: EventKind) {
        let internal = partition_name(self.ctx.config.offsets_partition());
        let skip = match &kind {
            EventKind::Elect { dest, .. } | EventKind::IsrChange { dest, .. } => *dest == internal,
            _ => false,
        };
        if !skip {
            self.ctx.history.record(CONTROLLER, kind);
        }
    }

    /// Handles a heartbeat: a broker with a new incarnation is first fenced
    /// as the process it replaced, then registered; with eligible leader
    /// replicas, as one back from an unclean shutdown.
    pub(crate) fn heartbeat(
        &mut self,
        broker: BrokerId,
        incarnation: u64,
        now: Duration,
    ) -> Vec<PartitionState> {
        let Some(l) = self.brokers.get(&broker).cloned() else {
            return self.table();
        };
        let restarted = l.incarnation.is_some_and(|i| i != incarnation);
        if l.alive && restarted {
            self.fence(&BTreeSet::from([broker]), "restarted");
        }
        if restarted && self.rules.elr == EligibleLeaderReplicas::Enabled {
            self.unclean_shutdown(broker);
        }
        let l = self.brokers.get_mut(&broker).expect("known broker");
        l.alive = true;
        l.incarnation = Some(incarnation);
        l.last_seen = now;
        self.elect_offline();
        self.table()
    }

    /// Fences every broker whose heartbeats stopped for the session timeout.
    pub(crate) fn expire(&mut self, now: Duration) {
        let timeout = self.ctx.config.session_timeout;
        let dead: BTreeSet<BrokerId> = self
            .brokers
            .iter()
            .filter(|(_, l)| l.alive && now.saturating_sub(l.last_seen) > timeout)
            .map(|(b, _)| *b)
            .collect();
        if !dead.is_empty() {
            self.fence(&dead, "session timeout");
        }
    }

    fn fence(&mut self, dead: &BTreeSet<BrokerId>, reason: &str) {
        for b in dead {
            if let Some(l) = self.brokers.get_mut(b) {
                l.alive = false;
            }
            self.record(EventKind::Fence {
                broker: broker_host(*b),
                reason: reason.to_string(),
            });
        }
        let parts: Vec<PartitionId> = self.partitions.keys().copied().collect();
        for p in parts {
            let mut s = self.partitions[&p].clone();
            let isr = self.rules.isr_without(&s, dead);
            let leader_dead = s.leader.is_some_and(|l| dead.contains(&l));
            let change = self.rules.set_isr(&mut s, isr, None);
            self.partitions.insert(p, s);
            if change == Change::Changed && !leader_dead {
                self.record(self.isr_event(p, None));
            }
            if leader_dead {
                self.elect(p, true);
            }
        }
        self.persist();
    }

    /// Kafka's `handleBrokerUncleanShutdown`: `broker` came back from an
    /// unclean shutdown and may have lost records it held, so it leaves the
    /// in-sync set and the eligible leader replicas of every partition.
    fn unclean_shutdown(&mut self, broker: BrokerId) {
        let parts: Vec<PartitionId> = self.partitions.keys().copied().collect();
        let mut changed = false;
        for p in parts {
            let s = self.partitions.get_mut(&p).expect("partition");
            if self.rules.unclean_shutdown(s, broker) == Change::Changed {
                changed = true;
                self.record(self.isr_event(p, Some(broker)));
            }
        }
        if changed {
            self.persist();
        }
    }

    fn isr_event(&self, p: PartitionId, unclean_shutdown: Option<BrokerId>) -> EventKind {
        let s = &self.partitions[&p];
        EventKind::IsrChange {
            dest: partition_name(p),
            isr: names(&s.isr),
            elr: names(&s.elr),
            unclean_shutdown: unclean_shutdown.map(broker_host),
        }
    }

    fn is_alive(&self, b: BrokerId) -> bool {
        self.brokers.get(&b).is_some_and(|l| l.alive)
    }

    /// Elects a leader for `p`. With `force`, a partition with no eligible
    /// replica goes offline; without, it is left as it is.
    fn elect(&mut self, p: PartitionId, force: bool) -> Election {
        let choice = self
            .rules
            .choose_leader(&self.partitions[&p], |b| self.is_alive(b));
        if choice.is_none() && !force {
            return Election::Skipped;
        }
        let s = self.partitions.get_mut(&p).expect("partition");
        self.rules.install_leader(s, choice);
        let elr = self.rules.elr == EligibleLeaderReplicas::Enabled;
        let event = EventKind::Elect {
            dest: partition_name(p),
            leader: s.leader.map(broker_host),
            epoch: s.leader_epoch,
            isr: names(&s.isr),
            unclean: choice.is_some_and(|(_, source)| source.is_unclean()),
            elr: names(&s.elr),
            from: choice.filter(|_| elr).map(|(_, source)| source),
        };
        self.record(event);
        Election::Held
    }

    fn elect_offline(&mut self) {
        let offline: Vec<PartitionId> = self
            .partitions
            .values()
            .filter(|s| s.leader.is_none())
            .map(|s| s.partition)
            .collect();
        let mut changed = false;
        for p in offline {
            changed |= self.elect(p, false) == Election::Held;
        }
        if changed {
            self.persist();
        }
    }

    /// Applies a leader's in-sync set proposal if it is current.
    pub(crate) fn alter_isr(
        &mut self,
        broker: BrokerId,
        p: PartitionId,
        leader_epoch: u32,
        partition_epoch: u32,
        isr: Vec<BrokerId>,
    ) -> Result<PartitionState, ErrorCode> {
        let Some(s) = self.partitions.get(&p) else {
            return Err(ErrorCode::FencedEpoch);
        };
        if s.leader != Some(broker)
            || s.leader_epoch != leader_epoch
            || s.partition_epoch != partition_epoch
            || !isr.contains(&broker)
        {
            return Err(ErrorCode::FencedEpoch);
        }
        // A fenced broker may not rejoin until it is alive again.
        let isr: Vec<BrokerId> = isr
            .into_iter()
            .filter(|b| s.isr.contains(b) || self.is_alive(*b))
            .collect();
        let s = self.partitions.get_mut(&p).expect("partition");
        if self.rules.set_isr(s, isr, None) == Change::Changed {
            self.record(self.isr_event(p, None));
            self.persist();
        }
        Ok(self.partitions[&p].clone())
    }
}

/// Runs the controller host until it is crashed.
pub(crate) async fn run(ctx: Context) -> turmoil::Result {
    ctx.processes.wait_until_started(CONTROLLER).await;
    let (store, stored) = Document::<Vec<PartitionState>>::open("controller.json")?;
    let fresh = stored.is_none();
    let mut controller = Controller::new(ctx.clone(), stored, now());
    controller.store = Some(store);
    if fresh {
        controller.persist();
    }
    let controller = Rc::new(RefCell::new(controller));
    let (endpoint, mut incoming) = Endpoint::<Request, Reply>::bind().await?;

    let expiry = Rc::clone(&controller);
    let every = ctx.config.heartbeat_interval;
    tokio::task::spawn_local(async move {
        loop {
            tokio::time::sleep(every).await;
            expiry.borrow_mut().expire(now());
        }
    });

    while let Some(req) = incoming.recv().await {
        let reply = match req.body {
            Request::Heartbeat {
                broker,
                incarnation,
            } => Some(Reply::Heartbeat(controller.borrow_mut().heartbeat(
                broker,
                incarnation,
                now(),
            ))),
            Request::AlterIsr {
                broker,
                partition,
                leader_epoch,
                partition_epoch,
                isr,
            } => Some(Reply::AlterIsr(controller.borrow_mut().alter_isr(
                broker,
                partition,
                leader_epoch,
                partition_epoch,
                isr,
            ))),
            Request::Metadata => Some(Reply::Metadata(controller.borrow().table())),
            _ => None,
        };
        if let Some(reply) = reply {
            endpoint.reply(req.from, req.id, reply).await;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::config::LogConfig;
    use crate::workload::Workload;

    fn controller(unclean: bool) -> Controller {
        let config = LogConfig {
            unclean_leader_election: unclean,
            ..LogConfig::default()
        };
        let ctx = Context::new(&config, &Workload::default(), &Default::default());
        Controller::new(ctx, None, Duration::ZERO)
    }

    fn p0(c: &Controller) -> PartitionState {
        c.table()[0].clone()
    }

    const MS: Duration = Duration::from_millis(1);

    fn beat_all_but(c: &mut Controller, dead: &[BrokerId], at: Duration) {
        for b in 1..=3 {
            if !dead.contains(&b) {
                c.heartbeat(b, 1, at);
            }
        }
    }

    #[test]
    fn a_silent_leader_is_replaced_by_an_in_sync_follower() {
        let mut c = controller(false);
        beat_all_but(&mut c, &[], Duration::ZERO);
        assert_eq!(p0(&c).leader, Some(1));
        beat_all_but(&mut c, &[1], 500 * MS);
        c.expire(700 * MS);
        let s = p0(&c);
        assert_eq!(s.leader, Some(2));
        assert_eq!(s.isr, vec![2, 3]);
        assert_eq!(s.leader_epoch, 2);
    }

    #[test]
    fn the_last_in_sync_replica_stays_in_sync_and_leads_again_when_back() {
        let mut c = controller(false);
        beat_all_but(&mut c, &[], Duration::ZERO);
        c.expire(700 * MS);
        let s = p0(&c);
        assert_eq!(s.leader, None);
        assert_eq!(s.isr, vec![1]);
        // A replica that was not in sync may not lead without unclean election.
        c.heartbeat(2, 2, 800 * MS);
        assert_eq!(p0(&c).leader, None);
        c.heartbeat(1, 2, 900 * MS);
        assert_eq!(p0(&c).leader, Some(1));
    }

    #[test]
    fn unclean_election_picks_any_live_replica() {
        let mut c = controller(true);
        beat_all_but(&mut c, &[], Duration::ZERO);
        c.expire(700 * MS);
        c.heartbeat(3, 2, 800 * MS);
        let s = p0(&c);
        assert_eq!(s.leader, Some(3));
        assert_eq!(s.isr, vec![3]);
    }

    #[test]
    fn a_broker_back_as_a_new_process_is_fenced_first() {
        let mut c = controller(false);
        beat_all_but(&mut c, &[], Duration::ZERO);
        c.heartbeat(1, 99, 100 * MS);
        let s = p0(&c);
        assert_eq!(s.leader, Some(2), "the restarted leader lost leadership");
        assert!(
            !s.isr.contains(&1),
            "the restarted broker must catch up first"
        );
    }

    #[test]
    fn with_elr_a_leader_back_from_an_unclean_shutdown_waits_for_an_eligible_follower() {
        let config = LogConfig {
            min_insync_replicas: 2,
            eligible_leader_replicas: EligibleLeaderReplicas::Enabled,
            ..LogConfig::default()
        };
        let ctx = Context::new(&config, &Workload::default(), &Default::default());
        let mut c = Controller::new(ctx, None, Duration::ZERO);
        beat_all_but(&mut c, &[], Duration::ZERO);
        beat_all_but(&mut c, &[2, 3], 500 * MS);
        c.expire(700 * MS);
        assert_eq!((p0(&c).isr, p0(&c).elr), (vec![1], vec![2, 3]));
        c.heartbeat(1, 2, 800 * MS);
        let s = p0(&c);
        assert_eq!((s.leader, s.isr, s.elr), (None, vec![], vec![2, 3]));
        c.heartbeat(3, 1, 900 * MS);
        let s = p0(&c);
        assert_eq!((s.leader, s.isr, s.elr), (Some(3), vec![3], vec![2]));
    }

    #[test]
    fn stale_or_foreign_isr_changes_are_refused() {
        let mut c = controller(false);
        beat_all_but(&mut c, &[], Duration::ZERO);
        let s = p0(&c);
        assert_eq!(
            c.alter_isr(2, 0, s.leader_epoch, s.partition_epoch, vec![2, 3]),
            Err(ErrorCode::FencedEpoch)
        );
        assert_eq!(
            c.alter_isr(1, 0, s.leader_epoch, s.partition_epoch + 1, vec![1]),
            Err(ErrorCode::FencedEpoch)
        );
        let shrunk = c
            .alter_isr(1, 0, s.leader_epoch, s.partition_epoch, vec![1, 2])
            .unwrap();
        assert_eq!(shrunk.isr, vec![1, 2]);
        assert_eq!(shrunk.partition_epoch, s.partition_epoch + 1);
    }
}
