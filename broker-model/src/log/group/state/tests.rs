use super::*;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn group(strategy: AssignmentStrategy) -> Group {
    Group::new(Rules {
        strategy,
        partitions: 4,
        session_timeout: ms(450),
        rebalance_timeout: ms(3000),
    })
}

/// A stable group of `a` and `b`, both joined at 0.
fn stable_pair() -> Group {
    let mut g = group(AssignmentStrategy::Range);
    assert!(g.join("a", vec![], ms(0)).is_some());
    g.join("b", vec![], ms(1));
    assert_eq!(g.heartbeat("a", 1, ms(2)), Standing::RebalanceInProgress);
    let done = g.join("a", vec![], ms(3)).expect("both joined");
    assert_eq!(done.generation, 2);
    g
}

#[test]
fn a_lone_member_gets_every_partition_in_generation_one() {
    let mut g = group(AssignmentStrategy::Range);
    let done = g.join("a", vec![], ms(0)).unwrap();
    assert_eq!(done.generation, 1);
    assert_eq!(done.members, vec!["a".to_string()]);
    assert_eq!(
        g.join_result("a", 0),
        JoinResult::Joined(1, vec![0, 1, 2, 3])
    );
}

#[test]
fn a_second_member_waits_until_every_known_member_rejoins() {
    let mut g = group(AssignmentStrategy::Range);
    g.join("a", vec![], ms(0));
    assert_eq!(g.join("b", vec![], ms(10)), None);
    assert_eq!(g.join_result("b", 1), JoinResult::Waiting);
    g.join("a", vec![], ms(20));
    assert_eq!(g.join_result("a", 1), JoinResult::Joined(2, vec![0, 1]));
    assert_eq!(g.join_result("b", 1), JoinResult::Joined(2, vec![2, 3]));
}

#[test]
fn members_learn_of_a_rebalance_from_their_heartbeat() {
    let mut g = stable_pair();
    assert_eq!(g.heartbeat("a", 2, ms(50)), Standing::Current);
    g.join("c", vec![], ms(60));
    assert_eq!(g.heartbeat("a", 2, ms(70)), Standing::RebalanceInProgress);
    assert_eq!(g.heartbeat("a", 1, ms(70)), Standing::IllegalGeneration);
    assert_eq!(g.heartbeat("z", 2, ms(70)), Standing::UnknownMember);
}

#[test]
fn a_member_silent_for_the_session_timeout_is_removed_and_the_rest_rebalance() {
    let mut g = stable_pair();
    g.heartbeat("a", 2, ms(400));
    let (gone, done) = g.tick(ms(453));
    assert_eq!(gone, vec!["b".to_string()]);
    assert_eq!(done, None, "a must rejoin first");
    assert_eq!(g.heartbeat("a", 2, ms(460)), Standing::RebalanceInProgress);
    let done = g.join("a", vec![], ms(470)).unwrap();
    assert_eq!(done.members, vec!["a".to_string()]);
    assert_eq!(
        g.join_result("a", 2),
        JoinResult::Joined(3, vec![0, 1, 2, 3])
    );
    assert_eq!(g.standing("b", 2), Standing::UnknownMember);
}

#[test]
fn a_member_that_does_not_rejoin_within_the_rebalance_timeout_is_dropped() {
    let mut g = stable_pair();
    g.join("c", vec![], ms(100));
    for t in (130..3100).step_by(30) {
        g.heartbeat("b", 2, ms(t));
        g.heartbeat("c", 0, ms(t));
    }
    g.join("a", vec![], ms(200));
    let (gone, done) = g.tick(ms(3100));
    assert_eq!(gone, vec!["b".to_string()]);
    assert_eq!(
        done.unwrap().members,
        vec!["a".to_string(), "c".to_string()]
    );
}

#[test]
fn a_member_waiting_in_join_does_not_expire() {
    let mut g = stable_pair();
    g.join("a", vec![], ms(10));
    let (gone, _) = g.tick(ms(1000));
    assert_eq!(
        gone,
        vec!["b".to_string()],
        "b neither heartbeat nor rejoined"
    );
    assert_eq!(
        g.join_result("a", 2),
        JoinResult::Joined(3, vec![0, 1, 2, 3])
    );
}

#[test]
fn leaving_rebalances_the_rest_and_an_unknown_leave_changes_nothing() {
    let mut g = stable_pair();
    assert_eq!(g.leave("z", ms(5)), (Left::Unknown, None));
    assert_eq!(g.heartbeat("a", 2, ms(6)), Standing::Current);
    let (left, done) = g.leave("b", ms(10));
    assert_eq!(left, Left::Removed);
    assert_eq!(done, None);
    assert_eq!(g.heartbeat("a", 2, ms(20)), Standing::RebalanceInProgress);
}

#[test]
fn the_last_member_leaving_empties_the_group() {
    let mut g = group(AssignmentStrategy::RoundRobin);
    g.join("a", vec![], ms(0));
    assert_eq!(g.leave("a", ms(5)), (Left::Removed, None));
    assert_eq!(g.join_result("a", 1), JoinResult::UnknownMember);
    let done = g.join("b", vec![], ms(10)).unwrap();
    assert_eq!(done.generation, 2);
}

#[test]
fn roundrobin_groups_interleave_partitions() {
    let mut g = group(AssignmentStrategy::RoundRobin);
    g.join("a", vec![], ms(0));
    g.join("b", vec![], ms(1));
    g.join("a", vec![], ms(2));
    assert_eq!(g.join_result("a", 1), JoinResult::Joined(2, vec![0, 2]));
    assert_eq!(g.join_result("b", 1), JoinResult::Joined(2, vec![1, 3]));
}

#[test]
fn a_cooperative_group_moves_a_partition_in_two_rebalances() {
    let mut g = group(AssignmentStrategy::CooperativeSticky);
    g.join("a", vec![], ms(0));
    assert_eq!(
        g.join_result("a", 0),
        JoinResult::Joined(1, vec![0, 1, 2, 3])
    );
    g.join("b", vec![], ms(10));
    g.join("a", vec![0, 1, 2, 3], ms(20));
    assert_eq!(g.join_result("a", 1), JoinResult::Joined(2, vec![0, 1]));
    assert_eq!(g.join_result("b", 1), JoinResult::Joined(2, vec![]));
    // a revoked 2 and 3 and rejoins; b rejoins when its heartbeat says so.
    g.join("a", vec![0, 1], ms(30));
    assert_eq!(g.heartbeat("b", 2, ms(40)), Standing::RebalanceInProgress);
    g.join("b", vec![], ms(50));
    assert_eq!(g.join_result("a", 2), JoinResult::Joined(3, vec![0, 1]));
    assert_eq!(g.join_result("b", 2), JoinResult::Joined(3, vec![2, 3]));
}
