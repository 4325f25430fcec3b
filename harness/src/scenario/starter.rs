//! Commented starter files for `mqsim new`: a scenario that runs as it is
//! and says, key by key, what can be changed.

/// The starter file for `system`, if mqsim models it (every system in
/// [`SYSTEMS`](super::model::SYSTEMS) has one).
pub fn starter(system: &str) -> Option<&'static str> {
    match system {
        "log" => Some(LOG),
        "queue" => Some(QUEUE),
        _ => None,
    }
}

const LOG: &str = r#"# A scenario for the Kafka-like log. Run it with
#   cargo run --release --bin mqsim -- run THIS_FILE
# and check it without running with `mqsim check THIS_FILE`.

name = "my-log-scenario"
description = "What this scenario shows, in a sentence or two."
system = "log"
expect = "no-loss"          # "loss" or "no-loss": what you expect the checker to find
seeds = 5                   # seeds 1..=5, or a list such as [3, 17]
duration = "8s"             # simulated time of the workload and the faults
# drain = "auto"            # the default: drain while consumers make progress (up to
                            # 10 x duration); a duration such as "30s" is a fixed deadline

[workload]
producers = 1               # producer-1..
consumers = 1               # consumer-1.., one consumer group
messages = 400              # in total, split across producers
rate = 100                  # messages per simulated second, all producers together
processing_time = "10ms"    # a consumer's time to process one message
# message_bytes = 100       # one message's size, which size limits count
# consumer_start = "0s"     # when the consumers first start (a late consumer group)

# [network]
# min_latency = "1ms"
# max_latency = "5ms"

[config]
# Kafka's setting names, quoted because of the dots. Every key is optional;
# README.md lists them all with their defaults.
brokers = 3
"replication.factor" = 3
"min.insync.replicas" = 2
acks = "all"                # 0, 1 or "all"
"enable.idempotence" = false
"unclean.leader.election.enable" = false
# "eligible.leader.replicas.version" = 1   # KIP-966: elect replicas that left a shrunk ISR
# "log.flush.interval.messages" = 1   # fsync every append; unset = page cache only
"enable.auto.commit" = false        # commit after processing
# commit = "after-processing"       # or "before-processing" (a common bug)
# subscription = "assign"           # or "subscribe": a consumer group that rebalances
# "partition.assignment.strategy" = "range"   # or "roundrobin" (with subscribe)
# "session.timeout.ms" = 450        # with subscribe: a silent member is removed
# "heartbeat.interval.ms" = 30
# "max.poll.interval.ms" = 3000     # a consumer holding a record longer leaves
# "commit.on.revoke" = true         # onPartitionsRevoked commits what was processed

# A fault at a time:
[[faults]]
at = "2s"
action = "partition"        # partition, isolate, drop, delay, hold, crash, power_loss, heal
target = "leader"           # a host (broker-2) or a role: leader, follower(s), replicas,
                            # controller, any-broker, brokers, producer(s), consumer(s)
peer = "followers"          # the other side (default: every other host)
duration = "500ms"

# A fault on a condition:
[[faults]]
at = "3s"                           # start watching at 3s
when = "leader_ahead_of_followers"  # or consumer_received_unacked, after_producer_ack,
                                    # before_fsync, mirror_unsynced
action = "crash"
target = "leader"
restart_after = "2s"

# A random fault schedule per seed:
# [nemesis]
# kinds = ["crash", "partition", "drop"]
# interval = "1s"
# targets = ["any-broker"]
"#;

const QUEUE: &str = r#"# A scenario for the RabbitMQ-like queue. Run it with
#   cargo run --release --bin mqsim -- run THIS_FILE
# and check it without running with `mqsim check THIS_FILE`.

name = "my-queue-scenario"
description = "What this scenario shows, in a sentence or two."
system = "queue"
expect = "no-loss"          # "loss" or "no-loss": what you expect the checker to find
seeds = 5                   # seeds 1..=5, or a list such as [3, 17]
duration = "6s"             # simulated time of the workload and the faults
drain = "auto"              # drain while consumers make progress; or a fixed deadline: "30s"

[workload]
producers = 1               # producer-1.. (publishers)
consumers = 1               # consumer-1.. (competing consumers on every queue)
messages = 300
rate = 100                  # messages per simulated second, all publishers together
processing_time = "20ms"    # a consumer's time to process one message
# message_bytes = 100       # one message's size, which size limits count
# consumer_start = "0s"     # when the consumers first start
# poison = 0.02             # share of messages the consumers cannot process; they reject them (requeue)
# poison_action = "reject"  # or "crash": the consumer's process dies holding the message

[config]
# RabbitMQ's names; every key is optional and README.md lists them all.
nodes = 3
queue_type = "mirrored"     # "classic", "mirrored" or "quorum"
durable = true              # the queue survives a restart of its node
persistent = true           # delivery_mode = 2: messages go to the node's disk
publish_mode = "confirm"    # "fire-and-forget", "transaction" or "confirm"
retries = 10
ack = "manual"              # "auto" forgets a message when it is sent
prefetch = 10
ha-mode = "exactly"         # mirroring policy (mirrored queues only)
ha-params = 2
ha-sync-mode = "manual"
ha-promote-on-failure = "when-synced"
# cluster_partition_handling = "pause_minority"
# Length limits and time-to-live (policy keys, every queue type; unset is no limit):
# max-length = 1000         # ready messages kept; unacknowledged deliveries do not count
# max-length-bytes = 100000 # their total size, each message counting message_bytes
# overflow = "drop-head"    # at the limit: "drop-head" drops the oldest ready message,
                            # "reject-publish" refuses the new one (a basic.nack),
                            # "reject-publish-dlx" also dead-letters it
# message-ttl = 60000       # ms a message may wait in the queue before it is discarded
# expires = 600000          # ms the queue may go without a consumer before it is deleted
# dead-letter-exchange = "dlx"   # expired and overflowing messages go there, not away
# dead-letter-routing-key = "q1" # default: the key they were published with
# dead-letter-strategy = "at-most-once"  # no confirms: lost if they reach no queue;
                            # "at-least-once" (quorum, overflow = "reject-publish"):
                            # kept in the queue until every target confirms
# Exchanges and bindings (unset: publish through the default exchange to q0..):
# exchanges = [{ name = "orders", type = "direct", alternate-exchange = "unrouted" },
#              { name = "unrouted", type = "fanout" }]   # types: direct, fanout, topic
# bindings = [{ exchange = "orders", queue = "q0", routing_key = "q0" }]
# exchange = "orders"       # where publishers publish; routing keys q0, q1, … in turn
# routing_keys = ["q0"]     # or these keys in turn
# mandatory = true          # messages that route to no queue (no binding, or a classic queue
                            # whose node is down) come back (basic.return) and are retried
# delivery-limit = 3        # quorum queues only: returns (rejects, dead consumers) before a message is dropped

# Restart a mirror, then crash the master while that mirror is unsynchronised:
[[faults]]
at = "1s"
action = "crash"            # partition, isolate, drop, delay, hold, crash, power_loss, heal,
                            # stop_app (rabbitmqctl stop_app), unbind (exchange, queue,
                            # routing_key, duration)
target = "follower"         # a host (node-2) or a role: leader (the master), follower(s),
                            # replicas, any-broker, brokers, producer(s), consumer(s)
restart_after = "500ms"

[[faults]]
at = "1500ms"
when = "mirror_unsynced"    # or leader_ahead_of_followers, consumer_received_unacked,
                            # after_producer_ack, before_fsync
action = "crash"
target = "leader"
restart_after = "1s"
"#;

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::scenario::model::SYSTEMS;

    #[test]
    fn every_starter_is_a_valid_scenario() {
        for system in SYSTEMS {
            let text = starter(system).unwrap();
            let s = crate::scenario::parse(Path::new("new.toml"), text)
                .unwrap_or_else(|e| panic!("{system}: {e}"));
            assert_eq!(s.system.name(), *system);
            assert_eq!(s.faults.len(), 2);
        }
        assert!(starter("pulsar").is_none());
    }
}
