//! Reading partitions: where to start (the group's committed offset, or
//! `auto.offset.reset`), fetching into the application's queue, and
//! watching a partition the consumer stopped reading.

use std::rc::Rc;

use super::state::{Consumer, Item, Position};
use crate::clock::now;
use crate::history::EventKind;
use crate::log::config::{partition_name, CommitPolicy, GroupOffsets, OffsetReset};
use crate::log::group::GROUP;
use crate::log::protocol::{ErrorCode, FetchReply, PartitionId, Record, Reply, Request};

/// What `auto.offset.reset` makes of a position the consumer cannot use.
enum Reset {
    /// Go on from this offset.
    To(u64),
    /// `none`: stop reading the partition.
    Stop,
    /// The log's end could not be learned yet: ask again.
    Retry,
}

impl Consumer {
    /// Learns where to start in `p` and records it.
    pub(super) async fn start_position(&self, p: PartitionId) {
        let position = match self.initial_position(p).await {
            Some(next) => Position {
                next,
                ..Position::default()
            },
            None => Position {
                stopped: true,
                ..Position::default()
            },
        };
        self.positions.borrow_mut().insert(p, position);
    }

    /// Where to start in `p`: the group's committed position, or the reset
    /// policy's choice when there is none; `None` when the policy is `none`
    /// and the consumer does not read `p`.
    async fn initial_position(&self, p: PartitionId) -> Option<u64> {
        let config = self.ctx().config.clone();
        let coordinator = config.offsets_partition();
        loop {
            let req = Request::OffsetFetch {
                group: GROUP.into(),
                partition: p,
            };
            match self
                .client
                .call_leader(coordinator, req, config.request_timeout)
                .await
            {
                Ok(Reply::OffsetFetch(Ok(Some(offset)))) => return Some(offset),
                Ok(Reply::OffsetFetch(Ok(None))) => match self.preset_offset(p).await {
                    // Committed as the operator's tool would have: ask again.
                    Some(Reset::To(offset)) => self.commit(p, offset).await,
                    Some(_) => {}
                    None => match self.reset_position(p).await {
                        Reset::To(offset) => {
                            self.record_reset(p, None, Some(offset));
                            return Some(offset);
                        }
                        Reset::Stop => {
                            self.record_reset(p, None, None);
                            return None;
                        }
                        Reset::Retry => {}
                    },
                },
                Ok(Reply::OffsetFetch(Err(ErrorCode::NotLeader))) => {
                    self.client.forget_leader(coordinator)
                }
                _ => {}
            }
            tokio::time::sleep(config.retry_backoff).await;
        }
    }

    /// The offset an operator set for the group in `p` before deploying its
    /// consumers (`group_offsets`), as `kafka-consumer-groups.sh
    /// --reset-offsets --to-earliest` (or `--to-latest`) sets it from the
    /// partition's current log start (or end); `None` for a new group.
    async fn preset_offset(&self, p: PartitionId) -> Option<Reset> {
        let to_end = match self.ctx().config.group_offsets {
            GroupOffsets::New => return None,
            GroupOffsets::ToEarliest => false,
            GroupOffsets::ToLatest => true,
        };
        let timeout = self.ctx().config.request_timeout;
        match self
            .client
            .call_leader(p, Request::ListOffsets { partition: p }, timeout)
            .await
        {
            Ok(Reply::ListOffsets(Ok((start, end)))) => {
                Some(Reset::To(if to_end { end } else { start }))
            }
            Ok(Reply::ListOffsets(Err(_))) => {
                self.client.forget_leader(p);
                Some(Reset::Retry)
            }
            _ => Some(Reset::Retry),
        }
    }

    /// Where a consumer without a committed position in `p` starts.
    async fn reset_position(&self, p: PartitionId) -> Reset {
        match self.ctx().config.auto_offset_reset {
            OffsetReset::None => Reset::Stop,
            // The fetch from 0 is answered with the log start if retention
            // deleted the beginning.
            OffsetReset::Earliest => Reset::To(0),
            OffsetReset::Latest => {
                let timeout = self.ctx().config.request_timeout;
                match self
                    .client
                    .call_leader(p, Request::ListOffsets { partition: p }, timeout)
                    .await
                {
                    Ok(Reply::ListOffsets(Ok((_, end)))) => Reset::To(end),
                    Ok(Reply::ListOffsets(Err(_))) => {
                        self.client.forget_leader(p);
                        Reset::Retry
                    }
                    _ => Reset::Retry,
                }
            }
        }
    }

    /// Fetches `p` into the application's queue whenever it has room.
    pub(super) async fn poll(self: Rc<Self>, p: PartitionId) {
        let config = self.ctx().config.clone();
        let room = config.max_poll_records as usize;
        loop {
            if self.positions.borrow()[&p].stopped {
                return self.watch_stopped(p).await;
            }
            let notified = self.app.changed();
            let queued = self.app.queued();
            if queued >= room {
                notified.await;
                continue;
            }
            let offset = self.positions.borrow()[&p].next;
            let req = Request::Fetch {
                partition: p,
                offset,
                max_records: (room - queued) as u32,
                replica: None,
            };
            let timeout = config.fetch_max_wait + config.request_timeout;
            match self.client.call_leader(p, req, timeout).await {
                Ok(Reply::Fetch(FetchReply::Records {
                    records,
                    high_watermark,
                })) => {
                    self.deliver(p, offset, records, high_watermark);
                    if config.commit == CommitPolicy::BeforeProcessing && !config.enable_auto_commit
                    {
                        self.commit_polled(p).await;
                    }
                }
                Ok(Reply::Fetch(FetchReply::OutOfRange { start, end })) => {
                    let next = match config.auto_offset_reset {
                        OffsetReset::Earliest => start,
                        OffsetReset::Latest => end,
                        OffsetReset::None => {
                            self.record_reset(p, Some(offset), None);
                            let mut positions = self.positions.borrow_mut();
                            let pos = positions.get_mut(&p).expect("assigned");
                            pos.stopped = true;
                            pos.caught_up = false;
                            continue;
                        }
                    };
                    // Kafka resets silently when asked to start from the
                    // very beginning and the log no longer starts there.
                    if offset != 0 || next != start {
                        self.record_reset(p, Some(offset), Some(next));
                    }
                    self.positions
                        .borrow_mut()
                        .get_mut(&p)
                        .expect("assigned")
                        .next = next;
                }
                Ok(Reply::Fetch(FetchReply::Error(_))) | Ok(_) => {
                    self.client.forget_leader(p);
                    tokio::time::sleep(config.retry_backoff).await;
                }
                Err(_) => tokio::time::sleep(config.retry_backoff).await,
            }
        }
    }

    /// Keeps the lag of a partition the consumer stopped reading current,
    /// as a monitoring tool reading the log's offsets would: what is still
    /// readable, from the log start to the high watermark.
    async fn watch_stopped(&self, p: PartitionId) {
        let config = self.ctx().config.clone();
        loop {
            let req = Request::ListOffsets { partition: p };
            match self
                .client
                .call_leader(p, req, config.request_timeout)
                .await
            {
                Ok(Reply::ListOffsets(Ok((start, end)))) => {
                    {
                        let mut positions = self.positions.borrow_mut();
                        let pos = positions.get_mut(&p).expect("assigned");
                        pos.next = pos.next.max(start);
                        pos.high_watermark = Some(end);
                    }
                    self.publish();
                }
                Ok(_) => self.client.forget_leader(p),
                Err(_) => {}
            }
            tokio::time::sleep(config.fetch_max_wait).await;
        }
    }

    /// Hands the records of a fetch of `p` from `offset` to the
    /// application, unless the position moved meanwhile.
    fn deliver(&self, p: PartitionId, offset: u64, records: Vec<Record>, high_watermark: u64) {
        let generation = self.stint(p);
        {
            let mut positions = self.positions.borrow_mut();
            let pos = positions.get_mut(&p).expect("assigned");
            if pos.next != offset {
                return;
            }
            let dest = partition_name(p);
            for r in &records {
                if let Some(msg) = r.msg() {
                    self.ctx().history.record(
                        self.app.host(),
                        EventKind::Receive {
                            msg,
                            dest: dest.clone(),
                            offset: Some(r.offset),
                            redelivered: false,
                        },
                    );
                    self.app.push(Item {
                        partition: p,
                        offset: r.offset,
                        msg,
                        generation,
                        polled_at: now(),
                    });
                }
                pos.next = r.offset + 1;
            }
            pos.caught_up = records.is_empty() && pos.next >= high_watermark;
            pos.high_watermark = Some(high_watermark);
        }
        self.publish();
        self.app.notify();
    }
}
