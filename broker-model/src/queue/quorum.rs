//! Quorum queues on a node: a Raft group per queue whose log holds the
//! queue's changes (enqueue, settle), as RabbitMQ's quorum queues do.
//!
//! Every member fsyncs log entries before acknowledging them, and the
//! leader confirms a publish only once a majority holds it: a confirmed
//! message survives the loss of any minority of members. Every message is
//! written to disk, whatever its delivery mode, because the log is the
//! queue. Deliveries and unacknowledged messages are the leader's own
//! business (not replicated); a new leader delivers again whatever was not
//! settled, marked redelivered.

use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use crate::clock::now;
use crate::history::{EventKind, MsgId};
use crate::observe::ReplicaView;
use crate::queue::config::{node_host, QueueConfig};
use crate::queue::delivery::Subscription;
use crate::queue::fifo::{Dropped, Fifo, Poll};
use crate::queue::node::{App, QueueRt};
use crate::queue::protocol::{
    AppendEntries, AppendReply, ClientError, Command, ConsumerId, Location, LogEntry, Message,
    NodeId, QueueId, Reply, Request, RequestVote, Stored, VoteReply,
};
use crate::queue::raft::Raft;
use crate::queue::store::Entry;

/// One node's state of one quorum queue.
pub struct QuorumState {
    q: QueueId,
    me: NodeId,
    home: NodeId,
    /// This node's Raft member, when it is one.
    raft: Option<Raft>,
    /// The queue as the committed log says: enqueued, not yet settled.
    applied: BTreeMap<u64, Stored>,
    last_applied: u64,
    /// The leader's delivery state.
    fifo: Option<Fifo>,
    /// The last leader this node heard of.
    hint: Option<Location>,
    /// When this member last heard from a leader or granted a vote.
    last_contact: Duration,
    confirmed: u64,
    /// As leader, the end of the entries sent to at least one follower.
    sent_end: u64,
}

impl QuorumState {
    /// The state after a start, from the persisted term, vote and log.
    pub fn new(
        config: &QueueConfig,
        me: NodeId,
        q: QueueId,
        log: Vec<LogEntry>,
        vote: Option<(u64, Option<NodeId>)>,
    ) -> Self {
        let members = config.members(q);
        let raft = members.contains(&me).then(|| {
            let (term, voted_for) = vote.unwrap_or((0, None));
            Raft::new(q, me, members.clone(), term, voted_for, log)
        });
        QuorumState {
            q,
            me,
            home: config.home(q),
            raft,
            applied: BTreeMap::new(),
            last_applied: 0,
            fifo: None,
            hint: None,
            last_contact: now(),
            confirmed: 0,
            sent_end: 0,
        }
    }

    /// Where this node believes the leader is.
    pub fn location(&self) -> Option<Location> {
        let known = self.raft.as_ref().and_then(|r| {
            r.leader().map(|l| Location {
                epoch: r.term as u32,
                node: l,
                incarnation: None,
            })
        });
        match (known, self.hint) {
            (Some(k), Some(h)) if h.newer_than(&k) => Some(h),
            (Some(k), _) => Some(k),
            (None, h) => h,
        }
    }

    /// What this member publishes: a follower is in sync while its log
    /// reaches the commit index it has heard of.
    fn view(&self) -> Option<ReplicaView> {
        let r = self.raft.as_ref()?;
        let leader = r.is_leader();
        Some(ReplicaView {
            leader,
            epoch: r.term as u32,
            log_end: r.last_index(),
            high_watermark: r.commit,
            acked_end: self.confirmed,
            unreplicated: if leader {
                r.last_index().saturating_sub(self.sent_end)
            } else {
                0
            },
            in_sync: leader || r.last_index() >= r.commit,
        })
    }

    /// The election timeout: `net_ticktime`, staggered per member and term
    /// so that members rarely stand at once (and never the same ones twice
    /// in a row), without any randomness.
    fn election_timeout(&self, ticktime: Duration) -> Duration {
        let Some(r) = &self.raft else {
            return ticktime;
        };
        let n = r.members.len() as u64;
        let pos = r.members.iter().position(|m| *m == self.me).unwrap_or(0) as u64;
        ticktime + (ticktime / 4) * ((pos + r.term) % n) as u32
    }
}

impl App {
    fn quorum(&self, q: QueueId) -> &std::cell::RefCell<QuorumState> {
        match &self.queues[&q] {
            QueueRt::Quorum(s) => s,
            QueueRt::Mirrored(_) => unreachable!("queue {q} is a classic queue"),
        }
    }

    /// Starts this node's member of queue `q`, if it is one.
    pub fn start_quorum(self: &Rc<Self>, q: QueueId) {
        let (members, first_start) = {
            let st = self.quorum(q).borrow();
            let Some(r) = &st.raft else {
                return;
            };
            (
                r.members.clone(),
                r.term == 0 && r.log.is_empty() && st.home == self.me(),
            )
        };
        self.publish_quorum(&self.quorum(q).borrow());
        if first_start {
            // The declaring node leads the new queue's first term.
            let app = Rc::clone(self);
            self.spawn(async move {
                tokio::time::sleep(Duration::from_millis(10)).await;
                app.start_election(q);
            });
        }
        self.spawn(Rc::clone(self).election_timer(q));
        for peer in members.into_iter().filter(|m| *m != self.me()) {
            self.spawn(Rc::clone(self).replicate(q, peer));
        }
        self.spawn(Rc::clone(self).sweep_consumers(q));
    }

    fn publish_quorum(&self, st: &QuorumState) {
        if let Some(view) = st.view() {
            self.net
                .ctx
                .observer
                .replica(&App::dest(st.q), &self.net.host, view);
        }
    }

    /// Writes log entries to the journal and fsyncs them, recording the
    /// messages they carry.
    fn store_entries(&self, q: QueueId, term: u64, entries: &[(u64, LogEntry)]) {
        if entries.is_empty() {
            return;
        }
        let mut msgs = Vec::new();
        {
            let mut store = self.store.borrow_mut();
            for (index, entry) in entries {
                store.append(&Entry::Raft {
                    queue: q,
                    index: *index,
                    entry: entry.clone(),
                });
                if let Command::Enqueue(m) = &entry.command {
                    msgs.push(m.msg);
                }
            }
            store.sync();
        }
        if !msgs.is_empty() {
            self.record(EventKind::Append {
                dest: App::dest(q),
                offset: entries[0].0,
                epoch: term as u32,
                msgs,
            });
        }
    }

    /// Applies newly committed entries and notices a lost leadership.
    fn after_raft(&self, st: &mut QuorumState) {
        let Some(r) = &st.raft else {
            return;
        };
        if st.fifo.is_some() && !r.is_leader() {
            st.fifo = None;
            self.record(EventKind::BecomeFollower {
                dest: App::dest(st.q),
                epoch: r.term as u32,
                leader: r.leader().map(node_host),
            });
        }
        while st.last_applied < r.commit {
            st.last_applied += 1;
            let Some(entry) = r.entry(st.last_applied) else {
                break;
            };
            match &entry.command {
                Command::Enqueue(m) => {
                    let stored = Stored {
                        msg: m.msg,
                        persistent: m.persistent,
                        redelivered: false,
                    };
                    st.applied.insert(st.last_applied, stored);
                    if let Some(f) = &mut st.fifo {
                        f.enqueue(st.last_applied, stored);
                    }
                }
                Command::Settle(seqs) => {
                    for s in seqs {
                        st.applied.remove(s);
                    }
                    if let Some(f) = &mut st.fifo {
                        f.remove(seqs);
                    }
                }
                Command::Noop => {}
            }
        }
        self.publish_quorum(st);
    }

    fn start_election(self: &Rc<Self>, q: QueueId) {
        let (req, peers) = {
            let mut st = self.quorum(q).borrow_mut();
            let Some(r) = &mut st.raft else {
                return;
            };
            let req = r.start_election();
            let (term, vote, leader) = (r.term, r.voted_for, r.is_leader());
            let peers: Vec<NodeId> = r
                .members
                .iter()
                .copied()
                .filter(|m| *m != self.me())
                .collect();
            self.store.borrow_mut().set_vote(q, term, vote);
            st.last_contact = now();
            if leader {
                self.elected(q, &mut st);
            }
            self.publish_quorum(&st);
            (req, peers)
        };
        for peer in peers {
            let app = Rc::clone(self);
            let req = req.clone();
            self.spawn(async move {
                let timeout = app.config().net_ticktime / 2;
                let reply = app
                    .net
                    .endpoint
                    .call(&node_host(peer), Request::Vote(req), timeout)
                    .await;
                if let Ok(Reply::Vote(v)) = reply {
                    app.on_vote_reply(q, peer, &v);
                }
            });
        }
    }

    fn on_vote_reply(self: &Rc<Self>, q: QueueId, peer: NodeId, reply: &VoteReply) {
        let mut st = self.quorum(q).borrow_mut();
        let Some(r) = &mut st.raft else {
            return;
        };
        let (persist, elected) = r.on_vote_reply(peer, reply);
        if persist {
            self.store.borrow_mut().set_vote(q, r.term, r.voted_for);
        }
        if elected {
            self.elected(q, &mut st);
        }
        self.after_raft(&mut st);
    }

    /// Becomes leader: commits a no-op of its term (which commits what came
    /// before), takes the committed queue as its delivery state, and tells
    /// every node.
    fn elected(self: &Rc<Self>, q: QueueId, st: &mut QuorumState) {
        let Some(r) = &mut st.raft else {
            return;
        };
        let Some(index) = r.propose(Command::Noop) else {
            return;
        };
        let term = r.term;
        let entry = r.entry(index).cloned().expect("just proposed");
        let log_end = r.last_index();
        self.store_entries(q, term, &[(index, entry)]);
        // Entries committed in earlier terms but not yet applied here are
        // applied before the delivery state is built from them.
        self.after_raft(st);
        let mut fifo = Fifo::with_messages(st.applied.iter().map(|(s, m)| (*s, *m)));
        fifo.mark_all_redelivered();
        st.fifo = Some(fifo);
        let location = Location {
            epoch: term as u32,
            node: self.me(),
            incarnation: Some(self.incarnation),
        };
        st.hint = Some(location);
        self.record(EventKind::BecomeLeader {
            dest: App::dest(q),
            epoch: term as u32,
            log_end,
        });
        self.publish_quorum(st);
        self.changed.notify_waiters();
        self.announce(q, location);
    }

    /// Starts an election when no leader has been heard from for the
    /// election timeout.
    async fn election_timer(self: Rc<Self>, q: QueueId) {
        let ticktime = self.config().net_ticktime;
        loop {
            tokio::time::sleep(ticktime / 8).await;
            let due = {
                let st = self.quorum(q).borrow();
                let Some(r) = &st.raft else {
                    return;
                };
                !r.is_leader()
                    && now().saturating_sub(st.last_contact) > st.election_timeout(ticktime)
            };
            if due {
                self.start_election(q);
            }
        }
    }

    /// As leader, keeps follower `peer` up to date; sends a heartbeat when
    /// there is nothing new.
    async fn replicate(self: Rc<Self>, q: QueueId, peer: NodeId) {
        let heartbeat = self.config().net_ticktime / 6;
        loop {
            let notified = self.changed.notified();
            let req = {
                let mut st = self.quorum(q).borrow_mut();
                let req = st.raft.as_ref().and_then(|r| r.append_for(peer));
                if let Some(req) = &req {
                    st.sent_end = st.sent_end.max(req.prev_index + req.entries.len() as u64);
                    self.publish_quorum(&st);
                }
                req
            };
            if let Some(req) = req {
                let term = req.term;
                let reply = self
                    .net
                    .endpoint
                    .call(&node_host(peer), Request::Append(req), heartbeat * 2)
                    .await;
                if let Ok(Reply::Append(a)) = reply {
                    self.on_append_reply(q, peer, term, &a);
                }
            }
            let behind = {
                let st = self.quorum(q).borrow();
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

    fn on_append_reply(&self, q: QueueId, peer: NodeId, term: u64, reply: &AppendReply) {
        let advanced = {
            let mut st = self.quorum(q).borrow_mut();
            let Some(r) = &mut st.raft else {
                return;
            };
            if r.term != term && reply.term <= r.term {
                return;
            }
            let (persist, advanced) = r.on_append_reply(peer, reply);
            if persist {
                self.store.borrow_mut().set_vote(q, r.term, r.voted_for);
            }
            self.after_raft(&mut st);
            advanced
        };
        if advanced {
            self.changed.notify_waiters();
        }
    }

    /// As a member, handles a leader's AppendEntries: stores (and fsyncs)
    /// before answering.
    pub fn raft_append(&self, req: AppendEntries) -> Option<AppendReply> {
        let q = req.queue;
        if !matches!(self.queues.get(&q), Some(QueueRt::Quorum(_))) {
            return None;
        }
        let reply = {
            let mut st = self.quorum(q).borrow_mut();
            let r = st.raft.as_mut()?;
            let out = r.on_append(&req);
            let term = r.term;
            if out.persist {
                self.store.borrow_mut().set_vote(q, term, r.voted_for);
            }
            if let Some((from, removed)) = &out.truncated {
                self.store.borrow_mut().append(&Entry::RaftTruncate {
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
                self.record(EventKind::Truncate {
                    dest: App::dest(q),
                    to: from - 1,
                    msgs,
                });
            }
            self.store_entries(q, term, &out.appended);
            if out.truncated.is_some() && out.appended.is_empty() {
                self.store.borrow_mut().sync();
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
        self.changed.notify_waiters();
        Some(reply)
    }

    /// As a member, answers a candidate (persisting the vote first).
    pub fn raft_vote(&self, req: RequestVote) -> Option<VoteReply> {
        let q = req.queue;
        if !matches!(self.queues.get(&q), Some(QueueRt::Quorum(_))) {
            return None;
        }
        let mut st = self.quorum(q).borrow_mut();
        let r = st.raft.as_mut()?;
        let (reply, persist) = r.on_vote(&req);
        if persist {
            self.store.borrow_mut().set_vote(q, r.term, r.voted_for);
        }
        if reply.granted {
            st.last_contact = now();
        }
        self.after_raft(&mut st);
        Some(reply)
    }

    /// Takes in news of where the leader of `q` is.
    pub fn quorum_learn(&self, q: QueueId, location: Location) {
        let mut st = self.quorum(q).borrow_mut();
        if st.hint.is_none_or(|h| location.newer_than(&h)) {
            st.hint = Some(location);
        }
    }

    /// Proposes, as leader, that `seqs` leave the queue.
    fn settle(&self, q: QueueId, st: &mut QuorumState, seqs: Vec<u64>) {
        if seqs.is_empty() {
            return;
        }
        let Some(r) = &mut st.raft else {
            return;
        };
        if let Some(index) = r.propose(Command::Settle(seqs)) {
            let term = r.term;
            let entry = r.entry(index).cloned().expect("just proposed");
            self.store_entries(q, term, &[(index, entry)]);
        }
        self.after_raft(st);
    }

    /// Publishes as leader of the queue; with `reply`, answers once a
    /// majority holds the message.
    pub async fn quorum_publish(&self, q: QueueId, message: Message, reply: bool) -> Option<Reply> {
        let proposed = {
            let mut st = self.quorum(q).borrow_mut();
            let location = st.location().filter(|l| l.node != self.me());
            match st.raft.as_mut().filter(|r| r.is_leader()) {
                None => Err(ClientError::NotMaster(location)),
                Some(r) => {
                    let index = r
                        .propose(Command::Enqueue(message))
                        .expect("a leader can propose");
                    let term = r.term;
                    let entry = r.entry(index).cloned().expect("just proposed");
                    self.store_entries(q, term, &[(index, entry)]);
                    self.after_raft(&mut st);
                    Ok((index, term))
                }
            }
        };
        self.changed.notify_waiters();
        let (index, term) = match proposed {
            Ok(p) => p,
            Err(e) => return reply.then_some(Reply::Publish(Err(e))),
        };
        if !reply {
            return None;
        }
        Some(Reply::Publish(self.committed(q, index, term).await))
    }

    /// As leader, answers a consumer's request from the queue's delivery
    /// state; what left the queue is proposed for settlement.
    pub fn quorum_poll(&self, q: QueueId, sub: &Subscription) -> Result<(Poll, u64), ClientError> {
        let mut st = self.quorum(q).borrow_mut();
        let location = st.location().filter(|l| l.node != self.me());
        let Some(fifo) = &mut st.fifo else {
            return Err(ClientError::NotMaster(location));
        };
        if !fifo.subscribed(&sub.consumer, sub.received, sub.acked) {
            return Err(ClientError::Cancelled);
        }
        let poll = fifo.poll(
            &sub.consumer,
            sub.ack,
            sub.prefetch,
            sub.received,
            sub.acked,
            now(),
        );
        let remaining = fifo.remaining_for(&sub.consumer);
        let seqs = poll.removed.iter().map(|(s, _)| *s).collect();
        self.settle(q, &mut st, seqs);
        Ok((poll, remaining))
    }

    /// As leader, applies a consumer's acknowledgement.
    pub fn quorum_ack(&self, q: QueueId, consumer: &ConsumerId, upto: u64) {
        let mut st = self.quorum(q).borrow_mut();
        if let Some(fifo) = &mut st.fifo {
            let seqs = fifo
                .ack(consumer, upto)
                .into_iter()
                .map(|(s, _)| s)
                .collect();
            self.settle(q, &mut st, seqs);
        }
    }

    /// As leader, closes consumer connections silent for `timeout`.
    pub fn quorum_expire(&self, q: QueueId, timeout: Duration) -> Vec<Dropped> {
        match &mut self.quorum(q).borrow_mut().fifo {
            Some(f) => f.expire(now(), timeout),
            None => Vec::new(),
        }
    }

    /// Waits until the entry at `index`, proposed in `term`, is committed.
    /// A leader that loses its term on the way cannot tell whether it will
    /// be: the outcome is unknown.
    async fn committed(&self, q: QueueId, index: u64, term: u64) -> Result<(), ClientError> {
        self.confirm_when("no majority stored the entry in time", || {
            let mut st = self.quorum(q).borrow_mut();
            let r = st.raft.as_ref()?;
            if r.commit >= index && r.term_at(index) == term {
                st.confirmed += 1;
                self.publish_quorum(&st);
                return Some(Ok(()));
            }
            (r.term != term || !r.is_leader())
                .then_some(Err("leadership lost before the entry committed"))
        })
        .await
    }
}
