//! How the timelines and the plots draw a fault: a translucent band over
//! the time it lasted, with a labelled rule above the drawing.

use super::format::{secs, text_width};
use super::svg::{Scale, Svg};
use crate::document::FaultSpan;

/// Whether the fault takes a host down (crash, power loss) rather than
/// disturbing the network; the two are drawn in different colours.
pub(crate) fn takes_host_down(action: &str) -> bool {
    matches!(action, "crash" | "power_loss")
}

/// The CSS class of the band of `span`.
fn class(span: &FaultSpan) -> &'static str {
    if takes_host_down(&span.action) {
        "band band-process"
    } else {
        "band band-network"
    }
}

/// The fault's tooltip: when, what the schedule says, whom it hit.
pub(crate) fn tooltip(span: &FaultSpan) -> String {
    format!(
        "{} → {}: {} ({})",
        secs(span.start_us),
        secs(span.end_us),
        span.detail,
        span.hosts.join(", ")
    )
}

/// Draws `span` as a band over each `(top, bottom)` area, and its label on
/// a rule at height `label_y`; `right` is the right edge of the drawing.
pub(crate) fn draw(
    svg: &mut Svg,
    span: &FaultSpan,
    x: &Scale,
    areas: &[(f64, f64)],
    label_y: f64,
    right: f64,
) {
    let (x0, x1) = (
        x.clamped(span.start_us as f64),
        x.clamped(span.end_us as f64),
    );
    let w = (x1 - x0).max(2.0);
    svg.group(class(span), Some(&tooltip(span)));
    for (top, bottom) in areas {
        svg.rect(x0, *top, w, bottom - top, "band-fill");
    }
    let label = format!(
        "{} {}",
        span.action.replace('_', " "),
        span.hosts.join(", ")
    );
    if x0 + 4.0 + text_width(&label, 11.0) <= right {
        svg.text(x0 + 4.0, label_y, "start", "band-label", &label);
    } else {
        svg.text(right, label_y, "end", "band-label", &label);
    }
    svg.line(x0, label_y + 3.0, x0 + w, label_y + 3.0, "band-rule");
    svg.end_group();
}
