//! Dead-lettering, as RabbitMQ's policy keys `dead-letter-exchange`,
//! `dead-letter-routing-key` and `dead-letter-strategy` set it: which
//! removals dead-letter a message, with which routing key, and to which
//! queues it may go.
//!
//! "Messages from a queue can be 'dead-lettered', which means these
//! messages are republished to an exchange" when they expire
//! (`message-ttl`), are dropped from the head for `max-length`, refused
//! under `overflow = reject-publish-dlx`, or are returned to a quorum queue
//! more often than its `delivery-limit` allows. With the default strategy,
//! at-most-once, the queue republishes them internally without publisher
//! confirms: a message the dead-letter exchange routes nowhere, or that its
//! target queue cannot take, is gone. A message dead-lettered again to a
//! queue it was dead-lettered from is a cycle, which RabbitMQ drops. With
//! at-least-once (quorum queues with `overflow = reject-publish`), the
//! source queue keeps each message until every target queue confirmed it,
//! and a message that routes nowhere (or only back into a cycle) waits
//! there, tried again, instead of being dropped.
//!
//! Kept free of I/O so the rules can be tested on their own.

use crate::history::{DropReason, MsgId};
use crate::queue::dead_letter::DeadLetter;
use crate::queue::exchange::{Routed, Topology};
use crate::queue::names::queue_name;
use crate::queue::protocol::{Message, QueueId};

/// `dead-letter-strategy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DeadLetterStrategy {
    /// Republished once, without confirms (RabbitMQ's default).
    #[default]
    AtMostOnce,
    /// Kept by the source queue and redelivered until the target queues
    /// confirm (quorum queues with `overflow = reject-publish` only).
    AtLeastOnce,
}

/// A queue's dead-lettering policy, the same for every queue.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeadLettering {
    /// `dead-letter-exchange`; `None` is no dead-lettering (`Some("")` is
    /// the default exchange).
    pub exchange: Option<String>,
    /// `dead-letter-routing-key`; `None` keeps the key the message was
    /// published with.
    pub routing_key: Option<String>,
    /// `dead-letter-strategy`.
    pub strategy: DeadLetterStrategy,
}

/// Messages a queue removed and dead-letters, on their way to the
/// dead-letter exchange.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct DeadLetters {
    /// The queue they leave.
    pub(crate) from: QueueId,
    /// What removed them.
    pub(crate) reason: DropReason,
    /// The messages, as the queue held them.
    pub(crate) messages: Vec<Message>,
}

/// Where one dead-lettered message may go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Destination {
    /// To these queues.
    Queues(Vec<QueueId>),
    /// Nowhere: the dead-letter exchange routed it to no queue.
    Unroutable,
    /// Nowhere: every queue it routed to is one it was dead-lettered from.
    Cycle,
}

impl DeadLettering {
    /// Whether a message removed for `reason` is dead-lettered rather than
    /// dropped: it expired, went over a length limit or over its quorum
    /// queue's delivery limit, and the queue has a dead-letter exchange.
    pub(crate) fn takes(&self, reason: DropReason) -> bool {
        self.exchange.is_some()
            && matches!(
                reason,
                DropReason::Overflow | DropReason::Expired | DropReason::DeliveryLimit
            )
    }

    /// The routing key of dead-lettered message `msg`: the policy's, else
    /// the one its publisher used.
    pub(crate) fn routing_key(&self, topology: &Topology, queues: u32, msg: MsgId) -> String {
        if let Some(key) = &self.routing_key {
            return key.clone();
        }
        match topology.exchange {
            Some(_) => topology.routing_key(u64::from(msg.seq), queues),
            None => queue_name(msg.seq % queues),
        }
    }
}

/// Where `message`, dead-lettered from queue `from`, goes once the
/// dead-letter exchange `routed` it: every queue but those its `x-death`
/// (the one it is given now, and the one it had) names.
pub(crate) fn destination(routed: Routed, from: QueueId, message: &Message) -> Destination {
    let Routed::Queues(queues) = routed else {
        return Destination::Unroutable;
    };
    let earlier = message.dead_letter.map(|d| d.queue);
    let to: Vec<QueueId> = queues
        .into_iter()
        .filter(|q| *q != from && Some(*q) != earlier)
        .collect();
    if to.is_empty() {
        Destination::Cycle
    } else {
        Destination::Queues(to)
    }
}

/// `message` as it is republished: with its `x-death` for `reason` and
/// queue `from`.
pub(crate) fn letter(message: Message, reason: DropReason, from: QueueId) -> Message {
    Message {
        dead_letter: Some(DeadLetter {
            reason,
            queue: from,
        }),
        ..message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(seq: u32, dead_letter: Option<DeadLetter>) -> Message {
        Message {
            msg: MsgId::new(1, seq),
            persistent: true,
            dead_letter,
        }
    }

    #[test]
    fn only_expired_overflowing_and_over_limit_messages_are_dead_lettered_and_only_with_an_exchange(
    ) {
        let mut policy = DeadLettering::default();
        assert!(!policy.takes(DropReason::Expired));
        assert!(!policy.takes(DropReason::DeliveryLimit));
        policy.exchange = Some("dlx".into());
        assert!(policy.takes(DropReason::Expired));
        assert!(policy.takes(DropReason::Overflow));
        assert!(policy.takes(DropReason::DeliveryLimit));
        assert!(!policy.takes(DropReason::QueueExpired));
    }

    #[test]
    fn the_routing_key_is_the_policys_else_the_publishers() {
        let topology = Topology::default();
        let mut policy = DeadLettering {
            exchange: Some("dlx".into()),
            ..DeadLettering::default()
        };
        assert_eq!(policy.routing_key(&topology, 2, MsgId::new(1, 3)), "q1");
        policy.routing_key = Some("dead".into());
        assert_eq!(policy.routing_key(&topology, 2, MsgId::new(1, 3)), "dead");
    }

    #[test]
    fn a_message_routed_nowhere_or_back_where_it_was_dead_lettered_is_lost() {
        let fresh = message(1, None);
        assert_eq!(
            destination(Routed::Unroutable, 0, &fresh),
            Destination::Unroutable
        );
        assert_eq!(
            destination(Routed::Queues(vec![0]), 0, &fresh),
            Destination::Cycle
        );
        assert_eq!(
            destination(Routed::Queues(vec![0, 1]), 0, &fresh),
            Destination::Queues(vec![1])
        );
        let again = message(
            1,
            Some(DeadLetter {
                reason: DropReason::Expired,
                queue: 0,
            }),
        );
        assert_eq!(
            destination(Routed::Queues(vec![0]), 1, &again),
            Destination::Cycle
        );
    }

    #[test]
    fn a_republished_message_carries_why_and_where_it_was_dead_lettered() {
        let m = letter(message(1, None), DropReason::Expired, 2);
        assert_eq!(
            m.dead_letter,
            Some(DeadLetter {
                reason: DropReason::Expired,
                queue: 2
            })
        );
    }
}
