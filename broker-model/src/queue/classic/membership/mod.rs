//! The rules of classic queue mirroring, kept free of I/O so they can be
//! tested on their own: a master's bookkeeping of its mirrors (who joined
//! when, who is synchronised, who has which changes), which mirror takes
//! over from a lost master, and what a starting node does with a mirrored
//! queue.

use std::collections::BTreeMap;

use crate::queue::config::{Promote, SyncMode};
use crate::queue::protocol::{Incarnation, Location, MemberInfo, MirrorFetch, NodeId, QueueStatus};

#[derive(Clone, Debug, PartialEq, Eq)]
struct Member {
    id: u64,
    order: u64,
    /// `None` until a declared mirror joins.
    incarnation: Option<Incarnation>,
    /// The first change it gets from the master's change list.
    joined_at: u64,
    /// The next change it asked for: it holds every change before.
    progress: Option<u64>,
    synced: bool,
    /// For a mirror that joined empty: it becomes synchronised once every
    /// message older than this position has left the queue. `None` for a
    /// mirror that was given the whole queue.
    sync_mark: Option<u64>,
}

/// How a mirror joined.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Joined {
    /// Its membership id.
    pub(crate) member: u64,
    /// Whether it is given a copy of the whole queue.
    pub(crate) snapshot: bool,
}

/// What a master learnt from a mirror's fetch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fetch {
    /// A current member: its progress is recorded.
    Member,
    /// Not a member (any more) under the id it gave: it must join.
    Stranger,
}

/// Whether a look at the queue's oldest message synchronised any mirror.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SyncRefresh {
    /// No mirror changed.
    Unchanged,
    /// At least one mirror that joined empty is now synchronised.
    Synchronised,
}

/// A master's mirrors.
#[derive(Clone, Debug, Default)]
pub(crate) struct Mirrors {
    members: BTreeMap<NodeId, Member>,
    next_id: u64,
    next_order: u64,
    /// Mirrors of the previous master that may carry on under this one,
    /// with their age.
    successors: BTreeMap<NodeId, u64>,
}

impl Mirrors {
    /// No mirrors. `successors` are the previous master's other mirrors
    /// when this master was promoted (none when it started from disk).
    pub(crate) fn new(successors: &[MemberInfo]) -> Self {
        let successors: BTreeMap<NodeId, u64> =
            successors.iter().map(|m| (m.node, m.order)).collect();
        let next_order = successors.values().max().map_or(1, |o| o + 1);
        Mirrors {
            members: BTreeMap::new(),
            next_id: 1,
            next_order,
            successors,
        }
    }

    /// The mirrors of a newly declared queue: RabbitMQ starts them as part
    /// of declaring it, so they count (and confirms wait for them) before
    /// they have fetched anything, and they join holding the whole (empty)
    /// queue.
    pub(crate) fn declared(nodes: &[NodeId]) -> Self {
        let members: Vec<MemberInfo> = nodes
            .iter()
            .enumerate()
            .map(|(i, n)| MemberInfo {
                node: *n,
                order: i as u64 + 1,
                synced: false,
                incarnation: None,
            })
            .collect();
        let mut m = Mirrors::new(&members);
        for info in members {
            m.members.insert(
                info.node,
                Member {
                    id: 0,
                    order: info.order,
                    incarnation: None,
                    joined_at: 0,
                    progress: None,
                    synced: false,
                    sync_mark: None,
                },
            );
        }
        m
    }

    /// Adds (or re-adds) the sender of `req` as a mirror continuing from
    /// change `at`.
    ///
    /// A mirror that was, without interruption, a member of the group the
    /// previous master led (`carry_from` is the previous epoch in its request) already
    /// holds the group's messages, so it is handed the queue and keeps its
    /// age. Any other mirror joins young: with `ha-sync-mode = automatic`
    /// it is handed the queue, with `manual` it starts empty and becomes
    /// synchronised only once the older messages are consumed.
    pub(crate) fn join(
        &mut self,
        req: &MirrorFetch,
        epoch: u32,
        at: u64,
        sync: SyncMode,
        next_seq: u64,
    ) -> Joined {
        let (node, incarnation) = (req.node, req.incarnation);
        let carried =
            req.carry_from.is_some_and(|e| e + 1 == epoch) && self.successors.contains_key(&node);
        let order = if carried {
            self.successors[&node]
        } else {
            let o = self.next_order;
            self.next_order += 1;
            o
        };
        self.successors.remove(&node);
        let snapshot = carried || sync == SyncMode::Automatic;
        let id = self.next_id;
        self.next_id += 1;
        self.members.insert(
            node,
            Member {
                id,
                order,
                incarnation: Some(incarnation),
                joined_at: at,
                progress: None,
                synced: false,
                sync_mark: (!snapshot).then_some(next_seq),
            },
        );
        Joined {
            member: id,
            snapshot,
        }
    }

    /// The membership `id` of `node` asked for changes from `from`: it
    /// holds every change before.
    pub(crate) fn fetched(&mut self, node: NodeId, id: u64, from: u64) -> Fetch {
        let Some(m) = self
            .members
            .get_mut(&node)
            .filter(|m| m.id == id && m.incarnation.is_some())
        else {
            return Fetch::Stranger;
        };
        m.progress = Some(m.progress.map_or(from, |p| p.max(from)));
        if m.sync_mark.is_none() {
            m.synced = true;
        }
        Fetch::Member
    }

    /// Whether every mirror holds change `index`, or joined after it.
    pub(crate) fn cover(&self, index: u64) -> bool {
        self.members
            .values()
            .all(|m| m.joined_at > index || m.progress.is_some_and(|p| p > index))
    }

    /// Marks synchronised the mirrors that joined empty once nothing older
    /// than their joining remains (`oldest` is the oldest position held).
    pub(crate) fn refresh_sync(&mut self, oldest: Option<u64>) -> SyncRefresh {
        let mut changed = SyncRefresh::Unchanged;
        for m in self.members.values_mut() {
            if let (false, Some(mark)) = (m.synced, m.sync_mark) {
                if oldest.is_none_or(|o| o >= mark) {
                    m.synced = true;
                    changed = SyncRefresh::Synchronised;
                }
            }
        }
        changed
    }

    /// Drops the mirrors `lost` says are gone; returns their nodes.
    pub(crate) fn prune(
        &mut self,
        lost: impl Fn(NodeId, Option<Incarnation>) -> bool,
    ) -> Vec<NodeId> {
        let gone: Vec<NodeId> = self
            .members
            .iter()
            .filter(|(n, m)| lost(**n, m.incarnation))
            .map(|(n, _)| *n)
            .collect();
        for n in &gone {
            self.members.remove(n);
        }
        gone
    }

    /// Every mirror, as mirrors are told.
    pub(crate) fn list(&self) -> Vec<MemberInfo> {
        self.members
            .iter()
            .map(|(n, m)| MemberInfo {
                node: *n,
                order: m.order,
                synced: m.synced,
                incarnation: m.incarnation,
            })
            .collect()
    }
}

/// Which mirror takes over when `master` is lost: the oldest one still
/// alive that has joined, provided `policy` lets it (`when-synced` passes
/// over mirrors that are not synchronised). `None` leaves the queue without
/// a master.
pub(crate) fn successor(
    members: &[MemberInfo],
    master: NodeId,
    alive: impl Fn(&MemberInfo) -> bool,
    policy: Promote,
) -> Option<NodeId> {
    members
        .iter()
        .filter(|m| m.node != master && m.incarnation.is_some() && alive(m))
        .filter(|m| policy == Promote::Always || m.synced)
        .min_by_key(|m| m.order)
        .map(|m| m.node)
}

/// What a node whose mirrored queue has no master it knows of should do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resolution {
    /// Follow this master.
    Follow(Location),
    /// Become master, in this epoch, with what its disk holds.
    BecomeMaster {
        /// The new epoch.
        epoch: u32,
    },
    /// Wait: a mirror is about to take over, or the last master is away.
    Wait,
}

/// Decides, from the peers that answered and this node's last record, what
/// node `me` does with a mirrored queue whose first master is `home`.
///
/// A live master wins. Otherwise, while some live mirror could still be
/// promoted, it waits for that. Otherwise the node named by the newest
/// record resumes as master from its disk (the first start counts the home
/// node as named), and everyone else waits for it: a queue whose last master
/// is away stays unavailable, as RabbitMQ's does.
pub(crate) fn resolve(
    me: NodeId,
    home: NodeId,
    record: Option<Location>,
    statuses: &[(NodeId, QueueStatus)],
) -> Resolution {
    let master = statuses
        .iter()
        .filter_map(|(_, s)| match s {
            QueueStatus::Master(l) => Some(*l),
            _ => None,
        })
        .reduce(|a, b| if b.newer_than(&a) { b } else { a });
    if let Some(l) = master {
        return Resolution::Follow(l);
    }
    if statuses.iter().any(|(_, s)| {
        matches!(
            s,
            QueueStatus::Mirror {
                promotable: true,
                ..
            }
        )
    }) {
        return Resolution::Wait;
    }
    match newest_record(record, statuses) {
        None if me == home => Resolution::BecomeMaster { epoch: 1 },
        Some(l) if l.node == me => Resolution::BecomeMaster { epoch: l.epoch + 1 },
        _ => Resolution::Wait,
    }
}

/// The newest record of where a queue's master is among this node's own
/// and those its peers report. A waiting node takes it as its own, as a
/// RabbitMQ node that rejoins takes the cluster's copy of the queue record
/// from Mnesia: its disk may still name a master that has long been
/// replaced.
pub(crate) fn newest_record(
    record: Option<Location>,
    statuses: &[(NodeId, QueueStatus)],
) -> Option<Location> {
    statuses
        .iter()
        .filter_map(|(_, s)| match s {
            QueueStatus::Starting { record } | QueueStatus::Waiting { record } => *record,
            QueueStatus::Mirror { following, .. } => Some(*following),
            QueueStatus::Master(_) => None,
        })
        .chain(record)
        .reduce(|a, b| if b.newer_than(&a) { b } else { a })
}

#[cfg(test)]
mod tests;
