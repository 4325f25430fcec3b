//! Deliveries coming back to a quorum queue unsettled, and what its
//! `delivery-limit` makes of them.
//!
//! The leader takes a rejected delivery back from its consumer and holds
//! it aside while it proposes a `Return` command; every member counts the
//! return when it applies the command ([`DeliveryCounts`]). The leader
//! puts the message back in the queue only then, so a message is never
//! delivered again before its count is in the log; one whose count went
//! over the limit leaves the queue on every member instead. Deliveries held
//! by a consumer that went away are counted the same way when the queue
//! has a delivery limit (without one the count changes nothing, and the
//! queue requeues them at once, as it always has).

use crate::history::DropReason;
use crate::queue::fifo::Dropped;
use crate::queue::protocol::{Command, Stored};
use crate::queue::quorum::delivery_count::Returned;
use crate::queue::quorum::queue::QuorumQueue;
use crate::queue::quorum::state::QuorumState;

impl QuorumQueue {
    /// As leader, holds the `returned` deliveries aside and proposes that
    /// their return be counted.
    pub(super) fn propose_return(&self, st: &mut QuorumState, returned: Vec<(u64, Stored)>) {
        if returned.is_empty() {
            return;
        }
        let seqs = returned.iter().map(|(s, _)| *s).collect();
        st.returning.extend(returned);
        self.propose(st, Command::Return(seqs));
        self.after_raft(st);
    }

    /// As leader, counts the deliveries the `dropped` consumer connections
    /// held as returned. Only a queue with a delivery limit holds them
    /// aside ([`crate::queue::fifo::Fifo::holding_returns`]); without one
    /// they were made ready at once and are not counted.
    pub(super) fn return_dropped(&self, st: &mut QuorumState, dropped: &[Dropped]) {
        let held = dropped
            .iter()
            .flat_map(|d| d.held.iter().copied())
            .collect();
        self.propose_return(st, held);
    }

    /// Applies a committed `Return`: counts it, puts the leader's held
    /// messages back in the queue, and takes out those over the delivery
    /// limit.
    pub(super) fn apply_return(&self, st: &mut QuorumState, seqs: &[u64]) {
        let limit = self.io.config().limits.delivery_limit;
        let mut over = Vec::new();
        for seq in seqs {
            let held = st.returning.remove(seq);
            if !st.applied.contains_key(seq) {
                continue;
            }
            match st.delivery_counts.returned(*seq, limit) {
                Returned::Requeue => {
                    if let (Some(fifo), Some(stored)) = (st.fifo.as_mut(), held) {
                        fifo.requeue([(*seq, stored)]);
                    }
                }
                Returned::OverLimit => {
                    if let Some(fifo) = st.fifo.as_mut() {
                        fifo.remove(&[*seq]);
                    }
                    if let Some(stored) = st.applied.remove(seq) {
                        over.push((*seq, stored));
                    }
                }
            }
        }
        self.dead_letter_or_drop(st, DropReason::DeliveryLimit, &over);
    }
}
