//! The group coordinator's state machine for one group, free of I/O: the
//! broker's shell feeds it requests and the clock, and records what it
//! says happened.
//!
//! As Kafka's `GroupCoordinator`: a group is `Empty`, `PreparingRebalance`
//! (the join phase: every known member must send JoinGroup before the
//! rebalance timeout, or is dropped) or `Stable`. A member that joins,
//! leaves (LeaveGroup) or is not heard from for `session.timeout.ms` sends
//! the group back to `PreparingRebalance`; members still in it learn so
//! from their next heartbeat (REBALANCE_IN_PROGRESS) and rejoin. Once all
//! have, the generation is bumped and the partitions are shared again.
//! Offset commits are accepted only from a member of the current
//! generation, which fences a member the group has moved on from.

use std::collections::BTreeMap;
use std::time::Duration;

use super::assign::{assign, cooperative};
use super::MemberId;
use crate::log::config::AssignmentStrategy;
use crate::log::protocol::PartitionId;

/// What the coordinator needs to know of the group's settings.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rules {
    /// `partition.assignment.strategy`.
    pub(crate) strategy: AssignmentStrategy,
    /// The topic's partition count.
    pub(crate) partitions: u32,
    /// `session.timeout.ms`.
    pub(crate) session_timeout: Duration,
    /// The rebalance timeout members send with JoinGroup: their
    /// `max.poll.interval.ms`.
    pub(crate) rebalance_timeout: Duration,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    Empty,
    PreparingRebalance { deadline: Duration },
    Stable,
}

#[derive(Clone, Debug)]
struct Member {
    last_heard: Duration,
    /// Sent JoinGroup in the rebalance under way.
    joined: bool,
    /// The partitions it said it owns when it joined (cooperative
    /// members keep theirs while they rejoin; eager ones own nothing).
    owned: Vec<PartitionId>,
}

/// A completed rebalance: the new generation and its members.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Rebalanced {
    /// The new generation.
    pub(crate) generation: u32,
    /// Its members, in id order.
    pub(crate) members: Vec<MemberId>,
}

/// What a JoinGroup waiting for the join phase to end gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum JoinResult {
    /// The join phase is still open.
    Waiting,
    /// The member's generation and partitions.
    Joined(u32, Vec<PartitionId>),
    /// The member is no longer in the group.
    UnknownMember,
}

/// The answer to a heartbeat, and to an offset commit's membership check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Standing {
    /// A member of the current, stable generation.
    Current,
    /// A member of the current generation while a rebalance is under way
    /// (Kafka still accepts its commits: that is when
    /// `onPartitionsRevoked` commits).
    RebalanceInProgress,
    /// Not a member (removed, or the coordinator moved).
    UnknownMember,
    /// A member, but of an older generation.
    IllegalGeneration,
}

/// Whether a LeaveGroup removed anyone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Left {
    /// The member left; the group rebalances.
    Removed,
    /// No such member.
    Unknown,
}

/// One consumer group as its coordinator holds it.
#[derive(Clone, Debug)]
pub(crate) struct Group {
    rules: Rules,
    generation: u32,
    phase: Phase,
    members: BTreeMap<MemberId, Member>,
    assignment: BTreeMap<MemberId, Vec<PartitionId>>,
}

impl Group {
    /// An empty group, as a coordinator that just took over holds it: the
    /// members find out from their next heartbeat and join again.
    pub(crate) fn new(rules: Rules) -> Self {
        Group {
            rules,
            generation: 0,
            phase: Phase::Empty,
            members: BTreeMap::new(),
            assignment: BTreeMap::new(),
        }
    }

    /// The current generation.
    pub(crate) fn generation(&self) -> u32 {
        self.generation
    }

    /// A JoinGroup from `member`, owning `owned`: adds it if new, opens a
    /// join phase if none is open, and completes the phase if every member
    /// is in.
    pub(crate) fn join(
        &mut self,
        member: &str,
        owned: Vec<PartitionId>,
        now: Duration,
    ) -> Option<Rebalanced> {
        let m = self.members.entry(member.to_string()).or_insert(Member {
            last_heard: now,
            joined: false,
            owned: Vec::new(),
        });
        m.last_heard = now;
        m.joined = true;
        m.owned = owned;
        if !matches!(self.phase, Phase::PreparingRebalance { .. }) {
            self.prepare_rebalance(now);
        }
        self.try_complete(now)
    }

    /// What `member`, which joined while the generation was `since`, gets.
    pub(crate) fn join_result(&self, member: &str, since: u32) -> JoinResult {
        if !self.members.contains_key(member) {
            return JoinResult::UnknownMember;
        }
        if self.generation == since || self.phase != Phase::Stable {
            return JoinResult::Waiting;
        }
        match self.assignment.get(member) {
            Some(parts) => JoinResult::Joined(self.generation, parts.clone()),
            None => JoinResult::Waiting,
        }
    }

    /// A heartbeat from `member` in `generation`.
    pub(crate) fn heartbeat(&mut self, member: &str, generation: u32, now: Duration) -> Standing {
        let standing = self.standing(member, generation);
        if let Some(m) = self.members.get_mut(member) {
            m.last_heard = now;
        }
        standing
    }

    /// Whether `member` may commit offsets in `generation`.
    pub(crate) fn standing(&self, member: &str, generation: u32) -> Standing {
        if !self.members.contains_key(member) {
            Standing::UnknownMember
        } else if generation != self.generation {
            Standing::IllegalGeneration
        } else if self.phase == Phase::Stable {
            Standing::Current
        } else {
            Standing::RebalanceInProgress
        }
    }

    /// A LeaveGroup from `member`.
    pub(crate) fn leave(&mut self, member: &str, now: Duration) -> (Left, Option<Rebalanced>) {
        if self.members.remove(member).is_none() {
            return (Left::Unknown, None);
        }
        (Left::Removed, self.after_removal(now))
    }

    /// Removes members silent for longer than `session.timeout.ms` (one
    /// waiting in JoinGroup is alive, as Kafka keeps it), and ends a join
    /// phase whose rebalance timeout passed by dropping the members that
    /// did not rejoin. Returns the expired members and the completed
    /// rebalance, if any.
    pub(crate) fn tick(&mut self, now: Duration) -> (Vec<MemberId>, Option<Rebalanced>) {
        let preparing = matches!(self.phase, Phase::PreparingRebalance { .. });
        let timed_out = match self.phase {
            Phase::PreparingRebalance { deadline } => now >= deadline,
            _ => false,
        };
        let session = self.rules.session_timeout;
        let gone: Vec<MemberId> = self
            .members
            .iter()
            .filter(|(_, m)| {
                let waiting = preparing && m.joined;
                (!waiting && now >= m.last_heard + session) || (timed_out && !m.joined)
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in &gone {
            self.members.remove(id);
        }
        let done = if gone.is_empty() {
            None
        } else {
            self.after_removal(now)
        };
        (gone, done)
    }

    fn after_removal(&mut self, now: Duration) -> Option<Rebalanced> {
        if self.members.is_empty() {
            self.phase = Phase::Empty;
            self.assignment.clear();
            return None;
        }
        if !matches!(self.phase, Phase::PreparingRebalance { .. }) {
            self.prepare_rebalance(now);
        }
        self.try_complete(now)
    }

    fn prepare_rebalance(&mut self, now: Duration) {
        self.phase = Phase::PreparingRebalance {
            deadline: now + self.rules.rebalance_timeout,
        };
    }

    fn try_complete(&mut self, now: Duration) -> Option<Rebalanced> {
        if self.members.is_empty() || self.members.values().any(|m| !m.joined) {
            return None;
        }
        self.generation += 1;
        self.phase = Phase::Stable;
        let members: Vec<MemberId> = self.members.keys().cloned().collect();
        for m in self.members.values_mut() {
            m.joined = false;
            m.last_heard = now;
        }
        self.assignment = if self.rules.strategy == AssignmentStrategy::CooperativeSticky {
            let owned = self
                .members
                .iter()
                .map(|(id, m)| (id.clone(), m.owned.clone()))
                .collect();
            cooperative(&members, &owned, self.rules.partitions)
        } else {
            assign(self.rules.strategy, &members, self.rules.partitions)
        };
        Some(Rebalanced {
            generation: self.generation,
            members,
        })
    }
}

#[cfg(test)]
mod tests;
