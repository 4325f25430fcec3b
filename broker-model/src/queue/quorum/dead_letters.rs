//! Where the messages a quorum queue removes go: dropped, dead-lettered
//! at most once, or kept in the queue's discards and forwarded at least
//! once by the leader's dead-letter worker.
//!
//! Ra runs a command's effects on the leader only, so only the leader
//! records a dead-lettering and hands the messages on; the other members
//! record the removal. With `dead-letter-strategy = at-least-once` every
//! member keeps the messages in its discards instead ([`Discards`]), and
//! the leader runs the worker ([`Worker`]): it republishes them with
//! publisher confirms through its node and proposes a `settle` once every
//! target confirmed. A new leader starts its own worker, which sends again
//! what the discards still hold.

use std::cell::RefCell;
use std::rc::Rc;

use crate::clock::now;
use crate::history::DropReason;
use crate::queue::dead_lettering::{destination, letter, DeadLetterStrategy};
use crate::queue::protocol::{Command, Stored};
use crate::queue::quorum::discards::Discarded;
use crate::queue::quorum::dlx_worker::{Confirmed, Forward, Worker};
use crate::queue::quorum::queue::QuorumQueue;
use crate::queue::quorum::state::QuorumState;

#[cfg(doc)]
use crate::queue::quorum::discards::Discards;

/// Whether this member leads the queue in `term`.
fn leads(st: &QuorumState, term: u64) -> bool {
    st.raft
        .as_ref()
        .is_some_and(|r| r.is_leader() && r.term == term)
}

impl QuorumQueue {
    /// Applies a committed `Drop`: the messages leave the queue (or its
    /// discards, when `expires` deletes it) on every member, and go where
    /// the dead-lettering policy says.
    pub(super) fn apply_drop(&self, st: &mut QuorumState, seqs: &[u64], reason: DropReason) {
        st.delivery_counts.forget(seqs);
        let dropped: Vec<(u64, Stored)> = seqs
            .iter()
            .filter_map(|s| {
                let kept = || st.discards.take(*s).map(|d| d.stored);
                st.applied.remove(s).or_else(kept).map(|m| (*s, m))
            })
            .collect();
        if let Some(f) = &mut st.fifo {
            f.remove(seqs);
        }
        self.dead_letter_or_drop(st, reason, &dropped);
    }

    /// Where messages removed for `reason` go. RabbitMQ republishes them to
    /// the queue's `dead-letter-exchange` when one is configured, with
    /// `x-death` reason `expired`, `delivery_limit`, …
    /// ([`crate::queue::dead_letter::DeadLetter`]); without one they are
    /// gone. At-least-once, the queue keeps them until the worker settles
    /// them.
    pub(super) fn dead_letter_or_drop(
        &self,
        st: &mut QuorumState,
        reason: DropReason,
        messages: &[(u64, Stored)],
    ) {
        if messages.is_empty() {
            return;
        }
        let policy = &self.io.config().dead_lettering;
        if policy.strategy == DeadLetterStrategy::AtLeastOnce && policy.takes(reason) {
            st.discards.keep(reason, messages);
            if st.fifo.is_some() {
                self.io.record_dead_lettered(st.q, reason, messages);
            }
        } else if st.fifo.is_some() {
            self.io.dispose(st.q, reason, messages);
        } else {
            self.io.record_drop(st.q, reason, messages);
        }
    }

    /// As the new leader of `term`, starts the queue's dead-letter worker
    /// when the policy dead-letters at least once.
    pub(super) fn start_dead_letter_worker(self: &Rc<Self>, term: u64) {
        let policy = &self.io.config().dead_lettering;
        if policy.strategy == DeadLetterStrategy::AtLeastOnce && policy.exchange.is_some() {
            self.io.spawn(Rc::clone(self).dead_letter_worker(term));
        }
    }

    /// The worker of this member's leadership in `term`: takes dead letters
    /// from the discards and sends again those a confirm is missing for,
    /// until the leadership ends.
    async fn dead_letter_worker(self: Rc<Self>, term: u64) {
        let worker = Rc::new(RefCell::new(Worker::default()));
        loop {
            let notified = self.io.changed.notified();
            let sends: Vec<(u64, Discarded)> = {
                let st = self.state.borrow();
                if !leads(&st, term) {
                    return;
                }
                let seqs = worker.borrow_mut().take_due(&st.discards, now());
                seqs.into_iter()
                    .filter_map(|s| st.discards.get(s).map(|d| (s, *d)))
                    .collect()
            };
            for (seq, discarded) in sends {
                self.forward(&worker, term, seq, discarded);
            }
            let next = worker.borrow().next_attempt();
            match next {
                Some(at) => {
                    let wait = at.saturating_sub(now());
                    tokio::select! {
                        biased;
                        _ = notified => {}
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
                None => notified.await,
            }
        }
    }

    /// Routes the dead letter at `seq` through the dead-letter exchange
    /// and publishes it, with a confirm, to every target that has not
    /// confirmed it yet.
    fn forward(
        self: &Rc<Self>,
        worker: &Rc<RefCell<Worker>>,
        term: u64,
        seq: u64,
        discarded: Discarded,
    ) {
        let config = self.io.config();
        let policy = &config.dead_lettering;
        let exchange = policy.exchange.as_deref().unwrap_or_default();
        let message = discarded.stored.message();
        let key = policy.routing_key(&config.topology, config.queues, message.msg);
        let routed = destination(self.io.routes(exchange, &key), self.q, &message);
        let forward = worker.borrow_mut().routed(seq, &routed);
        let targets = match forward {
            Forward::Send(targets) => targets,
            Forward::Settle => return self.settle_dead_letters(term, seq),
            Forward::Nowhere => return,
        };
        let message = letter(message, discarded.reason, self.q);
        for target in targets {
            let Some(confirm) = self.io.publish_confirmed(target, message) else {
                continue;
            };
            let (queue, worker) = (Rc::clone(self), Rc::clone(worker));
            self.io.spawn(async move {
                if confirm.await != Ok(true) {
                    return;
                }
                let done = worker.borrow_mut().confirmed(seq, target);
                if done == Confirmed::Settle {
                    queue.settle_dead_letters(term, seq);
                }
            });
        }
    }

    /// As leader of `term`, proposes that the dead letter at `seq`, which
    /// every target confirmed, leave the discards.
    fn settle_dead_letters(&self, term: u64, seq: u64) {
        {
            let mut st = self.state.borrow_mut();
            if !leads(&st, term) {
                return;
            }
            self.propose(&mut st, Command::SettleDeadLetters(vec![seq]));
            self.after_raft(&mut st);
        }
        self.io.changed.notify_waiters();
    }
}
