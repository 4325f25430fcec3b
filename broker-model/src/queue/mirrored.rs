//! Classic queues on a node, mirrored or not.
//!
//! A classic queue lives on its home node; nothing else holds it, so when
//! that node is down the queue is unavailable, and what comes back after a
//! restart is what the disk kept (persistent messages of a durable queue).
//!
//! A mirrored queue has a master and mirrors. The master orders every
//! change (enqueue, removal) in a list that mirrors pull, like the
//! guaranteed-multicast ring RabbitMQ uses; a confirm waits until every
//! current mirror holds the message (and, for a persistent message in a
//! durable queue, until master and mirrors have fsynced it). A mirror that
//! joins, or rejoins after a restart, starts *unsynchronised*: it gets the
//! queue's existing messages only with `ha-sync-mode = automatic`. When the
//! master is lost, the oldest mirror the promotion policy allows takes over
//! with exactly what it holds; messages it never had are gone. A node that
//! comes back finds the new master and rejoins as a mirror, dropping what
//! its own disk held, as RabbitMQ's restarted mirrors do.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::Duration;

use crate::clock::now;
use crate::history::{EventKind, MsgId};
use crate::observe::ReplicaView;
use crate::queue::config::{node_host, Promote, QueueConfig, QueueType};
use crate::queue::delivery::Subscription;
use crate::queue::fifo::{Dropped, Fifo, Poll};
use crate::queue::mirrors::{self, Mirrors, Resolution};
use crate::queue::node::{App, QueueRt, MIRROR_WAIT};
use crate::queue::protocol::{
    ClientError, ConsumerId, Location, MemberInfo, Message, MirrorFetch, MirrorReply, NodeId, Op,
    QueueId, QueueStatus, Reply, Request, Stored,
};
use crate::queue::store::Entry;

/// The most changes one mirror fetch returns.
const MAX_OPS: usize = 500;

/// A master's state of its queue.
pub struct Master {
    location: Location,
    fifo: Fifo,
    /// Every change of this epoch, in order (mirrored queues only).
    ops: Vec<Op>,
    mirrors: Mirrors,
    next_seq: u64,
    confirmed: u64,
    /// The end of the changes sent to at least one mirror.
    sent_ops: u64,
}

/// A mirror's state of its queue (the messages are in `held`).
pub struct Mirror {
    following: Location,
    member: Option<u64>,
    next: u64,
    members: Vec<MemberInfo>,
    carry_from: Option<u32>,
    /// The master announced an orderly stop.
    master_stopping: bool,
}

/// What this node is for a queue.
pub enum Role {
    /// Just started; deciding.
    Starting,
    /// No live master it can follow, and it may not become one.
    Waiting,
    /// Not a member: it only routes to the master.
    Absent,
    /// The master.
    Master(Master),
    /// A mirror.
    Mirror(Mirror),
}

/// One node's state of one classic or mirrored queue.
pub struct MirroredState {
    q: QueueId,
    home: NodeId,
    mirrored: bool,
    member: bool,
    durable: bool,
    role: Role,
    /// Where the cluster last recorded the master.
    record: Option<Location>,
    /// What this node holds while not master: its mirror copy, or what the
    /// disk returned at start.
    held: BTreeMap<u64, Stored>,
    /// The epoch whose group this run has been a member of, uninterrupted.
    member_of: Option<u32>,
}

impl MirroredState {
    /// The state after a start: what the disk kept, not yet decided.
    pub fn new(
        config: &QueueConfig,
        me: NodeId,
        q: QueueId,
        held: BTreeMap<u64, Stored>,
        record: Option<Location>,
    ) -> Self {
        let mirrored = config.queue_type == QueueType::Mirrored;
        let home = config.home(q);
        let member = config.members(q).contains(&me);
        let (role, record) = if mirrored || member {
            (Role::Starting, record)
        } else {
            let home_location = Location {
                epoch: 1,
                node: home,
                incarnation: None,
            };
            (Role::Absent, Some(home_location))
        };
        MirroredState {
            q,
            home,
            mirrored,
            member,
            durable: config.durable,
            role,
            record,
            held,
            member_of: None,
        }
    }

    /// Where this node believes the master is.
    pub fn location(&self) -> Option<Location> {
        match &self.role {
            Role::Master(m) => Some(m.location),
            Role::Mirror(m) => Some(m.following),
            Role::Starting | Role::Waiting | Role::Absent => self.record,
        }
    }

    /// Notes that the master `location` is stopping in an orderly way.
    pub fn master_stopping(&mut self, location: Location) {
        if let Role::Mirror(m) = &mut self.role {
            if m.following.node == location.node && m.following.epoch == location.epoch {
                m.master_stopping = true;
            }
        }
    }

    /// The mirrors to tell when this node, as master, stops.
    pub fn mirror_nodes(&self) -> Vec<(NodeId, Location)> {
        match &self.role {
            Role::Master(m) => m
                .mirrors
                .list()
                .into_iter()
                .map(|i| (i.node, m.location))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// What node `me` publishes of its replica. A mirror is in sync when
    /// its master's last word says it holds every message.
    fn view(&self, me: NodeId) -> Option<ReplicaView> {
        if !self.member {
            return None;
        }
        Some(match &self.role {
            Role::Master(m) => ReplicaView {
                leader: true,
                epoch: m.location.epoch,
                log_end: m.fifo.len(),
                high_watermark: 0,
                acked_end: m.confirmed,
                unreplicated: if self.mirrored {
                    (m.ops.len() as u64).saturating_sub(m.sent_ops)
                } else {
                    0
                },
                in_sync: true,
            },
            other => ReplicaView {
                leader: false,
                epoch: match other {
                    Role::Mirror(m) => m.following.epoch,
                    _ => self.record.map_or(0, |r| r.epoch),
                },
                log_end: self.held.len() as u64,
                high_watermark: 0,
                acked_end: 0,
                unreplicated: 0,
                // A node still deciding, waiting, merely routing, or not yet
                // joined to the master's group is not a mirror, so it is no
                // unsynchronised mirror either.
                in_sync: match other {
                    Role::Mirror(m) if m.member.is_some() => {
                        m.members.iter().any(|i| i.node == me && i.synced)
                    }
                    _ => true,
                },
            },
        })
    }
}

/// A message taken in by a master, not yet confirmed.
struct Pending {
    epoch: u32,
    index: Option<u64>,
    journaled: bool,
}

fn msgs_of<'a>(stored: impl IntoIterator<Item = &'a Stored>) -> Vec<MsgId> {
    stored.into_iter().map(|s| s.msg).collect()
}

impl App {
    fn mirrored(&self, q: QueueId) -> &std::cell::RefCell<MirroredState> {
        match &self.queues[&q] {
            QueueRt::Mirrored(s) => s,
            QueueRt::Quorum(_) => unreachable!("queue {q} is a quorum queue"),
        }
    }

    fn publish_mirrored(&self, st: &MirroredState) {
        if let Some(view) = st.view(self.net.id) {
            self.net
                .ctx
                .observer
                .replica(&App::dest(st.q), &self.net.host, view);
        }
    }

    /// Starts this node's part of queue `q`.
    pub fn start_mirrored(self: &Rc<Self>, q: QueueId, trusted: Option<BTreeSet<NodeId>>) {
        // A classic queue's home node is its master at every start. A
        // mirrored queue is declared at the very first start, before any
        // master was recorded: its home node is master and the other
        // members are its mirrors from the outset.
        let (mirrored, first, home) = {
            let st = self.mirrored(q).borrow();
            let first = st.member && (!st.mirrored || st.record.is_none());
            (st.mirrored, first, st.home)
        };
        if first && home == self.me() {
            let others: Vec<NodeId> = self
                .config()
                .members(q)
                .into_iter()
                .filter(|n| *n != self.me())
                .collect();
            let mirrors = if mirrored {
                Mirrors::declared(&others)
            } else {
                Mirrors::default()
            };
            self.become_master(q, 1, mirrors, None);
        } else if first && mirrored {
            let declared = Location {
                epoch: 1,
                node: home,
                incarnation: None,
            };
            let mut st = self.mirrored(q).borrow_mut();
            self.follow(&mut st, declared, Some(0));
        } else {
            self.publish_mirrored(&self.mirrored(q).borrow());
        }
        self.spawn(Rc::clone(self).sweep_consumers(q));
        if mirrored {
            self.spawn(Rc::clone(self).supervise(q, trusted));
            self.spawn(Rc::clone(self).mirror_loop(q));
        }
    }

    /// Makes this node master of `q` in `epoch`, with what it holds.
    /// `promoted_from` names the lost master when a mirror takes over.
    fn become_master(
        self: &Rc<Self>,
        q: QueueId,
        epoch: u32,
        mirrors: Mirrors,
        promoted_from: Option<(NodeId, bool)>,
    ) {
        let location = Location {
            epoch,
            node: self.me(),
            incarnation: Some(self.incarnation),
        };
        let mirrored = {
            let mut st = self.mirrored(q).borrow_mut();
            let held = std::mem::take(&mut st.held);
            let next_seq = held.keys().next_back().map_or(0, |s| s + 1);
            let mut fifo = Fifo::with_messages(held);
            fifo.mark_all_redelivered();
            let log_end = fifo.len();
            st.role = Role::Master(Master {
                location,
                fifo,
                ops: Vec::new(),
                mirrors,
                next_seq,
                confirmed: 0,
                sent_ops: 0,
            });
            st.member_of = Some(epoch);
            if st.mirrored {
                st.record = Some(location);
                self.store.borrow_mut().set_record(q, location);
            }
            let dest = App::dest(q);
            self.record(match promoted_from {
                Some((previous, synced)) => EventKind::Promote {
                    dest,
                    epoch,
                    previous: node_host(previous),
                    synced,
                },
                None => EventKind::BecomeLeader {
                    dest,
                    epoch,
                    log_end,
                },
            });
            self.publish_mirrored(&st);
            st.mirrored
        };
        self.changed.notify_waiters();
        if mirrored {
            self.announce(q, location);
        }
    }

    /// Makes this node a mirror of `location`, keeping what it holds until
    /// the master says what to do with it.
    fn follow(&self, st: &mut MirroredState, location: Location, carry_from: Option<u32>) {
        st.record = Some(location);
        self.store.borrow_mut().set_record(st.q, location);
        if !st.member {
            st.role = Role::Absent;
            return;
        }
        if let Role::Master(m) = &st.role {
            st.held = m.fifo.contents().into_iter().collect();
        }
        st.role = Role::Mirror(Mirror {
            following: location,
            member: None,
            next: 0,
            members: Vec::new(),
            carry_from,
            master_stopping: false,
        });
        self.record(EventKind::BecomeFollower {
            dest: App::dest(st.q),
            epoch: location.epoch,
            leader: Some(node_host(location.node)),
        });
        self.publish_mirrored(st);
    }

    /// Takes in news of where the master of `q` is.
    pub fn mirrored_learn(self: &Rc<Self>, q: QueueId, location: Location) {
        {
            let mut st = self.mirrored(q).borrow_mut();
            if !st.mirrored {
                return;
            }
            let undecided = matches!(st.role, Role::Starting | Role::Waiting);
            let news = match st.location() {
                None => true,
                Some(known) => location.newer_than(&known) || (location == known && undecided),
            };
            if !news {
                return;
            }
            let carry = match &st.role {
                Role::Master(m) if m.location.node == location.node => return,
                Role::Master(_) => None,
                Role::Mirror(m) if m.member.is_some() => Some(m.following.epoch),
                Role::Mirror(m) => m.carry_from,
                Role::Starting | Role::Waiting => st.member_of,
                Role::Absent => None,
            };
            self.follow(&mut st, location, carry);
        }
        self.changed.notify_waiters();
    }

    /// What this node tells a starting peer about `st`.
    pub fn mirrored_status(&self, st: &MirroredState) -> QueueStatus {
        match &st.role {
            Role::Starting => QueueStatus::Starting { record: st.record },
            Role::Waiting | Role::Absent => QueueStatus::Waiting { record: st.record },
            Role::Master(m) => QueueStatus::Master(m.location),
            Role::Mirror(m) => QueueStatus::Mirror {
                following: m.following,
                promotable: m.member.is_some()
                    && self.successor(m, self.config().promote_policy(false)) == Some(self.me()),
            },
        }
    }

    /// The mirror that would take over from `m`'s master under `policy`.
    fn successor(&self, m: &Mirror, policy: Promote) -> Option<NodeId> {
        let cluster = self.net.cluster.borrow();
        mirrors::successor(
            &m.members,
            m.following.node,
            |info| {
                if info.node == self.me() {
                    info.incarnation == Some(self.incarnation)
                } else {
                    !cluster.known_lost(info.node, info.incarnation)
                }
            },
            policy,
        )
    }

    /// Watches over `q`: settles its role after a start, promotes a mirror
    /// when its master is lost, drops mirrors that are gone.
    async fn supervise(self: Rc<Self>, q: QueueId, mut trusted: Option<BTreeSet<NodeId>>) {
        let every = self.config().net_ticktime / 4;
        loop {
            let cluster_changed = self.net.cluster_changed.notified();
            enum Duty {
                Resolve,
                CheckMaster,
                Prune,
                Nothing,
            }
            let duty = match &self.mirrored(q).borrow().role {
                Role::Starting | Role::Waiting => Duty::Resolve,
                Role::Mirror(_) => Duty::CheckMaster,
                Role::Master(_) => Duty::Prune,
                Role::Absent => Duty::Nothing,
            };
            match duty {
                Duty::Resolve => {
                    if self.resolve(q, trusted.as_ref()).await {
                        trusted = None;
                    }
                }
                Duty::CheckMaster => self.check_master(q),
                Duty::Prune => self.prune_mirrors(q),
                Duty::Nothing => {}
            }
            tokio::select! {
                biased;
                _ = cluster_changed => {}
                _ = tokio::time::sleep(every) => {}
            }
        }
    }

    /// Asks the peers (only `trusted` ones, right after an autoheal restart)
    /// about `q` and settles this node's role. Returns whether it did.
    async fn resolve(self: &Rc<Self>, q: QueueId, trusted: Option<&BTreeSet<NodeId>>) -> bool {
        let timeout = self.config().net_ticktime / 4;
        let mut statuses = Vec::new();
        for peer in self.peers() {
            if trusted.is_some_and(|t| !t.contains(&peer)) {
                continue;
            }
            if self.net.cluster.borrow().known_lost(peer, None) {
                continue;
            }
            let reply = self
                .net
                .endpoint
                .call(&node_host(peer), Request::Status, timeout)
                .await;
            if let Ok(Reply::Status(s)) = reply {
                if s.running {
                    statuses.extend(
                        s.queues
                            .into_iter()
                            .filter(|(qq, _)| *qq == q)
                            .map(|(_, status)| (peer, status)),
                    );
                }
            }
        }
        let decision = {
            let st = self.mirrored(q).borrow();
            if !matches!(st.role, Role::Starting | Role::Waiting) {
                return true;
            }
            mirrors::resolve(self.me(), st.home, st.record, &statuses)
        };
        match decision {
            Resolution::Follow(location) => {
                {
                    let mut st = self.mirrored(q).borrow_mut();
                    let carry = st.member_of;
                    self.follow(&mut st, location, carry);
                }
                self.changed.notify_waiters();
                true
            }
            Resolution::BecomeMaster { epoch } if self.mirrored(q).borrow().member => {
                self.become_master(q, epoch, Mirrors::new(&[]), None);
                true
            }
            Resolution::BecomeMaster { .. } | Resolution::Wait => {
                let mut st = self.mirrored(q).borrow_mut();
                st.role = Role::Waiting;
                self.publish_mirrored(&st);
                false
            }
        }
    }

    /// As a mirror: if the master is gone, takes over when this node is the
    /// one the promotion policy picks, and waits otherwise.
    fn check_master(self: &Rc<Self>, q: QueueId) {
        let promotion = {
            let mut st = self.mirrored(q).borrow_mut();
            let Role::Mirror(m) = &st.role else {
                return;
            };
            let lost = self
                .net
                .cluster
                .borrow()
                .known_lost(m.following.node, m.following.incarnation);
            if !lost {
                return;
            }
            let policy = self.config().promote_policy(m.master_stopping);
            let chosen = m.member.and(self.successor(m, policy));
            if chosen == Some(self.me()) {
                let me = m.members.iter().find(|i| i.node == self.me());
                let synced = me.is_some_and(|i| i.synced);
                let others: Vec<MemberInfo> = m
                    .members
                    .iter()
                    .filter(|i| i.node != self.me() && i.node != m.following.node)
                    .cloned()
                    .collect();
                let epoch = m.following.epoch.max(st.record.map_or(0, |r| r.epoch)) + 1;
                Some((epoch, others, m.following.node, synced))
            } else {
                st.role = Role::Waiting;
                self.publish_mirrored(&st);
                None
            }
        };
        if let Some((epoch, others, previous, synced)) = promotion {
            self.become_master(q, epoch, Mirrors::new(&others), Some((previous, synced)));
        }
    }

    /// As master: forgets mirrors whose node is down or restarted, so that
    /// confirms stop waiting for them.
    fn prune_mirrors(&self, q: QueueId) {
        let pruned = {
            let mut st = self.mirrored(q).borrow_mut();
            let Role::Master(m) = &mut st.role else {
                return;
            };
            let cluster = self.net.cluster.borrow();
            !m.mirrors
                .prune(|n, inc| cluster.known_lost(n, inc))
                .is_empty()
        };
        if pruned {
            self.changed.notify_waiters();
        }
    }

    /// Publishes as master of the queue; with `reply`, answers once the
    /// broker has taken responsibility.
    pub async fn mirrored_publish(
        &self,
        q: QueueId,
        message: Message,
        reply: bool,
    ) -> Option<Reply> {
        let pending = {
            let mut st = self.mirrored(q).borrow_mut();
            self.enqueue(&mut st, message.msg, message.persistent)
        };
        let pending = match pending {
            Ok(p) => p,
            Err(e) => return reply.then_some(Reply::Publish(Err(e))),
        };
        self.changed.notify_waiters();
        if !reply {
            return None;
        }
        Some(Reply::Publish(self.taken(q, pending).await))
    }

    /// As master, answers a consumer's request from the queue's delivery
    /// state; what left the queue is settled here.
    pub fn mirrored_poll(
        &self,
        q: QueueId,
        sub: &Subscription,
    ) -> Result<(Poll, u64), ClientError> {
        let mut st = self.mirrored(q).borrow_mut();
        let location = st.location();
        let Role::Master(m) = &mut st.role else {
            return Err(ClientError::NotMaster(location));
        };
        if !m.fifo.subscribed(&sub.consumer, sub.received, sub.acked) {
            return Err(ClientError::Cancelled);
        }
        let poll = m.fifo.poll(
            &sub.consumer,
            sub.ack,
            sub.prefetch,
            sub.received,
            sub.acked,
            now(),
        );
        let remaining = m.fifo.remaining_for(&sub.consumer);
        self.settle_removed(q, m, &poll.removed);
        self.publish_mirrored(&st);
        Ok((poll, remaining))
    }

    /// As master, applies a consumer's acknowledgement.
    pub fn mirrored_ack(&self, q: QueueId, consumer: &ConsumerId, upto: u64) {
        let mut st = self.mirrored(q).borrow_mut();
        if let Role::Master(m) = &mut st.role {
            let removed = m.fifo.ack(consumer, upto);
            self.settle_removed(q, m, &removed);
            self.publish_mirrored(&st);
        }
    }

    /// As master, closes consumer connections silent for `timeout`.
    pub fn mirrored_expire(&self, q: QueueId, timeout: Duration) -> Vec<Dropped> {
        match &mut self.mirrored(q).borrow_mut().role {
            Role::Master(m) => m.fifo.expire(now(), timeout),
            _ => Vec::new(),
        }
    }

    /// Takes a message in as master.
    fn enqueue(
        &self,
        st: &mut MirroredState,
        msg: MsgId,
        persistent: bool,
    ) -> Result<Pending, ClientError> {
        let location = st.location();
        let (q, mirrored, durable) = (st.q, st.mirrored, st.durable);
        let Role::Master(m) = &mut st.role else {
            return Err(ClientError::NotMaster(location));
        };
        let seq = m.next_seq;
        m.next_seq += 1;
        let stored = Stored {
            msg,
            persistent,
            redelivered: false,
        };
        m.fifo.enqueue(seq, stored);
        let index = mirrored.then(|| {
            m.ops.push(Op::Enqueue { seq, stored });
            m.ops.len() as u64 - 1
        });
        let journaled = durable && persistent;
        if journaled {
            self.store.borrow_mut().append(&Entry::Enqueue {
                queue: q,
                seq,
                stored,
            });
        }
        let epoch = m.location.epoch;
        self.record(EventKind::Append {
            dest: App::dest(q),
            offset: seq,
            epoch,
            msgs: vec![msg],
        });
        self.publish_mirrored(st);
        Ok(Pending {
            epoch,
            index,
            journaled,
        })
    }

    /// Waits until the broker has taken responsibility for a message: on
    /// disk if it is persistent in a durable queue, and held by every
    /// mirror. A master lost on the way leaves the outcome unknown.
    async fn taken(&self, q: QueueId, pending: Pending) -> Result<(), ClientError> {
        if pending.journaled {
            self.store.borrow_mut().sync();
        }
        let late = "the mirrors did not all take the message in time";
        self.confirm_when(late, || {
            let mut st = self.mirrored(q).borrow_mut();
            match &mut st.role {
                Role::Master(m) if m.location.epoch == pending.epoch => {
                    if !pending.index.is_none_or(|i| m.mirrors.cover(i)) {
                        return None;
                    }
                    m.confirmed += 1;
                    self.publish_mirrored(&st);
                    if !pending.journaled {
                        self.store.borrow_mut().acked_unsynced();
                    }
                    Some(Ok(()))
                }
                _ => Some(Err("the master changed before confirming")),
            }
        })
        .await
    }

    /// Records that messages left the queue: in the change list for the
    /// mirrors and, for persistent ones of a durable queue, on disk.
    fn settle_removed(&self, q: QueueId, m: &mut Master, removed: &[(u64, Stored)]) {
        if removed.is_empty() {
            return;
        }
        let seqs: Vec<u64> = removed.iter().map(|(s, _)| *s).collect();
        if self.config().queue_type == QueueType::Mirrored {
            m.ops.push(Op::Remove { seqs: seqs.clone() });
        }
        let on_disk: Vec<u64> = removed
            .iter()
            .filter(|(_, s)| s.persistent)
            .map(|(seq, _)| *seq)
            .collect();
        if self.config().durable && !on_disk.is_empty() {
            self.store.borrow_mut().append(&Entry::Remove {
                queue: q,
                seqs: on_disk,
            });
        }
        m.mirrors.refresh_sync(m.fifo.min_seq());
    }

    /// As master, answers a mirror's fetch: joins it if it is new, or
    /// returns the changes it lacks, holding the request briefly when
    /// there are none.
    pub async fn mirror_fetch(&self, f: MirrorFetch) -> Option<MirrorReply> {
        let q = f.queue;
        if !matches!(self.queues.get(&q), Some(QueueRt::Mirrored(_))) {
            return None;
        }
        let deadline = tokio::time::Instant::now() + MIRROR_WAIT;
        let mut first = true;
        loop {
            let notified = self.changed.notified();
            {
                let mut st = self.mirrored(q).borrow_mut();
                let location = st.location();
                let sync = self.config().ha_sync_mode;
                let Role::Master(m) = &mut st.role else {
                    return Some(MirrorReply::NotMaster(location));
                };
                if m.location.epoch != f.epoch {
                    return Some(MirrorReply::NotMaster(Some(m.location)));
                }
                let known = f
                    .member
                    .is_some_and(|id| m.mirrors.fetched(f.node, id, f.from));
                if !known {
                    let at = m.ops.len() as u64;
                    let joined = m.mirrors.join(&f, m.location.epoch, at, sync, m.next_seq);
                    m.mirrors.refresh_sync(m.fifo.min_seq());
                    let reply = MirrorReply::Joined {
                        member: joined.member,
                        at,
                        snapshot: joined.snapshot.then(|| m.fifo.contents()),
                        master: m.location,
                        members: m.mirrors.list(),
                    };
                    drop(st);
                    self.changed.notify_waiters();
                    return Some(reply);
                }
                let from = (f.from as usize).min(m.ops.len());
                if from < m.ops.len() || tokio::time::Instant::now() >= deadline {
                    let end = (from + MAX_OPS).min(m.ops.len());
                    let reply = MirrorReply::Ops {
                        ops: m.ops[from..end].to_vec(),
                        members: m.mirrors.list(),
                    };
                    m.sent_ops = m.sent_ops.max(end as u64);
                    self.publish_mirrored(&st);
                    drop(st);
                    if first {
                        self.changed.notify_waiters();
                    }
                    return Some(reply);
                }
            }
            if first {
                // The fetch reported progress: confirms may be due.
                first = false;
                self.changed.notify_waiters();
                continue;
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }

    /// As a mirror, pulls the master's changes for as long as this node
    /// mirrors `q`.
    async fn mirror_loop(self: Rc<Self>, q: QueueId) {
        let every = self.config().net_ticktime / 4;
        let backoff = Duration::from_millis(50);
        loop {
            let notified = self.changed.notified();
            let next = {
                let st = self.mirrored(q).borrow();
                match &st.role {
                    Role::Mirror(m) => Some((
                        m.following,
                        MirrorFetch {
                            queue: q,
                            epoch: m.following.epoch,
                            node: self.me(),
                            incarnation: self.incarnation,
                            member: m.member,
                            from: m.next,
                            carry_from: m.member.is_none().then_some(m.carry_from).flatten(),
                        },
                    )),
                    _ => None,
                }
            };
            let Some((following, req)) = next else {
                tokio::select! {
                    biased;
                    _ = notified => {}
                    _ = tokio::time::sleep(every) => {}
                }
                continue;
            };
            let reply = self
                .net
                .endpoint
                .call(
                    &node_host(following.node),
                    Request::MirrorFetch(req),
                    MIRROR_WAIT + Duration::from_millis(400),
                )
                .await;
            let progressed = match reply {
                Ok(Reply::MirrorFetch(r)) => self.on_mirror_reply(q, following, r),
                _ => false,
            };
            if !progressed {
                tokio::time::sleep(backoff).await;
            }
        }
    }

    /// Applies a master's answer, if this node still follows it. Returns
    /// false when the mirror should back off before asking again.
    fn on_mirror_reply(
        self: &Rc<Self>,
        q: QueueId,
        following: Location,
        reply: MirrorReply,
    ) -> bool {
        let mut st = self.mirrored(q).borrow_mut();
        let still = matches!(&st.role, Role::Mirror(m) if m.following == following);
        if !still {
            return true;
        }
        let dest = App::dest(q);
        match reply {
            MirrorReply::Joined {
                member,
                at,
                snapshot,
                master,
                members,
            } => {
                let synchronised = snapshot.is_some();
                let copy: BTreeMap<u64, Stored> =
                    snapshot.unwrap_or_default().into_iter().collect();
                let kept: BTreeSet<MsgId> = copy.values().map(|s| s.msg).collect();
                let old = std::mem::replace(&mut st.held, copy);
                let dropped: Vec<MsgId> = old
                    .values()
                    .map(|s| s.msg)
                    .filter(|m| !kept.contains(m))
                    .collect();
                if st.durable {
                    let mut store = self.store.borrow_mut();
                    store.append(&Entry::Reset { queue: q });
                    for (seq, stored) in st.held.iter().filter(|(_, s)| s.persistent) {
                        store.append(&Entry::Enqueue {
                            queue: q,
                            seq: *seq,
                            stored: *stored,
                        });
                    }
                    store.sync();
                }
                if !dropped.is_empty() {
                    self.record(EventKind::Discard {
                        dest: dest.clone(),
                        reason: format!(
                            "joined {} as a mirror {}",
                            node_host(master.node),
                            if synchronised {
                                "and took its copy of the queue"
                            } else {
                                "starting empty (unsynchronised)"
                            }
                        ),
                        msgs: dropped,
                    });
                }
                if let Some(first) = st.held.keys().next() {
                    self.record(EventKind::Append {
                        dest,
                        offset: *first,
                        epoch: master.epoch,
                        msgs: msgs_of(st.held.values()),
                    });
                }
                st.member_of = Some(master.epoch);
                if let Role::Mirror(m) = &mut st.role {
                    m.member = Some(member);
                    m.next = at;
                    m.members = members;
                    m.following = master;
                    m.carry_from = None;
                }
                self.publish_mirrored(&st);
                true
            }
            MirrorReply::Ops { ops, members } => {
                let durable = st.durable;
                let mut added = Vec::new();
                let mut first = None;
                let mut journaled = false;
                for op in &ops {
                    match op {
                        Op::Enqueue { seq, stored } => {
                            st.held.insert(*seq, *stored);
                            first.get_or_insert(*seq);
                            added.push(stored.msg);
                            if durable && stored.persistent {
                                self.store.borrow_mut().append(&Entry::Enqueue {
                                    queue: q,
                                    seq: *seq,
                                    stored: *stored,
                                });
                                journaled = true;
                            }
                        }
                        Op::Remove { seqs } => {
                            let mut on_disk = Vec::new();
                            for s in seqs {
                                if st.held.remove(s).is_some_and(|m| m.persistent) {
                                    on_disk.push(*s);
                                }
                            }
                            if durable && !on_disk.is_empty() {
                                self.store.borrow_mut().append(&Entry::Remove {
                                    queue: q,
                                    seqs: on_disk,
                                });
                            }
                        }
                    }
                }
                if journaled {
                    self.store.borrow_mut().sync();
                }
                if let Some(offset) = first {
                    self.record(EventKind::Append {
                        dest,
                        offset,
                        epoch: following.epoch,
                        msgs: added,
                    });
                }
                if let Role::Mirror(m) = &mut st.role {
                    m.next += ops.len() as u64;
                    m.members = members;
                }
                self.publish_mirrored(&st);
                true
            }
            MirrorReply::NotMaster(known) => match known {
                Some(l) if l.newer_than(&following) => {
                    let carry = match &st.role {
                        Role::Mirror(m) if m.member.is_some() => Some(m.following.epoch),
                        Role::Mirror(m) => m.carry_from,
                        _ => None,
                    };
                    self.follow(&mut st, l, carry);
                    true
                }
                _ => false,
            },
        }
    }
}
