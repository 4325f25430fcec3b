//! Events in one line of text, as the CLI prints a trail and the HTML
//! report's event tables show it; counts, and what left a scenario
//! inconclusive, as the CLI and JUnit say them.

use broker_model::EventKind;

use crate::document::ScenarioReport;

/// An event's name and fields in one line: `append dest="p0" epoch=1 …`,
/// with long lists shortened to their ends.
pub fn event(kind: &EventKind) -> String {
    let json = serde_json::to_value(kind).unwrap_or_default();
    let mut parts = Vec::new();
    if let Some(map) = json.as_object() {
        parts.push(name(kind).to_string());
        for (k, v) in map {
            if k != "event" {
                parts.push(format!("{k}={}", compact(v)));
            }
        }
    }
    parts.join(" ")
}

/// An event's name as histories write it (`send_ok`, `truncate`, …).
pub(crate) fn name(kind: &EventKind) -> &'static str {
    match kind {
        EventKind::Send { .. } => "send",
        EventKind::SendOk { .. } => "send_ok",
        EventKind::SendFail { .. } => "send_fail",
        EventKind::SendUnknown { .. } => "send_unknown",
        EventKind::Receive { .. } => "receive",
        EventKind::Processed { .. } => "processed",
        EventKind::Reject { .. } => "reject",
        EventKind::Crash { .. } => "crash",
        EventKind::Ack { .. } => "ack",
        EventKind::Commit { .. } => "commit",
        EventKind::Append { .. } => "append",
        EventKind::Fsync { .. } => "fsync",
        EventKind::Writeback { .. } => "writeback",
        EventKind::Truncate { .. } => "truncate",
        EventKind::Drop { .. } => "drop",
        EventKind::DeadLettered { .. } => "dead_lettered",
        EventKind::OffsetReset { .. } => "offset_reset",
        EventKind::Rebalance { .. } => "rebalance",
        EventKind::Assign { .. } => "assign",
        EventKind::Revoke { .. } => "revoke",
        EventKind::Recover { .. } => "recover",
        EventKind::BecomeLeader { .. } => "become_leader",
        EventKind::BecomeFollower { .. } => "become_follower",
        EventKind::Elect { .. } => "elect",
        EventKind::IsrChange { .. } => "isr_change",
        EventKind::Fence { .. } => "fence",
        EventKind::Promote { .. } => "promote",
        EventKind::Discard { .. } => "discard",
        EventKind::Requeue { .. } => "requeue",
        EventKind::Pause { .. } => "pause",
        EventKind::Resume { .. } => "resume",
        EventKind::Autoheal { .. } => "autoheal",
        EventKind::Fault { .. } => "fault",
        EventKind::Heal { .. } => "heal",
        EventKind::Phase { .. } => "phase",
        EventKind::Backlog { .. } => "backlog",
        EventKind::DrainEnded { .. } => "drain_ended",
    }
}

/// A count with its thousands separated by commas, as a person writes it:
/// `5,900`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What an inconclusive scenario's seeds left undecided, in one line:
/// `seeds 1, 2 did not drain; 5,900 messages still readable`.
pub fn undrained(s: &ScenarioReport) -> String {
    let seeds: Vec<String> = s.seeds_inconclusive.iter().map(u64::to_string).collect();
    format!(
        "{} {} did not drain; {} messages still readable",
        if seeds.len() == 1 { "seed" } else { "seeds" },
        seeds.join(", "),
        count(s.readable())
    )
}

/// A JSON value for one line of text: long lists shortened to their ends.
fn compact(v: &serde_json::Value) -> String {
    match v.as_array() {
        Some(items) if items.len() > 4 => format!(
            "[{}, {}, …, {}] ({} in all)",
            items[0],
            items[1],
            items[items.len() - 1],
            items.len()
        ),
        _ => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use broker_model::MsgId;

    #[test]
    fn counts_are_grouped_by_thousands() {
        let shown: Vec<String> = [0, 999, 1000, 5900, 16000, 1234567].map(count).into();
        assert_eq!(shown, ["0", "999", "1,000", "5,900", "16,000", "1,234,567"]);
    }

    #[test]
    fn long_lists_are_shortened_to_their_ends() {
        let kind = EventKind::Truncate {
            dest: "p0".into(),
            to: 200,
            msgs: (200..240).map(|s| MsgId::new(1, s)).collect(),
        };
        assert_eq!(
            event(&kind),
            r#"truncate dest="p0" msgs=["p1-200", "p1-201", …, "p1-239"] (40 in all) to=200"#
        );
    }
}
