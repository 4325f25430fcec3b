//! Retention, as Kafka's log manager runs it: every
//! `log.retention.check.interval.ms` a broker deletes from each log it
//! holds the segments that `retention.ms` or `retention.bytes` let
//! go, whether or not any consumer has read them. A follower whose log lies
//! wholly before its leader's log start starts over there.

use std::rc::Rc;

use super::state::Broker;
use crate::clock::now;
use crate::history::{DropReason, EventKind};
use crate::log::config::partition_name;
use crate::log::protocol::{PartitionId, Record};

impl Broker {
    /// Runs the retention check on every log, for as long as the broker
    /// runs.
    pub(super) async fn enforce_retention(self: Rc<Self>) {
        let every = self.ctx.config.retention.check_interval;
        loop {
            tokio::time::sleep(every).await;
            let now_ms = now().as_millis() as u64;
            let partitions: Vec<PartitionId> =
                self.state.borrow().replicas.keys().copied().collect();
            for p in partitions {
                let point = self.state.borrow().replicas[&p].retention_point(now_ms);
                if let Some(start) = point {
                    self.start_log_at(p, start);
                }
            }
        }
    }

    /// Deletes `p`'s records before `start`, journals it and records which
    /// messages went.
    pub(super) fn start_log_at(&self, p: PartitionId, start: u64) {
        let removed = {
            let state = &mut *self.state.borrow_mut();
            let r = state.replicas.get_mut(&p).expect("replica");
            let removed = r.start_at(start);
            state.store.start_at(p, start);
            removed
        };
        let msgs: Vec<_> = removed.iter().filter_map(Record::msg).collect();
        if !msgs.is_empty() && p != self.ctx.config.offsets_partition() {
            self.ctx.history.record(
                &self.host,
                EventKind::Drop {
                    dest: partition_name(p),
                    reason: DropReason::Retention,
                    msgs,
                },
            );
        }
        self.apply_flush_policy();
        self.publish(p);
    }
}
