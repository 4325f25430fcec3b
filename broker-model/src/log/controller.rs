//! The controller: failure detection, leader election, the in-sync sets.
//!
//! Like KRaft's active controller it owns the partition table, persists
//! every change before acting on it, fences brokers whose heartbeats stop
//! (or that come back as a new process), and elects leaders from the
//! in-sync set, or from any live replica when unclean election is on.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::Duration;

use crate::clock::now;
use crate::disk::Document;
use crate::history::EventKind;
use crate::log::config::{broker_host, partition_name, Context, CONTROLLER};
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
        Controller {
            ctx,
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
    /// as the process it replaced, then registered.
    pub(crate) fn heartbeat(
        &mut self,
        broker: BrokerId,
        incarnation: u64,
        now: Duration,
    ) -> Vec<PartitionState> {
        let Some(l) = self.brokers.get(&broker).cloned() else {
            return self.table();
        };
        if l.alive && l.incarnation.is_some_and(|i| i != incarnation) {
            self.fence(&BTreeSet::from([broker]), "restarted");
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
            let s = self.partitions[&p].clone();
            let mut isr: Vec<BrokerId> = s
                .isr
                .iter()
                .copied()
                .filter(|b| !dead.contains(b))
                .collect();
            if isr.is_empty() {
                // The in-sync set never empties: its last member is the one
                // replica known to hold every committed record.
                let last = s
                    .leader
                    .filter(|l| s.isr.contains(l))
                    .or_else(|| s.isr.first().copied());
                isr.extend(last);
            }
            let leader_dead = s.leader.is_some_and(|l| dead.contains(&l));
            let s = self.partitions.get_mut(&p).expect("partition");
            if isr != s.isr {
                s.isr = isr;
                s.partition_epoch += 1;
                if !leader_dead {
                    let event = EventKind::IsrChange {
                        dest: partition_name(p),
                        isr: names(&s.isr),
                    };
                    self.record(event);
                }
            }
            if leader_dead {
                self.elect(p, true);
            }
        }
        self.persist();
    }

    fn is_alive(&self, b: BrokerId) -> bool {
        self.brokers.get(&b).is_some_and(|l| l.alive)
    }

    /// Elects a leader for `p`. With `force`, a partition with no eligible
    /// replica goes offline; without, it is left as it is.
    fn elect(&mut self, p: PartitionId, force: bool) -> Election {
        let s = self.partitions[&p].clone();
        let clean = s.isr.iter().copied().find(|b| self.is_alive(*b));
        let unclean = if clean.is_none() && self.ctx.config.unclean_leader_election {
            s.replicas.iter().copied().find(|b| self.is_alive(*b))
        } else {
            None
        };
        let leader = clean.or(unclean);
        if leader.is_none() && !force {
            return Election::Skipped;
        }
        let s = self.partitions.get_mut(&p).expect("partition");
        s.leader = leader;
        s.leader_epoch += 1;
        s.partition_epoch += 1;
        if let (None, Some(u)) = (clean, unclean) {
            s.isr = vec![u];
        }
        let event = EventKind::Elect {
            dest: partition_name(p),
            leader: leader.map(broker_host),
            epoch: s.leader_epoch,
            isr: names(&s.isr),
            unclean: clean.is_none() && unclean.is_some(),
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
        if s.isr != isr {
            s.isr = isr;
            s.partition_epoch += 1;
            let event = EventKind::IsrChange {
                dest: partition_name(p),
                isr: names(&s.isr),
            };
            self.record(event);
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
