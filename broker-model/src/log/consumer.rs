//! A consumer: reads its partitions, hands records to an application that
//! processes them one at a time, and commits its position.
//!
//! The application works from a queue the poll loop fills, as with
//! librdkafka's prefetch queue or a Java consumer feeding a worker pool. With
//! `enable.auto.commit` a timer commits the position of everything handed
//! over, processed or not; with manual commit the application commits each
//! record after processing it. That difference is the third loss point.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;

use tokio::sync::Notify;

use crate::history::{EventKind, MsgId};
use crate::log::client::Client;
use crate::log::config::{partition_name, OffsetReset};
use crate::log::protocol::{ErrorCode, FetchReply, PartitionId, Reply, Request};
use crate::log::Context;
use crate::observe::ClientView;
use crate::wire::Endpoint;
use crate::workload::consumer_host;

/// The consumer group every consumer belongs to.
pub const GROUP: &str = "mqsim";

#[derive(Default)]
struct Position {
    next: u64,
    committed: Option<u64>,
    /// The last fetch found nothing beyond `next` below the high watermark.
    caught_up: bool,
}

struct Consumer {
    host: String,
    client: Client,
    positions: RefCell<BTreeMap<PartitionId, Position>>,
    queue: RefCell<VecDeque<(PartitionId, u64, MsgId)>>,
    processing: Cell<bool>,
    /// Woken when the queue gains or loses a record.
    queue_changed: Notify,
}

/// Runs consumer `index` (1-based) until crashed.
pub async fn run(ctx: Context, index: u32) -> turmoil::Result {
    let host = consumer_host(index);
    ctx.processes.wait_until_started(&host).await;
    let (endpoint, _requests) = Endpoint::bind().await?;
    let consumers = ctx.workload.consumers;
    let assigned: Vec<PartitionId> = (0..ctx.config.partitions)
        .filter(|p| p % consumers == index - 1)
        .collect();
    let consumer = Rc::new(Consumer {
        host,
        client: Client::new(endpoint, ctx),
        positions: RefCell::new(BTreeMap::new()),
        queue: RefCell::new(VecDeque::new()),
        processing: Cell::new(false),
        queue_changed: Notify::new(),
    });
    consumer.publish();
    for p in &assigned {
        let next = consumer.initial_position(*p).await;
        consumer.positions.borrow_mut().insert(
            *p,
            Position {
                next,
                committed: None,
                caught_up: false,
            },
        );
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

    fn publish(&self) {
        let queued = self.queue.borrow().len() as u64;
        let busy = self.processing.get();
        let caught_up = self.positions.borrow().values().all(|p| p.caught_up);
        let holding = queued + u64::from(busy);
        self.ctx().observer.client(
            &self.host,
            ClientView {
                done: caught_up && holding == 0,
                holding,
                acked: 0,
            },
        );
    }

    /// Where to start in `p`: the group's committed position, or the reset
    /// policy's choice when there is none.
    async fn initial_position(&self, p: PartitionId) -> u64 {
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
                Ok(Reply::OffsetFetch(Ok(Some(offset)))) => return offset,
                Ok(Reply::OffsetFetch(Ok(None))) => {
                    if let Some(offset) = self.reset_position(p).await {
                        return offset;
                    }
                }
                Ok(Reply::OffsetFetch(Err(ErrorCode::NotLeader))) => {
                    self.client.forget_leader(coordinator)
                }
                _ => {}
            }
            tokio::time::sleep(config.retry_backoff).await;
        }
    }

    async fn reset_position(&self, p: PartitionId) -> Option<u64> {
        match self.ctx().config.auto_offset_reset {
            OffsetReset::Earliest => Some(0),
            OffsetReset::Latest => {
                let timeout = self.ctx().config.request_timeout;
                match self
                    .client
                    .call_leader(p, Request::ListOffsets { partition: p }, timeout)
                    .await
                {
                    Ok(Reply::ListOffsets(Ok((_, end)))) => Some(end),
                    Ok(Reply::ListOffsets(Err(_))) => {
                        self.client.forget_leader(p);
                        None
                    }
                    _ => None,
                }
            }
        }
    }

    /// Fetches `p` into the application's queue whenever it has room.
    async fn poll(self: Rc<Self>, p: PartitionId) {
        let config = self.ctx().config.clone();
        let room = config.max_poll_records as usize;
        loop {
            let notified = self.queue_changed.notified();
            let queued = self.queue.borrow().len();
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
                    };
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

    fn deliver(
        &self,
        p: PartitionId,
        offset: u64,
        records: Vec<crate::log::protocol::Record>,
        high_watermark: u64,
    ) {
        {
            let mut positions = self.positions.borrow_mut();
            let pos = positions.get_mut(&p).expect("assigned");
            if pos.next != offset {
                return;
            }
            let dest = partition_name(p);
            let mut queue = self.queue.borrow_mut();
            for r in &records {
                if let Some(msg) = r.msg() {
                    self.ctx().history.record(
                        &self.host,
                        EventKind::Receive {
                            msg,
                            dest: dest.clone(),
                            offset: Some(r.offset),
                            redelivered: false,
                        },
                    );
                    queue.push_back((p, r.offset, msg));
                }
                pos.next = r.offset + 1;
            }
            pos.caught_up = records.is_empty() && pos.next >= high_watermark;
        }
        self.publish();
        self.queue_changed.notify_waiters();
    }

    /// The application: processes queued records one at a time.
    async fn process(&self) {
        let config = self.ctx().config.clone();
        loop {
            let notified = self.queue_changed.notified();
            let next = self.queue.borrow_mut().pop_front();
            let Some((p, offset, msg)) = next else {
                notified.await;
                continue;
            };
            self.processing.set(true);
            self.publish();
            self.queue_changed.notify_waiters();
            tokio::time::sleep(self.ctx().workload.processing_time).await;
            self.ctx()
                .history
                .record(&self.host, EventKind::Processed { msg });
            if !config.enable_auto_commit {
                self.commit(p, offset + 1).await;
            }
            self.processing.set(false);
            self.publish();
        }
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
    async fn commit(&self, p: PartitionId, offset: u64) -> bool {
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
                        &self.host,
                        EventKind::Commit {
                            dest: partition_name(p),
                            offset,
                        },
                    );
                    return true;
                }
                Ok(Reply::OffsetCommit(Err(_))) => self.client.forget_leader(coordinator),
                _ => {}
            }
        }
        false
    }
}
