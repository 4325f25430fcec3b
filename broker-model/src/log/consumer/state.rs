//! What a consumer's tasks share: its positions in the partitions it
//! reads, its application, and with `subscribe()` its group membership.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::history::{EventKind, MsgId};
use crate::log::client::Client;
use crate::log::config::{partition_name, Context};
use crate::log::protocol::{MemberToken, PartitionId};
use crate::workload::application::{Application, Reading, Received};

#[derive(Default)]
pub(super) struct Position {
    pub(super) next: u64,
    pub(super) committed: Option<u64>,
    /// The position after the last record the application processed.
    pub(super) processed: Option<u64>,
    /// The last fetch found nothing beyond `next` below the high watermark.
    pub(super) caught_up: bool,
    /// The high watermark the last fetch reported, if any fetch has
    /// answered since the consumer started.
    pub(super) high_watermark: Option<u64>,
    /// `auto.offset.reset = "none"` found no valid position: the consumer
    /// reads nothing more here, and only watches what is left to read.
    pub(super) stopped: bool,
}

impl Position {
    /// Committed records not yet read, as far as the last fetch tells
    /// (Kafka's `records-lag`): 0 before any fetch answered.
    fn lag(&self) -> u64 {
        self.high_watermark
            .map_or(0, |hw| hw.saturating_sub(self.next))
    }
}

/// A record handed to the application.
pub(super) struct Item {
    pub(super) partition: PartitionId,
    pub(super) offset: u64,
    pub(super) msg: MsgId,
    /// The generation its partition's reader started in (`subscribe()`
    /// only).
    pub(super) generation: Option<u32>,
    /// When `poll` returned it.
    pub(super) polled_at: Duration,
}

impl Received for Item {
    fn msg(&self) -> MsgId {
        self.msg
    }
}

/// A consumer's membership of its group (`subscribe()`).
pub(super) struct Member {
    /// Its member id.
    pub(super) id: String,
    /// The generation it holds its partitions in; `None` while it joins.
    pub(super) generation: Cell<Option<u32>>,
    /// The tasks reading its partitions, stopped when they are revoked,
    /// each with the generation it was started in: a record fetched under
    /// one ownership of a partition is not committed under another.
    pub(super) readers: RefCell<BTreeMap<PartitionId, (u32, JoinHandle<()>)>>,
}

pub(super) struct Consumer {
    pub(super) client: Client,
    /// The partitions this consumer reads.
    pub(super) assigned: RefCell<Vec<PartitionId>>,
    pub(super) positions: RefCell<BTreeMap<PartitionId, Position>>,
    pub(super) app: Application<Item>,
    /// Set with `subscribe()`.
    pub(super) member: Option<Member>,
}

impl Consumer {
    pub(super) fn ctx(&self) -> &Context {
        &self.client.ctx
    }

    /// Whether every assigned partition has been read to its high
    /// watermark. A partition whose starting position is not known yet (the
    /// group coordinator has not answered since a restart) is not: a
    /// consumer that cannot reach the cluster has not read everything; nor
    /// is a group member that is still joining.
    pub(super) fn caught_up(&self) -> bool {
        if self
            .member
            .as_ref()
            .is_some_and(|m| m.generation.get().is_none())
        {
            return false;
        }
        let positions = self.positions.borrow();
        self.assigned
            .borrow()
            .iter()
            .all(|p| positions.get(p).is_some_and(|pos| pos.caught_up))
    }

    /// How far the consumer's reads have got over its partitions.
    pub(super) fn reading(&self) -> Reading {
        let lag = self.positions.borrow().values().map(Position::lag).sum();
        Reading {
            read_all: self.caught_up(),
            lag,
        }
    }

    pub(super) fn publish(&self) {
        self.app.publish(self.reading());
    }

    /// The ownership records of `p` fetched now belong to: the generation
    /// its reader started in.
    pub(super) fn stint(&self, p: PartitionId) -> Option<u32> {
        let m = self.member.as_ref()?;
        let readers = m.readers.borrow();
        readers.get(&p).map(|(generation, _)| *generation)
    }

    /// What a commit carries: the member and its generation, for a group
    /// member; nothing for `assign()`.
    pub(super) fn token(&self) -> Option<MemberToken> {
        let m = self.member.as_ref()?;
        Some(MemberToken {
            member: m.id.clone(),
            generation: m.generation.get()?,
        })
    }

    /// Whether the consumer still owns `p` as it did when it fetched a
    /// record in `stint`: a record of a revoked partition is neither
    /// committed nor counted.
    pub(super) fn owns(&self, p: PartitionId, stint: Option<u32>) -> bool {
        self.member.is_none() || (stint.is_some() && self.stint(p) == stint)
    }

    /// Records that `auto.offset.reset` moved `p`'s position from `from` to
    /// `to` (or stopped the partition).
    pub(super) fn record_reset(&self, p: PartitionId, from: Option<u64>, to: Option<u64>) {
        self.ctx().history.record(
            self.app.host(),
            EventKind::OffsetReset {
                dest: partition_name(p),
                from,
                to,
            },
        );
    }
}
