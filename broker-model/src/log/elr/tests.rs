//! KIP-966's rules on one partition, driven by hand.

use super::*;

const ON: Rules = Rules {
    elr: EligibleLeaderReplicas::Enabled,
    min_isr: 2,
    unclean_election: false,
};
const OFF: Rules = Rules {
    elr: EligibleLeaderReplicas::Disabled,
    ..ON
};

/// Broker 1 leads replicas 1, 2, 3, all in sync.
fn healthy() -> PartitionState {
    PartitionState {
        partition: 0,
        replicas: vec![1, 2, 3],
        leader: Some(1),
        leader_epoch: 1,
        isr: vec![1, 2, 3],
        partition_epoch: 1,
        elr: Vec::new(),
        last_known_leader: None,
    }
}

fn gone(b: &[BrokerId]) -> BTreeSet<BrokerId> {
    b.iter().copied().collect()
}

/// The controller fencing `dead` in `s` and electing among `alive` if the
/// leader was among them.
fn fence(rules: Rules, s: &mut PartitionState, dead: &[BrokerId], alive: &[BrokerId]) {
    let isr = rules.isr_without(s, &gone(dead));
    rules.set_isr(s, isr, None);
    if s.leader.is_some_and(|l| dead.contains(&l)) {
        let choice = rules.choose_leader(s, |b| alive.contains(&b));
        rules.install_leader(s, choice);
    }
}

#[test]
fn replicas_leaving_while_the_isr_is_below_min_isr_become_eligible() {
    let mut s = healthy();
    assert_eq!(ON.set_isr(&mut s, vec![1], None), Change::Changed);
    assert_eq!((s.isr.clone(), s.elr.clone()), (vec![1], vec![2, 3]));
    assert_eq!(s.partition_epoch, 2);
}

#[test]
fn a_replica_leaving_while_the_isr_still_had_min_isr_members_is_not_eligible() {
    let mut s = healthy();
    ON.set_isr(&mut s, vec![1, 2], None);
    assert!(s.elr.is_empty(), "the high watermark could pass it after");
    ON.set_isr(&mut s, vec![1], None);
    assert_eq!(s.elr, vec![2]);
}

#[test]
fn the_elr_is_cleared_once_the_isr_reaches_min_isr_again() {
    let mut s = healthy();
    ON.set_isr(&mut s, vec![1], None);
    ON.set_isr(&mut s, vec![1, 3], None);
    assert!(s.elr.is_empty());
}

#[test]
fn a_replica_back_in_the_isr_is_not_also_eligible() {
    let mut s = healthy();
    let rules = Rules { min_isr: 3, ..ON };
    rules.set_isr(&mut s, vec![1], None);
    rules.set_isr(&mut s, vec![1, 2], None);
    assert_eq!(s.elr, vec![3]);
}

#[test]
fn without_elr_the_last_in_sync_replica_stays_and_is_elected_again() {
    let mut s = healthy();
    fence(OFF, &mut s, &[2, 3], &[1]);
    fence(OFF, &mut s, &[1], &[]);
    assert_eq!((s.leader, s.isr.clone()), (None, vec![1]));
    let choice = OFF.choose_leader(&s, |b| b == 1);
    assert_eq!(choice, Some((1, LeaderSource::Isr)));
}

#[test]
fn with_elr_the_isr_empties_and_remembers_its_last_leader() {
    let mut s = healthy();
    fence(ON, &mut s, &[2, 3], &[1]);
    fence(ON, &mut s, &[1], &[]);
    assert_eq!(s.leader, None);
    assert!(s.isr.is_empty());
    assert_eq!(s.elr, vec![1, 2, 3]);
    assert_eq!(s.last_known_leader, Some(1));
}

#[test]
fn a_replica_back_from_an_unclean_shutdown_leaves_the_isr_and_the_elr() {
    let mut s = healthy();
    fence(ON, &mut s, &[2, 3], &[1]);
    fence(ON, &mut s, &[1], &[]);
    assert_eq!(ON.unclean_shutdown(&mut s, 1), Change::Changed);
    assert_eq!(s.elr, vec![2, 3]);
    assert_eq!(
        ON.choose_leader(&s, |b| b == 1),
        None,
        "1 may have lost records"
    );
}

#[test]
fn an_unclean_shutdown_changes_nothing_without_elr() {
    let mut s = healthy();
    fence(OFF, &mut s, &[2, 3], &[1]);
    assert_eq!(OFF.unclean_shutdown(&mut s, 1), Change::Unchanged);
    assert_eq!(s.isr, vec![1]);
}

#[test]
fn an_unfenced_eligible_replica_leads_when_the_isr_is_empty() {
    let mut s = healthy();
    fence(ON, &mut s, &[2, 3], &[1]);
    fence(ON, &mut s, &[1], &[]);
    ON.unclean_shutdown(&mut s, 1);
    let choice = ON.choose_leader(&s, |b| b != 2);
    assert_eq!(choice, Some((3, LeaderSource::Elr)));
    ON.install_leader(&mut s, choice);
    assert_eq!(
        (s.leader, s.isr.clone(), s.elr.clone()),
        (Some(3), vec![3], vec![2])
    );
    assert_eq!(s.last_known_leader, None);
}

#[test]
fn the_last_known_leader_leads_only_when_no_isr_or_elr_member_is_left() {
    let mut s = healthy();
    let rules = Rules { min_isr: 1, ..ON };
    fence(rules, &mut s, &[2, 3], &[1]);
    assert!(s.elr.is_empty(), "the ISR kept min.insync.replicas members");
    fence(rules, &mut s, &[1], &[]);
    assert_eq!((s.elr.clone(), s.last_known_leader), (vec![1], Some(1)));
    rules.unclean_shutdown(&mut s, 1);
    assert!(s.isr.is_empty() && s.elr.is_empty());
    assert_eq!(rules.choose_leader(&s, |b| b == 2), None);
    assert_eq!(
        rules.choose_leader(&s, |b| b == 1),
        Some((1, LeaderSource::LastKnownLeader))
    );
}

#[test]
fn an_unclean_election_clears_the_elr() {
    let mut s = healthy();
    let rules = Rules {
        unclean_election: true,
        ..ON
    };
    fence(rules, &mut s, &[2, 3], &[1]);
    fence(rules, &mut s, &[1], &[]);
    rules.unclean_shutdown(&mut s, 1);
    let choice = rules.choose_leader(&s, |b| b == 1);
    assert_eq!(choice, Some((1, LeaderSource::Unclean)));
    rules.install_leader(&mut s, choice);
    assert_eq!((s.isr.clone(), s.elr.clone()), (vec![1], vec![]));
}
