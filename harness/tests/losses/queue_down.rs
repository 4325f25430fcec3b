//! Losses to a classic queue whose node is down: a publish routed while a
//! node knows the queue's node is down reaches no queue, is confirmed and
//! dropped (`queue_down`), unless `mandatory` returns it for a retry.

use broker_model::queue::{Binding, Exchange, ExchangeType};
use broker_model::{DropReason, EventKind, MsgId};
use harness::{runner, scenario};

use crate::common::{bundled, dropped, has, queue_scenario};

/// Every message `queue-durable-node-crash` loses was confirmed to its
/// publisher and dropped for `q0` by a node other than `q0`'s, after the
/// crash and before the node came back; no queue ever held it.
#[test]
fn every_message_lost_while_the_queues_node_was_down_was_confirmed_and_dropped() {
    let s = scenario::load(&bundled("queue-durable-node-crash")).unwrap();
    let run = runner::run(&s, 1).unwrap();
    assert!(!run.analysis.lost.is_empty(), "the scenario loses messages");
    let at = |kind: &str| {
        run.events
            .iter()
            .find(|e| match &e.kind {
                EventKind::Fault { action, .. } => action == kind,
                EventKind::Heal { detail, .. } => detail == kind,
                _ => false,
            })
            .map(|e| e.at_us)
            .unwrap_or_else(|| panic!("no {kind} in the run"))
    };
    let (crashed, restarted) = (at("crash"), at("restart"));
    for id in &run.analysis.lost {
        let trail = harness::checker::trail(&run.events, *id);
        let drops = dropped(&trail, DropReason::QueueDown);
        assert!(!drops.is_empty(), "{trail:#?}");
        for d in &drops {
            assert!(d.at_us > crashed && d.at_us < restarted, "{trail:#?}");
            assert_ne!(d.host, "node-1", "{trail:#?}");
            assert!(matches!(&d.kind, EventKind::Drop { dest, .. } if dest == "q0"));
        }
        assert!(has(&trail, |k| matches!(k, EventKind::SendOk { .. })));
        assert!(!has(&trail, |k| matches!(k, EventKind::Append { .. })));
    }
}

/// With `mandatory` a message for the down queue comes back before its
/// confirm: the publisher retries it, and once the queue's node is back it
/// reaches the queue and is processed.
#[test]
fn mandatory_returns_what_a_down_queue_cannot_take_and_a_retry_gets_it_in() {
    let s = scenario::load(&bundled("queue-durable-node-crash-mandatory")).unwrap();
    let run = runner::run(&s, 1).unwrap();
    assert!(run.analysis.lost.is_empty(), "{:?}", run.analysis.lost);
    let sent = run.analysis.counts.sent as u32;
    let got_in = (0..sent).any(|seq| {
        let trail = harness::checker::trail(&run.events, MsgId::new(1, seq));
        !dropped(&trail, DropReason::QueueDown).is_empty()
            && has(&trail, |k| matches!(k, EventKind::Append { .. }))
            && has(&trail, |k| matches!(k, EventKind::Processed { .. }))
    });
    assert!(got_in, "a returned message got in on a retry");
}

/// A message a fanout exchange routes to two classic queues, one of them on
/// the crashed node, goes to the live one only: dropped for the down queue,
/// stored in the other, confirmed, and processed from there.
#[test]
fn a_message_routed_to_a_down_queue_and_a_live_one_goes_to_the_live_one() {
    let s = queue_scenario("queue-durable-node-crash", |c| {
        c.queues = 2;
        c.topology.exchanges = vec![Exchange {
            name: "all".into(),
            kind: ExchangeType::Fanout,
            alternate_exchange: None,
        }];
        c.topology.bindings = (0..2)
            .map(|queue| Binding {
                exchange: "all".into(),
                queue,
                routing_key: String::new(),
            })
            .collect();
        c.topology.exchange = Some("all".into());
    });
    let run = runner::run(&s, 1).unwrap();
    let split = run.events.iter().filter_map(|e| match &e.kind {
        EventKind::Drop {
            reason: DropReason::QueueDown,
            dest,
            msgs,
        } if dest == "q0" => Some(msgs[0]),
        _ => None,
    });
    let mut kept = 0;
    for id in split {
        let trail = harness::checker::trail(&run.events, id);
        assert!(dropped(&trail, DropReason::Unroutable).is_empty());
        if has(&trail, |k| matches!(k, EventKind::SendOk { .. })) {
            assert!(
                trail
                    .iter()
                    .any(|e| matches!(&e.kind, EventKind::Append { dest, .. } if dest == "q1")),
                "{trail:#?}"
            );
            kept += 1;
        }
    }
    assert!(kept > 10, "{kept} confirmed messages went to q1 alone");
}
