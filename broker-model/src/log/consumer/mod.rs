//! A consumer: reads its partitions, hands records to an application that
//! processes them one at a time, and commits its position.
//!
//! The application works from a queue the poll loop fills, as with
//! librdkafka's prefetch queue or a Java consumer feeding a worker pool. With
//! `enable.auto.commit` a timer commits the position of everything handed
//! over, processed or not; with manual commit the application commits each
//! record after processing it. That difference is the third loss point.
//!
//! With `assign()` (the default) each consumer reads a fixed share of the
//! partitions; with `subscribe()` it joins the consumer group and reads
//! what the coordinator assigns it, which moves at every rebalance.
//!
//! - `state`: what the consumer's tasks share.
//! - `fetch`: where to start and the poll loop.
//! - `commit`: the application and its commits.
//! - `group`: membership of the consumer group with `subscribe()`.

mod commit;
mod fetch;
mod group;
mod state;

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::clock::now;
use crate::log::client::Client;
use crate::log::config::{Context, Subscription};
use crate::log::protocol::PartitionId;
use crate::workload::application::Application;
use crate::workload::{consumer_host, start};
use state::{Consumer, Member};

/// Runs consumer `index` (1-based) until crashed.
pub(crate) async fn run(ctx: Context, index: u32) -> turmoil::Result {
    let host = consumer_host(index);
    let (endpoint, _requests) = start(&ctx.processes, &host).await?;
    let subscribe = ctx.config.subscription == Subscription::Subscribe;
    let consumers = ctx.workload.consumers;
    let assigned: Vec<PartitionId> = if subscribe {
        Vec::new()
    } else {
        (0..ctx.config.partitions)
            .filter(|p| p % consumers == index - 1)
            .collect()
    };
    // A process start names a new member, as a restarted Java client
    // joins with a fresh member id.
    let member = subscribe.then(|| Member {
        id: format!("{host}@{}", now().as_micros()),
        generation: Cell::new(None),
        readers: RefCell::new(BTreeMap::new()),
    });
    let app = Application::new(
        host,
        &ctx.history,
        &ctx.observer,
        ctx.workload.processing_time,
    );
    let consumer = Rc::new(Consumer {
        client: Client::new(endpoint, ctx),
        assigned: RefCell::new(assigned.clone()),
        positions: RefCell::new(BTreeMap::new()),
        app,
        member,
    });
    consumer.publish();
    if subscribe {
        tokio::task::spawn_local(Rc::clone(&consumer).membership());
    }
    for p in &assigned {
        consumer.start_position(*p).await;
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
