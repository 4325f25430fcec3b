//! Where a timeline puts things: the lanes and their order, the window of
//! simulated time, and the place of every marker, before anything is drawn.

use std::collections::BTreeSet;

use broker_model::{EventKind, HostRole, MsgId};

use crate::describe;
use crate::document::{FaultSpan, Host, LostMessage};
use crate::html::faults;
use crate::html::format::secs;
use crate::html::marks::{self, Mark, Shape};
use crate::html::svg::Scale;

pub(super) const WIDTH: f64 = 960.0;
pub(super) const GUTTER: f64 = 112.0;
pub(super) const RIGHT: f64 = 24.0;
pub(super) const ROW: f64 = 15.0;
pub(super) const LANE: f64 = 40.0;
pub(super) const AXIS: f64 = 26.0;
pub(super) const MARK: f64 = 6.0;
/// Markers closer than this on one lane are spread apart.
pub(super) const MIN_GAP: f64 = 10.0;
/// Labels of markers closer than this on one lane are merged.
pub(super) const CLUSTER: f64 = 16.0;
/// The narrowest window drawn, in microseconds, so that a trail of one
/// instant is not stretched over the whole width.
pub(super) const MIN_WINDOW_US: f64 = 100_000.0;

/// Where a host's lane goes: in the order a message flows.
fn role_rank(role: HostRole) -> u8 {
    match role {
        HostRole::Producer => 0,
        HostRole::Broker => 1,
        HostRole::Controller => 2,
        HostRole::Consumer => 3,
    }
}

/// The lanes: hosts in the trail, plus every broker and consumer (an empty
/// lane says "never got there"), producers first, then brokers, the
/// controller and consumers, as a message flows.
pub(super) fn lanes<'a>(lost: &'a LostMessage, hosts: &'a [Host]) -> Vec<&'a str> {
    let in_trail: Vec<&str> = lost.trail.iter().map(|e| e.host.as_str()).collect();
    let mut ranked: Vec<(u8, usize, &str)> = hosts
        .iter()
        .enumerate()
        .filter(|(_, h)| {
            in_trail.contains(&h.name.as_str())
                || matches!(h.role, HostRole::Broker | HostRole::Consumer)
        })
        .map(|(i, h)| (role_rank(h.role), i, h.name.as_str()))
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
pub(super) fn window(lost: &LostMessage, spans: &[FaultSpan]) -> (f64, f64) {
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
pub(super) struct Placed {
    /// Where its time falls.
    pub(super) x: f64,
    pub(super) mark: Mark,
    pub(super) tooltip: String,
    /// Whether this is the last event of the trail.
    pub(super) last: bool,
}

/// A controller decision drawn as a dotted line from the controller's lane
/// to the lane of the broker it is about.
pub(super) struct Link {
    pub(super) x: f64,
    pub(super) from: usize,
    pub(super) to: usize,
    pub(super) tooltip: String,
}

/// The geometry of one timeline.
pub(super) struct Frame<'a> {
    pub(super) x: Scale,
    pub(super) lanes: Vec<&'a str>,
    pub(super) top: f64,
}

impl Frame<'_> {
    pub(super) fn lane(&self, host: &str) -> Option<usize> {
        self.lanes.iter().position(|h| *h == host)
    }

    pub(super) fn lane_y(&self, lane: usize) -> f64 {
        self.top + LANE * (lane as f64 + 0.5)
    }

    /// The bottom of the lanes, with room under the last one for a label
    /// set below its line.
    pub(super) fn bottom(&self) -> f64 {
        self.top + LANE * self.lanes.len() as f64 + 8.0
    }
}

/// Where each event goes: its lane, its mark, its place in time. A
/// controller decision is also marked on the broker it is about, with a
/// link between the two lanes.
pub(super) fn place(
    lost: &LostMessage,
    id: MsgId,
    frame: &Frame<'_>,
) -> (Vec<Vec<Placed>>, Vec<Link>) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::html::tests::{ev, lost};

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
