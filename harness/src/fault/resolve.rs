//! Whom a fault hits: selectors resolved to hosts when the fault fires.
//!
//! Roles mean what the hosts publish at that moment (the leader *then*);
//! roles that name one host (`follower`, `any-broker`, …) are a seeded
//! choice, among a trigger's witnesses when any of them qualifies.

use std::collections::BTreeSet;

use broker_model::{Deployment, HostRole, Observer};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::{Selector, Target};

/// A link between two hosts, the names in order.
pub(super) type Pair = (String, String);

/// The link between `a` and `b`.
fn pair(a: &str, b: &str) -> Pair {
    if a < b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

/// Resolves selectors against one deployed cluster.
pub(super) struct Resolver {
    deployment: Deployment,
    observer: Observer,
    rng: StdRng,
}

impl Resolver {
    /// A resolver for `deployment`; `seed` drives its choices among hosts.
    pub(super) fn new(deployment: Deployment, observer: Observer, seed: u64) -> Self {
        Resolver {
            deployment,
            observer,
            rng: StdRng::seed_from_u64(seed ^ 0x6e65_6d65_7369_7300),
        }
    }

    /// The cluster it resolves against.
    pub(super) fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// One of `hosts`, chosen by the seeded RNG; among `prefer` (the
    /// witnesses of a trigger) when any of them qualifies.
    fn pick(&mut self, hosts: Vec<String>, prefer: &[String]) -> Vec<String> {
        let preferred: Vec<String> = hosts
            .iter()
            .filter(|h| prefer.contains(h))
            .cloned()
            .collect();
        let mut hosts = if preferred.is_empty() {
            hosts
        } else {
            preferred
        };
        if hosts.is_empty() {
            return hosts;
        }
        let i = self.rng.random_range(0..hosts.len());
        vec![hosts.swap_remove(i)]
    }

    /// The hosts `selector` means right now, in deployment order. Roles
    /// that name one host pick among `prefer` when they can.
    pub(super) fn resolve(&mut self, selector: &Selector, prefer: &[String]) -> Vec<String> {
        let dest = &selector.dest;
        let replicas = self.deployment.dests.get(dest).cloned().unwrap_or_default();
        let leader = self.observer.leader_of(dest);
        let followers: Vec<String> = replicas
            .iter()
            .filter(|h| Some(*h) != leader.as_ref())
            .cloned()
            .collect();
        let mut chosen = BTreeSet::new();
        for t in &selector.targets {
            let hosts = match t {
                Target::Host(h) => vec![h.clone()],
                Target::Leader => leader.iter().cloned().collect(),
                Target::Follower => self.pick(followers.clone(), prefer),
                Target::Followers => followers.clone(),
                Target::Replicas => replicas.clone(),
                Target::Controller => self.deployment.with_role(HostRole::Controller),
                Target::AnyBroker => {
                    let all = self.deployment.with_role(HostRole::Broker);
                    self.pick(all, prefer)
                }
                Target::Brokers => self.deployment.with_role(HostRole::Broker),
                Target::Producer => {
                    let all = self.deployment.with_role(HostRole::Producer);
                    self.pick(all, prefer)
                }
                Target::Producers => self.deployment.with_role(HostRole::Producer),
                Target::Consumer => {
                    let all = self.deployment.with_role(HostRole::Consumer);
                    self.pick(all, prefer)
                }
                Target::Consumers => self.deployment.with_role(HostRole::Consumer),
            };
            chosen.extend(hosts);
        }
        self.deployment
            .names()
            .into_iter()
            .filter(|h| chosen.contains(h))
            .collect()
    }

    /// The hosts on both sides of a link fault (the target's first) and
    /// every link between the two sides; with no `peer`, the other side is
    /// every other host.
    pub(super) fn sides(
        &mut self,
        target: &Selector,
        peer: &Option<Selector>,
        prefer: &[String],
    ) -> (Vec<String>, Vec<Pair>) {
        let a = self.resolve(target, prefer);
        let b = match peer {
            Some(p) => self.resolve(p, &[]),
            None => self
                .deployment
                .names()
                .into_iter()
                .filter(|h| !a.contains(h))
                .collect(),
        };
        let mut pairs = BTreeSet::new();
        for x in &a {
            for y in &b {
                if x != y {
                    pairs.insert(pair(x, y));
                }
            }
        }
        let mut hosts = a;
        hosts.extend(
            b.into_iter()
                .filter(|h| !hosts.contains(h))
                .collect::<Vec<_>>(),
        );
        (hosts, pairs.into_iter().collect())
    }
}
