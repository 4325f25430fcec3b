//! A small SVG writer: the drawings are geometry computed in Rust, so they
//! are written element by element rather than through a template.
//!
//! Every text and attribute value that may come from a scenario or a
//! history is escaped here, so the drawing code cannot forget to.

use std::fmt::Write as _;

use super::format::{escape, num};

/// An SVG document being written.
pub(crate) struct Svg {
    out: String,
}

/// A linear map from a data range onto a pixel range.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Scale {
    /// Data value at the start of the range.
    pub(crate) d0: f64,
    /// Data value at the end of the range.
    pub(crate) d1: f64,
    /// Pixel at the start.
    pub(crate) p0: f64,
    /// Pixel at the end.
    pub(crate) p1: f64,
}

impl Scale {
    /// The pixel of data value `v`.
    pub(crate) fn at(&self, v: f64) -> f64 {
        let span = self.d1 - self.d0;
        if span.abs() < f64::EPSILON {
            return self.p0;
        }
        self.p0 + (v - self.d0) / span * (self.p1 - self.p0)
    }

    /// The pixel of `v`, held inside the pixel range.
    pub(crate) fn clamped(&self, v: f64) -> f64 {
        let (lo, hi) = if self.p0 <= self.p1 {
            (self.p0, self.p1)
        } else {
            (self.p1, self.p0)
        };
        self.at(v).clamp(lo, hi)
    }
}

impl Svg {
    /// An SVG of `width` × `height` user units that scales to its container.
    /// `class` styles it from the page's CSS; `label` is its accessible name.
    pub(crate) fn new(width: f64, height: f64, class: &str, label: &str) -> Self {
        let mut out = String::new();
        let _ = write!(
            out,
            r#"<svg xmlns="http://www.w3.org/2000/svg" class="{}" viewBox="0 0 {} {}" role="img" aria-label="{}">"#,
            escape(class),
            num(width),
            num(height),
            escape(label)
        );
        Svg { out }
    }

    /// A 16×16 icon for a key, drawn at its natural size beside text.
    pub(crate) fn icon() -> Self {
        Svg {
            out: r#"<svg xmlns="http://www.w3.org/2000/svg" class="icon" width="16" height="16" viewBox="0 0 16 16" aria-hidden="true">"#.to_string(),
        }
    }

    /// Opens a group with a class and a tooltip (`<title>`).
    pub(crate) fn group(&mut self, class: &str, tooltip: Option<&str>) {
        let _ = write!(self.out, r#"<g class="{}">"#, escape(class));
        if let Some(t) = tooltip {
            let _ = write!(self.out, "<title>{}</title>", escape(t));
        }
    }

    /// Closes the innermost group.
    pub(crate) fn end_group(&mut self) {
        self.out.push_str("</g>");
    }

    /// A rectangle.
    pub(crate) fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, class: &str) {
        let _ = write!(
            self.out,
            r#"<rect x="{}" y="{}" width="{}" height="{}" class="{}"/>"#,
            num(x),
            num(y),
            num(w.max(0.0)),
            num(h.max(0.0)),
            escape(class)
        );
    }

    /// A line segment.
    pub(crate) fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, class: &str) {
        let _ = write!(
            self.out,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" class="{}"/>"#,
            num(x1),
            num(y1),
            num(x2),
            num(y2),
            escape(class)
        );
    }

    /// A path from its `d` data (built by the drawing code from numbers).
    pub(crate) fn path(&mut self, d: &str, class: &str) {
        let _ = write!(
            self.out,
            r#"<path d="{}" class="{}"/>"#,
            escape(d),
            escape(class)
        );
    }

    /// A circle.
    pub(crate) fn circle(&mut self, cx: f64, cy: f64, r: f64, class: &str) {
        let _ = write!(
            self.out,
            r#"<circle cx="{}" cy="{}" r="{}" class="{}"/>"#,
            num(cx),
            num(cy),
            num(r),
            escape(class)
        );
    }

    /// Text; `anchor` is `start`, `middle` or `end`.
    pub(crate) fn text(&mut self, x: f64, y: f64, anchor: &str, class: &str, text: &str) {
        let _ = write!(
            self.out,
            r#"<text x="{}" y="{}" text-anchor="{}" class="{}">{}</text>"#,
            num(x),
            num(y),
            escape(anchor),
            escape(class),
            escape(text)
        );
    }

    /// Text turned to read upwards, centred on `(x, y)`: a vertical axis
    /// title.
    pub(crate) fn vtext(&mut self, x: f64, y: f64, class: &str, text: &str) {
        let _ = write!(
            self.out,
            r#"<text x="{x}" y="{y}" text-anchor="middle" transform="rotate(-90 {x} {y})" class="{}">{}</text>"#,
            escape(class),
            escape(text),
            x = num(x),
            y = num(y),
        );
    }

    /// The finished SVG markup.
    pub(crate) fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }
}

/// A polyline through `points` as path data, breaking the line where a
/// point is `None` (a bucket with nothing to plot).
pub(crate) fn polyline(points: impl IntoIterator<Item = Option<(f64, f64)>>) -> String {
    let mut d = String::new();
    let mut pen_down = false;
    for p in points {
        match p {
            Some((x, y)) => {
                let _ = write!(
                    d,
                    "{}{} {}",
                    if pen_down { "L" } else { "M" },
                    num(x),
                    num(y)
                );
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_tooltips_are_escaped() {
        let mut svg = Svg::new(10.0, 10.0, "t", "a <b>");
        svg.group("g", Some("x<y & \"z\""));
        svg.text(1.0, 2.0, "start", "c", "</svg><script>");
        svg.end_group();
        let out = svg.finish();
        assert!(out.contains("aria-label=\"a &lt;b&gt;\""));
        assert!(out.contains("<title>x&lt;y &amp; &quot;z&quot;</title>"));
        assert!(out.contains("&lt;/svg&gt;&lt;script&gt;"));
        assert_eq!(out.matches("</svg>").count(), 1);
    }

    #[test]
    fn a_polyline_breaks_at_gaps() {
        let d = polyline([Some((0.0, 1.0)), Some((2.0, 3.5)), None, Some((4.0, 5.0))]);
        assert_eq!(d, "M0 1L2 3.5M4 5");
    }

    #[test]
    fn a_scale_maps_and_clamps() {
        let s = Scale {
            d0: 0.0,
            d1: 10.0,
            p0: 100.0,
            p1: 200.0,
        };
        assert_eq!(s.at(5.0), 150.0);
        assert_eq!(s.clamped(20.0), 200.0);
    }
}
