//! A quorum queue's count of each message's returns, and its
//! `delivery-limit`.
//!
//! RabbitMQ's quorum queue state machine (rabbit_fifo's `return_one`)
//! increments a message's `delivery_count` header every time a delivery
//! comes back to the queue unsettled: a `basic.reject` or `basic.nack` with
//! `requeue = true`, or a consumer that went away holding it (its channel
//! closed, its connection or process died). When the count goes over
//! `delivery-limit` the message is not requeued: it is dropped, or
//! dead-lettered with reason `delivery_limit`. A message with a limit of N
//! is thus delivered at most N + 1 times. The count is state the Raft log
//! replays on every member, so a new leader knows it.
//!
//! Kept free of I/O so the rule can be tested on its own.

use std::collections::BTreeMap;

/// What became of a returned delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Returned {
    /// It goes back to the queue, to be delivered again.
    Requeue,
    /// It came back more often than `delivery-limit` allows: it leaves the
    /// queue.
    OverLimit,
}

/// Every message's returns so far, keyed by its position in the queue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct DeliveryCounts {
    counts: BTreeMap<u64, u32>,
}

impl DeliveryCounts {
    /// Counts a return of the message at `seq` under `limit`.
    pub(crate) fn returned(&mut self, seq: u64, limit: Option<u32>) -> Returned {
        let count = self.counts.entry(seq).or_insert(0);
        *count += 1;
        if limit.is_some_and(|n| *count > n) {
            self.counts.remove(&seq);
            return Returned::OverLimit;
        }
        Returned::Requeue
    }

    /// The returns of the message at `seq` (RabbitMQ's `x-delivery-count`).
    #[cfg(test)]
    pub(crate) fn count(&self, seq: u64) -> u32 {
        self.counts.get(&seq).copied().unwrap_or(0)
    }

    /// Forgets the messages at `seqs`, which left the queue.
    pub(crate) fn forget(&mut self, seqs: &[u64]) {
        for seq in seqs {
            self.counts.remove(seq);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_requeued_until_its_returns_go_over_the_delivery_limit() {
        let mut c = DeliveryCounts::default();
        for n in 1..=3 {
            assert_eq!(c.returned(7, Some(3)), Returned::Requeue);
            assert_eq!(c.count(7), n);
        }
        assert_eq!(c.returned(7, Some(3)), Returned::OverLimit);
        assert_eq!(c.count(7), 0, "a message over the limit is forgotten");
    }

    #[test]
    fn a_message_over_the_delivery_limit_was_delivered_one_time_more_than_the_limit() {
        let mut c = DeliveryCounts::default();
        let mut deliveries = 1;
        while c.returned(1, Some(3)) == Returned::Requeue {
            deliveries += 1;
        }
        assert_eq!(deliveries, 4);
    }

    #[test]
    fn without_a_delivery_limit_a_message_is_requeued_forever() {
        let mut c = DeliveryCounts::default();
        for _ in 0..1000 {
            assert_eq!(c.returned(1, None), Returned::Requeue);
        }
        assert_eq!(c.count(1), 1000);
    }

    #[test]
    fn a_limit_of_zero_drops_a_message_at_its_first_return() {
        let mut c = DeliveryCounts::default();
        assert_eq!(c.returned(1, Some(0)), Returned::OverLimit);
    }

    #[test]
    fn each_message_has_its_own_count_and_a_settled_one_is_forgotten() {
        let mut c = DeliveryCounts::default();
        c.returned(1, Some(5));
        c.returned(1, Some(5));
        c.returned(2, Some(5));
        assert_eq!((c.count(1), c.count(2)), (2, 1));
        c.forget(&[1]);
        assert_eq!((c.count(1), c.count(2)), (0, 1));
    }
}
