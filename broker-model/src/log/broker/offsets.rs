//! Consumer group offsets, kept as Kafka keeps `__consumer_offsets`: as
//! records of an internal partition, replicated like any other, whose
//! leader answers commits once they are committed and reads only below its
//! high watermark.

use super::state::Broker;
use crate::log::protocol::{ErrorCode, PartitionId, Payload};

impl Broker {
    /// Stores `group`'s position in `partition` as a record of the offsets
    /// partition and waits until it is committed.
    pub(super) async fn commit_offset(
        &self,
        group: String,
        partition: PartitionId,
        offset: u64,
    ) -> Result<(), ErrorCode> {
        let p = self.ctx.config.offsets_partition();
        self.with_leader(p, |_| ())?;
        let (at, epoch) = self.append(
            p,
            Payload::Commit {
                group,
                partition,
                offset,
            },
        );
        self.committed(p, at, epoch, 1).await.map(|_| ())
    }

    /// `group`'s committed position in `partition`; refused while this
    /// leader has records it does not yet know to be committed, as Kafka's
    /// coordinator refuses while it loads.
    pub(super) fn fetch_offset(
        &self,
        group: &str,
        partition: PartitionId,
    ) -> Result<Option<u64>, ErrorCode> {
        let p = self.ctx.config.offsets_partition();
        self.with_leader(p, |r| {
            if r.high_watermark < r.log_end() {
                Err(ErrorCode::CoordinatorLoading)
            } else {
                Ok(r.committed_offset(group, partition))
            }
        })?
    }
}
