//! What a cure costs, measured in the runs that verified it against the
//! runs of the configuration as it is: the same probes, the same seeds.

use std::collections::BTreeMap;

use broker_model::{EventKind, MsgId};
use reports::audit::Cost;

use crate::runner::RunOutput;

/// One run's clients, kept instead of its history.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Sample {
    acked: u64,
    span_us: u64,
    latencies_us: Vec<u64>,
    refused: u64,
    unknown: u64,
}

impl Sample {
    /// The clients' side of `run`: each message's first send and first
    /// acknowledgement.
    pub(crate) fn of(run: &RunOutput) -> Sample {
        let mut sent: BTreeMap<MsgId, u64> = BTreeMap::new();
        let mut s = Sample {
            refused: run.analysis.counts.failed,
            unknown: run.analysis.counts.unknown,
            ..Sample::default()
        };
        let mut first = None;
        let mut last = 0;
        for e in &run.events {
            match &e.kind {
                EventKind::Send { msg, .. } => {
                    sent.entry(*msg).or_insert(e.at_us);
                    first.get_or_insert(e.at_us);
                }
                EventKind::SendOk { msg, .. } => {
                    if let Some(at) = sent.remove(msg) {
                        s.latencies_us.push(e.at_us - at);
                        s.acked += 1;
                        last = e.at_us;
                    }
                }
                _ => {}
            }
        }
        s.span_us = last.saturating_sub(first.unwrap_or(last));
        s
    }
}

/// The cost of a batch of runs.
pub(crate) fn cost<'a>(samples: impl IntoIterator<Item = &'a Sample>) -> Cost {
    let mut acked = 0;
    let mut span_us = 0;
    let mut latencies = Vec::new();
    let mut c = Cost::default();
    for s in samples {
        acked += s.acked;
        span_us += s.span_us;
        latencies.extend_from_slice(&s.latencies_us);
        c.refused += s.refused;
        c.unknown += s.unknown;
    }
    if span_us > 0 {
        c.throughput = acked as f64 * 1e6 / span_us as f64;
    }
    latencies.sort_unstable();
    c.latency_p50_us = latencies
        .get(latencies.len().saturating_sub(1) / 2)
        .copied();
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_latency_is_taken_over_every_run_together() {
        let a = Sample {
            acked: 2,
            span_us: 1_000_000,
            latencies_us: vec![1, 9],
            ..Sample::default()
        };
        let b = Sample {
            acked: 1,
            span_us: 500_000,
            latencies_us: vec![5],
            refused: 2,
            ..Sample::default()
        };
        let c = cost([&a, &b]);
        assert_eq!(c.latency_p50_us, Some(5));
        assert_eq!(c.refused, 2);
        assert!((c.throughput - 2.0).abs() < 1e-9);
    }
}
