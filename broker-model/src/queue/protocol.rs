//! The messages nodes and clients exchange.
//!
//! A client talks only to the node it is connected to, as an AMQP client
//! does; that node routes each operation to the queue's master (or Raft
//! leader) wherever it runs, the way a RabbitMQ channel process sends to a
//! queue process on another node. Nodes talk among themselves for liveness
//! (ticks), queue placement, mirroring and Raft.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::history::{DropReason, MsgId};
use crate::queue::config::AckMode;
pub(crate) use crate::queue::consumer_id::ConsumerId;
use crate::queue::dead_letter::DeadLetter;
pub(crate) use crate::queue::incarnation::Incarnation;

mod mirroring;

pub(crate) use mirroring::{MemberInfo, MirrorFetch, MirrorReply, NodeStatus, Op, QueueStatus};

pub(crate) use crate::queue::names::{NodeId, QueueId};

/// A message as a publisher sends it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Message {
    /// The message.
    pub(crate) msg: MsgId,
    /// `delivery_mode = 2`.
    pub(crate) persistent: bool,
    /// RabbitMQ's `x-death`: set when a queue dead-lettered the message
    /// and a dead-letter exchange routed it here.
    #[serde(default)]
    pub(crate) dead_letter: Option<DeadLetter>,
}

/// A message held by a queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Stored {
    /// The message.
    pub(crate) msg: MsgId,
    /// Whether it is written to disk.
    pub(crate) persistent: bool,
    /// Whether it may have been delivered before (AMQP's `redelivered`).
    pub(crate) redelivered: bool,
    /// When the queue took it in, in microseconds of simulated time: its
    /// `message-ttl` counts from here, kept through requeues, mirroring and
    /// restarts ("messages that are requeued retain their original expiry
    /// time").
    pub(crate) enqueued_us: u64,
    /// RabbitMQ's `x-death`: set when a queue dead-lettered the message
    /// and a dead-letter exchange routed it here.
    #[serde(default)]
    pub(crate) dead_letter: Option<DeadLetter>,
}

impl Stored {
    /// The message as it was published to the queue.
    pub(crate) fn message(&self) -> Message {
        Message {
            msg: self.msg,
            persistent: self.persistent,
            dead_letter: self.dead_letter,
        }
    }

    /// When the queue took the message in.
    pub(crate) fn enqueued(&self) -> Duration {
        Duration::from_micros(self.enqueued_us)
    }
}

/// Where a queue's master (or leader) is, as the cluster records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Location {
    /// Bumped at every change of master; Raft's term for quorum queues.
    pub(crate) epoch: u32,
    /// The node.
    pub(crate) node: NodeId,
    /// The application run of that node that is master, when known.
    pub(crate) incarnation: Option<Incarnation>,
}

impl Location {
    /// Whether this record supersedes `other`: a newer epoch, or the same
    /// epoch on a higher node (two sides of a split can reach the same
    /// epoch; the order only has to be total).
    pub(crate) fn newer_than(&self, other: &Location) -> bool {
        (self.epoch, self.node) > (other.epoch, other.node)
    }
}

/// One `basic.deliver`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Delivery {
    /// The delivery tag, counting from 1 per connection and queue.
    pub(crate) tag: u64,
    /// The message.
    pub(crate) msg: MsgId,
    /// AMQP's `redelivered` flag.
    pub(crate) redelivered: bool,
    /// RabbitMQ's `x-death`: set when a queue dead-lettered the message
    /// and a dead-letter exchange routed it here.
    #[serde(default)]
    pub(crate) dead_letter: Option<DeadLetter>,
}

/// What a consumer operation returns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Batch {
    /// New deliveries, tags contiguous from the consumer's `received + 1`.
    pub(crate) deliveries: Vec<Delivery>,
    /// Messages in the queue that are neither in this batch nor held
    /// unacknowledged by this consumer.
    pub(crate) remaining: u64,
}

/// An operation a client asks of the node it is connected to.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum ClientOp {
    /// `basic.publish`; with `reply`, the answer is the confirm (or the
    /// `tx.commit-ok`).
    Publish {
        /// The queue.
        queue: QueueId,
        /// The message.
        message: Message,
        /// Whether the publisher waits for the broker to take responsibility.
        reply: bool,
        /// `mandatory`: return the message if it routes to no queue.
        #[serde(default)]
        mandatory: bool,
    },
    /// A consumer's request for deliveries, carrying what it has received
    /// and acknowledged so far. It stands for the broker pushing deliveries
    /// within the prefetch window over a reliable connection: the broker
    /// answers at once when it has deliveries and otherwise holds the
    /// request briefly, and resends anything the consumer did not receive.
    Consume {
        /// The queue.
        queue: QueueId,
        /// The consumer connection.
        consumer: ConsumerId,
        /// Its acknowledgement mode.
        ack: AckMode,
        /// Its prefetch count (0 = unlimited).
        prefetch: u32,
        /// The highest delivery tag it has received.
        received: u64,
        /// Every delivery tag up to this one is acknowledged (`multiple`).
        acked: u64,
        /// Delivery tags the consumer handed back with `basic.reject` and
        /// `requeue = true`, applied before the acknowledgement: AMQP
        /// orders a channel's methods, so a later `multiple` ack never
        /// takes a rejected delivery.
        #[serde(default)]
        rejected: Vec<u64>,
    },
    /// `basic.ack` with `multiple = true`, after the `basic.reject`s of
    /// `rejected`.
    Ack {
        /// The queue.
        queue: QueueId,
        /// The consumer connection.
        consumer: ConsumerId,
        /// Every delivery tag up to this one is acknowledged.
        upto: u64,
        /// Delivery tags the consumer handed back with `basic.reject` and
        /// `requeue = true`, applied before the acknowledgement: AMQP
        /// orders a channel's methods, so a later `multiple` ack never
        /// takes a rejected delivery.
        #[serde(default)]
        rejected: Vec<u64>,
    },
}

impl ClientOp {
    /// The queue the operation is for.
    pub(crate) fn queue(&self) -> QueueId {
        match self {
            ClientOp::Publish { queue, .. }
            | ClientOp::Consume { queue, .. }
            | ClientOp::Ack { queue, .. } => *queue,
        }
    }
}

/// Why a client operation failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ClientError {
    /// The node is not serving clients (stopped application, paused
    /// minority): the connection is refused, so reconnect elsewhere.
    Unavailable,
    /// The queue has no reachable master or leader right now; nothing was
    /// stored.
    NoMaster,
    /// This node is not the queue's master; the sender should try `known`.
    NotMaster(Option<Location>),
    /// The queue does not know this subscription (its master changed or
    /// restarted since): AMQP's `basic.cancel` from the broker. The
    /// consumer subscribes again; earlier delivery tags mean nothing now.
    Cancelled,
    /// The broker could not confirm the message: it may or may not be
    /// stored (a `basic.nack`, or a master lost mid-way).
    Nack(String),
    /// The queue refused the message: it is at its length limit with
    /// `overflow = reject-publish`. A `basic.nack` (or a failed `tx.commit`)
    /// for a message that was not stored.
    Rejected,
    /// `basic.return`: a `mandatory` message routed to no queue and was not
    /// stored (the `basic.ack` that follows confirms only that).
    Returned,
}

impl ClientError {
    /// Whether the message may have been stored despite the error.
    pub(crate) fn maybe_stored(&self) -> bool {
        matches!(self, ClientError::Nack(_))
    }
}

/// A Raft command of a quorum queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Command {
    /// A message joins the queue; its log index becomes its position.
    Enqueue(Message),
    /// Messages leave the queue.
    Settle(Vec<u64>),
    /// Deliveries went back to the queue: rejected with `requeue`, or held
    /// by a consumer whose connection closed. Every member counts them
    /// (rabbit_fifo's `return`, which increments `delivery_count`), so the
    /// count survives a change of leader.
    Return(Vec<u64>),
    /// The queue's limits drop messages: the leader's decision, applied by
    /// every member.
    Drop {
        /// Their positions.
        seqs: Vec<u64>,
        /// The limit at work.
        reason: DropReason,
    },
    /// A new leader's first entry, which commits the entries before it.
    Noop,
    /// The dead-letter worker's `settle` (rabbit_fifo_dlx's `#settle{}`):
    /// every target queue confirmed these dead letters, which leave the
    /// queue's discards (`dead-letter-strategy = at-least-once`).
    SettleDeadLetters(Vec<u64>),
}

/// One entry of a quorum queue's Raft log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LogEntry {
    /// The term it was proposed in.
    pub(crate) term: u64,
    /// The leader's clock when it proposed the entry, in microseconds:
    /// the time of an enqueue, from which `message-ttl` counts on every
    /// member alike (Ra's `system_time`).
    pub(crate) at_us: u64,
    /// What it does.
    pub(crate) command: Command,
}

/// Raft's AppendEntries.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct AppendEntries {
    /// The queue.
    pub(crate) queue: QueueId,
    /// The leader's term.
    pub(crate) term: u64,
    /// The leader.
    pub(crate) leader: NodeId,
    /// The index of the entry before `entries`.
    pub(crate) prev_index: u64,
    /// Its term.
    pub(crate) prev_term: u64,
    /// Entries to store.
    pub(crate) entries: Vec<LogEntry>,
    /// The leader's commit index.
    pub(crate) commit: u64,
}

/// Raft's answer to AppendEntries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AppendReply {
    /// The follower's term.
    pub(crate) term: u64,
    /// Whether the entries were stored (and fsynced).
    pub(crate) success: bool,
    /// On success, the last index now matching the leader; on failure, a
    /// hint: the follower's log holds at most this many entries.
    pub(crate) match_index: u64,
}

/// Raft's RequestVote.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct RequestVote {
    /// The queue.
    pub(crate) queue: QueueId,
    /// The candidate's term.
    pub(crate) term: u64,
    /// The candidate.
    pub(crate) candidate: NodeId,
    /// The index of its last entry.
    pub(crate) last_index: u64,
    /// The term of its last entry.
    pub(crate) last_term: u64,
}

/// Raft's answer to RequestVote.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct VoteReply {
    /// The voter's term.
    pub(crate) term: u64,
    /// Whether it voted for the candidate.
    pub(crate) granted: bool,
}

/// A node's periodic "I am here" (Erlang distribution's tick).
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(crate) struct Tick {
    /// The sender.
    pub(crate) node: NodeId,
    /// Its current run.
    pub(crate) incarnation: Incarnation,
    /// Whether its application is running (not paused or restarting).
    pub(crate) running: bool,
}

/// `basic.publish` to a named exchange, which the node the publisher is
/// connected to routes (a channel routes in the publisher's connection).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Publication {
    /// The exchange.
    pub(crate) exchange: String,
    /// The routing key.
    pub(crate) routing_key: String,
    /// The message.
    pub(crate) message: Message,
    /// Whether the publisher waits for the confirm (or `tx.commit-ok`).
    pub(crate) reply: bool,
    /// `mandatory`: return the message if it routes to no queue.
    pub(crate) mandatory: bool,
}

/// Every request of the queue protocol.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Request {
    /// From a client to its node.
    Client(ClientOp),
    /// From a publisher to its node: a publish to a named exchange.
    Exchange(Publication),
    /// From a node to the queue's master or leader, on a client's behalf.
    Routed(ClientOp),
    /// Liveness.
    Tick(Tick),
    /// A starting node asks for the state of every mirrored queue.
    Status,
    /// A new master or leader tells every node where the queue now is.
    Announce {
        /// The queue.
        queue: QueueId,
        /// Its master or leader.
        location: Location,
    },
    /// A master whose node stops in an orderly way tells its mirrors, so
    /// that `ha-promote-on-shutdown` applies instead of
    /// `ha-promote-on-failure`.
    Shutdown {
        /// The queue.
        queue: QueueId,
        /// The master that stops.
        location: Location,
    },
    /// Mirror replication.
    MirrorFetch(MirrorFetch),
    /// Raft replication.
    Append(AppendEntries),
    /// Raft election.
    Vote(RequestVote),
}

/// Every reply of the queue protocol.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Reply {
    /// The confirm or commit of a publish.
    Publish(Result<(), ClientError>),
    /// Deliveries.
    Consume(Result<Batch, ClientError>),
    /// A node's state.
    Status(NodeStatus),
    /// An announcement was taken in.
    Announced,
    /// Mirror replication.
    MirrorFetch(MirrorReply),
    /// Raft replication.
    Append(AppendReply),
    /// Raft election.
    Vote(VoteReply),
}
