//! What a mirrored queue's master and mirrors exchange, and what a
//! starting node learns of every mirrored queue from its peers.

use serde::{Deserialize, Serialize};

use crate::history::DropReason;
use crate::queue::protocol::{Incarnation, Location, NodeId, QueueId, Stored};

/// One change a mirrored queue's master makes, replayed by mirrors in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Op {
    /// A message joined the queue.
    Enqueue {
        /// Its position in the queue.
        seq: u64,
        /// The message.
        stored: Stored,
    },
    /// Messages left the queue (acknowledged, or delivered with auto-ack).
    Remove {
        /// Their positions.
        seqs: Vec<u64>,
    },
    /// The queue's limits dropped messages.
    Drop {
        /// Their positions.
        seqs: Vec<u64>,
        /// The limit at work.
        reason: DropReason,
    },
}

/// A mirror as its master lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MemberInfo {
    /// The node.
    pub(crate) node: NodeId,
    /// When it joined the group: lower is older.
    pub(crate) order: u64,
    /// Whether it holds every message in the queue.
    pub(crate) synced: bool,
    /// The application run that joined; `None` for a mirror declared with
    /// the queue that has not joined yet.
    pub(crate) incarnation: Option<Incarnation>,
}

/// A mirror's request for the master's changes from `from` on.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct MirrorFetch {
    /// The queue.
    pub(crate) queue: QueueId,
    /// The master's epoch the mirror follows.
    pub(crate) epoch: u32,
    /// The mirror's node.
    pub(crate) node: NodeId,
    /// The mirror's application run.
    pub(crate) incarnation: Incarnation,
    /// The membership the master granted, or `None` to join.
    pub(crate) member: Option<u64>,
    /// The next change the mirror needs (it holds every one before).
    pub(crate) from: u64,
    /// Set when joining: the epoch this mirror was a member of without
    /// interruption, so a promoted master can keep it synchronised.
    pub(crate) carry_from: Option<u32>,
}

/// The master's answer to a mirror.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum MirrorReply {
    /// The mirror joined. With a snapshot it now holds the whole queue;
    /// without one it starts empty.
    Joined {
        /// Its membership.
        member: u64,
        /// The change it continues from.
        at: u64,
        /// The queue's messages, when the master synchronises the mirror.
        snapshot: Option<Vec<(u64, Stored)>>,
        /// The master.
        master: Location,
        /// Every mirror.
        members: Vec<MemberInfo>,
    },
    /// Changes from the requested position on (possibly none).
    Ops {
        /// The changes.
        ops: Vec<Op>,
        /// Every mirror, as the master sees them now.
        members: Vec<MemberInfo>,
    },
    /// The node is not master in that epoch; `known` is its record.
    NotMaster(Option<Location>),
}

/// A node's state of a mirrored queue, as it tells a starting peer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum QueueStatus {
    /// Not yet decided; `record` is its last known placement.
    Starting {
        /// The last master it knew of.
        record: Option<Location>,
    },
    /// It is master.
    Master(Location),
    /// It mirrors a master it believes alive.
    Mirror {
        /// The master.
        following: Location,
        /// Whether it would be promoted if that master were lost now.
        promotable: bool,
    },
    /// It knows of no live master and cannot become one.
    Waiting {
        /// The last master it knew of.
        record: Option<Location>,
    },
}

/// What a node tells a starting peer.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct NodeStatus {
    /// Whether its application is running.
    pub(crate) running: bool,
    /// Its state of every mirrored queue.
    pub(crate) queues: Vec<(QueueId, QueueStatus)>,
}
