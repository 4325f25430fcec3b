//! Whom a fault on real nodes hits: the roles of a scenario's targets
//! (`leader`, `followers`, `consumers`, …) resolved when the fault fires,
//! from what the broker reports (`rabbitmqctl list_queues`), or from where
//! the queue was declared when no node answers.

use broker_model::queue::QueueConfig;

use super::client::Role;
use super::nodes::Cluster;
use super::queues::{self, QueueInfo};
use crate::fault::{Selector, Target};

/// What role names mean in one run.
pub(crate) struct Targets<'a> {
    /// The cluster's configuration.
    pub(crate) config: &'a QueueConfig,
    /// Producer processes (`producer-1..`).
    pub(crate) producers: u32,
    /// Consumer processes (`consumer-1..`).
    pub(crate) consumers: u32,
}

impl Targets<'_> {
    /// The nodes and clients `selector` means now.
    pub(crate) fn resolve(
        &self,
        selector: &Selector,
        cluster: &mut Cluster,
    ) -> (Vec<u32>, Vec<Role>) {
        let all_nodes: Vec<u32> = (1..=self.config.nodes).collect();
        let info = queues::list_any(cluster)
            .and_then(|listed| listed.into_iter().find(|q| q.name == selector.dest));
        let (leader, members) = placement(self.config, &selector.dest, info.as_ref());
        let followers: Vec<u32> = members
            .iter()
            .copied()
            .filter(|m| Some(*m) != leader)
            .collect();
        let mut nodes = Vec::new();
        let mut roles = Vec::new();
        for t in &selector.targets {
            match t {
                Target::Leader => nodes.extend(leader),
                Target::Follower => nodes.extend(followers.first()),
                Target::Followers => nodes.extend(&followers),
                Target::Replicas => nodes.extend(&members),
                Target::AnyBroker => nodes.extend(all_nodes.first()),
                Target::Brokers => nodes.extend(&all_nodes),
                Target::Controller => {}
                Target::Producer => roles.push(Role::Producer(1)),
                Target::Consumer => roles.push(Role::Consumer(1)),
                Target::Producers => roles.extend((1..=self.producers).map(Role::Producer)),
                Target::Consumers => roles.extend((1..=self.consumers).map(Role::Consumer)),
                Target::Host(h) => {
                    if let Some(role) = client_role(h) {
                        roles.push(role);
                    } else if let Some(n) = h.strip_prefix("node-").and_then(|n| n.parse().ok()) {
                        nodes.push(n);
                    }
                }
            }
        }
        nodes.sort_unstable();
        nodes.dedup();
        (nodes, roles)
    }
}

/// A client's role from its host name.
fn client_role(host: &str) -> Option<Role> {
    if let Some(n) = host.strip_prefix("producer-") {
        return n.parse().ok().map(Role::Producer);
    }
    host.strip_prefix("consumer-")
        .and_then(|n| n.parse().ok())
        .map(Role::Consumer)
}

/// Where queue `dest` lives: its master or leader and every member, as
/// the broker reports them, or as it was declared if it does not answer.
fn placement(
    config: &QueueConfig,
    dest: &str,
    info: Option<&QueueInfo>,
) -> (Option<u32>, Vec<u32>) {
    if let Some(q) = info {
        if q.leader.is_some() {
            let mut members = q.members.clone();
            if members.is_empty() {
                members.extend(q.leader);
                members.extend(&q.mirrors);
            }
            return (q.leader, members);
        }
    }
    let q: u32 = dest
        .strip_prefix('q')
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    let members = config.members(q);
    (members.first().copied(), members)
}
