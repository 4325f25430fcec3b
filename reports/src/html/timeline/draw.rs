//! Drawing a laid-out timeline: the lanes, the downtime of hosts, the
//! acknowledgement, the time axis and the markers with their labels.

use super::layout::{Frame, Placed, CLUSTER, GUTTER, LANE, MARK, MIN_GAP, RIGHT, WIDTH};
use crate::document::FaultSpan;
use crate::html::faults;
use crate::html::format::{secs, text_width, tick_secs, ticks};
use crate::html::marks;
use crate::html::svg::Svg;

/// The lanes, striped, each with its host's name: bold where the message
/// went, grey where it never did.
pub(super) fn draw_lanes(svg: &mut Svg, frame: &Frame<'_>, per_lane: &[Vec<Placed>]) {
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
pub(super) fn draw_downtime(svg: &mut Svg, frame: &Frame<'_>, span: &FaultSpan) {
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
pub(super) fn draw_ack(svg: &mut Svg, frame: &Frame<'_>, at_us: u64) {
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
pub(super) fn draw_axis(svg: &mut Svg, frame: &Frame<'_>, lo: f64, hi: f64) {
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
pub(super) fn draw_marks(svg: &mut Svg, y: f64, placed: &[Placed]) {
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
