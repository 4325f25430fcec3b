//! How each history event is drawn on a timeline: its shape, its colour
//! class and its short label. The legend is drawn from the same table, so
//! the two cannot disagree.
//!
//! Shapes differ as well as colours, so a reader who cannot tell the
//! palette's colours apart can still tell the events apart.

use broker_model::{EventKind, MsgId};

use super::format::num;
use super::svg::Svg;

/// A marker shape.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// An outlined circle.
    Ring,
    /// A filled circle.
    Dot,
    /// A filled diamond.
    Diamond,
    /// An outlined diamond.
    OpenDiamond,
    /// A filled square.
    Square,
    /// An outlined square.
    OpenSquare,
    /// A filled triangle pointing down.
    TriangleDown,
    /// An outlined triangle pointing up.
    OpenTriangle,
    /// A filled triangle pointing up.
    Triangle,
    /// A bold cross.
    Cross,
    /// A five-pointed star.
    Star,
    /// A short vertical bar.
    Bar,
}

/// How one event is drawn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Mark {
    /// The shape.
    pub(crate) shape: Shape,
    /// The CSS class that colours it (`k-append`, `k-loss`, …).
    pub(crate) class: &'static str,
    /// A short label for next to the marker.
    pub(crate) label: String,
}

/// The mark of an event of `id`'s lifecycle.
pub(crate) fn mark(kind: &EventKind, id: MsgId) -> Mark {
    let m = |shape, class, label: String| Mark {
        shape,
        class,
        label,
    };
    match kind {
        EventKind::Send { .. } => m(Shape::Ring, "k-send", "send".into()),
        EventKind::SendOk { offset, .. } => m(
            Shape::Diamond,
            "k-ack",
            match offset {
                Some(o) => format!("acked @{o}"),
                None => "acked".into(),
            },
        ),
        EventKind::SendFail { .. } => m(Shape::Cross, "k-fail", "refused".into()),
        EventKind::SendUnknown { .. } => m(Shape::OpenDiamond, "k-fail", "unknown".into()),
        EventKind::Append { offset, epoch, .. } => m(
            Shape::Square,
            "k-append",
            format!("append @{offset} e{epoch}"),
        ),
        EventKind::Fsync { .. } => m(Shape::TriangleDown, "k-fsync", "fsync".into()),
        EventKind::Writeback { .. } => m(Shape::TriangleDown, "k-fsync", "written back".into()),
        EventKind::Receive {
            offset,
            redelivered,
            ..
        } => {
            let word = if *redelivered {
                "redelivered"
            } else {
                "receive"
            };
            m(
                Shape::OpenTriangle,
                "k-receive",
                match offset {
                    Some(o) => format!("{word} @{o}"),
                    None => word.into(),
                },
            )
        }
        EventKind::Processed {
            dead_lettered: true,
            ..
        } => m(
            Shape::Dot,
            "k-recover",
            "processed from a dead-letter queue".into(),
        ),
        EventKind::Processed { .. } => m(Shape::Dot, "k-processed", "processed".into()),
        EventKind::Reject { .. } => m(Shape::OpenTriangle, "k-fail", "rejected".into()),
        EventKind::Crash { .. } => m(Shape::Cross, "k-fail", "consumer crashed on it".into()),
        EventKind::Ack { .. } => m(Shape::Dot, "k-processed", "consumer ack".into()),
        EventKind::Commit { offset, .. } => m(
            Shape::Triangle,
            "k-loss",
            format!("commit past it @{offset}"),
        ),
        EventKind::Truncate { to, .. } => m(Shape::Cross, "k-loss", format!("truncate to {to}")),
        EventKind::Recover { msgs, .. } if msgs.contains(&id) => {
            m(Shape::OpenSquare, "k-recover", "recover: has it".into())
        }
        EventKind::Recover { .. } => m(Shape::Cross, "k-loss", "recover: gone".into()),
        EventKind::Elect {
            leader: Some(l),
            epoch,
            from,
            ..
        } => {
            let from = from
                .as_ref()
                .map_or(String::new(), |f| format!(" from {}", f.name()));
            m(
                Shape::Star,
                "k-control",
                format!("elect {l} e{epoch}{from}"),
            )
        }
        EventKind::Elect { epoch, .. } => {
            m(Shape::Star, "k-control", format!("no leader e{epoch}"))
        }
        EventKind::Fence { broker, .. } => m(Shape::Bar, "k-control", format!("fence {broker}")),
        EventKind::BecomeLeader { epoch, .. } => {
            m(Shape::Star, "k-control", format!("leader e{epoch}"))
        }
        EventKind::BecomeFollower { .. } => m(Shape::Dot, "k-other", "follower".into()),
        EventKind::IsrChange {
            isr,
            elr,
            unclean_shutdown,
            ..
        } => {
            let mut label = format!("ISR {}", isr.join(","));
            if !elr.is_empty() {
                label.push_str(&format!(" ELR {}", elr.join(",")));
            }
            if let Some(b) = unclean_shutdown {
                label.push_str(&format!(" ({b} back from an unclean shutdown)"));
            }
            m(Shape::Bar, "k-control", label)
        }
        EventKind::Promote { epoch, synced, .. } => m(
            Shape::Star,
            "k-control",
            if *synced {
                format!("promoted e{epoch}")
            } else {
                format!("promoted unsynced e{epoch}")
            },
        ),
        EventKind::Drop { reason, .. } => m(
            Shape::Cross,
            "k-loss",
            format!("dropped: {}", reason.name()),
        ),
        EventKind::DeadLettered { to, reason, .. } => m(
            Shape::OpenSquare,
            "k-recover",
            format!("dead-lettered ({}) to {to:?}", reason.name()),
        ),
        EventKind::OffsetReset { from, to, .. } => {
            let from = from.map_or("no committed offset".to_string(), |o| format!("@{o}"));
            let label = match to {
                Some(to) => format!("offset reset {from} → @{to}"),
                None => format!("offset reset {from}: stopped (auto.offset.reset=none)"),
            };
            m(Shape::Bar, "k-control", label)
        }
        EventKind::Rebalance {
            generation,
            members,
            ..
        } => m(
            Shape::Star,
            "k-control",
            format!("rebalance g{generation}: {} members", members.len()),
        ),
        EventKind::Assign {
            partitions,
            generation,
            ..
        } => m(
            Shape::Bar,
            "k-control",
            format!("assign {} g{generation}", list(partitions)),
        ),
        EventKind::Revoke {
            partitions,
            generation,
            lost,
            ..
        } => m(
            Shape::Bar,
            "k-loss",
            format!(
                "{} {} g{generation}",
                if *lost { "lost" } else { "revoke" },
                list(partitions)
            ),
        ),
        EventKind::Discard { reason, .. } => {
            m(Shape::Cross, "k-loss", format!("discard: {reason}"))
        }
        EventKind::Requeue { .. } => m(Shape::OpenSquare, "k-recover", "requeued".into()),
        EventKind::Pause { .. } => m(Shape::Bar, "k-control", "pause (minority)".into()),
        EventKind::Resume { .. } => m(Shape::Bar, "k-control", "resume".into()),
        EventKind::Autoheal { .. } => m(Shape::Bar, "k-control", "autoheal restart".into()),
        EventKind::Fault { action, .. } => m(Shape::Bar, "k-other", action.clone()),
        EventKind::Heal { .. } => m(Shape::Bar, "k-other", "heal".into()),
        EventKind::Phase { name } => m(Shape::Bar, "k-other", name.clone()),
        EventKind::Backlog { messages } => m(Shape::Bar, "k-other", format!("backlog {messages}")),
        EventKind::DrainEnded { drained, readable } => m(
            Shape::Bar,
            "k-other",
            if *drained {
                "drained".into()
            } else {
                format!("drain ended, {readable} readable")
            },
        ),
    }
}

/// Partitions as a short label: `p0,p1`, or `nothing`.
fn list(partitions: &[String]) -> String {
    if partitions.is_empty() {
        "nothing".into()
    } else {
        partitions.join(",")
    }
}

/// The legend: one entry per kind of mark a lifecycle can show.
pub(crate) const LEGEND: &[(Shape, &str, &str)] = &[
    (Shape::Ring, "k-send", "send"),
    (Shape::Square, "k-append", "append on a replica"),
    (
        Shape::TriangleDown,
        "k-fsync",
        "fsync or writeback (on disk)",
    ),
    (Shape::Diamond, "k-ack", "acknowledged"),
    (Shape::OpenTriangle, "k-receive", "received"),
    (Shape::OpenSquare, "k-recover", "restart, still held"),
    (Shape::Star, "k-control", "election or rebalance"),
    (
        Shape::Bar,
        "k-control",
        "fence, offset reset or partition assigned",
    ),
    (
        Shape::Bar,
        "k-loss",
        "partition revoked: its fetched records dropped",
    ),
    (Shape::Cross, "k-loss", "truncated / forgotten"),
    (Shape::Triangle, "k-loss", "committed past, unprocessed"),
    (Shape::OpenTriangle, "k-fail", "rejected by the consumer"),
    (
        Shape::Dot,
        "k-recover",
        "processed from a dead-letter queue",
    ),
];

/// One entry of a drawing's key: a small icon and what it stands for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeyItem {
    /// The icon, as a small inline SVG.
    pub(crate) icon: String,
    /// What it means.
    pub(crate) text: &'static str,
}

/// A 16×16 icon of a marker.
pub(crate) fn icon(shape: Shape, class: &str) -> String {
    let mut svg = Svg::icon();
    draw(&mut svg, shape, 8.0, 8.0, 5.5, class);
    svg.finish()
}

/// Draws `shape` centred on `(x, y)` with colour class `class`; `size` is
/// the half-width of the marker.
pub(crate) fn draw(svg: &mut Svg, shape: Shape, x: f64, y: f64, size: f64, class: &str) {
    let s = size;
    let poly = |pts: &[(f64, f64)]| {
        let mut d = String::new();
        for (i, (px, py)) in pts.iter().enumerate() {
            d.push(if i == 0 { 'M' } else { 'L' });
            d.push_str(&num(x + px));
            d.push(' ');
            d.push_str(&num(y + py));
        }
        d.push('Z');
        d
    };
    match shape {
        Shape::Ring => svg.circle(x, y, s * 0.85, &format!("mk open {class}")),
        Shape::Dot => svg.circle(x, y, s * 0.85, &format!("mk {class}")),
        Shape::Diamond => svg.path(
            &poly(&[(0.0, -s), (s, 0.0), (0.0, s), (-s, 0.0)]),
            &format!("mk {class}"),
        ),
        Shape::OpenDiamond => svg.path(
            &poly(&[(0.0, -s), (s, 0.0), (0.0, s), (-s, 0.0)]),
            &format!("mk open {class}"),
        ),
        Shape::Square => svg.rect(
            x - s * 0.8,
            y - s * 0.8,
            s * 1.6,
            s * 1.6,
            &format!("mk {class}"),
        ),
        Shape::OpenSquare => svg.rect(
            x - s * 0.8,
            y - s * 0.8,
            s * 1.6,
            s * 1.6,
            &format!("mk open {class}"),
        ),
        Shape::TriangleDown => svg.path(
            &poly(&[(-s, -s * 0.8), (s, -s * 0.8), (0.0, s)]),
            &format!("mk {class}"),
        ),
        Shape::OpenTriangle => svg.path(
            &poly(&[(-s, s * 0.8), (s, s * 0.8), (0.0, -s)]),
            &format!("mk open {class}"),
        ),
        Shape::Triangle => svg.path(
            &poly(&[(-s, s * 0.8), (s, s * 0.8), (0.0, -s)]),
            &format!("mk {class}"),
        ),
        Shape::Cross => {
            let k = s * 0.8;
            svg.path(
                &format!(
                    "M{} {}L{} {}M{} {}L{} {}",
                    num(x - k),
                    num(y - k),
                    num(x + k),
                    num(y + k),
                    num(x - k),
                    num(y + k),
                    num(x + k),
                    num(y - k)
                ),
                &format!("mk cross {class}"),
            )
        }
        Shape::Star => {
            let mut pts = Vec::new();
            for i in 0..10 {
                let r = if i % 2 == 0 { s * 1.15 } else { s * 0.5 };
                let a = std::f64::consts::PI * (i as f64) / 5.0 - std::f64::consts::FRAC_PI_2;
                pts.push((r * a.cos(), r * a.sin()));
            }
            svg.path(&poly(&pts), &format!("mk {class}"))
        }
        Shape::Bar => svg.rect(x - 1.6, y - s, 3.2, s * 2.0, &format!("mk {class}")),
    }
}
