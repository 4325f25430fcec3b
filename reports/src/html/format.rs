//! Escaping and number formatting shared by the page and its SVG drawings.
//!
//! Every string that reaches the page from a scenario file or a history
//! (names, descriptions, host names, fault details) passes through
//! [`escape`]; numbers are formatted with a fixed number of decimals so that
//! the same report always gives the same bytes.

use std::fmt::Write as _;

use crate::document::Verdict;

/// `text` with the five characters that mean something in HTML and SVG
/// (`& < > " '`) replaced by entities: safe in element content and in quoted
/// attribute values alike.
pub(crate) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `loss`, `ok` or `unknown`: the CSS class of a verdict's colours.
pub(crate) fn verdict_class(verdict: Verdict) -> &'static str {
    match verdict {
        Verdict::Loss => "loss",
        Verdict::NoLoss => "ok",
        Verdict::Inconclusive => "unknown",
    }
}

/// A simulated time in microseconds as seconds with millisecond precision:
/// `2.005 s`.
pub(crate) fn secs(at_us: u64) -> String {
    format!("{}.{:03} s", at_us / 1_000_000, (at_us / 1000) % 1000)
}

/// A latency in microseconds, in the unit that reads best: `850 µs`,
/// `4 ms`, `1.31 s`.
pub(crate) fn latency(us: u64) -> String {
    if us < 1000 {
        format!("{us} µs")
    } else if us < 1_000_000 {
        format!("{} ms", (us + 500) / 1000)
    } else {
        format!("{:.2} s", us as f64 / 1e6)
    }
}

/// The estimated width of `text` set at `px` pixels in the page's
/// sans-serif font: enough to keep labels from running into each other
/// without measuring glyphs.
pub(crate) fn text_width(text: &str, px: f64) -> f64 {
    text.chars().count() as f64 * px * 0.58
}

/// A number for an SVG coordinate: one decimal, no trailing `.0`.
pub(crate) fn num(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// An identifier usable in an `id` attribute and a `#fragment`: lowercase
/// ASCII letters, digits and `-`, anything else folded to `-`.
pub(crate) fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_matches('-');
    if trimmed.is_empty() {
        "x".into()
    } else {
        trimmed.to_string()
    }
}

/// Round tick positions covering `[lo, hi]`: steps of 1, 2 or 5 times a
/// power of ten, about `target` of them.
pub(crate) fn ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    let span = (hi - lo).max(f64::EPSILON);
    let raw = span / target.max(1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw * (1.0 - 1e-9))
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|i| i as f64 * step).collect()
}

/// A tick label for simulated seconds, with as many decimals as the step
/// between ticks needs.
pub(crate) fn tick_secs(value: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else if step >= 0.1 {
        1
    } else if step >= 0.01 {
        2
    } else {
        3
    };
    let mut s = String::new();
    let _ = write!(s, "{value:.decimals$} s");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape(r#"<script>alert("x & 'y'")</script>"#),
            "&lt;script&gt;alert(&quot;x &amp; &#39;y&#39;&quot;)&lt;/script&gt;"
        );
    }

    #[test]
    fn times_and_numbers_are_formatted_stably() {
        assert_eq!(secs(2_005_000), "2.005 s");
        assert_eq!(secs(40), "0.000 s");
        assert_eq!(latency(850), "850 µs");
        assert_eq!(latency(4_400), "4 ms");
        assert_eq!(latency(1_314_000), "1.31 s");
        assert_eq!(num(3.0), "3");
        assert_eq!(num(2.04), "2");
        assert_eq!(num(2.06), "2.1");
    }

    #[test]
    fn slugs_are_safe_identifiers() {
        assert_eq!(slug("log-acks1-leader-crash"), "log-acks1-leader-crash");
        assert_eq!(slug("A <b> \"c\""), "a-b-c");
        assert_eq!(slug("<>"), "x");
    }

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(ticks(0.0, 9.0, 6), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        let t = ticks(1.95, 2.45, 5);
        assert_eq!(t.len(), 5);
        assert!((t[0] - 2.0).abs() < 1e-9 && (t[4] - 2.4).abs() < 1e-9);
        assert_eq!(tick_secs(2.4000000001, 0.1), "2.4 s");
    }
}
