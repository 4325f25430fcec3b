//! What producers and consumers share: a socket and a cache of who leads.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;

use crate::log::config::{broker_host, Context};
use crate::log::protocol::{BrokerId, PartitionId, Reply, Request};

use crate::wire::{CallError, Endpoint};

/// A client's connection to the cluster.
pub(crate) struct Client {
    /// The client's socket.
    pub(crate) endpoint: Rc<Endpoint<Request, Reply>>,
    /// The cluster context.
    pub(crate) ctx: Context,
    leaders: RefCell<BTreeMap<PartitionId, BrokerId>>,
    next_bootstrap: Cell<u32>,
}

impl Client {
    /// A client with an empty leader cache.
    pub(crate) fn new(endpoint: Rc<Endpoint<Request, Reply>>, ctx: Context) -> Self {
        Client {
            endpoint,
            ctx,
            leaders: RefCell::new(BTreeMap::new()),
            next_bootstrap: Cell::new(0),
        }
    }

    /// The leader of `p`, asking the brokers in turn when the cache has none.
    pub(crate) async fn leader(&self, p: PartitionId) -> Option<BrokerId> {
        if let Some(b) = self.leaders.borrow().get(&p) {
            return Some(*b);
        }
        let brokers = self.ctx.config.brokers;
        for _ in 0..brokers {
            let b = self.next_bootstrap.get() % brokers + 1;
            self.next_bootstrap.set(self.next_bootstrap.get() + 1);
            let reply = self
                .endpoint
                .call(
                    &broker_host(b),
                    Request::Metadata,
                    self.ctx.config.request_timeout,
                )
                .await;
            if let Ok(Reply::Metadata(table)) = reply {
                let mut leaders = self.leaders.borrow_mut();
                for s in table {
                    match s.leader {
                        Some(l) => leaders.insert(s.partition, l),
                        None => leaders.remove(&s.partition),
                    };
                }
                if let Some(l) = leaders.get(&p) {
                    return Some(*l);
                }
            }
        }
        None
    }

    /// Forgets the leader of `p` after an error that says it moved.
    pub(crate) fn forget_leader(&self, p: PartitionId) {
        self.leaders.borrow_mut().remove(&p);
    }

    /// Calls the leader of `p`, forgetting it when the call fails.
    pub(crate) async fn call_leader(
        &self,
        p: PartitionId,
        req: Request,
        timeout: std::time::Duration,
    ) -> Result<Reply, CallError> {
        let Some(leader) = self.leader(p).await else {
            return Err(CallError::Io("no leader known".into()));
        };
        let reply = self.endpoint.call(&broker_host(leader), req, timeout).await;
        if reply.is_err() {
            self.forget_leader(p);
        }
        reply
    }
}
