//! A broker: hosts partition replicas, leads some, follows others.
//!
//! Requests are served concurrently (a produce with `acks=all` and a long-
//! polling fetch both wait for the log to move); all of them share one
//! in-memory state, rebuilt from the journal at every start.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, Notify};

use crate::clock::now;
use crate::disk::Journal;
use crate::history::{EventKind, MsgId};
use crate::log::config::{broker_host, partition_name, Acks, Sabotage, CONTROLLER};
use crate::log::protocol::{
    BrokerId, ErrorCode, FetchReply, PartitionId, PartitionState, Payload, Record, ReplicaFetch,
    Reply, Request,
};
use crate::log::replica::{Replica, Role};
use crate::log::Context;
use crate::observe::{DiskView, ReplicaView};
use crate::wire::{CallError, Endpoint, Incoming};

/// One journal entry: the broker's log is the replay of these.
#[derive(Serialize, Deserialize)]
enum Entry {
    Append {
        partition: PartitionId,
        record: Record,
    },
    Truncate {
        partition: PartitionId,
        to: u64,
    },
}

/// The most records one fetch returns.
const MAX_FETCH: u32 = 500;

struct State {
    replicas: BTreeMap<PartitionId, Replica>,
    metadata: BTreeMap<PartitionId, PartitionState>,
    journal: Journal<Entry>,
    /// Acknowledgements given since the last fsync while the journal held
    /// unsynced entries.
    acked_unsynced: u64,
}

struct Broker {
    id: BrokerId,
    host: String,
    ctx: Context,
    endpoint: Rc<Endpoint<Request, Reply>>,
    state: RefCell<State>,
    /// Woken whenever a log, high watermark or role changes.
    changed: Notify,
}

type Io<T> = Result<T, Box<dyn std::error::Error>>;

/// Runs broker `id` until the host is crashed.
pub async fn run(ctx: Context, id: BrokerId) -> turmoil::Result {
    let host = broker_host(id);
    ctx.processes.wait_until_started(&host).await;
    let incarnation = now().as_micros() as u64;

    let (journal, entries) = Journal::<Entry>::open("log")?;
    let mut replicas: BTreeMap<PartitionId, Replica> = ctx
        .config
        .all_partitions()
        .filter(|p| ctx.config.replicas(*p).contains(&id))
        .map(|p| (p, Replica::new(p, id)))
        .collect();
    let recovered = entries.len() as u64;
    for entry in entries {
        match entry {
            Entry::Append { partition, record } => {
                if let Some(r) = replicas.get_mut(&partition) {
                    if record.offset == r.log_end() {
                        r.push(record);
                    }
                }
            }
            Entry::Truncate { partition, to } => {
                if let Some(r) = replicas.get_mut(&partition) {
                    r.truncate(to);
                }
            }
        }
    }
    let msgs: Vec<MsgId> = replicas
        .values()
        .flat_map(|r| r.log.iter().filter_map(Record::msg))
        .collect();
    ctx.history.record(
        &host,
        EventKind::Recover {
            entries: recovered,
            msgs,
        },
    );

    let (endpoint, incoming) = Endpoint::bind().await?;
    let broker = Rc::new(Broker {
        id,
        host,
        ctx,
        endpoint,
        state: RefCell::new(State {
            replicas,
            metadata: BTreeMap::new(),
            journal,
            acked_unsynced: 0,
        }),
        changed: Notify::new(),
    });
    for p in broker.state.borrow().replicas.keys().copied() {
        broker.publish(p);
        tokio::task::spawn_local(Rc::clone(&broker).follow(p));
    }
    tokio::task::spawn_local(Rc::clone(&broker).heartbeat(incarnation));
    tokio::task::spawn_local(Rc::clone(&broker).maintain_isr());
    if let Some(every) = broker.ctx.config.flush_interval {
        tokio::task::spawn_local(Rc::clone(&broker).flush_periodically(every));
    }
    broker.serve(incoming).await
}

impl Broker {
    async fn serve(
        self: Rc<Self>,
        mut incoming: mpsc::UnboundedReceiver<Incoming<Request>>,
    ) -> Io<()> {
        while let Some(req) = incoming.recv().await {
            tokio::task::spawn_local(Rc::clone(&self).handle(req));
        }
        Ok(())
    }

    async fn handle(self: Rc<Self>, req: Incoming<Request>) {
        let reply = match req.body {
            Request::Metadata => Some(Reply::Metadata(
                self.state.borrow().metadata.values().cloned().collect(),
            )),
            Request::Produce {
                partition,
                msg,
                producer,
                acks,
                idempotent,
            } => self
                .produce(partition, msg, producer, acks, idempotent)
                .await
                .map(Reply::Produce),
            Request::Fetch {
                partition,
                offset,
                max_records,
                replica,
            } => Some(Reply::Fetch(
                self.fetch(partition, offset, max_records, replica).await,
            )),
            Request::OffsetCommit {
                group,
                partition,
                offset,
            } => Some(Reply::OffsetCommit(
                self.commit_offset(group, partition, offset).await,
            )),
            Request::OffsetFetch { group, partition } => {
                Some(Reply::OffsetFetch(self.fetch_offset(&group, partition)))
            }
            Request::ListOffsets { partition } => Some(Reply::ListOffsets(
                self.with_leader(partition, |r| (0, r.high_watermark)),
            )),
            Request::Heartbeat { .. } | Request::AlterIsr { .. } => None,
        };
        if let Some(reply) = reply {
            self.endpoint.reply(req.from, req.id, reply).await;
        }
    }

    fn with_leader<T>(
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

    /// Appends `payload` as leader, journals it and applies the flush
    /// policy. Returns the record's offset and leader epoch.
    fn append(&self, p: PartitionId, payload: Payload) -> (u64, u32) {
        let record = {
            let mut state = self.state.borrow_mut();
            let record = state
                .replicas
                .get_mut(&p)
                .expect("leader holds replica")
                .append(payload);
            state
                .replicas
                .get_mut(&p)
                .expect("leader holds replica")
                .update_high_watermark();
            state
                .journal
                .append(&Entry::Append {
                    partition: p,
                    record: record.clone(),
                })
                .expect("journal write");
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

    fn apply_flush_policy(&self) {
        let Some(every) = self.ctx.config.flush_interval_messages else {
            return;
        };
        if self.state.borrow().journal.unsynced() >= every {
            self.flush();
        }
    }

    fn flush(&self) {
        let entries = {
            let mut state = self.state.borrow_mut();
            state.acked_unsynced = 0;
            state.journal.sync().expect("fsync")
        };
        if entries > 0 {
            self.ctx
                .history
                .record(&self.host, EventKind::Fsync { entries });
            self.publish_disk();
        }
    }

    async fn flush_periodically(self: Rc<Self>, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            self.flush();
        }
    }

    async fn produce(
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
            let isr = r.leadership().map_or(0, |l| l.isr.len()) as u32;
            if acks == Acks::All && isr < self.ctx.config.min_insync_replicas {
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
            let mut state = self.state.borrow_mut();
            if state.journal.unsynced() > 0 {
                state.acked_unsynced += 1;
            }
            if let Some(r) = state.replicas.get_mut(&p) {
                r.acked_end = r.acked_end.max(offset + 1);
            }
        }
        self.publish(p);
    }

    /// Waits until the record at `offset`, appended in `epoch`, is below the
    /// high watermark, while this broker still leads in that epoch.
    async fn committed(
        &self,
        p: PartitionId,
        offset: u64,
        epoch: u32,
        min_isr: u32,
    ) -> Result<u64, ErrorCode> {
        let deadline = tokio::time::Instant::now() + self.ctx.config.request_timeout;
        loop {
            let notified = self.changed.notified();
            {
                let state = self.state.borrow();
                let r = &state.replicas[&p];
                let still_leading = r.is_leader() && r.leader_epoch == epoch;
                if !still_leading || r.log_end() <= offset {
                    return Err(ErrorCode::LeadershipLost);
                }
                if r.high_watermark > offset {
                    let isr = r.leadership().map_or(0, |l| l.isr.len()) as u32;
                    return if isr < min_isr {
                        Err(ErrorCode::NotEnoughReplicasAfterAppend)
                    } else {
                        Ok(offset)
                    };
                }
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(ErrorCode::RequestTimedOut);
            }
        }
    }

    async fn fetch(
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
            if moved {
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
                if offset > r.log_end() {
                    return FetchReply::OutOfRange {
                        start: 0,
                        end: r.high_watermark,
                    };
                }
                if offset < visible || tokio::time::Instant::now() >= deadline {
                    let end = visible.min(offset + max).max(offset);
                    let reply = FetchReply::Records {
                        records: r.log[offset as usize..end as usize].to_vec(),
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

    async fn commit_offset(
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

    fn fetch_offset(&self, group: &str, partition: PartitionId) -> Result<Option<u64>, ErrorCode> {
        let p = self.ctx.config.offsets_partition();
        self.with_leader(p, |r| {
            if r.high_watermark < r.log_end() {
                Err(ErrorCode::CoordinatorLoading)
            } else {
                Ok(r.committed_offset(group, partition))
            }
        })?
    }

    /// Heartbeats the controller and applies the partition table it returns.
    async fn heartbeat(self: Rc<Self>, incarnation: u64) {
        let every = self.ctx.config.heartbeat_interval;
        loop {
            let beat = Request::Heartbeat {
                broker: self.id,
                incarnation,
            };
            if let Ok(Reply::Heartbeat(table)) =
                self.endpoint.call(CONTROLLER, beat, every * 2).await
            {
                self.apply_metadata(table);
            }
            tokio::time::sleep(every).await;
        }
    }

    fn apply_metadata(&self, table: Vec<PartitionState>) {
        let mut touched = Vec::new();
        let mut republish = Vec::new();
        let mut events = Vec::new();
        {
            let mut state = self.state.borrow_mut();
            for s in table {
                let p = s.partition;
                if let Some(r) = state.replicas.get_mut(&p) {
                    if s.leader_epoch > r.leader_epoch {
                        if s.leader == Some(self.id) {
                            r.become_leader(&s, now());
                            events.push(EventKind::BecomeLeader {
                                dest: partition_name(p),
                                epoch: s.leader_epoch,
                                log_end: r.log_end(),
                            });
                        } else {
                            r.become_follower(s.leader, s.leader_epoch);
                            events.push(EventKind::BecomeFollower {
                                dest: partition_name(p),
                                epoch: s.leader_epoch,
                                leader: s.leader.map(broker_host),
                            });
                        }
                        touched.push(p);
                    } else if s.leader_epoch == r.leader_epoch
                        && r.adopt_isr(&s.isr, s.partition_epoch)
                    {
                        touched.push(p);
                    }
                    if state.metadata.get(&p) != Some(&s) {
                        republish.push(p);
                    }
                }
                state.metadata.insert(p, s);
            }
        }
        for e in events {
            if self.is_visible(&e) {
                self.ctx.history.record(&self.host, e);
            }
        }
        for p in touched.iter().chain(&republish) {
            self.publish(*p);
        }
        if !touched.is_empty() {
            self.changed.notify_waiters();
        }
    }

    /// Role changes of the internal offsets partition are left out of the
    /// history: they say nothing about workload messages.
    fn is_visible(&self, e: &EventKind) -> bool {
        let offsets = partition_name(self.ctx.config.offsets_partition());
        match e {
            EventKind::BecomeLeader { dest, .. } | EventKind::BecomeFollower { dest, .. } => {
                *dest != offsets
            }
            _ => true,
        }
    }

    /// Replicates partition `p` whenever this broker follows it.
    async fn follow(self: Rc<Self>, p: PartitionId) {
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
                    if !self.on_fetched(p, leader, epoch, offset, reply) {
                        tokio::time::sleep(backoff).await;
                    }
                }
                Ok(_) | Err(CallError::Io(_)) => tokio::time::sleep(backoff).await,
                Err(CallError::Timeout) => {}
            }
        }
    }

    /// Applies a fetch reply if this broker still follows `leader` in
    /// `epoch` from `offset`. Returns false when the follower should back off.
    fn on_fetched(
        &self,
        p: PartitionId,
        leader: BrokerId,
        epoch: u32,
        offset: u64,
        reply: FetchReply,
    ) -> bool {
        {
            let state = self.state.borrow();
            let r = &state.replicas[&p];
            if r.role != (Role::Follower { leader })
                || r.leader_epoch != epoch
                || r.log_end() != offset
            {
                return true;
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
                    let mut state = self.state.borrow_mut();
                    for record in records {
                        msgs.extend(record.msg());
                        state
                            .journal
                            .append(&Entry::Append {
                                partition: p,
                                record: record.clone(),
                            })
                            .expect("journal write");
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
                true
            }
            FetchReply::Diverging { epoch, end } => {
                let removed = {
                    let mut state = self.state.borrow_mut();
                    let r = state.replicas.get_mut(&p).expect("replica");
                    let to = r.truncation_point(epoch, end);
                    let removed = r.truncate(to);
                    state
                        .journal
                        .append(&Entry::Truncate { partition: p, to })
                        .expect("journal write");
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
                true
            }
            FetchReply::OutOfRange { .. } | FetchReply::Error(_) => false,
        }
    }

    /// Proposes in-sync set changes to the controller as followers fall
    /// behind or catch up.
    async fn maintain_isr(self: Rc<Self>) {
        let lag = self.ctx.config.replica_lag_time_max;
        let every = (lag / 4).max(Duration::from_millis(10));
        loop {
            tokio::time::sleep(every).await;
            let proposals: Vec<_> = {
                let mut state = self.state.borrow_mut();
                state
                    .replicas
                    .values_mut()
                    .filter_map(|r| {
                        let isr = r.wanted_isr(now(), lag)?;
                        r.propose_isr(isr.clone());
                        let l = r.leadership()?;
                        Some(Request::AlterIsr {
                            broker: self.id,
                            partition: r.partition,
                            leader_epoch: r.leader_epoch,
                            partition_epoch: l.partition_epoch,
                            isr,
                        })
                    })
                    .collect()
            };
            for req in proposals {
                tokio::task::spawn_local(Rc::clone(&self).alter_isr(req));
            }
        }
    }

    async fn alter_isr(self: Rc<Self>, req: Request) {
        let Request::AlterIsr { partition: p, .. } = &req else {
            return;
        };
        let p = *p;
        let timeout = self.ctx.config.request_timeout;
        let reply = self.endpoint.call(CONTROLLER, req, timeout).await;
        let adopted = {
            let mut state = self.state.borrow_mut();
            let r = state.replicas.get_mut(&p).expect("replica");
            match reply {
                Ok(Reply::AlterIsr(Ok(s))) if s.leader_epoch == r.leader_epoch => {
                    r.adopt_isr(&s.isr, s.partition_epoch)
                }
                _ => {
                    r.drop_proposal();
                    false
                }
            }
        };
        if adopted {
            self.publish(p);
            self.changed.notify_waiters();
        }
    }

    fn publish(&self, p: PartitionId) {
        if p == self.ctx.config.offsets_partition() {
            return;
        }
        let view = {
            let state = self.state.borrow();
            let r = &state.replicas[&p];
            let in_sync = r.is_leader()
                || state
                    .metadata
                    .get(&p)
                    .is_some_and(|s| s.leader_epoch == r.leader_epoch && s.isr.contains(&self.id));
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
            }
        };
        self.ctx
            .observer
            .replica(&partition_name(p), &self.host, view);
        self.publish_disk();
    }

    fn publish_disk(&self) {
        let state = self.state.borrow();
        let view = DiskView {
            unsynced: state.journal.unsynced(),
            acked_unsynced: state.acked_unsynced,
        };
        self.ctx.observer.disk(&self.host, view);
    }
}
