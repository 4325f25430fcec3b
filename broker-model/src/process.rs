//! Which hosts have their broker or client process stopped.
//!
//! turmoil's `Sim::crash` models a power loss: the host's tasks die *and* the
//! simulated disk forgets every write that was not fsynced. A process crash
//! is gentler: the operating system survives and so does its page cache.
//! The harness models it by marking the host stopped here and bouncing it;
//! the restarted software finds itself stopped and stays silent, holding no
//! state and no socket, until the harness marks it started and bounces it
//! again. The disk, untouched by a bounce, keeps its unsynced writes.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::rc::Rc;

/// The set of hosts whose process is stopped while the machine stays up.
#[derive(Clone, Default, Debug)]
pub struct ProcessTable {
    stopped: Rc<RefCell<BTreeSet<String>>>,
    /// Nodes whose operator stopped the application
    /// (`rabbitmqctl stop_app`) while the process runs on.
    apps_stopped: Rc<RefCell<BTreeSet<String>>>,
}

impl ProcessTable {
    /// A table with every process running.
    pub fn new() -> Self {
        Self::default()
    }

    /// Marks `host`'s process stopped (takes effect at its next start).
    pub fn stop(&self, host: &str) {
        self.stopped.borrow_mut().insert(host.to_string());
    }

    /// Marks `host`'s process runnable again (takes effect at its next start).
    pub fn start(&self, host: &str) {
        self.stopped.borrow_mut().remove(host);
    }

    /// Whether `host`'s process is stopped.
    pub fn is_stopped(&self, host: &str) -> bool {
        self.stopped.borrow().contains(host)
    }

    /// An operator stops `host`'s application in an orderly way
    /// (`rabbitmqctl stop_app`); the process and its cluster links stay up.
    pub fn stop_app(&self, host: &str) {
        self.apps_stopped.borrow_mut().insert(host.to_string());
    }

    /// The operator starts `host`'s application again (`start_app`).
    pub fn start_app(&self, host: &str) {
        self.apps_stopped.borrow_mut().remove(host);
    }

    /// Whether an operator wants `host`'s application stopped.
    pub fn is_app_stopped(&self, host: &str) -> bool {
        self.apps_stopped.borrow().contains(host)
    }

    /// Called first by every model host: never returns while the process is
    /// stopped, so a stopped host runs nothing until it is bounced again.
    pub async fn wait_until_started(&self, host: &str) {
        if self.is_stopped(host) {
            std::future::pending::<()>().await;
        }
    }
}
