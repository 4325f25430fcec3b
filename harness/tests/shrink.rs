//! Shrinking: a losing run becomes a small scenario file that still loses.

use std::path::Path;

use harness::scenario::{self, writer, Expect};
use harness::{runner, shrink};

/// The acks=1 loss by the clock (followers cut off, then the leader
/// crashes), buried in faults that have nothing to do with it.
const NOISY_ACKS1: &str = r#"
name = "acks1-noisy"
system = "log"
expect = "loss"
seeds = [1]
duration = "6s"

[workload]
messages = 400
rate = 100

[config]
acks = 1
"min.insync.replicas" = 1
"enable.auto.commit" = false

[[faults]]
at = "1s"
action = "delay"
target = "consumers"
latency = "30ms"
duration = "500ms"

[[faults]]
at = "2s"
action = "partition"
target = "leader"
peer = "followers"
duration = "600ms"

[[faults]]
at = "2400ms"
action = "crash"
target = "leader"
restart_after = "2s"

[[faults]]
at = "3s"
action = "drop"
target = "controller"
peer = "producers"
rate = 0.5
duration = "1s"

[nemesis]
kinds = ["delay"]
targets = ["consumer"]
interval = "1s"
max_duration = "300ms"
"#;

#[test]
fn the_acks1_loss_shrinks_to_at_most_two_faults_and_still_loses() {
    let s = scenario::parse(Path::new("acks1-noisy.toml"), NOISY_ACKS1).unwrap();
    let before = runner::schedule(&s, 1).len();
    assert!(before >= 5, "the noisy schedule has {before} faults");
    let shrunk = shrink::shrink(&s, 1, 80).unwrap().expect("seed 1 loses");
    let faults = &shrunk.scenario.faults;
    assert!(
        faults.len() <= 2,
        "shrunk to {} faults: {faults:#?}",
        faults.len()
    );
    assert!(shrunk.scenario.nemesis.is_none());
    assert_eq!(shrunk.scenario.expect, Expect::Loss);

    // The written file is a scenario that replays the loss by its seed.
    let text = writer::write(&shrunk.scenario);
    let replay = scenario::parse(Path::new("shrunk.toml"), &text).unwrap();
    assert_eq!(replay.seeds, vec![1]);
    let run = runner::run(&replay, 1).unwrap();
    assert!(
        run.analysis.counts.lost > 0,
        "the reproducer does not lose:\n{text}"
    );
}

#[test]
fn the_bundled_acks1_scenario_shrinks_to_its_one_trigger() {
    let file =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/log-acks1-leader-crash.toml");
    let s = scenario::load(&file).unwrap();
    let shrunk = shrink::shrink(&s, 2, 24).unwrap().expect("seed 2 loses");
    assert_eq!(shrunk.scenario.faults.len(), 1);
    assert!(shrunk.scenario.faults[0].trigger.is_some());
    assert!(shrunk.lost > 0);
}

#[test]
fn a_seed_that_loses_nothing_is_not_shrunk() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/log-power-loss-fsync.toml");
    let s = scenario::load(&file).unwrap();
    assert!(shrink::shrink(&s, 1, 8).unwrap().is_none());
}
