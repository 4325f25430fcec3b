use super::*;

const INC: Incarnation = Incarnation { vm: 1, app: 1 };

fn req(node: NodeId, carry_from: Option<u32>) -> MirrorFetch {
    MirrorFetch {
        queue: 0,
        epoch: 1,
        node,
        incarnation: INC,
        member: None,
        from: 0,
        carry_from,
    }
}

fn loc(epoch: u32, node: NodeId) -> Location {
    Location {
        epoch,
        node,
        incarnation: None,
    }
}

#[test]
fn a_mirror_joining_empty_is_synchronised_only_when_older_messages_are_gone() {
    let mut m = Mirrors::new(&[]);
    let j = m.join(&req(2, None), 1, 10, SyncMode::Manual, 40);
    assert!(!j.snapshot);
    assert_eq!(m.fetched(2, j.member, 10), Fetch::Member);
    assert!(!m.list()[0].synced);
    assert_eq!(m.refresh_sync(Some(39)), SyncRefresh::Unchanged);
    assert!(!m.list()[0].synced);
    assert_eq!(m.refresh_sync(Some(40)), SyncRefresh::Synchronised);
    assert!(m.list()[0].synced);
    assert_eq!(m.refresh_sync(None), SyncRefresh::Unchanged, "already");
}

#[test]
fn automatic_sync_hands_over_the_queue() {
    let mut m = Mirrors::new(&[]);
    let j = m.join(&req(2, None), 1, 10, SyncMode::Automatic, 40);
    assert!(j.snapshot);
    assert!(!m.list()[0].synced, "not until it confirms the copy");
    m.fetched(2, j.member, 10);
    assert!(m.list()[0].synced);
}

#[test]
fn a_change_is_covered_once_every_mirror_has_it() {
    let mut m = Mirrors::new(&[]);
    let a = m.join(&req(2, None), 1, 0, SyncMode::Manual, 0);
    let b = m.join(&req(3, None), 1, 5, SyncMode::Manual, 0);
    assert!(!m.cover(3), "mirror 2 has not fetched");
    m.fetched(2, a.member, 4);
    assert!(m.cover(3), "mirror 3 joined after change 3");
    assert!(!m.cover(5));
    m.fetched(3, b.member, 6);
    m.fetched(2, a.member, 6);
    assert!(m.cover(5));
    m.prune(|n, _| n == 3);
    assert_eq!(m.fetched(3, b.member, 7), Fetch::Stranger);
}

#[test]
fn surviving_mirrors_carry_on_under_a_promoted_master() {
    let previous = [MemberInfo {
        node: 3,
        order: 2,
        synced: true,
        incarnation: Some(INC),
    }];
    let mut m = Mirrors::new(&previous);
    let j = m.join(&req(3, Some(1)), 2, 0, SyncMode::Manual, 9);
    assert!(j.snapshot);
    assert_eq!(m.list()[0].order, 2);
    let fresh = m.join(&req(1, None), 2, 0, SyncMode::Manual, 9);
    assert!(!fresh.snapshot);
    assert_eq!(m.list()[0].order, 3, "a restarted node joins youngest");
}

#[test]
fn declared_mirrors_hold_up_confirms_until_they_join_synchronised() {
    let mut m = Mirrors::declared(&[2, 3]);
    assert!(!m.cover(0));
    let j = m.join(&req(2, Some(0)), 1, 0, SyncMode::Manual, 0);
    assert!(j.snapshot, "a declared mirror joins with the queue");
    m.fetched(2, j.member, 1);
    assert!(!m.cover(0), "mirror 3 has not joined");
    m.prune(|n, inc| n == 3 && inc.is_none());
    assert!(m.cover(0));
    assert!(m.list()[0].synced);
}

#[test]
fn promotion_takes_the_oldest_mirror_the_policy_allows() {
    let members = [
        MemberInfo {
            node: 2,
            order: 5,
            synced: false,
            incarnation: Some(INC),
        },
        MemberInfo {
            node: 3,
            order: 6,
            synced: true,
            incarnation: Some(INC),
        },
    ];
    let alive = |_: &MemberInfo| true;
    assert_eq!(successor(&members, 1, alive, Promote::Always), Some(2));
    assert_eq!(successor(&members, 1, alive, Promote::WhenSynced), Some(3));
    let only_unsynced = &members[..1];
    assert_eq!(
        successor(only_unsynced, 1, alive, Promote::WhenSynced),
        None
    );
    assert_eq!(
        successor(&members, 1, |m| m.node != 2, Promote::Always),
        Some(3)
    );
}

#[test]
fn a_node_that_waited_does_not_resume_from_a_record_it_has_heard_superseded() {
    // node-1's disk says it was master in epoch 1; while it was paused,
    // node-2 took over in epoch 2 and node-3 follows node-2.
    let mine = Some(loc(1, 1));
    let heard = [(
        3,
        QueueStatus::Mirror {
            following: loc(2, 2),
            promotable: false,
        },
    )];
    let newest = newest_record(mine, &heard);
    assert_eq!(newest, Some(loc(2, 2)));
    // Later only node-1 answers for itself: with the record it took, it
    // waits for node-2 instead of resuming as master of an old copy.
    assert_eq!(resolve(1, 1, newest, &[]), Resolution::Wait);
    assert_eq!(
        resolve(1, 1, mine, &[]),
        Resolution::BecomeMaster { epoch: 2 }
    );
}

#[test]
fn a_starting_node_follows_a_master_waits_for_promotion_or_resumes() {
    let master = [(2, QueueStatus::Master(loc(3, 2)))];
    assert_eq!(
        resolve(1, 1, Some(loc(2, 1)), &master),
        Resolution::Follow(loc(3, 2))
    );
    let mirror = [(
        2,
        QueueStatus::Mirror {
            following: loc(2, 1),
            promotable: true,
        },
    )];
    assert_eq!(resolve(1, 1, Some(loc(2, 1)), &mirror), Resolution::Wait);
    let unsynced = [(
        2,
        QueueStatus::Mirror {
            following: loc(2, 1),
            promotable: false,
        },
    )];
    assert_eq!(
        resolve(1, 1, Some(loc(2, 1)), &unsynced),
        Resolution::BecomeMaster { epoch: 3 }
    );
    assert_eq!(resolve(2, 1, None, &unsynced), Resolution::Wait);
    assert_eq!(
        resolve(1, 1, None, &[]),
        Resolution::BecomeMaster { epoch: 1 }
    );
    assert_eq!(resolve(2, 1, None, &[]), Resolution::Wait);
}
