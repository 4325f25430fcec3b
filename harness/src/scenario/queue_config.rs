//! `[config]` of `system = "queue"` scenarios: RabbitMQ's setting names
//! (queue arguments, policy keys, `rabbitmq.conf` keys, client settings),
//! mapped onto the queue model's configuration.

use std::ops::Range;

use broker_model::queue::{
    AckMode, HaMode, PartitionHandling, Promote, PublishMode, QueueConfig, QueueType, SyncMode,
};
use schemars::JsonSchema;
use serde::Deserialize;

use super::error::{ErrAt, ScenarioError};
use super::kernel;
use super::queue_dead_lettering::{self, RawDeadLetterStrategy};
use super::queue_limits::{self, RawOverflow};
use super::queue_routing::{self, RawBinding, RawExchange};
use super::spanned::{ms, val, Spanned};

/// `[config]` of a `system = "queue"` scenario: RabbitMQ's setting names.
/// Every key is optional. Defaults are RabbitMQ's where they matter for
/// durability; times are scaled down like the log model's. Keys that cannot
/// apply to the configuration the file describes are refused rather than
/// ignored.
#[derive(Deserialize, JsonSchema, Default)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "QueueConfig")]
pub(crate) struct RawQueueConfig {
    /// Nodes `node-1..N`.
    pub nodes: Option<Spanned<u32>>,
    /// Queues `q0..`; message `seq` goes to `q(seq mod queues)`, and queue
    /// `i`'s home node is `node-(i mod N + 1)`.
    pub queues: Option<Spanned<u32>>,
    /// `x-queue-type`, plus an `ha-mode` policy for "mirrored".
    pub queue_type: Option<Spanned<RawQueueType>>,
    /// `durable` of `queue.declare`: the queue survives a restart of its
    /// node; a non-durable queue comes back empty. Quorum queues are always
    /// durable.
    pub durable: Option<Spanned<bool>>,
    /// `delivery_mode = 2`: messages of a durable queue are written to the
    /// node's message store; transient ones live in memory only.
    pub persistent: Option<Spanned<bool>>,
    /// How a publisher learns that the broker took a message.
    pub publish_mode: Option<Spanned<RawPublishMode>>,
    /// How long a publisher waits for a confirm or a commit (not with
    /// "fire-and-forget").
    pub confirm_timeout_ms: Option<Spanned<u64>>,
    /// Extra attempts after a nack, a refusal or a timeout (not with
    /// "fire-and-forget").
    pub retries: Option<Spanned<u32>>,
    /// The pause between a publisher's attempts (not with
    /// "fire-and-forget").
    pub retry_backoff_ms: Option<Spanned<u64>>,
    /// Publishes awaiting their confirm at once (with "confirm" only).
    pub max_outstanding_confirms: Option<Spanned<u32>>,
    /// `no-ack` of `basic.consume`: when the broker may forget a delivered
    /// message.
    pub ack: Option<Spanned<RawAck>>,
    /// `prefetch_count` of `basic.qos`: unacknowledged deliveries a consumer
    /// may hold; 0 is unlimited (with `ack = "manual"` only).
    pub prefetch: Option<Spanned<u32>>,
    /// A client connection silent for two heartbeats is closed and its
    /// unacknowledged deliveries requeued.
    pub heartbeat_ms: Option<Spanned<u64>>,
    /// Nodes tick each other every quarter of it; a node silent for this
    /// long is down.
    pub net_ticktime_ms: Option<Spanned<u64>>,
    /// What the nodes do when they find the cluster partitioned.
    pub cluster_partition_handling: Option<Spanned<RawPartitionHandling>>,
    /// Mirroring policy: which nodes hold the queue (mirrored queues only).
    #[serde(rename = "ha-mode")]
    pub ha_mode: Option<Spanned<RawHaMode>>,
    /// Mirroring policy: with `ha-mode = "exactly"`, the nodes holding the
    /// queue, master included; at most `nodes`.
    #[serde(rename = "ha-params")]
    pub ha_params: Option<Spanned<u32>>,
    /// Mirroring policy: how a new or restarted mirror catches up.
    #[serde(rename = "ha-sync-mode")]
    pub ha_sync_mode: Option<Spanned<RawSyncMode>>,
    /// Mirroring policy: which mirror may replace a master that failed.
    #[serde(rename = "ha-promote-on-failure")]
    pub ha_promote_on_failure: Option<Spanned<RawPromote>>,
    /// Mirroring policy: the same choice when the master's node stopped in
    /// an orderly way and told its mirrors.
    #[serde(rename = "ha-promote-on-shutdown")]
    pub ha_promote_on_shutdown: Option<Spanned<RawPromote>>,
    /// Members of each quorum queue's Raft group, from the home node on;
    /// unset means every node (quorum queues only).
    #[serde(rename = "x-quorum-initial-group-size")]
    pub quorum_group_size: Option<Spanned<u32>>,
    /// Policy: ready messages the queue keeps; unset is no limit.
    /// Deliveries awaiting an acknowledgement do not count.
    #[serde(rename = "max-length")]
    pub max_length: Option<Spanned<u64>>,
    /// Policy: total body size of the ready messages the queue keeps, each
    /// message counting the workload's `message_bytes`; unset is no limit.
    #[serde(rename = "max-length-bytes")]
    pub max_length_bytes: Option<Spanned<u64>>,
    /// Policy: what happens when a publish would take the queue past its
    /// length limit (only with `max-length` or `max-length-bytes`).
    pub overflow: Option<Spanned<RawOverflow>>,
    /// Policy: milliseconds a message may stay in the queue before it is
    /// discarded at the head of the queue; a delivery awaiting its
    /// acknowledgement does not expire. Unset is no limit.
    #[serde(rename = "message-ttl")]
    pub message_ttl: Option<Spanned<u64>>,
    /// Policy: milliseconds the queue may go unused (no consumer, not
    /// declared again) before it is deleted with its messages; unset is
    /// never.
    pub expires: Option<Spanned<u64>>,
    /// Policy: the exchange expired messages, messages dropped or refused
    /// for a length limit, and messages over a quorum queue's delivery
    /// limit are republished to; "" is the default exchange. Unset: they
    /// are dropped.
    #[serde(rename = "dead-letter-exchange")]
    pub dead_letter_exchange: Option<Spanned<String>>,
    /// Policy: the routing key dead-lettered messages are republished with
    /// (default: the key they were published with).
    #[serde(rename = "dead-letter-routing-key")]
    pub dead_letter_routing_key: Option<Spanned<String>>,
    /// Policy: how dead-lettered messages are republished.
    #[serde(rename = "dead-letter-strategy")]
    pub dead_letter_strategy: Option<Spanned<RawDeadLetterStrategy>>,
    /// Exchanges declared besides the default exchange.
    #[serde(default)]
    pub exchanges: Vec<Spanned<RawExchange>>,
    /// Bindings of queues to the declared exchanges.
    #[serde(default)]
    pub bindings: Vec<Spanned<RawBinding>>,
    /// The exchange publishers publish to; unset is the default exchange,
    /// which routes each message to the queue named by its routing key.
    pub exchange: Option<Spanned<String>>,
    /// The routing keys publishers use in turn (with `exchange`; default:
    /// the queue names q0.. in turn).
    pub routing_keys: Option<Spanned<Vec<String>>>,
    /// `mandatory` on `basic.publish` (with confirms or transactions, on
    /// the default exchange or `exchange`): a message that routes to no
    /// queue is returned, and the publisher retries it.
    pub mandatory: Option<Spanned<bool>>,
    /// Policy (quorum queues only): how many times a message may come back
    /// to the queue unsettled (rejected with `requeue`, or held by a
    /// consumer that went away) before it is dropped instead of delivered
    /// again; unset is no limit.
    #[serde(rename = "delivery-limit")]
    pub delivery_limit: Option<Spanned<u32>>,
    /// How often the kernel's flusher wakes to write back dirty pages, in
    /// hundredths of a second; 0 turns periodic writeback off. Scaled ten
    /// times down from Linux's 500, like the model's other times.
    #[serde(rename = "vm.dirty_writeback_centisecs")]
    pub dirty_writeback_centisecs: Option<Spanned<u64>>,
    /// How long data may stay dirty in the page cache before the flusher
    /// writes it back, in hundredths of a second. Scaled ten times down
    /// from Linux's 3000.
    #[serde(rename = "vm.dirty_expire_centisecs")]
    pub dirty_expire_centisecs: Option<Spanned<u64>>,
}

/// `queue_type`.
#[derive(Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawQueueType {
    /// One copy, on the queue's home node.
    Classic,
    /// A master and mirrors (classic mirrored queues).
    Mirrored,
    /// A Raft group.
    Quorum,
}

/// `publish_mode`.
#[derive(Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawPublishMode {
    /// Plain `basic.publish`: sent once written to the socket.
    FireAndForget,
    /// `tx.select`: publish and `tx.commit` per message, one at a time.
    Transaction,
    /// `confirm.select`: an asynchronous `basic.ack` per message.
    Confirm,
}

/// `ack`.
#[derive(Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawAck {
    /// The broker forgets a message when it sends it.
    Auto,
    /// The consumer sends `basic.ack` after processing.
    Manual,
}

/// `cluster_partition_handling`.
#[derive(Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RawPartitionHandling {
    /// Both sides carry on, and stay split after the network heals (each
    /// side keeps its own master).
    Ignore,
    /// Once every node is reachable again, the smaller side restarts its
    /// broker application and takes the winners' state.
    Autoheal,
    /// A node that sees no majority stops its application (refusing
    /// clients) until it sees one again.
    PauseMinority,
}

/// `ha-mode`.
#[derive(Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawHaMode {
    /// Every node holds the queue.
    All,
    /// `ha-params` nodes hold the queue, from the home node on.
    Exactly,
}

/// `ha-sync-mode`.
#[derive(Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawSyncMode {
    /// A new or restarted mirror starts empty and is synchronised only once
    /// the older messages are consumed.
    Manual,
    /// The master copies the queue to a new or restarted mirror.
    Automatic,
}

/// `ha-promote-on-failure` and `ha-promote-on-shutdown`.
#[derive(Deserialize, JsonSchema, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum RawPromote {
    /// Any mirror.
    Always,
    /// Only a synchronised mirror; otherwise the queue waits for its master.
    WhenSynced,
}

impl RawQueueConfig {
    /// The span of the value of `key`, when the file sets it.
    pub(crate) fn span_of(&self, key: &str) -> Option<Range<usize>> {
        fn s<T>(v: &Option<Spanned<T>>) -> Option<Range<usize>> {
            v.as_ref().map(Spanned::span)
        }
        match key {
            "nodes" => s(&self.nodes),
            "queues" => s(&self.queues),
            "queue_type" => s(&self.queue_type),
            "durable" => s(&self.durable),
            "persistent" => s(&self.persistent),
            "publish_mode" => s(&self.publish_mode),
            "confirm_timeout_ms" => s(&self.confirm_timeout_ms),
            "retries" => s(&self.retries),
            "retry_backoff_ms" => s(&self.retry_backoff_ms),
            "max_outstanding_confirms" => s(&self.max_outstanding_confirms),
            "ack" => s(&self.ack),
            "prefetch" => s(&self.prefetch),
            "heartbeat_ms" => s(&self.heartbeat_ms),
            "net_ticktime_ms" => s(&self.net_ticktime_ms),
            "cluster_partition_handling" => s(&self.cluster_partition_handling),
            "ha-mode" => s(&self.ha_mode),
            "ha-params" => s(&self.ha_params),
            "ha-sync-mode" => s(&self.ha_sync_mode),
            "ha-promote-on-failure" => s(&self.ha_promote_on_failure),
            "ha-promote-on-shutdown" => s(&self.ha_promote_on_shutdown),
            "x-quorum-initial-group-size" => s(&self.quorum_group_size),
            "max-length" => s(&self.max_length),
            "max-length-bytes" => s(&self.max_length_bytes),
            "overflow" => s(&self.overflow),
            "message-ttl" => s(&self.message_ttl),
            "expires" => s(&self.expires),
            "exchange" => s(&self.exchange),
            "dead-letter-exchange" => s(&self.dead_letter_exchange),
            "dead-letter-routing-key" => s(&self.dead_letter_routing_key),
            "dead-letter-strategy" => s(&self.dead_letter_strategy),
            "routing_keys" => s(&self.routing_keys),
            "mandatory" => s(&self.mandatory),
            "delivery-limit" => s(&self.delivery_limit),
            _ => None,
        }
    }

    /// The mirroring policy keys the file sets, with their spans.
    fn ha_keys(&self) -> Vec<(&'static str, Range<usize>)> {
        let mut keys = Vec::new();
        for key in [
            "ha-mode",
            "ha-params",
            "ha-sync-mode",
            "ha-promote-on-failure",
            "ha-promote-on-shutdown",
        ] {
            if let Some(span) = self.span_of(key) {
                keys.push((key, span));
            }
        }
        keys
    }
}

fn promote(p: RawPromote) -> Promote {
    match p {
        RawPromote::Always => Promote::Always,
        RawPromote::WhenSynced => Promote::WhenSynced,
    }
}

/// The model's configuration from the file's `[config]`, defaults filled
/// in and combinations checked; size limits count messages of
/// `message_bytes`.
pub(crate) fn convert(
    raw: Option<&Spanned<RawQueueConfig>>,
    message_bytes: u32,
    err: &ErrAt,
) -> Result<QueueConfig, ScenarioError> {
    let d = QueueConfig::default();
    let Some(spanned) = raw else {
        return Ok(d);
    };
    let r = spanned.get_ref();
    let queue_type = match val(&r.queue_type) {
        Some(RawQueueType::Classic) | None => QueueType::Classic,
        Some(RawQueueType::Mirrored) => QueueType::Mirrored,
        Some(RawQueueType::Quorum) => QueueType::Quorum,
    };
    let publish_mode = match val(&r.publish_mode) {
        Some(RawPublishMode::FireAndForget) | None => PublishMode::FireAndForget,
        Some(RawPublishMode::Transaction) => PublishMode::Transaction,
        Some(RawPublishMode::Confirm) => PublishMode::Confirm,
    };
    let ack = match val(&r.ack) {
        Some(RawAck::Manual) | None => AckMode::Manual,
        Some(RawAck::Auto) => AckMode::Auto,
    };
    let at = |key: &str| r.span_of(key).or_else(|| Some(spanned.span()));
    let queues = val(&r.queues).unwrap_or(d.queues);

    // Settings that mean nothing in the configuration the file describes are
    // refused rather than silently ignored.
    if queue_type != QueueType::Mirrored {
        if let Some((key, span)) = r.ha_keys().into_iter().next() {
            return Err(err(
                Some(span),
                Some(key),
                format!(
                    "`{key}` is a mirroring policy key: it applies only with \
                     `queue_type = \"mirrored\"`"
                ),
            ));
        }
    }
    if queue_type != QueueType::Quorum {
        if let Some(s) = &r.quorum_group_size {
            return Err(err(
                Some(s.span()),
                Some("x-quorum-initial-group-size"),
                "`x-quorum-initial-group-size` applies only with `queue_type = \"quorum\"`".into(),
            ));
        }
    }
    let ha_mode = match (val(&r.ha_mode), val(&r.ha_params)) {
        (Some(RawHaMode::All) | None, None) => HaMode::All,
        (Some(RawHaMode::Exactly), Some(n)) => HaMode::Exactly(n),
        (Some(RawHaMode::Exactly), None) => {
            return Err(err(
                at("ha-mode"),
                Some("ha-mode"),
                "`ha-mode = \"exactly\"` needs `ha-params`, the number of nodes holding the \
                 queue (master included)"
                    .into(),
            ))
        }
        (_, Some(_)) => {
            return Err(err(
                at("ha-params"),
                Some("ha-params"),
                "`ha-params` applies only with `ha-mode = \"exactly\"`".into(),
            ))
        }
    };
    if ack == AckMode::Auto {
        if let Some(s) = &r.prefetch {
            return Err(err(
                Some(s.span()),
                Some("prefetch"),
                "`prefetch` has no effect with `ack = \"auto\"`: RabbitMQ does not limit \
                 deliveries to consumers that do not acknowledge"
                    .into(),
            ));
        }
    }
    let publisher_keys: &[&str] = match publish_mode {
        PublishMode::FireAndForget => &[
            "confirm_timeout_ms",
            "retries",
            "retry_backoff_ms",
            "max_outstanding_confirms",
        ],
        PublishMode::Transaction => &["max_outstanding_confirms"],
        PublishMode::Confirm => &[],
    };
    for key in publisher_keys {
        if let Some(span) = r.span_of(key) {
            let mode = match publish_mode {
                PublishMode::FireAndForget => "fire-and-forget",
                PublishMode::Transaction => "transaction",
                PublishMode::Confirm => "confirm",
            };
            return Err(err(
                Some(span),
                Some(key),
                format!("`{key}` has no effect with `publish_mode = \"{mode}\"`"),
            ));
        }
    }

    let routing = queue_routing::RoutingKeys {
        exchanges: &r.exchanges,
        bindings: &r.bindings,
        exchange: &r.exchange,
        routing_keys: &r.routing_keys,
        mandatory: &r.mandatory,
    };
    let topology = queue_routing::topology(&routing, queues.max(1), publish_mode, at, err)?;
    let limit_keys = queue_limits::LimitKeys {
        max_length: &r.max_length,
        max_length_bytes: &r.max_length_bytes,
        overflow: &r.overflow,
        message_ttl: &r.message_ttl,
        expires: &r.expires,
        delivery_limit: &r.delivery_limit,
    };
    let limits = queue_limits::limits(&limit_keys, message_bytes, at, err)?;
    let dead_letter_keys = queue_dead_lettering::DeadLetterKeys {
        exchange: &r.dead_letter_exchange,
        routing_key: &r.dead_letter_routing_key,
        strategy: &r.dead_letter_strategy,
    };
    let config = QueueConfig {
        nodes: val(&r.nodes).unwrap_or(d.nodes),
        queues,
        queue_type,
        // Quorum queues are durable by definition; RabbitMQ refuses to
        // declare one otherwise (checked below when the file says so).
        durable: val(&r.durable).unwrap_or(queue_type == QueueType::Quorum || d.durable),
        persistent: val(&r.persistent).unwrap_or(d.persistent),
        publish_mode,
        confirm_timeout: ms(&r.confirm_timeout_ms).unwrap_or(d.confirm_timeout),
        retries: val(&r.retries).unwrap_or(d.retries),
        retry_backoff: ms(&r.retry_backoff_ms).unwrap_or(d.retry_backoff),
        max_outstanding_confirms: val(&r.max_outstanding_confirms)
            .unwrap_or(d.max_outstanding_confirms),
        ack,
        prefetch: val(&r.prefetch).unwrap_or(d.prefetch),
        heartbeat: ms(&r.heartbeat_ms).unwrap_or(d.heartbeat),
        net_ticktime: ms(&r.net_ticktime_ms).unwrap_or(d.net_ticktime),
        partition_handling: match val(&r.cluster_partition_handling) {
            Some(RawPartitionHandling::Ignore) | None => PartitionHandling::Ignore,
            Some(RawPartitionHandling::Autoheal) => PartitionHandling::Autoheal,
            Some(RawPartitionHandling::PauseMinority) => PartitionHandling::PauseMinority,
        },
        ha_mode,
        ha_sync_mode: match val(&r.ha_sync_mode) {
            Some(RawSyncMode::Manual) | None => SyncMode::Manual,
            Some(RawSyncMode::Automatic) => SyncMode::Automatic,
        },
        ha_promote_on_failure: val(&r.ha_promote_on_failure)
            .map_or(d.ha_promote_on_failure, promote),
        ha_promote_on_shutdown: val(&r.ha_promote_on_shutdown)
            .map_or(d.ha_promote_on_shutdown, promote),
        quorum_group_size: val(&r.quorum_group_size),
        dead_lettering: queue_dead_lettering::dead_lettering(
            &dead_letter_keys,
            queue_type,
            &limits,
            &topology,
            at,
            err,
        )?,
        topology,
        limits,
        writeback: kernel::writeback(&r.dirty_writeback_centisecs, &r.dirty_expire_centisecs, err)?,
    };
    config
        .validate()
        .map_err(|e| err(at(e.key), Some(e.key), e.message))?;
    Ok(config)
}
