//! A node's disk: the message store and queue index of classic queues, the
//! Raft log of quorum queues, and two small documents (where each mirrored
//! queue's master is, and each Raft member's term and vote).
//!
//! Everything goes through one journal so that turmoil's page cache and
//! fsync decide what survives: a process crash keeps every write, a power
//! loss keeps only what [`Store::sync`] made durable. The documents are
//! fsynced on every change, as Mnesia's and Ra's metadata are.

use std::collections::BTreeMap;
use std::io;

use serde::{Deserialize, Serialize};

use crate::disk::{Disk, Document, Journal};
use crate::history::{EventKind, History, MsgId};
use crate::observe::{DiskView, Observer};
use crate::queue::protocol::{Command, Location, LogEntry, NodeId, QueueId, Stored};

/// One journal entry; a node's queues are the replay of these.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Entry {
    /// A persistent message joined a durable queue.
    Enqueue {
        /// The queue.
        queue: QueueId,
        /// Its position.
        seq: u64,
        /// The message.
        stored: Stored,
    },
    /// Messages left a durable queue.
    Remove {
        /// The queue.
        queue: QueueId,
        /// Their positions.
        seqs: Vec<u64>,
    },
    /// The node dropped its copy of a queue (a mirror starting over).
    Reset {
        /// The queue.
        queue: QueueId,
    },
    /// A Raft log entry of a quorum queue.
    Raft {
        /// The queue.
        queue: QueueId,
        /// Its index.
        index: u64,
        /// The entry.
        entry: LogEntry,
    },
    /// Raft log entries from `from` on were removed.
    RaftTruncate {
        /// The queue.
        queue: QueueId,
        /// The first index removed.
        from: u64,
    },
}

/// What a node finds on its disk when it starts.
#[derive(Clone, Debug, Default)]
pub(crate) struct Recovered {
    /// Journal entries read.
    pub(crate) entries: u64,
    /// The messages of each classic or mirrored queue.
    pub(crate) messages: BTreeMap<QueueId, BTreeMap<u64, Stored>>,
    /// The Raft log of each quorum queue.
    pub(crate) logs: BTreeMap<QueueId, Vec<LogEntry>>,
    /// The last known master of each mirrored queue.
    pub(crate) records: BTreeMap<QueueId, Location>,
    /// Each Raft member's term and vote.
    pub(crate) votes: BTreeMap<QueueId, (u64, Option<NodeId>)>,
}

impl Recovered {
    /// Every workload message found, for the history.
    pub(crate) fn msgs(&self) -> Vec<MsgId> {
        let stored = self
            .messages
            .values()
            .flat_map(|m| m.values().map(|s| s.msg));
        let logged = self.logs.values().flat_map(|log| {
            log.iter().filter_map(|e| match &e.command {
                Command::Enqueue(m) => Some(m.msg),
                _ => None,
            })
        });
        stored.chain(logged).collect()
    }
}

type Records = Vec<(QueueId, Location)>;
type Votes = Vec<(QueueId, u64, Option<NodeId>)>;

/// A node's disk.
pub(crate) struct Store {
    host: String,
    history: History,
    observer: Observer,
    journal: Journal<Entry>,
    records: BTreeMap<QueueId, Location>,
    records_doc: Document<Records>,
    votes: BTreeMap<QueueId, (u64, Option<NodeId>)>,
    votes_doc: Document<Votes>,
    /// Messages confirmed since the last fsync that the disk does not hold
    /// (transient, or in a non-durable queue): a power loss takes them.
    acked_unsynced: u64,
}

impl Store {
    /// Opens `disk`, the disk of `host`, and replays it.
    pub(crate) fn open(
        host: &str,
        disk: &Disk,
        history: History,
        observer: Observer,
    ) -> io::Result<(Self, Recovered)> {
        let (journal, entries) = Journal::<Entry>::open(disk, "queues")?;
        let (records_doc, records) = Document::<Records>::open("directory")?;
        let (votes_doc, votes) = Document::<Votes>::open("raft")?;
        let mut r = Recovered {
            entries: entries.len() as u64,
            records: records.unwrap_or_default().into_iter().collect(),
            votes: votes
                .unwrap_or_default()
                .into_iter()
                .map(|(q, t, v)| (q, (t, v)))
                .collect(),
            ..Recovered::default()
        };
        for e in entries {
            match e {
                Entry::Enqueue { queue, seq, stored } => {
                    r.messages.entry(queue).or_default().insert(seq, stored);
                }
                Entry::Remove { queue, seqs } => {
                    if let Some(m) = r.messages.get_mut(&queue) {
                        for s in seqs {
                            m.remove(&s);
                        }
                    }
                }
                Entry::Reset { queue } => {
                    r.messages.remove(&queue);
                }
                Entry::Raft {
                    queue,
                    index,
                    entry,
                } => {
                    let log = r.logs.entry(queue).or_default();
                    log.truncate(index.saturating_sub(1) as usize);
                    if log.len() as u64 + 1 == index {
                        log.push(entry);
                    }
                }
                Entry::RaftTruncate { queue, from } => {
                    if let Some(log) = r.logs.get_mut(&queue) {
                        log.truncate(from.saturating_sub(1) as usize);
                    }
                }
            }
        }
        let store = Store {
            host: host.to_string(),
            history,
            observer,
            journal,
            records: r.records.clone(),
            records_doc,
            votes: r.votes.clone(),
            votes_doc,
            acked_unsynced: 0,
        };
        store.publish();
        Ok((store, r))
    }

    /// Writes an entry to the page cache.
    pub(crate) fn append(&mut self, entry: &Entry) {
        self.journal.append(entry).expect("journal write");
        self.publish();
    }

    /// Notes that a message was confirmed without being on disk.
    pub(crate) fn acked_unsynced(&mut self) {
        self.acked_unsynced += 1;
        self.publish();
    }

    /// Makes everything written so far durable.
    pub(crate) fn sync(&mut self) {
        self.acked_unsynced = 0;
        let entries = self.journal.sync().expect("fsync");
        if entries > 0 {
            self.history
                .record(&self.host, EventKind::Fsync { entries });
            self.publish();
        }
    }

    /// Records where a mirrored queue's master is, durably.
    pub(crate) fn set_record(&mut self, queue: QueueId, location: Location) {
        if self.records.get(&queue) == Some(&location) {
            return;
        }
        self.records.insert(queue, location);
        let doc: Records = self.records.iter().map(|(q, l)| (*q, *l)).collect();
        self.records_doc.store(&doc).expect("directory write");
    }

    /// Records a Raft member's term and vote, durably.
    pub(crate) fn set_vote(&mut self, queue: QueueId, term: u64, vote: Option<NodeId>) {
        if self.votes.get(&queue) == Some(&(term, vote)) {
            return;
        }
        self.votes.insert(queue, (term, vote));
        let doc: Votes = self.votes.iter().map(|(q, (t, v))| (*q, *t, *v)).collect();
        self.votes_doc.store(&doc).expect("raft metadata write");
    }

    /// Publishes the disk's state: after the kernel's writeback, fewer
    /// entries are dirty.
    pub(crate) fn publish(&self) {
        self.observer.disk(
            &self.host,
            DiskView {
                unsynced: self.journal.unsynced(),
                acked_unsynced: self.acked_unsynced,
            },
        );
    }
}
