//! One run of the broker application on a node: it opens the disk, starts
//! this node's replica of every queue, and answers what arrives, handing
//! client operations to [`crate::queue::routing`] and peer requests to the
//! queue they concern.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::rc::Rc;

use crate::disk::Disk;
use crate::history::EventKind;
use crate::queue::channel;
use crate::queue::classic::ClassicQueue;
use crate::queue::config::QueueType;
use crate::queue::protocol::{Incarnation, NodeId, NodeStatus, QueueId, Reply, Request};
use crate::queue::quorum::QuorumQueue;
use crate::queue::replica::{QueueReplica, Queues};
use crate::queue::republish;
use crate::queue::routing;
use crate::queue::runtime::{Io, Process};
use crate::queue::store::Store;

/// One run of the broker application on a node.
pub(crate) struct App {
    /// What its queues are given to work with.
    pub(crate) io: Rc<Io>,
    /// Every queue, as this node holds it.
    queues: Queues,
}

impl App {
    /// Starts a run in `process`: recovers the disk and starts every queue.
    /// `trusted`, after an autoheal restart, names the peers whose word
    /// counts while the queues settle who leads them.
    pub(crate) fn start(
        process: Rc<Process>,
        incarnation: Incarnation,
        trusted: Option<BTreeSet<NodeId>>,
    ) -> Rc<App> {
        let ctx = &process.ctx;
        let disk = Disk::new(&process.host, &ctx.page_cache);
        let (store, mut recovered) = Store::open(
            &process.host,
            &disk,
            ctx.history.clone(),
            ctx.observer.clone(),
        )
        .expect("the simulated disk is readable");
        ctx.history.record(
            &process.host,
            EventKind::Recover {
                entries: recovered.entries,
                msgs: recovered.msgs(),
            },
        );
        let config = Rc::clone(&ctx.config);
        let me = process.id;
        let io = Rc::new(Io::new(Rc::clone(&process), incarnation, store));
        let queues: Queues = (0..config.queues)
            .map(|q| {
                let replica: Rc<dyn QueueReplica> = match config.queue_type {
                    QueueType::Classic | QueueType::Mirrored => Rc::new(ClassicQueue::new(
                        Rc::clone(&io),
                        &config,
                        me,
                        q,
                        recovered.messages.remove(&q).unwrap_or_default(),
                        recovered.records.get(&q).copied(),
                    )),
                    QueueType::Quorum => Rc::new(QuorumQueue::new(
                        Rc::clone(&io),
                        &config,
                        me,
                        q,
                        recovered.logs.remove(&q).unwrap_or_default(),
                        recovered.votes.get(&q).copied(),
                    )),
                };
                (q, replica)
            })
            .collect();
        if let Some(letters) = io.open_dead_letters() {
            io.spawn(republish::run(Rc::clone(&io), queues.clone(), letters));
        }
        if let Some(publishes) = io.open_confirmed_publishes() {
            io.spawn(republish::serve_confirmed(
                Rc::clone(&io),
                queues.clone(),
                publishes,
            ));
        }
        for replica in queues.values() {
            Rc::clone(replica).start(trusted.clone());
        }
        let (page_cache, watcher) = (ctx.page_cache.clone(), Rc::clone(&io));
        let host = process.host.clone();
        io.spawn(async move {
            page_cache
                .after_each_writeback(&host, || watcher.store.borrow().publish())
                .await;
        });
        Rc::new(App { io, queues })
    }

    /// Ends every task of this run; what it held in memory is gone.
    pub(crate) fn stop(&self) {
        self.io.stop();
    }

    /// What to tell which peer when this run stops in an orderly way: the
    /// mirrors of every queue it masters, so they apply
    /// `ha-promote-on-shutdown`.
    pub(crate) fn shutdown_notices(&self) -> Vec<(NodeId, Request)> {
        let mut notices = Vec::new();
        for (q, replica) in &self.queues {
            for (peer, location) in replica.shutdown_notices() {
                notices.push((
                    peer,
                    Request::Shutdown {
                        queue: *q,
                        location,
                    },
                ));
            }
        }
        notices
    }

    /// Answers one request from a client or a peer.
    pub(crate) async fn handle(self: Rc<Self>, from: SocketAddr, id: Option<u64>, body: Request) {
        let reply = match body {
            Request::Client(op) => routing::client(&self.io, &self.queues, op).await,
            Request::Routed(op) => routing::serve(&self.io, &self.queues, op).await,
            Request::Exchange(p) => channel::publish(&self.io, &self.queues, p).await,
            Request::Status => Some(Reply::Status(self.status())),
            Request::Announce { queue, location } => {
                if let Some(replica) = self.replica(queue) {
                    replica.learn(location);
                }
                Some(Reply::Announced)
            }
            Request::Shutdown { queue, location } => {
                if let Some(replica) = self.replica(queue) {
                    replica.master_stopping(location);
                }
                None
            }
            Request::MirrorFetch(f) => match self.replica(f.queue) {
                Some(replica) => replica.mirror_fetch(f).await.map(Reply::MirrorFetch),
                None => None,
            },
            Request::Append(a) => self
                .replica(a.queue)
                .and_then(|r| r.raft_append(a))
                .map(Reply::Append),
            Request::Vote(v) => self
                .replica(v.queue)
                .and_then(|r| r.raft_vote(v))
                .map(Reply::Vote),
            Request::Tick(_) => None,
        };
        if let Some(reply) = reply {
            self.io.endpoint().reply(from, id, reply).await;
        }
    }

    fn replica(&self, q: QueueId) -> Option<&Rc<dyn QueueReplica>> {
        self.queues.get(&q)
    }

    /// What this node tells a starting peer about its queues.
    fn status(&self) -> NodeStatus {
        let queues = self
            .queues
            .iter()
            .filter_map(|(q, replica)| replica.status().map(|s| (*q, s)))
            .collect();
        NodeStatus {
            running: true,
            queues,
        }
    }
}
