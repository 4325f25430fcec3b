//! `partition.assignment.strategy`: who reads which partition. Kafka's
//! group leader runs these in its client; the model runs them at the
//! coordinator, which hands each member its share in the JoinGroup reply
//! (Kafka's SyncGroup), so that one message round suffices.
//!
//! `range` and `roundrobin` are eager: every member gave up everything
//! before joining, and gets a fresh share. `cooperative-sticky` (KIP-429)
//! is incremental: members join with what they own and keep it, as far as
//! a balanced assignment allows; a partition that must move is first only
//! taken from its owner, which revokes it and rejoins, and is given to its
//! new owner in the rebalance that follows.

use std::collections::BTreeMap;

use super::MemberId;
use crate::log::config::AssignmentStrategy;
use crate::log::protocol::PartitionId;

/// Every member, with no partition yet.
fn nothing_assigned(members: &[MemberId]) -> BTreeMap<MemberId, Vec<PartitionId>> {
    members.iter().map(|m| (m.clone(), Vec::new())).collect()
}

/// How many of `partitions` the `i`-th of `n` members gets as the
/// RangeAssignor shares them: `partitions / n` each, the first
/// `partitions % n` one more.
fn range_share(partitions: u32, n: u32, i: usize) -> u32 {
    partitions / n + u32::from((i as u32) < partitions % n)
}

/// Shares `partitions` among `members` (sorted by id, as Kafka's
/// assignors sort them).
pub(crate) fn assign(
    strategy: AssignmentStrategy,
    members: &[MemberId],
    partitions: u32,
) -> BTreeMap<MemberId, Vec<PartitionId>> {
    let mut out = nothing_assigned(members);
    if members.is_empty() {
        return out;
    }
    let n = members.len() as u32;
    match strategy {
        // RangeAssignor: contiguous blocks of `range_share`. (Cooperative
        // groups go through `cooperative`; with nothing owned it gives the
        // same.)
        AssignmentStrategy::Range | AssignmentStrategy::CooperativeSticky => {
            let mut next = 0;
            for (i, m) in members.iter().enumerate() {
                let count = range_share(partitions, n, i);
                out.get_mut(m).expect("member").extend(next..next + count);
                next += count;
            }
        }
        AssignmentStrategy::RoundRobin => {
            for p in 0..partitions {
                let m = &members[(p % n) as usize];
                out.get_mut(m).expect("member").push(p);
            }
        }
    }
    out
}

/// The cooperative-sticky assignment of `partitions` to `members` that
/// own `owned` (as they said when joining): a balanced share each, members
/// keeping what they own up to their share, the rest dealt to those below
/// it; and, KIP-429's rule, a partition still owned by another member is
/// withheld from its new owner until that member has revoked it.
pub(crate) fn cooperative(
    members: &[MemberId],
    owned: &BTreeMap<MemberId, Vec<PartitionId>>,
    partitions: u32,
) -> BTreeMap<MemberId, Vec<PartitionId>> {
    let mut out = nothing_assigned(members);
    if members.is_empty() {
        return out;
    }
    let n = members.len() as u32;
    let owns = |m: &MemberId| owned.get(m).map_or(0, Vec::len);
    // The larger shares go to those owning most, so that less moves.
    let mut by_owned: Vec<&MemberId> = members.iter().collect();
    by_owned.sort_by_key(|m| std::cmp::Reverse(owns(m)));
    let quota: BTreeMap<&MemberId, usize> = by_owned
        .iter()
        .enumerate()
        .map(|(i, m)| (*m, range_share(partitions, n, i) as usize))
        .collect();
    let mut taken = vec![false; partitions as usize];
    for m in members {
        for &p in owned.get(m).into_iter().flatten() {
            let share = out.get_mut(m).expect("member");
            if p < partitions && !taken[p as usize] && share.len() < quota[m] {
                taken[p as usize] = true;
                share.push(p);
            }
        }
    }
    for p in 0..partitions {
        if taken[p as usize] {
            continue;
        }
        if let Some(m) = members.iter().find(|m| out[*m].len() < quota[*m]) {
            out.get_mut(m).expect("member").push(p);
        }
    }
    for (m, share) in out.iter_mut() {
        share.retain(|p| {
            !owned
                .iter()
                .any(|(other, theirs)| other != m && theirs.contains(p))
        });
        share.sort_unstable();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(n: usize) -> Vec<MemberId> {
        (1..=n).map(|i| format!("consumer-{i}")).collect()
    }

    #[test]
    fn range_gives_each_member_a_contiguous_block_the_first_ones_larger() {
        let a = assign(AssignmentStrategy::Range, &ids(2), 5);
        assert_eq!(a["consumer-1"], vec![0, 1, 2]);
        assert_eq!(a["consumer-2"], vec![3, 4]);
    }

    #[test]
    fn roundrobin_deals_partitions_out_in_turn() {
        let a = assign(AssignmentStrategy::RoundRobin, &ids(2), 5);
        assert_eq!(a["consumer-1"], vec![0, 2, 4]);
        assert_eq!(a["consumer-2"], vec![1, 3]);
    }

    #[test]
    fn members_beyond_the_partition_count_get_nothing() {
        for strategy in [AssignmentStrategy::Range, AssignmentStrategy::RoundRobin] {
            let a = assign(strategy, &ids(3), 2);
            assert_eq!(a["consumer-3"], Vec::<PartitionId>::new());
            let total: usize = a.values().map(Vec::len).sum();
            assert_eq!(total, 2);
        }
    }

    #[test]
    fn cooperative_members_keep_what_they_own_and_a_moving_partition_waits_for_its_revoke() {
        let members = ids(2);
        let mut owned = BTreeMap::new();
        owned.insert("consumer-1".to_string(), vec![0, 1, 2, 3]);
        owned.insert("consumer-2".to_string(), vec![]);
        let first = cooperative(&members, &owned, 4);
        assert_eq!(
            first["consumer-1"],
            vec![0, 1],
            "keeps half, revokes 2 and 3"
        );
        assert_eq!(
            first["consumer-2"],
            Vec::<PartitionId>::new(),
            "2 and 3 wait"
        );
        owned.insert("consumer-1".to_string(), vec![0, 1]);
        let second = cooperative(&members, &owned, 4);
        assert_eq!(second["consumer-1"], vec![0, 1]);
        assert_eq!(second["consumer-2"], vec![2, 3]);
    }

    #[test]
    fn cooperative_survivors_keep_theirs_and_take_the_departed_members_partitions() {
        let members = vec!["consumer-2".to_string()];
        let owned = BTreeMap::from([("consumer-2".to_string(), vec![1, 3])]);
        assert_eq!(
            cooperative(&members, &owned, 4)["consumer-2"],
            vec![0, 1, 2, 3]
        );
    }

    #[test]
    fn a_lone_member_gets_every_partition() {
        let a = assign(AssignmentStrategy::Range, &ids(1), 3);
        assert_eq!(a["consumer-1"], vec![0, 1, 2]);
    }
}
