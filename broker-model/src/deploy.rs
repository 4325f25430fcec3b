//! What the harness needs to know about a deployed cluster, whatever the
//! system: which hosts exist, what each one is, and where each destination
//! (partition or queue) is replicated.

use std::collections::BTreeMap;

use crate::history::History;
use crate::observe::Observer;
use crate::process::ProcessTable;

/// The harness's instruments, handed to every host of a run.
#[derive(Clone, Default)]
pub struct Instruments {
    /// Where every host records events.
    pub history: History,
    /// Where every host publishes its state.
    pub observer: Observer,
    /// Which processes the harness has stopped.
    pub processes: ProcessTable,
}

/// What a host is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum HostRole {
    /// Stores messages.
    Broker,
    /// Runs elections (log systems).
    Controller,
    /// Sends messages.
    Producer,
    /// Receives and processes messages.
    Consumer,
}

/// The hosts of a deployed cluster.
#[derive(Clone, Debug, Default)]
pub struct Deployment {
    /// Every host with its role, in registration order.
    pub hosts: Vec<(String, HostRole)>,
    /// Every destination with the hosts that hold its replicas.
    pub dests: BTreeMap<String, Vec<String>>,
}

impl Deployment {
    /// Adds a host.
    pub fn add(&mut self, host: &str, role: HostRole) {
        self.hosts.push((host.to_string(), role));
    }

    /// The hosts with `role`.
    pub fn with_role(&self, role: HostRole) -> Vec<String> {
        self.hosts
            .iter()
            .filter(|(_, r)| *r == role)
            .map(|(h, _)| h.clone())
            .collect()
    }

    /// Every host name.
    pub fn names(&self) -> Vec<String> {
        self.hosts.iter().map(|(h, _)| h.clone()).collect()
    }

    /// The role of `host`, if it exists.
    pub fn role_of(&self, host: &str) -> Option<HostRole> {
        self.hosts.iter().find(|(h, _)| h == host).map(|(_, r)| *r)
    }
}
