//! Who masters a mirrored queue: a starting node asks its peers and
//! follows, resumes or waits; a mirror whose master is lost takes over when
//! the promotion policy picks it; a master forgets mirrors that are gone.

use std::collections::BTreeSet;
use std::rc::Rc;

use crate::queue::classic::membership::{newest_record, Mirrors, Resolution};
use crate::queue::classic::queue::ClassicQueue;
use crate::queue::classic::state::Role;
use crate::queue::classic::succession::{Heard, Succession};
use crate::queue::config::node_host;
use crate::queue::protocol::{NodeId, Reply, Request};

/// Whether a node that was still deciding has settled its role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Settled {
    /// It follows a master, masters the queue, or had settled already.
    Yes,
    /// It waits, and will ask again.
    Waiting,
}

impl ClassicQueue {
    /// Watches over the queue: settles its role after a start, promotes a
    /// mirror when its master is lost, drops mirrors that are gone.
    pub(super) async fn supervise(self: Rc<Self>, mut trusted: Option<BTreeSet<NodeId>>) {
        let every = self.io.config().net_ticktime / 4;
        loop {
            let cluster_changed = self.io.cluster_changed().notified();
            enum Duty {
                Resolve,
                CheckMaster,
                Prune,
                Nothing,
            }
            let duty = match &self.state.borrow().role {
                Role::Starting | Role::Waiting => Duty::Resolve,
                Role::Mirror(_) => Duty::CheckMaster,
                Role::Master(_) => Duty::Prune,
                Role::Absent => Duty::Nothing,
            };
            match duty {
                Duty::Resolve => {
                    if self.resolve(trusted.as_ref()).await == Settled::Yes {
                        trusted = None;
                    }
                }
                Duty::CheckMaster => self.check_master(),
                Duty::Prune => self.prune_mirrors(),
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
    /// about the queue and settles this node's role if it can.
    async fn resolve(&self, trusted: Option<&BTreeSet<NodeId>>) -> Settled {
        let q = self.q;
        let timeout = self.io.config().net_ticktime / 4;
        let mut statuses = Vec::new();
        let mut heard = Heard::All;
        for peer in self.io.peers() {
            if trusted.is_some_and(|t| !t.contains(&peer)) {
                continue;
            }
            if self.io.cluster().known_lost(peer, None) {
                continue;
            }
            let reply = self
                .io
                .endpoint()
                .call(&node_host(peer), Request::Status, timeout)
                .await;
            let Ok(Reply::Status(s)) = reply else {
                heard = Heard::Partly;
                continue;
            };
            if s.running {
                statuses.extend(
                    s.queues
                        .into_iter()
                        .filter(|(qq, _)| *qq == q)
                        .map(|(_, status)| (peer, status)),
                );
            }
        }
        {
            let mut st = self.state.borrow_mut();
            let newest = newest_record(st.record, &statuses);
            if let Some(l) = newest.filter(|l| st.record.is_none_or(|r| l.newer_than(&r))) {
                st.record = Some(l);
                self.io.store.borrow_mut().set_record(q, l);
            }
        }
        let decision = self.state.borrow().settle(self.io.me(), &statuses, heard);
        match decision {
            None => Settled::Yes,
            Some(Resolution::Follow(location)) => {
                {
                    let mut st = self.state.borrow_mut();
                    let carry = st.member_of;
                    self.follow(&mut st, location, carry);
                }
                self.io.changed.notify_waiters();
                Settled::Yes
            }
            Some(Resolution::BecomeMaster { epoch }) => {
                self.become_master(epoch, Mirrors::new(&[]), None);
                Settled::Yes
            }
            Some(Resolution::Wait) => {
                let mut st = self.state.borrow_mut();
                st.role = Role::Waiting;
                self.report_view(&st);
                Settled::Waiting
            }
        }
    }

    /// As a mirror: if the master is gone, takes over when this node is the
    /// one the promotion policy picks, and waits otherwise.
    fn check_master(&self) {
        let takeover = {
            let mut st = self.state.borrow_mut();
            let Role::Mirror(m) = &st.role else {
                return;
            };
            let lost = self
                .io
                .cluster()
                .known_lost(m.following.node, m.following.incarnation);
            if !lost {
                return;
            }
            let policy = self.io.config().promote_policy(m.master_stopping);
            match st.succession(self.io.me(), policy, |info| self.alive(info)) {
                Some(Succession::TakeOver(t)) => Some(t),
                Some(Succession::Wait) | None => {
                    st.role = Role::Waiting;
                    self.report_view(&st);
                    None
                }
            }
        };
        if let Some(t) = takeover {
            self.become_master(
                t.epoch,
                Mirrors::new(&t.mirrors),
                Some((t.previous, t.synced)),
            );
        }
    }

    /// As master: forgets mirrors whose node is down or restarted, so that
    /// confirms stop waiting for them.
    fn prune_mirrors(&self) {
        let pruned = {
            let mut st = self.state.borrow_mut();
            let Role::Master(m) = &mut st.role else {
                return;
            };
            let cluster = self.io.cluster();
            !m.mirrors
                .prune(|n, inc| cluster.known_lost(n, inc))
                .is_empty()
        };
        if pruned {
            self.io.changed.notify_waiters();
        }
    }
}
