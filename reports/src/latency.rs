//! Send-to-acknowledgement latencies pooled over many seeds, in bounded
//! memory.
//!
//! A sweep of thousands of seeds acknowledges millions of messages; keeping
//! every latency to take percentiles would grow with the sweep. An HDR
//! histogram (Gil Tene's HdrHistogram, as Kafka's and Jepsen's tooling use
//! for latency) keeps a count per bucket of values within a fixed relative
//! precision, so its size depends on the range of latencies, not on how
//! many there are, and two histograms add up exactly: shards merge.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Significant decimal digits a bucket keeps: values are exact to 1%.
const SIGNIFICANT_FIGURES: u8 = 2;

/// The percentiles a report shows: their names and quantiles.
pub const SHOWN_QUANTILES: [(&str, f64); 4] =
    [("p50", 0.5), ("p90", 0.9), ("p99", 0.99), ("p99.9", 0.999)];

/// Latencies, in microseconds, of acknowledged messages from their first
/// send to their first acknowledgement.
///
/// Serialized as `[value, count]` pairs, one per bucket that holds any,
/// `value` being the highest the bucket stands for: readable, and exact to
/// rebuild.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "Vec<(u64, u64)>", into = "Vec<(u64, u64)>")]
pub struct AckLatency {
    histogram: Histogram<u64>,
}

impl Default for AckLatency {
    fn default() -> Self {
        AckLatency {
            histogram: Histogram::new(SIGNIFICANT_FIGURES)
                .expect("2 significant figures is a valid precision"),
        }
    }
}

impl AckLatency {
    /// Records one message's latency.
    pub fn record(&mut self, latency_us: u64) {
        self.record_n(latency_us, 1);
    }

    fn record_n(&mut self, latency_us: u64, count: u64) {
        // The histogram resizes itself to any value, so this cannot fail.
        let _ = self.histogram.record_n(latency_us, count);
    }

    /// Adds another set of latencies (another seed's, another shard's).
    pub fn add(&mut self, other: &AckLatency) {
        // Both resize themselves and share one precision: always succeeds.
        let _ = self.histogram.add(&other.histogram);
    }

    /// How many latencies were recorded.
    pub fn len(&self) -> u64 {
        self.histogram.len()
    }

    /// Whether none were.
    pub fn is_empty(&self) -> bool {
        self.histogram.is_empty()
    }

    /// The latency at `quantile` (0.5 is the median), to within 1%; `None`
    /// when nothing was recorded.
    pub fn at_quantile(&self, quantile: f64) -> Option<u64> {
        (!self.is_empty()).then(|| self.histogram.value_at_quantile(quantile))
    }

    /// The largest latency, to within 1%.
    pub fn max(&self) -> Option<u64> {
        (!self.is_empty()).then(|| self.histogram.max())
    }
}

impl From<Vec<(u64, u64)>> for AckLatency {
    fn from(buckets: Vec<(u64, u64)>) -> Self {
        let mut out = AckLatency::default();
        for (value, count) in buckets {
            out.record_n(value, count);
        }
        out
    }
}

impl From<AckLatency> for Vec<(u64, u64)> {
    fn from(l: AckLatency) -> Self {
        l.histogram
            .iter_recorded()
            .map(|v| (v.value_iterated_to(), v.count_at_value()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn within_one_percent(got: Option<u64>, want: u64) -> bool {
        got.is_some_and(|g| g.abs_diff(want) * 100 <= want)
    }

    #[test]
    fn percentiles_of_a_known_input_are_right_to_one_percent() {
        let mut l = AckLatency::default();
        for us in 1..=10_000 {
            l.record(us);
        }
        assert_eq!(l.len(), 10_000);
        assert!(within_one_percent(l.at_quantile(0.5), 5_000));
        assert!(within_one_percent(l.at_quantile(0.9), 9_000));
        assert!(within_one_percent(l.at_quantile(0.99), 9_900));
        assert!(within_one_percent(l.max(), 10_000));
    }

    #[test]
    fn two_halves_add_up_to_the_whole() {
        let (mut a, mut b, mut whole) = Default::default();
        for us in 0..2_000u64 {
            let v = 500 + us * us % 7_919;
            if us % 2 == 0 {
                AckLatency::record(&mut a, v);
            } else {
                AckLatency::record(&mut b, v);
            }
            AckLatency::record(&mut whole, v);
        }
        AckLatency::add(&mut a, &b);
        assert_eq!(a, whole);
    }

    #[test]
    fn it_round_trips_through_json_and_an_empty_one_has_no_percentiles() {
        let mut l = AckLatency::default();
        for us in [3_000, 3_010, 250_000] {
            l.record(us);
        }
        let json = serde_json::to_string(&l).unwrap();
        assert_eq!(serde_json::from_str::<AckLatency>(&json).unwrap(), l);
        assert_eq!(AckLatency::default().at_quantile(0.5), None);
        assert_eq!(serde_json::to_string(&AckLatency::default()).unwrap(), "[]");
    }
}
