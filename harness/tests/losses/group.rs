//! Losses by consumer-group rebalance in the log model: what auto-commit
//! and commit-before-processing lose when a partition moves to another
//! member, what committing after processing (and on revoke) keeps, and the
//! group surviving its coordinator's crash.

use std::path::{Path, PathBuf};

use broker_model::{Event, EventKind};
use harness::{runner, scenario, suite};

fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.toml"))
}

fn text(name: &str) -> String {
    std::fs::read_to_string(bundled(name)).unwrap()
}

fn parse(text: &str) -> scenario::Scenario {
    scenario::parse(Path::new("group.toml"), text).unwrap()
}

fn holds(partitions: &[String], dest: &str) -> bool {
    partitions.iter().any(|p| p == dest)
}

/// Every lost message's lifecycle, as the report draws it, shows a
/// consumer receiving it, a commit of its partition past it, and its
/// partition assigned afterwards to a member that resumed after it.
fn losses_are_moved_past(name: &str) {
    let s = scenario::load(&bundled(name)).unwrap();
    let (report, runs) = suite::run_seeds(&s, &[1]).unwrap();
    let (seed, events) = (&report.seeds[0], &runs[0].events);
    assert!(!seed.lost.is_empty(), "{name} loses");
    for lost in seed.lost.iter().filter(|l| !l.trail.is_empty()) {
        let trail: &[Event] = &lost.trail;
        let (received, host, dest, offset) = trail
            .iter()
            .find_map(|e| match &e.kind {
                EventKind::Receive {
                    dest,
                    offset: Some(o),
                    ..
                } => Some((e.at_us, e.host.clone(), dest.clone(), *o)),
                _ => None,
            })
            .unwrap_or_else(|| panic!("{} was received: {trail:#?}", lost.id));
        assert!(
            trail.iter().any(|e| matches!(&e.kind,
                EventKind::Commit { dest: d, offset: o } if *d == dest && *o > offset)),
            "a commit passed {} unprocessed: {trail:#?}",
            lost.id
        );
        assert!(!trail
            .iter()
            .any(|e| matches!(e.kind, EventKind::Processed { .. })));
        let assign = trail
            .iter()
            .find(|e| {
                matches!(&e.kind, EventKind::Assign { partitions, .. }
                if holds(partitions, &dest) && e.at_us > received)
            })
            .unwrap_or_else(|| panic!("{dest} moved after {host} got {}", lost.id));
        let resumed = events.iter().find_map(|e| match &e.kind {
            EventKind::Receive {
                dest: d,
                offset: Some(o),
                ..
            } if e.host == assign.host && *d == dest && e.at_us > assign.at_us => Some(*o),
            _ => None,
        });
        if let Some(o) = resumed {
            assert!(
                o > offset,
                "{} resumed {dest} at {o}, after {offset}",
                assign.host
            );
        }
    }
}

#[test]
fn an_auto_commit_loss_is_a_record_committed_past_and_then_moved() {
    losses_are_moved_past("log-group-autocommit-rebalance");
}

#[test]
fn a_commit_before_processing_loss_is_a_record_committed_past_and_then_moved() {
    losses_are_moved_past("log-group-commit-before-processing");
}

/// Commit after processing and on revoke: the crash and the rebalances
/// lose nothing; the new owner processes again what was processed but not
/// yet committed.
#[test]
fn committing_after_processing_and_on_revoke_loses_nothing_but_may_duplicate() {
    let s = scenario::load(&bundled("log-group-commit-after-processing")).unwrap();
    let (report, runs) = suite::run_seeds(&s, &[1, 2, 3, 4, 5]).unwrap();
    assert_eq!(report.totals.lost, 0, "{:?}", report.totals);
    assert!(report.totals.duplicated > 0, "{:?}", report.totals);
    for run in &runs {
        let revokes = run
            .events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Revoke { lost: false, .. }))
            .count();
        assert!(revokes > 0, "members gave partitions up in an orderly way");
    }
}

/// A member whose application holds a record longer than
/// `max.poll.interval.ms` leaves the group by itself, with no fault: its
/// partitions are lost to it (no commit) and move on. With auto-commit that
/// loses what it had fetched; committing after processing does not.
#[test]
fn a_consumer_slower_than_max_poll_interval_leaves_and_only_auto_commit_loses() {
    let slow = text("log-group-autocommit-rebalance");
    let slow = slow[..slow.find("[[faults]]").unwrap()]
        .replace("processing_time = \"30ms\"", "processing_time = \"60ms\"")
        .replace(
            "\"max.poll.records\" = 50",
            "\"max.poll.records\" = 50\n\"max.poll.interval.ms\" = 1500",
        );
    let cure = slow.replace(
        "\"enable.auto.commit\" = true\n\"auto.commit.interval.ms\" = 200",
        "\"enable.auto.commit\" = false\n\"commit.on.revoke\" = true",
    );
    for (text, loses) in [(slow, true), (cure, false)] {
        let run = runner::run(&parse(&text), 1).unwrap();
        assert!(!run
            .events
            .iter()
            .any(|e| matches!(e.kind, EventKind::Fault { .. })));
        assert!(
            run.events
                .iter()
                .any(|e| matches!(e.kind, EventKind::Revoke { lost: true, .. })),
            "a member left past max.poll.interval.ms"
        );
        assert_eq!(
            !run.analysis.lost.is_empty(),
            loses,
            "{:?}",
            run.analysis.counts
        );
    }
}

/// The coordinator is the leader of the offsets partition: when its broker
/// crashes, the partition's new leader coordinates, the members find their
/// heartbeats refused and rebuild the group by joining again, and nothing
/// committed after processing is lost.
#[test]
fn a_coordinator_crash_moves_the_group_to_the_new_offsets_leader() {
    let text = text("log-group-commit-after-processing");
    let text = text[..text.find("[[faults]]").unwrap()].to_string()
        + "[[faults]]\nat = \"2s\"\naction = \"crash\"\ntarget = \"broker-3\"\nrestart_after = \"2s\"\n";
    let run = runner::run(&parse(&text), 1).unwrap();
    assert!(run.analysis.lost.is_empty(), "{:?}", run.analysis.lost);
    let rebalances: Vec<&Event> = run
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Rebalance { .. }))
        .collect();
    assert_eq!(rebalances[0].host, "broker-3", "the first coordinator");
    let moved = rebalances
        .iter()
        .find(|e| e.host != "broker-3")
        .expect("another broker coordinates after the crash");
    assert!(moved.at_us > 2_000_000);
    assert!(run
        .events
        .iter()
        .any(|e| e.at_us > moved.at_us && matches!(e.kind, EventKind::Assign { .. })));
}

/// With `cooperative-sticky` a member keeps its partitions through a
/// rebalance and revokes only those that move, which reach their new owner
/// in a second rebalance; committing after processing still loses nothing.
#[test]
fn cooperative_sticky_revokes_only_what_moves_and_the_cure_still_holds() {
    let text = text("log-group-commit-after-processing").replace(
        "\"partition.assignment.strategy\" = \"range\"",
        "\"partition.assignment.strategy\" = \"cooperative-sticky\"",
    );
    let run = runner::run(&parse(&text), 1).unwrap();
    assert!(run.analysis.lost.is_empty(), "{:?}", run.analysis.lost);
    let mut held: std::collections::BTreeMap<&str, usize> = Default::default();
    let mut partial = 0;
    for e in &run.events {
        match &e.kind {
            EventKind::Assign { partitions, .. } => {
                held.insert(e.host.as_str(), partitions.len());
            }
            EventKind::Revoke {
                partitions,
                lost: false,
                ..
            } => {
                let before = held.get(e.host.as_str()).copied().unwrap_or(0);
                assert!(partitions.len() < before, "{e:?} gives up only some");
                partial += 1;
            }
            _ => {}
        }
    }
    assert!(partial > 0, "partitions moved");
    let rebalances = run
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Rebalance { .. }))
        .count();
    assert!(rebalances >= 2 * partial, "each move takes two rebalances");
}
