//! The replica state machine, driven by hand.

use super::*;

fn msg(seq: u32) -> Payload {
    Payload::Message {
        msg: MsgId::new(1, seq),
        producer: 7,
    }
}

fn state(leader: BrokerId, epoch: u32, isr: &[BrokerId]) -> PartitionState {
    PartitionState {
        partition: 0,
        replicas: vec![1, 2, 3],
        leader: Some(leader),
        leader_epoch: epoch,
        isr: isr.to_vec(),
        partition_epoch: 1,
        elr: Vec::new(),
        last_known_leader: None,
    }
}

const T0: Duration = Duration::ZERO;

#[test]
fn high_watermark_waits_for_every_in_sync_follower() {
    let mut r = Replica::new(0, 1);
    r.become_leader(&state(1, 1, &[1, 2, 3]), T0);
    r.append(msg(0), 0, 100);
    r.append(msg(1), 0, 100);
    assert_eq!(r.high_watermark, 0);
    assert_eq!(r.follower_fetched(2, 2, T0), HighWatermark::Unchanged);
    assert_eq!(r.follower_fetched(3, 1, T0), HighWatermark::Advanced);
    assert_eq!(r.high_watermark, 1);
    assert_eq!(r.follower_fetched(3, 2, T0), HighWatermark::Advanced);
    assert_eq!(r.high_watermark, 2);
}

#[test]
fn sole_in_sync_leader_commits_on_append() {
    let mut r = Replica::new(0, 1);
    r.become_leader(&state(1, 1, &[1]), T0);
    r.append(msg(0), 0, 100);
    r.update_high_watermark();
    assert_eq!(r.high_watermark, 1);
}

#[test]
fn laggards_leave_and_caught_up_followers_return() {
    let lag = Duration::from_millis(100);
    let mut r = Replica::new(0, 1);
    r.become_leader(&state(1, 1, &[1, 2, 3]), T0);
    r.append(msg(0), 0, 100);
    r.follower_fetched(2, 1, Duration::from_millis(150));
    assert_eq!(
        r.wanted_isr(Duration::from_millis(150), lag),
        Some(vec![1, 2])
    );
    assert_eq!(r.adopt_isr(&[1, 2], 2), IsrUpdate::Adopted);
    r.follower_fetched(3, 1, Duration::from_millis(200));
    assert_eq!(
        r.wanted_isr(Duration::from_millis(200), lag),
        Some(vec![1, 2, 3])
    );
}

#[test]
fn a_follower_with_records_from_a_dead_epoch_is_told_to_truncate() {
    // Leader of epoch 1 appended 0..3; a new leader (epoch 2) only had 0..2.
    let mut old = Replica::new(0, 1);
    old.leader_epoch = 1;
    for i in 0..3 {
        old.append(msg(i), 0, 100);
    }
    let mut new = Replica::new(0, 2);
    new.leader_epoch = 1;
    new.append(msg(0), 0, 100);
    new.append(msg(1), 0, 100);
    new.leader_epoch = 2;
    new.append(msg(9), 0, 100);
    let (epoch, end) = new.divergence(old.log_end(), old.last_epoch()).unwrap();
    assert_eq!((epoch, end), (1, 2));
    let to = old.truncation_point(epoch, end);
    let removed = old.truncate(to);
    assert_eq!(removed.len(), 1);
    assert_eq!(removed[0].msg(), Some(MsgId::new(1, 2)));
    assert_eq!(old.duplicate_of(7, MsgId::new(1, 2)), None);
    assert_eq!(new.divergence(old.log_end(), old.last_epoch()), None);
}

#[test]
fn a_follower_whose_epoch_the_leader_never_had_truncates_to_the_common_prefix() {
    let mut leader = Replica::new(0, 1);
    leader.leader_epoch = 1;
    leader.append(msg(0), 0, 100);
    leader.leader_epoch = 3;
    leader.append(msg(1), 0, 100);
    let mut follower = Replica::new(0, 2);
    follower.leader_epoch = 1;
    follower.append(msg(0), 0, 100);
    follower.leader_epoch = 2;
    follower.append(msg(5), 0, 100);
    let (e, end) = leader.divergence(2, 2).unwrap();
    assert_eq!((e, end), (1, 1));
    assert_eq!(follower.truncation_point(e, end), 1);
}

#[test]
fn the_epoch_cache_answers_as_a_scan_of_the_log_would_through_truncations() {
    fn scanned(r: &Replica, epoch: u32) -> (u32, u64) {
        let mut found = None;
        for rec in r.log.iter().take_while(|rec| rec.epoch <= epoch) {
            found = Some((rec.epoch, rec.offset + 1));
        }
        found.unwrap_or((epoch, r.log.first().map_or(r.log_start, |rec| rec.offset)))
    }
    let mut r = Replica::new(0, 1);
    let check = |r: &Replica| {
        for epoch in 0..8 {
            assert_eq!(r.epoch_end(epoch), scanned(r, epoch), "epoch {epoch}");
        }
    };
    check(&r);
    for (epoch, count) in [(1, 3), (2, 2), (4, 3)] {
        r.leader_epoch = epoch;
        for i in 0..count {
            r.append(msg(i), 0, 100);
        }
        check(&r);
    }
    r.truncate(4);
    check(&r);
    r.leader_epoch = 5;
    r.append(msg(7), 0, 100);
    check(&r);
    r.truncate(3);
    check(&r);
    r.truncate(0);
    check(&r);
}

#[test]
fn a_log_that_starts_later_serves_offsets_from_its_start_and_forgets_what_went() {
    let mut r = Replica::new(0, 1);
    r.leader_epoch = 1;
    for i in 0..4 {
        r.append(msg(i), 0, 100);
    }
    r.leader_epoch = 2;
    for i in 4..6 {
        r.append(msg(i), 0, 100);
    }
    r.high_watermark = 6;
    let removed = r.start_at(3);
    assert_eq!(removed.len(), 3);
    assert_eq!((r.log_start, r.log_end()), (3, 6));
    assert_eq!(r.records(3, 5)[0].offset, 3);
    assert_eq!(r.duplicate_of(7, MsgId::new(1, 0)), None);
    assert_eq!(r.epoch_end(1), (1, 4));
    assert_eq!(r.divergence(3, 0), None);
    assert!(r.start_at(2).is_empty());
}

#[test]
fn a_follower_whose_log_ends_before_the_leaders_start_starts_over_there() {
    let mut r = Replica::new(0, 2);
    r.leader_epoch = 1;
    r.append(msg(0), 0, 100);
    r.start_at(10);
    assert_eq!((r.log_start, r.log_end(), r.high_watermark), (10, 10, 10));
    r.push(Record {
        offset: 10,
        epoch: 1,
        timestamp_ms: 0,
        bytes: 100,
        payload: msg(9),
    });
    assert_eq!(r.log_end(), 11);
}

#[test]
fn a_truncation_below_the_log_start_empties_the_log_there() {
    let mut r = Replica::new(0, 2);
    r.leader_epoch = 1;
    for i in 0..5 {
        r.append(msg(i), 0, 100);
    }
    r.start_at(3);
    let removed = r.truncate(1);
    assert_eq!(removed.len(), 2);
    assert_eq!((r.log_start, r.log_end()), (1, 1));
}

#[test]
fn committed_offsets_are_read_below_the_high_watermark_only() {
    let mut r = Replica::new(1, 1);
    r.become_leader(&state(1, 1, &[1]), T0);
    let commit = |offset| Payload::Commit {
        group: "g".into(),
        partition: 0,
        offset,
    };
    r.append(commit(5), 0, 100);
    r.update_high_watermark();
    r.role = Role::Follower { leader: 2 };
    r.append(commit(9), 0, 100);
    assert_eq!(r.committed_offset("g", 0), Some(5));
    assert_eq!(r.committed_offset("g", 1), None);
}

#[test]
fn a_leader_meets_min_insync_replicas_with_its_committed_set_and_a_follower_never_does() {
    let mut r = Replica::new(0, 1);
    r.become_leader(&state(1, 1, &[1, 2]), T0);
    assert!(r.has_min_isr(2));
    assert!(!r.has_min_isr(3));
    r.become_follower(Some(2), 2);
    assert!(!r.has_min_isr(1));
}

#[test]
fn a_record_committed_after_the_isr_shrank_below_the_minimum_is_under_replicated() {
    let mut r = Replica::new(0, 1);
    r.become_leader(&state(1, 1, &[1, 2, 3]), T0);
    r.append(msg(0), 0, 100);
    assert_eq!(r.commit_status(0, 1, 2), CommitStatus::Pending);
    assert_eq!(r.adopt_isr(&[1], 2), IsrUpdate::Adopted);
    assert_eq!(r.high_watermark, 1);
    assert_eq!(r.commit_status(0, 1, 2), CommitStatus::UnderReplicated);
    assert_eq!(r.commit_status(0, 1, 1), CommitStatus::Committed);
}

#[test]
fn a_record_is_lost_to_its_producer_when_leadership_moves_or_the_log_is_cut() {
    let mut r = Replica::new(0, 1);
    r.become_leader(&state(1, 1, &[1, 2]), T0);
    r.append(msg(0), 0, 100);
    r.append(msg(1), 0, 100);
    r.truncate(1);
    assert_eq!(r.commit_status(1, 1, 1), CommitStatus::LeadershipLost);
    assert_eq!(r.commit_status(0, 2, 1), CommitStatus::LeadershipLost);
    r.become_follower(Some(2), 2);
    assert_eq!(r.commit_status(0, 1, 1), CommitStatus::LeadershipLost);
}

#[test]
fn a_proposal_answered_with_the_set_already_held_no_longer_blocks_the_next() {
    let mut r = Replica::new(0, 1);
    r.become_leader(&state(1, 1, &[1, 2, 3]), T0);
    assert_eq!(r.adopt_isr(&[1, 3], 2), IsrUpdate::Adopted);
    r.propose_isr(vec![1, 2, 3]);
    assert_eq!(r.answer_isr(&[1, 3], 2), IsrUpdate::Stale);
    let Role::Leader(l) = &r.role else {
        panic!("still leads");
    };
    assert_eq!(l.proposed, None, "a refused change is settled");
}

#[test]
fn an_isr_answer_reaching_a_replica_that_no_longer_leads_changes_nothing() {
    let mut r = Replica::new(0, 1);
    r.become_follower(Some(2), 1);
    assert_eq!(r.adopt_isr(&[1, 2], 5), IsrUpdate::NotLeading);
    assert_eq!(r.follower_fetched(3, 0, T0), HighWatermark::Unchanged);
}

#[test]
fn with_a_strict_min_isr_the_high_watermark_waits_for_min_isr_members() {
    let mut r = Replica::new(0, 1).with_strict_min_isr(2);
    r.become_leader(&state(1, 1, &[1]), T0);
    r.append(msg(0), 0, 100);
    assert_eq!(r.update_high_watermark(), HighWatermark::Unchanged);
    assert_eq!(
        r.high_watermark, 0,
        "acks=1 records stay invisible below min ISR"
    );
    r.follower_fetched(2, 1, T0);
    assert_eq!(r.adopt_isr(&[1, 2], 2), IsrUpdate::Adopted);
    assert_eq!(r.high_watermark, 1);
}
