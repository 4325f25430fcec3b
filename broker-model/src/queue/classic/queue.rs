//! This node's replica of one classic queue: its state, the handle to the
//! application it runs in, and the two role changes every path goes
//! through (becoming master, following a master).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::clock::now;
use crate::history::EventKind;
use crate::queue::classic::membership::Mirrors;
use crate::queue::classic::state::{ClassicState, Master, Mirror, Role};
use crate::queue::config::{node_host, queue_name, Promote, QueueConfig};
use crate::queue::fifo::Fifo;
use crate::queue::limits::Lease;
use crate::queue::protocol::{Location, MemberInfo, NodeId, QueueId, Stored};
use crate::queue::runtime::Io;

/// One node's replica of one classic or mirrored queue.
pub(crate) struct ClassicQueue {
    pub(super) io: Rc<Io>,
    pub(super) q: QueueId,
    pub(super) state: RefCell<ClassicState>,
}

impl ClassicQueue {
    /// The replica after a start: what the disk kept, not yet decided.
    pub(crate) fn new(
        io: Rc<Io>,
        config: &QueueConfig,
        me: NodeId,
        q: QueueId,
        held: BTreeMap<u64, Stored>,
        record: Option<Location>,
    ) -> Self {
        ClassicQueue {
            io,
            q,
            state: RefCell::new(ClassicState::new(config, me, q, held, record)),
        }
    }

    /// Shows the harness this node's view of its replica.
    pub(super) fn report_view(&self, st: &ClassicState) {
        if let Some(view) = st.view(self.io.me()) {
            self.io.report(self.q, view);
        }
    }

    /// Makes this node master in `epoch`, with what it holds.
    /// `promoted_from` names the lost master, and whether this node held
    /// all of its messages, when a mirror takes over.
    pub(super) fn become_master(
        &self,
        epoch: u32,
        mirrors: Mirrors,
        promoted_from: Option<(NodeId, bool)>,
    ) {
        let q = self.q;
        let location = Location {
            epoch,
            node: self.io.me(),
            incarnation: Some(self.io.incarnation),
        };
        let mirrored = {
            let mut st = self.state.borrow_mut();
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
                lease: Lease::declared(now()),
            });
            st.member_of = Some(epoch);
            if st.mirrored {
                st.record = Some(location);
                self.io.store.borrow_mut().set_record(q, location);
            }
            let dest = queue_name(q);
            self.io.record(match promoted_from {
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
            self.report_view(&st);
            st.mirrored
        };
        self.io.changed.notify_waiters();
        if mirrored {
            self.io.announce(q, location);
        }
    }

    /// Makes this node a mirror of `location`, keeping what it holds until
    /// the master says what to do with it.
    pub(super) fn follow(
        &self,
        st: &mut ClassicState,
        location: Location,
        carry_from: Option<u32>,
    ) {
        st.record = Some(location);
        self.io.store.borrow_mut().set_record(st.q, location);
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
        self.io.record(EventKind::BecomeFollower {
            dest: queue_name(st.q),
            epoch: location.epoch,
            leader: Some(node_host(location.node)),
        });
        self.report_view(st);
    }

    /// Whether member `info` of a mirror group is still up: this very run,
    /// or a peer run the cluster has not lost.
    pub(super) fn alive(&self, info: &MemberInfo) -> bool {
        if info.node == self.io.me() {
            info.incarnation == Some(self.io.incarnation)
        } else {
            !self.io.cluster().known_lost(info.node, info.incarnation)
        }
    }

    /// The mirror that would take over from `m`'s master under `policy`.
    pub(super) fn successor(&self, m: &Mirror, policy: Promote) -> Option<NodeId> {
        m.successor(policy, |info| self.alive(info))
    }
}
