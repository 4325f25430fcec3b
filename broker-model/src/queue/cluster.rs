//! What a node knows of its peers: who is up, which run of their software
//! is up, and whether the cluster has been partitioned.
//!
//! Nodes tick each other every quarter of `net_ticktime`; a peer silent for
//! `net_ticktime` is down, as Erlang distribution decides. A peer that comes
//! back with the *same* process run it had when it went silent was never
//! down: the network was partitioned. That is how RabbitMQ notices a
//! partition, and what `cluster_partition_handling` reacts to. Kept free of
//! I/O so it can be tested on its own.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::queue::protocol::{Incarnation, NodeId, Tick};

#[derive(Clone, Debug)]
struct Peer {
    /// `None` for a peer never heard from.
    incarnation: Option<Incarnation>,
    running: bool,
    last_heard: Duration,
    up: bool,
}

/// What a tick changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Heard {
    /// Nothing a queue cares about.
    Nothing,
    /// A peer was heard of for the first time, or again after a restart, or
    /// its application started or stopped.
    Changed,
    /// A peer thought down turned out never to have stopped: a partition.
    Partition,
}

/// One node's view of the cluster.
#[derive(Clone, Debug)]
pub(crate) struct Cluster {
    me: NodeId,
    nodes: u32,
    ticktime: Duration,
    started: Duration,
    peers: BTreeMap<NodeId, Peer>,
    partitioned: BTreeSet<NodeId>,
}

impl Cluster {
    /// The view of node `me` in a cluster of `nodes`, started at `now`.
    pub(crate) fn new(me: NodeId, nodes: u32, ticktime: Duration, now: Duration) -> Self {
        Cluster {
            me,
            nodes,
            ticktime,
            started: now,
            peers: BTreeMap::new(),
            partitioned: BTreeSet::new(),
        }
    }

    /// Every other node.
    pub(crate) fn peers(&self) -> Vec<NodeId> {
        (1..=self.nodes).filter(|n| *n != self.me).collect()
    }

    /// Takes in a peer's tick.
    pub(crate) fn heard(&mut self, tick: &Tick, now: Duration) -> Heard {
        let Some(p) = self.peers.get_mut(&tick.node) else {
            self.peers.insert(
                tick.node,
                Peer {
                    incarnation: Some(tick.incarnation),
                    running: tick.running,
                    last_heard: now,
                    up: true,
                },
            );
            return Heard::Changed;
        };
        let was_up = p.up;
        let same = p.incarnation == Some(tick.incarnation);
        let changed = !was_up || !same || p.running != tick.running;
        if !same {
            // The peer restarted (its process or its application): whatever
            // split it was on is over for it.
            self.partitioned.remove(&tick.node);
        }
        let partition = !was_up && same;
        p.incarnation = Some(tick.incarnation);
        p.running = tick.running;
        p.last_heard = now;
        p.up = true;
        if partition {
            self.partitioned.insert(tick.node);
            Heard::Partition
        } else if changed {
            Heard::Changed
        } else {
            Heard::Nothing
        }
    }

    /// Marks down every peer silent for `net_ticktime` (including peers
    /// never heard from since this node started); returns them.
    pub(crate) fn expire(&mut self, now: Duration) -> Vec<NodeId> {
        let mut down = Vec::new();
        if now.saturating_sub(self.started) > self.ticktime {
            for n in self.peers() {
                if let std::collections::btree_map::Entry::Vacant(e) = self.peers.entry(n) {
                    e.insert(Peer {
                        incarnation: None,
                        running: false,
                        last_heard: self.started,
                        up: false,
                    });
                    down.push(n);
                }
            }
        }
        for (n, p) in self.peers.iter_mut() {
            if p.up && now.saturating_sub(p.last_heard) > self.ticktime {
                p.up = false;
                down.push(*n);
            }
        }
        down.sort_unstable();
        down
    }

    /// Whether `node` is up as far as this node knows (itself always is).
    pub(crate) fn is_up(&self, node: NodeId) -> bool {
        node == self.me || self.peers.get(&node).is_some_and(|p| p.up)
    }

    /// Whether the run `incarnation` of `node`'s application is known to be
    /// gone: the node is down, restarted, or its application stopped. A
    /// node never heard of is not known to be gone.
    pub(crate) fn known_lost(&self, node: NodeId, incarnation: Option<Incarnation>) -> bool {
        if node == self.me {
            return false;
        }
        let Some(p) = self.peers.get(&node) else {
            return false;
        };
        !p.up || !p.running || incarnation.is_some_and(|i| Some(i) != p.incarnation)
    }

    /// Whether news from `node`'s run `incarnation` would cross a split:
    /// this node declared that very run down (it is down now, or came back
    /// as the same run: a partition) and neither side has restarted since.
    /// RabbitMQ keeps queue records in Mnesia, whose copies part when each
    /// node declares the other down and never merge again: "the split will
    /// continue even after network connectivity is restored" (RabbitMQ's
    /// partitions guide) until one side restarts and takes the other's.
    pub(crate) fn split_from(&self, node: NodeId, incarnation: Option<Incarnation>) -> bool {
        let Some(p) = self.peers.get(&node) else {
            return false;
        };
        let same_run = incarnation.is_some() && incarnation == p.incarnation;
        same_run && (!p.up || self.partitioned.contains(&node))
    }

    /// Whether this node sees more than half of the cluster, itself
    /// included. During the first `net_ticktime` after start, before peers
    /// could have ticked, it assumes it does.
    pub(crate) fn sees_majority(&self, now: Duration) -> bool {
        if now.saturating_sub(self.started) <= self.ticktime {
            return true;
        }
        let visible = 1 + self.peers.values().filter(|p| p.up).count() as u32;
        visible * 2 > self.nodes
    }

    /// The peers this node has found itself partitioned from and that have
    /// not restarted since.
    pub(crate) fn partitioned(&self) -> &BTreeSet<NodeId> {
        &self.partitioned
    }

    /// `autoheal`'s verdict once every peer is reachable again after a
    /// partition: `Some(true)` when this node is on the losing side and must
    /// restart, `Some(false)` when it won, `None` while there is nothing to
    /// decide. The two sides are this node's (every node it was not split
    /// from) and the rest; the larger side wins, and a tie goes to the side
    /// holding the lowest node. (RabbitMQ first compares client connections;
    /// the model compares only sizes.)
    pub(crate) fn autoheal_verdict(&self) -> Option<bool> {
        if self.partitioned.is_empty() || !self.peers().iter().all(|n| self.is_up(*n)) {
            return None;
        }
        let theirs = &self.partitioned;
        let mine: BTreeSet<NodeId> = (1..=self.nodes).filter(|n| !theirs.contains(n)).collect();
        let lose = mine.len() < theirs.len()
            || (mine.len() == theirs.len() && theirs.first() < mine.first());
        Some(lose)
    }

    /// Forgets the partitions seen: called when this node restarts its
    /// application to heal.
    pub(crate) fn clear_partitions(&mut self) {
        self.partitioned.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(node: NodeId, vm: u64, app: u32) -> Tick {
        Tick {
            node,
            incarnation: Incarnation { vm, app },
            running: true,
        }
    }

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn silence_means_down_and_a_new_run_means_restart() {
        let mut c = Cluster::new(1, 3, ms(600), ms(0));
        assert_eq!(c.heard(&tick(2, 5, 1), ms(10)), Heard::Changed);
        assert_eq!(c.heard(&tick(2, 5, 1), ms(100)), Heard::Nothing);
        assert!(c.expire(ms(500)).is_empty());
        assert!(!c.known_lost(3, None), "never heard of is not lost yet");
        assert_eq!(c.expire(ms(800)), vec![2, 3]);
        assert!(c.known_lost(2, None));
        assert!(c.known_lost(3, None), "silent since the start is down");
        assert_eq!(c.heard(&tick(2, 900, 1), ms(900)), Heard::Changed);
        assert!(c.partitioned().is_empty());
        assert!(c.known_lost(2, Some(Incarnation { vm: 5, app: 1 })));
        assert_eq!(c.heard(&tick(3, 7, 1), ms(950)), Heard::Changed);
        assert!(c.partitioned().is_empty(), "a first tick is no partition");
    }

    #[test]
    fn the_same_run_coming_back_is_a_partition() {
        let mut c = Cluster::new(1, 3, ms(600), ms(0));
        c.heard(&tick(2, 5, 1), ms(10));
        c.heard(&tick(3, 6, 1), ms(10));
        c.expire(ms(700));
        assert!(!c.sees_majority(ms(700)));
        assert_eq!(c.heard(&tick(2, 5, 1), ms(900)), Heard::Partition);
        assert_eq!(c.autoheal_verdict(), None, "node-3 is still unreachable");
        assert_eq!(c.heard(&tick(3, 6, 1), ms(910)), Heard::Partition);
        assert_eq!(c.autoheal_verdict(), Some(true), "one node loses to two");
    }

    #[test]
    fn news_from_a_run_declared_down_crosses_a_split_until_it_restarts() {
        let mut c = Cluster::new(1, 3, ms(600), ms(0));
        let run = |app| Some(Incarnation { vm: 5, app });
        c.heard(&tick(2, 5, 1), ms(10));
        assert!(!c.split_from(2, run(1)), "a peer that is up is not split");
        c.expire(ms(700));
        assert!(c.split_from(2, run(1)), "declared down");
        c.heard(&tick(2, 5, 1), ms(900));
        assert!(c.split_from(2, run(1)), "back as the same run: a partition");
        assert!(!c.split_from(2, run(2)), "a new run is no longer split");
        c.heard(&tick(2, 5, 2), ms(950));
        assert!(!c.split_from(2, run(2)), "the restart ended the split");
        assert!(!c.split_from(3, run(1)), "never heard of is not split");
    }

    #[test]
    fn the_larger_side_wins_autoheal() {
        let mut c = Cluster::new(2, 3, ms(600), ms(0));
        c.heard(&tick(1, 5, 1), ms(10));
        c.heard(&tick(3, 6, 1), ms(10));
        c.heard(&tick(3, 6, 1), ms(650));
        c.expire(ms(700));
        assert!(c.sees_majority(ms(700)));
        c.heard(&tick(1, 5, 1), ms(900));
        assert_eq!(c.autoheal_verdict(), Some(false));
        // The loser restarts its application: the partition is over.
        c.heard(&tick(1, 5, 2), ms(950));
        assert_eq!(c.autoheal_verdict(), None);
    }
}
