//! The broker's side of the controller protocol. Heartbeats keep the broker
//! registered and bring back the partition table, from which it takes its
//! roles and, as leader, the in-sync sets the controller committed. As
//! leader it also proposes in-sync set changes (Kafka's AlterPartition):
//! followers that have not caught up within `replica.lag.time.max.ms` out,
//! followers caught up to the high watermark back in.

use std::rc::Rc;
use std::time::Duration;

use super::state::Broker;
use crate::clock::now;
use crate::history::EventKind;
use crate::log::config::{broker_host, partition_name, CONTROLLER};
use crate::log::leadership::IsrUpdate;
use crate::log::protocol::{PartitionState, Reply, Request};

impl Broker {
    /// Heartbeats the controller and applies the partition table it returns.
    pub(super) async fn heartbeat(self: Rc<Self>, incarnation: u64) {
        let every = self.ctx.config.heartbeat_interval;
        loop {
            let beat = Request::Heartbeat {
                broker: self.id,
                incarnation,
            };
            if let Ok(Reply::Heartbeat(table)) =
                self.endpoint.call(CONTROLLER, beat, every * 2).await
            {
                self.apply_metadata(table);
            }
            tokio::time::sleep(every).await;
        }
    }

    fn apply_metadata(&self, table: Vec<PartitionState>) {
        let mut touched = Vec::new();
        let mut republish = Vec::new();
        let mut events = Vec::new();
        {
            let mut state = self.state.borrow_mut();
            for s in table {
                let p = s.partition;
                if let Some(r) = state.replicas.get_mut(&p) {
                    if s.leader_epoch > r.leader_epoch {
                        if s.leader == Some(self.id) {
                            r.become_leader(&s, now());
                            events.push(EventKind::BecomeLeader {
                                dest: partition_name(p),
                                epoch: s.leader_epoch,
                                log_end: r.log_end(),
                            });
                        } else {
                            r.become_follower(s.leader, s.leader_epoch);
                            events.push(EventKind::BecomeFollower {
                                dest: partition_name(p),
                                epoch: s.leader_epoch,
                                leader: s.leader.map(broker_host),
                            });
                        }
                        touched.push(p);
                    } else if s.leader_epoch == r.leader_epoch
                        && r.adopt_isr(&s.isr, s.partition_epoch) == IsrUpdate::Adopted
                    {
                        touched.push(p);
                    }
                    if state.metadata.get(&p) != Some(&s) {
                        republish.push(p);
                    }
                }
                state.metadata.insert(p, s);
            }
        }
        for e in events {
            if self.is_visible(&e) {
                self.ctx.history.record(&self.host, e);
            }
        }
        for p in touched.iter().chain(&republish) {
            self.publish(*p);
        }
        if !touched.is_empty() {
            self.changed.notify_waiters();
        }
    }

    /// Role changes of the internal offsets partition are left out of the
    /// history: they say nothing about workload messages.
    fn is_visible(&self, e: &EventKind) -> bool {
        let offsets = partition_name(self.ctx.config.offsets_partition());
        match e {
            EventKind::BecomeLeader { dest, .. } | EventKind::BecomeFollower { dest, .. } => {
                *dest != offsets
            }
            _ => true,
        }
    }

    /// Proposes in-sync set changes to the controller as followers fall
    /// behind or catch up.
    pub(super) async fn maintain_isr(self: Rc<Self>) {
        let lag = self.ctx.config.replica_lag_time_max;
        let every = (lag / 4).max(Duration::from_millis(10));
        loop {
            tokio::time::sleep(every).await;
            let proposals: Vec<_> = {
                let mut state = self.state.borrow_mut();
                state
                    .replicas
                    .values_mut()
                    .filter_map(|r| {
                        let isr = r.wanted_isr(now(), lag)?;
                        r.propose_isr(isr.clone());
                        let l = r.leadership()?;
                        Some(Request::AlterIsr {
                            broker: self.id,
                            partition: r.partition,
                            leader_epoch: r.leader_epoch,
                            partition_epoch: l.partition_epoch,
                            isr,
                        })
                    })
                    .collect()
            };
            for req in proposals {
                tokio::task::spawn_local(Rc::clone(&self).alter_isr(req));
            }
        }
    }

    async fn alter_isr(self: Rc<Self>, req: Request) {
        let Request::AlterIsr { partition: p, .. } = &req else {
            return;
        };
        let p = *p;
        let timeout = self.ctx.config.request_timeout;
        let reply = self.endpoint.call(CONTROLLER, req, timeout).await;
        let adopted = {
            let mut state = self.state.borrow_mut();
            let r = state.replicas.get_mut(&p).expect("replica");
            match reply {
                Ok(Reply::AlterIsr(Ok(s))) if s.leader_epoch == r.leader_epoch => {
                    r.answer_isr(&s.isr, s.partition_epoch) == IsrUpdate::Adopted
                }
                _ => {
                    r.drop_proposal();
                    false
                }
            }
        };
        if adopted {
            self.publish(p);
            self.changed.notify_waiters();
        }
    }
}
