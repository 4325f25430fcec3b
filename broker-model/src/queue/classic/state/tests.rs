//! Tests of one node's classic-queue state, and the fixtures other
//! classic-queue tests build on.

use super::*;
use crate::queue::config::HaMode;
use crate::queue::protocol::Incarnation;

const INC: Incarnation = Incarnation { vm: 1, app: 1 };

pub(crate) fn loc(epoch: u32, node: NodeId) -> Location {
    Location {
        epoch,
        node,
        incarnation: None,
    }
}

pub(crate) fn info(node: NodeId, order: u64, synced: bool) -> MemberInfo {
    MemberInfo {
        node,
        order,
        synced,
        incarnation: Some(INC),
    }
}

fn stored(seq: u32, persistent: bool) -> Stored {
    Stored {
        msg: MsgId::new(1, seq),
        persistent,
        redelivered: false,
        enqueued_us: 0,
        dead_letter: None,
    }
}

/// Node `me`'s state of a durable queue mirrored on nodes 1 and 2 (or,
/// with `ha: 3`, on all three), homed on node 1.
pub(crate) fn state(me: NodeId, ha: u32) -> ClassicState {
    let config = QueueConfig {
        queue_type: QueueType::Mirrored,
        ha_mode: HaMode::Exactly(ha),
        durable: true,
        ..QueueConfig::default()
    };
    ClassicState::new(&config, me, 0, BTreeMap::new(), None)
}

/// Node `me`, a mirror of node 1 in `epoch` that joined the group
/// described by `members` (or has not joined, with `None`).
pub(crate) fn mirror(me: NodeId, epoch: u32, members: Option<Vec<MemberInfo>>) -> ClassicState {
    let mut st = state(me, 3);
    st.role = Role::Mirror(Mirror {
        following: loc(epoch, 1),
        member: members.as_ref().map(|_| 7),
        next: 0,
        members: members.unwrap_or_default(),
        carry_from: Some(epoch - 1),
        master_stopping: false,
    });
    st
}

pub(crate) fn all_alive(_: &MemberInfo) -> bool {
    true
}

#[test]
fn news_of_a_newer_master_is_followed_carrying_the_group_it_joined() {
    let joined = mirror(2, 1, Some(vec![info(2, 1, true)]));
    assert_eq!(joined.news(loc(2, 3)), Some(Some(1)));
    assert_eq!(joined.news(loc(1, 1)), None, "the master it follows");
    let unjoined = mirror(2, 3, None);
    assert_eq!(unjoined.news(loc(4, 3)), Some(Some(2)));
    let mut starting = state(2, 3);
    starting.record = Some(loc(1, 1));
    starting.member_of = Some(1);
    assert_eq!(
        starting.news(loc(1, 1)),
        Some(Some(1)),
        "a deciding node follows the master it already knew of"
    );
    let classic = ClassicState::new(&QueueConfig::default(), 1, 0, BTreeMap::new(), None);
    assert_eq!(classic.news(loc(9, 2)), None);
}

#[test]
fn a_joining_mirror_keeps_only_what_the_masters_copy_holds() {
    let mut st = mirror(2, 1, None);
    st.held = [(0, stored(0, true)), (1, stored(1, true))].into();
    let adopted = st.adopt(Some(vec![(1, stored(1, true)), (2, stored(2, false))]));
    assert_eq!(adopted.dropped, vec![MsgId::new(1, 0)]);
    assert!(adopted.synchronised);
    assert_eq!(st.held.keys().copied().collect::<Vec<_>>(), vec![1, 2]);
    let empty = st.adopt(None);
    assert!(!empty.synchronised);
    assert_eq!(empty.dropped.len(), 2);
    assert!(st.held.is_empty());
}

#[test]
fn a_mirror_applies_its_masters_changes_and_journals_persistent_messages() {
    let mut st = mirror(2, 1, Some(Vec::new()));
    let ops = [
        Op::Enqueue {
            seq: 5,
            stored: stored(5, false),
        },
        Op::Enqueue {
            seq: 6,
            stored: stored(6, true),
        },
        Op::Remove {
            seqs: vec![5, 6, 9],
        },
    ];
    let applied = st.apply(&ops);
    assert_eq!(applied.first, Some(5));
    assert_eq!(applied.added, vec![MsgId::new(1, 5), MsgId::new(1, 6)]);
    assert!(applied.journaled_enqueue);
    assert!(matches!(
        applied.journal.as_slice(),
        [Entry::Enqueue { seq: 6, .. }, Entry::Remove { seqs, .. }] if seqs == &[6]
    ));
    assert!(st.held.is_empty());
}

#[test]
fn a_mirror_drops_what_its_masters_limits_dropped_and_says_why() {
    let mut st = mirror(2, 1, Some(Vec::new()));
    st.held = [(0, stored(0, true)), (1, stored(1, false))].into();
    let applied = st.apply(&[Op::Drop {
        seqs: vec![0, 1, 7],
        reason: DropReason::Overflow,
    }]);
    let [(reason, dropped)] = applied.dropped.as_slice() else {
        panic!("one drop: {:?}", applied.dropped);
    };
    assert_eq!(*reason, DropReason::Overflow);
    assert_eq!(dropped.len(), 2, "position 7 was never held");
    assert!(st.held.is_empty());
    assert!(matches!(
        applied.journal.as_slice(),
        [Entry::Remove { seqs, .. }] if seqs == &[0]
    ));
}

#[test]
fn a_mirror_is_in_sync_once_its_master_says_so() {
    let me = 2;
    let unsynced = mirror(me, 1, Some(vec![info(2, 1, false)]));
    assert!(!unsynced.view(me).unwrap().in_sync);
    let synced = mirror(me, 1, Some(vec![info(2, 1, true)]));
    assert!(synced.view(me).unwrap().in_sync);
    assert!(
        mirror(me, 1, None).view(me).unwrap().in_sync,
        "not yet a mirror, so no unsynchronised one"
    );
}
