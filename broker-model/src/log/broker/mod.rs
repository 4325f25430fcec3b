//! A broker: hosts partition replicas, leads some, follows others.
//!
//! Requests are served concurrently (a produce with `acks=all` and a long-
//! polling fetch both wait for the log to move); all of them share one
//! in-memory state, rebuilt from the journal at every start.
//!
//! - `state`: what the tasks share, and the views published to the observer.
//! - `journal`: the durable store and its replay.
//! - `flush`: when the journal is fsynced.
//! - `produce`, `fetch`, `offsets`: serving clients and followers.
//! - `follower`: replicating the partitions this broker follows.
//! - `isr`: heartbeats, roles and in-sync set membership.
//! - `coordinator`: the consumer group, on the leader of the offsets
//!   partition.

mod coordinator;
mod fetch;
mod flush;
mod follower;
mod isr;
mod journal;
mod offsets;
mod produce;
mod retention;
mod state;

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use tokio::sync::{mpsc, Notify};

use crate::clock::now;
use crate::disk::Disk;
use crate::history::{EventKind, MsgId};
use crate::log::config::{broker_host, Context, EligibleLeaderReplicas, Retention, Subscription};
use crate::log::protocol::{BrokerId, PartitionId, Record, Reply, Request};
use crate::log::replica::Replica;
use crate::wire::{Endpoint, Incoming};
use journal::Store;
use state::{Broker, State};

/// Runs broker `id` until the host is crashed.
pub(crate) async fn run(ctx: Context, id: BrokerId) -> turmoil::Result {
    let host = broker_host(id);
    ctx.processes.wait_until_started(&host).await;
    let incarnation = now().as_micros() as u64;

    let (store, entries) = Store::open(&Disk::new(&host, &ctx.page_cache), "log")?;
    let strict = ctx.config.eligible_leader_replicas == EligibleLeaderReplicas::Enabled;
    let mut replicas: BTreeMap<PartitionId, Replica> = ctx
        .config
        .all_partitions()
        .filter(|p| ctx.config.replicas(*p).contains(&id))
        .map(|p| {
            let mut replica = Replica::new(p, id);
            if strict {
                replica = replica.with_strict_min_isr(ctx.config.min_insync_replicas);
            }
            // The offsets partition is compacted, as `__consumer_offsets`
            // is, never deleted by time or size.
            if p == ctx.config.offsets_partition() {
                let compacted = Retention {
                    retention_ms: None,
                    retention_bytes: None,
                    ..ctx.config.retention
                };
                (p, replica.with_retention(compacted))
            } else {
                (p, replica.with_retention(ctx.config.retention))
            }
        })
        .collect();
    let recovered = entries.len() as u64;
    journal::replay(&mut replicas, entries);
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
            store,
        }),
        changed: Notify::new(),
        coordinator: RefCell::new(None),
        group_changed: Notify::new(),
    });
    for p in broker.state.borrow().replicas.keys().copied() {
        broker.publish(p);
        tokio::task::spawn_local(Rc::clone(&broker).follow(p));
    }
    tokio::task::spawn_local(Rc::clone(&broker).heartbeat(incarnation));
    tokio::task::spawn_local(Rc::clone(&broker).maintain_isr());
    tokio::task::spawn_local(Rc::clone(&broker).watch_writeback());
    tokio::task::spawn_local(Rc::clone(&broker).enforce_retention());
    if let Some(every) = broker.ctx.config.flush_interval {
        tokio::task::spawn_local(Rc::clone(&broker).flush_periodically(every));
    }
    if broker.ctx.config.subscription == Subscription::Subscribe {
        tokio::task::spawn_local(Rc::clone(&broker).coordinate());
    }
    serve(broker, incoming).await
}

/// Serves each request in a task of its own.
async fn serve(
    broker: Rc<Broker>,
    mut incoming: mpsc::UnboundedReceiver<Incoming<Request>>,
) -> turmoil::Result {
    while let Some(req) = incoming.recv().await {
        tokio::task::spawn_local(handle(Rc::clone(&broker), req));
    }
    Ok(())
}

async fn handle(broker: Rc<Broker>, req: Incoming<Request>) {
    let reply = match req.body {
        Request::Metadata => Some(Reply::Metadata(
            broker.state.borrow().metadata.values().cloned().collect(),
        )),
        Request::Produce {
            partition,
            msg,
            producer,
            acks,
            idempotent,
        } => broker
            .produce(partition, msg, producer, acks, idempotent)
            .await
            .map(Reply::Produce),
        Request::Fetch {
            partition,
            offset,
            max_records,
            replica,
        } => Some(Reply::Fetch(
            broker.fetch(partition, offset, max_records, replica).await,
        )),
        Request::OffsetCommit {
            group,
            partition,
            offset,
            member,
        } => Some(Reply::OffsetCommit(match member {
            Some(token) => match broker.check_commit(&token) {
                Ok(()) => broker.commit_offset(group, partition, offset).await,
                Err(e) => Err(e),
            },
            None => broker.commit_offset(group, partition, offset).await,
        })),
        Request::JoinGroup {
            group,
            member,
            owned,
        } => Some(Reply::JoinGroup(
            broker.join_group(&group, &member, owned).await,
        )),
        Request::GroupHeartbeat {
            member, generation, ..
        } => Some(Reply::GroupHeartbeat(
            broker.group_heartbeat(&member, generation),
        )),
        Request::LeaveGroup { group, member } => {
            Some(Reply::LeaveGroup(broker.leave_group(&group, &member)))
        }
        Request::OffsetFetch { group, partition } => {
            Some(Reply::OffsetFetch(broker.fetch_offset(&group, partition)))
        }
        Request::ListOffsets { partition } => Some(Reply::ListOffsets(
            broker.with_leader(partition, |r| (r.log_start, r.high_watermark)),
        )),
        Request::Heartbeat { .. } | Request::AlterIsr { .. } => None,
    };
    if let Some(reply) = reply {
        broker.endpoint.reply(req.from, req.id, reply).await;
    }
}
