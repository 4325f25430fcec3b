//! What every task of a broker shares: its replicas, the controller's last
//! partition table and the journal, behind one `RefCell` (the tasks run on
//! one thread and never hold it across an await), with the signal that
//! wakes whoever waits for a log, a high watermark or a role to move; and
//! the views of all of it that the broker publishes to the observer.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use tokio::sync::Notify;

use super::journal::Store;
use crate::log::config::{partition_name, Context};
use crate::log::group::state::Group;
use crate::log::protocol::{BrokerId, ErrorCode, PartitionId, PartitionState, Reply, Request};
use crate::log::replica::Replica;
use crate::observe::ReplicaView;
use crate::wire::Endpoint;

pub(super) struct State {
    pub(super) replicas: BTreeMap<PartitionId, Replica>,
    pub(super) metadata: BTreeMap<PartitionId, PartitionState>,
    pub(super) store: Store,
}

pub(super) struct Broker {
    pub(super) id: BrokerId,
    pub(super) host: String,
    pub(super) ctx: Context,
    pub(super) endpoint: Rc<Endpoint<Request, Reply>>,
    pub(super) state: RefCell<State>,
    /// Woken whenever a log, high watermark or role changes.
    pub(super) changed: Notify,
    /// The consumer group this broker coordinates, with the leader epoch
    /// of the offsets partition it was built in.
    pub(super) coordinator: RefCell<Option<(u32, Group)>>,
    /// Woken whenever the group changes.
    pub(super) group_changed: Notify,
}

impl Broker {
    /// Runs `f` on this broker's replica of `p` if it leads it.
    pub(super) fn with_leader<T>(
        &self,
        p: PartitionId,
        f: impl FnOnce(&Replica) -> T,
    ) -> Result<T, ErrorCode> {
        let state = self.state.borrow();
        match state.replicas.get(&p) {
            Some(r) if r.is_leader() => Ok(f(r)),
            _ => Err(ErrorCode::NotLeader),
        }
    }

    /// Publishes the view of replica `p` and of the disk. The internal
    /// offsets partition is not shown: it holds no workload messages.
    pub(super) fn publish(&self, p: PartitionId) {
        if p == self.ctx.config.offsets_partition() {
            return;
        }
        let view = replica_view(&self.state.borrow(), p, self.id);
        self.ctx
            .observer
            .replica(&partition_name(p), &self.host, view);
        self.publish_disk();
    }

    pub(super) fn publish_disk(&self) {
        let view = self.state.borrow().store.view();
        self.ctx.observer.disk(&self.host, view);
    }
}

/// What broker `me` shows of its replica of `p`. A follower counts as in
/// sync when the controller's table for its current epoch lists it.
fn replica_view(state: &State, p: PartitionId, me: BrokerId) -> ReplicaView {
    let r = &state.replicas[&p];
    let in_sync = r.is_leader()
        || state
            .metadata
            .get(&p)
            .is_some_and(|s| s.leader_epoch == r.leader_epoch && s.isr.contains(&me));
    ReplicaView {
        leader: r.is_leader(),
        epoch: r.leader_epoch,
        log_end: r.log_end(),
        high_watermark: r.high_watermark,
        acked_end: r.acked_end,
        unreplicated: r
            .leadership()
            .map_or(0, |l| r.log_end().saturating_sub(l.replicated_end)),
        in_sync,
        ready: 0,
        dead_letters: 0,
    }
}
