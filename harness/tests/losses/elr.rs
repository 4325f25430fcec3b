//! KIP-966's last replica standing, run whole: without eligible leader
//! replicas the leader that lost its page cache is elected again and the
//! followers truncate to it; with them, the controller refuses it after its
//! unclean shutdown and elects a follower from the ELR.

use std::path::{Path, PathBuf};

use broker_model::{Event, EventKind, LeaderSource};
use harness::{runner, scenario};

fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.toml"))
}

fn run(name: &str) -> runner::RunOutput {
    let s = scenario::load(&bundled(name)).unwrap();
    runner::run(&s, 1).unwrap()
}

/// When broker-1 came back from its power loss: its second recovery.
fn restart_of_broker_1(events: &[Event]) -> u64 {
    events
        .iter()
        .filter(|e| e.host == "broker-1" && matches!(e.kind, EventKind::Recover { .. }))
        .nth(1)
        .expect("broker-1 restarted")
        .at_us
}

/// The elections of `p0` from `after` on that gave it a leader.
fn leaders_elected(events: &[Event], after: u64) -> Vec<&Event> {
    events
        .iter()
        .filter(|e| e.at_us >= after)
        .filter(
            |e| matches!(&e.kind, EventKind::Elect { dest, leader: Some(_), .. } if dest == "p0"),
        )
        .collect()
}

#[test]
fn without_elr_the_followers_truncate_to_the_replica_that_lost_its_page_cache() {
    let run = run("log-elr-disabled-last-replica-power-loss");
    assert!(
        !run.analysis.lost.is_empty(),
        "acknowledged records are lost"
    );
    let restart = restart_of_broker_1(&run.events);
    let elected = leaders_elected(&run.events, restart);
    let first = elected.first().expect("a leader after the restart");
    let EventKind::Elect {
        leader, unclean, ..
    } = &first.kind
    else {
        unreachable!()
    };
    assert_eq!(leader.as_deref(), Some("broker-1"), "{first:?}");
    assert!(
        !unclean,
        "the last in-sync replica is a clean choice to Kafka"
    );
    for id in &run.analysis.lost {
        let trail = harness::checker::trail(&run.events, *id);
        assert!(
            trail.iter().any(|e| e.host == "producer-1"
                && matches!(e.kind, EventKind::SendOk { .. })
                && e.at_us < restart),
            "{id} was acknowledged before the power loss: {trail:#?}"
        );
        let truncated_on: Vec<&str> = trail
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Truncate { .. }) && e.at_us > first.at_us)
            .map(|e| e.host.as_str())
            .collect();
        assert!(
            truncated_on.contains(&"broker-2") && truncated_on.contains(&"broker-3"),
            "both followers truncated {id} after broker-1's election: {trail:#?}"
        );
    }
}

#[test]
fn with_elr_the_restarted_replica_is_refused_and_a_follower_from_the_elr_leads() {
    let run = run("log-elr-enabled-last-replica-power-loss");
    assert!(run.analysis.lost.is_empty(), "{:?}", run.analysis.lost);
    let restart = restart_of_broker_1(&run.events);
    let refused = run.events.iter().find(|e| {
        e.at_us >= restart
            && matches!(&e.kind, EventKind::IsrChange { unclean_shutdown: Some(b), elr, .. }
                if b == "broker-1" && !elr.contains(&"broker-1".to_string()))
    });
    let refused = refused.expect("broker-1 left the ELR after its unclean shutdown");
    let EventKind::IsrChange { elr: eligible, .. } = &refused.kind else {
        unreachable!()
    };
    let elected = leaders_elected(&run.events, restart);
    let first = elected.first().expect("a leader after the restart");
    let EventKind::Elect { leader, from, .. } = &first.kind else {
        unreachable!()
    };
    let leader = leader.clone().expect("elected");
    assert_eq!(*from, Some(LeaderSource::Elr), "{first:?}");
    assert!(eligible.contains(&leader), "{leader} was in {eligible:?}");
    assert_ne!(leader, "broker-1");
    let acked: Vec<_> = run
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::SendOk { msg, .. } => Some(msg),
            _ => None,
        })
        .collect();
    let truncated_acked = run.events.iter().any(|e| {
        matches!(&e.kind, EventKind::Truncate { msgs, .. } if msgs.iter().any(|m| acked.contains(m)))
    });
    assert!(
        !truncated_acked,
        "no replica truncated an acknowledged message"
    );
}
