//! A publish to a classic queue whose node is down routes to no queue.
//!
//! A classic queue that is not mirrored lives on one node. While the node
//! the publisher's channel runs on knows that node is down, RabbitMQ (3.10)
//! delivers a message for the queue to no live queue: the message is
//! unroutable, and "for unroutable messages, the broker will issue a
//! confirm once the exchange verifies a message won't route to any queue"
//! (RabbitMQ's confirms guide). So the publisher gets a `basic.ack` and the
//! message is gone, even for a durable queue and a persistent message;
//! with `mandatory` it first gets the message back (`basic.return`) and
//! can publish it again. A mirrored queue promotes a mirror or waits for
//! one, and a quorum queue elects a leader: neither is routed around.
//!
//! A publish in flight to the queue's node when it died, before the
//! channel's node learnt of it, is not decided here: it gets no confirm in
//! time, as the real broker nacks it.
//!
//! Kept free of I/O so the decision can be tested on its own.

use crate::queue::config::QueueType;
use crate::queue::protocol::{ClientError, Location, NodeId};

/// Where a publish for one queue goes from the node that routes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Reach {
    /// To the queue's master or leader, here or on a node not known to be
    /// down, or to the refusal the queue gives without one.
    Queue,
    /// Nowhere: a classic queue whose node is known to be down.
    Down,
}

/// Where a publish for a queue of type `queue_type`, whose master this
/// node places at `location`, goes, when `lost` tells which nodes this
/// node knows to be down.
pub(crate) fn reach(
    queue_type: QueueType,
    location: Option<Location>,
    lost: impl Fn(NodeId) -> bool,
) -> Reach {
    match (queue_type, location) {
        (QueueType::Classic, Some(at)) if lost(at.node) => Reach::Down,
        _ => Reach::Queue,
    }
}

/// What a waiting publisher is told of a message that routed to no queue:
/// the confirm, or with `mandatory` the `basic.return` that comes before
/// it (and says nothing was stored).
pub(crate) fn unrouted(mandatory: bool) -> Result<(), ClientError> {
    if mandatory {
        Err(ClientError::Returned)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(node: NodeId) -> Option<Location> {
        Some(Location {
            epoch: 1,
            node,
            incarnation: None,
        })
    }

    fn node_1_down(node: NodeId) -> bool {
        node == 1
    }

    #[test]
    fn a_publish_to_a_classic_queue_whose_node_is_down_is_confirmed_and_dropped() {
        assert_eq!(reach(QueueType::Classic, at(1), node_1_down), Reach::Down);
        assert_eq!(unrouted(false), Ok(()));
    }

    #[test]
    fn a_publish_to_a_classic_queue_whose_node_is_down_is_returned_when_mandatory() {
        assert_eq!(reach(QueueType::Classic, at(1), node_1_down), Reach::Down);
        assert_eq!(unrouted(true), Err(ClientError::Returned));
    }

    #[test]
    fn a_classic_queue_on_a_node_not_known_down_is_routed_to() {
        assert_eq!(reach(QueueType::Classic, at(2), node_1_down), Reach::Queue);
    }

    #[test]
    fn a_mirrored_queue_without_a_master_still_refuses() {
        assert_eq!(reach(QueueType::Mirrored, at(1), node_1_down), Reach::Queue);
        assert_eq!(reach(QueueType::Mirrored, None, node_1_down), Reach::Queue);
    }

    #[test]
    fn a_quorum_queue_whose_leader_is_down_waits_for_an_election() {
        assert_eq!(reach(QueueType::Quorum, at(1), node_1_down), Reach::Queue);
    }

    #[test]
    fn a_queue_whose_master_this_node_does_not_know_is_not_routed_around() {
        assert_eq!(reach(QueueType::Classic, None, node_1_down), Reach::Queue);
    }
}
