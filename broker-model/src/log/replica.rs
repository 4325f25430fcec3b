//! One broker's copy of one partition: its log, high watermark and role.
//!
//! This is the replication protocol's state machine, kept free of I/O so it
//! can be tested on its own; the broker drives it from network requests.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::history::MsgId;
use crate::log::protocol::{BrokerId, PartitionId, PartitionState, Payload, Record};

/// What a replica is doing for its partition.
#[derive(Clone, Debug, PartialEq)]
pub enum Role {
    /// Just started; waiting for the controller's word.
    Unknown,
    /// The controller says no replica may lead.
    Offline,
    /// Leading, with what the leader tracks of its followers.
    Leader(Leadership),
    /// Replicating from a leader.
    Follower {
        /// The leader.
        leader: BrokerId,
    },
}

/// What a leader tracks.
#[derive(Clone, Debug, PartialEq)]
pub struct Leadership {
    /// All replicas of the partition.
    pub replicas: Vec<BrokerId>,
    /// The in-sync set as last committed by the controller.
    pub isr: Vec<BrokerId>,
    /// The controller's partition epoch for `isr`.
    pub partition_epoch: u32,
    /// An in-sync set proposed to the controller and not yet answered.
    pub proposed: Option<Vec<BrokerId>>,
    /// The log end when this leadership began: a follower must reach it
    /// before it may rejoin the in-sync set.
    pub epoch_start: u64,
    /// Per follower, what its fetches told us.
    pub followers: BTreeMap<BrokerId, Progress>,
    /// The end of the records sent to at least one follower.
    pub replicated_end: u64,
}

/// A follower's progress as seen by the leader.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    /// The follower's log end, from its last fetch offset.
    pub log_end: u64,
    /// The last time the follower was fully caught up.
    pub last_caught_up: Duration,
    last_fetch_at: Duration,
    leader_end_at_last_fetch: u64,
}

/// A replica of one partition.
#[derive(Clone, Debug)]
pub struct Replica {
    /// The partition.
    pub partition: PartitionId,
    /// The broker holding this replica.
    pub me: BrokerId,
    /// The records, offset = index.
    pub log: Vec<Record>,
    /// Records below this offset are committed.
    pub high_watermark: u64,
    /// The newest leader epoch this replica has heard of.
    pub leader_epoch: u32,
    /// What it is doing.
    pub role: Role,
    /// The end of what this replica, as leader, has acknowledged to
    /// producers (in memory only; for observation).
    pub acked_end: u64,
    dedupe: BTreeMap<(u64, MsgId), u64>,
}

impl Replica {
    /// An empty replica on broker `me`.
    pub fn new(partition: PartitionId, me: BrokerId) -> Self {
        Replica {
            partition,
            me,
            log: Vec::new(),
            high_watermark: 0,
            leader_epoch: 0,
            role: Role::Unknown,
            acked_end: 0,
            dedupe: BTreeMap::new(),
        }
    }

    /// The offset the next record will get.
    pub fn log_end(&self) -> u64 {
        self.log.len() as u64
    }

    /// The epoch of the last record, 0 for an empty log.
    pub fn last_epoch(&self) -> u32 {
        self.log.last().map_or(0, |r| r.epoch)
    }

    /// Whether this replica currently leads.
    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader(_))
    }

    /// The leadership state, when leading.
    pub fn leadership(&self) -> Option<&Leadership> {
        match &self.role {
            Role::Leader(l) => Some(l),
            _ => None,
        }
    }

    /// The largest epoch not above `epoch` that this log holds records of,
    /// and the offset just past its last record (Kafka's
    /// OffsetsForLeaderEpoch). `(0, 0)` when there is none.
    pub fn epoch_end(&self, epoch: u32) -> (u32, u64) {
        let mut found = (0, 0);
        for r in &self.log {
            if r.epoch > epoch {
                break;
            }
            found = (r.epoch, r.offset + 1);
        }
        found
    }

    /// Appends a new record as leader, returning its offset.
    pub fn append(&mut self, payload: Payload) -> Record {
        let record = Record {
            offset: self.log_end(),
            epoch: self.leader_epoch,
            payload,
        };
        self.push(record.clone());
        record
    }

    /// Appends a record copied from the leader.
    pub fn push(&mut self, record: Record) {
        debug_assert_eq!(record.offset, self.log_end());
        if let Payload::Message { msg, producer } = &record.payload {
            self.dedupe.insert((*producer, *msg), record.offset);
        }
        self.log.push(record);
    }

    /// Removes every record at or after `to`, returning them.
    pub fn truncate(&mut self, to: u64) -> Vec<Record> {
        let to = to.min(self.log_end());
        let removed = self.log.split_off(to as usize);
        for r in &removed {
            if let Payload::Message { msg, producer } = &r.payload {
                self.dedupe.remove(&(*producer, *msg));
            }
        }
        self.high_watermark = self.high_watermark.min(to);
        self.acked_end = self.acked_end.min(to);
        removed
    }

    /// Where an idempotent producer's message already sits, if it does.
    pub fn duplicate_of(&self, producer: u64, msg: MsgId) -> Option<u64> {
        self.dedupe.get(&(producer, msg)).copied()
    }

    /// Starts leading in the epoch of `state`.
    pub fn become_leader(&mut self, state: &PartitionState, now: Duration) {
        let followers = state
            .replicas
            .iter()
            .filter(|b| **b != self.me)
            .map(|b| {
                (
                    *b,
                    Progress {
                        log_end: 0,
                        last_caught_up: now,
                        last_fetch_at: now,
                        leader_end_at_last_fetch: 0,
                    },
                )
            })
            .collect();
        self.leader_epoch = state.leader_epoch;
        self.role = Role::Leader(Leadership {
            replicas: state.replicas.clone(),
            isr: state.isr.clone(),
            partition_epoch: state.partition_epoch,
            proposed: None,
            epoch_start: self.log_end(),
            followers,
            replicated_end: 0,
        });
        self.acked_end = 0;
        self.update_high_watermark();
    }

    /// Starts following `leader` (or goes offline) in `epoch`.
    pub fn become_follower(&mut self, leader: Option<BrokerId>, epoch: u32) {
        self.leader_epoch = epoch;
        self.acked_end = 0;
        self.role = match leader {
            Some(l) => Role::Follower { leader: l },
            None => Role::Offline,
        };
    }

    /// Adopts an in-sync set the controller committed for our epoch.
    pub fn adopt_isr(&mut self, isr: &[BrokerId], partition_epoch: u32) -> bool {
        let Role::Leader(l) = &mut self.role else {
            return false;
        };
        if partition_epoch <= l.partition_epoch {
            return false;
        }
        l.isr = isr.to_vec();
        l.partition_epoch = partition_epoch;
        l.proposed = None;
        self.update_high_watermark();
        true
    }

    /// For a follower fetching from `offset` whose record before it has
    /// `last_epoch`: where the follower must truncate to, if its log diverged
    /// from ours. Returns `(epoch, end)` as in [`Replica::epoch_end`].
    pub fn divergence(&self, offset: u64, last_epoch: u32) -> Option<(u32, u64)> {
        if offset == 0 {
            return None;
        }
        let (epoch, end) = self.epoch_end(last_epoch);
        (epoch != last_epoch || end < offset).then_some((epoch, end))
    }

    /// Where this follower must truncate to, given the leader's answer
    /// `(epoch, end)` to a diverging fetch.
    pub fn truncation_point(&self, epoch: u32, end: u64) -> u64 {
        let (_, mine) = self.epoch_end(epoch);
        end.min(mine)
    }

    /// Records a follower's fetch from `offset`, which tells the leader the
    /// follower's log end. Returns whether the high watermark advanced.
    pub fn follower_fetched(&mut self, follower: BrokerId, offset: u64, now: Duration) -> bool {
        let end = self.log_end();
        let Role::Leader(l) = &mut self.role else {
            return false;
        };
        let Some(p) = l.followers.get_mut(&follower) else {
            return false;
        };
        if offset >= end {
            p.last_caught_up = now;
        } else if offset >= p.leader_end_at_last_fetch {
            p.last_caught_up = p.last_caught_up.max(p.last_fetch_at);
        }
        p.leader_end_at_last_fetch = end;
        p.last_fetch_at = now;
        p.log_end = offset;
        self.update_high_watermark()
    }

    /// The in-sync set used to decide what is committed: the committed set
    /// plus any members being added, so that a record counts as committed
    /// only once every replica that might be elected holds it.
    pub fn maximal_isr(&self) -> Vec<BrokerId> {
        let Some(l) = self.leadership() else {
            return Vec::new();
        };
        let mut isr = l.isr.clone();
        for b in l.proposed.iter().flatten() {
            if !isr.contains(b) {
                isr.push(*b);
            }
        }
        isr
    }

    /// Moves the high watermark up to what every member of the maximal
    /// in-sync set holds. Returns whether it moved.
    pub fn update_high_watermark(&mut self) -> bool {
        let Some(l) = self.leadership() else {
            return false;
        };
        let committed = self
            .maximal_isr()
            .iter()
            .map(|b| {
                if *b == self.me {
                    self.log_end()
                } else {
                    l.followers.get(b).map_or(0, |p| p.log_end)
                }
            })
            .min()
            .unwrap_or(0)
            .min(self.log_end());
        if committed > self.high_watermark {
            self.high_watermark = committed;
            true
        } else {
            false
        }
    }

    /// The in-sync set this leader wants now, if it differs from the
    /// committed one and no proposal is in flight: laggards out (caught up
    /// less recently than `lag_max`), caught-up followers back in.
    pub fn wanted_isr(&self, now: Duration, lag_max: Duration) -> Option<Vec<BrokerId>> {
        let l = self.leadership()?;
        if l.proposed.is_some() {
            return None;
        }
        let lagging = |b: &BrokerId| {
            *b != self.me
                && l.followers
                    .get(b)
                    .is_none_or(|p| now.saturating_sub(p.last_caught_up) > lag_max)
        };
        let shrunk: Vec<BrokerId> = l.isr.iter().copied().filter(|b| !lagging(b)).collect();
        if shrunk.len() != l.isr.len() {
            return Some(shrunk);
        }
        let joining: Vec<BrokerId> = l
            .replicas
            .iter()
            .copied()
            .filter(|b| !l.isr.contains(b))
            .filter(|b| {
                l.followers.get(b).is_some_and(|p| {
                    p.log_end >= self.high_watermark
                        && p.log_end >= l.epoch_start
                        && now.saturating_sub(p.last_caught_up) <= lag_max
                })
            })
            .collect();
        if joining.is_empty() {
            return None;
        }
        Some(
            l.replicas
                .iter()
                .copied()
                .filter(|b| l.isr.contains(b) || joining.contains(b))
                .collect(),
        )
    }

    /// Notes that records up to `end` were sent to a follower.
    pub fn sent_to_follower(&mut self, end: u64) {
        if let Role::Leader(l) = &mut self.role {
            l.replicated_end = l.replicated_end.max(end);
        }
    }

    /// Notes that `isr` was proposed to the controller.
    pub fn propose_isr(&mut self, isr: Vec<BrokerId>) {
        if let Role::Leader(l) = &mut self.role {
            l.proposed = Some(isr);
        }
    }

    /// Forgets a proposal the controller did not accept.
    pub fn drop_proposal(&mut self) {
        if let Role::Leader(l) = &mut self.role {
            l.proposed = None;
        }
    }

    /// The latest committed position of `group` in `partition` (offsets
    /// partition only), reading committed records only.
    pub fn committed_offset(&self, group: &str, partition: PartitionId) -> Option<u64> {
        self.log[..self.high_watermark as usize]
            .iter()
            .rev()
            .find_map(|r| match &r.payload {
                Payload::Commit {
                    group: g,
                    partition: p,
                    offset,
                } if g == group && *p == partition => Some(*offset),
                _ => None,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(seq: u32) -> Payload {
        Payload::Message {
            msg: MsgId::new(1, seq),
            producer: 7,
        }
    }

    fn state(leader: BrokerId, epoch: u32, isr: &[BrokerId]) -> PartitionState {
        PartitionState {
            partition: 0,
            replicas: vec![1, 2, 3],
            leader: Some(leader),
            leader_epoch: epoch,
            isr: isr.to_vec(),
            partition_epoch: 1,
        }
    }

    const T0: Duration = Duration::ZERO;

    #[test]
    fn high_watermark_waits_for_every_in_sync_follower() {
        let mut r = Replica::new(0, 1);
        r.become_leader(&state(1, 1, &[1, 2, 3]), T0);
        r.append(msg(0));
        r.append(msg(1));
        assert_eq!(r.high_watermark, 0);
        assert!(!r.follower_fetched(2, 2, T0));
        assert!(r.follower_fetched(3, 1, T0));
        assert_eq!(r.high_watermark, 1);
        assert!(r.follower_fetched(3, 2, T0));
        assert_eq!(r.high_watermark, 2);
    }

    #[test]
    fn sole_in_sync_leader_commits_on_append() {
        let mut r = Replica::new(0, 1);
        r.become_leader(&state(1, 1, &[1]), T0);
        r.append(msg(0));
        r.update_high_watermark();
        assert_eq!(r.high_watermark, 1);
    }

    #[test]
    fn laggards_leave_and_caught_up_followers_return() {
        let lag = Duration::from_millis(100);
        let mut r = Replica::new(0, 1);
        r.become_leader(&state(1, 1, &[1, 2, 3]), T0);
        r.append(msg(0));
        r.follower_fetched(2, 1, Duration::from_millis(150));
        assert_eq!(
            r.wanted_isr(Duration::from_millis(150), lag),
            Some(vec![1, 2])
        );
        r.adopt_isr(&[1, 2], 2);
        r.follower_fetched(3, 1, Duration::from_millis(200));
        assert_eq!(
            r.wanted_isr(Duration::from_millis(200), lag),
            Some(vec![1, 2, 3])
        );
    }

    #[test]
    fn a_follower_with_records_from_a_dead_epoch_is_told_to_truncate() {
        // Leader of epoch 1 appended 0..3; a new leader (epoch 2) only had 0..2.
        let mut old = Replica::new(0, 1);
        old.leader_epoch = 1;
        for i in 0..3 {
            old.append(msg(i));
        }
        let mut new = Replica::new(0, 2);
        new.leader_epoch = 1;
        new.append(msg(0));
        new.append(msg(1));
        new.leader_epoch = 2;
        new.append(msg(9));
        let (epoch, end) = new.divergence(old.log_end(), old.last_epoch()).unwrap();
        assert_eq!((epoch, end), (1, 2));
        let to = old.truncation_point(epoch, end);
        let removed = old.truncate(to);
        assert_eq!(removed.len(), 1);
        assert_eq!(removed[0].msg(), Some(MsgId::new(1, 2)));
        assert_eq!(old.duplicate_of(7, MsgId::new(1, 2)), None);
        assert_eq!(new.divergence(old.log_end(), old.last_epoch()), None);
    }

    #[test]
    fn a_follower_whose_epoch_the_leader_never_had_truncates_to_the_common_prefix() {
        let mut leader = Replica::new(0, 1);
        leader.leader_epoch = 1;
        leader.append(msg(0));
        leader.leader_epoch = 3;
        leader.append(msg(1));
        let mut follower = Replica::new(0, 2);
        follower.leader_epoch = 1;
        follower.append(msg(0));
        follower.leader_epoch = 2;
        follower.append(msg(5));
        let (e, end) = leader.divergence(2, 2).unwrap();
        assert_eq!((e, end), (1, 1));
        assert_eq!(follower.truncation_point(e, end), 1);
    }

    #[test]
    fn committed_offsets_are_read_below_the_high_watermark_only() {
        let mut r = Replica::new(1, 1);
        r.become_leader(&state(1, 1, &[1]), T0);
        let commit = |offset| Payload::Commit {
            group: "g".into(),
            partition: 0,
            offset,
        };
        r.append(commit(5));
        r.update_high_watermark();
        r.role = Role::Follower { leader: 2 };
        r.append(commit(9));
        assert_eq!(r.committed_offset("g", 0), Some(5));
        assert_eq!(r.committed_offset("g", 1), None);
    }
}
