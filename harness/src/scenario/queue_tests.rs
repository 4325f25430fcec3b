use std::path::Path;

use broker_model::queue::{
    AckMode, HaMode, PartitionHandling, Promote, PublishMode, QueueConfig, QueueType, SyncMode,
};

use super::model::host_names;
use super::*;

pub(super) const GOOD: &str = r#"
name = "mirrored"
system = "queue"
expect = "loss"
seeds = 2
duration = "5s"

[workload]
messages = 100

[config]
nodes = 3
queue_type = "mirrored"
durable = true
persistent = true
publish_mode = "confirm"
ack = "manual"
prefetch = 10
ha-mode = "exactly"
ha-params = 2
ha-promote-on-failure = "always"

[[faults]]
at = "2s"
action = "crash"
target = "leader"
restart_after = "1s"
"#;

pub(super) fn parse_str(text: &str) -> Result<Scenario, ScenarioError> {
    parse(Path::new("q.toml"), text)
}

pub(super) fn error(text: &str) -> ScenarioError {
    parse_str(text).expect_err("the scenario should be refused")
}

pub(super) fn queue_config(text: &str) -> QueueConfig {
    match parse_str(text).unwrap().system {
        System::Queue(c) => c,
        other => panic!("expected the queue system, got {other:?}"),
    }
}

#[test]
fn a_good_queue_file_reads_with_rabbitmq_defaults_filled_in() {
    let s = parse_str(GOOD).unwrap();
    assert_eq!(s.system.name(), "queue");
    let System::Queue(c) = &s.system else {
        panic!("a queue scenario reads as the queue system");
    };
    assert_eq!(c.queue_type, QueueType::Mirrored);
    assert_eq!(c.ha_mode, HaMode::Exactly(2));
    assert_eq!(c.ha_sync_mode, SyncMode::Manual);
    assert_eq!(c.ha_promote_on_shutdown, Promote::WhenSynced);
    assert_eq!(c.partition_handling, PartitionHandling::Ignore);
    assert_eq!(c.publish_mode, PublishMode::Confirm);
    assert_eq!((c.ack, c.prefetch), (AckMode::Manual, 10));
    assert_eq!(
        host_names(&s.system, &s.workload),
        vec!["node-1", "node-2", "node-3", "producer-1", "consumer-1"]
    );
    assert_eq!(dest_names(&s.system), vec!["q0"]);
    assert_eq!(
        s.faults[0].to_string(),
        "at 2s: crash leader of q0, restart after 1s"
    );
    let lines = s.config_lines();
    assert!(lines.contains(&("ha-params".to_string(), "2".to_string())));
}

#[test]
fn rabbitmq_defaults_are_transient_and_unconfirmed() {
    let c = queue_config("name = \"x\"\nsystem = \"queue\"\nexpect = \"loss\"\n");
    assert!(!c.durable && !c.persistent);
    assert_eq!(c.publish_mode, PublishMode::FireAndForget);
    assert_eq!((c.ack, c.prefetch), (AckMode::Manual, 0));
    let q = queue_config(
        "name = \"x\"\nsystem = \"queue\"\nexpect = \"loss\"\n[config]\nqueue_type = \"quorum\"\n",
    );
    assert!(q.durable, "quorum queues are durable");
}

#[test]
fn an_unknown_queue_key_is_located_and_the_allowed_keys_listed() {
    let e = error(&GOOD.replace("prefetch = 10", "prefetch_count = 10"));
    assert_eq!((e.line, e.column), (18, 1));
    assert_eq!(e.key.as_deref(), Some("prefetch_count"));
    assert!(e.message.contains("allowed keys:"), "{}", e.message);
    assert!(e.message.contains("ha-sync-mode"), "{}", e.message);
}

#[test]
fn a_bad_enum_value_says_what_is_allowed() {
    let e = error(&GOOD.replace("ha-mode = \"exactly\"", "ha-mode = \"nodes\""));
    assert_eq!(e.line, 19);
    assert_eq!(e.key.as_deref(), Some("ha-mode"));
    assert!(
        e.message.contains("expected `all` or `exactly`"),
        "{}",
        e.message
    );
    let e = error(&GOOD.replace("publish_mode = \"confirm\"", "publish_mode = \"tx\""));
    assert!(e.message.contains("`transaction`"), "{}", e.message);
}

#[test]
fn ha_params_above_the_node_count_points_at_ha_params() {
    let e = error(&GOOD.replace("ha-params = 2", "ha-params = 4"));
    assert_eq!((e.line, e.column), (20, 13));
    assert_eq!(e.key.as_deref(), Some("ha-params"));
    assert!(
        e.message.contains("between 1 and `nodes` = 3"),
        "{}",
        e.message
    );
    assert!(e.to_string().starts_with("q.toml:20:13: "), "{e}");
}

#[test]
fn exactly_needs_ha_params_and_all_refuses_them() {
    let e = error(&GOOD.replace("ha-params = 2\n", ""));
    assert_eq!(e.key.as_deref(), Some("ha-mode"));
    assert!(e.message.contains("needs `ha-params`"), "{}", e.message);
    let e = error(&GOOD.replace("ha-mode = \"exactly\"", "ha-mode = \"all\""));
    assert_eq!(e.key.as_deref(), Some("ha-params"));
}

#[test]
fn mirroring_keys_are_refused_outside_mirrored_queues() {
    let e = error(&GOOD.replace("queue_type = \"mirrored\"", "queue_type = \"quorum\""));
    assert_eq!(e.key.as_deref(), Some("ha-mode"));
    assert_eq!(e.line, 19);
    assert!(
        e.message.contains("queue_type = \"mirrored\""),
        "{}",
        e.message
    );
}

#[test]
fn a_non_durable_quorum_queue_is_refused() {
    let text = GOOD
        .replace("queue_type = \"mirrored\"", "queue_type = \"quorum\"")
        .replace(
            "ha-mode = \"exactly\"\nha-params = 2\nha-promote-on-failure = \"always\"\n",
            "",
        )
        .replace("durable = true", "durable = false");
    let e = error(&text);
    assert_eq!(e.key.as_deref(), Some("durable"));
    assert_eq!(e.line, 14);
    assert!(e.message.contains("quorum"), "{}", e.message);
}

#[test]
fn the_quorum_group_size_is_checked() {
    let text = GOOD
        .replace("queue_type = \"mirrored\"", "queue_type = \"quorum\"")
        .replace(
            "ha-mode = \"exactly\"\nha-params = 2\nha-promote-on-failure = \"always\"\n",
            "x-quorum-initial-group-size = 5\n",
        );
    let e = error(&text);
    assert_eq!(e.key.as_deref(), Some("x-quorum-initial-group-size"));
    let ok = queue_config(&text.replace("= 5", "= 3"));
    assert_eq!(ok.members(0), vec![1, 2, 3]);
    let e = error(&GOOD.replace(
        "ha-params = 2",
        "ha-params = 2\nx-quorum-initial-group-size = 3",
    ));
    assert_eq!(e.key.as_deref(), Some("x-quorum-initial-group-size"));
}

#[test]
fn settings_without_effect_in_the_chosen_modes_are_refused() {
    let e = error(&GOOD.replace("ack = \"manual\"", "ack = \"auto\""));
    assert_eq!(e.key.as_deref(), Some("prefetch"));
    assert!(e.message.contains("no effect"), "{}", e.message);
    let e = error(&GOOD.replace(
        "publish_mode = \"confirm\"",
        "publish_mode = \"fire-and-forget\"\nretries = 3",
    ));
    assert_eq!(e.key.as_deref(), Some("retries"));
    let e = error(&GOOD.replace(
        "publish_mode = \"confirm\"",
        "publish_mode = \"transaction\"\nmax_outstanding_confirms = 3",
    ));
    assert_eq!(e.key.as_deref(), Some("max_outstanding_confirms"));
}

#[test]
fn partition_handling_modes_read_with_rabbitmq_spelling() {
    let c = queue_config(&GOOD.replace(
        "nodes = 3",
        "nodes = 3\ncluster_partition_handling = \"pause_minority\"",
    ));
    assert_eq!(c.partition_handling, PartitionHandling::PauseMinority);
    let e = error(&GOOD.replace(
        "nodes = 3",
        "nodes = 3\ncluster_partition_handling = \"pause-minority\"",
    ));
    assert_eq!(e.key.as_deref(), Some("cluster_partition_handling"));
    assert!(e.message.contains("`pause_minority`"), "{}", e.message);
}

#[test]
fn queue_faults_name_nodes_and_queues() {
    let e = error(&GOOD.replace("target = \"leader\"", "target = \"broker-1\""));
    assert!(e.message.contains("no host `broker-1`"), "{}", e.message);
    assert!(e.message.contains("node-1"), "{}", e.message);
    let e = error(&GOOD.replace("target = \"leader\"", "target = \"leader\"\npartition = 1"));
    assert_eq!(e.key.as_deref(), Some("partition"));
    let two = parse_str(
        &GOOD
            .replace("nodes = 3", "nodes = 3\nqueues = 2")
            .replace("target = \"leader\"", "target = \"leader\"\npartition = 1"),
    )
    .unwrap();
    assert_eq!(
        two.faults[0].to_string(),
        "at 2s: crash leader of q1, restart after 1s"
    );
}

#[test]
fn the_configuration_label_names_what_decides_survival_and_real_changes_only() {
    let s = parse_str(GOOD).unwrap();
    let label = s.configuration_label();
    assert!(
        label.starts_with("queue · mirrored · confirm · durable+persistent · manual ack"),
        "{label}"
    );
    assert!(!label.contains("confirm_timeout_ms"), "{label}");
    let default = parse_str("name = \"d\"\nsystem = \"queue\"\nexpect = \"loss\"\n").unwrap();
    assert_eq!(
        default.configuration_label(),
        "queue · classic · fire-and-forget · non-durable · manual ack"
    );
}

const LIMITED: &str = r#"
name = "limited"
system = "queue"
expect = "loss"

[workload]
message_bytes = 200

[config]
prefetch = 10
max-length = 50
max-length-bytes = 4000
message-ttl = 1500
expires = 3000
"#;

#[test]
fn length_limits_and_ttls_read_under_rabbitmqs_policy_keys() {
    let c = queue_config(LIMITED);
    assert_eq!(c.limits.max_length, Some(50));
    assert_eq!(c.limits.max_length_bytes, Some(4000));
    assert_eq!(c.limits.overflow, broker_model::queue::Overflow::DropHead);
    assert_eq!(
        c.limits.message_ttl,
        Some(std::time::Duration::from_millis(1500))
    );
    assert_eq!(c.limits.expires, Some(std::time::Duration::from_secs(3)));
    let s = parse_str(LIMITED).unwrap();
    let lines = s.config_lines();
    assert!(lines.contains(&("overflow".to_string(), "drop-head".to_string())));
    assert!(lines.contains(&("message-ttl".to_string(), "1500".to_string())));
    let label = s.configuration_label();
    assert!(label.contains("max-length=50"), "{label}");
    assert!(
        !label.contains("overflow"),
        "drop-head is the default: {label}"
    );
    let unlimited = parse_str(GOOD).unwrap().config_lines();
    assert!(
        !unlimited
            .iter()
            .any(|(k, _)| k == "max-length" || k == "overflow"),
        "limits are listed only when set"
    );
}

#[test]
fn overflow_without_a_length_limit_is_refused_where_it_stands() {
    let e = error(&LIMITED.replace(
        "max-length = 50\nmax-length-bytes = 4000\n",
        "overflow = \"reject-publish\"\n",
    ));
    assert_eq!((e.line, e.column), (11, 12));
    assert_eq!(e.key.as_deref(), Some("overflow"));
    assert!(e.message.contains("`max-length`"), "{}", e.message);
}

#[test]
fn an_unknown_overflow_is_refused_with_the_allowed_values() {
    let e = error(&LIMITED.replace("prefetch = 10", "prefetch = 10\noverflow = \"drop-tail\""));
    assert_eq!(e.key.as_deref(), Some("overflow"));
    assert!(e.message.contains("`reject-publish-dlx`"), "{}", e.message);
}

#[test]
fn a_byte_limit_below_one_message_is_refused_under_drop_head_only() {
    let small = LIMITED.replace("max-length-bytes = 4000", "max-length-bytes = 150");
    let e = error(&small);
    assert_eq!((e.line, e.column), (12, 20));
    assert_eq!(e.key.as_deref(), Some("max-length-bytes"));
    assert!(e.message.contains("`message_bytes` = 200"), "{}", e.message);
    let c = queue_config(&small.replace(
        "prefetch = 10",
        "prefetch = 10\noverflow = \"reject-publish\"",
    ));
    assert_eq!(c.limits.max_length_bytes, Some(150));
}

#[test]
fn zero_and_negative_limits_are_refused_as_rabbitmq_refuses_them() {
    let e = error(&LIMITED.replace("expires = 3000", "expires = 0"));
    assert_eq!(e.key.as_deref(), Some("expires"));
    assert!(e.message.contains("above 0"), "{}", e.message);
    let e = error(&LIMITED.replace("max-length = 50", "max-length = -1"));
    assert_eq!(e.line, 11);
    let e = error(&LIMITED.replace("message-ttl = 1500", "message-ttl = 0"));
    assert_eq!(e.key.as_deref(), Some("message-ttl"));
}

#[test]
fn a_delivery_limit_and_poison_read_on_quorum_queues_and_are_refused_elsewhere() {
    let quorum = GOOD
        .replace("queue_type = \"mirrored\"", "queue_type = \"quorum\"")
        .replace(
            "ha-mode = \"exactly\"\nha-params = 2\nha-promote-on-failure = \"always\"\n",
            "delivery-limit = 3\n",
        )
        .replace("messages = 100", "messages = 100\npoison = 0.05");
    let s = parse_str(&quorum).unwrap();
    assert_eq!(s.workload.poison, 0.05);
    let System::Queue(c) = &s.system else {
        panic!("a queue scenario")
    };
    assert_eq!(c.limits.delivery_limit, Some(3));
    let e = error(&quorum.replace("\"quorum\"", "\"classic\""));
    assert_eq!(e.key.as_deref(), Some("delivery-limit"));
    assert!(e.message.contains("quorum"), "{}", e.message);
    let e = error(&quorum.replace("poison = 0.05", "poison = 1.5"));
    assert_eq!(e.key.as_deref(), Some("poison"));
    assert!(e.message.contains("between 0 and 1"), "{}", e.message);
    let crash = quorum.replace("poison = 0.05", "poison = 0.05\npoison_action = \"crash\"");
    let s = parse_str(&crash).unwrap();
    assert_eq!(s.workload.poison_action, broker_model::PoisonAction::Crash);
    let e = error(&crash.replace("poison = 0.05\n", ""));
    assert_eq!(e.key.as_deref(), Some("poison_action"));
}

#[test]
fn stop_app_stops_a_queue_nodes_application_until_restart_after() {
    let s = parse_str(&GOOD.replace("action = \"crash\"", "action = \"stop_app\"")).unwrap();
    let crate::fault::Action::StopApp {
        target,
        restart_after,
    } = &s.faults[0].action
    else {
        panic!(
            "stop_app reads as an orderly stop: {:?}",
            s.faults[0].action
        );
    };
    assert_eq!(target.to_string(), "leader of q0");
    assert_eq!(*restart_after, Some(std::time::Duration::from_secs(1)));
    assert_eq!(
        s.faults[0].class().as_deref(),
        Some("orderly stop of leader")
    );
}

#[test]
fn stop_app_refuses_a_client_or_a_log_broker() {
    let client = GOOD
        .replace("action = \"crash\"", "action = \"stop_app\"")
        .replace("target = \"leader\"", "target = \"consumer-1\"");
    let e = error(&client);
    assert_eq!((e.line, e.key.as_deref()), (26, Some("target")));
    assert!(e.message.contains("not a queue node"), "{}", e.message);
    let role = GOOD
        .replace("action = \"crash\"", "action = \"stop_app\"")
        .replace("target = \"leader\"", "target = \"producers\"");
    assert!(error(&role).message.contains("not a queue node"));
    let log = "name = \"l\"\nsystem = \"log\"\nexpect = \"loss\"\n[config]\nbrokers = 3\n\
        [[faults]]\nat = \"1s\"\naction = \"stop_app\"\ntarget = \"broker-1\"\n";
    assert!(error(log).message.contains("not a queue node"));
}
