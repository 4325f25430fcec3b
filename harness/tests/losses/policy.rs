//! Losses by policy: what `overflow = reject-publish` tells a publisher,
//! what `max-length`, `message-ttl` and `expires` drop in the queue model,
//! what retention deletes and `auto.offset.reset` skips or refuses to skip
//! in the log model, and where each lost message's trail ends.

use broker_model::queue::PublishMode;
use std::path::Path;

use broker_model::{DropReason, EventKind, MsgId};
use harness::{runner, scenario};

use crate::common::{bundled, dropped, has, queue_scenario};

/// Under `reject-publish` a confirming publisher is nacked at the limit
/// and tries again: with enough tries every message gets in once the
/// consumer has made room; with none, the refused messages are failed
/// sends, never stored, and nothing confirmed is lost.
#[test]
fn reject_publish_nacks_the_publisher_whose_retries_get_in_or_fail() {
    let s = queue_scenario("queue-max-length-reject-publish", |_| {});
    let run = runner::run(&s, 1).unwrap();
    assert!(run.analysis.lost.is_empty(), "{:?}", run.analysis.lost);
    let refused_then_stored = (0..400).map(|seq| MsgId::new(1, seq)).any(|id| {
        let trail = harness::checker::trail(&run.events, id);
        !dropped(&trail, DropReason::Overflow).is_empty()
            && has(&trail, |k| matches!(k, EventKind::SendOk { .. }))
            && has(&trail, |k| matches!(k, EventKind::Processed { .. }))
    });
    assert!(refused_then_stored, "a refused message got in on a retry");

    let s = queue_scenario("queue-max-length-reject-publish", |c| c.retries = 0);
    let run = runner::run(&s, 1).unwrap();
    let counts = &run.analysis.counts;
    assert!(counts.failed > 0, "{counts:?}");
    assert_eq!(counts.lost, 0, "{counts:?}");
    let failed: Vec<MsgId> = run
        .events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::SendFail { msg, .. } => Some(msg),
            _ => None,
        })
        .collect();
    for id in failed {
        let trail = harness::checker::trail(&run.events, id);
        assert!(
            !dropped(&trail, DropReason::Overflow).is_empty(),
            "{trail:#?}"
        );
        assert!(
            !has(&trail, |k| matches!(k, EventKind::Append { .. })),
            "{id} was never stored: {trail:#?}"
        );
    }
}

/// Without confirms nothing tells the publisher: a message refused at the
/// limit is dropped silently, and lost.
#[test]
fn reject_publish_without_confirms_drops_the_refused_message_silently() {
    let s = queue_scenario("queue-max-length-reject-publish", |c| {
        c.publish_mode = PublishMode::FireAndForget;
    });
    let run = runner::run(&s, 1).unwrap();
    assert!(!run.analysis.lost.is_empty(), "refused messages are lost");
    for id in &run.analysis.lost {
        let trail = harness::checker::trail(&run.events, *id);
        assert!(
            !dropped(&trail, DropReason::Overflow).is_empty(),
            "{trail:#?}"
        );
        assert!(!has(&trail, |k| matches!(k, EventKind::Append { .. })));
    }
}

/// Every message `queue-message-ttl-slow-consumer` loses expired at least
/// `message-ttl` after it was stored, on every member of the quorum
/// queue, before anyone received it.
#[test]
fn ttl_loss_is_an_expiry_every_quorum_member_applied() {
    let s = scenario::load(&bundled("queue-message-ttl-slow-consumer")).unwrap();
    let run = runner::run(&s, 1).unwrap();
    assert!(!run.analysis.lost.is_empty(), "the scenario loses messages");
    for id in &run.analysis.lost {
        let trail = harness::checker::trail(&run.events, *id);
        let stored = trail
            .iter()
            .find(|e| matches!(e.kind, EventKind::Append { .. }))
            .expect("stored");
        let expired = dropped(&trail, DropReason::Expired);
        let mut hosts: Vec<&str> = expired.iter().map(|e| e.host.as_str()).collect();
        hosts.sort();
        assert_eq!(hosts, ["node-1", "node-2", "node-3"], "{trail:#?}");
        assert!(
            expired.iter().all(|e| e.at_us >= stored.at_us + 2_000_000),
            "{id} expired no sooner than its TTL: {trail:#?}"
        );
        assert!(!has(&trail, |k| matches!(k, EventKind::Receive { .. })));
    }
}

/// `queue-expires-late-consumer` loses everything confirmed: what was in
/// the queue when it expired, and what was published to it after, which
/// routed nowhere and was never stored.
#[test]
fn an_unused_queue_is_deleted_with_its_messages_and_later_publishes_route_nowhere() {
    let s = scenario::load(&bundled("queue-expires-late-consumer")).unwrap();
    let run = runner::run(&s, 1).unwrap();
    let counts = &run.analysis.counts;
    assert_eq!(counts.lost, counts.acknowledged, "{counts:?}");
    let (mut in_queue, mut unroutable) = (0, 0);
    for id in &run.analysis.lost {
        let trail = harness::checker::trail(&run.events, *id);
        let drops = dropped(&trail, DropReason::QueueExpired);
        assert_eq!(drops.len(), 1, "{trail:#?}");
        if has(&trail, |k| matches!(k, EventKind::Append { .. })) {
            in_queue += 1;
        } else {
            unroutable += 1;
        }
        assert!(drops[0].at_us >= 2_000_000, "{trail:#?}");
    }
    assert!(in_queue > 0 && unroutable > 0, "{in_queue} {unroutable}");
}

/// A failover after drop-head dropped messages does not bring them back:
/// what a mirror applied from its master's change list, or a quorum
/// member from a committed drop command, is gone from the replica that
/// takes over, and no consumer receives it afterwards.
#[test]
fn a_failover_does_not_resurrect_what_the_replicas_dropped() {
    let text = std::fs::read_to_string(bundled("queue-max-length-drop-head")).unwrap();
    let crash = "\n[[faults]]\nat = \"2s\"\naction = \"crash\"\ntarget = \"leader\"\nrestart_after = \"1s\"\n";
    let quorum = text
        .replace("queue_type = \"mirrored\"", "queue_type = \"quorum\"")
        .replace("ha-mode = \"exactly\"\nha-params = 2\n", "");
    for text in [text.clone(), quorum] {
        let s = scenario::parse(Path::new("crash.toml"), &format!("{text}{crash}")).unwrap();
        let run = runner::run(&s, 1).unwrap();
        assert!(
            run.events
                .iter()
                .any(|e| matches!(e.kind, EventKind::Fault { .. })),
            "the leader crashed"
        );
        let mut dropped_on: std::collections::BTreeMap<MsgId, (u64, usize)> = Default::default();
        for e in &run.events {
            if let EventKind::Drop {
                reason: DropReason::Overflow,
                msgs,
                ..
            } = &e.kind
            {
                for m in msgs {
                    let entry = dropped_on.entry(*m).or_insert((e.at_us, 0));
                    entry.1 += 1;
                }
            }
        }
        assert!(
            dropped_on.values().any(|(_, n)| *n >= 2),
            "replicas dropped"
        );
        for e in &run.events {
            if let EventKind::Receive { msg, .. } = e.kind {
                if let Some((at, nodes)) = dropped_on.get(&msg) {
                    assert!(
                        *nodes < 2 || e.at_us < *at,
                        "{msg} was received after two replicas dropped it"
                    );
                }
            }
        }
    }
}

/// With `auto.offset.reset = "none"`, a consumer without a valid position
/// (here a new group, with no committed offset) stops with an error instead
/// of skipping: the run cannot drain, so while the log still holds its
/// messages it is inconclusive, never a silent loss.
#[test]
fn offset_reset_none_stops_the_consumer_instead_of_skipping() {
    let mut s = scenario::load(&bundled("log-retention-longer-than-lag")).unwrap();
    let scenario::System::Log(config) = &mut s.system else {
        panic!("a log scenario")
    };
    config.auto_offset_reset = broker_model::log::OffsetReset::None;
    s.drain = scenario::Drain::Fixed(std::time::Duration::from_secs(5));
    let run = runner::run(&s, 1).unwrap();
    let stopped = run
        .events
        .iter()
        .any(|e| matches!(e.kind, EventKind::OffsetReset { to: None, .. }));
    assert!(stopped, "the consumer reported that it has no valid offset");
    assert!(run.analysis.lost.is_empty(), "{:?}", run.analysis.lost);
    assert!(
        matches!(
            run.analysis.outcome,
            reports::Outcome::Inconclusive { readable } if readable > 0
        ),
        "{:?}",
        run.analysis.outcome
    );
}

/// Every message `log-retention-slow-consumer` loses was deleted by
/// retention on the leader before the consumer read it, and the consumer
/// moved past it by resetting its offset.
#[test]
fn retention_loss_is_a_deleted_segment_the_consumer_skipped() {
    let s = scenario::load(&bundled("log-retention-slow-consumer")).unwrap();
    let run = runner::run(&s, 1).unwrap();
    assert!(!run.analysis.lost.is_empty(), "the scenario loses messages");
    assert!(run.events.iter().any(|e| matches!(
        e.kind,
        EventKind::OffsetReset {
            from: Some(_),
            to: Some(_),
            ..
        }
    )));
    for id in &run.analysis.lost {
        let trail = harness::checker::trail(&run.events, *id);
        let dropped = trail.iter().any(|e| {
            matches!(
                e.kind,
                EventKind::Drop {
                    reason: broker_model::DropReason::Retention,
                    ..
                }
            )
        });
        assert!(dropped, "{id} was deleted by retention: {trail:#?}");
        assert!(
            !trail
                .iter()
                .any(|e| matches!(e.kind, EventKind::Receive { .. })),
            "{id} was never received"
        );
    }
}

/// With `auto.offset.reset = "none"` and the group's offsets set before it
/// started (`group_offsets = "to-earliest"`), a consumer whose position
/// retention deleted (`OffsetOutOfRangeException` in Kafka's client) stops
/// reading the partition instead of jumping to the new log start: it
/// receives nothing after the error, so no retained record is skipped
/// silently: what it loses, retention deleted.
#[test]
fn offset_reset_none_stops_a_consumer_whose_position_was_deleted() {
    let mut s = scenario::load(&bundled("log-retention-slow-consumer")).unwrap();
    let scenario::System::Log(config) = &mut s.system else {
        panic!("a log scenario")
    };
    config.auto_offset_reset = broker_model::log::OffsetReset::None;
    config.group_offsets = broker_model::log::GroupOffsets::ToEarliest;
    let run = runner::run(&s, 1).unwrap();
    let stop = run
        .events
        .iter()
        .position(|e| {
            matches!(
                e.kind,
                EventKind::OffsetReset {
                    from: Some(_),
                    to: None,
                    ..
                }
            )
        })
        .expect("the consumer's position went out of range and it stopped");
    assert!(
        !run.events
            .iter()
            .any(|e| matches!(e.kind, EventKind::OffsetReset { to: Some(_), .. })),
        "no reset moved the consumer on"
    );
    let after = &run.events[stop..];
    assert!(
        !after
            .iter()
            .any(|e| matches!(e.kind, EventKind::Receive { .. })),
        "nothing is received after the error"
    );
    for id in &run.analysis.lost {
        let trail = harness::checker::trail(&run.events, *id);
        assert!(
            trail.iter().any(|e| matches!(
                e.kind,
                EventKind::Drop {
                    reason: broker_model::DropReason::Retention,
                    ..
                }
            )),
            "{id} was lost to retention, not skipped by the consumer: {trail:#?}"
        );
    }
}

/// Every message `queue-max-length-drop-head` loses, and the same
/// scenario with a classic and a quorum queue, was dropped by the length
/// limit before anyone received it, and by every node that held it: the
/// mirror drops what its master dropped, a quorum member what the leader's
/// committed drop command names.
#[test]
fn drop_head_loss_is_an_overflow_drop_on_every_node_holding_the_message() {
    use broker_model::queue::QueueType;
    for queue_type in [QueueType::Mirrored, QueueType::Classic, QueueType::Quorum] {
        let mut s = scenario::load(&bundled("queue-max-length-drop-head")).unwrap();
        let scenario::System::Queue(config) = &mut s.system else {
            panic!("a queue scenario")
        };
        config.queue_type = queue_type;
        let run = runner::run(&s, 1).unwrap();
        assert!(
            !run.analysis.lost.is_empty(),
            "{queue_type:?} loses messages"
        );
        for id in &run.analysis.lost {
            let trail = harness::checker::trail(&run.events, *id);
            let overflow = |e: &&broker_model::Event| {
                matches!(
                    e.kind,
                    EventKind::Drop {
                        reason: broker_model::DropReason::Overflow,
                        ..
                    }
                )
            };
            let holders: Vec<&str> = trail
                .iter()
                .filter(|e| matches!(e.kind, EventKind::Append { .. }))
                .map(|e| e.host.as_str())
                .collect();
            assert!(!holders.is_empty(), "{id} was stored: {trail:#?}");
            for host in holders {
                assert!(
                    trail.iter().filter(overflow).any(|e| e.host == host),
                    "{queue_type:?}: {host} dropped {id}: {trail:#?}"
                );
            }
            assert!(
                !trail
                    .iter()
                    .any(|e| matches!(e.kind, EventKind::Receive { .. })),
                "{queue_type:?}: {id} was never received"
            );
        }
    }
}
