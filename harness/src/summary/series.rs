//! Client throughput and latency over simulated time, and the consumers'
//! backlog as the harness sampled it, for a run's plot.

use std::collections::{BTreeMap, BTreeSet};

use broker_model::{Event, EventKind, MsgId};
use reports::{Bucket, Series};

/// The bucket length of a run's series: fine enough to show a fault of a few
/// hundred milliseconds, coarse enough that a bucket holds several sends at
/// the bundled rates.
const BUCKET_MS: u64 = 100;

/// The most buckets a series holds; longer runs get longer buckets, so the
/// report stays small and the plot readable.
const MAX_BUCKETS: u64 = 600;

/// The bucket length for a run of `end_us`: [`BUCKET_MS`], or a round
/// multiple of it that keeps the series within [`MAX_BUCKETS`].
pub(super) fn bucket_ms_for(end_us: u64) -> u64 {
    let mut scale = BUCKET_MS;
    loop {
        for m in [1, 2, 5] {
            let bucket = scale * m;
            if end_us / (bucket * 1000) < MAX_BUCKETS {
                return bucket;
            }
        }
        scale *= 10;
    }
}

/// The client events of `events` in buckets of `bucket_ms`, from time zero
/// to `end_us`, each bucket with the last backlog sample in or before it
/// (the drain's end counts as a sample).
pub(super) fn series(events: &[Event], end_us: u64, bucket_ms: u64) -> Series {
    let bucket_us = bucket_ms.max(1) * 1000;
    let last_at = events.iter().map(|e| e.at_us).max().unwrap_or(0);
    let count = (end_us.max(last_at) / bucket_us + 1) as usize;
    let mut buckets = vec![Bucket::default(); count];
    let index = |at_us: u64| (at_us / bucket_us) as usize;
    let mut sent: BTreeMap<MsgId, u64> = BTreeMap::new();
    let mut acked: BTreeSet<MsgId> = BTreeSet::new();
    let mut latencies: Vec<Vec<u64>> = vec![Vec::new(); count];
    for e in events {
        let b = index(e.at_us);
        match &e.kind {
            EventKind::Send { msg, .. } if !sent.contains_key(msg) => {
                sent.insert(*msg, e.at_us);
                buckets[b].sent += 1;
            }
            EventKind::SendOk { msg, .. } if !acked.contains(msg) => {
                acked.insert(*msg);
                buckets[b].acked += 1;
                if let Some(&at) = sent.get(msg) {
                    latencies[index(at)].push(e.at_us - at);
                }
            }
            EventKind::SendFail { .. } => buckets[b].failed += 1,
            EventKind::SendUnknown { .. } => buckets[b].unknown += 1,
            EventKind::Processed { .. } => buckets[b].processed += 1,
            EventKind::Backlog { messages } => buckets[b].backlog = Some(*messages),
            EventKind::DrainEnded { readable, .. } => buckets[b].backlog = Some(*readable),
            _ => {}
        }
    }
    let mut backlog = None;
    for bucket in &mut buckets {
        backlog = bucket.backlog.or(backlog);
        bucket.backlog = backlog;
    }
    for (bucket, mut l) in buckets.iter_mut().zip(latencies) {
        if l.is_empty() {
            continue;
        }
        l.sort_unstable();
        bucket.latency_p50_us = Some(l[(l.len() - 1) / 2]);
        bucket.latency_max_us = l.last().copied();
    }
    Series {
        bucket_ms: bucket_ms.max(1),
        buckets,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_history::{self, ok, processed, send};

    fn ev(at_ms: u64, kind: EventKind) -> Event {
        test_history::ev(at_ms, "producer-1", kind)
    }

    #[test]
    fn latency_is_counted_at_the_send_and_throughput_at_the_ack() {
        let h = vec![
            ev(10, send(0)),
            ev(13, ok(0)),
            ev(20, send(1)),
            ev(40, send(2)),
            ev(41, ok(2)),
            ev(250, ok(1)),
            ev(260, ok(1)),
            ev(270, processed(1, 0)),
        ];
        let s = series(&h, 300_000, 100);
        assert_eq!(s.buckets.len(), 4);
        let b0 = &s.buckets[0];
        assert_eq!((b0.sent, b0.acked), (3, 2));
        assert_eq!(b0.latency_p50_us, Some(3_000));
        assert_eq!(b0.latency_max_us, Some(230_000));
        let b2 = &s.buckets[2];
        assert_eq!((b2.sent, b2.acked, b2.processed), (0, 1, 1));
        assert_eq!(b2.latency_p50_us, None);
    }

    #[test]
    fn each_bucket_holds_the_last_backlog_sample_in_or_before_it() {
        let backlog = |at, messages| ev(at, EventKind::Backlog { messages });
        let h = vec![
            ev(10, send(0)),
            backlog(100, 7),
            backlog(150, 9),
            backlog(400, 2),
            ev(
                450,
                EventKind::DrainEnded {
                    drained: false,
                    readable: 1,
                },
            ),
        ];
        let s = series(&h, 600_000, 100);
        let got: Vec<Option<u64>> = s.buckets.iter().map(|b| b.backlog).collect();
        assert_eq!(
            got,
            [None, Some(9), Some(9), Some(9), Some(1), Some(1), Some(1)]
        );
    }

    #[test]
    fn long_runs_get_longer_buckets() {
        assert_eq!(bucket_ms_for(9_000_000), 100);
        assert_eq!(bucket_ms_for(59_999_999), 100);
        assert_eq!(bucket_ms_for(60_000_000), 200);
        assert_eq!(bucket_ms_for(200_000_000), 500);
        assert_eq!(bucket_ms_for(3_600_000_000), 10_000);
    }
}
