//! The fault injector: turns scheduled faults into turmoil calls.
//!
//! Every fault uses turmoil's own machinery (partition, hold, link fail rate
//! and latency, crash, bounce). Roles are resolved when a fault fires, from
//! what the hosts publish. Faults that last are undone when their time is
//! up; links shared by overlapping faults are counted, so one fault's end
//! does not cut another short.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use broker_model::queue::{queue_name, Binding, Unbound};
use broker_model::{Deployment, EventKind, History, Observer, PageCache, ProcessTable};
use turmoil::Sim;

use super::resolve::{Pair, Resolver};
use super::{Action, Fault, Selector};
use crate::network::Network;

/// The fault injector's name in histories.
pub(crate) const NEMESIS: &str = "nemesis";

/// How a host is down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Down {
    /// The process is stopped; the machine and its page cache are up.
    Process,
    /// The machine lost power.
    Power,
}

impl Down {
    /// Whether taking a host down this way does anything to it, when it is
    /// `already` down (or not): a stopped process cannot be stopped again,
    /// but its machine can still lose power.
    fn hits(self, already: Option<Down>) -> bool {
        match self {
            Down::Process => already.is_none(),
            Down::Power => already != Some(Down::Power),
        }
    }
}

/// What a link fault does to a link, and so how to mend it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum LinkKind {
    Partition,
    Hold,
    Drop,
    Delay,
}

impl LinkKind {
    /// What mending it is called in the history.
    fn mending(self) -> &'static str {
        match self {
            LinkKind::Partition => "repair partition",
            LinkKind::Hold => "release held links",
            LinkKind::Drop => "stop dropping",
            LinkKind::Delay => "restore latency",
        }
    }

    /// Mends the link between `a` and `b`.
    fn mend(self, sim: &mut Sim<'_>, a: &str, b: &str, network: &Network) {
        match self {
            LinkKind::Partition => sim.repair(a, b),
            LinkKind::Hold => sim.release(a, b),
            LinkKind::Drop => sim.set_link_fail_rate(a, b, 0.0),
            LinkKind::Delay => {
                sim.set_link_latency(a, b, network.min_latency);
                sim.set_link_max_message_latency(a, b, network.max_latency);
            }
        }
    }
}

/// What a link fault does to each link it covers.
#[derive(Clone, Copy, Debug)]
enum LinkEffect {
    Partition,
    Hold,
    Drop { rate: f64 },
    Delay { latency: Duration },
}

impl LinkEffect {
    fn kind(self) -> LinkKind {
        match self {
            LinkEffect::Partition => LinkKind::Partition,
            LinkEffect::Hold => LinkKind::Hold,
            LinkEffect::Drop { .. } => LinkKind::Drop,
            LinkEffect::Delay { .. } => LinkKind::Delay,
        }
    }

    /// Breaks the link between `a` and `b` this way.
    fn cut(self, sim: &mut Sim<'_>, a: &str, b: &str) {
        match self {
            LinkEffect::Partition => sim.partition(a, b),
            LinkEffect::Hold => sim.hold(a, b),
            LinkEffect::Drop { rate } => sim.set_link_fail_rate(a, b, rate),
            LinkEffect::Delay { latency } => sim.set_link_latency(a, b, latency),
        }
    }
}

/// What firing an action comes down to: breaking links, taking hosts down,
/// or ending every fault.
enum Injection<'a> {
    Links {
        effect: LinkEffect,
        target: &'a Selector,
        peer: &'a Option<Selector>,
        lasting: Option<Duration>,
    },
    TakeDown {
        how: Down,
        target: &'a Selector,
        lasting: Option<Duration>,
    },
    StopApps {
        target: &'a Selector,
        lasting: Option<Duration>,
    },
    HealAll,
    Unbind {
        binding: &'a Binding,
        lasting: Option<Duration>,
    },
}

impl<'a> Injection<'a> {
    fn of(action: &'a Action) -> Self {
        let links = |effect, target, peer, lasting: &Option<Duration>| Injection::Links {
            effect,
            target,
            peer,
            lasting: *lasting,
        };
        let take_down = |how, target, lasting: &Option<Duration>| Injection::TakeDown {
            how,
            target,
            lasting: *lasting,
        };
        match action {
            Action::Partition {
                target,
                peer,
                duration,
            } => links(LinkEffect::Partition, target, peer, duration),
            Action::Hold {
                target,
                peer,
                duration,
            } => links(LinkEffect::Hold, target, peer, duration),
            Action::Drop {
                target,
                peer,
                rate,
                duration,
            } => links(LinkEffect::Drop { rate: *rate }, target, peer, duration),
            Action::Delay {
                target,
                peer,
                latency,
                duration,
            } => links(
                LinkEffect::Delay { latency: *latency },
                target,
                peer,
                duration,
            ),
            Action::Crash {
                target,
                restart_after,
            } => take_down(Down::Process, target, restart_after),
            Action::PowerLoss {
                target,
                restart_after,
            } => take_down(Down::Power, target, restart_after),
            Action::StopApp {
                target,
                restart_after,
            } => Injection::StopApps {
                target,
                lasting: *restart_after,
            },
            Action::Heal => Injection::HealAll,
            Action::Unbind { binding, duration } => Injection::Unbind {
                binding,
                lasting: *duration,
            },
        }
    }
}

#[derive(Debug)]
enum Undo {
    Links(LinkKind, Vec<Pair>),
    Restart(Vec<String>),
    StartApps(Vec<String>),
    Rebind(Binding),
}

/// Applies faults to one simulation and remembers how to undo them.
pub(crate) struct Injector {
    resolver: Resolver,
    observer: Observer,
    processes: ProcessTable,
    page_cache: PageCache,
    unbound: Unbound,
    history: History,
    network: Network,
    down: BTreeMap<String, Down>,
    /// How many faults of each kind hold each link.
    links: BTreeMap<(LinkKind, Pair), u32>,
    undo: Vec<(Duration, Undo)>,
}

impl Injector {
    /// A fault injector for a deployed cluster; `seed` drives its choices
    /// among hosts (`any-broker`, `follower`, …).
    pub(crate) fn new(
        deployment: Deployment,
        instruments: &broker_model::Instruments,
        network: Network,
        seed: u64,
    ) -> Self {
        Injector {
            resolver: Resolver::new(deployment, instruments.observer.clone(), seed),
            observer: instruments.observer.clone(),
            processes: instruments.processes.clone(),
            page_cache: instruments.page_cache.clone(),
            unbound: instruments.unbound.clone(),
            history: instruments.history.clone(),
            network,
            down: BTreeMap::new(),
            links: BTreeMap::new(),
            undo: Vec::new(),
        }
    }

    /// The cluster this injector works on.
    pub(crate) fn deployment(&self) -> &Deployment {
        self.resolver.deployment()
    }

    fn record(&self, now: Duration, kind: EventKind) {
        self.history.record_at(now, NEMESIS, kind);
    }

    /// Fires `fault` now; `prefer` are the witnesses of its trigger, if any.
    pub(crate) fn apply(
        &mut self,
        sim: &mut Sim<'_>,
        fault: &Fault,
        now: Duration,
        prefer: &[String],
    ) {
        let detail = fault.to_string();
        let name = fault.action.name().to_string();
        let hosts = match Injection::of(&fault.action) {
            Injection::Links {
                effect,
                target,
                peer,
                lasting,
            } => self.break_links(sim, effect, (target, peer, prefer), now, lasting),
            Injection::TakeDown {
                how,
                target,
                lasting,
            } => self.take_down(sim, how, (target, prefer), now, lasting),
            Injection::StopApps { target, lasting } => {
                let hosts = self.resolver.resolve(target, prefer);
                let hit: Vec<String> = hosts
                    .iter()
                    .filter(|h| !self.processes.is_app_stopped(h))
                    .cloned()
                    .collect();
                hit.iter().for_each(|h| self.processes.stop_app(h));
                self.later(now, lasting, Undo::StartApps(hit));
                hosts
            }
            Injection::HealAll => {
                self.heal_all(sim, now);
                Vec::new()
            }
            Injection::Unbind { binding, lasting } => {
                self.unbound.unbind(binding);
                self.later(now, lasting, Undo::Rebind(binding.clone()));
                Vec::new()
            }
        };
        let hits_hosts = !matches!(fault.action, Action::Heal | Action::Unbind { .. });
        let detail = if hosts.is_empty() && hits_hosts {
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

    /// Applies a link fault to every link between the two sides, counting
    /// each link, and schedules mending them after `lasting`. Returns the
    /// hosts involved.
    fn break_links(
        &mut self,
        sim: &mut Sim<'_>,
        effect: LinkEffect,
        (target, peer, prefer): (&Selector, &Option<Selector>, &[String]),
        now: Duration,
        lasting: Option<Duration>,
    ) -> Vec<String> {
        let kind = effect.kind();
        let (hosts, pairs) = self.resolver.sides(target, peer, prefer);
        for p in &pairs {
            *self.links.entry((kind, p.clone())).or_default() += 1;
            effect.cut(sim, p.0.as_str(), p.1.as_str());
        }
        self.later(now, lasting, Undo::Links(kind, pairs));
        hosts
    }

    /// Stops the process of, or cuts the power to, every host `target`
    /// means that is not already down that way, and schedules starting
    /// them again after `lasting`. Returns the hosts meant.
    fn take_down(
        &mut self,
        sim: &mut Sim<'_>,
        how: Down,
        (target, prefer): (&Selector, &[String]),
        now: Duration,
        lasting: Option<Duration>,
    ) -> Vec<String> {
        let hosts = self.resolver.resolve(target, prefer);
        let hit: Vec<String> = hosts
            .iter()
            .filter(|h| how.hits(self.down.get(*h).copied()))
            .cloned()
            .collect();
        for h in &hit {
            match how {
                Down::Process => {
                    self.processes.stop(h);
                    sim.bounce(h.as_str());
                }
                Down::Power => {
                    self.page_cache.power_loss(h);
                    sim.crash(h.as_str());
                }
            }
            // A node started again runs its application, whatever an
            // operator had stopped before the crash.
            self.processes.start_app(h);
            self.observer.forget_host(h);
            self.down.insert(h.clone(), how);
        }
        self.later(now, lasting, Undo::Restart(hit));
        hosts
    }

    /// Mends one link once no other fault of the same kind holds it.
    fn mend(&mut self, sim: &mut Sim<'_>, kind: LinkKind, p: &Pair) {
        let key = (kind, p.clone());
        match self.links.get_mut(&key) {
            Some(n) if *n > 1 => {
                *n -= 1;
                return;
            }
            Some(_) => {
                self.links.remove(&key);
            }
            None => return,
        }
        kind.mend(sim, p.0.as_str(), p.1.as_str(), &self.network);
    }

    fn later(&mut self, now: Duration, after: Option<Duration>, undo: Undo) {
        if let Some(after) = after {
            self.undo.push((now + after, undo));
        } else {
            self.undo.push((Duration::MAX, undo));
        }
    }

    /// Undoes the faults whose time is up.
    pub(crate) fn tick(&mut self, sim: &mut Sim<'_>, now: Duration) {
        // Called every step: most steps have nothing due, and cost nothing.
        if !self.undo.iter().any(|(at, _)| *at <= now) {
            return;
        }
        let (due, rest): (Vec<_>, Vec<_>) = std::mem::take(&mut self.undo)
            .into_iter()
            .partition(|(at, _)| *at <= now);
        self.undo = rest;
        for (_, undo) in due {
            self.perform(sim, undo, now);
        }
    }

    fn perform(&mut self, sim: &mut Sim<'_>, undo: Undo, now: Duration) {
        let (detail, hosts) = match undo {
            Undo::Links(kind, pairs) => {
                for p in &pairs {
                    self.mend(sim, kind, p);
                }
                (kind.mending(), hosts_of(&pairs))
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
            Undo::StartApps(hosts) => {
                hosts.iter().for_each(|h| self.processes.start_app(h));
                ("start_app", hosts)
            }
            Undo::Rebind(binding) => {
                self.unbound.rebind(&binding);
                let detail = format!(
                    "bind {} -> {} key {:?} again",
                    binding.exchange,
                    queue_name(binding.queue),
                    binding.routing_key
                );
                self.record(
                    now,
                    EventKind::Heal {
                        detail,
                        hosts: Vec::new(),
                    },
                );
                return;
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
    pub(crate) fn heal_all(&mut self, sim: &mut Sim<'_>, now: Duration) {
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
