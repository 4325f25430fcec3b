//! The application's side: processing what the poll loop queued, and
//! committing positions on a timer (`enable.auto.commit`), after
//! processing, or before it.

use std::rc::Rc;

use super::state::Consumer;
use crate::history::EventKind;
use crate::log::config::{partition_name, CommitPolicy};
use crate::log::group::GROUP;
use crate::log::protocol::{ErrorCode, PartitionId, Reply, Request};

impl Consumer {
    /// The application: processes queued records one at a time and, with
    /// manual commit after processing, commits each after processing it. A
    /// record of a partition revoked meanwhile is neither committed nor
    /// counted as processed here: its new owner starts from the group's
    /// committed offset.
    pub(super) async fn process(&self) {
        let config = &self.ctx().config;
        let after = !config.enable_auto_commit && config.commit == CommitPolicy::AfterProcessing;
        self.app
            .process(
                || self.reading(),
                |item, _| async move {
                    if !self.owns(item.partition, item.generation) {
                        return;
                    }
                    let next = item.offset + 1;
                    if let Some(pos) = self.positions.borrow_mut().get_mut(&item.partition) {
                        pos.processed = Some(next);
                    }
                    if after {
                        self.commit(item.partition, next).await;
                    }
                },
            )
            .await;
    }

    /// Commits every partition's delivered position on a timer, whether the
    /// application has processed those records or not.
    pub(super) async fn auto_commit(self: Rc<Self>) {
        let every = self.ctx().config.auto_commit_interval;
        loop {
            tokio::time::sleep(every).await;
            let due: Vec<(PartitionId, u64)> = self
                .positions
                .borrow()
                .iter()
                .filter(|(_, pos)| pos.committed != Some(pos.next))
                .map(|(p, pos)| (*p, pos.next))
                .collect();
            for (p, offset) in due {
                self.commit(p, offset).await;
            }
        }
    }

    /// `commit = "before-processing"`: commits the position `poll` just
    /// returned up to, before the application has processed any of it.
    pub(super) async fn commit_polled(&self, p: PartitionId) {
        let due = self
            .positions
            .borrow()
            .get(&p)
            .filter(|pos| pos.committed != Some(pos.next))
            .map(|pos| pos.next);
        if let Some(offset) = due {
            self.commit(p, offset).await;
        }
    }

    /// Commits `offset` for `p`, retrying a few times like `commitSync`. A
    /// group member that is not in the group's current generation gets a
    /// `CommitFailedException`: it gives up.
    pub(super) async fn commit(&self, p: PartitionId, offset: u64) {
        let config = self.ctx().config.clone();
        let coordinator = config.offsets_partition();
        let member = self.token();
        if self.member.is_some() && member.is_none() {
            return;
        }
        for attempt in 0..=config.retries {
            if attempt > 0 {
                tokio::time::sleep(config.retry_backoff).await;
            }
            let req = Request::OffsetCommit {
                group: GROUP.into(),
                partition: p,
                offset,
                member: member.clone(),
            };
            match self
                .client
                .call_leader(coordinator, req, config.request_timeout)
                .await
            {
                Ok(Reply::OffsetCommit(Ok(()))) => {
                    if let Some(pos) = self.positions.borrow_mut().get_mut(&p) {
                        pos.committed = Some(offset);
                    }
                    self.ctx().history.record(
                        self.app.host(),
                        EventKind::Commit {
                            dest: partition_name(p),
                            offset,
                        },
                    );
                    return;
                }
                Ok(Reply::OffsetCommit(Err(
                    ErrorCode::UnknownMemberId
                    | ErrorCode::IllegalGeneration
                    | ErrorCode::RebalanceInProgress,
                ))) => return,
                Ok(Reply::OffsetCommit(Err(_))) => self.client.forget_leader(coordinator),
                _ => {}
            }
        }
    }
}
