//! The recorded history of one run.
//!
//! Every client and broker appends what it saw to one shared history, stamped
//! with simulated time. The checker reads only the client events; broker
//! events (appends, fsyncs, truncations, elections) are kept so that a person
//! can follow a lost message's trail through the cluster.

mod msg_id;
mod reasons;

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use msg_id::MsgId;
pub use reasons::{DropReason, LeaderSource};

/// One entry of the history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// Simulated time since the start of the run, in microseconds.
    pub at_us: u64,
    /// The host that observed the event (or `nemesis` for injected faults).
    pub host: String,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

impl Event {
    /// The simulated time of the event.
    pub fn at(&self) -> Duration {
        Duration::from_micros(self.at_us)
    }
}

/// What an event says happened.
///
/// Client events (`send` … `commit`) are the vocabulary shared by every
/// system model; the checker uses only those. The rest describe what the
/// brokers and the fault injector did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum EventKind {
    /// A producer handed a message to its client library (first attempt).
    Send {
        /// The message.
        msg: MsgId,
        /// The destination (partition or queue).
        dest: String,
    },
    /// The producer was told the message is stored: for fire-and-forget
    /// modes that means the datagram left the socket.
    SendOk {
        /// The message.
        msg: MsgId,
        /// Where the broker said it stored it, when it says.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        offset: Option<u64>,
    },
    /// The producer was told the message was definitely not stored.
    SendFail {
        /// The message.
        msg: MsgId,
        /// Why.
        error: String,
    },
    /// The producer gave up without knowing whether the message was stored.
    SendUnknown {
        /// The message.
        msg: MsgId,
        /// Why.
        error: String,
    },
    /// A consumer was handed the message by its client library.
    Receive {
        /// The message.
        msg: MsgId,
        /// Where it was read from.
        dest: String,
        /// Its position there, for logs.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        offset: Option<u64>,
        /// True when the broker marked it as a redelivery.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        redelivered: bool,
    },
    /// The consumer's application finished processing the message.
    Processed {
        /// The message.
        msg: MsgId,
        /// True when it was delivered from a dead-letter queue (it carried
        /// RabbitMQ's `x-death`): processed, but not from the queue it was
        /// published to.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        dead_lettered: bool,
    },
    /// The consumer's application could not process the message (a poison
    /// message) and handed it back: `basic.reject` with `requeue`.
    Reject {
        /// The message.
        msg: MsgId,
        /// Whether it asked the broker to deliver it again.
        requeue: bool,
    },
    /// The consumer's application crashed on the message (a poison
    /// message): its process exited holding it, and whatever else it had
    /// not acknowledged, and started again.
    Crash {
        /// The message.
        msg: MsgId,
    },
    /// The consumer acknowledged one message to the broker (queues).
    Ack {
        /// The message.
        msg: MsgId,
    },
    /// The broker confirmed a consumer offset commit (logs).
    Commit {
        /// The partition.
        dest: String,
        /// The committed position: the next offset to read.
        offset: u64,
    },
    /// A broker appended records to its copy of a log.
    Append {
        /// The partition.
        dest: String,
        /// Offset of the first record.
        offset: u64,
        /// The leader epoch the records were written in.
        epoch: u32,
        /// The messages, in offset order.
        msgs: Vec<MsgId>,
    },
    /// A broker made everything it had written durable.
    Fsync {
        /// How many log entries became durable.
        entries: u64,
    },
    /// The kernel's flusher wrote back a broker's journal, dirty for longer
    /// than `vm.dirty_expire_centisecs`, without the broker asking.
    Writeback {
        /// How many journal entries became durable.
        entries: u64,
    },
    /// A broker removed records from the end of its log.
    Truncate {
        /// The partition.
        dest: String,
        /// The new log end offset.
        to: u64,
        /// The messages removed.
        msgs: Vec<MsgId>,
    },
    /// A broker deleted messages because a setting says so, read or not.
    Drop {
        /// The partition or queue.
        dest: String,
        /// The setting at work.
        reason: DropReason,
        /// The messages dropped.
        msgs: Vec<MsgId>,
    },
    /// A queue removed messages for `reason` and dead-lettered them to its
    /// `dead-letter-exchange` `to`: republished at once without waiting for
    /// any confirm (at-most-once), or kept by the queue until its
    /// dead-letter worker has every target's confirm (at-least-once).
    DeadLettered {
        /// The queue.
        dest: String,
        /// The dead-letter exchange.
        to: String,
        /// What removed them.
        reason: DropReason,
        /// The messages.
        msgs: Vec<MsgId>,
    },
    /// A consumer found its position invalid (no committed offset, or one
    /// outside the log) and applied `auto.offset.reset`.
    OffsetReset {
        /// The partition.
        dest: String,
        /// The position it had, if any.
        from: Option<u64>,
        /// Where it goes on; `None` when the policy is `none` and the
        /// consumer stops reading the partition.
        to: Option<u64>,
    },
    /// A group coordinator completed a rebalance (`subscribe()`).
    Rebalance {
        /// The consumer group.
        group: String,
        /// The new generation.
        generation: u32,
        /// Its members.
        members: Vec<String>,
    },
    /// A group member was given partitions in a generation.
    Assign {
        /// The member.
        member: String,
        /// The generation.
        generation: u32,
        /// The partitions.
        partitions: Vec<String>,
    },
    /// A group member gave up partitions: it stops reading them and drops
    /// what it fetched of them and has not processed.
    Revoke {
        /// The member.
        member: String,
        /// The generation it had them in.
        generation: u32,
        /// The partitions.
        partitions: Vec<String>,
        /// The member was already out of the group (session expired,
        /// `max.poll.interval.ms` passed, the coordinator moved): Kafka's
        /// `onPartitionsLost`, with no commit.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        lost: bool,
    },
    /// A broker rebuilt its state from disk after starting.
    Recover {
        /// Log entries read back from disk.
        entries: u64,
        /// Messages found, per destination.
        msgs: Vec<MsgId>,
    },
    /// A broker started acting as leader of a partition.
    BecomeLeader {
        /// The partition.
        dest: String,
        /// The leader epoch.
        epoch: u32,
        /// Its log end offset at that moment.
        log_end: u64,
    },
    /// A broker started following a leader.
    BecomeFollower {
        /// The partition.
        dest: String,
        /// The leader epoch.
        epoch: u32,
        /// The leader, if any.
        leader: Option<String>,
    },
    /// The controller chose a leader.
    Elect {
        /// The partition.
        dest: String,
        /// The new leader, or none when no eligible replica is alive.
        leader: Option<String>,
        /// The new leader epoch.
        epoch: u32,
        /// The in-sync replica set after the election.
        isr: Vec<String>,
        /// True when the leader was neither in the in-sync set nor eligible.
        unclean: bool,
        /// The eligible leader replicas after the election (KIP-966).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        elr: Vec<String>,
        /// With eligible leader replicas, where the leader came from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<LeaderSource>,
    },
    /// The in-sync replica set (or the eligible leader replicas) changed.
    IsrChange {
        /// The partition.
        dest: String,
        /// The new set.
        isr: Vec<String>,
        /// The eligible leader replicas (KIP-966).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        elr: Vec<String>,
        /// The broker that registered after an unclean shutdown, if that
        /// is why both sets lost it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unclean_shutdown: Option<String>,
    },
    /// The controller declared a broker dead.
    Fence {
        /// The broker.
        broker: String,
        /// Why.
        reason: String,
    },
    /// A mirror took over a queue whose master was lost.
    Promote {
        /// The queue.
        dest: String,
        /// The new master's epoch.
        epoch: u32,
        /// The master it replaces.
        previous: String,
        /// Whether it held every message of the queue (was synchronised).
        synced: bool,
    },
    /// A node dropped messages it held, for the reason given.
    Discard {
        /// The queue.
        dest: String,
        /// Why.
        reason: String,
        /// The messages dropped.
        msgs: Vec<MsgId>,
    },
    /// A closed consumer connection's unacknowledged deliveries went back to
    /// the queue, to be delivered again.
    Requeue {
        /// The queue.
        dest: String,
        /// The consumer host whose connection closed.
        consumer: String,
        /// The messages.
        msgs: Vec<MsgId>,
    },
    /// A node stopped serving because it sees no majority of the cluster
    /// (`pause_minority`).
    Pause {
        /// The nodes it can see, itself included.
        visible: Vec<String>,
    },
    /// A paused node sees a majority again and restarts its application.
    Resume {
        /// The nodes it can see, itself included.
        visible: Vec<String>,
    },
    /// A node found itself on the losing side of a healed partition and
    /// restarts its application to take the winners' state (`autoheal`).
    Autoheal {
        /// The nodes of the winning side.
        winners: Vec<String>,
    },
    /// The fault injector started a fault.
    Fault {
        /// The action, as named in scenario files.
        action: String,
        /// The hosts it hit.
        hosts: Vec<String>,
        /// A one-line description.
        detail: String,
    },
    /// The fault injector ended a fault or brought a host back.
    Heal {
        /// What was healed.
        detail: String,
        /// The hosts involved.
        hosts: Vec<String>,
    },
    /// A phase of the run began (`faults`, `heal`, `drain`, `end`).
    Phase {
        /// The phase name.
        name: String,
    },
    /// The harness's sample of the messages consumers could still read:
    /// their lag and what they hold unprocessed, plus what the queues hold
    /// ready (Kafka's consumer lag, RabbitMQ's `messages_ready`). Recorded
    /// only when it changed since the last sample.
    Backlog {
        /// Messages still readable.
        messages: u64,
    },
    /// The final drain ended: with every client done (`drained`), or at its
    /// deadline or stall with `readable` messages still waiting for a
    /// consumer. Acknowledged messages nobody processed in a run that did
    /// not drain, while some were still readable, are not known lost.
    DrainEnded {
        /// Every client was done for a quiet second.
        drained: bool,
        /// Messages consumers could still read as the drain ended.
        readable: u64,
    },
}

impl EventKind {
    /// A producer's final word on a message it could not get acknowledged:
    /// unknown when some attempt may have stored it, failed otherwise.
    pub fn send_gave_up(msg: MsgId, error: String, maybe_stored: bool) -> EventKind {
        if maybe_stored {
            EventKind::SendUnknown { msg, error }
        } else {
            EventKind::SendFail { msg, error }
        }
    }

    /// The message an event is about, for events about a single message.
    pub fn msg(&self) -> Option<MsgId> {
        match self {
            EventKind::Send { msg, .. }
            | EventKind::SendOk { msg, .. }
            | EventKind::SendFail { msg, .. }
            | EventKind::SendUnknown { msg, .. }
            | EventKind::Receive { msg, .. }
            | EventKind::Processed { msg, .. }
            | EventKind::Reject { msg, .. }
            | EventKind::Crash { msg }
            | EventKind::Ack { msg } => Some(*msg),
            _ => None,
        }
    }

    /// Whether the event mentions `id`, directly or in a batch.
    pub fn mentions(&self, id: MsgId) -> bool {
        match self {
            EventKind::Append { msgs, .. }
            | EventKind::Truncate { msgs, .. }
            | EventKind::Drop { msgs, .. }
            | EventKind::DeadLettered { msgs, .. }
            | EventKind::Recover { msgs, .. }
            | EventKind::Discard { msgs, .. }
            | EventKind::Requeue { msgs, .. } => msgs.contains(&id),
            other => other.msg() == Some(id),
        }
    }
}

/// The shared, append-only history of a run.
///
/// All hosts of one simulation run on one thread, so a `Rc<RefCell<_>>` is
/// enough and keeps the order of events exactly the order turmoil ran them.
#[derive(Clone, Default)]
pub struct History {
    events: Rc<RefCell<Vec<Event>>>,
}

impl History {
    /// An empty history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records an event seen by `host` now, in simulated time.
    ///
    /// Outside a simulation the time is zero.
    pub fn record(&self, host: &str, kind: EventKind) {
        let at = crate::clock::now();
        self.record_at(at, host, kind);
    }

    /// Records an event at an explicit simulated time (used by the harness,
    /// which runs outside any host).
    pub fn record_at(&self, at: Duration, host: &str, kind: EventKind) {
        if tracing::enabled!(target: "mqsim::history", tracing::Level::DEBUG) {
            let text = serde_json::to_string(&kind).unwrap_or_default();
            let at_s = format!("{:.3}s", at.as_secs_f64());
            tracing::debug!(target: "mqsim::history", host, at = %at_s, "{text}");
        }
        self.events.borrow_mut().push(Event {
            at_us: at.as_micros() as u64,
            host: host.to_string(),
            kind,
        });
    }

    /// How many events have been recorded.
    pub fn len(&self) -> usize {
        self.events.borrow().len()
    }

    /// True when nothing has been recorded.
    pub fn is_empty(&self) -> bool {
        self.events.borrow().is_empty()
    }

    /// A copy of the events recorded so far.
    pub fn snapshot(&self) -> Vec<Event> {
        self.events.borrow().clone()
    }

    /// Takes the events recorded so far, leaving the history empty: how a
    /// run hands its history over once every host is done, without a copy.
    pub fn take(&self) -> Vec<Event> {
        std::mem::take(&mut self.events.borrow_mut())
    }

    /// Calls `f` with the events recorded so far, without copying them.
    pub fn with<R>(&self, f: impl FnOnce(&[Event]) -> R) -> R {
        f(&self.events.borrow())
    }
}

/// Writes events as JSON lines, the on-disk format of a history.
pub fn to_json_lines(events: &[Event]) -> String {
    let mut out = String::new();
    for e in events {
        out.push_str(&serde_json::to_string(e).expect("events always serialize"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests;
