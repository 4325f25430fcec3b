//! One member's Raft state for one quorum queue: term, vote, log, commit
//! index and role.
//!
//! This is the consensus protocol alone, kept free of I/O so it can be
//! tested on its own; the quorum-queue runtime persists what it says must be
//! persisted (term and vote before answering, entries fsynced before
//! acknowledging them, as RabbitMQ's Raft WAL does) and carries its messages
//! over the network. Log indexes start at 1; index 0 is the empty prefix.

use std::collections::{BTreeMap, BTreeSet};

use crate::queue::protocol::{
    AppendEntries, AppendReply, Command, LogEntry, NodeId, QueueId, RequestVote, VoteReply,
};

/// The most entries one AppendEntries carries.
pub(crate) const MAX_ENTRIES: usize = 200;

/// What a member is doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RaftRole {
    /// Following `leader`, when it knows one.
    Follower {
        /// The leader of the current term, once heard from.
        leader: Option<NodeId>,
    },
    /// Asking for votes in the current term.
    Candidate {
        /// Who voted for it, itself included.
        votes: BTreeSet<NodeId>,
    },
    /// Leading the current term.
    Leader {
        /// Per follower, the next index to send.
        next: BTreeMap<NodeId, u64>,
        /// Per follower, the highest index known stored there.
        matched: BTreeMap<NodeId, u64>,
    },
}

/// What a follower did with an AppendEntries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AppendOutcome {
    /// The answer, to send once the changes below are durable.
    pub(crate) reply: AppendReply,
    /// Whether term or vote changed and must be persisted first.
    pub(crate) persist: bool,
    /// Entries removed from the log end because they conflicted with the
    /// leader's: `(first removed index, entries)`.
    pub(crate) truncated: Option<(u64, Vec<LogEntry>)>,
    /// Entries added, with their indexes.
    pub(crate) appended: Vec<(u64, LogEntry)>,
}

/// What a member did with a candidate's request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct VoteOutcome {
    /// The answer, to send once the changes below are durable.
    pub(crate) reply: VoteReply,
    /// Whether term or vote changed and must be persisted first.
    pub(crate) persist: bool,
}

/// What a candidate made of a vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Tally {
    /// The voter is in a newer term: this member follows in it now, and
    /// the term must be persisted.
    NewerTerm,
    /// The vote made a majority: this member now leads.
    Elected,
    /// Nothing changed: a refusal, a stale vote, or not yet a majority.
    Unchanged,
}

/// What a leader made of a follower's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AckOutcome {
    /// The follower is in a newer term: this member follows in it now, and
    /// the term must be persisted.
    NewerTerm,
    /// More entries are committed.
    CommitAdvanced,
    /// The commit index did not move.
    Unchanged,
}

/// Whether a term heard of moved this member on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TermSeen {
    /// It was newer: this member follows in it without a vote.
    Newer,
    /// It was not newer.
    Known,
}

/// Whether the commit index moved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Commit {
    Advanced,
    Unchanged,
}

/// One member of a quorum queue's Raft group.
#[derive(Clone, Debug)]
pub(crate) struct Raft {
    /// The queue.
    pub(crate) queue: QueueId,
    /// This member.
    pub(crate) me: NodeId,
    /// Every member, this one included.
    pub(crate) members: Vec<NodeId>,
    /// The current term.
    pub(crate) term: u64,
    /// Whom it voted for in the current term.
    pub(crate) voted_for: Option<NodeId>,
    /// The log; entry `i` is at index `i + 1`.
    pub(crate) log: Vec<LogEntry>,
    /// Entries up to this index are committed.
    pub(crate) commit: u64,
    /// What it is doing.
    pub(crate) role: RaftRole,
}

impl Raft {
    /// A member restarting from its persisted term, vote and log.
    pub(crate) fn new(
        queue: QueueId,
        me: NodeId,
        members: Vec<NodeId>,
        term: u64,
        voted_for: Option<NodeId>,
        log: Vec<LogEntry>,
    ) -> Self {
        Raft {
            queue,
            me,
            members,
            term,
            voted_for,
            log,
            commit: 0,
            role: RaftRole::Follower { leader: None },
        }
    }

    /// The index of the last entry (0 when empty).
    pub(crate) fn last_index(&self) -> u64 {
        self.log.len() as u64
    }

    /// The term of the last entry (0 when empty).
    pub(crate) fn last_term(&self) -> u64 {
        self.term_at(self.last_index())
    }

    /// The term of the entry at `index` (0 for index 0 or beyond the log).
    pub(crate) fn term_at(&self, index: u64) -> u64 {
        if index == 0 {
            return 0;
        }
        self.log.get(index as usize - 1).map_or(0, |e| e.term)
    }

    /// The entry at `index`.
    pub(crate) fn entry(&self, index: u64) -> Option<&LogEntry> {
        index.checked_sub(1).and_then(|i| self.log.get(i as usize))
    }

    /// Whether this member leads.
    pub(crate) fn is_leader(&self) -> bool {
        matches!(self.role, RaftRole::Leader { .. })
    }

    /// The leader this member knows of in its term (itself when leading).
    pub(crate) fn leader(&self) -> Option<NodeId> {
        match &self.role {
            RaftRole::Leader { .. } => Some(self.me),
            RaftRole::Follower { leader } => *leader,
            RaftRole::Candidate { .. } => None,
        }
    }

    fn majority(&self) -> usize {
        self.members.len() / 2 + 1
    }

    fn peers(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.members.iter().copied().filter(|m| *m != self.me)
    }

    /// Moves to `term` if it is newer, as a follower without a vote (a
    /// change that must be persisted).
    fn observe_term(&mut self, term: u64) -> TermSeen {
        if term <= self.term {
            return TermSeen::Known;
        }
        self.term = term;
        self.voted_for = None;
        self.role = RaftRole::Follower { leader: None };
        TermSeen::Newer
    }

    /// Starts an election: a new term, a vote for itself. Term and vote
    /// must be persisted before the returned request is sent. A group of
    /// one elects itself at once.
    pub(crate) fn start_election(&mut self) -> RequestVote {
        self.term += 1;
        self.voted_for = Some(self.me);
        self.role = RaftRole::Candidate {
            votes: BTreeSet::from([self.me]),
        };
        if self.majority() == 1 {
            self.become_leader();
        }
        RequestVote {
            queue: self.queue,
            term: self.term,
            candidate: self.me,
            last_index: self.last_index(),
            last_term: self.last_term(),
        }
    }

    /// Answers a candidate.
    pub(crate) fn on_vote(&mut self, req: &RequestVote) -> VoteOutcome {
        let mut persist = self.observe_term(req.term) == TermSeen::Newer;
        let up_to_date = (req.last_term, req.last_index) >= (self.last_term(), self.last_index());
        let granted = req.term == self.term
            && up_to_date
            && self.voted_for.is_none_or(|v| v == req.candidate);
        if granted && self.voted_for.is_none() {
            self.voted_for = Some(req.candidate);
            persist = true;
        }
        VoteOutcome {
            reply: VoteReply {
                term: self.term,
                granted,
            },
            persist,
        }
    }

    /// Counts a vote.
    pub(crate) fn on_vote_reply(&mut self, from: NodeId, reply: &VoteReply) -> Tally {
        if self.observe_term(reply.term) == TermSeen::Newer {
            return Tally::NewerTerm;
        }
        let majority = self.majority();
        let RaftRole::Candidate { votes } = &mut self.role else {
            return Tally::Unchanged;
        };
        if reply.term != self.term || !reply.granted {
            return Tally::Unchanged;
        }
        votes.insert(from);
        if votes.len() >= majority {
            self.become_leader();
            return Tally::Elected;
        }
        Tally::Unchanged
    }

    fn become_leader(&mut self) {
        let next = self.last_index() + 1;
        self.role = RaftRole::Leader {
            next: self.peers().map(|p| (p, next)).collect(),
            matched: self.peers().map(|p| (p, 0)).collect(),
        };
    }

    /// Appends a command as leader, stamped `at_us` by its clock; returns
    /// its index. The caller makes it durable before anything counts on it.
    pub(crate) fn propose(&mut self, command: Command, at_us: u64) -> Option<u64> {
        if !self.is_leader() {
            return None;
        }
        self.log.push(LogEntry {
            term: self.term,
            at_us,
            command,
        });
        self.advance_commit();
        Some(self.last_index())
    }

    /// The AppendEntries a leader sends `peer` now.
    pub(crate) fn append_for(&self, peer: NodeId) -> Option<AppendEntries> {
        let RaftRole::Leader { next, .. } = &self.role else {
            return None;
        };
        let next = *next.get(&peer)?;
        let prev_index = next.saturating_sub(1).min(self.last_index());
        let end = (prev_index as usize + MAX_ENTRIES).min(self.log.len());
        Some(AppendEntries {
            queue: self.queue,
            term: self.term,
            leader: self.me,
            prev_index,
            prev_term: self.term_at(prev_index),
            entries: self.log[prev_index as usize..end].to_vec(),
            commit: self.commit,
        })
    }

    /// Handles a leader's AppendEntries as a follower.
    pub(crate) fn on_append(&mut self, req: &AppendEntries) -> AppendOutcome {
        let mut out = AppendOutcome {
            reply: AppendReply {
                term: self.term,
                success: false,
                match_index: self.last_index(),
            },
            persist: false,
            truncated: None,
            appended: Vec::new(),
        };
        if req.term < self.term {
            return out;
        }
        out.persist = self.observe_term(req.term) == TermSeen::Newer;
        self.role = RaftRole::Follower {
            leader: Some(req.leader),
        };
        out.reply.term = self.term;
        if req.prev_index > self.last_index() {
            out.reply.match_index = self.last_index();
            return out;
        }
        if self.term_at(req.prev_index) != req.prev_term {
            out.reply.match_index = req.prev_index.saturating_sub(1);
            return out;
        }
        for (k, e) in req.entries.iter().enumerate() {
            let index = req.prev_index + 1 + k as u64;
            if index <= self.last_index() {
                if self.term_at(index) == e.term {
                    continue;
                }
                let removed = self.log.split_off(index as usize - 1);
                out.truncated = Some((index, removed));
            }
            self.log.push(e.clone());
            out.appended.push((index, e.clone()));
        }
        let matched = req.prev_index + req.entries.len() as u64;
        self.commit = self.commit.max(req.commit.min(matched));
        out.reply.success = true;
        out.reply.match_index = matched;
        out
    }

    /// Handles a follower's answer as leader.
    pub(crate) fn on_append_reply(&mut self, from: NodeId, reply: &AppendReply) -> AckOutcome {
        if self.observe_term(reply.term) == TermSeen::Newer {
            return AckOutcome::NewerTerm;
        }
        let last = self.last_index();
        let term = self.term;
        let RaftRole::Leader { next, matched } = &mut self.role else {
            return AckOutcome::Unchanged;
        };
        if reply.term != term {
            return AckOutcome::Unchanged;
        }
        let (Some(n), Some(m)) = (next.get_mut(&from), matched.get_mut(&from)) else {
            return AckOutcome::Unchanged;
        };
        if reply.success {
            *m = (*m).max(reply.match_index.min(last));
            *n = *m + 1;
        } else {
            *n = (*n - 1).min(reply.match_index + 1).max(1);
        }
        match self.advance_commit() {
            Commit::Advanced => AckOutcome::CommitAdvanced,
            Commit::Unchanged => AckOutcome::Unchanged,
        }
    }

    /// Whether `peer` may need entries or a heartbeat it has not yet been
    /// sent: its next index is at or below the log end.
    pub(crate) fn behind(&self, peer: NodeId) -> bool {
        match &self.role {
            RaftRole::Leader { next, .. } => {
                next.get(&peer).is_some_and(|n| *n <= self.last_index())
            }
            _ => false,
        }
    }

    /// Commits, as leader, the highest entry of its own term that a
    /// majority stores (itself included).
    fn advance_commit(&mut self) -> Commit {
        let RaftRole::Leader { matched, .. } = &self.role else {
            return Commit::Unchanged;
        };
        let majority = self.majority();
        for n in (self.commit + 1..=self.last_index()).rev() {
            if self.term_at(n) != self.term {
                continue;
            }
            let holders = 1 + matched.values().filter(|m| **m >= n).count();
            if holders >= majority {
                self.commit = n;
                return Commit::Advanced;
            }
        }
        Commit::Unchanged
    }
}

#[cfg(test)]
mod tests;
