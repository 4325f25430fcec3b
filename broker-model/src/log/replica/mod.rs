//! One broker's copy of one partition: its log, high watermark and role.
//!
//! This is the replication protocol's state machine, kept free of I/O so it
//! can be tested on its own; the broker drives it from network requests.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::history::MsgId;
use crate::log::config::Retention;
use crate::log::leadership::{IsrUpdate, Leadership};
use crate::log::protocol::{BrokerId, PartitionId, PartitionState, Payload, Record};
use crate::log::segments::Segments;

/// What a replica is doing for its partition.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Role {
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

/// Whether a change moved the high watermark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum HighWatermark {
    /// More records are committed.
    Advanced,
    /// The high watermark stayed where it was.
    Unchanged,
}

/// Where a record a leader appended stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CommitStatus {
    /// Not yet held by the whole in-sync set.
    Pending,
    /// Below the high watermark with `min.insync.replicas` in sync.
    Committed,
    /// Below the high watermark, but the in-sync set shrank under
    /// `min.insync.replicas` on the way: Kafka answers
    /// `NOT_ENOUGH_REPLICAS_AFTER_APPEND`, though the record stays.
    UnderReplicated,
    /// This replica no longer leads in the record's epoch, or lost the
    /// record: it may or may not survive elsewhere.
    LeadershipLost,
}

/// A replica of one partition.
#[derive(Clone, Debug)]
pub(crate) struct Replica {
    /// The partition.
    pub(crate) partition: PartitionId,
    /// The broker holding this replica.
    pub(crate) me: BrokerId,
    /// The records from `log_start` on: offset = `log_start` + index.
    pub(crate) log: Vec<Record>,
    /// The first offset still held: retention deletes from the front.
    pub(crate) log_start: u64,
    /// Records below this offset are committed.
    pub(crate) high_watermark: u64,
    /// The newest leader epoch this replica has heard of.
    pub(crate) leader_epoch: u32,
    /// What it is doing.
    pub(crate) role: Role,
    /// The end of what this replica, as leader, has acknowledged to
    /// producers (in memory only; for observation).
    pub(crate) acked_end: u64,
    dedupe: BTreeMap<(u64, MsgId), u64>,
    /// Each leader epoch the log holds records of, with the offset of its
    /// first record, in log order: Kafka's leader-epoch cache
    /// (`leader-epoch-checkpoint`), which answers OffsetsForLeaderEpoch
    /// without reading the log.
    epochs: Vec<(u32, u64)>,
    segments: Segments,
    retention: Retention,
    /// KIP-966's strict min ISR: with eligible leader replicas the high
    /// watermark advances only while the in-sync set has this many members.
    strict_min_isr: Option<u32>,
}

impl Replica {
    /// An empty replica on broker `me`.
    pub(crate) fn new(partition: PartitionId, me: BrokerId) -> Self {
        Replica {
            partition,
            me,
            log: Vec::new(),
            log_start: 0,
            high_watermark: 0,
            leader_epoch: 0,
            role: Role::Unknown,
            acked_end: 0,
            dedupe: BTreeMap::new(),
            epochs: Vec::new(),
            segments: Segments::default(),
            retention: Retention::default(),
            strict_min_isr: None,
        }
    }

    /// The same replica, rolling segments and keeping records as `policy`
    /// says.
    pub(crate) fn with_retention(mut self, policy: Retention) -> Self {
        self.retention = policy;
        self
    }

    /// The same replica, its high watermark held while the in-sync set has
    /// fewer than `min_isr` members (KIP-966), so that every replica leaving
    /// the set below that holds every committed record.
    pub(crate) fn with_strict_min_isr(mut self, min_isr: u32) -> Self {
        self.strict_min_isr = Some(min_isr);
        self
    }

    /// The offset the next record will get.
    pub(crate) fn log_end(&self) -> u64 {
        self.log_start + self.log.len() as u64
    }

    /// The records from `from` to `to`, both within the log.
    pub(crate) fn records(&self, from: u64, to: u64) -> &[Record] {
        &self.log[(from - self.log_start) as usize..(to - self.log_start) as usize]
    }

    /// The epoch of the last record, 0 for an empty log.
    pub(crate) fn last_epoch(&self) -> u32 {
        self.log.last().map_or(0, |r| r.epoch)
    }

    /// Whether this replica currently leads.
    pub(crate) fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader(_))
    }

    /// The leadership state, when leading.
    pub(crate) fn leadership(&self) -> Option<&Leadership> {
        match &self.role {
            Role::Leader(l) => Some(l),
            _ => None,
        }
    }

    /// The largest epoch not above `epoch` that this log holds records of,
    /// and the offset just past its last record (Kafka's
    /// OffsetsForLeaderEpoch). For an epoch older than any held, that epoch
    /// and the start of the oldest held.
    pub(crate) fn epoch_end(&self, epoch: u32) -> (u32, u64) {
        let next = self.epochs.partition_point(|(e, _)| *e <= epoch);
        if next == 0 {
            // Older than every epoch held: as Kafka's `endOffsetFor`, the
            // requested epoch ends where the oldest held one starts.
            let first = self
                .epochs
                .first()
                .map_or(self.log_start, |(_, start)| *start);
            return (epoch, first);
        }
        let end = self
            .epochs
            .get(next)
            .map_or(self.log_end(), |(_, start)| *start);
        (self.epochs[next - 1].0, end)
    }

    /// Appends a new record of `bytes` as leader at `timestamp_ms`,
    /// returning it.
    pub(crate) fn append(&mut self, payload: Payload, timestamp_ms: u64, bytes: u32) -> Record {
        let record = Record {
            offset: self.log_end(),
            epoch: self.leader_epoch,
            timestamp_ms,
            bytes,
            payload,
        };
        self.push(record.clone());
        record
    }

    /// Appends a record copied from the leader.
    pub(crate) fn push(&mut self, record: Record) {
        debug_assert_eq!(record.offset, self.log_end());
        if let Payload::Message { msg, producer } = &record.payload {
            self.dedupe.insert((*producer, *msg), record.offset);
        }
        if self.epochs.last().is_none_or(|(e, _)| *e != record.epoch) {
            self.epochs.push((record.epoch, record.offset));
        }
        self.segments
            .appended(&record, &self.log, self.log_start, &self.retention);
        self.log.push(record);
    }

    /// Removes every record at or after `to`, returning them.
    /// A truncation below the log start empties the log, which then starts
    /// at `to`.
    pub(crate) fn truncate(&mut self, to: u64) -> Vec<Record> {
        let to = to.min(self.log_end());
        let removed = if to < self.log_start {
            self.log_start = to;
            std::mem::take(&mut self.log)
        } else {
            self.log.split_off((to - self.log_start) as usize)
        };
        while self.epochs.last().is_some_and(|(_, start)| *start >= to) {
            self.epochs.pop();
        }
        self.forget(&removed);
        self.segments.trimmed(&self.log, self.log_start);
        self.high_watermark = self.high_watermark.min(to);
        self.acked_end = self.acked_end.min(to);
        removed
    }

    /// Removes every record before `start`, returning them: retention
    /// deleting segments, or a follower whose whole log lies before the
    /// leader's log start starting over there (Kafka's
    /// `truncateFullyAndStartAt`). Nothing happens if the log already starts
    /// there or later.
    pub(crate) fn start_at(&mut self, start: u64) -> Vec<Record> {
        if start <= self.log_start {
            return Vec::new();
        }
        let cut = (start.min(self.log_end()) - self.log_start) as usize;
        let removed: Vec<Record> = self.log.drain(..cut).collect();
        self.log_start = start;
        let kept = self.epochs.partition_point(|(_, first)| *first <= start);
        if kept > 0 {
            self.epochs.drain(..kept - 1);
            self.epochs[0].1 = start;
        }
        if self.log.is_empty() {
            self.epochs.clear();
        }
        self.forget(&removed);
        self.segments.trimmed(&self.log, self.log_start);
        self.high_watermark = self.high_watermark.max(start);
        self.acked_end = self.acked_end.max(start);
        removed
    }

    /// Where retention at `now_ms` lets the log start, if it deletes
    /// anything.
    pub(crate) fn retention_point(&self, now_ms: u64) -> Option<u64> {
        self.segments.retention_point(
            &self.log,
            self.log_start,
            self.high_watermark,
            now_ms,
            &self.retention,
        )
    }

    fn forget(&mut self, removed: &[Record]) {
        for r in removed {
            if let Payload::Message { msg, producer } = &r.payload {
                self.dedupe.remove(&(*producer, *msg));
            }
        }
    }

    /// Where an idempotent producer's message already sits, if it does.
    pub(crate) fn duplicate_of(&self, producer: u64, msg: MsgId) -> Option<u64> {
        self.dedupe.get(&(producer, msg)).copied()
    }

    /// Starts leading in the epoch of `state`.
    pub(crate) fn become_leader(&mut self, state: &PartitionState, now: Duration) {
        let leadership = Leadership::new(state, self.me, self.log_end(), now);
        self.leader_epoch = state.leader_epoch;
        self.role = Role::Leader(leadership);
        self.acked_end = 0;
        self.update_high_watermark();
    }

    /// Starts following `leader` (or goes offline) in `epoch`.
    pub(crate) fn become_follower(&mut self, leader: Option<BrokerId>, epoch: u32) {
        self.leader_epoch = epoch;
        self.acked_end = 0;
        self.role = match leader {
            Some(l) => Role::Follower { leader: l },
            None => Role::Offline,
        };
    }

    /// Adopts an in-sync set the controller committed for our epoch.
    pub(crate) fn adopt_isr(&mut self, isr: &[BrokerId], partition_epoch: u32) -> IsrUpdate {
        let Role::Leader(l) = &mut self.role else {
            return IsrUpdate::NotLeading;
        };
        let update = l.adopt(isr, partition_epoch);
        if update == IsrUpdate::Adopted {
            self.update_high_watermark();
        }
        update
    }

    /// For a follower fetching from `offset` whose record before it has
    /// `last_epoch`: where the follower must truncate to, if its log diverged
    /// from ours. Returns `(epoch, end)` as in [`Replica::epoch_end`].
    /// A fetch from the log start or before has nothing before it to
    /// compare.
    pub(crate) fn divergence(&self, offset: u64, last_epoch: u32) -> Option<(u32, u64)> {
        if offset <= self.log_start {
            return None;
        }
        let (epoch, end) = self.epoch_end(last_epoch);
        (epoch != last_epoch || end < offset).then_some((epoch, end))
    }

    /// Where this follower must truncate to, given the leader's answer
    /// `(epoch, end)` to a diverging fetch.
    pub(crate) fn truncation_point(&self, epoch: u32, end: u64) -> u64 {
        let (_, mine) = self.epoch_end(epoch);
        end.min(mine)
    }

    /// Records a follower's fetch from `offset`, which tells the leader the
    /// follower's log end.
    pub(crate) fn follower_fetched(
        &mut self,
        follower: BrokerId,
        offset: u64,
        now: Duration,
    ) -> HighWatermark {
        let end = self.log_end();
        let Role::Leader(l) = &mut self.role else {
            return HighWatermark::Unchanged;
        };
        let Some(p) = l.followers.get_mut(&follower) else {
            return HighWatermark::Unchanged;
        };
        p.fetched(offset, end, now);
        self.update_high_watermark()
    }

    /// Moves the high watermark up to what every member of the maximal
    /// in-sync set holds (with a strict min ISR, only while the committed
    /// set is large enough).
    pub(crate) fn update_high_watermark(&mut self) -> HighWatermark {
        let Some(l) = self.leadership() else {
            return HighWatermark::Unchanged;
        };
        if self.strict_min_isr.is_some_and(|min| !l.has_min_isr(min)) {
            return HighWatermark::Unchanged;
        }
        let committed = l.committed_end(self.me, self.log_end());
        if committed > self.high_watermark {
            self.high_watermark = committed;
            HighWatermark::Advanced
        } else {
            HighWatermark::Unchanged
        }
    }

    /// The in-sync set this leader wants now, if it differs from the
    /// committed one and no proposal is in flight (see
    /// [`Leadership::wanted_isr`]).
    pub(crate) fn wanted_isr(&self, now: Duration, lag_max: Duration) -> Option<Vec<BrokerId>> {
        self.leadership()?
            .wanted_isr(self.me, self.high_watermark, now, lag_max)
    }

    /// Whether this replica leads with at least `min` members in its
    /// committed in-sync set (`min.insync.replicas`).
    pub(crate) fn has_min_isr(&self, min: u32) -> bool {
        self.leadership().is_some_and(|l| l.has_min_isr(min))
    }

    /// Where the record at `offset`, appended as leader in `epoch`, stands
    /// for a producer that asked `min_isr` replicas to hold it.
    pub(crate) fn commit_status(&self, offset: u64, epoch: u32, min_isr: u32) -> CommitStatus {
        let still_leading = self.is_leader() && self.leader_epoch == epoch;
        if !still_leading || self.log_end() <= offset {
            return CommitStatus::LeadershipLost;
        }
        if self.high_watermark <= offset {
            return CommitStatus::Pending;
        }
        if self.has_min_isr(min_isr) {
            CommitStatus::Committed
        } else {
            CommitStatus::UnderReplicated
        }
    }

    /// Notes that records up to `end` were sent to a follower.
    pub(crate) fn sent_to_follower(&mut self, end: u64) {
        if let Role::Leader(l) = &mut self.role {
            l.replicated_end = l.replicated_end.max(end);
        }
    }

    /// Notes that `isr` was proposed to the controller.
    pub(crate) fn propose_isr(&mut self, isr: Vec<BrokerId>) {
        if let Role::Leader(l) = &mut self.role {
            l.proposed = Some(isr);
        }
    }

    /// Takes the controller's answer to this leader's in-sync-set proposal:
    /// the partition as it stands. An answer no newer than what the leader
    /// holds (the change was refused, or a heartbeat brought it first)
    /// still settles the proposal, or no other change could ever be
    /// proposed.
    pub(crate) fn answer_isr(&mut self, isr: &[BrokerId], partition_epoch: u32) -> IsrUpdate {
        let update = self.adopt_isr(isr, partition_epoch);
        if update != IsrUpdate::Adopted {
            self.drop_proposal();
        }
        update
    }

    /// Forgets a proposal the controller did not accept.
    pub(crate) fn drop_proposal(&mut self) {
        if let Role::Leader(l) = &mut self.role {
            l.proposed = None;
        }
    }

    /// The latest committed position of `group` in `partition` (offsets
    /// partition only), reading committed records only.
    pub(crate) fn committed_offset(&self, group: &str, partition: PartitionId) -> Option<u64> {
        self.records(self.log_start, self.high_watermark.max(self.log_start))
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
mod tests;
