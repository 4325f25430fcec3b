//! A scenario over all its seeds at once: how losses spread over the seeds,
//! and the acknowledgement latency of every seed pooled, so that a sweep of
//! thousands of seeds reads in one panel rather than a row and a plot each.

use super::format::latency;
use crate::describe::count;
use crate::document::{ScenarioReport, Verdict};
use crate::latency::SHOWN_QUANTILES;

/// One range of "lost per seed" and how many seeds fell in it.
pub(crate) struct LostRange {
    /// The range: `0`, `1`, `2–3`, `4–7`, …
    pub(crate) range: String,
    /// Seeds whose lost count is in it.
    pub(crate) seeds: String,
    /// Whether the range counts losses (for CSS).
    pub(crate) bad: bool,
}

/// The aggregate panel of a scenario.
pub(crate) struct Aggregate {
    /// Seeds run, as a grouped number.
    pub(crate) seeds: String,
    /// Messages sent over every seed.
    pub(crate) sent: String,
    /// Of which acknowledged.
    pub(crate) acknowledged: String,
    /// Seeds that lost, were inconclusive.
    pub(crate) losing: String,
    /// Seeds that were inconclusive.
    pub(crate) inconclusive: String,
    /// How many seeds lost how many messages, in ranges that double.
    pub(crate) lost_per_seed: Vec<LostRange>,
    /// `(label, latency)` pairs: `p50`, `p90`, …, `max`; empty when no
    /// latency was recorded (a report written before it was).
    pub(crate) ack_latency: Vec<(String, String)>,
    /// How many acknowledgements the latencies are of.
    pub(crate) latency_count: String,
}

/// The range `n` falls in: 0, 1, then [2^k, 2^(k+1) - 1].
fn range_of(n: u64) -> (u64, u64) {
    match n {
        0 | 1 => (n, n),
        _ => {
            let low = 1u64 << (63 - n.leading_zeros());
            (low, low.saturating_mul(2) - 1)
        }
    }
}

/// The aggregate of `s`.
pub(crate) fn aggregate(s: &ScenarioReport) -> Aggregate {
    let mut ranges: Vec<((u64, u64), u64)> = Vec::new();
    for seed in &s.seeds {
        let r = range_of(seed.counts.lost);
        match ranges.iter_mut().find(|(range, _)| *range == r) {
            Some((_, n)) => *n += 1,
            None => ranges.push((r, 1)),
        }
    }
    ranges.sort_unstable();
    let with = |v: Verdict| s.seeds.iter().filter(|seed| seed.verdict() == v).count();
    let l = &s.ack_latency_us;
    let mut ack_latency: Vec<(String, String)> = SHOWN_QUANTILES
        .iter()
        .filter_map(|(label, q)| l.at_quantile(*q).map(|v| (label.to_string(), latency(v))))
        .collect();
    ack_latency.extend(l.max().map(|v| ("max".to_string(), latency(v))));
    Aggregate {
        seeds: count(s.seeds.len() as u64),
        sent: count(s.totals.sent),
        acknowledged: count(s.totals.acknowledged),
        losing: count(with(Verdict::Loss) as u64),
        inconclusive: count(with(Verdict::Inconclusive) as u64),
        lost_per_seed: ranges
            .into_iter()
            .map(|((low, high), n)| LostRange {
                range: if low == high {
                    low.to_string()
                } else {
                    format!("{low}–{high}")
                },
                seeds: count(n),
                bad: low > 0,
            })
            .collect(),
        ack_latency,
        latency_count: count(l.len()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_counts_fall_in_ranges_that_double() {
        let ranges: Vec<_> = [0, 1, 2, 3, 4, 7, 8, 1000].map(range_of).into();
        assert_eq!(
            ranges,
            [
                (0, 0),
                (1, 1),
                (2, 3),
                (2, 3),
                (4, 7),
                (4, 7),
                (8, 15),
                (512, 1023)
            ]
        );
    }
}
