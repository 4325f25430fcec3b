//! One node's state of one quorum queue: its Raft member, the queue as the
//! committed log says, and (as leader) the delivery state.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::clock::now;
use crate::observe::ReplicaView;
use crate::queue::config::QueueConfig;
use crate::queue::fifo::Fifo;
use crate::queue::limits::{Intake, Lease};
use crate::queue::protocol::{Location, LogEntry, NodeId, QueueId, Stored};
use crate::queue::quorum::delivery_count::DeliveryCounts;
use crate::queue::quorum::discards::Discards;
use crate::queue::quorum::raft::Raft;

/// One node's state of one quorum queue.
pub(crate) struct QuorumState {
    pub(crate) q: QueueId,
    pub(crate) me: NodeId,
    pub(crate) home: NodeId,
    /// This node's Raft member, when it is one.
    pub(crate) raft: Option<Raft>,
    /// The queue as the committed log says: enqueued, not yet settled.
    pub(crate) applied: BTreeMap<u64, Stored>,
    /// Every enqueued message's returns, as the committed log says.
    pub(crate) delivery_counts: DeliveryCounts,
    /// The dead letters kept until their targets confirm them, as the
    /// committed log says (`dead-letter-strategy = at-least-once`).
    pub(crate) discards: Discards,
    /// As leader, returned deliveries held aside until their return is
    /// committed and counted.
    pub(crate) returning: BTreeMap<u64, Stored>,
    pub(crate) last_applied: u64,
    /// The leader's delivery state.
    pub(crate) fifo: Option<Fifo>,
    /// As leader, when the queue was last used, for `expires`.
    pub(crate) lease: Lease,
    /// As leader, whether `reject-publish` lets publishes in.
    pub(crate) intake: Intake,
    /// The last leader this node heard of.
    pub(crate) hint: Option<Location>,
    /// When this member last heard from a leader or granted a vote.
    pub(crate) last_contact: Duration,
    pub(crate) confirmed: u64,
    /// As leader, the end of the entries sent to at least one follower.
    pub(crate) sent_end: u64,
}

impl QuorumState {
    /// The state after a start, from the persisted term, vote and log.
    pub(crate) fn new(
        config: &QueueConfig,
        me: NodeId,
        q: QueueId,
        log: Vec<LogEntry>,
        vote: Option<(u64, Option<NodeId>)>,
    ) -> Self {
        let members = config.members(q);
        let raft = members.contains(&me).then(|| {
            let (term, voted_for) = vote.unwrap_or((0, None));
            Raft::new(q, me, members.clone(), term, voted_for, log)
        });
        QuorumState {
            q,
            me,
            home: config.home(q),
            raft,
            applied: BTreeMap::new(),
            delivery_counts: DeliveryCounts::default(),
            discards: Discards::default(),
            returning: BTreeMap::new(),
            last_applied: 0,
            fifo: None,
            lease: Lease::declared(now()),
            intake: Intake::Open,
            hint: None,
            last_contact: now(),
            confirmed: 0,
            sent_end: 0,
        }
    }

    /// Where this node believes the leader is.
    pub(crate) fn location(&self) -> Option<Location> {
        let known = self.raft.as_ref().and_then(|r| {
            r.leader().map(|l| Location {
                epoch: r.term as u32,
                node: l,
                incarnation: None,
            })
        });
        match (known, self.hint) {
            (Some(k), Some(h)) if h.newer_than(&k) => Some(h),
            (Some(k), _) => Some(k),
            (None, h) => h,
        }
    }

    /// What this member publishes: a follower is in sync while its log
    /// reaches the commit index it has heard of.
    pub(crate) fn view(&self) -> Option<ReplicaView> {
        let r = self.raft.as_ref()?;
        let leader = r.is_leader();
        Some(ReplicaView {
            leader,
            epoch: r.term as u32,
            log_end: r.last_index(),
            high_watermark: r.commit,
            acked_end: self.confirmed,
            unreplicated: if leader {
                r.last_index().saturating_sub(self.sent_end)
            } else {
                0
            },
            in_sync: leader || r.last_index() >= r.commit,
            ready: self.fifo.as_ref().map_or(0, Fifo::ready),
            dead_letters: self.discards.len(),
        })
    }

    /// The election timeout: `net_ticktime`, staggered per member and term
    /// so that members rarely stand at once (and never the same ones twice
    /// in a row), without any randomness.
    pub(crate) fn election_timeout(&self, ticktime: Duration) -> Duration {
        let Some(r) = &self.raft else {
            return ticktime;
        };
        let n = r.members.len() as u64;
        let pos = r.members.iter().position(|m| *m == self.me).unwrap_or(0) as u64;
        ticktime + (ticktime / 4) * ((pos + r.term) % n) as u32
    }
}
