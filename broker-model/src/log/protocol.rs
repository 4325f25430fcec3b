//! The messages brokers, the controller and clients exchange.

use serde::{Deserialize, Serialize};

use crate::history::MsgId;
use crate::log::config::Acks;

/// A broker's 1-based id.
pub(crate) type BrokerId = u32;
/// A partition number.
pub(crate) type PartitionId = u32;

/// The controller's record of one partition, as Kafka's `LeaderAndIsr`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PartitionState {
    /// The partition.
    pub(crate) partition: PartitionId,
    /// Its replicas, preferred leader first.
    pub(crate) replicas: Vec<BrokerId>,
    /// The current leader, or `None` while no eligible replica is alive.
    pub(crate) leader: Option<BrokerId>,
    /// Bumped at every leader change; records carry the epoch they were
    /// written in, which is how a returning replica finds where its log
    /// diverged from the new leader's.
    pub(crate) leader_epoch: u32,
    /// The in-sync replicas.
    pub(crate) isr: Vec<BrokerId>,
    /// Bumped at every change of this state, to reject stale ISR updates.
    pub(crate) partition_epoch: u32,
    /// KIP-966's eligible leader replicas: replicas that left the ISR while
    /// it was below `min.insync.replicas`, so they hold every committed
    /// record. Empty unless `eligible.leader.replicas.version` = 1.
    #[serde(default)]
    pub(crate) elr: Vec<BrokerId>,
    /// The leader when the ISR last emptied (Kafka's `lastKnownElr` holding
    /// the last known leader), elected when no ISR or ELR member can be.
    #[serde(default)]
    pub(crate) last_known_leader: Option<BrokerId>,
}

/// What a log record carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Payload {
    /// A workload message.
    Message {
        /// The message.
        msg: MsgId,
        /// The producer incarnation that sent it (for idempotence).
        producer: u64,
    },
    /// A consumer group's committed position in a partition.
    Commit {
        /// The consumer group.
        group: String,
        /// The partition the position is for.
        partition: PartitionId,
        /// The next offset to read.
        offset: u64,
    },
}

/// One record of a partition log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Record {
    /// Its position in the log.
    pub(crate) offset: u64,
    /// The leader epoch it was appended in.
    pub(crate) epoch: u32,
    /// When the leader appended it, in simulated milliseconds (Kafka's
    /// `LogAppendTime`): what `segment.ms` and `retention.ms` measure.
    pub(crate) timestamp_ms: u64,
    /// Its size, which `segment.bytes` and `retention.bytes` count.
    pub(crate) bytes: u32,
    /// What it carries.
    pub(crate) payload: Payload,
}

impl Record {
    /// The workload message it carries, if any.
    pub(crate) fn msg(&self) -> Option<MsgId> {
        match &self.payload {
            Payload::Message { msg, .. } => Some(*msg),
            Payload::Commit { .. } => None,
        }
    }
}

/// A follower's identity in a fetch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ReplicaFetch {
    /// The fetching broker.
    pub(crate) broker: BrokerId,
    /// The leader epoch the follower believes in.
    pub(crate) leader_epoch: u32,
    /// The epoch of the record just before `offset` in the follower's log
    /// (0 for an empty log): the leader uses it to detect divergence.
    pub(crate) last_epoch: u32,
}

/// What a group member sends with an offset commit, so that the
/// coordinator accepts it only from a member of the current generation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MemberToken {
    /// The member.
    pub(crate) member: String,
    /// The generation it was assigned its partitions in.
    pub(crate) generation: u32,
}

/// Every request of the log protocol.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Request {
    /// Broker to controller: I am alive.
    Heartbeat {
        /// The broker.
        broker: BrokerId,
        /// Differs at every process start, so the controller can tell a quick
        /// restart from an uninterrupted broker.
        incarnation: u64,
    },
    /// Leader to controller: change the in-sync set (Kafka's AlterPartition).
    AlterIsr {
        /// The proposing leader.
        broker: BrokerId,
        /// The partition.
        partition: PartitionId,
        /// The epoch the leader leads in.
        leader_epoch: u32,
        /// The partition epoch the proposal is based on.
        partition_epoch: u32,
        /// The proposed set.
        isr: Vec<BrokerId>,
    },
    /// Client to broker: who leads what.
    Metadata,
    /// Producer to leader: append one message.
    Produce {
        /// The partition.
        partition: PartitionId,
        /// The message.
        msg: MsgId,
        /// The producer incarnation.
        producer: u64,
        /// The durability asked for.
        acks: Acks,
        /// Whether duplicates of the same (producer, message) must be dropped.
        idempotent: bool,
    },
    /// Follower or consumer to leader: records from `offset` on.
    Fetch {
        /// The partition.
        partition: PartitionId,
        /// The first offset wanted.
        offset: u64,
        /// The most records to return.
        max_records: u32,
        /// Set when a follower replicates; consumers read only committed
        /// records.
        replica: Option<ReplicaFetch>,
    },
    /// Consumer to the offsets leader: store the group's position.
    OffsetCommit {
        /// The consumer group.
        group: String,
        /// The partition.
        partition: PartitionId,
        /// The next offset to read.
        offset: u64,
        /// Set by a group member (`subscribe()`); `assign()` consumers
        /// commit without one.
        #[serde(default)]
        member: Option<MemberToken>,
    },
    /// Member to coordinator (the offsets leader): let me in; answered
    /// when the join phase ends.
    JoinGroup {
        /// The consumer group.
        group: String,
        /// The member.
        member: String,
        /// The partitions it keeps while it rejoins (cooperative
        /// rebalancing); empty for an eager member, which gave them up.
        owned: Vec<PartitionId>,
    },
    /// Member to coordinator: I am alive (`heartbeat.interval.ms`).
    GroupHeartbeat {
        /// The consumer group.
        group: String,
        /// The member.
        member: String,
        /// Its generation.
        generation: u32,
    },
    /// Member to coordinator: I am leaving.
    LeaveGroup {
        /// The consumer group.
        group: String,
        /// The member.
        member: String,
    },
    /// Consumer to the offsets leader: read the group's position.
    OffsetFetch {
        /// The consumer group.
        group: String,
        /// The partition.
        partition: PartitionId,
    },
    /// Consumer to leader: the first and end offsets of the log.
    ListOffsets {
        /// The partition.
        partition: PartitionId,
    },
}

/// Errors a broker or controller answers with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ErrorCode {
    /// This broker does not lead the partition; nothing was written.
    NotLeader,
    /// Fewer in-sync replicas than `min.insync.replicas`; nothing was written.
    NotEnoughReplicas,
    /// Written, then the in-sync set shrank below `min.insync.replicas`.
    NotEnoughReplicasAfterAppend,
    /// Written, then this broker stopped leading before the record was
    /// committed: the record may or may not survive.
    LeadershipLost,
    /// Written, but not committed in time.
    RequestTimedOut,
    /// The request's epoch is stale.
    FencedEpoch,
    /// The offsets partition is still catching up.
    CoordinatorLoading,
    /// The coordinator does not know the member: rejoin.
    UnknownMemberId,
    /// The member's generation is not the group's: rejoin.
    IllegalGeneration,
    /// The group is rebalancing: rejoin.
    RebalanceInProgress,
}

impl ErrorCode {
    /// Whether the broker may have stored the data despite the error.
    pub(crate) fn maybe_written(self) -> bool {
        matches!(
            self,
            ErrorCode::NotEnoughReplicasAfterAppend
                | ErrorCode::LeadershipLost
                | ErrorCode::RequestTimedOut
        )
    }
}

/// What a leader answers a fetch with.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum FetchReply {
    /// Records (possibly none) and the leader's high watermark.
    Records {
        /// The records.
        records: Vec<Record>,
        /// The leader's high watermark.
        high_watermark: u64,
    },
    /// The follower's log diverged from the leader's. The leader names the
    /// newest epoch it shares with the follower and where that epoch ends in
    /// its log; the follower truncates to that point (or earlier, where its
    /// own copy of the epoch ends sooner).
    Diverging {
        /// The newest epoch not above the follower's last epoch.
        epoch: u32,
        /// Where that epoch ends in the leader's log.
        end: u64,
    },
    /// The offset is outside the log.
    OutOfRange {
        /// The first offset in the log.
        start: u64,
        /// The end of what the requester may read.
        end: u64,
    },
    /// The request failed.
    Error(ErrorCode),
}

/// Every reply of the log protocol.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) enum Reply {
    /// Controller's answer to a heartbeat: the full partition table.
    Heartbeat(Vec<PartitionState>),
    /// Controller's answer to an ISR change.
    AlterIsr(Result<PartitionState, ErrorCode>),
    /// A broker's view of the partition table.
    Metadata(Vec<PartitionState>),
    /// The offset a message was stored at.
    Produce(Result<u64, ErrorCode>),
    /// Records.
    Fetch(FetchReply),
    /// Whether the commit is durable.
    OffsetCommit(Result<(), ErrorCode>),
    /// The committed position, if the group has one.
    OffsetFetch(Result<Option<u64>, ErrorCode>),
    /// The first offset and the high watermark.
    ListOffsets(Result<(u64, u64), ErrorCode>),
    /// The member's generation and partitions.
    JoinGroup(Result<(u32, Vec<PartitionId>), ErrorCode>),
    /// Whether the member is in the current, stable generation.
    GroupHeartbeat(Result<(), ErrorCode>),
    /// The member left.
    LeaveGroup(Result<(), ErrorCode>),
}
