//! A quorum queue's dead letters under `dead-letter-strategy =
//! at-least-once`: rabbit_fifo_dlx's `discards`.
//!
//! "The source quorum queue retains the dead-lettered messages within the
//! queue until they have been successfully delivered to the target queue"
//! (RabbitMQ docs, "Dead Letter Exchanges"). A message the queue removes
//! (expired, over its delivery limit) leaves the ready messages and joins
//! the discards, part of the state every member builds by applying the Raft
//! log: they survive a change of leader or a crash of every member as the
//! rest of the queue does. Only a committed `settle` from the dead-letter
//! worker, once every target queue confirmed the message, takes one out.
//! Until then it counts toward the queue's length limits, as rabbit_fifo's
//! `is_over_limit` adds the dead-letter state's message count.
//!
//! Kept free of I/O so the rules can be tested on their own.

use std::collections::BTreeMap;

use crate::history::DropReason;
use crate::queue::protocol::Stored;

/// One dead letter the queue keeps: the message and why it was removed
/// (its `x-death` reason).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Discarded {
    /// The message, as the queue held it.
    pub(crate) stored: Stored,
    /// What removed it from the ready messages.
    pub(crate) reason: DropReason,
}

/// The dead letters a quorum queue keeps, by their position in the log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Discards {
    kept: BTreeMap<u64, Discarded>,
}

impl Discards {
    /// Keeps the `removed` messages, dead-lettered for `reason`.
    pub(crate) fn keep(&mut self, reason: DropReason, removed: &[(u64, Stored)]) {
        for (seq, stored) in removed {
            self.kept.insert(
                *seq,
                Discarded {
                    stored: *stored,
                    reason,
                },
            );
        }
    }

    /// Takes out the dead letters at `seqs`, which every target confirmed;
    /// returns how many it held.
    pub(crate) fn settle(&mut self, seqs: &[u64]) -> usize {
        seqs.iter()
            .filter(|s| self.kept.remove(s).is_some())
            .count()
    }

    /// Takes out the dead letter at `seq`, dropped with its queue.
    pub(crate) fn take(&mut self, seq: u64) -> Option<Discarded> {
        self.kept.remove(&seq)
    }

    /// How many dead letters are kept: what they add to the queue's length.
    pub(crate) fn len(&self) -> u64 {
        self.kept.len() as u64
    }

    /// The dead letter at `seq`, if it is still kept.
    pub(crate) fn get(&self, seq: u64) -> Option<&Discarded> {
        self.kept.get(&seq)
    }

    /// Whether the dead letter at `seq` is still kept.
    pub(crate) fn contains(&self, seq: u64) -> bool {
        self.kept.contains_key(&seq)
    }

    /// The positions of every kept dead letter, oldest first.
    pub(crate) fn seqs(&self) -> impl Iterator<Item = u64> + '_ {
        self.kept.keys().copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::MsgId;

    fn stored(seq: u32) -> Stored {
        Stored {
            msg: MsgId::new(1, seq),
            persistent: true,
            redelivered: false,
            enqueued_us: 0,
            dead_letter: None,
        }
    }

    #[test]
    fn a_dead_lettered_message_is_kept_with_its_reason_until_it_is_settled() {
        let mut d = Discards::default();
        d.keep(DropReason::Expired, &[(3, stored(3)), (5, stored(5))]);
        assert_eq!(d.len(), 2);
        assert_eq!(d.get(3).map(|x| x.reason), Some(DropReason::Expired));
        assert_eq!(d.seqs().collect::<Vec<_>>(), vec![3, 5]);
        assert_eq!(d.settle(&[3]), 1);
        assert!(!d.contains(3) && d.contains(5));
        assert_eq!(d.len(), 1);
    }

    #[test]
    fn settling_a_dead_letter_twice_or_one_never_kept_changes_nothing() {
        let mut d = Discards::default();
        d.keep(DropReason::DeliveryLimit, &[(7, stored(7))]);
        assert_eq!(d.settle(&[7]), 1);
        assert_eq!(d.settle(&[7, 8]), 0);
        assert_eq!(d.len(), 0);
    }

    #[test]
    fn every_member_applying_the_same_commands_keeps_the_same_dead_letters() {
        let apply = || {
            let mut d = Discards::default();
            d.keep(DropReason::Expired, &[(1, stored(1)), (2, stored(2))]);
            d.keep(DropReason::DeliveryLimit, &[(4, stored(4))]);
            d.settle(&[2]);
            d
        };
        let (leader, follower) = (apply(), apply());
        assert_eq!(leader, follower);
        assert_eq!(leader.seqs().collect::<Vec<_>>(), vec![1, 4]);
    }
}
