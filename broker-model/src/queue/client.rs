//! A client's AMQP connection: to one node at a time, moving on to the next
//! node when the connection is refused or goes silent, as client libraries
//! with a list of cluster addresses do.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use crate::queue::config::node_host;
use crate::queue::config::Context;
use crate::queue::protocol::{ClientOp, Reply, Request};
use crate::wire::{CallError, Endpoint};

/// A client's connection to the cluster.
pub(crate) struct Connection {
    /// The client's socket.
    pub(crate) endpoint: Rc<Endpoint<Request, Reply>>,
    /// The cluster context.
    pub(crate) ctx: Context,
    node: Cell<u32>,
    number: Cell<u32>,
}

impl Connection {
    /// A connection to node `first` (1-based).
    pub(crate) fn new(endpoint: Rc<Endpoint<Request, Reply>>, ctx: Context, first: u32) -> Self {
        Connection {
            endpoint,
            ctx,
            node: Cell::new(first),
            number: Cell::new(1),
        }
    }

    /// Counts connections made: a new number is a new AMQP connection, so
    /// delivery tags of the old one mean nothing any more.
    pub(crate) fn number(&self) -> u32 {
        self.number.get()
    }

    /// Sends `op` to the connected node and waits up to `timeout`.
    pub(crate) async fn call(&self, op: ClientOp, timeout: Duration) -> Result<Reply, CallError> {
        self.request(Request::Client(op), timeout).await
    }

    /// Sends `req` to the connected node and waits up to `timeout`.
    pub(crate) async fn request(
        &self,
        req: Request,
        timeout: Duration,
    ) -> Result<Reply, CallError> {
        self.endpoint
            .call(&node_host(self.node.get()), req, timeout)
            .await
    }

    /// Sends `op` to the connected node without waiting for anything.
    pub(crate) async fn cast(&self, op: ClientOp) -> Result<(), CallError> {
        self.notify(Request::Client(op)).await
    }

    /// Sends `req` to the connected node without waiting for anything.
    pub(crate) async fn notify(&self, req: Request) -> Result<(), CallError> {
        self.endpoint.cast(&node_host(self.node.get()), req).await
    }

    /// Connects to the next node, unless connection `number` was already
    /// replaced (several requests may notice the same dead connection).
    pub(crate) fn reconnect(&self, number: u32) {
        if number != self.number.get() {
            return;
        }
        self.node.set(self.node.get() % self.ctx.config.nodes + 1);
        self.number.set(number + 1);
    }
}
