//! A lost message's lifecycle: its trail plus the events that explain what
//! became of it.
//!
//! The trail alone (every event that names the message) shows where the
//! message went, but often not why it vanished: the election that moved the
//! leadership away, the restart whose recovery no longer holds it, the
//! consumer's commit that moved past it unprocessed. Those events do not name
//! the message, so they are picked here by what they do to the places the
//! message reached.

use std::collections::{BTreeMap, BTreeSet};

use broker_model::{Event, EventKind, MsgId};

/// A lost message's trail together with the events that explain it, in
/// history order:
///
/// - elections and promotions of its destination, consumers' offset resets
///   on it, the controller taking a replica back from an unclean shutdown
///   out of its ISR and ELR, fencings, pauses and autoheal restarts, while
///   its trail lasts;
/// - on each broker that appended it, the first fsync or writeback after
///   the append (the moment it was on that disk);
/// - on each broker that appended it and did not truncate it, the first
///   recovery after the append that no longer holds it (a restart that
///   forgot it: unsynced writes lost with the power);
/// - for each consumer that received it, the first commit of its
///   destination past its offset (the group moved on without processing it);
/// - for each consumer that received it, the first revoke of its
///   destination after (the member gave the partition up, dropping what it
///   had fetched), and the first assignment of its destination to any
///   member after the first receive (where the new owner resumed from the
///   group's committed offset), with the group's rebalances meanwhile.
pub(super) fn lifecycle(events: &[Event], id: MsgId) -> Vec<Event> {
    let mentions: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.kind.mentions(id))
        .map(|(i, _)| i)
        .collect();
    let (Some(&first), Some(&last)) = (mentions.first(), mentions.last()) else {
        return Vec::new();
    };
    let start = events[first].at_us;
    let mut dest = None;
    let mut appended: BTreeMap<&str, u64> = BTreeMap::new();
    let mut truncated: BTreeSet<&str> = BTreeSet::new();
    let mut received: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for &i in &mentions {
        let e = &events[i];
        match &e.kind {
            EventKind::Send { dest: d, .. } => dest = dest.or(Some(d.as_str())),
            EventKind::Append { .. } => {
                appended.entry(e.host.as_str()).or_insert(e.at_us);
            }
            EventKind::Truncate { .. } => {
                truncated.insert(e.host.as_str());
            }
            EventKind::Receive {
                offset: Some(offset),
                ..
            } => {
                received
                    .entry(e.host.as_str())
                    .or_insert((e.at_us, *offset));
            }
            _ => {}
        }
    }

    let mut keep: BTreeSet<usize> = mentions.iter().copied().collect();
    let mut forgot: BTreeSet<&str> = BTreeSet::new();
    let mut committed_past: BTreeSet<&str> = BTreeSet::new();
    let mut revoked: BTreeSet<&str> = BTreeSet::new();
    let first_receive = received.values().map(|&(at, _)| at).min();
    let mut reassigned = false;
    let holds = |partitions: &[String]| dest.is_some_and(|d| partitions.iter().any(|p| p == d));
    for (i, e) in events.iter().enumerate() {
        let host = e.host.as_str();
        match &e.kind {
            EventKind::Revoke { partitions, .. }
                if holds(partitions)
                    && received.get(host).is_some_and(|&(at, _)| e.at_us >= at)
                    && revoked.insert(host) =>
            {
                keep.insert(i);
            }
            EventKind::Assign { partitions, .. }
                if holds(partitions)
                    && first_receive.is_some_and(|at| e.at_us > at)
                    && !reassigned =>
            {
                reassigned = true;
                keep.insert(i);
            }
            EventKind::Recover { msgs, .. }
                if appended.get(host).is_some_and(|&at| e.at_us > at)
                    && !truncated.contains(host)
                    && !msgs.contains(&id)
                    && forgot.insert(host) =>
            {
                keep.insert(i);
            }
            EventKind::Commit { dest: d, offset }
                if Some(d.as_str()) == dest
                    && received
                        .get(host)
                        .is_some_and(|&(at, o)| e.at_us >= at && *offset > o)
                    && committed_past.insert(host) =>
            {
                keep.insert(i);
            }
            _ => {}
        }
    }
    let end = keep
        .last()
        .map(|&i| events[i].at_us)
        .unwrap_or(events[last].at_us);

    let mut synced: BTreeSet<&str> = BTreeSet::new();
    for (i, e) in events.iter().enumerate() {
        if e.at_us > end {
            break;
        }
        let host = e.host.as_str();
        let explains = match &e.kind {
            EventKind::Elect { dest: d, .. } | EventKind::Promote { dest: d, .. } => {
                Some(d.as_str()) == dest && e.at_us >= start
            }
            EventKind::OffsetReset { dest: d, .. }
            | EventKind::IsrChange {
                dest: d,
                unclean_shutdown: Some(_),
                ..
            } => Some(d.as_str()) == dest && e.at_us >= start,
            EventKind::Rebalance { .. } => e.at_us >= start,
            EventKind::Fence { .. } | EventKind::Pause { .. } | EventKind::Autoheal { .. } => {
                e.at_us >= start
            }
            EventKind::Fsync { .. } | EventKind::Writeback { .. } => {
                appended.get(host).is_some_and(|&at| e.at_us >= at) && synced.insert(host)
            }
            _ => false,
        };
        if explains {
            keep.insert(i);
        }
    }
    keep.into_iter().map(|i| events[i].clone()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_history::{ev, id, ok, send};

    fn append(seq: u32) -> EventKind {
        EventKind::Append {
            dest: "p0".into(),
            offset: seq.into(),
            epoch: 1,
            msgs: vec![id(seq)],
        }
    }

    fn recover(msgs: Vec<MsgId>) -> EventKind {
        EventKind::Recover {
            entries: msgs.len() as u64,
            msgs,
        }
    }

    fn kinds(events: &[Event]) -> Vec<(u64, &str)> {
        events
            .iter()
            .map(|e| {
                let name = match &e.kind {
                    EventKind::Send { .. } => "send",
                    EventKind::SendOk { .. } => "send_ok",
                    EventKind::Append { .. } => "append",
                    EventKind::Fsync { .. } => "fsync",
                    EventKind::Recover { .. } => "recover",
                    EventKind::Receive { .. } => "receive",
                    EventKind::Commit { .. } => "commit",
                    EventKind::Elect { .. } => "elect",
                    EventKind::Fence { .. } => "fence",
                    _ => "other",
                };
                (e.at_us / 1000, name)
            })
            .collect()
    }

    #[test]
    fn a_restart_that_forgot_the_message_ends_its_lifecycle() {
        let h = vec![
            ev(0, "broker-1", recover(vec![])),
            ev(10, "producer-1", send(0)),
            ev(11, "broker-1", append(0)),
            ev(12, "producer-1", ok(0)),
            ev(20, "producer-1", send(1)),
            ev(21, "broker-1", append(1)),
            ev(30, "broker-1", EventKind::Fsync { entries: 2 }),
            ev(500, "broker-1", recover(vec![id(0), id(1)])),
            ev(900, "broker-1", recover(vec![])),
            ev(950, "broker-1", recover(vec![])),
        ];
        let l = lifecycle(&h, id(0));
        assert_eq!(
            kinds(&l),
            vec![
                (10, "send"),
                (11, "append"),
                (12, "send_ok"),
                (30, "fsync"),
                (500, "recover"),
                (900, "recover"),
            ]
        );
    }

    #[test]
    fn a_commit_past_an_unprocessed_message_is_part_of_its_lifecycle() {
        let h = vec![
            ev(10, "producer-1", send(5)),
            ev(
                15,
                "consumer-1",
                EventKind::Receive {
                    msg: id(5),
                    dest: "p0".into(),
                    offset: Some(5),
                    redelivered: false,
                },
            ),
            ev(
                16,
                "consumer-1",
                EventKind::Commit {
                    dest: "p0".into(),
                    offset: 5,
                },
            ),
            ev(
                200,
                "consumer-1",
                EventKind::Commit {
                    dest: "p0".into(),
                    offset: 9,
                },
            ),
            ev(
                400,
                "consumer-1",
                EventKind::Commit {
                    dest: "p0".into(),
                    offset: 12,
                },
            ),
            ev(
                450,
                "controller",
                EventKind::Fence {
                    broker: "broker-1".into(),
                    reason: "session timeout".into(),
                },
            ),
        ];
        let l = lifecycle(&h, id(5));
        assert_eq!(
            kinds(&l),
            vec![(10, "send"), (15, "receive"), (200, "commit")]
        );
    }

    #[test]
    fn elections_and_fences_count_only_while_the_trail_lasts() {
        let elect = |at| {
            ev(
                at,
                "controller",
                EventKind::Elect {
                    dest: "p0".into(),
                    leader: Some("broker-2".into()),
                    epoch: 2,
                    isr: vec!["broker-2".into()],
                    unclean: false,
                    elr: Vec::new(),
                    from: None,
                },
            )
        };
        let h = vec![
            elect(1),
            ev(10, "producer-1", send(0)),
            ev(11, "broker-1", append(0)),
            elect(50),
            ev(
                60,
                "broker-1",
                EventKind::Truncate {
                    dest: "p0".into(),
                    to: 0,
                    msgs: vec![id(0)],
                },
            ),
            elect(70),
        ];
        let l = lifecycle(&h, id(0));
        assert_eq!(
            kinds(&l),
            vec![(10, "send"), (11, "append"), (50, "elect"), (60, "other")]
        );
    }

    #[test]
    fn a_revoke_and_the_reassignment_of_its_partition_are_part_of_its_lifecycle() {
        let parts = |ps: &[&str]| ps.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        let assign = |host: &str, ps: &[&str]| EventKind::Assign {
            member: host.into(),
            generation: 2,
            partitions: parts(ps),
        };
        let h = vec![
            ev(5, "consumer-1", assign("consumer-1", &["p0"])),
            ev(10, "producer-1", send(5)),
            ev(
                15,
                "consumer-1",
                EventKind::Receive {
                    msg: id(5),
                    dest: "p0".into(),
                    offset: Some(5),
                    redelivered: false,
                },
            ),
            ev(
                20,
                "consumer-1",
                EventKind::Commit {
                    dest: "p0".into(),
                    offset: 9,
                },
            ),
            ev(
                30,
                "consumer-1",
                EventKind::Revoke {
                    member: "consumer-1".into(),
                    generation: 1,
                    partitions: parts(&["p0"]),
                    lost: false,
                },
            ),
            ev(
                40,
                "broker-3",
                EventKind::Rebalance {
                    group: "mqsim".into(),
                    generation: 2,
                    members: parts(&["consumer-2"]),
                },
            ),
            ev(41, "consumer-2", assign("consumer-2", &["p1"])),
            ev(42, "consumer-2", assign("consumer-2", &["p0", "p1"])),
            ev(50, "consumer-2", assign("consumer-2", &["p0"])),
        ];
        let l = lifecycle(&h, id(5));
        let hosts: Vec<(u64, &str)> = l
            .iter()
            .map(|e| (e.at_us / 1000, e.host.as_str()))
            .collect();
        assert_eq!(
            hosts,
            vec![
                (10, "producer-1"),
                (15, "consumer-1"),
                (20, "consumer-1"),
                (30, "consumer-1"),
                (40, "broker-3"),
                (42, "consumer-2"),
            ]
        );
    }
}
