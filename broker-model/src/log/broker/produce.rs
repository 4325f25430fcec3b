//! The leader's write path: a producer's append, with `acks` deciding when
//! it is answered, and the wait for a record to be committed that both
//! `acks=all` sends and offset commits make.

use super::state::Broker;
use crate::clock::now;
use crate::history::{EventKind, MsgId};
use crate::log::config::{partition_name, Acks, Sabotage};
use crate::log::protocol::{ErrorCode, PartitionId, Payload};
use crate::log::replica::CommitStatus;

/// The size of an offset commit record: a key of group, topic and
/// partition, and a value of offset and metadata.
const COMMIT_BYTES: u32 = 64;

impl Broker {
    /// Appends `payload` as leader, journals it and applies the flush
    /// policy. Returns the record's offset and leader epoch.
    pub(super) fn append(&self, p: PartitionId, payload: Payload) -> (u64, u32) {
        let record = {
            let state = &mut *self.state.borrow_mut();
            let r = state.replicas.get_mut(&p).expect("leader holds replica");
            let bytes = match &payload {
                Payload::Message { .. } => self.ctx.workload.message_bytes,
                Payload::Commit { .. } => COMMIT_BYTES,
            };
            let record = r.append(payload, now().as_millis() as u64, bytes);
            r.update_high_watermark();
            state.store.append(p, &record);
            record
        };
        if let Some(msg) = record.msg() {
            self.ctx.history.record(
                &self.host,
                EventKind::Append {
                    dest: partition_name(p),
                    offset: record.offset,
                    epoch: record.epoch,
                    msgs: vec![msg],
                },
            );
        }
        self.apply_flush_policy();
        self.publish(p);
        self.changed.notify_waiters();
        (record.offset, record.epoch)
    }

    /// Serves a produce request; `None` when `acks=0` wants no answer.
    pub(super) async fn produce(
        &self,
        p: PartitionId,
        msg: MsgId,
        producer: u64,
        acks: Acks,
        idempotent: bool,
    ) -> Option<Result<u64, ErrorCode>> {
        let reply = |r| (acks != Acks::None).then_some(r);
        let existing = {
            let state = self.state.borrow();
            let Some(r) = state.replicas.get(&p).filter(|r| r.is_leader()) else {
                return reply(Err(ErrorCode::NotLeader));
            };
            if acks == Acks::All && !r.has_min_isr(self.ctx.config.min_insync_replicas) {
                return reply(Err(ErrorCode::NotEnoughReplicas));
            }
            if idempotent {
                r.duplicate_of(producer, msg).map(|o| (o, r.leader_epoch))
            } else {
                None
            }
        };
        let (offset, epoch) =
            existing.unwrap_or_else(|| self.append(p, Payload::Message { msg, producer }));
        let result = match acks {
            Acks::None => return None,
            Acks::Leader => Ok(offset),
            Acks::All if self.ctx.config.sabotage == Sabotage::AckBeforeReplication => Ok(offset),
            Acks::All => {
                self.committed(p, offset, epoch, self.ctx.config.min_insync_replicas)
                    .await
            }
        };
        if result.is_ok() {
            self.acknowledged(p, offset);
        }
        Some(result)
    }

    fn acknowledged(&self, p: PartitionId, offset: u64) {
        {
            let state = &mut *self.state.borrow_mut();
            state.store.acknowledged();
            if let Some(r) = state.replicas.get_mut(&p) {
                r.acked_end = r.acked_end.max(offset + 1);
            }
        }
        self.publish(p);
    }

    /// Waits until the record at `offset`, appended in `epoch`, is below the
    /// high watermark, while this broker still leads in that epoch.
    pub(super) async fn committed(
        &self,
        p: PartitionId,
        offset: u64,
        epoch: u32,
        min_isr: u32,
    ) -> Result<u64, ErrorCode> {
        let deadline = tokio::time::Instant::now() + self.ctx.config.request_timeout;
        loop {
            let notified = self.changed.notified();
            let status = self.state.borrow().replicas[&p].commit_status(offset, epoch, min_isr);
            match status {
                CommitStatus::LeadershipLost => return Err(ErrorCode::LeadershipLost),
                CommitStatus::UnderReplicated => {
                    return Err(ErrorCode::NotEnoughReplicasAfterAppend)
                }
                CommitStatus::Committed => return Ok(offset),
                CommitStatus::Pending => {}
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(ErrorCode::RequestTimedOut);
            }
        }
    }
}
