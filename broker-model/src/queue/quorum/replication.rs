//! Raft log replication for a quorum queue: the leader keeps every
//! follower up to date (a heartbeat when there is nothing new), and a
//! follower stores and fsyncs what it is sent before acknowledging it.

use std::rc::Rc;

use crate::clock::now;
use crate::history::{EventKind, MsgId};
use crate::queue::config::{node_host, queue_name};
use crate::queue::protocol::{
    AppendEntries, AppendReply, Command, Location, NodeId, Reply, Request,
};
use crate::queue::quorum::queue::QuorumQueue;
use crate::queue::quorum::raft::AckOutcome;
use crate::queue::store::Entry;

impl QuorumQueue {
    /// As leader, keeps follower `peer` up to date; sends a heartbeat when
    /// there is nothing new.
    pub(super) async fn replicate(self: Rc<Self>, peer: NodeId) {
        let heartbeat = self.io.config().net_ticktime / 6;
        loop {
            let notified = self.io.changed.notified();
            let req = {
                let mut st = self.state.borrow_mut();
                let req = st.raft.as_ref().and_then(|r| r.append_for(peer));
                if let Some(req) = &req {
                    st.sent_end = st.sent_end.max(req.prev_index + req.entries.len() as u64);
                    self.report_view(&st);
                }
                req
            };
            if let Some(req) = req {
                let term = req.term;
                let reply = self
                    .io
                    .endpoint()
                    .call(&node_host(peer), Request::Append(req), heartbeat * 2)
                    .await;
                if let Ok(Reply::Append(a)) = reply {
                    self.on_append_reply(peer, term, &a);
                }
            }
            let behind = {
                let st = self.state.borrow();
                st.raft.as_ref().is_some_and(|r| r.behind(peer))
            };
            if !behind {
                tokio::select! {
                    biased;
                    _ = notified => {}
                    _ = tokio::time::sleep(heartbeat) => {}
                }
            }
        }
    }

    fn on_append_reply(&self, peer: NodeId, term: u64, reply: &AppendReply) {
        let q = self.q;
        let outcome = {
            let mut st = self.state.borrow_mut();
            let Some(r) = &mut st.raft else {
                return;
            };
            if r.term != term && reply.term <= r.term {
                return;
            }
            let outcome = r.on_append_reply(peer, reply);
            if outcome == AckOutcome::NewerTerm {
                self.io.store.borrow_mut().set_vote(q, r.term, r.voted_for);
            }
            self.after_raft(&mut st);
            outcome
        };
        if outcome == AckOutcome::CommitAdvanced {
            self.io.changed.notify_waiters();
        }
    }

    /// As a member, handles a leader's AppendEntries: stores (and fsyncs)
    /// before answering.
    pub(super) fn answer_append(&self, req: AppendEntries) -> Option<AppendReply> {
        let q = req.queue;
        let reply = {
            let mut st = self.state.borrow_mut();
            let r = st.raft.as_mut()?;
            let out = r.on_append(&req);
            let term = r.term;
            if out.persist {
                self.io.store.borrow_mut().set_vote(q, term, r.voted_for);
            }
            if let Some((from, removed)) = &out.truncated {
                self.io.store.borrow_mut().append(&Entry::RaftTruncate {
                    queue: q,
                    from: *from,
                });
                let msgs: Vec<MsgId> = removed
                    .iter()
                    .filter_map(|e| match &e.command {
                        Command::Enqueue(m) => Some(m.msg),
                        _ => None,
                    })
                    .collect();
                self.io.record(EventKind::Truncate {
                    dest: queue_name(q),
                    to: from - 1,
                    msgs,
                });
            }
            self.store_entries(term, &out.appended);
            if out.truncated.is_some() && out.appended.is_empty() {
                self.io.store.borrow_mut().sync();
            }
            if req.term == term {
                st.last_contact = now();
                st.hint = Some(Location {
                    epoch: term as u32,
                    node: req.leader,
                    incarnation: None,
                });
            }
            self.after_raft(&mut st);
            out.reply
        };
        self.io.changed.notify_waiters();
        Some(reply)
    }
}
