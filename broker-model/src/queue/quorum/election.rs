//! Raft elections for a quorum queue: a member that hears from no leader
//! for its election timeout stands, peers vote, and the winner commits a
//! no-op of its term and takes the committed queue as its delivery state.

use std::rc::Rc;

use crate::clock::now;
use crate::history::EventKind;
use crate::queue::config::{node_host, queue_name};
use crate::queue::fifo::Fifo;
use crate::queue::limits::Lease;
use crate::queue::protocol::{Command, Location, NodeId, Reply, Request, RequestVote, VoteReply};
use crate::queue::quorum::queue::QuorumQueue;
use crate::queue::quorum::raft::{Tally, VoteOutcome};
use crate::queue::quorum::state::QuorumState;

impl QuorumQueue {
    pub(super) fn start_election(self: &Rc<Self>) {
        let q = self.q;
        let (req, peers) = {
            let mut st = self.state.borrow_mut();
            let Some(r) = &mut st.raft else {
                return;
            };
            let req = r.start_election();
            let (term, vote, leader) = (r.term, r.voted_for, r.is_leader());
            let peers: Vec<NodeId> = r
                .members
                .iter()
                .copied()
                .filter(|m| *m != self.io.me())
                .collect();
            self.io.store.borrow_mut().set_vote(q, term, vote);
            st.last_contact = now();
            if leader {
                self.elected(&mut st);
            }
            self.report_view(&st);
            (req, peers)
        };
        for peer in peers {
            let app = Rc::clone(self);
            let req = req.clone();
            self.io.spawn(async move {
                let timeout = app.io.config().net_ticktime / 2;
                let reply = app
                    .io
                    .endpoint()
                    .call(&node_host(peer), Request::Vote(req), timeout)
                    .await;
                if let Ok(Reply::Vote(v)) = reply {
                    app.on_vote_reply(peer, &v);
                }
            });
        }
    }

    fn on_vote_reply(self: &Rc<Self>, peer: NodeId, reply: &VoteReply) {
        let q = self.q;
        let mut st = self.state.borrow_mut();
        let Some(r) = &mut st.raft else {
            return;
        };
        match r.on_vote_reply(peer, reply) {
            Tally::NewerTerm => self.io.store.borrow_mut().set_vote(q, r.term, r.voted_for),
            Tally::Elected => self.elected(&mut st),
            Tally::Unchanged => {}
        }
        self.after_raft(&mut st);
    }

    /// Becomes leader: commits a no-op of its term (which commits what came
    /// before), takes the committed queue as its delivery state, tells
    /// every node, and starts its dead-letter worker (at-least-once).
    fn elected(self: &Rc<Self>, st: &mut QuorumState) {
        let q = self.q;
        let Some((_, term)) = self.propose(st, Command::Noop) else {
            return;
        };
        let log_end = st.raft.as_ref().map_or(0, |r| r.last_index());
        // Entries committed in earlier terms but not yet applied here are
        // applied before the delivery state is built from them.
        self.after_raft(st);
        let mut fifo = Fifo::with_messages(st.applied.iter().map(|(s, m)| (*s, *m)));
        fifo.mark_all_redelivered();
        if self.io.config().limits.delivery_limit.is_some() {
            fifo = fifo.holding_returns();
        }
        st.fifo = Some(fifo);
        st.lease = Lease::declared(now());
        let location = Location {
            epoch: term as u32,
            node: self.io.me(),
            incarnation: Some(self.io.incarnation),
        };
        st.hint = Some(location);
        self.io.record(EventKind::BecomeLeader {
            dest: queue_name(q),
            epoch: term as u32,
            log_end,
        });
        self.report_view(st);
        self.io.changed.notify_waiters();
        self.io.announce(q, location);
        self.start_dead_letter_worker(term);
    }

    /// Starts an election when no leader has been heard from for the
    /// election timeout.
    pub(super) async fn election_timer(self: Rc<Self>) {
        let ticktime = self.io.config().net_ticktime;
        loop {
            tokio::time::sleep(ticktime / 8).await;
            let due = {
                let st = self.state.borrow();
                let Some(r) = &st.raft else {
                    return;
                };
                !r.is_leader()
                    && now().saturating_sub(st.last_contact) > st.election_timeout(ticktime)
            };
            if due {
                self.start_election();
            }
        }
    }

    /// As a member, answers a candidate (persisting the vote first).
    pub(super) fn answer_vote(&self, req: RequestVote) -> Option<VoteReply> {
        let q = req.queue;
        let mut st = self.state.borrow_mut();
        let r = st.raft.as_mut()?;
        let VoteOutcome { reply, persist } = r.on_vote(&req);
        if persist {
            self.io.store.borrow_mut().set_vote(q, r.term, r.voted_for);
        }
        if reply.granted {
            st.last_contact = now();
        }
        self.after_raft(&mut st);
        Some(reply)
    }
}
