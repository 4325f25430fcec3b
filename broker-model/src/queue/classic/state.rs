//! One node's state of one classic queue, and the decisions taken on it
//! alone: what it reports, which news of a master it follows, and how a
//! mirror's copy changes with what its master sends (who masters the queue
//! next is in `succession.rs`). Kept free of I/O so they can be tested on
//! their own.

use std::collections::{BTreeMap, BTreeSet};

use crate::history::{DropReason, MsgId};
use crate::observe::ReplicaView;
use crate::queue::classic::membership::{self, Mirrors};
use crate::queue::config::{Promote, QueueConfig, QueueType};
use crate::queue::fifo::Fifo;
use crate::queue::limits::Lease;
use crate::queue::protocol::{Location, MemberInfo, NodeId, Op, QueueId, QueueStatus, Stored};
use crate::queue::store::Entry;

/// A master's state of its queue.
pub(crate) struct Master {
    pub(crate) location: Location,
    pub(crate) fifo: Fifo,
    /// Every change of this epoch, in order (mirrored queues only).
    pub(crate) ops: Vec<Op>,
    pub(crate) mirrors: Mirrors,
    pub(crate) next_seq: u64,
    pub(crate) confirmed: u64,
    /// The end of the changes sent to at least one mirror.
    pub(crate) sent_ops: u64,
    /// When the queue was last used, for `expires`.
    pub(crate) lease: Lease,
}

/// A mirror's state of its queue (the messages are in `held`).
pub(crate) struct Mirror {
    pub(crate) following: Location,
    /// Its membership id in the master's group, once joined.
    pub(crate) member: Option<u64>,
    /// The next change it asks for.
    pub(crate) next: u64,
    /// The group as the master last described it.
    pub(crate) members: Vec<MemberInfo>,
    /// The epoch of the group it was a member of before, uninterrupted.
    pub(crate) carry_from: Option<u32>,
    /// The master announced an orderly stop.
    pub(crate) master_stopping: bool,
}

/// What this node is for a queue.
pub(crate) enum Role {
    /// Just started; deciding.
    Starting,
    /// No live master it can follow, and it may not become one.
    Waiting,
    /// Not a member: it only routes to the master.
    Absent,
    /// The master.
    Master(Master),
    /// A mirror.
    Mirror(Mirror),
}

/// One node's state of one classic or mirrored queue.
pub(crate) struct ClassicState {
    pub(crate) q: QueueId,
    pub(crate) home: NodeId,
    pub(crate) mirrored: bool,
    pub(crate) member: bool,
    pub(crate) durable: bool,
    pub(crate) role: Role,
    /// Where the cluster last recorded the master.
    pub(crate) record: Option<Location>,
    /// What this node holds while not master: its mirror copy, or what the
    /// disk returned at start.
    pub(crate) held: BTreeMap<u64, Stored>,
    /// The epoch whose group this run has been a member of, uninterrupted.
    pub(crate) member_of: Option<u32>,
}

/// What a mirror's copy lost when it joined a master's group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Adopted {
    /// Messages it held before that the master's copy does not have.
    pub(crate) dropped: Vec<MsgId>,
    /// Whether it was given the master's copy (or starts empty).
    pub(crate) synchronised: bool,
}

/// What a mirror's copy gained from a batch of its master's changes.
#[derive(Clone, Debug, Default)]
pub(crate) struct Applied {
    /// The messages enqueued, in order.
    pub(crate) added: Vec<MsgId>,
    /// The position of the first of them.
    pub(crate) first: Option<u64>,
    /// What to write to the journal, in order.
    pub(crate) journal: Vec<Entry>,
    /// Whether an enqueue was journaled (and must be fsynced).
    pub(crate) journaled_enqueue: bool,
    /// What the master's limits dropped, and why, in order.
    pub(crate) dropped: Vec<(DropReason, Vec<(u64, Stored)>)>,
}

impl ClassicState {
    /// The state after a start: what the disk kept, not yet decided.
    pub(crate) fn new(
        config: &QueueConfig,
        me: NodeId,
        q: QueueId,
        held: BTreeMap<u64, Stored>,
        record: Option<Location>,
    ) -> Self {
        let mirrored = config.queue_type == QueueType::Mirrored;
        let home = config.home(q);
        let member = config.members(q).contains(&me);
        let (role, record) = if mirrored || member {
            (Role::Starting, record)
        } else {
            let home_location = Location {
                epoch: 1,
                node: home,
                incarnation: None,
            };
            (Role::Absent, Some(home_location))
        };
        ClassicState {
            q,
            home,
            mirrored,
            member,
            durable: config.durable,
            role,
            record,
            held,
            member_of: None,
        }
    }

    /// Where this node believes the master is.
    pub(crate) fn location(&self) -> Option<Location> {
        match &self.role {
            Role::Master(m) => Some(m.location),
            Role::Mirror(m) => Some(m.following),
            Role::Starting | Role::Waiting | Role::Absent => self.record,
        }
    }

    /// Notes that the master `location` is stopping in an orderly way.
    pub(crate) fn master_stopping(&mut self, location: Location) {
        if let Role::Mirror(m) = &mut self.role {
            if m.following.node == location.node && m.following.epoch == location.epoch {
                m.master_stopping = true;
            }
        }
    }

    /// The mirrors to tell when this node, as master, stops.
    pub(crate) fn mirror_nodes(&self) -> Vec<(NodeId, Location)> {
        match &self.role {
            Role::Master(m) => m
                .mirrors
                .list()
                .into_iter()
                .map(|i| (i.node, m.location))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// What this node tells a starting peer; `promotable` says whether a
    /// joined mirror is the one that would take over from its master.
    pub(crate) fn status(&self, promotable: impl Fn(&Mirror) -> bool) -> QueueStatus {
        match &self.role {
            Role::Starting => QueueStatus::Starting {
                record: self.record,
            },
            Role::Waiting | Role::Absent => QueueStatus::Waiting {
                record: self.record,
            },
            Role::Master(m) => QueueStatus::Master(m.location),
            Role::Mirror(m) => QueueStatus::Mirror {
                following: m.following,
                promotable: m.member.is_some() && promotable(m),
            },
        }
    }

    /// What node `me` publishes of its replica. A mirror is in sync when
    /// its master's last word says it holds every message.
    pub(crate) fn view(&self, me: NodeId) -> Option<ReplicaView> {
        if !self.member {
            return None;
        }
        Some(match &self.role {
            Role::Master(m) => ReplicaView {
                leader: true,
                epoch: m.location.epoch,
                log_end: m.fifo.len(),
                high_watermark: 0,
                acked_end: m.confirmed,
                unreplicated: if self.mirrored {
                    (m.ops.len() as u64).saturating_sub(m.sent_ops)
                } else {
                    0
                },
                in_sync: true,
                ready: m.fifo.ready(),
                dead_letters: 0,
            },
            other => ReplicaView {
                leader: false,
                epoch: match other {
                    Role::Mirror(m) => m.following.epoch,
                    _ => self.record.map_or(0, |r| r.epoch),
                },
                log_end: self.held.len() as u64,
                high_watermark: 0,
                acked_end: 0,
                unreplicated: 0,
                // A node still deciding, waiting, merely routing, or not yet
                // joined to the master's group is not a mirror, so it is no
                // unsynchronised mirror either.
                in_sync: match other {
                    Role::Mirror(m) if m.member.is_some() => {
                        m.members.iter().any(|i| i.node == me && i.synced)
                    }
                    _ => true,
                },
                ready: 0,
                dead_letters: 0,
            },
        })
    }

    /// Whether news of the master at `location` is worth following, and if
    /// so, the epoch of the group this node carries its messages from.
    /// `None`: ignore it. `Some(carry)`: follow it.
    pub(crate) fn news(&self, location: Location) -> Option<Option<u32>> {
        if !self.mirrored {
            return None;
        }
        let undecided = matches!(self.role, Role::Starting | Role::Waiting);
        let news = match self.location() {
            None => true,
            Some(known) => location.newer_than(&known) || (location == known && undecided),
        };
        if !news {
            return None;
        }
        Some(match &self.role {
            Role::Master(m) if m.location.node == location.node => return None,
            Role::Master(_) => None,
            Role::Mirror(m) => m.carry(),
            Role::Starting | Role::Waiting => self.member_of,
            Role::Absent => None,
        })
    }

    /// Replaces a joining mirror's copy with the master's (`None`: it
    /// starts empty), returning what it lost.
    pub(crate) fn adopt(&mut self, snapshot: Option<Vec<(u64, Stored)>>) -> Adopted {
        let synchronised = snapshot.is_some();
        let copy: BTreeMap<u64, Stored> = snapshot.unwrap_or_default().into_iter().collect();
        let kept: BTreeSet<MsgId> = copy.values().map(|s| s.msg).collect();
        let old = std::mem::replace(&mut self.held, copy);
        let dropped = old
            .values()
            .map(|s| s.msg)
            .filter(|m| !kept.contains(m))
            .collect();
        Adopted {
            dropped,
            synchronised,
        }
    }

    /// Applies a master's changes to this mirror's copy.
    pub(crate) fn apply(&mut self, ops: &[Op]) -> Applied {
        let (q, durable) = (self.q, self.durable);
        let mut out = Applied::default();
        for op in ops {
            match op {
                Op::Enqueue { seq, stored } => {
                    self.held.insert(*seq, *stored);
                    out.first.get_or_insert(*seq);
                    out.added.push(stored.msg);
                    if durable && stored.persistent {
                        out.journal.push(Entry::Enqueue {
                            queue: q,
                            seq: *seq,
                            stored: *stored,
                        });
                        out.journaled_enqueue = true;
                    }
                }
                Op::Remove { seqs } => {
                    self.remove(seqs, &mut out.journal);
                }
                Op::Drop { seqs, reason } => {
                    let removed = self.remove(seqs, &mut out.journal);
                    if !removed.is_empty() {
                        out.dropped.push((*reason, removed));
                    }
                }
            }
        }
        out
    }

    /// Removes `seqs` from this mirror's copy, journaling the removal of
    /// persistent messages of a durable queue; returns what it held.
    fn remove(&mut self, seqs: &[u64], journal: &mut Vec<Entry>) -> Vec<(u64, Stored)> {
        let removed: Vec<(u64, Stored)> = seqs
            .iter()
            .filter_map(|s| self.held.remove(s).map(|m| (*s, m)))
            .collect();
        let on_disk: Vec<u64> = removed
            .iter()
            .filter(|(_, m)| m.persistent)
            .map(|(s, _)| *s)
            .collect();
        if self.durable && !on_disk.is_empty() {
            journal.push(Entry::Remove {
                queue: self.q,
                seqs: on_disk,
            });
        }
        removed
    }
}

impl Mirror {
    /// The epoch of the group whose messages this mirror carries: the one
    /// it has joined, or the one it carried from before joining.
    pub(crate) fn carry(&self) -> Option<u32> {
        match self.member {
            Some(_) => Some(self.following.epoch),
            None => self.carry_from,
        }
    }

    /// The mirror that would take over from this mirror's master under
    /// `policy`; `alive` says which members are still up.
    pub(crate) fn successor(
        &self,
        policy: Promote,
        alive: impl Fn(&MemberInfo) -> bool,
    ) -> Option<NodeId> {
        membership::successor(&self.members, self.following.node, alive, policy)
    }
}

#[cfg(test)]
pub(super) mod tests;
