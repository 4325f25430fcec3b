//! Settings of the queue model, named after the RabbitMQ settings they model.

use std::time::Duration;

use crate::deploy::HostContext;
use crate::disk::Writeback;
use crate::queue::dead_lettering::{DeadLetterStrategy, DeadLettering};
use crate::queue::exchange::Topology;
use crate::queue::limits::{Limits, Overflow};

use serde::{Deserialize, Serialize};

/// How a queue is replicated (`x-queue-type`, plus the mirroring policy that
/// turns a classic queue into a mirrored one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum QueueType {
    /// A classic queue: one copy, on its home node.
    Classic,
    /// A classic queue with an `ha-mode` policy: a master and mirrors.
    Mirrored,
    /// A quorum queue: a Raft group that commits by majority.
    Quorum,
}

/// When a publisher counts a message as sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PublishMode {
    /// Plain `basic.publish`: done once the frame is written to the socket.
    FireAndForget,
    /// `tx.select`, then `basic.publish` + `tx.commit` per message: done when
    /// the commit returns, one transaction at a time.
    Transaction,
    /// `confirm.select`: done when the broker's `basic.ack` for the delivery
    /// tag arrives; many publishes await their confirms at once.
    Confirm,
}

/// How a consumer acknowledges deliveries (`basic.consume`'s `no-ack`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AckMode {
    /// `no-ack = true`: the broker forgets a message as soon as it sends it.
    Auto,
    /// The consumer sends `basic.ack` after processing.
    Manual,
}

/// Where a mirrored queue keeps mirrors (`ha-mode` and `ha-params`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HaMode {
    /// On every node of the cluster.
    All,
    /// On this many nodes, master included.
    Exactly(u32),
}

/// How a new mirror gets the messages already in the queue (`ha-sync-mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SyncMode {
    /// It does not: it holds only what is published after it joined, and
    /// counts as synchronised once the older messages have been consumed.
    Manual,
    /// The master copies the queue to it when it joins.
    Automatic,
}

/// Which mirror may take over from a lost master (`ha-promote-on-failure`,
/// `ha-promote-on-shutdown`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Promote {
    /// Any mirror, synchronised or not.
    Always,
    /// Only a synchronised mirror; without one the queue waits for its
    /// master to come back.
    WhenSynced,
}

/// What a node does when it finds the cluster partitioned
/// (`cluster_partition_handling`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PartitionHandling {
    /// Nothing: each side carries on, and stays split after the network heals.
    Ignore,
    /// Once the network heals, the losing side restarts and takes the
    /// winning side's state.
    Autoheal,
    /// A node that sees no majority of the cluster stops serving until it
    /// does again.
    PauseMinority,
}

/// The configuration of a queue cluster and its clients.
///
/// Defaults are RabbitMQ's where they matter for durability (transient
/// messages, non-durable queues, no confirms, manual acks, unlimited
/// prefetch, `ha-sync-mode = manual`, `ha-promote-on-failure = always`,
/// `ha-promote-on-shutdown = when-synced`, partitions ignored); times are
/// scaled down so that a run sees many failure detections in a few simulated
/// seconds.
#[derive(Clone, Debug, PartialEq)]
pub struct QueueConfig {
    /// Nodes (`node-1..`).
    pub nodes: u32,
    /// Queues (`q0..`); messages are spread over them round-robin.
    pub queues: u32,
    /// `x-queue-type` (and whether an `ha-mode` policy applies).
    pub queue_type: QueueType,
    /// `durable`: the queue survives a node restart.
    pub durable: bool,
    /// `delivery_mode = 2`: messages are written to the node's disk.
    pub persistent: bool,
    /// How publishers publish.
    pub publish_mode: PublishMode,
    /// How long a publisher waits for a confirm or a commit.
    pub confirm_timeout: Duration,
    /// Extra attempts after a nack, a refusal or a timeout.
    pub retries: u32,
    /// Pause between attempts.
    pub retry_backoff: Duration,
    /// Publishes awaiting their confirm at once (confirm mode).
    pub max_outstanding_confirms: u32,
    /// How consumers acknowledge.
    pub ack: AckMode,
    /// `basic.qos` `prefetch_count`: unacknowledged deliveries a consumer may
    /// hold; 0 is unlimited.
    pub prefetch: u32,
    /// `heartbeat`: a client connection silent for two of these is dead.
    pub heartbeat: Duration,
    /// `net_ticktime`: a node silent for this long is down.
    pub net_ticktime: Duration,
    /// `cluster_partition_handling`.
    pub partition_handling: PartitionHandling,
    /// `ha-mode` / `ha-params` (mirrored queues).
    pub ha_mode: HaMode,
    /// `ha-sync-mode` (mirrored queues).
    pub ha_sync_mode: SyncMode,
    /// `ha-promote-on-failure` (mirrored queues).
    pub ha_promote_on_failure: Promote,
    /// `ha-promote-on-shutdown` (mirrored queues).
    pub ha_promote_on_shutdown: Promote,
    /// `x-quorum-initial-group-size` (quorum queues); `None` is every node.
    pub quorum_group_size: Option<u32>,
    /// The exchanges and bindings, and where publishers publish.
    pub topology: Topology,
    /// `dead-letter-exchange`, `dead-letter-routing-key` and
    /// `dead-letter-strategy` (policy keys), the same for every queue.
    pub dead_lettering: DeadLettering,
    /// `max-length`, `max-length-bytes`, `overflow`, `message-ttl` and
    /// `expires` (policy keys), the same for every queue.
    pub limits: Limits,
    /// The nodes' kernels: `vm.dirty_writeback_centisecs` and
    /// `vm.dirty_expire_centisecs`.
    pub writeback: Writeback,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            nodes: 3,
            queues: 1,
            queue_type: QueueType::Classic,
            durable: false,
            persistent: false,
            publish_mode: PublishMode::FireAndForget,
            confirm_timeout: Duration::from_millis(1000),
            retries: 5,
            retry_backoff: Duration::from_millis(100),
            max_outstanding_confirms: 50,
            ack: AckMode::Manual,
            prefetch: 0,
            heartbeat: Duration::from_millis(500),
            net_ticktime: Duration::from_millis(600),
            partition_handling: PartitionHandling::Ignore,
            ha_mode: HaMode::All,
            ha_sync_mode: SyncMode::Manual,
            ha_promote_on_failure: Promote::Always,
            ha_promote_on_shutdown: Promote::WhenSynced,
            quorum_group_size: None,
            topology: Topology::default(),
            dead_lettering: DeadLettering::default(),
            limits: Limits::default(),
            writeback: Writeback::default(),
        }
    }
}

impl QueueConfig {
    /// The home node of queue `q`: where it was declared, its first master
    /// or leader. Queues are spread over nodes round-robin.
    pub fn home(&self, q: u32) -> u32 {
        q % self.nodes + 1
    }

    /// The nodes that hold queue `q`, home first: one for a classic queue,
    /// the `ha-mode` set for a mirrored one, the initial group for a quorum
    /// queue. Mirrors are placed when the queue is declared and not moved.
    pub fn members(&self, q: u32) -> Vec<u32> {
        let count = match self.queue_type {
            QueueType::Classic => 1,
            QueueType::Mirrored => match self.ha_mode {
                HaMode::All => self.nodes,
                HaMode::Exactly(n) => n,
            },
            QueueType::Quorum => self.quorum_group_size.unwrap_or(self.nodes),
        };
        (0..count.min(self.nodes))
            .map(|i| (q + i) % self.nodes + 1)
            .collect()
    }

    /// Whether messages of queue `q` are written to disk: persistent messages
    /// in durable queues, and every message of a quorum queue.
    pub fn on_disk(&self) -> bool {
        self.queue_type == QueueType::Quorum || (self.durable && self.persistent)
    }

    /// The promotion rule that applies when a master was lost by a failure
    /// (`shutdown = false`) or by an orderly stop of its node.
    pub fn promote_policy(&self, shutdown: bool) -> Promote {
        if shutdown {
            self.ha_promote_on_shutdown
        } else {
            self.ha_promote_on_failure
        }
    }

    /// How long a consumer connection may stay silent before the broker
    /// declares it dead and requeues its unacknowledged deliveries: two
    /// heartbeats, as RabbitMQ does.
    pub fn consumer_timeout(&self) -> Duration {
        self.heartbeat * 2
    }

    /// Checks the values and combinations RabbitMQ itself would refuse, or
    /// that cannot mean what the file says. The error names the setting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let err = |key: &'static str, message: String| Err(ConfigError { key, message });
        if self.nodes == 0 {
            return err("nodes", "`nodes` must be at least 1".into());
        }
        if self.queues == 0 {
            return err("queues", "`queues` must be at least 1".into());
        }
        if self.queue_type == QueueType::Quorum && !self.durable {
            return err(
                "durable",
                "`durable = false` is refused for `queue_type = \"quorum\"`: RabbitMQ declares \
                 quorum queues durable only"
                    .into(),
            );
        }
        if let HaMode::Exactly(n) = self.ha_mode {
            if n == 0 || n > self.nodes {
                return err(
                    "ha-params",
                    format!(
                        "`ha-params` = {n} must be between 1 and `nodes` = {}",
                        self.nodes
                    ),
                );
            }
        }
        if self.limits.delivery_limit.is_some() && self.queue_type != QueueType::Quorum {
            return err(
                "delivery-limit",
                "`delivery-limit` applies only with `queue_type = \"quorum\"`: RabbitMQ counts \
                 deliveries (`x-delivery-count`) in quorum queues only"
                    .into(),
            );
        }
        if let Some(n) = self.quorum_group_size {
            if n == 0 || n > self.nodes {
                return err(
                    "x-quorum-initial-group-size",
                    format!(
                        "`x-quorum-initial-group-size` = {n} must be between 1 and `nodes` = {}",
                        self.nodes
                    ),
                );
            }
        }
        if self.dead_lettering.strategy == DeadLetterStrategy::AtLeastOnce {
            if self.queue_type != QueueType::Quorum {
                return err(
                    "dead-letter-strategy",
                    "`dead-letter-strategy = \"at-least-once\"` applies only with \
                     `queue_type = \"quorum\"`: RabbitMQ supports it for quorum queues only"
                        .into(),
                );
            }
            if self.limits.overflow != Overflow::RejectPublish {
                return err(
                    "dead-letter-strategy",
                    "`dead-letter-strategy = \"at-least-once\"` requires `overflow = \
                     \"reject-publish\"`: with another overflow RabbitMQ falls back to \
                     at-most-once"
                        .into(),
                );
            }
        }
        if self.queue_type == QueueType::Quorum && self.limits.dead_letters_refused() {
            return err(
                "overflow",
                "quorum queues do not support `overflow = \"reject-publish-dlx\"`".into(),
            );
        }
        if self.max_outstanding_confirms == 0 {
            return err(
                "max_outstanding_confirms",
                "`max_outstanding_confirms` must be at least 1".into(),
            );
        }
        let positive = [
            ("confirm_timeout_ms", self.confirm_timeout),
            ("heartbeat_ms", self.heartbeat),
            ("net_ticktime_ms", self.net_ticktime),
        ];
        for (key, value) in positive {
            if value.is_zero() {
                return err(key, format!("`{key}` must be above 0"));
            }
        }
        Ok(())
    }
}

pub use crate::settings::ConfigError;

pub use crate::queue::names::{node_host, queue_name};

/// What every host of a queue cluster is given.
pub(crate) type Context = HostContext<QueueConfig>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_start_at_the_home_node() {
        let c = QueueConfig {
            nodes: 3,
            queue_type: QueueType::Mirrored,
            ha_mode: HaMode::Exactly(2),
            ..QueueConfig::default()
        };
        assert_eq!(c.members(0), vec![1, 2]);
        assert_eq!(c.members(2), vec![3, 1]);
        let classic = QueueConfig::default();
        assert_eq!(classic.members(1), vec![2]);
        let quorum = QueueConfig {
            queue_type: QueueType::Quorum,
            durable: true,
            ..QueueConfig::default()
        };
        assert_eq!(quorum.members(0), vec![1, 2, 3]);
    }

    #[test]
    fn impossible_combinations_are_refused() {
        let c = QueueConfig {
            queue_type: QueueType::Quorum,
            durable: false,
            ..QueueConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().key, "durable");
        let c = QueueConfig {
            queue_type: QueueType::Mirrored,
            ha_mode: HaMode::Exactly(4),
            ..QueueConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().key, "ha-params");
    }

    #[test]
    fn at_least_once_dead_lettering_is_taken_only_by_quorum_queues_with_reject_publish() {
        let mut c = QueueConfig {
            dead_lettering: DeadLettering {
                exchange: Some(String::new()),
                routing_key: None,
                strategy: DeadLetterStrategy::AtLeastOnce,
            },
            ..QueueConfig::default()
        };
        assert_eq!(c.validate().unwrap_err().key, "dead-letter-strategy");
        c.queue_type = QueueType::Quorum;
        c.durable = true;
        assert_eq!(c.validate().unwrap_err().key, "dead-letter-strategy");
        c.limits.max_length = Some(10);
        c.limits.overflow = Overflow::RejectPublish;
        assert_eq!(c.validate(), Ok(()));
    }
}
