//! Property tests of the guarantee matrix, in both directions.
//!
//! For every row of `harness::guarantees::matrix()`:
//! - for each fault class it claims to survive (and for all of them mixed),
//!   proptest generates fault schedules, workloads and seeds and requires
//!   that every run is conclusive and loses no acknowledged message: a run
//!   whose drain gave up with messages still readable shows nothing either
//!   way, so it fails the case rather than passing it;
//! - for each class it does not survive, generated cases must show a
//!   (conclusive) loss within a bounded number of cases, so a checker that
//!   always says "no loss" (or a class generator that never hurts) fails
//!   the suite.
//!
//! A last test switches on a deliberate bug in the model and requires the
//! survive direction to fail.
//!
//! `PROPTEST_CASES` sets the cases per survive test (default 8); failures
//! are kept in `proptest-regressions/` and replayed first.

use std::time::Duration;

use broker_model::log::Sabotage;
use broker_model::Workload;
use harness::checker::Outcome;
use harness::fault::{Action, Condition, Fault, Selector, Target, Trigger};
use harness::guarantees::{self, FaultClass, Guarantee};
use harness::runner::{self, RunOutput};
use harness::scenario::{dest_names, Scenario, System};
use libtest_mimic::{Arguments, Failed, Trial};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};

/// Simulated time of the faulty phase of every generated run.
const DURATION: Duration = Duration::from_secs(8);

/// Cases a losing-direction test may try before giving up.
const LOSS_SEARCH_CASES: usize = 12;

/// One generated case.
#[derive(Clone, Debug)]
struct Case {
    seed: u64,
    workload: Workload,
    faults: Vec<Fault>,
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
    Selector {
        targets,
        dest: DEST.into(),
    }
}

fn timed(at: u64, action: Action) -> Fault {
    Fault {
        at: ms(at),
        trigger: None,
        action,
    }
}

fn triggered(at: u64, condition: Condition, after: u64, times: u32, action: Action) -> Fault {
    Fault {
        at: ms(at),
        trigger: Some(Trigger {
            condition,
            dest: DEST.into(),
            after: ms(after),
            times,
        }),
        action,
    }
}

/// Points a schedule's role targets and triggers at `dest`.
fn for_dest(faults: Vec<Fault>, dest: &str) -> Vec<Fault> {
    let point = |s: &mut Selector| s.dest = dest.to_string();
    faults
        .into_iter()
        .map(|mut f| {
            if let Some(t) = &mut f.trigger {
                t.dest = dest.to_string();
            }
            match &mut f.action {
                Action::Partition { target, peer, .. }
                | Action::Drop { target, peer, .. }
                | Action::Delay { target, peer, .. }
                | Action::Hold { target, peer, .. } => {
                    point(target);
                    peer.iter_mut().for_each(point);
                }
                Action::Crash { target, .. } | Action::PowerLoss { target, .. } => point(target),
                Action::Heal | Action::Unbind { .. } => {}
            }
            f
        })
        .collect()
}

/// Workloads for cases of `classes`. A leader only runs ahead of its
/// followers when sends arrive faster than a fetch round trip, so cases
/// with that class send faster (and for longer).
fn workload(classes: &[FaultClass]) -> BoxedStrategy<Workload> {
    let fast = classes.contains(&FaultClass::LeaderCrashBeforeSync);
    let (messages, rate) = if fast {
        (500u32..=900, 200u32..=400)
    } else {
        (150u32..=300, 80u32..=200)
    };
    (messages, rate, 8u64..=25)
        .prop_map(|(messages, rate, processing)| Workload {
            producers: 1,
            consumers: 1,
            messages,
            rate: rate as f64,
            processing_time: ms(processing),
            ..Workload::default()
        })
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
        FaultClass::ConsumerCrash => (1000u64..3000, 250u64..600, 200u64..1500)
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
            .boxed(),
    }
}

/// Cases whose faults come from `classes`: one class, or several mixed.
fn cases_of(classes: &[FaultClass]) -> BoxedStrategy<Case> {
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

/// Runs `case` on row `g`: the scenario and its run.
fn run(g: &Guarantee, case: &Case) -> Result<(Scenario, RunOutput), String> {
    let dest = &dest_names(&g.system)[0];
    let faults = for_dest(case.faults.clone(), dest);
    let s = guarantees::scenario(g, case.workload.clone(), DURATION, faults);
    let run = runner::run(&s, case.seed).map_err(|e| e.to_string())?;
    Ok((s, run))
}

/// Acknowledged messages `case` loses on row `g`; an inconclusive run
/// loses none, since its checker counts nothing as lost.
fn lost(g: &Guarantee, case: &Case) -> Result<u64, String> {
    run(g, case).map(|(_, r)| r.analysis.counts.lost)
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8)
}

/// A runner of `cases()` cases that keeps its failures for row `g` in
/// `proptest-regressions/properties/<row>-<label>.txt` and replays them
/// first.
fn searcher(g: &Guarantee, label: &str) -> TestRunner {
    let file = format!(
        "{}/proptest-regressions/properties/{}-{label}.txt",
        env!("CARGO_MANIFEST_DIR"),
        g.name
    );
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(Box::leak(
            file.into_boxed_str(),
        )))),
        max_shrink_iters: 64,
        ..Config::default()
    })
}

/// The survive direction: no generated case may lose a message.
fn survives(g: &Guarantee, classes: &[FaultClass], label: &str) -> Result<(), String> {
    searcher(g, label)
        .run(&cases_of(classes), |case| {
            let (s, run) = run(g, &case).map_err(TestCaseError::fail)?;
            let a = &run.analysis;
            if let Outcome::Inconclusive { readable } = a.outcome {
                return Err(TestCaseError::fail(format!(
                    "{}: inconclusive: the drain gave up after {:?} with {readable} messages still readable \
                     ({} acknowledged not yet processed), so the run shows neither loss nor survival; \
                     as a scenario file (`mqsim run FILE --seed {}`):\n{}",
                    g.name,
                    run.simulated,
                    a.counts.unconsumed,
                    case.seed,
                    harness::scenario::writer::write(&s)
                )));
            }
            let n = a.counts.lost;
            prop_assert_eq!(n, 0, "{} lost {} acknowledged messages", g.name, n);
            Ok(())
        })
        .map_err(|e| e.to_string())
}

/// Liveness: once every fault has healed, clients make progress until
/// everything still stored has been processed, so the drain ends with every
/// client done. A run that does not drain is a model that stopped (a
/// consumer that never fetches again, deliveries nobody is given), which a
/// loss count would misreport.
fn drains(g: &Guarantee, classes: &[FaultClass]) -> Result<(), String> {
    searcher(g, "drains")
        .run(&cases_of(classes), |case| {
            let (s, run) = run(g, &case).map_err(TestCaseError::fail)?;
            prop_assert!(
                run.drained,
                "{}: clients still busy {:?} after the final heal ({} of {} acknowledged processed); \
                 as a scenario file (`mqsim run FILE --seed {}`):\n{}",
                g.name,
                run.simulated,
                run.analysis.counts.processed,
                run.analysis.counts.acknowledged,
                case.seed,
                harness::scenario::writer::write(&s)
            );
            Ok(())
        })
        .map_err(|e| e.to_string())
}

/// The losing direction: some generated case must lose a message, as the
/// checker counts it: conclusively.
fn loses(g: &Guarantee, class: FaultClass) -> Result<(), String> {
    let mut runner = TestRunner::deterministic();
    let strategy = cases_of(&[class]);
    for _ in 0..LOSS_SEARCH_CASES {
        let case = strategy
            .new_tree(&mut runner)
            .map_err(|e| e.to_string())?
            .current();
        if lost(g, &case)? > 0 {
            return Ok(());
        }
    }
    Err(format!(
        "{} is expected to lose messages under {} but no loss was found in {LOSS_SEARCH_CASES} cases",
        g.name,
        class.name()
    ))
}

fn slug(class: FaultClass) -> String {
    class.name().replace(' ', "-")
}

fn failed(r: Result<(), String>) -> Result<(), Failed> {
    r.map_err(Failed::from)
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for g in guarantees::matrix() {
        for class in g.survives.clone() {
            let row = g.clone();
            trials.push(Trial::test(
                format!("survives::{}::{}", g.name, slug(class)),
                move || failed(survives(&row, &[class], &slug(class))),
            ));
        }
        if g.survives.len() > 1 {
            let row = g.clone();
            trials.push(Trial::test(
                format!("survives::{}::mixed", g.name),
                move || failed(survives(&row, &row.survives, "mixed")),
            ));
        }
        let every: Vec<FaultClass> = g.survives.iter().chain(&g.loses_under).copied().collect();
        if !every.is_empty() {
            let row = g.clone();
            trials.push(Trial::test(format!("drains::{}", g.name), move || {
                failed(drains(&row, &every))
            }));
        }
        for class in g.loses_under.clone() {
            let row = g.clone();
            trials.push(Trial::test(
                format!("loses::{}::{}", g.name, slug(class)),
                move || failed(loses(&row, class)),
            ));
        }
    }
    trials.push(Trial::test(
        "a_sabotaged_model_fails_the_survive_direction",
        || {
            let mut row = guarantees::matrix()
                .into_iter()
                .find(|g| g.name == "log-acks-all")
                .expect("the acks=all row exists");
            let System::Log(config) = &mut row.system else {
                return Err("the acks=all row is a log row".into());
            };
            config.sabotage = Sabotage::AckBeforeReplication;
            match loses(&row, FaultClass::LeaderCrashBeforeSync) {
                Ok(()) => Ok(()),
                Err(e) => Err(format!("the sabotaged model passed: {e}").into()),
            }
        },
    ));
    libtest_mimic::run(&args, trials).exit();
}
