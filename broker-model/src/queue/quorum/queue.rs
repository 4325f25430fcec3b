//! This node's replica of one quorum queue: its state, the handle to the
//! application it runs in, and what every path does after the Raft core
//! moved: journal the new entries, apply what committed, report.

use std::cell::RefCell;
use std::rc::Rc;

use crate::clock::now;
use crate::history::EventKind;
use crate::queue::config::{node_host, queue_name, QueueConfig};
use crate::queue::protocol::{Command, LogEntry, NodeId, QueueId, Stored};
use crate::queue::quorum::state::QuorumState;
use crate::queue::runtime::Io;
use crate::queue::store::Entry;

/// One node's replica of one quorum queue.
pub(crate) struct QuorumQueue {
    pub(super) io: Rc<Io>,
    pub(super) q: QueueId,
    pub(super) state: RefCell<QuorumState>,
}

impl QuorumQueue {
    /// The replica after a start, from the persisted term, vote and log.
    pub(crate) fn new(
        io: Rc<Io>,
        config: &QueueConfig,
        me: NodeId,
        q: QueueId,
        log: Vec<LogEntry>,
        vote: Option<(u64, Option<NodeId>)>,
    ) -> Self {
        QuorumQueue {
            io,
            q,
            state: RefCell::new(QuorumState::new(config, me, q, log, vote)),
        }
    }

    /// Shows the harness this member's view of its replica.
    pub(super) fn report_view(&self, st: &QuorumState) {
        if let Some(view) = st.view() {
            self.io.report(self.q, view);
        }
    }

    /// Writes log entries to the journal and fsyncs them, recording the
    /// messages they carry.
    pub(super) fn store_entries(&self, term: u64, entries: &[(u64, LogEntry)]) {
        let q = self.q;
        if entries.is_empty() {
            return;
        }
        let mut msgs = Vec::new();
        {
            let mut store = self.io.store.borrow_mut();
            for (index, entry) in entries {
                store.append(&Entry::Raft {
                    queue: q,
                    index: *index,
                    entry: entry.clone(),
                });
                if let Command::Enqueue(m) = &entry.command {
                    msgs.push(m.msg);
                }
            }
            store.sync();
        }
        if !msgs.is_empty() {
            self.io.record(EventKind::Append {
                dest: queue_name(q),
                offset: entries[0].0,
                epoch: term as u32,
                msgs,
            });
        }
    }

    /// Proposes `command` as leader, stamped with this node's clock, and
    /// journals it. Returns its index and term.
    pub(super) fn propose(&self, st: &mut QuorumState, command: Command) -> Option<(u64, u64)> {
        let r = st.raft.as_mut()?;
        let index = r.propose(command, now().as_micros() as u64)?;
        let term = r.term;
        let entry = r.entry(index).cloned().expect("just proposed");
        self.store_entries(term, &[(index, entry)]);
        Some((index, term))
    }

    /// Applies newly committed entries, notices a lost leadership and, as
    /// leader, proposes what the queue's length limits drop.
    pub(super) fn after_raft(&self, st: &mut QuorumState) {
        let Some(r) = &st.raft else {
            return;
        };
        if st.fifo.is_some() && !r.is_leader() {
            st.fifo = None;
            st.returning.clear();
            self.io.record(EventKind::BecomeFollower {
                dest: queue_name(st.q),
                epoch: r.term as u32,
                leader: r.leader().map(node_host),
            });
        }
        loop {
            self.apply_committed(st);
            let Some((reason, seqs)) = self.limit_drops(st) else {
                break;
            };
            self.propose(st, Command::Drop { seqs, reason });
        }
        self.report_view(st);
    }

    /// Applies the entries committed since the last call, recording the
    /// messages a committed drop removed from this member's queue.
    fn apply_committed(&self, st: &mut QuorumState) {
        loop {
            let Some(r) = &st.raft else {
                return;
            };
            if st.last_applied >= r.commit {
                return;
            }
            st.last_applied += 1;
            let Some(entry) = r.entry(st.last_applied) else {
                return;
            };
            match &entry.command {
                Command::Return(seqs) => {
                    let seqs = seqs.clone();
                    self.apply_return(st, &seqs);
                    continue;
                }
                Command::Drop { seqs, reason } => {
                    let (seqs, reason) = (seqs.clone(), *reason);
                    self.apply_drop(st, &seqs, reason);
                    continue;
                }
                _ => {}
            }
            match &entry.command {
                Command::Enqueue(m) => {
                    let stored = Stored {
                        msg: m.msg,
                        persistent: m.persistent,
                        redelivered: false,
                        enqueued_us: entry.at_us,
                        dead_letter: m.dead_letter,
                    };
                    st.applied.insert(st.last_applied, stored);
                    if let Some(f) = &mut st.fifo {
                        f.enqueue(st.last_applied, stored);
                    }
                }
                Command::Settle(seqs) => {
                    st.delivery_counts.forget(seqs);
                    for s in seqs {
                        st.applied.remove(s);
                    }
                    if let Some(f) = &mut st.fifo {
                        f.remove(seqs);
                    }
                }
                Command::SettleDeadLetters(seqs) => {
                    st.discards.settle(seqs);
                }
                // A return and a drop need the whole state and are applied
                // above.
                Command::Return(_) | Command::Drop { .. } | Command::Noop => {}
            }
        }
    }
}
