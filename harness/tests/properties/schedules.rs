//! Generated cases: fault schedules of each class, and the workloads that
//! go with them.

use std::time::Duration;

use broker_model::Workload;
use harness::fault::{schedules, Action, Condition, Fault, Selector, Target};
use harness::guarantees::{self, FaultClass};
use proptest::prelude::*;

/// Simulated time of the faulty phase of every generated run.
pub(crate) const DURATION: Duration = Duration::from_secs(8);

/// One generated case.
#[derive(Clone, Debug)]
pub(crate) struct Case {
    pub(crate) seed: u64,
    pub(crate) workload: Workload,
    pub(crate) faults: Vec<Fault>,
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Role targets and triggers refer to the first destination (`p0` or
/// `q0`); the schedules are built for `p0` and pointed at the row's own
/// destination by [`for_dest`].
const DEST: &str = "p0";

fn sel(t: Target) -> Selector {
    sel_many(vec![t])
}

fn sel_many(targets: Vec<Target>) -> Selector {
    schedules::select(DEST, targets)
}

fn timed(at: u64, action: Action) -> Fault {
    schedules::timed(ms(at), action)
}

fn triggered(at: u64, condition: Condition, after: u64, times: u32, action: Action) -> Fault {
    schedules::triggered(ms(at), condition, DEST, ms(after), times, action)
}

/// Points a schedule's role targets and triggers at `dest`.
pub(crate) fn for_dest(faults: Vec<Fault>, dest: &str) -> Vec<Fault> {
    schedules::for_dest(faults, dest)
}

/// Workloads for cases of `classes`. A leader only runs ahead of its
/// followers when sends arrive faster than a fetch round trip, so cases
/// with that class send faster (and for longer). A slow consumer processes
/// 16 to 33 messages a second against the producer's 80 or more; a late
/// one starts 2 to 5 s after the producer. A rebalance needs a second
/// consumer in the group to take the crashed one's partitions. Poison
/// messages are 2 to 5% of the workload.
fn workload(classes: &[FaultClass]) -> BoxedStrategy<Workload> {
    let fast = classes.contains(&FaultClass::LeaderCrashBeforeSync);
    let (messages, rate) = if fast {
        (500u32..=900, 200u32..=400)
    } else {
        (150u32..=300, 80u32..=200)
    };
    let processing = if classes.contains(&FaultClass::SlowConsumer) {
        30u64..=60
    } else {
        8u64..=25
    };
    let start = if classes.contains(&FaultClass::LateConsumer) {
        2000u64..=5000
    } else {
        0u64..=0
    };
    let consumers = if classes.contains(&FaultClass::ConsumerCrashWithRebalance) {
        2
    } else {
        1
    };
    let poison = if classes.contains(&FaultClass::PoisonMessage) {
        2u32..=5
    } else {
        0u32..=0
    };
    (messages, rate, processing, start, poison)
        .prop_map(
            move |(messages, rate, processing, start, poison)| Workload {
                producers: 1,
                consumers,
                messages,
                rate: rate as f64,
                processing_time: ms(processing),
                consumer_start: ms(start),
                poison: f64::from(poison) / 100.0,
                ..Workload::default()
            },
        )
        .boxed()
}

/// Lays faults out one after another from 1 s on: each `(gap, length)`
/// starts `gap` after the previous one ended (plus a second to recover).
fn sequential(items: Vec<(u64, u64, Action)>) -> Vec<Fault> {
    let mut at = 1000;
    let mut out = Vec::new();
    for (gap, length, action) in items {
        at += gap;
        out.push(timed(at, action));
        at += length + 1000;
    }
    out
}

fn crash_target() -> impl Strategy<Value = Target> {
    prop_oneof![
        Just(Target::Leader),
        Just(Target::AnyBroker),
        Just(Target::Follower)
    ]
}

/// Fault schedules of one class.
fn faults_of(class: FaultClass) -> BoxedStrategy<Vec<Fault>> {
    match class {
        FaultClass::BrokerCrash => {
            prop::collection::vec((0u64..1500, 200u64..2500, crash_target()), 1..=3)
                .prop_map(|items| {
                    sequential(
                        items
                            .into_iter()
                            .map(|(gap, length, t)| {
                                let action = Action::Crash {
                                    target: sel(t),
                                    restart_after: Some(ms(length)),
                                };
                                (gap, length, action)
                            })
                            .collect(),
                    )
                })
                .boxed()
        }
        FaultClass::LeaderCrashBeforeSync => (500u64..1500, 0u64..3, 1u32..=2, 300u64..2000)
            .prop_map(|(at, after, times, restart)| {
                vec![triggered(
                    at,
                    Condition::LeaderAheadOfFollowers,
                    after,
                    times,
                    Action::Crash {
                        target: sel(Target::Leader),
                        restart_after: Some(ms(restart)),
                    },
                )]
            })
            .boxed(),
        FaultClass::Partition => {
            let cut = prop_oneof![
                Just((sel(Target::Leader), None)),
                Just((sel(Target::AnyBroker), None)),
                Just((sel(Target::Controller), None)),
                Just((sel(Target::Leader), Some(sel(Target::Followers)))),
                Just((
                    sel_many(vec![Target::Leader, Target::Producers]),
                    Some(sel_many(vec![Target::Controller, Target::Followers])),
                )),
            ];
            prop::collection::vec((0u64..1500, 200u64..2500, cut), 1..=3)
                .prop_map(|items| {
                    sequential(
                        items
                            .into_iter()
                            .map(|(gap, length, (target, peer))| {
                                let action = Action::Partition {
                                    target,
                                    peer,
                                    duration: Some(ms(length)),
                                };
                                (gap, length, action)
                            })
                            .collect(),
                    )
                })
                .boxed()
        }
        FaultClass::MessageDrop => {
            let link = prop_oneof![
                Just((Target::Producers, Target::Brokers)),
                Just((Target::Brokers, Target::Brokers)),
                Just((Target::Consumers, Target::Brokers)),
                Just((Target::Controller, Target::Brokers)),
            ];
            let lossy = (0u64..1500, 300u64..3000, 5u32..=60, link);
            // Drops between brokers heavy and long enough for failure
            // detection to fire (a node silent for `net_ticktime`, 600 ms,
            // or a broker missing its heartbeats), then healed: the moment a
            // false "down" splits a cluster is where drops hurt most, and
            // uniform rates rarely hit it.
            let detected = (0u64..1500, 700u64..2000, 80u32..=100)
                .prop_map(|(gap, length, p)| (gap, length, p, (Target::Brokers, Target::Brokers)));
            let item = prop_oneof![3 => lossy, 1 => detected];
            prop::collection::vec(item, 1..=2)
                .prop_map(|items| {
                    sequential(
                        items
                            .into_iter()
                            .map(|(gap, length, percent, (a, b))| {
                                let action = Action::Drop {
                                    target: sel(a),
                                    peer: Some(sel(b)),
                                    rate: f64::from(percent) / 100.0,
                                    duration: Some(ms(length)),
                                };
                                (gap, length, action)
                            })
                            .collect(),
                    )
                })
                .boxed()
        }
        FaultClass::PowerLossAll => (1500u64..4000, 300u64..2000)
            .prop_map(|(at, restart)| {
                vec![timed(
                    at,
                    Action::PowerLoss {
                        target: sel(Target::Brokers),
                        restart_after: Some(ms(restart)),
                    },
                )]
            })
            .boxed(),
        FaultClass::LeaderCrashWhileReplicaOutOfSync => {
            (500u64..2000, 200u64..800, 0u64..300, 500u64..1500)
                .prop_map(|(at, down, after, restart)| {
                    vec![
                        timed(
                            at,
                            Action::Crash {
                                target: sel(Target::Follower),
                                restart_after: Some(ms(down)),
                            },
                        ),
                        triggered(
                            at + down,
                            Condition::MirrorUnsynced,
                            after,
                            1,
                            Action::Crash {
                                target: sel(Target::Leader),
                                restart_after: Some(ms(restart)),
                            },
                        ),
                    ]
                })
                .boxed()
        }
        // Every follower cut off long enough to be fenced (the ISR shrinks
        // to the leader), then the leader loses power and restarts while
        // they are still away.
        FaultClass::LastReplicaPowerLoss => (1000u64..2000, 800u64..1300, 300u64..600)
            .prop_map(|(at, after, restart)| {
                vec![
                    timed(
                        at,
                        Action::Partition {
                            target: sel(Target::Followers),
                            peer: None,
                            duration: Some(ms(2500)),
                        },
                    ),
                    timed(
                        at + after,
                        Action::PowerLoss {
                            target: sel(Target::Leader),
                            restart_after: Some(ms(restart)),
                        },
                    ),
                ]
            })
            .boxed(),
        FaultClass::MissingBinding => (1000u64..3000, 300u64..1500)
            .prop_map(|(at, length)| {
                vec![timed(
                    at,
                    Action::Unbind {
                        binding: guarantees::missing_binding(),
                        duration: Some(ms(length)),
                    },
                )]
            })
            .boxed(),
        // Workload classes: their cases differ in the workload, not the
        // faults.
        FaultClass::SlowConsumer | FaultClass::LateConsumer | FaultClass::PoisonMessage => {
            Just(Vec::new()).boxed()
        }
        FaultClass::ConsumerCrash | FaultClass::ConsumerCrashWithRebalance => {
            (1000u64..3000, 250u64..600, 200u64..1500)
                .prop_map(|(at, after, restart)| {
                    vec![triggered(
                        at,
                        Condition::ConsumerReceivedUnacked,
                        after,
                        1,
                        Action::Crash {
                            target: sel(Target::Consumer),
                            restart_after: Some(ms(restart)),
                        },
                    )]
                })
                .boxed()
        }
    }
}

/// Cases whose faults come from `classes`: one class, or several mixed.
pub(crate) fn cases_of(classes: &[FaultClass]) -> BoxedStrategy<Case> {
    let schedules: Vec<BoxedStrategy<Vec<Fault>>> = classes.iter().map(|c| faults_of(*c)).collect();
    let mixed = schedules
        .into_iter()
        .fold(Just(Vec::new()).boxed(), |acc, s| {
            (acc, s)
                .prop_map(|(mut a, b)| {
                    a.extend(b);
                    a
                })
                .boxed()
        });
    (1u64..10_000, workload(classes), mixed)
        .prop_map(|(seed, workload, faults)| Case {
            seed,
            workload,
            faults,
        })
        .boxed()
}
