//! The group coordinator, as Kafka runs it: on the broker that leads the
//! group's `__consumer_offsets` partition. Its group lives in memory; a
//! broker that takes over the partition starts from an empty group, which
//! the members rebuild by joining again once their heartbeats are refused.
//! Kafka's new coordinator reloads the group's metadata from the partition
//! instead, so its members keep their generation; here they lose their
//! partitions and rejoin, which costs a consumer that committed past what
//! it had not processed.

use super::state::Broker;
use crate::clock::now;
use crate::history::EventKind;
use crate::log::group::state::{Group, JoinResult, Rebalanced, Rules, Standing};
use crate::log::group::GROUP;
use crate::log::protocol::{ErrorCode, MemberToken, PartitionId};

impl Broker {
    /// Runs `f` on the group if this broker is its coordinator; a group
    /// from an earlier leadership of the offsets partition is dropped.
    fn with_group<T>(&self, f: impl FnOnce(&mut Group) -> T) -> Result<T, ErrorCode> {
        let config = &self.ctx.config;
        let epoch = self.with_leader(config.offsets_partition(), |r| r.leader_epoch);
        let mut coordinator = self.coordinator.borrow_mut();
        let Ok(epoch) = epoch else {
            *coordinator = None;
            return Err(ErrorCode::NotLeader);
        };
        if coordinator.as_ref().map(|(e, _)| *e) != Some(epoch) {
            let rules = Rules {
                strategy: config.group.strategy,
                partitions: config.partitions,
                session_timeout: config.group.session_timeout,
                rebalance_timeout: config.group.max_poll_interval,
            };
            *coordinator = Some((epoch, Group::new(rules)));
        }
        Ok(f(&mut coordinator.as_mut().expect("set above").1))
    }

    /// Records a completed rebalance and wakes the members waiting in
    /// JoinGroup.
    fn rebalanced(&self, group: &str, done: Option<Rebalanced>) {
        if let Some(r) = done {
            self.ctx.history.record(
                &self.host,
                EventKind::Rebalance {
                    group: group.to_string(),
                    generation: r.generation,
                    members: r.members,
                },
            );
        }
        self.group_changed.notify_waiters();
    }

    /// Serves a JoinGroup: answered once the join phase ends, with the
    /// member's generation and partitions.
    pub(super) async fn join_group(
        &self,
        group: &str,
        member: &str,
        owned: Vec<PartitionId>,
    ) -> Result<(u32, Vec<PartitionId>), ErrorCode> {
        let (since, done) = self.with_group(|g| (g.generation(), g.join(member, owned, now())))?;
        self.rebalanced(group, done);
        let recheck = self.ctx.config.group.heartbeat_interval;
        loop {
            let notified = self.group_changed.notified();
            match self.with_group(|g| g.join_result(member, since))? {
                JoinResult::Joined(generation, partitions) => return Ok((generation, partitions)),
                JoinResult::UnknownMember => return Err(ErrorCode::UnknownMemberId),
                JoinResult::Waiting => {}
            }
            let _ = tokio::time::timeout(recheck, notified).await;
        }
    }

    /// Serves a heartbeat.
    pub(super) fn group_heartbeat(&self, member: &str, generation: u32) -> Result<(), ErrorCode> {
        standing(self.with_group(|g| g.heartbeat(member, generation, now()))?)
    }

    /// Serves a LeaveGroup.
    pub(super) fn leave_group(&self, group: &str, member: &str) -> Result<(), ErrorCode> {
        let (_, done) = self.with_group(|g| g.leave(member, now()))?;
        self.rebalanced(group, done);
        Ok(())
    }

    /// Whether a commit from `token` may be stored: only a member of the
    /// current generation may commit, even mid-rebalance.
    pub(super) fn check_commit(&self, token: &MemberToken) -> Result<(), ErrorCode> {
        match self.with_group(|g| g.standing(&token.member, token.generation))? {
            Standing::RebalanceInProgress => Ok(()),
            other => standing(other),
        }
    }

    /// Expires silent members and overdue join phases, for as long as the
    /// broker runs; spawned only when consumers use `subscribe()`.
    pub(super) async fn coordinate(self: std::rc::Rc<Self>) {
        let every = self.ctx.config.group.heartbeat_interval;
        loop {
            tokio::time::sleep(every).await;
            if let Ok((gone, done)) = self.with_group(|g| g.tick(now())) {
                if !gone.is_empty() || done.is_some() {
                    self.rebalanced(GROUP, done);
                }
            }
        }
    }
}

fn standing(s: Standing) -> Result<(), ErrorCode> {
    match s {
        Standing::Current => Ok(()),
        Standing::RebalanceInProgress => Err(ErrorCode::RebalanceInProgress),
        Standing::UnknownMember => Err(ErrorCode::UnknownMemberId),
        Standing::IllegalGeneration => Err(ErrorCode::IllegalGeneration),
    }
}
