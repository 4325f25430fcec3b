//! Who masters a mirrored queue next, decided on one node's state alone:
//! what a starting node settles on once its peers answered, and whether a
//! mirror that lost its master takes over. `promotion.rs` acts on these.

use crate::queue::classic::membership::{self, Resolution};
use crate::queue::classic::state::{ClassicState, Role};
use crate::queue::config::Promote;
use crate::queue::protocol::{MemberInfo, NodeId, QueueStatus};

/// What a mirror does on finding its master lost.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Succession {
    /// This node takes over.
    TakeOver(Takeover),
    /// Another mirror takes over, or none may: wait.
    Wait,
}

/// A mirror taking over from its lost master.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Takeover {
    /// The epoch it masters.
    pub(crate) epoch: u32,
    /// The other mirrors of the lost master, who may carry on under it.
    pub(crate) mirrors: Vec<MemberInfo>,
    /// The lost master.
    pub(crate) previous: NodeId,
    /// Whether it held every message of the queue.
    pub(crate) synced: bool,
}

/// Which of its live peers a deciding node heard from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Heard {
    /// Every peer not known to be down answered.
    All,
    /// Some peer thought up did not answer in time.
    Partly,
}

impl ClassicState {
    /// What a node that is still deciding does once its peers answered, or
    /// `None` when it has settled meanwhile. A node that is not a member
    /// never becomes master: it waits.
    pub(crate) fn settle(
        &self,
        me: NodeId,
        statuses: &[(NodeId, QueueStatus)],
        heard: Heard,
    ) -> Option<Resolution> {
        if !matches!(self.role, Role::Starting | Role::Waiting) {
            return None;
        }
        Some(
            match membership::resolve(me, self.home, self.record, statuses) {
                Resolution::BecomeMaster { .. } if !self.member => Resolution::Wait,
                // A peer that is up but did not answer may hold a newer
                // record: as Mnesia waits for its tables from the nodes
                // that were running, a node resumes a queue from its own
                // disk only once every live peer has had its say.
                Resolution::BecomeMaster { .. } if heard == Heard::Partly => Resolution::Wait,
                other => other,
            },
        )
    }

    /// What mirror `me` does on finding its master lost, under `policy`;
    /// `alive` says which of the group are still up. `None` when this node
    /// is not a mirror.
    pub(crate) fn succession(
        &self,
        me: NodeId,
        policy: Promote,
        alive: impl Fn(&MemberInfo) -> bool,
    ) -> Option<Succession> {
        let Role::Mirror(m) = &self.role else {
            return None;
        };
        let chosen = m.member.and(m.successor(policy, alive));
        if chosen != Some(me) {
            return Some(Succession::Wait);
        }
        let synced = m
            .members
            .iter()
            .find(|i| i.node == me)
            .is_some_and(|i| i.synced);
        let mirrors = m
            .members
            .iter()
            .filter(|i| i.node != me && i.node != m.following.node)
            .cloned()
            .collect();
        Some(Succession::TakeOver(Takeover {
            epoch: m.following.epoch.max(self.record.map_or(0, |r| r.epoch)) + 1,
            mirrors,
            previous: m.following.node,
            synced,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::classic::state::tests::{all_alive, info, loc, mirror, state};

    #[test]
    fn the_oldest_live_mirror_takes_over_in_an_epoch_past_any_it_knows() {
        let group = vec![info(2, 1, true), info(3, 2, true)];
        let mut st = mirror(2, 2, Some(group));
        st.record = Some(loc(3, 3));
        let takeover = st.succession(2, Promote::Always, all_alive);
        assert_eq!(
            takeover,
            Some(Succession::TakeOver(Takeover {
                epoch: 4,
                mirrors: vec![info(3, 2, true)],
                previous: 1,
                synced: true,
            }))
        );
        let younger = mirror(3, 2, Some(vec![info(2, 1, true), info(3, 2, true)]));
        assert_eq!(
            younger.succession(3, Promote::Always, all_alive),
            Some(Succession::Wait)
        );
    }

    #[test]
    fn a_younger_mirror_takes_over_when_the_oldest_is_down_or_unsynchronised() {
        let group = vec![info(2, 1, false), info(3, 2, true)];
        let st = mirror(3, 1, Some(group));
        let Some(Succession::TakeOver(t)) = st.succession(3, Promote::WhenSynced, all_alive) else {
            panic!("the synchronised mirror takes over under when-synced");
        };
        assert!(t.synced);
        assert_eq!(t.epoch, 2);
        assert_eq!(
            st.succession(3, Promote::Always, all_alive),
            Some(Succession::Wait)
        );
        assert!(matches!(
            st.succession(3, Promote::Always, |m| m.node != 2),
            Some(Succession::TakeOver(_))
        ));
    }

    #[test]
    fn a_mirror_that_has_not_joined_never_takes_over() {
        let st = mirror(2, 1, None);
        assert_eq!(
            st.succession(2, Promote::Always, all_alive),
            Some(Succession::Wait)
        );
        assert_eq!(state(2, 3).succession(2, Promote::Always, all_alive), None);
    }

    #[test]
    fn a_starting_node_outside_the_mirror_set_waits_instead_of_mastering() {
        let outsider = state(3, 2);
        assert!(!outsider.member);
        let statuses = [(
            1,
            QueueStatus::Waiting {
                record: Some(loc(1, 3)),
            },
        )];
        assert_eq!(
            outsider.settle(3, &statuses, Heard::All),
            Some(Resolution::Wait)
        );
        let home = state(1, 2);
        assert_eq!(
            home.settle(1, &[], Heard::All),
            Some(Resolution::BecomeMaster { epoch: 1 })
        );
        assert_eq!(
            mirror(2, 1, None).settle(2, &[], Heard::All),
            None,
            "already settled"
        );
    }

    #[test]
    fn a_node_resumes_a_queue_from_its_disk_only_after_every_live_peer_answered() {
        let home = state(1, 2);
        assert_eq!(
            home.settle(1, &[], Heard::Partly),
            Some(Resolution::Wait),
            "a silent peer may know of a newer master"
        );
        assert_eq!(
            home.settle(1, &[], Heard::All),
            Some(Resolution::BecomeMaster { epoch: 1 })
        );
    }
}
