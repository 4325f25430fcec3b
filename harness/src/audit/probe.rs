//! The fixed probes of each fault class: a few fault schedules, with
//! triggered faults where timing decides, and the workload that class needs,
//! so that a configuration that can lose a message under the class does so
//! within a few seeds, deterministically.
//!
//! The schedules are fixed points of the ranges the property tests draw
//! from (`harness/tests/properties/schedules.rs`): triggers fire a fault at
//! the moment it can hurt (a leader holding records no follower has, a
//! consumer holding records it has not processed, a mirror out of sync), so
//! whether a message is then lost is left to the protocol.

use std::time::Duration;

use broker_model::queue::Binding;
use broker_model::Workload;

use crate::fault::schedules::{select, timed, triggered};
use crate::fault::{Action, Condition, Fault, Target};
use crate::guarantees::FaultClass;
use crate::scenario::{dest_names, System};

/// One fixed probe of a fault class.
#[derive(Clone, Debug, PartialEq)]
pub struct Probe {
    /// A short label (`a`, `b`), unique within the class.
    pub label: &'static str,
    /// What the clients do.
    pub workload: Workload,
    /// Simulated time of the faulty phase.
    pub duration: Duration,
    /// The faults.
    pub faults: Vec<Fault>,
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// The workload of a class's probes, keeping what the deployment's clients
/// say about message size and poison handling: a steady 100 messages a
/// second and a consumer with a little work per message, which gives a crash
/// something in flight; faster for a leader to run ahead of its followers,
/// slower consumers for a backlog, a late start, two consumers for a group
/// to rebalance, 5% poison.
fn workload(class: FaultClass, base: &Workload) -> Workload {
    let mut w = Workload {
        producers: 1,
        consumers: 1,
        messages: 300,
        rate: 100.0,
        processing_time: ms(20),
        message_bytes: base.message_bytes,
        consumer_start: Duration::ZERO,
        poison: 0.0,
        poison_action: base.poison_action,
    };
    match class {
        FaultClass::LeaderCrashBeforeSync => {
            w.messages = 800;
            w.rate = 200.0;
            w.processing_time = ms(5);
        }
        FaultClass::LeaderCrashWhileReplicaOutOfSync => w.processing_time = ms(40),
        FaultClass::ConsumerCrashWithRebalance => {
            w.consumers = 2;
            w.messages = 400;
            w.processing_time = ms(30);
        }
        FaultClass::PoisonMessage => {
            w.processing_time = ms(5);
            w.poison = 0.05;
        }
        FaultClass::SlowConsumer => {
            w.messages = 400;
            w.processing_time = ms(50);
        }
        FaultClass::LateConsumer => {
            w.messages = 400;
            w.processing_time = ms(5);
            w.consumer_start = ms(3000);
        }
        _ => {}
    }
    w
}

/// The binding publishers' messages route by: on the exchange they publish
/// to, the one for their first routing key (or the first one).
pub(crate) fn routing_binding(system: &System) -> Option<Binding> {
    let System::Queue(c) = system else {
        return None;
    };
    let exchange = c.topology.exchange.as_ref()?;
    let on_exchange = || {
        c.topology
            .bindings
            .iter()
            .filter(|b| &b.exchange == exchange)
    };
    let by_key = c
        .topology
        .routing_keys
        .first()
        .and_then(|key| on_exchange().find(|b| &b.routing_key == key));
    by_key.or_else(|| on_exchange().next()).cloned()
}

/// The fault schedules of `class` against destination `dest`.
fn schedules(class: FaultClass, system: &System, dest: &str) -> Vec<Vec<Fault>> {
    let one = |t: Target| select(dest, vec![t]);
    let crash = |t: Target, restart: u64| Action::Crash {
        target: one(t),
        restart_after: Some(ms(restart)),
    };
    let power = |t: Target, restart: u64| Action::PowerLoss {
        target: one(t),
        restart_after: Some(ms(restart)),
    };
    let on = |at: u64, c: Condition, after: u64, times: u32, a: Action| {
        triggered(ms(at), c, dest, ms(after), times, a)
    };
    match class {
        FaultClass::BrokerCrash => vec![
            vec![on(
                2000,
                Condition::AfterProducerAck,
                0,
                1,
                crash(Target::Leader, 1000),
            )],
            vec![
                timed(ms(1500), crash(Target::AnyBroker, 1000)),
                timed(ms(3500), crash(Target::Follower, 800)),
            ],
        ],
        FaultClass::LeaderCrashBeforeSync => vec![
            vec![on(
                2000,
                Condition::LeaderAheadOfFollowers,
                0,
                1,
                crash(Target::Leader, 2000),
            )],
            vec![on(
                1000,
                Condition::LeaderAheadOfFollowers,
                1,
                2,
                crash(Target::Leader, 1000),
            )],
        ],
        FaultClass::LeaderCrashWhileReplicaOutOfSync => vec![
            vec![
                timed(ms(1000), crash(Target::Follower, 500)),
                on(
                    1500,
                    Condition::MirrorUnsynced,
                    0,
                    1,
                    crash(Target::Leader, 1000),
                ),
            ],
            vec![
                timed(ms(1500), crash(Target::Follower, 300)),
                on(
                    1800,
                    Condition::MirrorUnsynced,
                    100,
                    1,
                    crash(Target::Leader, 800),
                ),
            ],
        ],
        FaultClass::Partition => {
            let cut = |target: Vec<Target>, peer: Option<Vec<Target>>, at: u64, length: u64| {
                timed(
                    ms(at),
                    Action::Partition {
                        target: select(dest, target),
                        peer: peer.map(|p| select(dest, p)),
                        duration: Some(ms(length)),
                    },
                )
            };
            vec![
                vec![cut(vec![Target::Leader], None, 1500, 2000)],
                vec![cut(
                    vec![Target::Leader, Target::Producers],
                    Some(vec![Target::Controller, Target::Followers]),
                    1500,
                    2500,
                )],
            ]
        }
        FaultClass::MessageDrop => {
            let drop = |a: Target, b: Target, rate: f64, length: u64| Action::Drop {
                target: one(a),
                peer: Some(one(b)),
                rate,
                duration: Some(ms(length)),
            };
            vec![
                vec![on(
                    1000,
                    Condition::AfterProducerAck,
                    0,
                    1,
                    drop(Target::Producers, Target::Brokers, 0.3, 1500),
                )],
                vec![timed(
                    ms(1500),
                    drop(Target::Brokers, Target::Brokers, 0.9, 1500),
                )],
            ]
        }
        FaultClass::PowerLossAll => vec![
            vec![on(
                2000,
                Condition::AfterProducerAck,
                0,
                1,
                power(Target::Brokers, 1000),
            )],
            vec![timed(ms(3000), power(Target::Brokers, 1000))],
        ],
        FaultClass::LastReplicaPowerLoss => vec![vec![
            timed(
                ms(1500),
                Action::Partition {
                    target: one(Target::Followers),
                    peer: None,
                    duration: Some(ms(2500)),
                },
            ),
            timed(ms(2500), power(Target::Leader, 500)),
        ]],
        FaultClass::ConsumerCrash | FaultClass::ConsumerCrashWithRebalance => {
            let restart = if class == FaultClass::ConsumerCrash {
                1000
            } else {
                2000
            };
            vec![
                vec![on(
                    2000,
                    Condition::ConsumerReceivedUnacked,
                    300,
                    1,
                    crash(Target::Consumer, restart),
                )],
                vec![on(
                    1000,
                    Condition::ConsumerReceivedUnacked,
                    250,
                    1,
                    crash(Target::Consumer, restart),
                )],
            ]
        }
        FaultClass::MissingBinding => match routing_binding(system) {
            Some(binding) => vec![vec![timed(
                ms(1000),
                Action::Unbind {
                    binding,
                    duration: Some(ms(1000)),
                },
            )]],
            None => Vec::new(),
        },
        FaultClass::PoisonMessage | FaultClass::SlowConsumer | FaultClass::LateConsumer => {
            vec![Vec::new()]
        }
    }
}

/// The probes of `class` against `system`, with the deployment's clients
/// `base`.
pub fn probes(class: FaultClass, system: &System, base: &Workload) -> Vec<Probe> {
    let dest = dest_names(system).into_iter().next().unwrap_or_default();
    let duration = match class {
        FaultClass::LeaderCrashBeforeSync => ms(8000),
        FaultClass::PoisonMessage => ms(4000),
        _ => ms(6000),
    };
    const LABELS: [&str; 3] = ["a", "b", "c"];
    schedules(class, system, &dest)
        .into_iter()
        .zip(LABELS)
        .map(|(faults, label)| Probe {
            label,
            workload: workload(class, base),
            duration,
            faults,
        })
        .collect()
}
