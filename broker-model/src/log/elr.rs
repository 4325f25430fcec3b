//! The controller's rules for one partition's in-sync set, eligible leader
//! replicas and leader, as Kafka's `PartitionChangeBuilder` applies them.
//!
//! Without eligible leader replicas (`eligible.leader.replicas.version` =
//! 0) the in-sync set never empties: its last member is kept as the one
//! replica known to hold every committed record, and is elected again when
//! it comes back, even when an unclean shutdown took part of its log with
//! it. That is KIP-966's "last replica standing": the followers that
//! return truncate to what it kept, and committed records are gone.
//!
//! With version 1 the high watermark advances only while the in-sync set
//! has `min.insync.replicas` members, so a replica that leaves it while it
//! is below that holds every committed record: it joins the eligible leader
//! replicas (ELR), and the in-sync set may empty. Elections take an in-sync
//! replica, else an unfenced ELR member, else the last known leader if it
//! is unfenced; a replica that registers after an unclean shutdown leaves
//! both sets, since what it held may be gone. Free of I/O.

use std::collections::BTreeSet;

use crate::history::LeaderSource;
use crate::log::config::EligibleLeaderReplicas;
use crate::log::protocol::{BrokerId, PartitionState};

/// Whether a change altered a partition's in-sync set, ELR or last known
/// leader.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// Something changed and the partition epoch was bumped.
    Changed,
    /// Nothing changed.
    Unchanged,
}

/// The settings the rules depend on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rules {
    /// `eligible.leader.replicas.version`.
    pub(crate) elr: EligibleLeaderReplicas,
    /// `min.insync.replicas`.
    pub(crate) min_isr: u32,
    /// `unclean.leader.election.enable`.
    pub(crate) unclean_election: bool,
}

impl Rules {
    fn enabled(&self) -> bool {
        self.elr == EligibleLeaderReplicas::Enabled
    }

    /// The in-sync set of `s` once `gone` have left it. Without ELR it
    /// never empties: its last member (the leader if it is one) stays.
    pub(crate) fn isr_without(
        &self,
        s: &PartitionState,
        gone: &BTreeSet<BrokerId>,
    ) -> Vec<BrokerId> {
        let mut isr: Vec<BrokerId> = s
            .isr
            .iter()
            .copied()
            .filter(|b| !gone.contains(b))
            .collect();
        if isr.is_empty() && !self.enabled() {
            let last = s
                .leader
                .filter(|l| s.isr.contains(l))
                .or_else(|| s.isr.first().copied());
            isr.extend(last);
        }
        isr
    }

    /// Sets the in-sync set of `s` to `isr`. With ELR, as Kafka's
    /// `maybePopulateTargetElr`: once the set has `min.insync.replicas`
    /// members the ELR and the last known leader are cleared; below that,
    /// the members leaving join the ELR, except `unclean_shutdown`, which
    /// leaves it too; a set that empties remembers the leader.
    pub(crate) fn set_isr(
        &self,
        s: &mut PartitionState,
        isr: Vec<BrokerId>,
        unclean_shutdown: Option<BrokerId>,
    ) -> Change {
        let (mut elr, mut last_known) = (s.elr.clone(), s.last_known_leader);
        if self.enabled() {
            if isr.len() as u32 >= self.min_isr {
                elr.clear();
                last_known = None;
            } else {
                let leaving: Vec<BrokerId> = s.isr.clone();
                elr = s
                    .replicas
                    .iter()
                    .copied()
                    .filter(|b| elr.contains(b) || leaving.contains(b))
                    .filter(|b| !isr.contains(b) && Some(*b) != unclean_shutdown)
                    .collect();
                if isr.is_empty() && !s.isr.is_empty() && s.leader.is_some() {
                    last_known = s.leader;
                }
            }
        }
        if isr == s.isr && elr == s.elr && last_known == s.last_known_leader {
            return Change::Unchanged;
        }
        s.isr = isr;
        s.elr = elr;
        s.last_known_leader = last_known;
        s.partition_epoch += 1;
        Change::Changed
    }

    /// Takes `broker`, which registered after an unclean shutdown, out of
    /// the in-sync set and the ELR of `s` (Kafka's
    /// `handleBrokerUncleanShutdown`): its log may have lost records it
    /// once held. Nothing happens without ELR.
    pub(crate) fn unclean_shutdown(&self, s: &mut PartitionState, broker: BrokerId) -> Change {
        if !self.enabled() || !(s.isr.contains(&broker) || s.elr.contains(&broker)) {
            return Change::Unchanged;
        }
        let isr = self.isr_without(s, &BTreeSet::from([broker]));
        self.set_isr(s, isr, Some(broker))
    }

    /// The leader an election in `s` would choose among the replicas
    /// `alive` accepts (unfenced), and where it comes from.
    pub(crate) fn choose_leader(
        &self,
        s: &PartitionState,
        alive: impl Fn(BrokerId) -> bool,
    ) -> Option<(BrokerId, LeaderSource)> {
        if let Some(b) = s.isr.iter().copied().find(|b| alive(*b)) {
            return Some((b, LeaderSource::Isr));
        }
        if self.enabled() && s.isr.is_empty() {
            let eligible = s.replicas.iter().copied();
            if let Some(b) = eligible.filter(|b| s.elr.contains(b)).find(|b| alive(*b)) {
                return Some((b, LeaderSource::Elr));
            }
            if s.elr.is_empty() {
                if let Some(b) = s.last_known_leader.filter(|b| alive(*b)) {
                    return Some((b, LeaderSource::LastKnownLeader));
                }
            }
        }
        if self.unclean_election {
            if let Some(b) = s.replicas.iter().copied().find(|b| alive(*b)) {
                return Some((b, LeaderSource::Unclean));
            }
        }
        None
    }

    /// Starts a new leader epoch in `s` led by `choice`, or offline. A
    /// leader from outside the in-sync set becomes its only member; an
    /// unclean one also clears the ELR, which no longer says anything
    /// about who holds the committed records.
    pub(crate) fn install_leader(
        &self,
        s: &mut PartitionState,
        choice: Option<(BrokerId, LeaderSource)>,
    ) {
        s.leader = choice.map(|(b, _)| b);
        s.leader_epoch += 1;
        s.partition_epoch += 1;
        let Some((b, source)) = choice else {
            return;
        };
        match source {
            LeaderSource::Isr => {}
            LeaderSource::Elr => {
                s.isr = vec![b];
                s.elr.retain(|e| *e != b);
            }
            LeaderSource::LastKnownLeader => s.isr = vec![b],
            LeaderSource::Unclean => {
                s.isr = vec![b];
                s.elr.clear();
            }
        }
        s.last_known_leader = None;
    }
}

#[cfg(test)]
mod tests;
