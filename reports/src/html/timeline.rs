//! The lifecycle timeline of one lost message: simulated time across, one
//! lane per host, a marker per event, the faults as translucent bands.
//!
//! The axis is linear in simulated time, so the gaps are real: the second
//! between an acknowledgement and the fencing that follows it is the
//! session timeout, and it shows. Markers on one lane that would overlap are
//! nudged apart by a few pixels and share one label; the exact time of each
//! is in its tooltip and in the event table under the drawing.

use std::collections::BTreeSet;

use broker_model::{EventKind, MsgId};

use super::faults;
use super::format::{secs, text_width, tick_secs, ticks};
use super::marks::{self, KeyItem, Mark, Shape};
use super::svg::{Scale, Svg};
use crate::describe;
use crate::document::{FaultSpan, Host, LostMessage};

const WIDTH: f64 = 960.0;
const GUTTER: f64 = 112.0;
const RIGHT: f64 = 24.0;
const ROW: f64 = 15.0;
const LANE: f64 = 40.0;
const AXIS: f64 = 26.0;
const MARK: f64 = 6.0;
/// Markers closer than this on one lane are spread apart.
const MIN_GAP: f64 = 10.0;
/// Labels of markers closer than this on one lane are merged.
const CLUSTER: f64 = 16.0;
/// The narrowest window drawn, in microseconds, so that a trail of one
/// instant is not stretched over the whole width.
const MIN_WINDOW_US: f64 = 100_000.0;

/// One row of the event table under a timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRow {
    /// Simulated time.
    pub at: String,
    /// The host that recorded it.
    pub host: String,
    /// The event in one line.
    pub text: String,
}

/// A drawn timeline with the facts and events it shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timeline {
    /// The SVG markup.
    pub svg: String,
    /// What became of the message, as (what, when/where) pairs.
    pub facts: Vec<(String, String)>,
    /// Every event of the lifecycle, in order.
    pub rows: Vec<EventRow>,
}

fn role_rank(role: &str) -> u8 {
    match role {
        "producer" => 0,
        "broker" => 1,
        "controller" => 2,
        "consumer" => 3,
        _ => 4,
    }
}

/// The lanes: hosts in the trail, plus every broker and consumer (an empty
/// lane says "never got there"), producers first, then brokers, the
/// controller and consumers, as a message flows.
fn lanes<'a>(lost: &'a LostMessage, hosts: &'a [Host]) -> Vec<&'a str> {
    let in_trail: Vec<&str> = lost.trail.iter().map(|e| e.host.as_str()).collect();
    let mut ranked: Vec<(u8, usize, &str)> = hosts
        .iter()
        .enumerate()
        .filter(|(_, h)| {
            in_trail.contains(&h.name.as_str()) || h.role == "broker" || h.role == "consumer"
        })
        .map(|(i, h)| (role_rank(&h.role), i, h.name.as_str()))
        .collect();
    ranked.sort();
    let mut lanes: Vec<&str> = ranked.into_iter().map(|(_, _, h)| h).collect();
    for h in in_trail {
        if !lanes.contains(&h) {
            lanes.push(h);
        }
    }
    lanes
}

/// How long after a trail's end a crash or power loss of a host it reached
/// is still drawn with it, as the likely reason it went no further.
const FOLLOW_US: u64 = 10_000_000;

/// The simulated-time window to draw, in microseconds: the lifecycle, plus
/// the first crash or power loss that hits a host the message reached and
/// starts soon after the trail ends (a consumer crashing with the message
/// unprocessed, say), padded.
fn window(lost: &LostMessage, spans: &[FaultSpan]) -> (f64, f64) {
    let t0 = lost.trail.first().map_or(0, |e| e.at_us);
    let mut t1 = lost.trail.last().map_or(0, |e| e.at_us);
    let reached: BTreeSet<&str> = lost.trail.iter().map(|e| e.host.as_str()).collect();
    if let Some(s) = spans
        .iter()
        .filter(|s| faults::takes_host_down(&s.action))
        .filter(|s| s.start_us > t1 && s.start_us - t1 <= FOLLOW_US)
        .find(|s| s.hosts.iter().any(|h| reached.contains(h.as_str())))
    {
        t1 = t1.max(s.end_us);
    }
    let (t0, t1) = (t0 as f64, t1 as f64);
    let span = (t1 - t0).max(MIN_WINDOW_US);
    let mid = (t0 + t1) / 2.0;
    let (lo, hi) = if t1 - t0 < MIN_WINDOW_US {
        (mid - span / 2.0, mid + span / 2.0)
    } else {
        (t0, t1)
    };
    let pad = span * 0.05;
    ((lo - pad).max(0.0), hi + pad)
}

/// A marker on a lane.
struct Placed {
    /// Where its time falls.
    x: f64,
    mark: Mark,
    tooltip: String,
    /// Whether this is the last event of the trail.
    last: bool,
}

/// A controller decision drawn as a dotted line from the controller's lane
/// to the lane of the broker it is about.
struct Link {
    x: f64,
    from: usize,
    to: usize,
    tooltip: String,
}

/// The geometry of one timeline.
struct Frame<'a> {
    x: Scale,
    lanes: Vec<&'a str>,
    top: f64,
}

impl Frame<'_> {
    fn lane(&self, host: &str) -> Option<usize> {
        self.lanes.iter().position(|h| *h == host)
    }

    fn lane_y(&self, lane: usize) -> f64 {
        self.top + LANE * (lane as f64 + 0.5)
    }

    /// The bottom of the lanes, with room under the last one for a label
    /// set below its line.
    fn bottom(&self) -> f64 {
        self.top + LANE * self.lanes.len() as f64 + 8.0
    }
}

/// Draws the lifecycle of `lost` with the faults of its run.
pub fn render(lost: &LostMessage, spans: &[FaultSpan], hosts: &[Host]) -> Timeline {
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
    draw_lanes(&mut svg, &frame, &per_lane);
    for (row, span) in visible.iter().enumerate() {
        if faults::takes_host_down(&span.action) {
            draw_downtime(&mut svg, &frame, span);
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
        draw_ack(&mut svg, &frame, ack.at_us);
    }
    draw_axis(&mut svg, &frame, lo, hi);
    for link in &links {
        svg.group("link", Some(&link.tooltip));
        let (y0, y1) = (frame.lane_y(link.from), frame.lane_y(link.to));
        svg.line(link.x, y0, link.x, y1, "link-line");
        svg.end_group();
    }
    for (lane, placed) in per_lane.iter().enumerate() {
        draw_marks(&mut svg, frame.lane_y(lane), placed);
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

/// Where each event goes: its lane, its mark, its place in time. A
/// controller decision is also marked on the broker it is about, with a
/// link between the two lanes.
fn place(lost: &LostMessage, id: MsgId, frame: &Frame<'_>) -> (Vec<Vec<Placed>>, Vec<Link>) {
    let mut per_lane: Vec<Vec<Placed>> = frame.lanes.iter().map(|_| Vec::new()).collect();
    let mut links = Vec::new();
    for (n, e) in lost.trail.iter().enumerate() {
        let Some(lane) = frame.lane(&e.host) else {
            continue;
        };
        let tooltip = format!(
            "{}  {}  {}",
            secs(e.at_us),
            e.host,
            describe::event(&e.kind)
        );
        let x = frame.x.at(e.at_us as f64);
        let about = match &e.kind {
            EventKind::Elect {
                leader: Some(l),
                epoch,
                ..
            } => Some((l.as_str(), Shape::Star, format!("leader e{epoch}"))),
            EventKind::Fence { broker, .. } => Some((broker.as_str(), Shape::Bar, "fenced".into())),
            _ => None,
        };
        if let Some((target, shape, label)) = about {
            if let Some(to) = frame.lane(target) {
                links.push(Link {
                    x,
                    from: lane,
                    to,
                    tooltip: tooltip.clone(),
                });
                per_lane[to].push(Placed {
                    x,
                    mark: Mark {
                        shape,
                        class: "k-control",
                        label,
                    },
                    tooltip: tooltip.clone(),
                    last: false,
                });
            }
        }
        per_lane[lane].push(Placed {
            x,
            mark: marks::mark(&e.kind, id),
            tooltip,
            last: n + 1 == lost.trail.len(),
        });
    }
    (per_lane, links)
}

/// The lanes, striped, each with its host's name: bold where the message
/// went, grey where it never did.
fn draw_lanes(svg: &mut Svg, frame: &Frame<'_>, per_lane: &[Vec<Placed>]) {
    for (i, host) in frame.lanes.iter().enumerate() {
        let y = frame.lane_y(i);
        if i % 2 == 0 {
            svg.rect(
                GUTTER,
                y - LANE / 2.0,
                WIDTH - RIGHT - GUTTER,
                LANE,
                "lane-bg",
            );
        }
        let class = if per_lane[i].is_empty() {
            "lane-name idle"
        } else {
            "lane-name"
        };
        svg.text(GUTTER - 10.0, y + 4.0, "end", class, host);
        svg.line(GUTTER, y, WIDTH - RIGHT, y, "lane-line");
    }
}

/// A hatched stretch on the lane of each host a crash or power loss took
/// down, for as long as it was down.
fn draw_downtime(svg: &mut Svg, frame: &Frame<'_>, span: &FaultSpan) {
    let x0 = frame.x.clamped(span.start_us as f64);
    let x1 = frame.x.clamped(span.end_us as f64);
    svg.group("downtime", Some(&faults::tooltip(span)));
    for h in &span.hosts {
        if let Some(lane) = frame.lane(h) {
            let y = frame.lane_y(lane);
            svg.rect(x0, y - 9.0, (x1 - x0).max(2.0), 18.0, "down");
        }
    }
    svg.end_group();
}

/// The moment the producer was told the message was stored, as a line
/// across every lane.
fn draw_ack(svg: &mut Svg, frame: &Frame<'_>, at_us: u64) {
    let x = frame.x.at(at_us as f64);
    svg.line(x, 10.0, x, frame.bottom(), "ack-line");
    let label = format!("acknowledged {}", secs(at_us));
    if x + 4.0 + text_width(&label, 11.0) <= WIDTH - RIGHT {
        svg.text(x + 4.0, 16.0, "start", "ack-label", &label);
    } else {
        svg.text(x - 4.0, 16.0, "end", "ack-label", &label);
    }
}

/// The time axis under the lanes, with a faint grid.
fn draw_axis(svg: &mut Svg, frame: &Frame<'_>, lo: f64, hi: f64) {
    let bottom = frame.bottom();
    let values = ticks(lo / 1e6, hi / 1e6, 7);
    let step = if values.len() > 1 {
        values[1] - values[0]
    } else {
        1.0
    };
    svg.line(GUTTER, bottom, WIDTH - RIGHT, bottom, "axis");
    for t in &values {
        let x = frame.x.at(t * 1e6);
        svg.line(x, bottom, x, bottom + 4.0, "axis");
        svg.line(x, frame.top, x, bottom, "grid");
        svg.text(x, bottom + 16.0, "middle", "tick", &tick_secs(*t, step));
    }
}

/// The markers of one lane at height `y`, spread where they would overlap,
/// with one label per cluster of nearby markers: above the lane, else below
/// it, else left to the tooltips. The trail's last event is ringed.
fn draw_marks(svg: &mut Svg, y: f64, placed: &[Placed]) {
    let mut drawn: Vec<f64> = Vec::with_capacity(placed.len());
    for p in placed {
        let x = match drawn.last() {
            Some(prev) if p.x < prev + MIN_GAP => prev + MIN_GAP,
            _ => p.x,
        };
        drawn.push(x);
    }
    for (p, x) in placed.iter().zip(&drawn) {
        svg.group("ev", Some(&p.tooltip));
        marks::draw(svg, p.mark.shape, *x, y, MARK, p.mark.class);
        svg.end_group();
        if p.last {
            svg.circle(*x, y, MARK + 4.0, "end-ring");
        }
    }
    let mut above_end = f64::MIN;
    let mut below_end = f64::MIN;
    let mut i = 0;
    while i < placed.len() {
        let mut j = i + 1;
        while j < placed.len() && drawn[j] - drawn[j - 1] < CLUSTER {
            j += 1;
        }
        let mut labels: Vec<&str> = Vec::new();
        for p in &placed[i..j] {
            if !labels.contains(&p.mark.label.as_str()) {
                labels.push(&p.mark.label);
            }
        }
        let text = labels.join(" · ");
        let w = text_width(&text, 11.0);
        let mut start = drawn[i] - MARK;
        if start + w > WIDTH - RIGHT {
            start = (drawn[j - 1] + MARK - w).max(GUTTER);
        }
        let class = if placed[i..j].iter().any(|p| p.mark.class == "k-loss") {
            "ev-label loss"
        } else {
            "ev-label"
        };
        if start >= above_end + 6.0 {
            svg.text(start, y - MARK - 5.0, "start", class, &text);
            above_end = start + w;
        } else if start >= below_end + 6.0 {
            svg.text(start, y + MARK + 13.0, "start", class, &text);
            below_end = start + w;
        }
        i = j;
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
            "fsynced on".to_string(),
            list(
                hosts_with(&|k| matches!(k, EventKind::Fsync { .. })),
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
pub fn key() -> Vec<KeyItem> {
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
    use crate::html::tests::{ev, lost};

    fn hosts() -> Vec<Host> {
        [
            ("controller", "controller"),
            ("broker-1", "broker"),
            ("broker-2", "broker"),
            ("producer-1", "producer"),
            ("consumer-1", "consumer"),
        ]
        .iter()
        .map(|(n, r)| Host {
            name: (*n).into(),
            role: (*r).into(),
        })
        .collect()
    }

    fn crash(host: &str, start_ms: u64, end_ms: u64) -> FaultSpan {
        FaultSpan {
            start_us: start_ms * 1000,
            end_us: end_ms * 1000,
            action: "crash".into(),
            hosts: vec![host.into()],
            detail: format!("crash {host}"),
        }
    }

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

    #[test]
    fn the_window_reaches_a_crash_soon_after_the_trail_but_not_a_late_one() {
        let l = lost(0, "broker-1");
        let end = l.trail.last().unwrap().at_us as f64;
        let (_, hi) = window(&l, &[crash("broker-1", 5_000, 6_000)]);
        assert!(hi > 6_000_000.0, "the crash after the trail is drawn");
        let (_, hi) = window(&l, &[crash("broker-1", 60_000, 61_000)]);
        assert!(hi < end + 1_000_000.0, "a crash a minute later is not");
        let (_, hi) = window(&l, &[crash("broker-2", 5_000, 6_000)]);
        assert!(
            hi < 6_000_000.0,
            "a crash of a host it never reached is not"
        );
    }

    #[test]
    fn a_trail_of_one_instant_gets_a_readable_window() {
        let mut l = lost(0, "broker-1");
        l.trail.truncate(1);
        l.trail.push(ev(
            2000,
            "producer-1",
            EventKind::SendOk {
                msg: MsgId::new(1, 0),
                offset: None,
            },
        ));
        let (lo, hi) = window(&l, &[]);
        assert!(hi - lo >= MIN_WINDOW_US);
        assert!(lo < 2_000_000.0 && hi > 2_000_000.0);
    }
}
