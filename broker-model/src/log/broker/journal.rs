//! The broker's durable store: one journal of appends and truncations for
//! every partition it hosts, replayed at each start to rebuild the logs.
//!
//! Writes land in the page cache; an fsync, or the kernel's writeback, makes
//! them durable. Between the two, acknowledgements given for records not yet
//! on disk are counted, since a power loss now would take back what those
//! acknowledgements promised.

use std::collections::BTreeMap;
use std::io;

use serde::{Deserialize, Serialize};

use crate::disk::{Disk, Journal};
use crate::log::protocol::{PartitionId, Record};
use crate::log::replica::Replica;
use crate::observe::DiskView;

/// One journal entry: the broker's log is the replay of these.
#[derive(Serialize, Deserialize)]
pub(super) enum Entry {
    Append {
        partition: PartitionId,
        record: Record,
    },
    Truncate {
        partition: PartitionId,
        to: u64,
    },
    /// Records before `offset` are gone: deleted by retention, or a
    /// follower started over at the leader's log start.
    StartAt {
        partition: PartitionId,
        offset: u64,
    },
}

/// Applies `entries` in order to the replicas they name. An append that
/// does not continue its log (a partition no longer hosted here, or a
/// record already replayed) is skipped.
pub(super) fn replay(replicas: &mut BTreeMap<PartitionId, Replica>, entries: Vec<Entry>) {
    for entry in entries {
        match entry {
            Entry::Append { partition, record } => {
                if let Some(r) = replicas.get_mut(&partition) {
                    if record.offset == r.log_end() {
                        r.push(record);
                    }
                }
            }
            Entry::Truncate { partition, to } => {
                if let Some(r) = replicas.get_mut(&partition) {
                    r.truncate(to);
                }
            }
            Entry::StartAt { partition, offset } => {
                if let Some(r) = replicas.get_mut(&partition) {
                    r.start_at(offset);
                }
            }
        }
    }
}

/// The journal and what it has not yet made durable.
pub(super) struct Store {
    journal: Journal<Entry>,
    /// Acknowledgements given while the journal held dirty entries, and the
    /// journal's generation then: once those entries are written back (by
    /// an fsync or the kernel's flusher) the count no longer applies.
    acked_unsynced: (u64, u64),
}

impl Store {
    /// Opens the journal `name` on `disk`, returning the entries it held.
    pub(super) fn open(disk: &Disk, name: &str) -> io::Result<(Store, Vec<Entry>)> {
        let (journal, entries) = Journal::open(disk, name)?;
        let store = Store {
            journal,
            acked_unsynced: (0, 0),
        };
        Ok((store, entries))
    }

    /// Journals `record` of `partition` (to the page cache).
    pub(super) fn append(&mut self, partition: PartitionId, record: &Record) {
        self.journal
            .append(&Entry::Append {
                partition,
                record: record.clone(),
            })
            .expect("journal write");
    }

    /// Journals the truncation of `partition` to `to`.
    pub(super) fn truncate(&mut self, partition: PartitionId, to: u64) {
        self.journal
            .append(&Entry::Truncate { partition, to })
            .expect("journal write");
    }

    /// Journals that `partition` now starts at `offset`.
    pub(super) fn start_at(&mut self, partition: PartitionId, offset: u64) {
        self.journal
            .append(&Entry::StartAt { partition, offset })
            .expect("journal write");
    }

    /// Counts an acknowledgement, if it promised something not yet durable.
    pub(super) fn acknowledged(&mut self) {
        if self.journal.unsynced() > 0 {
            let count = self.acked_unsynced();
            self.acked_unsynced = (count + 1, self.journal.generation());
        }
    }

    /// Acknowledgements given for entries still dirty.
    fn acked_unsynced(&self) -> u64 {
        let (count, generation) = self.acked_unsynced;
        if generation == self.journal.generation() {
            count
        } else {
            0
        }
    }

    /// Fsyncs the journal; returns how many entries that made durable.
    pub(super) fn sync(&mut self) -> u64 {
        self.journal.sync().expect("fsync")
    }

    /// Whether `log.flush.interval.messages` (`every`, if set) asks for an
    /// fsync now.
    pub(super) fn flush_due(&self, every: Option<u64>) -> bool {
        every.is_some_and(|every| self.journal.since_sync() >= every)
    }

    /// What the observer is shown of the disk.
    pub(super) fn view(&self) -> DiskView {
        DiskView {
            unsynced: self.journal.unsynced(),
            acked_unsynced: self.acked_unsynced(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::MsgId;
    use crate::log::protocol::Payload;

    fn record(offset: u64, seq: u32) -> Record {
        Record {
            offset,
            epoch: 1,
            timestamp_ms: 0,
            bytes: 100,
            payload: Payload::Message {
                msg: MsgId::new(1, seq),
                producer: 1,
            },
        }
    }

    fn append(partition: PartitionId, offset: u64, seq: u32) -> Entry {
        Entry::Append {
            partition,
            record: record(offset, seq),
        }
    }

    fn replicas() -> BTreeMap<PartitionId, Replica> {
        (0..2).map(|p| (p, Replica::new(p, 1))).collect()
    }

    #[test]
    fn a_replayed_journal_rebuilds_every_log_with_its_truncations() {
        let mut replicas = replicas();
        let entries = vec![
            append(0, 0, 0),
            append(1, 0, 1),
            append(0, 1, 2),
            Entry::Truncate {
                partition: 0,
                to: 1,
            },
            append(0, 1, 3),
        ];
        replay(&mut replicas, entries);
        assert_eq!(replicas[&0].log, vec![record(0, 0), record(1, 3)]);
        assert_eq!(replicas[&1].log, vec![record(0, 1)]);
    }

    #[test]
    fn a_replayed_log_start_drops_what_retention_deleted() {
        let mut replicas = replicas();
        let entries = vec![
            append(0, 0, 0),
            append(0, 1, 1),
            append(0, 2, 2),
            Entry::StartAt {
                partition: 0,
                offset: 2,
            },
            append(0, 3, 3),
        ];
        replay(&mut replicas, entries);
        assert_eq!(replicas[&0].log_start, 2);
        assert_eq!(replicas[&0].log, vec![record(2, 2), record(3, 3)]);
    }

    #[test]
    fn appends_that_do_not_continue_the_log_or_name_a_foreign_partition_are_skipped() {
        let mut replicas = replicas();
        let entries = vec![
            append(0, 0, 0),
            append(0, 0, 1),
            append(0, 5, 2),
            append(7, 0, 3),
        ];
        replay(&mut replicas, entries);
        assert_eq!(replicas[&0].log, vec![record(0, 0)]);
        assert!(replicas[&1].log.is_empty());
    }
}
