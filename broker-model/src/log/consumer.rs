//! A consumer: reads its partitions, hands records to an application that
//! processes them one at a time, and commits its position.
//!
//! The application works from a queue the poll loop fills, as with
//! librdkafka's prefetch queue or a Java consumer feeding a worker pool. With
//! `enable.auto.commit` a timer commits the position of everything handed
//! over, processed or not; with manual commit the application commits each
//! record after processing it. That difference is the third loss point.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::history::{EventKind, MsgId};
use crate::log::client::Client;
use crate::log::config::{partition_name, Context, OffsetReset};
use crate::log::protocol::{ErrorCode, FetchReply, PartitionId, Record, Reply, Request};
use crate::workload::application::{Application, Reading, Received};
use crate::workload::{consumer_host, start};

/// The consumer group every consumer belongs to.
const GROUP: &str = "mqsim";

#[derive(Default)]
struct Position {
    next: u64,
    committed: Option<u64>,
    /// The last fetch found nothing beyond `next` below the high watermark.
    caught_up: bool,
    /// The high watermark the last fetch reported, if any fetch has
    /// answered since the consumer started.
    high_watermark: Option<u64>,
    /// `auto.offset.reset = "none"` found no valid position: the consumer
    /// reads nothing more here, and only watches what is left to read.
    stopped: bool,
}

impl Position {
    /// Committed records not yet read, as far as the last fetch tells
    /// (Kafka's `records-lag`): 0 before any fetch answered.
    fn lag(&self) -> u64 {
        self.high_watermark
            .map_or(0, |hw| hw.saturating_sub(self.next))
    }
}

/// What `auto.offset.reset` makes of a position the consumer cannot use.
enum Reset {
    /// Go on from this offset.
    To(u64),
    /// `none`: stop reading the partition.
    Stop,
    /// The log's end could not be learned yet: ask again.
    Retry,
}

/// A record handed to the application.
struct Item {
    partition: PartitionId,
    offset: u64,
    msg: MsgId,
}

impl Received for Item {
    fn msg(&self) -> MsgId {
        self.msg
    }
}

struct Consumer {
    client: Client,
    /// The partitions this consumer reads.
    assigned: Vec<PartitionId>,
    positions: RefCell<BTreeMap<PartitionId, Position>>,
    app: Application<Item>,
}

/// Runs consumer `index` (1-based) until crashed.
pub(crate) async fn run(ctx: Context, index: u32) -> turmoil::Result {
    let host = consumer_host(index);
    let (endpoint, _requests) = start(&ctx.processes, &host).await?;
    let consumers = ctx.workload.consumers;
    let assigned: Vec<PartitionId> = (0..ctx.config.partitions)
        .filter(|p| p % consumers == index - 1)
        .collect();
    let app = Application::new(
        host,
        &ctx.history,
        &ctx.observer,
        ctx.workload.processing_time,
    );
    let consumer = Rc::new(Consumer {
        client: Client::new(endpoint, ctx),
        assigned: assigned.clone(),
        positions: RefCell::new(BTreeMap::new()),
        app,
    });
    consumer.publish();
    for p in &assigned {
        let position = match consumer.initial_position(*p).await {
            Some(next) => Position {
                next,
                ..Position::default()
            },
            None => Position {
                stopped: true,
                ..Position::default()
            },
        };
        consumer.positions.borrow_mut().insert(*p, position);
    }
    for p in assigned {
        tokio::task::spawn_local(Rc::clone(&consumer).poll(p));
    }
    if consumer.client.ctx.config.enable_auto_commit {
        tokio::task::spawn_local(Rc::clone(&consumer).auto_commit());
    }
    consumer.process().await;
    Ok(())
}

impl Consumer {
    fn ctx(&self) -> &Context {
        &self.client.ctx
    }

    /// Whether every assigned partition has been read to its high
    /// watermark. A partition whose starting position is not known yet (the
    /// group coordinator has not answered since a restart) is not: a
    /// consumer that cannot reach the cluster has not read everything.
    fn caught_up(&self) -> bool {
        let positions = self.positions.borrow();
        self.assigned
            .iter()
            .all(|p| positions.get(p).is_some_and(|pos| pos.caught_up))
    }

    /// How far the consumer's reads have got over its partitions.
    fn reading(&self) -> Reading {
        let lag = self.positions.borrow().values().map(Position::lag).sum();
        Reading {
            read_all: self.caught_up(),
            lag,
        }
    }

    fn publish(&self) {
        self.app.publish(self.reading());
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
                Ok(Reply::OffsetFetch(Ok(None))) => match self.reset_position(p).await {
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
                Ok(Reply::OffsetFetch(Err(ErrorCode::NotLeader))) => {
                    self.client.forget_leader(coordinator)
                }
                _ => {}
            }
            tokio::time::sleep(config.retry_backoff).await;
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
    async fn poll(self: Rc<Self>, p: PartitionId) {
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
                })) => self.deliver(p, offset, records, high_watermark),
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

    /// Records that `auto.offset.reset` moved `p`'s position from `from` to
    /// `to` (or stopped the partition).
    fn record_reset(&self, p: PartitionId, from: Option<u64>, to: Option<u64>) {
        self.ctx().history.record(
            self.app.host(),
            EventKind::OffsetReset {
                dest: partition_name(p),
                from,
                to,
            },
        );
    }

    fn deliver(&self, p: PartitionId, offset: u64, records: Vec<Record>, high_watermark: u64) {
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

    /// The application: processes queued records one at a time and, with
    /// manual commit, commits each after processing it.
    async fn process(&self) {
        let auto_commit = self.ctx().config.enable_auto_commit;
        self.app
            .process(
                || self.reading(),
                |item, _| async move {
                    if !auto_commit {
                        self.commit(item.partition, item.offset + 1).await;
                    }
                },
            )
            .await;
    }

    /// Commits every partition's delivered position on a timer, whether the
    /// application has processed those records or not.
    async fn auto_commit(self: Rc<Self>) {
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

    /// Commits `offset` for `p`, retrying a few times like `commitSync`.
    async fn commit(&self, p: PartitionId, offset: u64) {
        let config = self.ctx().config.clone();
        let coordinator = config.offsets_partition();
        for attempt in 0..=config.retries {
            if attempt > 0 {
                tokio::time::sleep(config.retry_backoff).await;
            }
            let req = Request::OffsetCommit {
                group: GROUP.into(),
                partition: p,
                offset,
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
                Ok(Reply::OffsetCommit(Err(_))) => self.client.forget_leader(coordinator),
                _ => {}
            }
        }
    }
}
