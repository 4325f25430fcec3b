//! Membership of the consumer group (`subscribe()`), as the Java client
//! keeps it: join and get partitions, heartbeat every
//! `heartbeat.interval.ms`, and give the partitions up when a heartbeat
//! says the group is rebalancing (eager protocol: every partition is
//! revoked before rejoining), when the coordinator no longer knows the
//! member, or when the application has not come back for more records
//! within `max.poll.interval.ms` (the client then sends LeaveGroup itself).
//!
//! On an orderly revoke `onPartitionsRevoked` runs: with
//! `enable.auto.commit` the client commits the polled position first, as
//! the Java client's `onJoinPrepare` does, processed or not; with
//! `commit.on.revoke` the application commits what it has processed. A
//! member already out of the group loses its partitions
//! (`onPartitionsLost`) and commits nothing.

use std::rc::Rc;

use super::state::Consumer;
use crate::clock::now;
use crate::history::EventKind;
use crate::log::config::{partition_name, AssignmentStrategy};
use crate::log::group::GROUP;
use crate::log::protocol::{ErrorCode, PartitionId, Reply, Request};

/// Why a member stopped heartbeating in its generation.
enum Ended {
    /// The group is rebalancing: revoke and rejoin.
    Rebalance,
    /// The coordinator does not know the member in this generation.
    Fenced,
    /// The application did not come back for more records in time.
    PollTimeout,
}

/// How partitions are given up.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Giving {
    /// `onPartitionsRevoked`: the member may still commit.
    Revoked,
    /// `onPartitionsLost`: it may not.
    Lost,
}

impl Consumer {
    fn member_id(&self) -> String {
        self.member.as_ref().expect("a group member").id.clone()
    }

    /// Joins, reads what the group assigns, and gives it up again at the
    /// next rebalance, for as long as the consumer runs. An eager member
    /// gives up everything before it rejoins; a cooperative one rejoins
    /// with what it owns, gives up only what the new assignment leaves out,
    /// and then rejoins at once so that those partitions reach their new
    /// owner (KIP-429).
    pub(super) async fn membership(self: Rc<Self>) {
        let cooperative = self.ctx().config.group.strategy == AssignmentStrategy::CooperativeSticky;
        let member = self.member.as_ref().expect("a group member");
        loop {
            let owned = self.assigned.borrow().clone();
            let held_in = member.generation.get();
            let (generation, partitions) = self.join(owned.clone()).await;
            member.generation.set(Some(generation));
            let revoked: Vec<PartitionId> = owned
                .into_iter()
                .filter(|p| !partitions.contains(p))
                .collect();
            if !revoked.is_empty() {
                let held_in = held_in.unwrap_or(generation);
                self.give_up(held_in, &revoked, Giving::Revoked).await;
            }
            self.assign(generation, partitions);
            if cooperative && !revoked.is_empty() {
                continue;
            }
            let giving = match self.keep_alive(generation).await {
                Ended::Rebalance if cooperative => continue,
                Ended::Rebalance => Giving::Revoked,
                Ended::Fenced => Giving::Lost,
                Ended::PollTimeout => {
                    self.leave().await;
                    Giving::Lost
                }
            };
            let all = self.assigned.borrow().clone();
            self.give_up(generation, &all, giving).await;
            member.generation.set(None);
            self.publish();
        }
    }

    /// Sends JoinGroup to the coordinator until it answers with a
    /// generation and partitions.
    async fn join(&self, owned: Vec<PartitionId>) -> (u32, Vec<PartitionId>) {
        let config = self.ctx().config.clone();
        let coordinator = config.offsets_partition();
        // The Java client waits for the rebalance timeout and then some.
        let timeout = config.group.max_poll_interval + config.request_timeout;
        loop {
            let req = Request::JoinGroup {
                group: GROUP.into(),
                member: self.member_id(),
                owned: owned.clone(),
            };
            match self.client.call_leader(coordinator, req, timeout).await {
                Ok(Reply::JoinGroup(Ok(joined))) => return joined,
                Ok(Reply::JoinGroup(Err(ErrorCode::NotLeader))) => {
                    self.client.forget_leader(coordinator)
                }
                _ => {}
            }
            tokio::time::sleep(config.retry_backoff).await;
        }
    }

    /// Holds `partitions` in `generation`: each one not already read is
    /// read from the group's committed offset by a task of its own.
    fn assign(self: &Rc<Self>, generation: u32, partitions: Vec<PartitionId>) {
        let member = self.member.as_ref().expect("a group member");
        *self.assigned.borrow_mut() = partitions.clone();
        self.ctx().history.record(
            self.app.host(),
            EventKind::Assign {
                member: member.id.clone(),
                generation,
                partitions: partitions.iter().map(|p| partition_name(*p)).collect(),
            },
        );
        for p in partitions {
            if member.readers.borrow().contains_key(&p) {
                continue;
            }
            let me = Rc::clone(self);
            let reader = tokio::task::spawn_local(async move {
                me.start_position(p).await;
                me.poll(p).await;
            });
            member.readers.borrow_mut().insert(p, (generation, reader));
        }
        self.publish();
    }

    /// Heartbeats until the generation ends for this member.
    async fn keep_alive(&self, generation: u32) -> Ended {
        let config = self.ctx().config.clone();
        let coordinator = config.offsets_partition();
        loop {
            tokio::time::sleep(config.group.heartbeat_interval).await;
            if self.poll_overdue() {
                return Ended::PollTimeout;
            }
            let req = Request::GroupHeartbeat {
                group: GROUP.into(),
                member: self.member_id(),
                generation,
            };
            match self
                .client
                .call_leader(coordinator, req, config.request_timeout)
                .await
            {
                Ok(Reply::GroupHeartbeat(Ok(()))) => {}
                Ok(Reply::GroupHeartbeat(Err(ErrorCode::RebalanceInProgress))) => {
                    return Ended::Rebalance
                }
                Ok(Reply::GroupHeartbeat(Err(
                    ErrorCode::UnknownMemberId | ErrorCode::IllegalGeneration,
                ))) => return Ended::Fenced,
                Ok(_) => self.client.forget_leader(coordinator),
                Err(_) => {}
            }
        }
    }

    /// Whether the application has held a record longer than
    /// `max.poll.interval.ms` without coming back for more: the Java
    /// application processes what one `poll` returned before it polls
    /// again, so the oldest record it holds tells when it last polled.
    fn poll_overdue(&self) -> bool {
        let limit = self.ctx().config.group.max_poll_interval;
        self.app
            .oldest(|item| now().saturating_sub(item.polled_at) > limit)
            .unwrap_or(false)
    }

    /// LeaveGroup, sent once: the member is leaving either way.
    async fn leave(&self) {
        let config = self.ctx().config.clone();
        let req = Request::LeaveGroup {
            group: GROUP.into(),
            member: self.member_id(),
        };
        let coordinator = config.offsets_partition();
        if let Ok(Reply::LeaveGroup(Err(_))) = self
            .client
            .call_leader(coordinator, req, config.request_timeout)
            .await
        {
            self.client.forget_leader(coordinator);
        }
    }

    /// Gives up `partitions`, held since `generation`: stops reading
    /// them, drops what was fetched of them and not yet processed, and
    /// commits as the commit policy says if the member may still commit.
    async fn give_up(&self, generation: u32, partitions: &[PartitionId], giving: Giving) {
        let member = self.member.as_ref().expect("a group member");
        for p in partitions {
            if let Some((_, reader)) = member.readers.borrow_mut().remove(p) {
                reader.abort();
            }
        }
        self.app
            .retain(|item| !partitions.contains(&item.partition));
        self.ctx().history.record(
            self.app.host(),
            EventKind::Revoke {
                member: member.id.clone(),
                generation,
                partitions: partitions.iter().map(|p| partition_name(*p)).collect(),
                lost: giving == Giving::Lost,
            },
        );
        if giving == Giving::Revoked {
            let config = &self.ctx().config;
            let (auto, on_revoke) = (config.enable_auto_commit, config.group.commit_on_revoke);
            for p in partitions {
                let due = self.positions.borrow().get(p).and_then(|pos| {
                    let offset = if auto {
                        Some(pos.next)
                    } else if on_revoke {
                        pos.processed
                    } else {
                        None
                    };
                    offset.filter(|o| pos.committed != Some(*o))
                });
                if let Some(offset) = due {
                    self.commit(*p, offset).await;
                }
            }
        }
        self.assigned
            .borrow_mut()
            .retain(|p| !partitions.contains(p));
        self.positions
            .borrow_mut()
            .retain(|p, _| !partitions.contains(p));
        self.publish();
        self.app.notify();
    }
}
