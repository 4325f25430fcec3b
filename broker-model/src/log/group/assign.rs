//! `partition.assignment.strategy`: who reads which partition. Kafka's
//! group leader runs these in its client; the model runs them at the
//! coordinator, which hands each member its share in the JoinGroup reply
//! (Kafka's SyncGroup), so that one message round suffices.

use std::collections::BTreeMap;

use super::MemberId;
use crate::log::config::AssignmentStrategy;
use crate::log::protocol::PartitionId;

/// Shares `partitions` among `members` (sorted by id, as Kafka's
/// assignors sort them).
pub(crate) fn assign(
    strategy: AssignmentStrategy,
    members: &[MemberId],
    partitions: u32,
) -> BTreeMap<MemberId, Vec<PartitionId>> {
    let mut out: BTreeMap<MemberId, Vec<PartitionId>> =
        members.iter().map(|m| (m.clone(), Vec::new())).collect();
    if members.is_empty() {
        return out;
    }
    let n = members.len() as u32;
    match strategy {
        // RangeAssignor: `partitions / n` each, the first `partitions % n`
        // members one more.
        AssignmentStrategy::Range | AssignmentStrategy::CooperativeSticky => {
            let (each, extra) = (partitions / n, partitions % n);
            let mut next = 0;
            for (i, m) in members.iter().enumerate() {
                let count = each + u32::from((i as u32) < extra);
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
    fn a_lone_member_gets_every_partition() {
        let a = assign(AssignmentStrategy::Range, &ids(1), 3);
        assert_eq!(a["consumer-1"], vec![0, 1, 2]);
    }
}
