//! Tests of the Raft core: elections, commitment, truncation.

use super::*;
use crate::history::MsgId;
use crate::queue::protocol::Message;

fn enqueue(seq: u32) -> Command {
    Command::Enqueue(Message {
        msg: MsgId::new(1, seq),
        persistent: true,
        dead_letter: None,
    })
}

fn member(me: NodeId) -> Raft {
    Raft::new(0, me, vec![1, 2, 3], 0, None, Vec::new())
}

/// Elects node 1 with node 2's vote.
fn elected() -> (Raft, Raft, Raft) {
    let (mut a, mut b, c) = (member(1), member(2), member(3));
    let req = a.start_election();
    let VoteOutcome {
        reply: vote,
        persist,
    } = b.on_vote(&req);
    assert!(vote.granted && persist);
    assert_eq!(a.on_vote_reply(2, &vote), Tally::Elected);
    assert!(a.is_leader());
    (a, b, c)
}

#[test]
fn a_majority_of_votes_elects_and_a_second_candidate_is_refused() {
    let (a, mut b, _) = elected();
    assert_eq!(a.term, 1);
    let rival = RequestVote {
        queue: 0,
        term: 1,
        candidate: 3,
        last_index: 0,
        last_term: 0,
    };
    assert!(!b.on_vote(&rival).reply.granted, "one vote per term");
}

#[test]
fn entries_commit_once_a_majority_stores_them() {
    let (mut a, mut b, _) = elected();
    let idx = a.propose(enqueue(0), 0).unwrap();
    assert_eq!(a.commit, 0, "the leader alone is not a majority");
    let req = a.append_for(2).unwrap();
    let out = b.on_append(&req);
    assert!(out.reply.success);
    assert_eq!(out.appended.len(), 1);
    assert_eq!(a.on_append_reply(2, &out.reply), AckOutcome::CommitAdvanced);
    assert_eq!(a.commit, idx);
}

#[test]
fn a_stale_leader_steps_down_and_its_uncommitted_entries_are_truncated() {
    let (mut a, mut b, mut c) = elected();
    a.propose(enqueue(0), 0);
    // Node 1 is cut off; node 3 wins term 2 with node 2's vote.
    c.term = 1;
    let req = c.start_election();
    let vote = b.on_vote(&req).reply;
    assert!(vote.granted);
    c.on_vote_reply(2, &vote);
    assert!(c.is_leader());
    c.propose(Command::Noop, 0);
    // Node 1 hears from the new leader and loses its entry.
    let out = a.on_append(&c.append_for(1).unwrap());
    assert!(!a.is_leader() && a.term == 2);
    assert!(out.reply.success);
    let (from, removed) = out.truncated.unwrap();
    assert_eq!(from, 1);
    assert_eq!(removed[0].command, enqueue(0));
    assert_eq!(a.log[0].command, Command::Noop);
}

#[test]
fn a_follower_missing_entries_is_walked_back() {
    let (mut a, mut b, _) = elected();
    a.propose(enqueue(0), 0);
    a.propose(enqueue(1), 0);
    if let RaftRole::Leader { next, .. } = &mut a.role {
        next.insert(2, 3);
    }
    let out = b.on_append(&a.append_for(2).unwrap());
    assert!(!out.reply.success);
    assert_eq!(out.reply.match_index, 0);
    a.on_append_reply(2, &out.reply);
    let out = b.on_append(&a.append_for(2).unwrap());
    assert!(out.reply.success);
    assert_eq!(out.appended.len(), 2);
}

#[test]
fn a_candidate_with_an_older_log_gets_no_vote() {
    let (mut a, mut b, _) = elected();
    a.propose(enqueue(0), 0);
    let out = b.on_append(&a.append_for(2).unwrap());
    assert!(out.reply.success);
    let mut c = member(3);
    c.term = 1;
    let req = c.start_election();
    assert!(!b.on_vote(&req).reply.granted);
}

#[test]
fn a_group_of_one_commits_alone() {
    let mut solo = Raft::new(0, 1, vec![1], 0, None, Vec::new());
    solo.start_election();
    assert!(solo.is_leader());
    let idx = solo.propose(enqueue(0), 0).unwrap();
    assert_eq!(solo.commit, idx);
}
