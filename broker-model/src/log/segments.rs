//! How a partition log rolls into segments, and which of them retention
//! deletes.
//!
//! Kafka stores a partition as segment files. The newest, the *active*
//! segment, takes appends until it is full (`segment.bytes`) or its first
//! record is older than `segment.ms`; then the log *rolls* a new one.
//! Retention deletes whole segments, oldest first, whether or not any
//! consumer has read them: every `log.retention.check.interval.ms` the
//! broker deletes the segments whose newest record is older than
//! `retention.ms`, and while the partition holds more than
//! `retention.bytes`, the oldest segments that bring it under (UnifiedLog's
//! `deleteRetentionMsBreachedSegments` and
//! `deleteRetentionSizeBreachedSegments`). It never deletes past the high
//! watermark. The active segment goes too once it qualifies and the high
//! watermark has reached the log's end (Kafka rolls a new, empty one
//! first, "we must always have at least one segment"). So with the
//! default, huge, segments a short retention deletes nothing while the
//! producer keeps the active segment's newest record young, and everything
//! once the producer has paused for longer than `retention.ms`.
//!
//! Nothing here does I/O: the replica keeps the segment bases beside its
//! records, and the broker's retention task asks where the log may start.

use crate::log::config::Retention;
use crate::log::protocol::Record;

/// The segments of one partition log: where each begins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Segments {
    /// The base offset of every segment, oldest first; the last is the
    /// active one. Empty while the log is.
    bases: Vec<u64>,
    /// Bytes in the active segment.
    active_bytes: u64,
}

impl Segments {
    /// Notes `record` appended to the log (whose records from `start` on
    /// are `log`, before the append), rolling a new segment first when the
    /// active one is full or too old.
    pub(crate) fn appended(
        &mut self,
        record: &Record,
        log: &[Record],
        start: u64,
        policy: &Retention,
    ) {
        let first = self
            .bases
            .last()
            .and_then(|base| log.get(base.checked_sub(start)? as usize));
        let roll = match first {
            None => true,
            Some(first) => {
                self.active_bytes + u64::from(record.bytes) > policy.segment_bytes
                    || record.timestamp_ms.saturating_sub(first.timestamp_ms)
                        >= policy.segment_ms.as_millis() as u64
            }
        };
        if roll {
            self.bases.push(record.offset);
            self.active_bytes = 0;
        }
        self.active_bytes += u64::from(record.bytes);
    }

    /// Rebuilds the segments after the log lost its records from `to` on
    /// (a truncation) or before `start` (retention, or a follower starting
    /// over at the leader's log start); `log` is what remains, from `start`.
    pub(crate) fn trimmed(&mut self, log: &[Record], start: u64) {
        let end = start + log.len() as u64;
        self.bases.retain(|b| *b < end);
        let first_kept = self.bases.partition_point(|b| *b <= start);
        if first_kept > 0 {
            self.bases.drain(..first_kept - 1);
            self.bases[0] = start;
        }
        if log.is_empty() {
            self.bases.clear();
        }
        self.active_bytes = self.bases.last().map_or(0, |base| {
            log[(base - start) as usize..]
                .iter()
                .map(|r| u64::from(r.bytes))
                .sum()
        });
    }

    /// Where the log may start after a retention check at `now_ms`: the end
    /// of the last segment, entirely below `high_watermark`, that `policy`
    /// deletes. `None` when it deletes nothing.
    pub(crate) fn retention_point(
        &self,
        log: &[Record],
        start: u64,
        high_watermark: u64,
        now_ms: u64,
        policy: &Retention,
    ) -> Option<u64> {
        let end = start + log.len() as u64;
        let ends = self.bases.iter().skip(1).copied().chain([end]);
        let closed: Vec<(u64, u64)> = self
            .bases
            .iter()
            .copied()
            .zip(ends)
            .take_while(|(_, end)| *end <= high_watermark)
            .collect();
        let records =
            |(base, end): (u64, u64)| &log[(base - start) as usize..(end - start) as usize];
        let bytes = |segment| {
            records(segment)
                .iter()
                .map(|r| u64::from(r.bytes))
                .sum::<u64>()
        };
        let mut point = None;
        if let Some(limit) = policy.retention_ms {
            let limit = limit.as_millis() as u64;
            for &segment in &closed {
                let newest = records(segment)
                    .iter()
                    .map(|r| r.timestamp_ms)
                    .max()
                    .unwrap_or(0);
                if now_ms.saturating_sub(newest) <= limit {
                    break;
                }
                point = Some(segment.1);
            }
        }
        if let Some(limit) = policy.retention_bytes {
            let total: u64 = log.iter().map(|r| u64::from(r.bytes)).sum();
            let mut excess = total.saturating_sub(limit);
            for &segment in &closed {
                let size = bytes(segment);
                if excess < size {
                    break;
                }
                excess -= size;
                point = point.max(Some(segment.1));
            }
        }
        point
    }

    /// How many segments the log has.
    #[cfg(test)]
    pub(crate) fn count(&self) -> usize {
        self.bases.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::history::MsgId;
    use crate::log::protocol::Payload;

    fn record(offset: u64, timestamp_ms: u64) -> Record {
        Record {
            offset,
            epoch: 1,
            timestamp_ms,
            bytes: 100,
            payload: Payload::Message {
                msg: MsgId::new(1, offset as u32),
                producer: 1,
            },
        }
    }

    fn policy(segment_bytes: u64) -> Retention {
        Retention {
            segment_bytes,
            retention_ms: Some(Duration::from_millis(1000)),
            ..Retention::default()
        }
    }

    /// A log of `n` records appended 10 ms apart under `policy`.
    fn log(n: u64, policy: &Retention) -> (Vec<Record>, Segments) {
        let mut log = Vec::new();
        let mut segments = Segments::default();
        for offset in 0..n {
            let r = record(offset, offset * 10);
            segments.appended(&r, &log, 0, policy);
            log.push(r);
        }
        (log, segments)
    }

    #[test]
    fn the_active_segment_rolls_when_the_next_record_would_not_fit() {
        let (_, segments) = log(10, &policy(300));
        assert_eq!(segments.bases, vec![0, 3, 6, 9]);
    }

    #[test]
    fn the_active_segment_rolls_once_its_first_record_is_segment_ms_old() {
        let p = Retention {
            segment_ms: Duration::from_millis(25),
            ..policy(1 << 30)
        };
        let (_, segments) = log(7, &p);
        assert_eq!(segments.bases, vec![0, 3, 6]);
    }

    #[test]
    fn retention_deletes_segments_whose_newest_record_is_older_than_retention_ms() {
        let p = policy(300);
        let (records, segments) = log(10, &p);
        // Newest records: segment [0,3) at 20 ms, [3,6) at 50, [6,9) at 80,
        // the active [9,10) at 90.
        assert_eq!(segments.retention_point(&records, 0, 10, 1030, &p), Some(3));
        assert_eq!(segments.retention_point(&records, 0, 10, 1060, &p), Some(6));
        assert_eq!(segments.retention_point(&records, 0, 10, 1085, &p), Some(9));
        assert_eq!(segments.retention_point(&records, 0, 10, 1020, &p), None);
    }

    #[test]
    fn the_active_segment_goes_only_once_the_high_watermark_reached_the_log_end() {
        let p = policy(300);
        let (records, segments) = log(10, &p);
        assert_eq!(
            segments.retention_point(&records, 0, 10, 100_000, &p),
            Some(10)
        );
        assert_eq!(
            segments.retention_point(&records, 0, 9, 100_000, &p),
            Some(9)
        );
    }

    #[test]
    fn retention_never_deletes_past_the_high_watermark() {
        let p = policy(300);
        let (records, segments) = log(10, &p);
        assert_eq!(
            segments.retention_point(&records, 0, 5, 100_000, &p),
            Some(3)
        );
    }

    #[test]
    fn a_short_retention_deletes_one_big_segment_only_once_its_newest_record_is_old() {
        let p = policy(1 << 30);
        let (records, segments) = log(10, &p);
        assert_eq!(segments.count(), 1);
        assert_eq!(segments.retention_point(&records, 0, 10, 1090, &p), None);
        assert_eq!(
            segments.retention_point(&records, 0, 10, 1091, &p),
            Some(10)
        );
    }

    #[test]
    fn size_retention_deletes_the_oldest_segments_that_bring_the_log_under_retention_bytes() {
        let p = Retention {
            retention_ms: None,
            retention_bytes: Some(350),
            ..policy(300)
        };
        let (records, segments) = log(10, &p);
        // 1000 bytes, 650 too many: deleting [0,3) and [3,6) leaves 400;
        // deleting [6,9) too would go under the limit by more than 300.
        assert_eq!(segments.retention_point(&records, 0, 10, 0, &p), Some(6));
    }

    #[test]
    fn trimming_keeps_the_segment_a_new_start_falls_in_and_drops_those_past_a_truncation() {
        let p = policy(300);
        let (records, mut segments) = log(10, &p);
        segments.trimmed(&records[4..], 4);
        assert_eq!(segments.bases, vec![4, 6, 9]);
        segments.trimmed(&records[4..7], 4);
        assert_eq!(segments.bases, vec![4, 6]);
        assert_eq!(segments.active_bytes, 100);
        segments.trimmed(&[], 12);
        assert!(segments.bases.is_empty());
    }
}
