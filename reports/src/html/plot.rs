//! A run's throughput and latency over simulated time, with its faults as
//! bands, after Jepsen's rate and latency graphs: acknowledgements and
//! processing per second on top, then the consumers' backlog (Kafka's
//! consumer lag plus the queues' `messages_ready`), send-to-acknowledgement
//! latency (log scale) at the bottom, on one time axis.

use super::faults;
use super::format::{latency, num, secs, tick_secs, ticks};
use super::marks::KeyItem;
use super::svg::{polyline, Scale, Svg};
use crate::document::{FaultSpan, Phase, Series};

const WIDTH: f64 = 960.0;
const LEFT: f64 = 76.0;
const RIGHT: f64 = 24.0;
const ROW: f64 = 15.0;
const RATE_H: f64 = 140.0;
const BACKLOG_H: f64 = 80.0;
const GAP: f64 = 26.0;
const LAT_H: f64 = 100.0;
const AXIS: f64 = 28.0;

/// Draws one run's plot; `label` names it for assistive technology.
pub(crate) fn render(
    series: &Series,
    spans: &[FaultSpan],
    phases: &[Phase],
    label: &str,
) -> String {
    let bucket_us = series.bucket_ms.max(1) * 1000;
    let n = series.buckets.len().max(1);
    let end_us = phases
        .iter()
        .find(|p| p.name == "end")
        .map_or(n as u64 * bucket_us, |p| p.at_us)
        .max(1);
    let top = 10.0 + ROW * spans.len() as f64;
    let rate_top = top;
    let rate_bottom = rate_top + RATE_H;
    let backlog = series.buckets.iter().any(|b| b.backlog.is_some());
    let backlog_panel = backlog.then_some((rate_bottom + GAP, rate_bottom + GAP + BACKLOG_H));
    let lat_top = backlog_panel.map_or(rate_bottom, |(_, bottom)| bottom) + GAP;
    let lat_bottom = lat_top + LAT_H;
    let height = lat_bottom + AXIS;
    let x = Scale {
        d0: 0.0,
        d1: end_us as f64,
        p0: LEFT,
        p1: WIDTH - RIGHT,
    };
    let per_sec = 1000.0 / series.bucket_ms.max(1) as f64;
    let mid = |i: usize| x.at((i as f64 + 0.5) * bucket_us as f64);

    let mut svg = Svg::new(WIDTH, height, "plot", label);

    // Fault bands across every panel, labelled above.
    let mut areas = vec![(rate_top, rate_bottom)];
    areas.extend(backlog_panel);
    areas.push((lat_top, lat_bottom));
    for (row, span) in spans.iter().enumerate() {
        let label_y = ROW * row as f64 + 15.0;
        faults::draw(&mut svg, span, &x, &areas, label_y, WIDTH - RIGHT);
    }

    // The final heal: where the faults end and the drain begins.
    if let Some(p) = phases.iter().find(|p| p.name == "heal") {
        let hx = x.at(p.at_us as f64);
        svg.line(hx, rate_top, hx, lat_bottom, "phase-line");
        svg.text(
            hx + 4.0,
            rate_top + 11.0,
            "start",
            "phase-label",
            "final heal, drain",
        );
    }

    // Rate panel.
    let rates = |f: fn(&crate::document::Bucket) -> u32| -> Vec<f64> {
        series
            .buckets
            .iter()
            .map(|b| f(b) as f64 * per_sec)
            .collect()
    };
    let acked = rates(|b| b.acked);
    let processed = rates(|b| b.processed);
    let failed = rates(|b| b.failed + b.unknown);
    let max_rate = acked
        .iter()
        .chain(&processed)
        .chain(&failed)
        .fold(1.0f64, |m, v| m.max(*v));
    let y_rate = value_axis(
        &mut svg,
        max_rate,
        4,
        (rate_top, rate_bottom),
        "messages / s",
    );
    let mut lines = vec![(&processed, "s-processed"), (&acked, "s-acked")];
    if failed.iter().any(|v| *v > 0.0) {
        lines.push((&failed, "s-failed"));
    }
    for (values, class) in lines {
        let d = polyline(
            values
                .iter()
                .enumerate()
                .map(|(i, v)| Some((mid(i), y_rate.at(*v)))),
        );
        svg.path(&d, &format!("series {class}"));
    }

    if let Some(panel) = backlog_panel {
        backlog_panel_draw(&mut svg, series, &x, panel);
    }

    // Latency panel, log scale in milliseconds.
    let lat_ms: Vec<(Option<f64>, Option<f64>)> = series
        .buckets
        .iter()
        .map(|b| {
            (
                b.latency_p50_us.map(|u| (u as f64 / 1000.0).max(0.1)),
                b.latency_max_us.map(|u| (u as f64 / 1000.0).max(0.1)),
            )
        })
        .collect();
    let hi_ms = lat_ms
        .iter()
        .filter_map(|(_, m)| *m)
        .fold(10.0f64, f64::max);
    let decades_hi = hi_ms.log10().ceil().max(1.0);
    let y_lat = Scale {
        d0: -1.0,
        d1: decades_hi,
        p0: lat_bottom,
        p1: lat_top,
    };
    let ly = |ms: f64| y_lat.at(ms.max(0.1).log10());
    panel_axis(
        &mut svg,
        (-1..=(decades_hi as i32)).map(|d| (ly(10f64.powi(d)), decade(d))),
        (lat_top, lat_bottom),
        "send → ack",
    );
    let half = (x.at(bucket_us as f64) - x.at(0.0)) / 2.0;
    for (i, (p50, max)) in lat_ms.iter().enumerate() {
        if let (Some(p), Some(m)) = (p50, max) {
            let (y0, y1) = (ly(*m), ly(*p));
            svg.rect(
                mid(i) - half * 0.8,
                y0,
                half * 1.6,
                (y1 - y0).max(1.5),
                "s-max",
            );
        }
    }
    let d = polyline(
        lat_ms
            .iter()
            .enumerate()
            .map(|(i, (p, _))| p.map(|p| (mid(i), ly(p)))),
    );
    svg.path(&d, "series s-p50");

    // Time axis.
    let tv = ticks(0.0, end_us as f64 / 1e6, 10);
    let step = if tv.len() > 1 { tv[1] - tv[0] } else { 1.0 };
    for t in &tv {
        let tx = x.at(t * 1e6);
        svg.line(tx, lat_bottom, tx, lat_bottom + 4.0, "axis");
        svg.text(
            tx,
            lat_bottom + 17.0,
            "middle",
            "tick",
            &tick_secs(*t, step),
        );
    }

    // A tooltip per bucket, over both panels.
    for (i, b) in series.buckets.iter().enumerate() {
        let start = i as u64 * bucket_us;
        let lat = match (b.latency_p50_us, b.latency_max_us) {
            (Some(p), Some(m)) => format!(
                "; latency of sends started here: median {}, max {}",
                latency(p),
                latency(m)
            ),
            _ => String::new(),
        };
        let backlog = b
            .backlog
            .map(|n| format!("; {n} still readable"))
            .unwrap_or_default();
        let tip = format!(
            "{} – {}: {} sent, {} acknowledged, {} refused, {} unknown, {} processed{backlog}{lat}",
            secs(start),
            secs(start + bucket_us),
            b.sent,
            b.acked,
            b.failed,
            b.unknown,
            b.processed
        );
        svg.group("hover", Some(&tip));
        svg.rect(
            x.at(start as f64),
            rate_top,
            x.at((start + bucket_us) as f64) - x.at(start as f64),
            lat_bottom - rate_top,
            "hover-area",
        );
        svg.end_group();
    }
    svg.finish()
}

/// The top of an axis from 0 that holds `max`: the next round tick at or
/// above it.
fn round_up(max: f64) -> f64 {
    let t = ticks(0.0, max, 4);
    t.last().copied().filter(|v| *v >= max).unwrap_or_else(|| {
        let step = if t.len() > 1 { t[1] - t[0] } else { max };
        (max / step).ceil() * step
    })
}

/// The backlog panel: messages consumers could still read, as sampled,
/// drawn as steps (a sample holds until the next). It shows a consumer
/// falling behind the producers, and a drain that ends before it is read.
fn backlog_panel_draw(svg: &mut Svg, series: &Series, x: &Scale, (top, bottom): (f64, f64)) {
    let bucket_us = series.bucket_ms.max(1) * 1000;
    let most = series
        .buckets
        .iter()
        .filter_map(|b| b.backlog)
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let y = value_axis(svg, most, 3, (top, bottom), "backlog");
    let steps = series.buckets.iter().enumerate().flat_map(|(i, b)| {
        let start = (i as u64 * bucket_us) as f64;
        let end = start + bucket_us as f64;
        let at = |t: f64| b.backlog.map(|v| (x.at(t), y.at(v as f64)));
        [at(start), at(end)]
    });
    svg.path(&polyline(steps), "series s-backlog");
}

/// A panel's vertical scale from zero to `most` rounded up to a tick, with
/// its axis drawn: `count` ticks between `bottom` and `top`.
fn value_axis(
    svg: &mut Svg,
    most: f64,
    count: usize,
    (top, bottom): (f64, f64),
    title: &str,
) -> Scale {
    let max = round_up(most);
    let y = Scale {
        d0: 0.0,
        d1: max,
        p0: bottom,
        p1: top,
    };
    panel_axis(
        svg,
        ticks(0.0, max, count)
            .into_iter()
            .map(|t| (y.at(t), num(t))),
        (top, bottom),
        title,
    );
    y
}

/// A panel's left axis: a grid line and a label at each `(y, label)`, the
/// panel's title set upright beside them, and the base line.
fn panel_axis(
    svg: &mut Svg,
    ticks: impl IntoIterator<Item = (f64, String)>,
    (top, bottom): (f64, f64),
    title: &str,
) {
    for (y, label) in ticks {
        svg.line(LEFT, y, WIDTH - RIGHT, y, "grid");
        svg.text(LEFT - 6.0, y + 4.0, "end", "tick", &label);
    }
    svg.vtext(16.0, (top + bottom) / 2.0, "axis-title", title);
    svg.line(LEFT, bottom, WIDTH - RIGHT, bottom, "axis");
}

/// The label of the latency axis at 10^`d` milliseconds.
fn decade(d: i32) -> String {
    match d {
        ..=-1 => format!("{} ms", 10f64.powi(d)),
        0..=2 => format!("{} ms", 10i64.pow(d as u32)),
        _ => format!("{} s", 10i64.pow(d as u32 - 3)),
    }
}

/// The key of every plot.
pub(crate) fn key() -> Vec<KeyItem> {
    let line = |class: &str| {
        let mut svg = Svg::icon();
        svg.line(0.0, 8.0, 16.0, 8.0, &format!("series {class}"));
        svg.finish()
    };
    let mut max = Svg::icon();
    max.rect(3.0, 2.0, 10.0, 12.0, "s-max");
    vec![
        KeyItem {
            icon: line("s-acked"),
            text: "acknowledged per second",
        },
        KeyItem {
            icon: line("s-processed"),
            text: "processed per second",
        },
        KeyItem {
            icon: line("s-failed"),
            text: "refused or unknown per second",
        },
        KeyItem {
            icon: line("s-backlog"),
            text: "backlog: messages consumers could still read",
        },
        KeyItem {
            icon: line("s-p50"),
            text: "send → ack latency, median",
        },
        KeyItem {
            icon: max.finish(),
            text: "latency, median to max",
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::document::Bucket;

    fn series(backlog: &[Option<u64>]) -> Series {
        Series {
            bucket_ms: 100,
            buckets: backlog
                .iter()
                .map(|b| Bucket {
                    processed: 3,
                    backlog: *b,
                    ..Bucket::default()
                })
                .collect(),
        }
    }

    #[test]
    fn the_backlog_is_drawn_as_steps_on_its_own_axis() {
        let svg = render(
            &series(&[None, Some(0), Some(120), Some(40)]),
            &[],
            &[],
            "plot",
        );
        assert!(svg.contains("series s-backlog"), "{svg}");
        assert!(svg.contains(">backlog</text>"), "{svg}");
        assert!(svg.contains("120 still readable"), "{svg}");
        let d = svg
            .split("d=\"")
            .find_map(|rest| {
                rest.split_once("\" class=\"series s-backlog\"")
                    .map(|(d, _)| d)
            })
            .expect("a backlog path");
        // One level per sampled bucket, held across it: two points each.
        assert_eq!(d.matches(['M', 'L']).count(), 6, "{d}");
        assert!(d.starts_with('M'), "{d}");
    }

    #[test]
    fn a_series_without_samples_has_no_backlog_panel() {
        let svg = render(&series(&[None, None]), &[], &[], "plot");
        assert!(!svg.contains("s-backlog"));
        assert!(!svg.contains(">backlog</text>"));
    }

    #[test]
    fn decades_read_as_durations() {
        let labels: Vec<String> = (-1..=4).map(decade).collect();
        assert_eq!(labels, ["0.1 ms", "1 ms", "10 ms", "100 ms", "1 s", "10 s"]);
    }
}
