//! What a leader tracks of its followers, and the in-sync set it derives
//! from that.
//!
//! A follower is caught up when a fetch reaches the leader's log end, or
//! the end the leader had at the follower's previous fetch (so a follower
//! keeping pace with a busy leader counts, as in Kafka). One not caught up
//! for longer than `replica.lag.time.max.ms` falls out of the in-sync set;
//! one caught up to the high watermark, and to where this leadership
//! began, may rejoin. The controller commits every change; until it does, a
//! member being added already counts for the high watermark, so that a
//! record is committed only once every replica that might be elected holds
//! it. Free of I/O: the broker drives it and asks the controller.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::log::protocol::{BrokerId, PartitionState};

/// What a leader tracks.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Leadership {
    /// All replicas of the partition.
    pub(crate) replicas: Vec<BrokerId>,
    /// The in-sync set as last committed by the controller.
    pub(crate) isr: Vec<BrokerId>,
    /// The controller's partition epoch for `isr`.
    pub(crate) partition_epoch: u32,
    /// An in-sync set proposed to the controller and not yet answered.
    pub(crate) proposed: Option<Vec<BrokerId>>,
    /// The log end when this leadership began: a follower must reach it
    /// before it may rejoin the in-sync set.
    pub(crate) epoch_start: u64,
    /// Per follower, what its fetches told us.
    pub(crate) followers: BTreeMap<BrokerId, Progress>,
    /// The end of the records sent to at least one follower.
    pub(crate) replicated_end: u64,
}

/// A follower's progress as seen by the leader.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Progress {
    /// The follower's log end, from its last fetch offset.
    pub(crate) log_end: u64,
    /// The last time the follower was fully caught up.
    pub(crate) last_caught_up: Duration,
    last_fetch_at: Duration,
    leader_end_at_last_fetch: u64,
}

/// What became of an in-sync set the controller committed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IsrUpdate {
    /// The leader now uses it.
    Adopted,
    /// The leader already has this partition epoch or a newer one.
    Stale,
    /// The replica does not lead, so it keeps no in-sync set.
    NotLeading,
}

impl Progress {
    /// A follower presumed caught up as of `now`, its log end unknown.
    fn new(now: Duration) -> Self {
        Progress {
            log_end: 0,
            last_caught_up: now,
            last_fetch_at: now,
            leader_end_at_last_fetch: 0,
        }
    }

    /// Records a fetch from `offset` at `now`, when the leader's log ends at
    /// `leader_end`.
    pub(crate) fn fetched(&mut self, offset: u64, leader_end: u64, now: Duration) {
        if offset >= leader_end {
            self.last_caught_up = now;
        } else if offset >= self.leader_end_at_last_fetch {
            self.last_caught_up = self.last_caught_up.max(self.last_fetch_at);
        }
        self.leader_end_at_last_fetch = leader_end;
        self.last_fetch_at = now;
        self.log_end = offset;
    }

    fn lagging(&self, now: Duration, lag_max: Duration) -> bool {
        now.saturating_sub(self.last_caught_up) > lag_max
    }
}

impl Leadership {
    /// The leadership `me` takes up in `state`'s epoch with its log ending
    /// at `log_end`; every follower gets a full lag time to show up.
    pub(crate) fn new(state: &PartitionState, me: BrokerId, log_end: u64, now: Duration) -> Self {
        let followers = state
            .replicas
            .iter()
            .filter(|b| **b != me)
            .map(|b| (*b, Progress::new(now)))
            .collect();
        Leadership {
            replicas: state.replicas.clone(),
            isr: state.isr.clone(),
            partition_epoch: state.partition_epoch,
            proposed: None,
            epoch_start: log_end,
            followers,
            replicated_end: 0,
        }
    }

    /// Whether the committed in-sync set has at least `min` members
    /// (`min.insync.replicas`).
    pub(crate) fn has_min_isr(&self, min: u32) -> bool {
        self.isr.len() as u32 >= min
    }

    /// The in-sync set used to decide what is committed: the committed set
    /// plus any members being added.
    pub(crate) fn maximal_isr(&self) -> Vec<BrokerId> {
        let mut isr = self.isr.clone();
        for b in self.proposed.iter().flatten() {
            if !isr.contains(b) {
                isr.push(*b);
            }
        }
        isr
    }

    /// The end of what every member of the maximal in-sync set holds, where
    /// the leader `me` holds `log_end`.
    pub(crate) fn committed_end(&self, me: BrokerId, log_end: u64) -> u64 {
        self.maximal_isr()
            .iter()
            .map(|b| {
                if *b == me {
                    log_end
                } else {
                    self.followers.get(b).map_or(0, |p| p.log_end)
                }
            })
            .min()
            .unwrap_or(0)
            .min(log_end)
    }

    /// The in-sync set leader `me` wants now, if it differs from the
    /// committed one and no proposal is in flight: laggards out (caught up
    /// less recently than `lag_max`), followers caught up to
    /// `high_watermark` and to the epoch start back in. A shrink is
    /// proposed on its own before any expansion.
    pub(crate) fn wanted_isr(
        &self,
        me: BrokerId,
        high_watermark: u64,
        now: Duration,
        lag_max: Duration,
    ) -> Option<Vec<BrokerId>> {
        if self.proposed.is_some() {
            return None;
        }
        let lagging = |b: &BrokerId| {
            *b != me
                && self
                    .followers
                    .get(b)
                    .is_none_or(|p| p.lagging(now, lag_max))
        };
        let shrunk: Vec<BrokerId> = self.isr.iter().copied().filter(|b| !lagging(b)).collect();
        if shrunk.len() != self.isr.len() {
            return Some(shrunk);
        }
        let joining: Vec<BrokerId> = self
            .replicas
            .iter()
            .copied()
            .filter(|b| !self.isr.contains(b))
            .filter(|b| {
                self.followers.get(b).is_some_and(|p| {
                    p.log_end >= high_watermark
                        && p.log_end >= self.epoch_start
                        && !p.lagging(now, lag_max)
                })
            })
            .collect();
        if joining.is_empty() {
            return None;
        }
        Some(
            self.replicas
                .iter()
                .copied()
                .filter(|b| self.isr.contains(b) || joining.contains(b))
                .collect(),
        )
    }

    /// Adopts `isr`, committed by the controller in `partition_epoch`,
    /// unless an answer at least as new was adopted already.
    pub(crate) fn adopt(&mut self, isr: &[BrokerId], partition_epoch: u32) -> IsrUpdate {
        if partition_epoch <= self.partition_epoch {
            return IsrUpdate::Stale;
        }
        self.isr = isr.to_vec();
        self.partition_epoch = partition_epoch;
        self.proposed = None;
        IsrUpdate::Adopted
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAG: Duration = Duration::from_millis(100);

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// Broker 1 leads replicas 1, 2, 3 with `isr` from time zero, its log
    /// ending at `log_end`.
    fn leader(isr: &[BrokerId], log_end: u64) -> Leadership {
        let state = PartitionState {
            partition: 0,
            replicas: vec![1, 2, 3],
            leader: Some(1),
            leader_epoch: 1,
            isr: isr.to_vec(),
            partition_epoch: 1,
            elr: Vec::new(),
            last_known_leader: None,
        };
        Leadership::new(&state, 1, log_end, Duration::ZERO)
    }

    fn fetch(l: &mut Leadership, follower: BrokerId, offset: u64, leader_end: u64, at: u64) {
        l.followers
            .get_mut(&follower)
            .expect("follower")
            .fetched(offset, leader_end, ms(at));
    }

    #[test]
    fn a_silent_follower_stays_in_sync_for_the_lag_time_and_not_a_moment_longer() {
        let mut l = leader(&[1, 2, 3], 0);
        fetch(&mut l, 2, 0, 0, 100);
        assert_eq!(l.wanted_isr(1, 0, ms(100), LAG), None);
        fetch(&mut l, 2, 0, 0, 101);
        assert_eq!(l.wanted_isr(1, 0, ms(101), LAG), Some(vec![1, 2]));
    }

    #[test]
    fn a_follower_keeping_pace_with_a_growing_log_stays_in_sync_without_reaching_its_end() {
        let mut l = leader(&[1, 2], 0);
        // Every fetch reaches the end the leader had at the previous one.
        for (i, at) in (1..=10).zip((50..).step_by(50)) {
            fetch(&mut l, 2, 10 * (i - 1), 10 * i, at);
        }
        assert_eq!(l.wanted_isr(1, 0, ms(500), LAG), None);
    }

    #[test]
    fn a_follower_that_fetches_but_falls_ever_further_behind_leaves_the_isr() {
        let mut l = leader(&[1, 2, 3], 0);
        for (i, at) in (1..=10).zip((50..).step_by(50)) {
            fetch(&mut l, 2, i, 10 * i, at);
            fetch(&mut l, 3, 10 * i, 10 * i, at);
        }
        assert_eq!(l.wanted_isr(1, 0, ms(500), LAG), Some(vec![1, 3]));
    }

    #[test]
    fn the_leader_itself_never_lags() {
        let l = leader(&[1], 0);
        assert_eq!(l.wanted_isr(1, 0, ms(10_000), LAG), None);
    }

    #[test]
    fn a_returning_follower_rejoins_only_once_it_has_reached_the_high_watermark() {
        let mut l = leader(&[1, 2], 0);
        fetch(&mut l, 2, 8, 8, 10);
        fetch(&mut l, 3, 5, 5, 10);
        assert_eq!(l.wanted_isr(1, 8, ms(10), LAG), None);
        fetch(&mut l, 3, 8, 8, 20);
        assert_eq!(l.wanted_isr(1, 8, ms(20), LAG), Some(vec![1, 2, 3]));
    }

    #[test]
    fn a_returning_follower_must_also_reach_the_log_end_the_leadership_began_with() {
        // The leader took over holding 6 records, none of them committed yet.
        let mut l = leader(&[1], 6);
        fetch(&mut l, 2, 4, 6, 10);
        assert_eq!(l.wanted_isr(1, 0, ms(10), LAG), None);
        fetch(&mut l, 2, 6, 6, 20);
        assert_eq!(l.wanted_isr(1, 0, ms(20), LAG), Some(vec![1, 2]));
    }

    #[test]
    fn a_follower_holding_the_high_watermark_but_not_caught_up_lately_does_not_rejoin() {
        let mut l = leader(&[1], 5);
        // Reached the log end once, long ago, then fetched from behind.
        fetch(&mut l, 2, 5, 5, 10);
        fetch(&mut l, 2, 5, 9, 200);
        assert_eq!(l.wanted_isr(1, 5, ms(300), LAG), None);
    }

    #[test]
    fn nothing_more_is_proposed_while_a_proposal_is_in_flight() {
        let mut l = leader(&[1, 2, 3], 0);
        l.proposed = Some(vec![1, 2]);
        assert_eq!(l.wanted_isr(1, 0, ms(1_000), LAG), None);
    }

    #[test]
    fn a_member_being_added_already_holds_back_the_high_watermark() {
        let mut l = leader(&[1, 2], 10);
        fetch(&mut l, 2, 10, 10, 10);
        fetch(&mut l, 3, 4, 10, 10);
        assert_eq!(l.committed_end(1, 10), 10);
        l.proposed = Some(vec![1, 2, 3]);
        assert_eq!(l.committed_end(1, 10), 4);
    }

    #[test]
    fn an_in_sync_set_from_an_older_partition_epoch_is_not_adopted() {
        let mut l = leader(&[1, 2, 3], 0);
        l.proposed = Some(vec![1, 2]);
        assert_eq!(l.adopt(&[1, 2], 3), IsrUpdate::Adopted);
        assert_eq!((l.isr.clone(), l.proposed.clone()), (vec![1, 2], None));
        assert_eq!(l.adopt(&[1, 2, 3], 2), IsrUpdate::Stale);
        assert_eq!(l.adopt(&[1, 2, 3], 3), IsrUpdate::Stale);
        assert_eq!(l.isr, vec![1, 2]);
    }

    #[test]
    fn min_insync_replicas_counts_the_committed_set_not_members_being_added() {
        let mut l = leader(&[1], 0);
        l.proposed = Some(vec![1, 2]);
        assert!(!l.has_min_isr(2));
        assert_eq!(l.adopt(&[1, 2], 2), IsrUpdate::Adopted);
        assert!(l.has_min_isr(2));
    }
}
