//! The lifecycle timeline of one lost message: simulated time across, one
//! lane per host, a marker per event, the faults as translucent bands.
//!
//! The axis is linear in simulated time, so the gaps are real: the second
//! between an acknowledgement and the fencing that follows it is the
//! session timeout, and it shows. Markers on one lane that would overlap are
//! nudged apart by a few pixels and share one label; the exact time of each
//! is in its tooltip and in the event table under the drawing.

mod draw;
mod layout;

use broker_model::{EventKind, MsgId};

use self::layout::{lanes, place, window, Frame, AXIS, GUTTER, RIGHT, ROW, WIDTH};
use super::faults;
use super::format::secs;
use super::marks::{self, KeyItem};
use super::svg::{Scale, Svg};
use crate::describe;
use crate::document::{FaultSpan, Host, LostMessage};

/// One row of the event table under a timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct EventRow {
    /// Simulated time.
    pub(crate) at: String,
    /// The host that recorded it.
    pub(crate) host: String,
    /// The event in one line.
    pub(crate) text: String,
}

/// A drawn timeline with the facts and events it shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Timeline {
    /// The SVG markup.
    pub(crate) svg: String,
    /// What became of the message, as (what, when/where) pairs.
    pub(crate) facts: Vec<(String, String)>,
    /// Every event of the lifecycle, in order.
    pub(crate) rows: Vec<EventRow>,
}

/// Draws the lifecycle of `lost` with the faults of its run.
pub(crate) fn render(lost: &LostMessage, spans: &[FaultSpan], hosts: &[Host]) -> Timeline {
    let id: MsgId = lost.id.parse().unwrap_or(MsgId::new(0, 0));
    let (lo, hi) = window(lost, spans);
    let visible: Vec<&FaultSpan> = spans
        .iter()
        .filter(|s| (s.end_us as f64) >= lo && (s.start_us as f64) <= hi)
        .collect();
    let frame = Frame {
        x: Scale {
            d0: lo,
            d1: hi,
            p0: GUTTER,
            p1: WIDTH - RIGHT,
        },
        lanes: lanes(lost, hosts),
        top: 10.0 + ROW * (1 + visible.len()) as f64,
    };
    let (per_lane, links) = place(lost, id, &frame);

    let mut svg = Svg::new(
        WIDTH,
        frame.bottom() + AXIS,
        "timeline",
        &format!("Lifecycle of lost message {}", lost.id),
    );
    draw::draw_lanes(&mut svg, &frame, &per_lane);
    for (row, span) in visible.iter().enumerate() {
        if faults::takes_host_down(&span.action) {
            draw::draw_downtime(&mut svg, &frame, span);
        }
        let label_y = 6.0 + ROW * (row as f64 + 1.0) + 10.0;
        let area = [(frame.top, frame.bottom())];
        faults::draw(&mut svg, span, &frame.x, &area, label_y, WIDTH - RIGHT);
    }
    if let Some(ack) = lost
        .trail
        .iter()
        .find(|e| matches!(e.kind, EventKind::SendOk { .. }))
    {
        draw::draw_ack(&mut svg, &frame, ack.at_us);
    }
    draw::draw_axis(&mut svg, &frame, lo, hi);
    for link in &links {
        svg.group("link", Some(&link.tooltip));
        let (y0, y1) = (frame.lane_y(link.from), frame.lane_y(link.to));
        svg.line(link.x, y0, link.x, y1, "link-line");
        svg.end_group();
    }
    for (lane, placed) in per_lane.iter().enumerate() {
        draw::draw_marks(&mut svg, frame.lane_y(lane), placed);
    }

    Timeline {
        svg: svg.finish(),
        facts: facts(lost, id),
        rows: lost
            .trail
            .iter()
            .map(|e| EventRow {
                at: secs(e.at_us),
                host: e.host.clone(),
                text: describe::event(&e.kind),
            })
            .collect(),
    }
}

/// What became of the message, from its lifecycle: when it was
/// acknowledged, which replicas and disks held it, who received it, and
/// where its trail ends.
fn facts(lost: &LostMessage, id: MsgId) -> Vec<(String, String)> {
    let hosts_with = |pred: &dyn Fn(&EventKind) -> bool| {
        let mut seen: Vec<String> = Vec::new();
        for e in &lost.trail {
            if pred(&e.kind) && !seen.contains(&e.host) {
                seen.push(e.host.clone());
            }
        }
        seen
    };
    let list = |hosts: Vec<String>, none: &str| {
        if hosts.is_empty() {
            none.to_string()
        } else {
            hosts.join(", ")
        }
    };
    let acked = lost
        .trail
        .iter()
        .find(|e| matches!(e.kind, EventKind::SendOk { .. }))
        .map_or("never".to_string(), |e| secs(e.at_us));
    let mut facts = vec![
        ("acknowledged".to_string(), acked),
        (
            "appended on".to_string(),
            list(
                hosts_with(&|k| matches!(k, EventKind::Append { .. })),
                "no broker",
            ),
        ),
        (
            "on disk on".to_string(),
            list(
                hosts_with(&|k| matches!(k, EventKind::Fsync { .. } | EventKind::Writeback { .. })),
                "no disk",
            ),
        ),
        (
            "received by".to_string(),
            list(
                hosts_with(&|k| matches!(k, EventKind::Receive { .. })),
                "no consumer",
            ),
        ),
    ];
    if let Some(last) = lost.trail.last() {
        let label = marks::mark(&last.kind, id).label;
        facts.push((
            "trail ends".to_string(),
            format!("{} on {}: {label}", secs(last.at_us), last.host),
        ));
    }
    facts
}

/// The key of every timeline: each marker, then the bands and lines.
pub(crate) fn key() -> Vec<KeyItem> {
    let mut items: Vec<KeyItem> = marks::LEGEND
        .iter()
        .map(|(shape, class, text)| KeyItem {
            icon: marks::icon(*shape, class),
            text,
        })
        .collect();
    let swatch = |class: &str, group: Option<&str>| {
        let mut svg = Svg::icon();
        if let Some(g) = group {
            svg.group(g, None);
        }
        svg.rect(1.0, 2.0, 14.0, 12.0, class);
        if group.is_some() {
            svg.end_group();
        }
        svg.finish()
    };
    items.push(KeyItem {
        icon: swatch("band-fill", Some("band band-network")),
        text: "network fault",
    });
    items.push(KeyItem {
        icon: swatch("band-fill", Some("band band-process")),
        text: "crash or power loss",
    });
    items.push(KeyItem {
        icon: swatch("down", None),
        text: "host down",
    });
    let mut ack = Svg::icon();
    ack.line(8.0, 0.0, 8.0, 16.0, "ack-line");
    items.push(KeyItem {
        icon: ack.finish(),
        text: "acknowledged",
    });
    let mut end = Svg::icon();
    end.circle(8.0, 8.0, 6.5, "end-ring");
    items.push(KeyItem {
        icon: end.finish(),
        text: "where the trail ends",
    });
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::tests::{hosts, lost};

    #[test]
    fn lanes_follow_the_message_and_keep_the_replicas_it_never_reached() {
        let hosts = hosts();
        let l = lost(0, "broker-1");
        assert_eq!(
            lanes(&l, &hosts),
            [
                "producer-1",
                "broker-1",
                "broker-2",
                "controller",
                "consumer-1"
            ]
        );
        let svg = render(&l, &[], &hosts).svg;
        // broker-2 is reached by the election; the consumer never is.
        assert!(svg.contains(r#"class="lane-name">broker-2<"#));
        assert!(svg.contains(r#"class="lane-name idle">consumer-1<"#));
        assert!(svg.contains("leader e2"));
        assert!(svg.contains("truncate to 0"));
        assert_eq!(svg.matches("end-ring").count(), 1);
    }
}
