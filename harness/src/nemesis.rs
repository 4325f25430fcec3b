//! The fault injector: turns scheduled faults into turmoil calls.
//!
//! Every fault uses turmoil's own machinery (partition, hold, link fail rate
//! and latency, crash, bounce). Roles are resolved when a fault fires, from
//! what the hosts publish. Faults that last are undone when their time is
//! up; links shared by overlapping faults are counted, so one fault's end
//! does not cut another short.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use broker_model::{Deployment, EventKind, History, HostRole, Observer, ProcessTable};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use turmoil::Sim;

use crate::fault::{Action, Fault, Selector, Target};
use crate::scenario::Network;

/// The fault injector's name in histories.
pub const NEMESIS: &str = "nemesis";

type Pair = (String, String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Down {
    /// The process is stopped; the machine and its page cache are up.
    Process,
    /// The machine lost power.
    Power,
}

#[derive(Debug)]
enum Undo {
    Repair(Vec<Pair>),
    Release(Vec<Pair>),
    ResetRate(Vec<Pair>),
    ResetLatency(Vec<Pair>),
    Restart(Vec<String>),
}

/// Applies faults to one simulation and remembers how to undo them.
pub struct Nemesis {
    deployment: Deployment,
    observer: Observer,
    processes: ProcessTable,
    history: History,
    network: Network,
    rng: StdRng,
    down: BTreeMap<String, Down>,
    partitioned: BTreeMap<Pair, u32>,
    held: BTreeMap<Pair, u32>,
    dropping: BTreeMap<Pair, u32>,
    delayed: BTreeMap<Pair, u32>,
    undo: Vec<(Duration, Undo)>,
}

fn pair(a: &str, b: &str) -> Pair {
    if a < b {
        (a.to_string(), b.to_string())
    } else {
        (b.to_string(), a.to_string())
    }
}

impl Nemesis {
    /// A fault injector for a deployed cluster; `seed` drives its choices
    /// among hosts (`any-broker`, `follower`, …).
    pub fn new(
        deployment: Deployment,
        instruments: &broker_model::Instruments,
        network: Network,
        seed: u64,
    ) -> Self {
        Nemesis {
            deployment,
            observer: instruments.observer.clone(),
            processes: instruments.processes.clone(),
            history: instruments.history.clone(),
            network,
            rng: StdRng::seed_from_u64(seed ^ 0x6e65_6d65_7369_7300),
            down: BTreeMap::new(),
            partitioned: BTreeMap::new(),
            held: BTreeMap::new(),
            dropping: BTreeMap::new(),
            delayed: BTreeMap::new(),
            undo: Vec::new(),
        }
    }

    /// The cluster this injector works on.
    pub fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// Hosts that are down right now.
    pub fn down_hosts(&self) -> Vec<String> {
        self.down.keys().cloned().collect()
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
    pub fn resolve(&mut self, selector: &Selector, prefer: &[String]) -> Vec<String> {
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

    fn sides(
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

    fn record(&self, now: Duration, kind: EventKind) {
        self.history.record_at(now, NEMESIS, kind);
    }

    /// Fires `fault` now; `prefer` are the witnesses of its trigger, if any.
    pub fn apply(&mut self, sim: &mut Sim<'_>, fault: &Fault, now: Duration, prefer: &[String]) {
        let detail = fault.to_string();
        let name = fault.action.name().to_string();
        let hosts = match &fault.action {
            Action::Partition {
                target,
                peer,
                duration,
            } => {
                let (hosts, pairs) = self.sides(target, peer, prefer);
                for (a, b) in &pairs {
                    *self.partitioned.entry((a.clone(), b.clone())).or_default() += 1;
                    sim.partition(a.as_str(), b.as_str());
                }
                self.later(now, *duration, Undo::Repair(pairs));
                hosts
            }
            Action::Hold {
                target,
                peer,
                duration,
            } => {
                let (hosts, pairs) = self.sides(target, peer, prefer);
                for (a, b) in &pairs {
                    *self.held.entry((a.clone(), b.clone())).or_default() += 1;
                    sim.hold(a.as_str(), b.as_str());
                }
                self.later(now, *duration, Undo::Release(pairs));
                hosts
            }
            Action::Drop {
                target,
                peer,
                rate,
                duration,
            } => {
                let (hosts, pairs) = self.sides(target, peer, prefer);
                for (a, b) in &pairs {
                    *self.dropping.entry((a.clone(), b.clone())).or_default() += 1;
                    sim.set_link_fail_rate(a.as_str(), b.as_str(), *rate);
                }
                self.later(now, *duration, Undo::ResetRate(pairs));
                hosts
            }
            Action::Delay {
                target,
                peer,
                latency,
                duration,
            } => {
                let (hosts, pairs) = self.sides(target, peer, prefer);
                for (a, b) in &pairs {
                    *self.delayed.entry((a.clone(), b.clone())).or_default() += 1;
                    sim.set_link_latency(a.as_str(), b.as_str(), *latency);
                }
                self.later(now, *duration, Undo::ResetLatency(pairs));
                hosts
            }
            Action::Crash {
                target,
                restart_after,
            } => {
                let hosts = self.resolve(target, prefer);
                let hit: Vec<String> = hosts
                    .iter()
                    .filter(|h| !self.down.contains_key(*h))
                    .cloned()
                    .collect();
                for h in &hit {
                    self.processes.stop(h);
                    sim.bounce(h.as_str());
                    self.observer.forget_host(h);
                    self.down.insert(h.clone(), Down::Process);
                }
                self.later(now, *restart_after, Undo::Restart(hit));
                hosts
            }
            Action::PowerLoss {
                target,
                restart_after,
            } => {
                let hosts = self.resolve(target, prefer);
                let hit: Vec<String> = hosts
                    .iter()
                    .filter(|h| self.down.get(*h) != Some(&Down::Power))
                    .cloned()
                    .collect();
                for h in &hit {
                    sim.crash(h.as_str());
                    self.observer.forget_host(h);
                    self.down.insert(h.clone(), Down::Power);
                }
                self.later(now, *restart_after, Undo::Restart(hit));
                hosts
            }
            Action::Heal => {
                self.heal_all(sim, now);
                Vec::new()
            }
        };
        let detail = if hosts.is_empty() && fault.action != Action::Heal {
            format!("{detail} (no host matched)")
        } else {
            detail
        };
        self.record(
            now,
            EventKind::Fault {
                action: name,
                hosts,
                detail,
            },
        );
    }

    fn later(&mut self, now: Duration, after: Option<Duration>, undo: Undo) {
        if let Some(after) = after {
            self.undo.push((now + after, undo));
        } else {
            self.undo.push((Duration::MAX, undo));
        }
    }

    /// Undoes the faults whose time is up.
    pub fn tick(&mut self, sim: &mut Sim<'_>, now: Duration) {
        let (due, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.undo)
            .into_iter()
            .partition(|(at, _)| *at <= now);
        self.undo = rest;
        for (_, undo) in due {
            self.perform(sim, undo, now);
        }
    }

    fn release_count(map: &mut BTreeMap<Pair, u32>, p: &Pair) -> bool {
        match map.get_mut(p) {
            Some(n) if *n > 1 => {
                *n -= 1;
                false
            }
            Some(_) => {
                map.remove(p);
                true
            }
            None => false,
        }
    }

    fn perform(&mut self, sim: &mut Sim<'_>, undo: Undo, now: Duration) {
        let (detail, hosts) = match undo {
            Undo::Repair(pairs) => {
                for p in &pairs {
                    if Self::release_count(&mut self.partitioned, p) {
                        sim.repair(p.0.as_str(), p.1.as_str());
                    }
                }
                ("repair partition", hosts_of(&pairs))
            }
            Undo::Release(pairs) => {
                for p in &pairs {
                    if Self::release_count(&mut self.held, p) {
                        sim.release(p.0.as_str(), p.1.as_str());
                    }
                }
                ("release held links", hosts_of(&pairs))
            }
            Undo::ResetRate(pairs) => {
                for p in &pairs {
                    if Self::release_count(&mut self.dropping, p) {
                        sim.set_link_fail_rate(p.0.as_str(), p.1.as_str(), 0.0);
                    }
                }
                ("stop dropping", hosts_of(&pairs))
            }
            Undo::ResetLatency(pairs) => {
                for p in &pairs {
                    if Self::release_count(&mut self.delayed, p) {
                        let (a, b) = (p.0.as_str(), p.1.as_str());
                        sim.set_link_latency(a, b, self.network.min_latency);
                        sim.set_link_max_message_latency(a, b, self.network.max_latency);
                    }
                }
                ("restore latency", hosts_of(&pairs))
            }
            Undo::Restart(hosts) => {
                let back: Vec<String> = hosts
                    .into_iter()
                    .filter(|h| self.down.remove(h).is_some())
                    .collect();
                for h in &back {
                    self.processes.start(h);
                    sim.bounce(h.as_str());
                }
                ("restart", back)
            }
        };
        if !hosts.is_empty() {
            self.record(
                now,
                EventKind::Heal {
                    detail: detail.to_string(),
                    hosts,
                },
            );
        }
    }

    /// Ends every fault: repairs, releases and restores every link and
    /// restarts every host that is down.
    pub fn heal_all(&mut self, sim: &mut Sim<'_>, now: Duration) {
        let pending: Vec<Undo> = std::mem::take(&mut self.undo)
            .into_iter()
            .map(|(_, u)| u)
            .collect();
        for undo in pending {
            self.perform(sim, undo, now);
        }
        let still_down: Vec<String> = self.down.keys().cloned().collect();
        if !still_down.is_empty() {
            self.perform(sim, Undo::Restart(still_down), now);
        }
    }
}

fn hosts_of(pairs: &[Pair]) -> Vec<String> {
    let set: BTreeSet<&String> = pairs.iter().flat_map(|(a, b)| [a, b]).collect();
    set.into_iter().cloned().collect()
}
