//! Runs that once went wrong, kept as tests of what must happen instead.
//! Each file in `regressions/` is an ordinary scenario (`mqsim run` replays
//! it); the assertions here read the recorded history, never the file's
//! `expect`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use broker_model::{Event, EventKind, MsgId};
use harness::runner::{self, RunOutput};
use harness::scenario;

fn runs(file: &str) -> Vec<RunOutput> {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/regressions")
        .join(file);
    let s = scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
    s.seeds
        .iter()
        .map(|seed| runner::run(&s, *seed).unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

fn assert_everything_processed(run: &RunOutput) {
    let c = &run.analysis.counts;
    assert!(run.drained, "seed {}: the drain never ended", run.seed);
    assert_eq!(c.lost, 0, "seed {}: {:?}", run.seed, run.analysis.lost);
    assert_eq!(
        c.acknowledged, c.sent,
        "seed {}: every send acknowledged",
        run.seed
    );
    assert_eq!(
        c.processed, c.sent,
        "seed {}: every message processed",
        run.seed
    );
}

#[test]
fn a_log_consumer_restarted_while_the_brokers_are_unreachable_reads_everything_after_the_heal() {
    for run in runs("log-consumer-restarted-during-faults.toml") {
        assert_everything_processed(&run);
        assert_eq!(run.analysis.counts.sent, 500);
    }
}

#[test]
fn quorum_queue_deliveries_resume_after_the_final_heal() {
    for run in runs("quorum-deliveries-after-heal.toml") {
        assert_everything_processed(&run);
        assert_eq!(run.analysis.counts.sent, 600);
    }
}

/// The hosts whose `append` carried `msg`, in history order.
fn appended_on(events: &[Event], msg: MsgId) -> Vec<&str> {
    events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Append { msgs, .. } if msgs.contains(&msg)))
        .map(|e| e.host.as_str())
        .collect()
}

fn at(events: &[Event], what: impl Fn(&Event) -> bool) -> Option<u64> {
    events.iter().find(|e| what(e)).map(|e| e.at_us)
}

/// Dropped ticks make each node of a mirrored queue declare the other down:
/// the mirror promotes itself (its own record lists it synchronised) while
/// the master carries on and confirms alone. Under `ignore` the two stay
/// apart, as RabbitMQ's partitions guide says; what the old master confirmed
/// after the split exists on its side only.
#[test]
fn under_ignore_a_false_failure_detection_leaves_two_masters() {
    for run in runs("mirrored-when-synced-false-detection.toml") {
        let events = &run.events;
        let promoted = at(events, |e| {
            e.host == "node-2" && matches!(e.kind, EventKind::Promote { .. })
        })
        .expect("node-2 takes over from a master it declared down");
        let rejoined = events.iter().any(|e| {
            e.host == "node-1"
                && e.at_us > promoted
                && matches!(
                    e.kind,
                    EventKind::BecomeFollower { .. } | EventKind::Discard { .. }
                )
        });
        assert!(
            !rejoined,
            "the old master must not join the new one under `ignore`"
        );
        assert!(
            run.analysis.counts.lost > 0,
            "the split strands confirmed messages"
        );
        for msg in &run.analysis.lost {
            assert_eq!(
                appended_on(events, *msg),
                ["node-1"],
                "{msg} should exist on the old master's side alone"
            );
        }
    }
}

/// Under `pause_minority` a master that loses sight of the majority confirms
/// what it holds once it has declared its mirrors down, and pauses at its
/// next check; the majority promotes a mirror, and the paused node, resuming,
/// rejoins that master as a mirror and discards its copy. RabbitMQ does the
/// same: a DOWN mirror no longer holds up a confirm, the pause runs after
/// the detection, and a resumed node takes the majority's queue record. The
/// model may lose those messages and no others.
#[test]
fn pause_minority_loses_only_what_a_master_confirmed_before_it_paused() {
    let ticktime = Duration::from_millis(600).as_micros() as u64;
    let mut lost = 0;
    for run in runs("mirrored-pause-minority-partitions.toml") {
        let events = &run.events;
        for msg in &run.analysis.lost {
            lost += 1;
            let acked = at(
                events,
                |e| matches!(&e.kind, EventKind::SendOk { msg: m, .. } if m == msg),
            )
            .expect("a lost message was acknowledged");
            let master = events
                .iter()
                .rev()
                .filter(|e| e.at_us <= acked)
                .find(|e| matches!(&e.kind, EventKind::Append { msgs, .. } if msgs.contains(msg)))
                .map(|e| e.host.clone())
                .expect("the confirming master appended it");
            let paused = at(events, |e| {
                e.host == master && e.at_us >= acked && matches!(e.kind, EventKind::Pause { .. })
            })
            .unwrap_or_else(|| {
                panic!(
                    "seed {}: {master} confirmed {msg} and never paused",
                    run.seed
                )
            });
            assert!(
                paused - acked <= ticktime,
                "seed {}: {master} confirmed {msg} {} us before pausing",
                run.seed,
                paused - acked
            );
            let discarded = events.iter().any(|e| {
                e.host == master
                    && e.at_us > paused
                    && matches!(&e.kind, EventKind::Discard { msgs, .. } if msgs.contains(msg))
            });
            assert!(
                discarded,
                "seed {}: {master} should discard {msg} when it rejoins",
                run.seed
            );
        }
    }
    assert!(lost > 0, "these seeds lose in the window before a pause");
}
