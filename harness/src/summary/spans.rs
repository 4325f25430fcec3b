//! Fault spans and phases, read back from a run's history.
//!
//! The nemesis records a fault when it fires and a heal when it undoes it,
//! as two events that do not name each other. A span pairs them, the way a
//! person reading the history would: a link fault ends at the first later
//! heal of the same kind between the same hosts; a crash or power loss ends
//! for each host at the first later restart of that host. A fault never
//! undone ends at the final heal, or at the end of the run.

use std::collections::BTreeSet;

use broker_model::{Event, EventKind};
use reports::{FaultSpan, Phase};

/// The heal detail that undoes a fault action, as the nemesis records it.
fn undone_by(action: &str) -> Option<&'static str> {
    Some(match action {
        "partition" | "isolate" => "repair partition",
        "hold" => "release held links",
        "drop" => "stop dropping",
        "delay" => "restore latency",
        "crash" | "power_loss" => "restart",
        "stop_app" => "start_app",
        _ => return None,
    })
}

struct Heal<'a> {
    at_us: u64,
    detail: &'a str,
    hosts: BTreeSet<&'a str>,
    used: bool,
}

/// Every fault of `events` with its end, in the order the faults fired.
pub(super) fn fault_spans(events: &[Event]) -> Vec<FaultSpan> {
    let run_end = events.iter().map(|e| e.at_us).max().unwrap_or(0);
    let final_heal = events.iter().find_map(|e| match &e.kind {
        EventKind::Phase { name } if name == "heal" => Some(e.at_us),
        _ => None,
    });
    let mut heals: Vec<Heal<'_>> = events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Heal { detail, hosts } => Some(Heal {
                at_us: e.at_us,
                detail,
                hosts: hosts.iter().map(String::as_str).collect(),
                used: false,
            }),
            _ => None,
        })
        .collect();
    let mut spans = Vec::new();
    for e in events {
        let EventKind::Fault {
            action,
            hosts,
            detail,
        } = &e.kind
        else {
            continue;
        };
        let start = e.at_us;
        let hit: BTreeSet<&str> = hosts.iter().map(String::as_str).collect();
        let unhealed = match final_heal {
            Some(at) if at >= start => at,
            _ => run_end.max(start),
        };
        let end = match undone_by(action) {
            None => start,
            Some(_) if hit.is_empty() => start,
            Some("restart") => hit
                .iter()
                .map(|h| {
                    heals
                        .iter()
                        .find(|r| r.detail == "restart" && r.at_us >= start && r.hosts.contains(h))
                        .map_or(unhealed, |r| r.at_us)
                })
                .max()
                .unwrap_or(start),
            Some(kind) => {
                let candidates = |exact: bool| {
                    heals.iter().position(|r| {
                        !r.used
                            && r.detail == kind
                            && r.at_us >= start
                            && (!exact || r.hosts == hit)
                    })
                };
                match candidates(true).or_else(|| candidates(false)) {
                    Some(i) => {
                        heals[i].used = true;
                        heals[i].at_us
                    }
                    None => unhealed,
                }
            }
        };
        spans.push(FaultSpan {
            start_us: start,
            end_us: end,
            action: action.clone(),
            hosts: hosts.clone(),
            detail: detail.clone(),
        });
    }
    spans
}

/// When each phase of the run began.
pub(super) fn phases(events: &[Event]) -> Vec<Phase> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Phase { name } => Some(Phase {
                name: name.clone(),
                at_us: e.at_us,
            }),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(at_ms: u64, kind: EventKind) -> Event {
        Event {
            at_us: at_ms * 1000,
            host: "nemesis".into(),
            kind,
        }
    }

    fn fault(at_ms: u64, action: &str, hosts: &[&str]) -> Event {
        ev(
            at_ms,
            EventKind::Fault {
                action: action.into(),
                hosts: hosts.iter().map(|h| h.to_string()).collect(),
                detail: format!("{action} at {at_ms}ms"),
            },
        )
    }

    fn heal(at_ms: u64, detail: &str, hosts: &[&str]) -> Event {
        ev(
            at_ms,
            EventKind::Heal {
                detail: detail.into(),
                hosts: hosts.iter().map(|h| h.to_string()).collect(),
            },
        )
    }

    fn phase(at_ms: u64, name: &str) -> Event {
        ev(at_ms, EventKind::Phase { name: name.into() })
    }

    fn ends(spans: &[FaultSpan]) -> Vec<(u64, u64)> {
        spans
            .iter()
            .map(|s| (s.start_us / 1000, s.end_us / 1000))
            .collect()
    }

    #[test]
    fn each_fault_ends_at_its_own_heal() {
        let h = vec![
            phase(0, "faults"),
            fault(100, "partition", &["broker-1", "broker-2"]),
            fault(200, "partition", &["broker-1", "broker-3"]),
            fault(300, "crash", &["broker-1"]),
            heal(400, "repair partition", &["broker-3", "broker-1"]),
            heal(500, "repair partition", &["broker-1", "broker-2"]),
            heal(900, "restart", &["broker-1"]),
            phase(1000, "heal"),
            phase(1000, "drain"),
            phase(2000, "end"),
        ];
        assert_eq!(
            ends(&fault_spans(&h)),
            vec![(100, 500), (200, 400), (300, 900)]
        );
        let names: Vec<_> = phases(&h).into_iter().map(|p| p.name).collect();
        assert_eq!(names, ["faults", "heal", "drain", "end"]);
    }

    #[test]
    fn a_fault_without_its_own_heal_ends_at_the_final_heal() {
        let h = vec![
            fault(100, "drop", &["producer-1", "broker-1"]),
            fault(200, "power_loss", &["broker-1", "broker-2"]),
            phase(1000, "heal"),
            heal(1000, "restart", &["broker-2"]),
            phase(3000, "end"),
        ];
        assert_eq!(ends(&fault_spans(&h)), vec![(100, 1000), (200, 1000)]);
    }
}
