//! Faults as scenario files describe them: whom a fault hits, what it does,
//! when it fires, and the class of fault a guarantee-matrix column groups
//! by.
//!
//! The rest of the folder turns these descriptions into a run's events:
//! `trigger` fires a fault by what the simulation is doing rather than by
//! the clock, [`random`] draws a seeded schedule from a scenario's
//! `[nemesis]`, and `apply` injects faults with turmoil's own machinery
//! and undoes them when their time is up, hitting the hosts `resolve` finds
//! for a selector at that moment.

pub(crate) mod apply;
pub(crate) mod class;
pub mod random;
mod resolve;
pub mod schedules;
pub(crate) mod trigger;

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use broker_model::queue::{queue_name, Binding};
pub use trigger::{Condition, Trigger};

use crate::duration::format_duration;

/// Whom a fault hits: a host by name, or a role resolved when the fault
/// fires (the leader *then*, not the leader at the start).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A host by name, e.g. `broker-2`.
    Host(String),
    /// The leader of the fault's partition.
    Leader,
    /// One follower of the fault's partition (seeded choice).
    Follower,
    /// Every follower of the fault's partition.
    Followers,
    /// Every replica of the fault's partition.
    Replicas,
    /// The controller.
    Controller,
    /// One broker (seeded choice).
    AnyBroker,
    /// Every broker.
    Brokers,
    /// One producer (seeded choice).
    Producer,
    /// Every producer.
    Producers,
    /// One consumer (seeded choice).
    Consumer,
    /// Every consumer.
    Consumers,
}

/// The role names a target may use, for error messages.
pub(crate) const ROLE_NAMES: &[&str] = &[
    "leader",
    "follower",
    "followers",
    "replicas",
    "controller",
    "any-broker",
    "brokers",
    "producer",
    "producers",
    "consumer",
    "consumers",
];

impl FromStr for Target {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "leader" => Target::Leader,
            "follower" => Target::Follower,
            "followers" => Target::Followers,
            "replicas" => Target::Replicas,
            "controller" => Target::Controller,
            "any-broker" => Target::AnyBroker,
            "brokers" | "all-brokers" => Target::Brokers,
            "producer" => Target::Producer,
            "producers" => Target::Producers,
            "consumer" => Target::Consumer,
            "consumers" => Target::Consumers,
            host if host.contains('-') => Target::Host(host.to_string()),
            other => {
                return Err(format!(
                    "`{other}` is neither a host name (such as broker-1) nor a role ({})",
                    ROLE_NAMES.join(", ")
                ))
            }
        })
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Target::Host(h) => h.as_str(),
            Target::Leader => "leader",
            Target::Follower => "follower",
            Target::Followers => "followers",
            Target::Replicas => "replicas",
            Target::Controller => "controller",
            Target::AnyBroker => "any-broker",
            Target::Brokers => "brokers",
            Target::Producer => "producer",
            Target::Producers => "producers",
            Target::Consumer => "consumer",
            Target::Consumers => "consumers",
        };
        f.write_str(s)
    }
}

/// A set of targets plus the destination that role names refer to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector {
    /// The targets; the fault hits their union.
    pub targets: Vec<Target>,
    /// The destination (a partition such as `p0`, or a queue) whose
    /// `leader`, `followers` and `replicas` the roles mean.
    pub dest: String,
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<String> = self.targets.iter().map(Target::to_string).collect();
        write!(f, "{}", names.join("+"))?;
        let by_partition = self.targets.iter().any(|t| {
            matches!(
                t,
                Target::Leader | Target::Follower | Target::Followers | Target::Replicas
            )
        });
        if by_partition {
            write!(f, " of {}", self.dest)?;
        }
        Ok(())
    }
}

/// What a fault does.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Cut every link between `target` and `peer` (default: everyone else).
    Partition {
        /// One side.
        target: Selector,
        /// The other side; `None` means every other host.
        peer: Option<Selector>,
        /// When to repair; `None` means at the final heal.
        duration: Option<Duration>,
    },
    /// Drop a fraction of the datagrams on the links between two sides.
    Drop {
        /// One side.
        target: Selector,
        /// The other side; `None` means every other host.
        peer: Option<Selector>,
        /// Probability that a datagram is dropped.
        rate: f64,
        /// When to stop; `None` means at the final heal.
        duration: Option<Duration>,
    },
    /// Make every datagram between two sides take `latency`.
    Delay {
        /// One side.
        target: Selector,
        /// The other side; `None` means every other host.
        peer: Option<Selector>,
        /// The latency.
        latency: Duration,
        /// When to stop; `None` means at the final heal.
        duration: Option<Duration>,
    },
    /// Hold every datagram between two sides until released.
    Hold {
        /// One side.
        target: Selector,
        /// The other side; `None` means every other host.
        peer: Option<Selector>,
        /// When to release; `None` means at the final heal.
        duration: Option<Duration>,
    },
    /// Kill the process; the machine and its page cache survive.
    Crash {
        /// Who.
        target: Selector,
        /// When to start it again; `None` means at the final heal.
        restart_after: Option<Duration>,
    },
    /// Cut the power: everything not fsynced is gone.
    PowerLoss {
        /// Who.
        target: Selector,
        /// When to power it on again; `None` means at the final heal.
        restart_after: Option<Duration>,
    },
    /// Stop a queue node's application in an orderly way, as
    /// `rabbitmqctl stop_app` does: the process and its cluster links stay
    /// up, and the mirrors of the queues it masters apply
    /// `ha-promote-on-shutdown`.
    StopApp {
        /// Which nodes.
        target: Selector,
        /// When to start it again (`start_app`); `None` means at the final
        /// heal.
        restart_after: Option<Duration>,
    },
    /// End every fault now.
    Heal,
    /// Remove a binding from the cluster's metadata, as `queue.unbind`
    /// does, and bind it again after `duration`.
    Unbind {
        /// The binding.
        binding: Binding,
        /// When to bind it again; `None` means at the final heal.
        duration: Option<Duration>,
    },
}

impl Action {
    /// The action's name in scenario files.
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Action::Partition { peer: None, .. } => "isolate",
            Action::Partition { .. } => "partition",
            Action::Drop { .. } => "drop",
            Action::Delay { .. } => "delay",
            Action::Hold { .. } => "hold",
            Action::Crash { .. } => "crash",
            Action::PowerLoss { .. } => "power_loss",
            Action::StopApp { .. } => "stop_app",
            Action::Heal => "heal",
            Action::Unbind { .. } => "unbind",
        }
    }

    /// How long the fault lasts before it is undone: a link fault's
    /// `duration`, a crash's or power loss's `restart_after`. `None` for a
    /// fault that lasts until the final heal, and for `heal` itself.
    pub(crate) fn duration(&self) -> Option<Duration> {
        match self {
            Action::Partition { duration, .. }
            | Action::Drop { duration, .. }
            | Action::Delay { duration, .. }
            | Action::Hold { duration, .. }
            | Action::Unbind { duration, .. }
            | Action::Crash {
                restart_after: duration,
                ..
            }
            | Action::PowerLoss {
                restart_after: duration,
                ..
            }
            | Action::StopApp {
                restart_after: duration,
                ..
            } => *duration,
            Action::Heal => None,
        }
    }

    /// The setting [`Action::duration`] reads, to change it; `None` for
    /// `heal`, which has none.
    pub(crate) fn duration_mut(&mut self) -> Option<&mut Option<Duration>> {
        match self {
            Action::Partition { duration, .. }
            | Action::Drop { duration, .. }
            | Action::Delay { duration, .. }
            | Action::Hold { duration, .. }
            | Action::Unbind { duration, .. }
            | Action::Crash {
                restart_after: duration,
                ..
            }
            | Action::PowerLoss {
                restart_after: duration,
                ..
            }
            | Action::StopApp {
                restart_after: duration,
                ..
            } => Some(duration),
            Action::Heal => None,
        }
    }
}

/// One scheduled fault.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    /// When it fires, in simulated time from the start; for a triggered
    /// fault, when it starts watching its condition.
    pub at: Duration,
    /// The condition that fires it, if it is not fired by the clock.
    pub trigger: Option<Trigger>,
    /// What it does.
    pub action: Action,
}

impl Selector {
    /// Whom the selector means, in words for a fault class: roles rather
    /// than hosts, so that scenarios hitting "the leader" group together
    /// whichever broker it was.
    fn whom(&self) -> String {
        let words: Vec<String> = self
            .targets
            .iter()
            .map(|t| match t {
                Target::Host(h) => h.clone(),
                Target::AnyBroker => "a broker".into(),
                Target::Brokers => "all brokers".into(),
                Target::Producers => "all producers".into(),
                Target::Consumers => "all consumers".into(),
                Target::Replicas => "all replicas".into(),
                other => other.to_string(),
            })
            .collect();
        words.join(" + ")
    }
}

impl Fault {
    /// The kind of fault in a few words, without times or rates: what a
    /// column of the guarantee matrix groups by (`partition (leader |
    /// followers)`, `process crash of consumer`, `power loss of all
    /// brokers`). `None` for `heal`, which injects nothing.
    pub(crate) fn class(&self) -> Option<String> {
        let sides = |target: &Selector, peer: &Option<Selector>, sep: &str| match peer {
            Some(p) => format!("({} {sep} {})", target.whom(), p.whom()),
            None => format!("({} {sep} everyone else)", target.whom()),
        };
        let what = match &self.action {
            Action::Partition {
                target, peer: None, ..
            } => format!("isolation of {}", target.whom()),
            Action::Partition { target, peer, .. } => {
                format!("partition {}", sides(target, peer, "|"))
            }
            Action::Drop { target, peer, .. } => {
                format!("network drop {}", sides(target, peer, "↔"))
            }
            Action::Delay { target, peer, .. } => {
                format!("network delay {}", sides(target, peer, "↔"))
            }
            Action::Hold { target, peer, .. } => {
                format!("network hold {}", sides(target, peer, "↔"))
            }
            Action::Crash { target, .. } => format!("process crash of {}", target.whom()),
            Action::PowerLoss { target, .. } => format!("power loss of {}", target.whom()),
            Action::StopApp { target, .. } => format!("orderly stop of {}", target.whom()),
            Action::Unbind { .. } => "missing binding".into(),
            Action::Heal => return None,
        };
        Some(match &self.trigger {
            Some(t) => format!("{what} when {}", t.condition.name().replace('_', " ")),
            None => what,
        })
    }
}

fn between(f: &mut fmt::Formatter<'_>, target: &Selector, peer: &Option<Selector>) -> fmt::Result {
    match peer {
        Some(p) => write!(f, "{target} <-> {p}"),
        None => write!(f, "{target} <-> everyone else"),
    }
}

fn lasting(f: &mut fmt::Formatter<'_>, d: &Option<Duration>, word: &str) -> fmt::Result {
    match d {
        Some(d) => write!(f, ", {word} {}", format_duration(*d)),
        None => write!(f, ", until the final heal"),
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.trigger {
            None => write!(f, "at {}: ", format_duration(self.at))?,
            Some(t) if self.at.is_zero() => write!(f, "{t}: ")?,
            Some(t) => write!(f, "{t}, from {}: ", format_duration(self.at))?,
        }
        write!(f, "{} ", self.action.name())?;
        match &self.action {
            Action::Partition {
                target,
                peer,
                duration,
            }
            | Action::Hold {
                target,
                peer,
                duration,
            } => {
                between(f, target, peer)?;
                lasting(f, duration, "for")
            }
            Action::Drop {
                target,
                peer,
                rate,
                duration,
            } => {
                between(f, target, peer)?;
                write!(f, ", rate {rate}")?;
                lasting(f, duration, "for")
            }
            Action::Delay {
                target,
                peer,
                latency,
                duration,
            } => {
                between(f, target, peer)?;
                write!(f, ", latency {}", format_duration(*latency))?;
                lasting(f, duration, "for")
            }
            Action::Crash {
                target,
                restart_after,
            }
            | Action::PowerLoss {
                target,
                restart_after,
            }
            | Action::StopApp {
                target,
                restart_after,
            } => {
                write!(f, "{target}")?;
                lasting(f, restart_after, "restart after")
            }
            Action::Unbind { binding, duration } => {
                write!(
                    f,
                    "{} -> {} key {:?}",
                    binding.exchange,
                    queue_name(binding.queue),
                    binding.routing_key
                )?;
                lasting(f, duration, "bound again after")
            }
            Action::Heal => write!(f, "everything"),
        }
    }
}

#[cfg(test)]
mod tests;
