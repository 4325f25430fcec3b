//! The checker: what happened to every message, from the history alone.
//!
//! It reads only the client events every system model shares (`send`,
//! `send_ok`, `send_fail`, `send_unknown`, `processed`, which says whether
//! the message came from a dead-letter queue) and the harness's
//! record of how the final drain ended (`drain_ended`), so it cannot know
//! which system, configuration or expectation produced the history.
//!
//! An acknowledged message nobody processed is lost only when nothing was
//! left to read: the run drained, or the drain gave up with nothing
//! readable (the message is gone from every replica). A drain that gave up
//! while consumers could still read messages leaves the run inconclusive,
//! as Jepsen's checkers answer `:valid? :unknown`: its unprocessed messages
//! are unconsumed, not lost.

use std::collections::BTreeMap;

use broker_model::{Event, EventKind, MsgId};
use reports::Counts;
pub use reports::Outcome;

/// What the checker found in one history.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Analysis {
    /// The counts.
    pub counts: Counts,
    /// Whether every acknowledged message could be judged.
    pub outcome: Outcome,
    /// Acknowledged, never processed, in a conclusive run.
    pub lost: Vec<MsgId>,
    /// Acknowledged, not processed yet, in an inconclusive run.
    pub unconsumed: Vec<MsgId>,
    /// Acknowledged, processed only as dead-lettered (from a dead-letter
    /// queue, not from the queue it was published to).
    pub dead_lettered: Vec<MsgId>,
    /// Processed more than once, with how many times.
    pub duplicated: Vec<(MsgId, u32)>,
    /// Failed or unknown, processed anyway.
    pub recovered: Vec<MsgId>,
    /// Processed, never sent.
    pub unexpected: Vec<MsgId>,
}

#[derive(Default)]
struct Fate {
    sent: bool,
    acked: bool,
    failed: bool,
    processed: u32,
    /// Times it was processed from a dead-letter queue.
    dead_lettered: u32,
}

/// Whether the drain of `events` left the run inconclusive: the last
/// `drain_ended` says it gave up with messages still readable. A history
/// without one (written by hand, or before drains were recorded) is judged
/// conclusively.
fn outcome(events: &[Event]) -> Outcome {
    let ended = events.iter().rev().find_map(|e| match e.kind {
        EventKind::DrainEnded { drained, readable } => Some((drained, readable)),
        _ => None,
    });
    match ended {
        Some((false, readable)) if readable > 0 => Outcome::Inconclusive { readable },
        _ => Outcome::Conclusive,
    }
}

/// Classifies every message of `events`.
///
/// A message is *acknowledged* if any `send_ok` was recorded for it (a later
/// retry may succeed after an earlier attempt timed out); *failed* if the
/// producer was told it was refused and never acknowledged; *unknown*
/// otherwise (including a producer that crashed before learning). An
/// acknowledged message nobody processed is *lost* in a conclusive run and
/// *unconsumed* in an inconclusive one. One processed only from a
/// dead-letter queue (its `processed` says `dead_lettered`) is
/// *dead-lettered*: not lost, since someone processed it, but not
/// processed from its queue either, whatever the drain.
pub fn check(events: &[Event]) -> Analysis {
    let mut fates: BTreeMap<MsgId, Fate> = BTreeMap::new();
    for e in events {
        match &e.kind {
            EventKind::Send { msg, .. } => fates.entry(*msg).or_default().sent = true,
            EventKind::SendOk { msg, .. } => fates.entry(*msg).or_default().acked = true,
            EventKind::SendFail { msg, .. } => fates.entry(*msg).or_default().failed = true,
            EventKind::Processed {
                msg,
                dead_lettered: false,
            } => fates.entry(*msg).or_default().processed += 1,
            EventKind::Processed {
                msg,
                dead_lettered: true,
            } => fates.entry(*msg).or_default().dead_lettered += 1,
            _ => {}
        }
    }
    let mut a = Analysis {
        outcome: outcome(events),
        ..Analysis::default()
    };
    for (id, f) in &fates {
        if f.sent {
            a.counts.sent += 1;
            if f.acked {
                a.counts.acknowledged += 1;
            } else if f.failed {
                a.counts.failed += 1;
            } else {
                a.counts.unknown += 1;
            }
        }
        if f.processed > 0 {
            a.counts.processed += 1;
        }
        if f.acked && f.processed == 0 && f.dead_lettered > 0 {
            a.dead_lettered.push(*id);
        } else if f.acked && f.processed == 0 {
            match a.outcome {
                Outcome::Conclusive => a.lost.push(*id),
                Outcome::Inconclusive { .. } => a.unconsumed.push(*id),
            }
        }
        if f.processed > 1 {
            a.duplicated.push((*id, f.processed));
        }
        if f.sent && !f.acked && f.processed > 0 {
            a.recovered.push(*id);
        }
        if !f.sent && (f.processed > 0 || f.dead_lettered > 0) {
            a.unexpected.push(*id);
        }
    }
    a.counts.lost = a.lost.len() as u64;
    a.counts.duplicated = a.duplicated.len() as u64;
    a.counts.recovered = a.recovered.len() as u64;
    a.counts.unexpected = a.unexpected.len() as u64;
    a.counts.unconsumed = a.unconsumed.len() as u64;
    a.counts.dead_lettered = a.dead_lettered.len() as u64;
    a
}

/// Every event that mentions `id`, in history order: its trail through
/// producers, brokers and consumers.
pub fn trail(events: &[Event], id: MsgId) -> Vec<Event> {
    events
        .iter()
        .filter(|e| e.kind.mentions(id))
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_history::{ev, ok, processed, processed_dead_lettered, send};

    /// Producer 1 gave up on message `seq`, not knowing whether it is
    /// stored.
    fn timed_out(seq: u32) -> EventKind {
        EventKind::SendUnknown {
            msg: MsgId::new(1, seq),
            error: "timeout".into(),
        }
    }

    #[test]
    fn an_acknowledged_message_nobody_processed_is_lost() {
        let h = vec![
            ev(1, "producer-1", send(0)),
            ev(2, "producer-1", ok(0)),
            ev(3, "producer-1", send(1)),
            ev(4, "producer-1", ok(1)),
            ev(9, "consumer-1", processed(1, 1)),
        ];
        let a = check(&h);
        assert_eq!(a.lost, vec![MsgId::new(1, 0)]);
        assert_eq!(a.counts.acknowledged, 2);
        assert_eq!(a.counts.lost, 1);
        assert!(a.duplicated.is_empty() && a.recovered.is_empty() && a.unexpected.is_empty());
    }

    /// A history where producer 1's messages 0 and 1 are acknowledged and
    /// only message 1 is processed, ending with the drain's record.
    fn drain_ending(drained: bool, readable: u64) -> Vec<Event> {
        vec![
            ev(1, "producer-1", send(0)),
            ev(2, "producer-1", ok(0)),
            ev(3, "producer-1", send(1)),
            ev(4, "producer-1", ok(1)),
            ev(9, "consumer-1", processed(1, 1)),
            ev(
                40_000,
                "nemesis",
                EventKind::DrainEnded { drained, readable },
            ),
        ]
    }

    #[test]
    fn a_drained_run_is_conclusive_and_its_unprocessed_messages_lost() {
        let a = check(&drain_ending(true, 0));
        assert_eq!(a.outcome, Outcome::Conclusive);
        assert_eq!(a.lost, vec![MsgId::new(1, 0)]);
        assert!(a.unconsumed.is_empty());
        assert_eq!((a.counts.lost, a.counts.unconsumed), (1, 0));
    }

    #[test]
    fn a_drain_that_gave_up_with_messages_readable_is_inconclusive_and_loses_nothing() {
        let a = check(&drain_ending(false, 5900));
        assert_eq!(a.outcome, Outcome::Inconclusive { readable: 5900 });
        assert!(a.lost.is_empty(), "{:?}", a.lost);
        assert_eq!(a.unconsumed, vec![MsgId::new(1, 0)]);
        assert_eq!((a.counts.lost, a.counts.unconsumed), (0, 1));
        assert_eq!(a.counts.acknowledged, 2);
    }

    #[test]
    fn a_drain_that_gave_up_with_nothing_readable_is_conclusive() {
        let a = check(&drain_ending(false, 0));
        assert_eq!(a.outcome, Outcome::Conclusive);
        assert_eq!(a.lost, vec![MsgId::new(1, 0)]);
        assert!(a.unconsumed.is_empty());
    }

    #[test]
    fn an_acknowledged_message_processed_only_from_a_dead_letter_queue_is_dead_lettered() {
        let h = vec![
            ev(1, "producer-1", send(0)),
            ev(2, "producer-1", ok(0)),
            ev(3, "producer-1", send(1)),
            ev(4, "producer-1", ok(1)),
            ev(9, "consumer-1", processed(1, 1)),
            ev(30, "consumer-2", processed_dead_lettered(1, 0)),
        ];
        let a = check(&h);
        assert_eq!(a.dead_lettered, vec![MsgId::new(1, 0)]);
        assert_eq!(a.counts.dead_lettered, 1);
        assert!(a.lost.is_empty(), "dead-lettered is not lost");
        assert_eq!(a.counts.processed, 1, "nor processed from its queue");
        assert!(a.duplicated.is_empty());
    }

    #[test]
    fn a_dead_lettered_message_is_dead_lettered_in_an_inconclusive_run_too() {
        let mut h = drain_ending(false, 5);
        h.push(ev(50, "consumer-2", processed_dead_lettered(1, 0)));
        let a = check(&h);
        assert_eq!(a.dead_lettered, vec![MsgId::new(1, 0)]);
        assert!(a.unconsumed.is_empty() && a.lost.is_empty());
    }

    #[test]
    fn a_message_nobody_sent_is_unexpected_even_from_a_dead_letter_queue() {
        let h = vec![ev(30, "consumer-2", processed_dead_lettered(9, 0))];
        let a = check(&h);
        assert_eq!(a.unexpected, vec![MsgId::new(9, 0)]);
        assert!(a.dead_lettered.is_empty());
    }

    #[test]
    fn a_message_processed_from_its_queue_and_from_a_dead_letter_queue_is_processed() {
        let h = vec![
            ev(1, "producer-1", send(0)),
            ev(2, "producer-1", ok(0)),
            ev(9, "consumer-1", processed(1, 0)),
            ev(30, "consumer-2", processed_dead_lettered(1, 0)),
        ];
        let a = check(&h);
        assert!(a.dead_lettered.is_empty() && a.lost.is_empty());
        assert_eq!(a.counts.processed, 1);
        assert!(a.duplicated.is_empty(), "one processing from its queue");
    }

    #[test]
    fn a_message_processed_twice_is_duplicated_not_lost() {
        let h = vec![
            ev(1, "producer-1", send(0)),
            ev(2, "producer-1", ok(0)),
            ev(5, "consumer-1", processed(1, 0)),
            ev(8, "consumer-1", processed(1, 0)),
        ];
        let a = check(&h);
        assert_eq!(a.duplicated, vec![(MsgId::new(1, 0), 2)]);
        assert!(a.lost.is_empty());
    }

    #[test]
    fn a_failed_or_unknown_message_that_arrives_is_recovered() {
        let h = vec![
            ev(1, "producer-1", send(0)),
            ev(
                2,
                "producer-1",
                EventKind::SendFail {
                    msg: MsgId::new(1, 0),
                    error: "NotEnoughReplicas".into(),
                },
            ),
            ev(3, "producer-1", send(1)),
            ev(5, "consumer-1", processed(1, 0)),
            ev(6, "consumer-1", processed(1, 1)),
        ];
        let a = check(&h);
        assert_eq!(a.recovered, vec![MsgId::new(1, 0), MsgId::new(1, 1)]);
        assert_eq!((a.counts.failed, a.counts.unknown), (1, 1));
        assert!(a.lost.is_empty());
    }

    #[test]
    fn an_unacknowledged_message_that_vanishes_is_not_lost() {
        let h = vec![
            ev(1, "producer-1", send(0)),
            ev(2, "producer-1", timed_out(0)),
        ];
        let a = check(&h);
        assert!(a.lost.is_empty());
        assert_eq!(a.counts.unknown, 1);
    }

    #[test]
    fn a_processed_message_nobody_sent_is_unexpected() {
        let h = vec![ev(5, "consumer-1", processed(4, 2))];
        let a = check(&h);
        assert_eq!(a.unexpected, vec![MsgId::new(4, 2)]);
        assert_eq!(a.counts.sent, 0);
    }

    #[test]
    fn a_late_success_after_a_timeout_counts_as_acknowledged() {
        let h = vec![
            ev(1, "producer-1", send(0)),
            ev(2, "producer-1", timed_out(0)),
            ev(3, "producer-1", ok(0)),
        ];
        let a = check(&h);
        assert_eq!(a.counts.acknowledged, 1);
        assert_eq!(a.lost, vec![MsgId::new(1, 0)]);
    }

    #[test]
    fn the_trail_collects_batch_events_too() {
        let id = MsgId::new(1, 0);
        let h = vec![
            ev(1, "producer-1", send(0)),
            ev(
                2,
                "broker-1",
                EventKind::Append {
                    dest: "p0".into(),
                    offset: 0,
                    epoch: 1,
                    msgs: vec![id],
                },
            ),
            ev(3, "producer-1", send(1)),
            ev(
                4,
                "broker-1",
                EventKind::Truncate {
                    dest: "p0".into(),
                    to: 0,
                    msgs: vec![id, MsgId::new(1, 1)],
                },
            ),
        ];
        let t = trail(&h, id);
        assert_eq!(t.len(), 3);
        assert_eq!(t[2].host, "broker-1");
    }
}
