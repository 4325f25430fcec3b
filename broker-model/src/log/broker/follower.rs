//! The follower loop: for every partition it follows, a broker fetches
//! from the leader, appends what it gets, and truncates where its log
//! diverged from the leader's (records of an epoch the new leader never
//! had).

use std::rc::Rc;

use super::fetch::MAX_FETCH;
use super::state::Broker;
use crate::history::EventKind;
use crate::log::config::{broker_host, partition_name};
use crate::log::protocol::{
    BrokerId, FetchReply, PartitionId, Record, ReplicaFetch, Reply, Request,
};
use crate::log::replica::Role;
use crate::wire::CallError;

/// What a follower does after a fetch reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FollowerStep {
    /// Fetch again at once.
    Continue,
    /// Wait `retry.backoff.ms` first: the leader refused.
    BackOff,
}

impl Broker {
    /// Replicates partition `p` whenever this broker follows it.
    pub(super) async fn follow(self: Rc<Self>, p: PartitionId) {
        let backoff = self.ctx.config.retry_backoff;
        loop {
            let notified = self.changed.notified();
            let target = {
                let state = self.state.borrow();
                let r = &state.replicas[&p];
                match r.role {
                    Role::Follower { leader } => Some((
                        leader,
                        r.log_end(),
                        ReplicaFetch {
                            broker: self.id,
                            leader_epoch: r.leader_epoch,
                            last_epoch: r.last_epoch(),
                        },
                    )),
                    _ => None,
                }
            };
            let Some((leader, offset, me)) = target else {
                notified.await;
                continue;
            };
            let epoch = me.leader_epoch;
            let req = Request::Fetch {
                partition: p,
                offset,
                max_records: MAX_FETCH,
                replica: Some(me),
            };
            let timeout = self.ctx.config.replica_fetch_wait_max + self.ctx.config.request_timeout;
            match self.endpoint.call(&broker_host(leader), req, timeout).await {
                Ok(Reply::Fetch(reply)) => {
                    let step = self.on_fetched(p, leader, epoch, offset, reply);
                    if step == FollowerStep::BackOff {
                        tokio::time::sleep(backoff).await;
                    }
                }
                Ok(_) | Err(CallError::Io(_)) => tokio::time::sleep(backoff).await,
                Err(CallError::Timeout) => {}
            }
        }
    }

    /// Applies a fetch reply if this broker still follows `leader` in
    /// `epoch` from `offset`.
    fn on_fetched(
        &self,
        p: PartitionId,
        leader: BrokerId,
        epoch: u32,
        offset: u64,
        reply: FetchReply,
    ) -> FollowerStep {
        {
            let state = self.state.borrow();
            let r = &state.replicas[&p];
            if r.role != (Role::Follower { leader })
                || r.leader_epoch != epoch
                || r.log_end() != offset
            {
                return FollowerStep::Continue;
            }
        }
        let dest = partition_name(p);
        let visible = p != self.ctx.config.offsets_partition();
        match reply {
            FetchReply::Records {
                records,
                high_watermark,
            } => {
                let mut msgs = Vec::new();
                let first = records.first().map(|r| (r.offset, r.epoch));
                {
                    let state = &mut *self.state.borrow_mut();
                    for record in records {
                        msgs.extend(record.msg());
                        state.store.append(p, &record);
                        state.replicas.get_mut(&p).expect("replica").push(record);
                    }
                    let r = state.replicas.get_mut(&p).expect("replica");
                    r.high_watermark = r.high_watermark.max(high_watermark.min(r.log_end()));
                }
                if let (Some((offset, epoch)), true) = (first, visible && !msgs.is_empty()) {
                    self.ctx.history.record(
                        &self.host,
                        EventKind::Append {
                            dest,
                            offset,
                            epoch,
                            msgs,
                        },
                    );
                }
                self.apply_flush_policy();
                self.publish(p);
                self.changed.notify_waiters();
                FollowerStep::Continue
            }
            FetchReply::Diverging { epoch, end } => {
                let removed = {
                    let state = &mut *self.state.borrow_mut();
                    let r = state.replicas.get_mut(&p).expect("replica");
                    let to = r.truncation_point(epoch, end);
                    let removed = r.truncate(to);
                    state.store.truncate(p, to);
                    (to, removed)
                };
                if visible {
                    self.ctx.history.record(
                        &self.host,
                        EventKind::Truncate {
                            dest,
                            to: removed.0,
                            msgs: removed.1.iter().filter_map(Record::msg).collect(),
                        },
                    );
                }
                self.apply_flush_policy();
                self.publish(p);
                FollowerStep::Continue
            }
            FetchReply::OutOfRange { start, .. } if offset < start => {
                self.start_log_at(p, start);
                self.changed.notify_waiters();
                FollowerStep::Continue
            }
            FetchReply::OutOfRange { .. } | FetchReply::Error(_) => FollowerStep::BackOff,
        }
    }
}
