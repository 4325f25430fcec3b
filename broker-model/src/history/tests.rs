//! The history's text form and what its events mention.

use super::*;

/// Reads events from JSON lines; the line number of a bad line is reported.
fn from_json_lines(text: &str) -> Result<Vec<Event>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}

#[test]
fn msg_id_round_trips_through_text() {
    let id = MsgId::new(3, 41);
    assert_eq!(id.to_string(), "p3-41");
    assert_eq!("p3-41".parse::<MsgId>().unwrap(), id);
    assert!("3-41".parse::<MsgId>().is_err());
    assert!("p3".parse::<MsgId>().is_err());
}

#[test]
fn events_round_trip_through_json_lines() {
    let h = History::new();
    h.record_at(
        Duration::from_millis(5),
        "producer-1",
        EventKind::Send {
            msg: MsgId::new(1, 0),
            dest: "p0".into(),
        },
    );
    h.record_at(
        Duration::from_millis(7),
        "broker-1",
        EventKind::Append {
            dest: "p0".into(),
            offset: 0,
            epoch: 1,
            msgs: vec![MsgId::new(1, 0)],
        },
    );
    let text = to_json_lines(&h.snapshot());
    assert!(text.starts_with(r#"{"at_us":5000,"host":"producer-1","event":"send""#));
    assert_eq!(from_json_lines(&text).unwrap(), h.snapshot());
}

#[test]
fn batch_events_mention_their_messages() {
    let id = MsgId::new(1, 2);
    let kind = EventKind::Truncate {
        dest: "p0".into(),
        to: 1,
        msgs: vec![MsgId::new(1, 1), id],
    };
    assert!(kind.mentions(id));
    assert!(!kind.mentions(MsgId::new(2, 2)));
    let kind = EventKind::Discard {
        dest: "q0".into(),
        reason: "rejoining as a mirror".into(),
        msgs: vec![id],
    };
    assert!(kind.mentions(id));
    let kind = EventKind::Requeue {
        dest: "q0".into(),
        consumer: "consumer-1".into(),
        msgs: vec![id],
    };
    assert!(kind.mentions(id));
}

#[test]
fn the_harness_drain_events_mention_no_message_and_round_trip() {
    let h = History::new();
    h.record_at(
        Duration::from_millis(100),
        "nemesis",
        EventKind::Backlog { messages: 12 },
    );
    h.record_at(
        Duration::from_millis(900),
        "nemesis",
        EventKind::DrainEnded {
            drained: false,
            readable: 12,
        },
    );
    let events = h.snapshot();
    assert!(events
        .iter()
        .all(|e| e.kind.msg().is_none() && !e.kind.mentions(MsgId::new(1, 0))));
    let text = to_json_lines(&events);
    assert!(
        text.contains(r#""event":"drain_ended","drained":false,"readable":12"#),
        "{text}"
    );
    assert_eq!(from_json_lines(&text).unwrap(), events);
}

#[test]
fn taking_the_history_hands_over_every_event_and_leaves_it_empty() {
    let h = History::new();
    let clone = h.clone();
    h.record_at(
        Duration::from_millis(1),
        "producer-1",
        EventKind::Send {
            msg: MsgId::new(1, 0),
            dest: "p0".into(),
        },
    );
    let taken = clone.take();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].host, "producer-1");
    assert!(h.is_empty());
}

#[test]
fn a_msg_id_is_written_as_its_text_and_a_bad_one_is_refused() {
    let id = MsgId::new(3, 41);
    assert_eq!(serde_json::to_string(&id).unwrap(), "\"p3-41\"");
    assert_eq!(serde_json::from_str::<MsgId>("\"p3-41\"").unwrap(), id);
    let escaped = serde_json::from_str::<MsgId>("\"p3\\u002d41\"").unwrap();
    assert_eq!(escaped, id);
    let err = serde_json::from_str::<MsgId>("\"3-41\"").unwrap_err();
    assert!(err.to_string().contains("is not a message id"), "{err}");
}
