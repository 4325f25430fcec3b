//! The leader's read path: fetches from followers, which also tell the
//! leader how far each follower has got, and from consumers, which see
//! committed records only. An empty fetch is held until records arrive or
//! the wait (`replica.fetch.wait.max.ms`, `fetch.max.wait.ms`) runs out.

use super::state::Broker;
use crate::clock::now;
use crate::log::protocol::{ErrorCode, FetchReply, PartitionId, ReplicaFetch};
use crate::log::replica::HighWatermark;

/// The most records one fetch returns.
pub(super) const MAX_FETCH: u32 = 500;

impl Broker {
    /// Serves a fetch of `p` from `offset`; `replica` is set when a
    /// follower fetches.
    pub(super) async fn fetch(
        &self,
        p: PartitionId,
        offset: u64,
        max_records: u32,
        replica: Option<ReplicaFetch>,
    ) -> FetchReply {
        let wait = if replica.is_some() {
            self.ctx.config.replica_fetch_wait_max
        } else {
            self.ctx.config.fetch_max_wait
        };
        let deadline = tokio::time::Instant::now() + wait;
        let max = max_records.min(MAX_FETCH) as u64;
        if let Some(f) = &replica {
            let moved = {
                let mut state = self.state.borrow_mut();
                let Some(r) = state.replicas.get_mut(&p).filter(|r| r.is_leader()) else {
                    return FetchReply::Error(ErrorCode::NotLeader);
                };
                if f.leader_epoch < r.leader_epoch {
                    return FetchReply::Error(ErrorCode::FencedEpoch);
                }
                if f.leader_epoch > r.leader_epoch {
                    return FetchReply::Error(ErrorCode::NotLeader);
                }
                if let Some((epoch, end)) = r.divergence(offset, f.last_epoch) {
                    return FetchReply::Diverging { epoch, end };
                }
                r.follower_fetched(f.broker, offset, now())
            };
            if moved == HighWatermark::Advanced {
                self.publish(p);
                self.changed.notify_waiters();
            }
        }
        loop {
            let notified = self.changed.notified();
            {
                let mut state = self.state.borrow_mut();
                let Some(r) = state.replicas.get_mut(&p).filter(|r| r.is_leader()) else {
                    return FetchReply::Error(ErrorCode::NotLeader);
                };
                if replica
                    .as_ref()
                    .is_some_and(|f| f.leader_epoch != r.leader_epoch)
                {
                    return FetchReply::Error(ErrorCode::FencedEpoch);
                }
                let visible = if replica.is_some() {
                    r.log_end()
                } else {
                    r.high_watermark
                };
                if offset > r.log_end() || offset < r.log_start {
                    return FetchReply::OutOfRange {
                        start: r.log_start,
                        end: r.high_watermark,
                    };
                }
                if offset < visible || tokio::time::Instant::now() >= deadline {
                    let end = visible.min(offset + max).max(offset);
                    let reply = FetchReply::Records {
                        records: r.records(offset, end).to_vec(),
                        high_watermark: r.high_watermark,
                    };
                    if replica.is_some() {
                        r.sent_to_follower(end);
                        drop(state);
                        self.publish(p);
                    }
                    return reply;
                }
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }
}
