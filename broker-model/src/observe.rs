//! What the harness may see of the model between simulation steps.
//!
//! The harness never reaches into a host's memory: hosts publish a small view
//! of their state here as it changes, the way an operator would read metrics.
//! The harness uses it to resolve fault targets (`leader` of a partition), to
//! fire condition-triggered faults, and to know when the final drain is
//! done. Nothing here feeds back into the protocol.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// What a replica of a partition or queue reports about itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplicaView {
    /// True when this replica believes it is the leader (or queue master).
    pub leader: bool,
    /// The leader epoch (or term) it is in.
    pub epoch: u32,
    /// Records (or messages) it holds.
    pub log_end: u64,
    /// Records known committed to the in-sync set.
    pub high_watermark: u64,
    /// Records it has acknowledged to producers.
    pub acked_end: u64,
    /// A leader: records (or changes) it holds that it has not yet sent to
    /// any follower, in flight or delivered. They exist on the leader alone.
    pub unreplicated: u64,
    /// Whether this replica is in the in-sync set (log) or synchronised
    /// (mirrored queue). A leader is always in sync.
    pub in_sync: bool,
    /// A queue master or quorum leader: messages in the queue not yet
    /// delivered to any consumer, RabbitMQ's `messages_ready`. Log replicas
    /// report 0: what a log holds for its readers is their lag.
    pub ready: u64,
    /// A quorum queue dead-lettering at least once: dead letters it keeps
    /// until every queue they route to has confirmed them. They are on
    /// their way to a dead-letter queue, not gone.
    pub dead_letters: u64,
}

/// What a producer or consumer reports about itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientView {
    /// A producer: every message has a final outcome. A consumer: nothing is
    /// buffered or being processed and the last read found nothing new.
    pub done: bool,
    /// A consumer: messages received and not yet acknowledged or committed.
    pub holding: u64,
    /// A producer: messages acknowledged so far.
    pub acked: u64,
    /// A consumer: messages its application finished processing in this
    /// run of the process, duplicates included (Kafka's
    /// `records-consumed-total`). The drain watches it for progress.
    pub processed: u64,
    /// A log consumer: over its partitions, the high watermark its last
    /// fetch reported less its next position (Kafka's `records-lag`):
    /// committed records it has yet to read. Queue consumers report 0: what
    /// waits for them is the queue's `ready`.
    pub lag: u64,
}

/// A producer's published view, kept current as its sends are
/// acknowledged, so that the `after_producer_ack` trigger can watch it.
pub struct AckCounter {
    host: String,
    observer: Observer,
    acked: std::cell::Cell<u64>,
}

impl AckCounter {
    /// A counter for producer `host`, published at once as not done.
    pub fn new(host: &str, observer: &Observer) -> Self {
        let counter = AckCounter {
            host: host.to_string(),
            observer: observer.clone(),
            acked: std::cell::Cell::new(0),
        };
        counter.publish(false);
        counter
    }

    /// Publishes the view; `done` once every message has an outcome.
    pub fn publish(&self, done: bool) {
        self.observer.client(
            &self.host,
            ClientView {
                done,
                acked: self.acked.get(),
                ..ClientView::default()
            },
        );
    }

    /// Counts one more acknowledged send and publishes it.
    pub fn acknowledged(&self) {
        self.acked.set(self.acked.get() + 1);
        self.publish(false);
    }
}

/// What a host's disk reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiskView {
    /// Entries written and not yet on disk: neither fsynced nor written
    /// back by the kernel.
    pub unsynced: u64,
    /// Entries acknowledged to a producer and not yet on disk: what a power
    /// loss now would take away from under an acknowledgement.
    pub acked_unsynced: u64,
}

/// All published views.
#[derive(Clone, Debug, Default)]
pub struct Observations {
    /// Replica views by destination, then host.
    pub replicas: BTreeMap<String, BTreeMap<String, ReplicaView>>,
    /// Client views by host.
    pub clients: BTreeMap<String, ClientView>,
    /// Disk views by host.
    pub disks: BTreeMap<String, DiskView>,
}

/// A shared handle on the published views.
#[derive(Clone, Default)]
pub struct Observer {
    inner: Rc<RefCell<Observations>>,
}

impl Observer {
    /// An observer with nothing published.
    pub fn new() -> Self {
        Self::default()
    }

    /// Publishes `host`'s view of its replica of `dest`.
    pub fn replica(&self, dest: &str, host: &str, view: ReplicaView) {
        let mut o = self.inner.borrow_mut();
        if !o.replicas.contains_key(dest) {
            o.replicas.insert(dest.to_string(), BTreeMap::new());
        }
        let views = o.replicas.get_mut(dest).expect("inserted above");
        publish(views, host, view);
    }

    /// Publishes a client's view of itself.
    pub fn client(&self, host: &str, view: ClientView) {
        publish(&mut self.inner.borrow_mut().clients, host, view);
    }

    /// Publishes a host's disk view.
    pub fn disk(&self, host: &str, view: DiskView) {
        publish(&mut self.inner.borrow_mut().disks, host, view);
    }

    /// Drops everything `host` published: called when it goes down, since a
    /// dead host reports nothing.
    pub fn forget_host(&self, host: &str) {
        let mut o = self.inner.borrow_mut();
        for views in o.replicas.values_mut() {
            views.remove(host);
        }
        o.clients.remove(host);
        o.disks.remove(host);
    }

    /// A copy of everything published.
    pub fn snapshot(&self) -> Observations {
        self.inner.borrow().clone()
    }

    /// Calls `f` with the published views.
    pub fn with<T>(&self, f: impl FnOnce(&Observations) -> T) -> T {
        f(&self.inner.borrow())
    }

    /// The host that leads `dest` in the newest epoch, if any claims to.
    pub fn leader_of(&self, dest: &str) -> Option<String> {
        self.with(|o| o.leader_of(dest))
    }
}

impl Observations {
    /// The host that leads `dest` in the newest epoch, if any claims to.
    pub fn leader_of(&self, dest: &str) -> Option<String> {
        self.leader_view(dest).map(|(h, _)| h.clone())
    }

    fn leader_view(&self, dest: &str) -> Option<(&String, &ReplicaView)> {
        self.replicas
            .get(dest)?
            .iter()
            .filter(|(_, v)| v.leader)
            .max_by_key(|(_, v)| v.epoch)
    }

    /// Messages a consumer could still read: every consumer's lag and what
    /// it holds unprocessed, plus what each queue's leader holds ready for
    /// delivery. When it is above zero as a run ends, acknowledged messages
    /// nobody processed may be waiting for a consumer rather than lost.
    ///
    /// A log's records beyond the high watermark are not counted (no
    /// consumer may read them yet), nor are a queue's deliveries held for a
    /// connection that no consumer holds any more (RabbitMQ requeues them
    /// once it closes the connection, and they are counted as ready then).
    ///
    /// Dead letters a queue keeps until their target confirms them count
    /// too: they will be ready in the dead-letter queue.
    pub fn backlog(&self) -> u64 {
        let consumers: u64 = self.clients.values().map(|c| c.lag + c.holding).sum();
        let queued: u64 = self
            .replicas
            .keys()
            .filter_map(|dest| self.leader_view(dest))
            .map(|(_, v)| v.ready + v.dead_letters)
            .sum();
        consumers + queued
    }

    /// Dead letters the queues' leaders keep until their targets confirm
    /// them: while there are any, messages are still moving between
    /// queues, so a drain is not over even if every client is idle.
    pub fn dead_letters_in_flight(&self) -> u64 {
        self.replicas
            .keys()
            .filter_map(|dest| self.leader_view(dest))
            .map(|(_, v)| v.dead_letters)
            .sum()
    }
}

/// Replaces `host`'s view in `views`. Hosts publish on every change of
/// their state, so a host already known costs no allocation.
fn publish<V>(views: &mut BTreeMap<String, V>, host: &str, view: V) {
    match views.get_mut(host) {
        Some(slot) => *slot = view,
        None => {
            views.insert(host.to_string(), view);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_epoch_leader_wins_and_dead_hosts_vanish() {
        let o = Observer::new();
        let lead = |epoch| ReplicaView {
            leader: true,
            epoch,
            ..Default::default()
        };
        o.replica("p0", "broker-1", lead(1));
        o.replica("p0", "broker-2", lead(2));
        assert_eq!(o.leader_of("p0").as_deref(), Some("broker-2"));
        o.forget_host("broker-2");
        assert_eq!(o.leader_of("p0").as_deref(), Some("broker-1"));
        assert_eq!(o.leader_of("p9"), None);
    }

    #[test]
    fn the_backlog_counts_consumer_lag_what_consumers_hold_and_ready_messages() {
        let o = Observer::new();
        let consumer = |lag, holding| ClientView {
            lag,
            holding,
            ..Default::default()
        };
        o.client("consumer-1", consumer(40, 3));
        o.client("consumer-2", consumer(0, 2));
        o.client(
            "producer-1",
            ClientView {
                acked: 500,
                ..Default::default()
            },
        );
        o.replica(
            "q0",
            "node-1",
            ReplicaView {
                leader: true,
                epoch: 1,
                ready: 7,
                ..Default::default()
            },
        );
        assert_eq!(o.with(Observations::backlog), 40 + 3 + 2 + 7);
    }

    #[test]
    fn only_the_newest_leader_of_a_queue_counts_its_ready_messages() {
        let o = Observer::new();
        let view = |leader, epoch, ready| ReplicaView {
            leader,
            epoch,
            ready,
            ..Default::default()
        };
        o.replica("q0", "node-1", view(true, 1, 100));
        o.replica("q0", "node-2", view(true, 2, 30));
        o.replica("q0", "node-3", view(false, 2, 55));
        assert_eq!(o.with(Observations::backlog), 30);
        o.forget_host("node-2");
        assert_eq!(o.with(Observations::backlog), 100);
    }

    #[test]
    fn nothing_published_is_no_backlog() {
        assert_eq!(Observer::new().with(Observations::backlog), 0);
    }
}
