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

use broker_model::log::Sabotage;
use harness::checker::Outcome;
use harness::guarantees::{self, FaultClass, Guarantee};
use harness::runner::{self, RunOutput};
use harness::scenario::{dest_names, Scenario, System};
use libtest_mimic::{Arguments, Failed, Trial};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, FileFailurePersistence, TestRunner};

mod schedules;

use schedules::{cases_of, for_dest, Case, DURATION};

/// Cases a losing-direction test may try before giving up.
const LOSS_SEARCH_CASES: usize = 12;

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
