//! Both sides of mirror replication: the mirror's loop that pulls its
//! master's changes and applies them, and the master's answer to a fetch,
//! which joins a new mirror or hands it the changes it lacks.

use std::rc::Rc;
use std::time::Duration;

use crate::history::{EventKind, MsgId};
use crate::queue::classic::membership::Fetch;
use crate::queue::classic::queue::ClassicQueue;
use crate::queue::classic::state::Role;
use crate::queue::config::{node_host, queue_name};
use crate::queue::protocol::{Location, MirrorFetch, MirrorReply, Reply, Request, Stored};
use crate::queue::runtime::MIRROR_WAIT;
use crate::queue::store::Entry;

/// The most changes one mirror fetch returns.
const MAX_OPS: usize = 500;

/// What a mirror made of its master's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MirrorProgress {
    /// Applied, or no longer relevant: ask again at once.
    Applied,
    /// The master had nothing useful to say: back off before asking again.
    BackOff,
}

fn msgs_of<'a>(stored: impl IntoIterator<Item = &'a Stored>) -> Vec<MsgId> {
    stored.into_iter().map(|s| s.msg).collect()
}

impl ClassicQueue {
    /// As master, answers a mirror's fetch: joins it if it is new, or
    /// returns the changes it lacks, holding the request briefly when
    /// there are none.
    pub(super) async fn answer_fetch(&self, f: MirrorFetch) -> Option<MirrorReply> {
        let deadline = tokio::time::Instant::now() + MIRROR_WAIT;
        let mut first = true;
        loop {
            let notified = self.io.changed.notified();
            {
                let mut st = self.state.borrow_mut();
                let location = st.location();
                let sync = self.io.config().ha_sync_mode;
                let Role::Master(m) = &mut st.role else {
                    return Some(MirrorReply::NotMaster(location));
                };
                if m.location.epoch != f.epoch {
                    return Some(MirrorReply::NotMaster(Some(m.location)));
                }
                let known = f
                    .member
                    .is_some_and(|id| m.mirrors.fetched(f.node, id, f.from) == Fetch::Member);
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
                    self.io.changed.notify_waiters();
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
                    self.report_view(&st);
                    drop(st);
                    if first {
                        self.io.changed.notify_waiters();
                    }
                    return Some(reply);
                }
            }
            if first {
                // The fetch reported progress: confirms may be due.
                first = false;
                self.io.changed.notify_waiters();
                continue;
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }

    /// As a mirror, pulls the master's changes for as long as this node
    /// mirrors the queue.
    pub(super) async fn mirror_loop(self: Rc<Self>) {
        let q = self.q;
        let every = self.io.config().net_ticktime / 4;
        let backoff = Duration::from_millis(50);
        loop {
            let notified = self.io.changed.notified();
            let next = {
                let st = self.state.borrow();
                match &st.role {
                    Role::Mirror(m) => Some((
                        m.following,
                        MirrorFetch {
                            queue: q,
                            epoch: m.following.epoch,
                            node: self.io.me(),
                            incarnation: self.io.incarnation,
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
                .io
                .endpoint()
                .call(
                    &node_host(following.node),
                    Request::MirrorFetch(req),
                    MIRROR_WAIT + Duration::from_millis(400),
                )
                .await;
            let progress = match reply {
                Ok(Reply::MirrorFetch(r)) => self.on_mirror_reply(following, r),
                _ => MirrorProgress::BackOff,
            };
            if progress == MirrorProgress::BackOff {
                tokio::time::sleep(backoff).await;
            }
        }
    }

    /// Applies a master's answer, if this node still follows it.
    fn on_mirror_reply(&self, following: Location, reply: MirrorReply) -> MirrorProgress {
        let q = self.q;
        let mut st = self.state.borrow_mut();
        let still = matches!(&st.role, Role::Mirror(m) if m.following == following);
        if !still {
            return MirrorProgress::Applied;
        }
        let dest = queue_name(q);
        match reply {
            MirrorReply::Joined {
                member,
                at,
                snapshot,
                master,
                members,
            } => {
                let adopted = st.adopt(snapshot);
                if st.durable {
                    let mut store = self.io.store.borrow_mut();
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
                if !adopted.dropped.is_empty() {
                    self.io.record(EventKind::Discard {
                        dest: dest.clone(),
                        reason: format!(
                            "joined {} as a mirror {}",
                            node_host(master.node),
                            if adopted.synchronised {
                                "and took its copy of the queue"
                            } else {
                                "starting empty (unsynchronised)"
                            }
                        ),
                        msgs: adopted.dropped,
                    });
                }
                if let Some(first) = st.held.keys().next() {
                    self.io.record(EventKind::Append {
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
                self.report_view(&st);
                MirrorProgress::Applied
            }
            MirrorReply::Ops { ops, members } => {
                let applied = st.apply(&ops);
                {
                    let mut store = self.io.store.borrow_mut();
                    for entry in &applied.journal {
                        store.append(entry);
                    }
                    if applied.journaled_enqueue {
                        store.sync();
                    }
                }
                if let Some(offset) = applied.first {
                    self.io.record(EventKind::Append {
                        dest,
                        offset,
                        epoch: following.epoch,
                        msgs: applied.added,
                    });
                }
                for (reason, dropped) in &applied.dropped {
                    self.io.record_drop(q, *reason, dropped);
                }
                if let Role::Mirror(m) = &mut st.role {
                    m.next += ops.len() as u64;
                    m.members = members;
                }
                self.report_view(&st);
                MirrorProgress::Applied
            }
            MirrorReply::NotMaster(known) => match known {
                Some(l) if l.newer_than(&following) => {
                    let carry = match &st.role {
                        Role::Mirror(m) => m.carry(),
                        _ => None,
                    };
                    self.follow(&mut st, l, carry);
                    MirrorProgress::Applied
                }
                _ => MirrorProgress::BackOff,
            },
        }
    }
}
