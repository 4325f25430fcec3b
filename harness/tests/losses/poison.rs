//! Poison messages in the queue model: a consumer that rejects them with
//! `requeue`, a quorum queue whose `delivery-limit` counts each return in
//! its Raft log and drops the message past the limit (or dead-letters it,
//! with a dead-letter exchange), and the count surviving a change of
//! leader.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use broker_model::{DropReason, Event, EventKind, MsgId};
use harness::checker::{trail, Outcome};
use harness::fault::{Action, Fault, Selector, Target};
use harness::{runner, scenario};

/// The delivery limit of the bundled scenario.
const LIMIT: usize = 3;

fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.toml"))
}

fn rejections(trail: &[Event]) -> Vec<&Event> {
    trail
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Reject { requeue: true, .. }))
        .collect()
}

fn limit_drops(trail: &[Event]) -> Vec<&Event> {
    trail
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::Drop {
                    reason: DropReason::DeliveryLimit,
                    ..
                }
            )
        })
        .collect()
}

/// Every message lost under `delivery-limit = 3` was confirmed, rejected
/// by the consumer four times (the limit and one more), and dropped by
/// the queue for its delivery limit after the last rejection; every other
/// message was processed.
#[test]
fn every_poison_loss_was_confirmed_rejected_one_time_more_than_the_limit_and_dropped() {
    let s = scenario::load(&bundled("queue-poison-delivery-limit")).unwrap();
    for seed in 1..=2 {
        let run = runner::run(&s, seed).unwrap();
        let lost = &run.analysis.lost;
        assert!(!lost.is_empty(), "seed {seed}: poison messages are lost");
        for id in lost {
            let t = trail(&run.events, *id);
            assert!(
                t.iter().any(|e| matches!(e.kind, EventKind::SendOk { .. })),
                "{id} was confirmed: {t:#?}"
            );
            let rejected = rejections(&t);
            assert_eq!(rejected.len(), LIMIT + 1, "{id}: {t:#?}");
            let drops = limit_drops(&t);
            assert!(!drops.is_empty(), "{id} has a delivery_limit drop: {t:#?}");
            let last_reject = rejected.last().unwrap().at_us;
            assert!(drops.iter().all(|d| d.at_us >= last_reject), "{t:#?}");
            assert!(
                !t.iter()
                    .any(|e| matches!(e.kind, EventKind::Processed { .. })),
                "{id} was never processed"
            );
        }
        let dropped: Vec<MsgId> = run
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Drop {
                    reason: DropReason::DeliveryLimit,
                    msgs,
                    ..
                } => Some(msgs.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        assert!(
            lost.iter().all(|id| dropped.contains(id)),
            "every loss is a drop"
        );
        assert_eq!(run.analysis.counts.duplicated, 0);
    }
}

/// With a `dead-letter-exchange` bound to a consumed queue, the messages
/// the delivery-limit scenario loses (the poison ones: they follow from
/// the message ids alone) are each rejected four times, dead-lettered with
/// reason `delivery_limit` after the last rejection, and processed from the
/// dead-letter queue; nothing is lost.
#[test]
fn every_poison_message_is_dead_lettered_for_its_delivery_limit_and_processed_from_the_dead_letter_queue(
) {
    let loss = scenario::load(&bundled("queue-poison-delivery-limit")).unwrap();
    let cure = scenario::load(&bundled("queue-poison-dead-letter")).unwrap();
    for seed in 1..=2 {
        let poison = runner::run(&loss, seed).unwrap().analysis.lost;
        assert!(!poison.is_empty());
        let run = runner::run(&cure, seed).unwrap();
        assert!(run.analysis.lost.is_empty(), "{:?}", run.analysis.lost);
        assert_eq!(run.analysis.dead_lettered, poison, "seed {seed}");
        for id in &poison {
            let t = trail(&run.events, *id);
            let rejected = rejections(&t);
            assert_eq!(rejected.len(), LIMIT + 1, "{id}: {t:#?}");
            let last_reject = rejected.last().unwrap().at_us;
            let dead_lettered_at = t
                .iter()
                .find(|e| {
                    matches!(
                        e.kind,
                        EventKind::DeadLettered {
                            reason: DropReason::DeliveryLimit,
                            ..
                        }
                    )
                })
                .map(|e| e.at_us)
                .unwrap_or_else(|| panic!("{id} dead-lettered for its limit: {t:#?}"));
            assert!(dead_lettered_at >= last_reject, "{t:#?}");
            let processed: Vec<&Event> = t
                .iter()
                .filter(|e| matches!(e.kind, EventKind::Processed { .. }))
                .collect();
            assert_eq!(processed.len(), 1, "{t:#?}");
            assert!(
                matches!(
                    processed[0].kind,
                    EventKind::Processed {
                        dead_lettered: true,
                        ..
                    }
                ),
                "{t:#?}"
            );
            assert!(processed[0].at_us > dead_lettered_at);
        }
        assert_eq!(run.analysis.counts.duplicated, 0);
    }
}

/// Without a delivery limit the queue delivers a poison message again and
/// again: the run cannot drain it, and says so (inconclusive) rather than
/// calling it lost or processed.
#[test]
fn without_a_delivery_limit_a_poison_message_is_redelivered_forever_and_the_run_is_inconclusive() {
    let mut s = scenario::load(&bundled("queue-poison-delivery-limit")).unwrap();
    let scenario::System::Queue(config) = &mut s.system else {
        panic!("a queue scenario")
    };
    config.limits.delivery_limit = None;
    let run = runner::run(&s, 1).unwrap();
    assert!(
        matches!(run.analysis.outcome, Outcome::Inconclusive { .. }),
        "{:?}",
        run.analysis.outcome
    );
    assert!(run.analysis.lost.is_empty());
    let poison = run.analysis.unconsumed.first().expect("a poison message");
    let t = trail(&run.events, *poison);
    assert!(rejections(&t).len() > LIMIT + 1, "{t:#?}");
    assert!(limit_drops(&t).is_empty());
}

/// The leader's node crashes while poison messages are being rejected. A
/// new leader knows each message's returns from the Raft log: a message
/// rejected before and after the change is dropped once the returns
/// committed in both terms go over the limit, not after the limit counted
/// again from zero. (A rejection the old leader had not committed when it
/// crashed is not counted: at most one per message.)
#[test]
fn the_delivery_count_survives_a_change_of_leader() {
    let mut s = scenario::load(&bundled("queue-poison-delivery-limit")).unwrap();
    let sel = Selector {
        targets: vec![Target::Leader],
        dest: "q0".into(),
    };
    s.faults = vec![Fault {
        at: Duration::from_millis(1500),
        trigger: None,
        action: Action::Crash {
            target: sel,
            restart_after: Some(Duration::from_secs(1)),
        },
    }];
    let mut straddling = 0;
    for seed in 1..=3 {
        let run = runner::run(&s, seed).unwrap();
        let crash_at = run
            .events
            .iter()
            .find(|e| matches!(e.kind, EventKind::Fault { .. }))
            .map(|e| e.at_us)
            .expect("the crash fired");
        let mut per_message: BTreeMap<MsgId, (usize, usize)> = BTreeMap::new();
        for e in &run.events {
            if let EventKind::Reject { msg, .. } = e.kind {
                let c = per_message.entry(msg).or_default();
                if e.at_us < crash_at {
                    c.0 += 1;
                } else {
                    c.1 += 1;
                }
            }
        }
        for (id, (before, after)) in per_message {
            let t = trail(&run.events, id);
            if limit_drops(&t).is_empty() || before < 2 || after == 0 {
                continue;
            }
            straddling += 1;
            assert!(
                before + after <= LIMIT + 2,
                "{id}: {before} rejections before the crash and {after} after: {t:#?}"
            );
        }
    }
    assert!(
        straddling > 0,
        "some poison message was rejected twice before the crash and dropped after it"
    );
}

/// A consumer that dies holding deliveries returns them too: with
/// `delivery-limit = 0` on a quorum queue, the messages the crashed
/// consumer held unacknowledged are dropped when its connection is closed,
/// though none of them is poison. The same crash with no limit loses
/// nothing.
#[test]
fn deliveries_held_by_a_consumer_that_died_count_as_returned() {
    let mut s = scenario::load(&bundled("queue-manual-ack-consumer-crash")).unwrap();
    let scenario::System::Queue(config) = &mut s.system else {
        panic!("a queue scenario")
    };
    config.queue_type = broker_model::queue::QueueType::Quorum;
    let run = runner::run(&s, 1).unwrap();
    assert!(run.analysis.lost.is_empty(), "{:?}", run.analysis.lost);

    let scenario::System::Queue(config) = &mut s.system else {
        unreachable!()
    };
    config.limits.delivery_limit = Some(0);
    let run = runner::run(&s, 1).unwrap();
    assert!(!run.analysis.lost.is_empty());
    for id in &run.analysis.lost {
        let t = trail(&run.events, *id);
        assert!(rejections(&t).is_empty(), "{id} was never rejected");
        assert!(!limit_drops(&t).is_empty(), "{t:#?}");
        assert!(
            t.iter()
                .any(|e| matches!(e.kind, EventKind::Receive { .. })),
            "{id} was held by the consumer: {t:#?}"
        );
    }
}

/// With `poison_action = "crash"` the consumer's process dies on a poison
/// message instead of rejecting it. The broker returns everything the dead
/// connection held, so each crash counts as a return of every message in
/// the prefetch window: a message is dropped at its fourth return, whoever
/// crashed, and messages that were merely in the window with poison go
/// over the limit too, never having failed themselves.
#[test]
fn a_consumer_crashing_on_poison_takes_the_delivery_counts_of_its_whole_window_up() {
    let mut s = scenario::load(&bundled("queue-poison-delivery-limit")).unwrap();
    s.workload.poison_action = broker_model::PoisonAction::Crash;
    let run = runner::run(&s, 1).unwrap();
    let crashes = |t: &[Event]| {
        t.iter()
            .filter(|e| matches!(e.kind, EventKind::Crash { .. }))
            .count()
    };
    let returns = |t: &[Event]| {
        t.iter()
            .filter(|e| matches!(e.kind, EventKind::Requeue { .. }))
            .count()
    };
    let mut innocent = 0;
    for id in &run.analysis.lost {
        let t = trail(&run.events, *id);
        assert!(!limit_drops(&t).is_empty(), "{t:#?}");
        assert!(rejections(&t).is_empty(), "{id} was never rejected");
        assert_eq!(returns(&t), LIMIT + 1, "{t:#?}");
        assert!(crashes(&t) <= LIMIT + 1, "{t:#?}");
        if crashes(&t) == 0 {
            innocent += 1;
        }
    }
    assert!(
        innocent > 0,
        "some message was dropped for its window's crashes"
    );
}
