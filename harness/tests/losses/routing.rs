//! Losses by routing in the queue model: what an exchange does with a
//! message no binding matches, what `mandatory` and an alternate exchange
//! change, and where each lost message's trail ends.

use broker_model::{DropReason, Event, EventKind, MsgId};
use harness::checker::Outcome;
use harness::{runner, scenario};

use crate::common::{bundled, dropped, has, queue_scenario};

fn ids(run: &runner::RunOutput) -> impl Iterator<Item = MsgId> + '_ {
    let sent = run.analysis.counts.sent as u32;
    (0..sent).map(|seq| MsgId::new(1, seq))
}

/// Every message `queue-unroutable-confirm` loses was confirmed to its
/// publisher and dropped by the exchange as unroutable, while the binding
/// was gone; no queue ever held it.
#[test]
fn every_unroutable_loss_was_confirmed_and_dropped_by_the_exchange() {
    let s = scenario::load(&bundled("queue-unroutable-confirm")).unwrap();
    let run = runner::run(&s, 1).unwrap();
    assert!(!run.analysis.lost.is_empty(), "the scenario loses messages");
    let unbound = run
        .events
        .iter()
        .find(|e| matches!(&e.kind, EventKind::Fault { action, .. } if action == "unbind"))
        .expect("the binding was removed");
    for id in &run.analysis.lost {
        let trail = harness::checker::trail(&run.events, *id);
        let drops = dropped(&trail, DropReason::Unroutable);
        assert_eq!(drops.len(), 1, "{trail:#?}");
        assert!(drops[0].at_us >= unbound.at_us, "{trail:#?}");
        assert!(matches!(&drops[0].kind, EventKind::Drop { dest, .. } if dest == "orders"));
        assert!(has(&trail, |k| matches!(k, EventKind::SendOk { .. })));
        assert!(!has(&trail, |k| matches!(k, EventKind::Append { .. })));
    }
}

/// With `mandatory` a message that routes nowhere comes back before its
/// confirm: the publisher retries it, and once the binding is back it
/// reaches the queue and is processed.
#[test]
fn mandatory_returns_what_routes_nowhere_and_a_retry_gets_it_in() {
    let s = scenario::load(&bundled("queue-unroutable-mandatory")).unwrap();
    let run = runner::run(&s, 1).unwrap();
    assert!(run.analysis.lost.is_empty(), "{:?}", run.analysis.lost);
    let returned_then_stored = ids(&run).any(|id| {
        let trail = harness::checker::trail(&run.events, id);
        !dropped(&trail, DropReason::Unroutable).is_empty()
            && has(&trail, |k| matches!(k, EventKind::Append { .. }))
            && has(&trail, |k| matches!(k, EventKind::Processed { .. }))
    });
    assert!(returned_then_stored, "a returned message got in on a retry");
}

/// A publisher that gives up on a returned message records a failed send,
/// never a confirmed one: nothing confirmed is lost, and no failed send was
/// stored anywhere.
#[test]
fn a_message_returned_on_every_attempt_is_a_failed_send() {
    let s = queue_scenario("queue-unroutable-mandatory", |c| c.retries = 0);
    let run = runner::run(&s, 1).unwrap();
    let counts = &run.analysis.counts;
    assert_eq!(counts.lost, 0, "{counts:?}");
    let mut returned = 0;
    for id in ids(&run) {
        let trail = harness::checker::trail(&run.events, id);
        if has(&trail, |k| matches!(k, EventKind::SendFail { .. })) {
            assert!(
                !has(&trail, |k| matches!(k, EventKind::Append { .. })),
                "{trail:#?}"
            );
            returned += usize::from(!dropped(&trail, DropReason::Unroutable).is_empty());
        }
    }
    assert!(returned > 50, "{returned} returned messages failed");
}

/// With an alternate exchange nothing is dropped: what the missing
/// binding would have dropped reaches q1 through the alternate exchange
/// and is processed from there.
#[test]
fn the_alternate_exchange_takes_what_the_missing_binding_would_drop() {
    let s = scenario::load(&bundled("queue-alternate-exchange")).unwrap();
    let run = runner::run(&s, 1).unwrap();
    assert!(run.analysis.lost.is_empty(), "{:?}", run.analysis.lost);
    assert!(!run.events.iter().any(|e| matches!(
        e.kind,
        EventKind::Drop {
            reason: DropReason::Unroutable,
            ..
        }
    )));
    let via_alternate = run
        .events
        .iter()
        .filter(|e| matches!(&e.kind, EventKind::Receive { dest, .. } if dest == "q1"))
        .count();
    assert!(via_alternate > 50, "{via_alternate} received from q1");
}

fn dead_lettered(trail: &[Event], why: DropReason) -> bool {
    trail.iter().any(
        |e| matches!(&e.kind, EventKind::DeadLettered { reason, dest, .. } if *reason == why && dest == "q0"),
    )
}

fn received_from(trail: &[Event], queue: &str) -> bool {
    trail
        .iter()
        .any(|e| matches!(&e.kind, EventKind::Receive { dest, .. } if dest == queue))
}

/// Messages that expire in q0 before the consumer starts are republished
/// to the dead-letter exchange and processed from the dead-letter queue.
#[test]
fn expired_messages_are_processed_from_the_dead_letter_queue() {
    let s = scenario::load(&bundled("queue-message-ttl-dead-letter")).unwrap();
    let run = runner::run(&s, 1).unwrap();
    assert!(run.analysis.lost.is_empty(), "{:?}", run.analysis.lost);
    let rescued = ids(&run)
        .filter(|id| {
            let trail = harness::checker::trail(&run.events, *id);
            dead_lettered(&trail, DropReason::Expired)
                && received_from(&trail, "q1")
                && has(&trail, |k| matches!(k, EventKind::Processed { .. }))
        })
        .count();
    assert!(rescued > 20, "{rescued} expired messages processed from q1");
}

/// At-most-once dead-lettering does not wait for the dead-letter queue:
/// every message lost while q1's node is down was confirmed, expired in
/// q0, was dead-lettered, and failed to reach q1.
#[test]
fn at_most_once_dead_lettering_loses_what_an_unreachable_queue_cannot_take() {
    let s = scenario::load(&bundled("queue-message-ttl-dead-letter-unavailable")).unwrap();
    let run = runner::run(&s, 1).unwrap();
    assert!(!run.analysis.lost.is_empty(), "the scenario loses messages");
    for id in &run.analysis.lost {
        let trail = harness::checker::trail(&run.events, *id);
        assert!(has(&trail, |k| matches!(k, EventKind::SendOk { .. })));
        assert!(dead_lettered(&trail, DropReason::Expired), "{trail:#?}");
        let failed = dropped(&trail, DropReason::DeadLetterFailed);
        assert!(
            failed
                .iter()
                .any(|e| matches!(&e.kind, EventKind::Drop { dest, .. } if dest == "q1")),
            "{trail:#?}"
        );
    }
}

/// A dead-letter exchange to which nothing is bound routes every dead
/// letter nowhere: what expires is lost, each with its failed dead-letter.
#[test]
fn a_dead_letter_exchange_with_nothing_bound_loses_what_expires() {
    let s = queue_scenario("queue-message-ttl-dead-letter", |c| {
        c.topology.bindings.retain(|b| b.exchange != "dlx");
    });
    let run = runner::run(&s, 1).unwrap();
    assert!(!run.analysis.lost.is_empty(), "expired messages are lost");
    for id in &run.analysis.lost {
        let trail = harness::checker::trail(&run.events, *id);
        assert!(dead_lettered(&trail, DropReason::Expired), "{trail:#?}");
        assert_eq!(dropped(&trail, DropReason::DeadLetterFailed).len(), 1);
    }
}

/// Under `reject-publish-dlx` a publish at the limit is nacked, as under
/// `reject-publish`, and the refused message is dead-lettered too.
#[test]
fn reject_publish_dlx_nacks_the_publisher_and_dead_letters_the_message() {
    let s = queue_scenario("queue-message-ttl-dead-letter", |c| {
        c.limits.message_ttl = None;
        c.limits.max_length = Some(20);
        c.limits.overflow = broker_model::queue::Overflow::RejectPublishDlx;
    });
    let run = runner::run(&s, 1).unwrap();
    let refused_and_dead_lettered = ids(&run).any(|id| {
        let trail = harness::checker::trail(&run.events, id);
        dead_lettered(&trail, DropReason::Overflow)
            && received_from(&trail, "q1")
            && !has(
                &trail,
                |k| matches!(k, EventKind::Receive { dest, .. } if dest == "q0"),
            )
    });
    assert!(refused_and_dead_lettered);
}

/// The bundled `queue-dead-letter-at-least-once`, its file text changed
/// by `edit`.
fn at_least_once(edit: impl FnOnce(String) -> String) -> scenario::Scenario {
    let path = bundled("queue-dead-letter-at-least-once");
    let text = std::fs::read_to_string(&path).unwrap();
    scenario::parse(&path, &edit(text)).unwrap()
}

/// When the first event of `trail` that `kind` accepts happened, in µs.
fn first_at(trail: &[Event], kind: impl Fn(&Event) -> bool) -> Option<u64> {
    trail.iter().find(|e| kind(e)).map(|e| e.at_us)
}

fn appended_to(e: &Event, queue: &str) -> bool {
    matches!(&e.kind, EventKind::Append { dest, .. } if dest == queue)
}

/// The cure of `queue-dead-letter-at-most-once-target-down`: what expires
/// in q0 while q1's only node is down (0.5 s to 2 s) is kept in q0 and
/// sent again until q1 confirms it; every dead letter is processed from
/// q1, none fails.
#[test]
fn at_least_once_dead_lettering_gets_every_dead_letter_to_a_queue_that_was_down() {
    let s = scenario::load(&bundled("queue-dead-letter-at-least-once")).unwrap();
    let run = runner::run(&s, 1).unwrap();
    assert!(run.analysis.lost.is_empty(), "{:?}", run.analysis.lost);
    let mut while_down = 0;
    for id in ids(&run) {
        let trail = harness::checker::trail(&run.events, id);
        if !dead_lettered(&trail, DropReason::Expired) {
            continue;
        }
        assert!(run.analysis.dead_lettered.contains(&id), "{trail:#?}");
        assert!(received_from(&trail, "q1"), "{trail:#?}");
        assert!(dropped(&trail, DropReason::DeadLetterFailed).is_empty());
        let lettered = first_at(&trail, |e| matches!(e.kind, EventKind::DeadLettered { .. }));
        if lettered.is_some_and(|at| at < 2_000_000) {
            while_down += 1;
        }
    }
    assert!(
        while_down > 20,
        "{while_down} dead-lettered while q1 was down"
    );
}

/// The dead letters live in q0's Raft state, not in its leader's memory:
/// q0's leader (node-1) dead-letters while the dead-letter binding is gone,
/// then crashes; the new leader's worker sends them once the binding is
/// back, while node-1 is still down, and none is lost.
#[test]
fn a_new_leader_sends_the_dead_letters_the_old_one_kept() {
    let s = at_least_once(|text| {
        let text = text.replace("x-quorum-initial-group-size = 1\n", "");
        let faults = text.find("[[faults]]").unwrap();
        text[..faults].to_string()
            + "[[faults]]\nat = \"0s\"\naction = \"unbind\"\nexchange = \"dlx\"\nqueue = \"q1\"\n\
               duration = \"3s\"\n\n[[faults]]\nat = \"2200ms\"\naction = \"crash\"\n\
               target = \"node-1\"\nrestart_after = \"2600ms\"\n"
    });
    let run = runner::run(&s, 1).unwrap();
    assert!(run.analysis.lost.is_empty(), "{:?}", run.analysis.lost);
    let mut resent = 0;
    for id in ids(&run) {
        let trail = harness::checker::trail(&run.events, id);
        let by_old_leader = trail
            .iter()
            .any(|e| e.host == "node-1" && matches!(e.kind, EventKind::DeadLettered { .. }));
        if !by_old_leader {
            continue;
        }
        let appended = first_at(&trail, |e| appended_to(e, "q1")).expect("reached q1");
        assert!(
            (2_200_000..4_800_000).contains(&appended),
            "appended to q1 at {appended} µs, node-1 is down from 2.2 s to 4.8 s"
        );
        resent += 1;
    }
    assert!(resent > 20, "{resent} dead letters sent by the new leader");
}

/// A dead letter that routes nowhere is never dropped: it stays in q0's
/// discards, tried again and again. Nobody processes it, but the broker
/// still holds it (an operator who binds a queue gets it), so the drain
/// waits for it, gives up, and the checker counts it unconsumed, not lost.
#[test]
fn an_at_least_once_dead_letter_that_never_routes_stays_in_its_queue_and_is_never_processed() {
    let s = at_least_once(|text| text.replace("  { exchange = \"dlx\", queue = \"q1\" },\n", ""));
    let run = runner::run(&s, 1).unwrap();
    let kept = run.analysis.unconsumed.len() as u64;
    assert!(kept > 0, "expired messages are kept");
    assert!(
        matches!(run.analysis.outcome, Outcome::Inconclusive { readable } if readable >= kept),
        "{:?}",
        run.analysis.outcome
    );
    assert!(run.analysis.lost.is_empty(), "{:?}", run.analysis.lost);
    for id in &run.analysis.unconsumed {
        let trail = harness::checker::trail(&run.events, *id);
        assert!(dead_lettered(&trail, DropReason::Expired), "{trail:#?}");
        assert!(
            !has(&trail, |k| matches!(k, EventKind::Drop { .. })),
            "{trail:#?}"
        );
        assert!(!received_from(&trail, "q1"));
    }
}

/// The dead letters q0 keeps count toward its `max-length`, as rabbit_fifo
/// counts them: with nothing bound to the dead-letter exchange and a
/// 100 ms TTL, 20 expired messages fill q0, which refuses every later
/// publish (a `basic.nack`) though it holds no ready message.
#[test]
fn dead_letters_kept_at_least_once_count_toward_the_length_limit() {
    let s = at_least_once(|text| {
        text.replace("  { exchange = \"dlx\", queue = \"q1\" },\n", "")
            .replace("message-ttl = 1500", "message-ttl = 100")
            .replace("max-length = 10000", "max-length = 20")
    });
    let run = runner::run(&s, 1).unwrap();
    assert!(run.analysis.counts.failed > 0, "{:?}", run.analysis.counts);
    let refused = run.events.iter().any(|e| {
        matches!(&e.kind, EventKind::Drop { dest, reason: DropReason::Overflow, .. } if dest == "q0")
    });
    assert!(refused, "q0 refused publishes for its length limit");
}
