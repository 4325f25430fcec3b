use std::path::Path;
use std::time::Duration;

use broker_model::queue::{
    HaMode, Overflow, PartitionHandling, PublishMode, QueueConfig, QueueType,
};

use super::*;
use crate::scenario::System;

fn read(json: &str, conf: Option<&str>, client: &str) -> Result<Deployment, ReadError> {
    let file = DefinitionsFile::parse(Path::new("definitions.json"), json.to_string())?;
    let conf = conf
        .map(|c| Conf::parse(Path::new("rabbitmq.conf"), c))
        .transpose()?;
    let client = ClientFile::parse(Path::new("client.toml"), client.to_string())?;
    deployment(&file, conf.as_ref(), &client, None, &[])
}

fn queue(d: &Deployment, i: usize) -> &QueueConfig {
    match &d.targets[i].system {
        System::Queue(c) => c,
        System::Log(_) => panic!("not a queue"),
    }
}

fn origin_of(d: &Deployment, key: &str) -> Origin {
    d.targets[0]
        .settings
        .iter()
        .find(|s| s.key == key)
        .unwrap_or_else(|| panic!("no setting {key}"))
        .origin
        .clone()
}

fn defs(queues: &str, policies: &str) -> String {
    format!("{{\n\"policies\": {policies},\n\"queues\": {queues}\n}}")
}

#[test]
fn a_silent_definitions_file_gets_rabbitmqs_and_the_protocols_defaults() {
    let d = read(&defs(r#"[{"name":"jobs","arguments":{}}]"#, "[]"), None, "").unwrap();
    let c = queue(&d, 0);
    assert_eq!(c.queue_type, QueueType::Classic);
    assert!(!c.durable && !c.persistent);
    assert_eq!(c.publish_mode, PublishMode::FireAndForget);
    assert_eq!(c.partition_handling, PartitionHandling::Ignore);
    assert_eq!(c.heartbeat, Duration::from_millis(600));
    assert_eq!(origin_of(&d, "durable"), Origin::Default("AMQP 0-9-1"));
    assert_eq!(
        origin_of(&d, "x-queue-type"),
        Origin::Default("RabbitMQ 4.0")
    );
    assert_eq!(d.targets[0].name, "jobs");
}

#[test]
fn a_quorum_queue_gets_the_default_delivery_limit_of_rabbitmq_4() {
    let q = r#"[{"name":"q","durable":true,"arguments":{"x-queue-type":"quorum"}}]"#;
    let d = read(&defs(q, "[]"), None, "").unwrap();
    assert_eq!(queue(&d, 0).limits.delivery_limit, Some(20));
    assert_eq!(queue(&d, 0).quorum_group_size, Some(3));
    let q = r#"[{"name":"q","durable":true,"arguments":{"x-queue-type":"quorum","x-delivery-limit":-1}}]"#;
    let d = read(&defs(q, "[]"), None, "").unwrap();
    assert_eq!(queue(&d, 0).limits.delivery_limit, None);
}

#[test]
fn the_lesser_of_a_queue_argument_and_a_policy_limit_applies() {
    let q = r#"[{"name":"q","arguments":{"x-max-length":50,"x-message-ttl":60000}}]"#;
    let p = r#"[{"name":"p","pattern":".","definition":{"max-length":100,"message-ttl":1000}}]"#;
    let d = read(&defs(q, p), None, "").unwrap();
    assert_eq!(queue(&d, 0).limits.max_length, Some(50));
    assert_eq!(
        queue(&d, 0).limits.message_ttl,
        Some(Duration::from_millis(10))
    );
    assert!(matches!(
        origin_of(&d, "x-max-length"),
        Origin::QueueArgument { .. }
    ));
    assert_eq!(origin_of(&d, "message-ttl"), Origin::Policy("p".into()));
}

#[test]
fn overflow_comes_from_the_argument_on_classic_queues_and_the_policy_on_quorum_queues() {
    let p = r#"[{"name":"p","pattern":".","definition":{"max-length":10,"overflow":"reject-publish"}}]"#;
    let classic = r#"[{"name":"q","arguments":{"x-overflow":"drop-head"}}]"#;
    let d = read(&defs(classic, p), None, "").unwrap();
    assert_eq!(queue(&d, 0).limits.overflow, Overflow::DropHead);
    let quorum = r#"[{"name":"q","durable":true,"arguments":{"x-queue-type":"quorum","x-overflow":"drop-head"}}]"#;
    let d = read(&defs(quorum, p), None, "").unwrap();
    assert_eq!(queue(&d, 0).limits.overflow, Overflow::RejectPublish);
}

#[test]
fn an_operator_policy_caps_the_users_policy() {
    let json = r#"{
"queues": [{"name":"q","arguments":{}}],
"policies": [{"name":"user","pattern":".","definition":{"max-length":1000},"priority":1}],
"operator_policies": [{"name":"ops","pattern":".","definition":{"max-length":10}}]
}"#;
    let d = read(json, None, "").unwrap();
    assert_eq!(queue(&d, 0).limits.max_length, Some(10));
    assert_eq!(
        origin_of(&d, "max-length"),
        Origin::OperatorPolicy("ops".into())
    );
}

#[test]
fn an_ha_policy_makes_a_classic_queue_mirrored() {
    let p = r#"[{"name":"ha-two","pattern":"^ha\\.","definition":{"ha-mode":"exactly","ha-params":2,"ha-sync-mode":"automatic"}}]"#;
    let q = r#"[{"name":"ha.orders","durable":true,"arguments":{}},{"name":"plain","durable":true,"arguments":{}}]"#;
    let d = read(&defs(q, p), None, "").unwrap();
    assert_eq!(d.targets.len(), 2);
    assert_eq!(queue(&d, 0).queue_type, QueueType::Mirrored);
    assert_eq!(queue(&d, 0).ha_mode, HaMode::Exactly(2));
    assert_eq!(queue(&d, 1).queue_type, QueueType::Classic);
}

#[test]
fn queues_with_one_effective_configuration_make_one_target() {
    let q = r#"[{"name":"a","arguments":{}},{"name":"b","arguments":{}},{"name":"c","durable":true,"arguments":{}}]"#;
    let d = read(&defs(q, "[]"), None, "").unwrap();
    assert_eq!(d.targets.len(), 2);
    assert_eq!(d.targets[0].name, "a, b");
    assert_eq!(queue(&d, 0).queues, 2);
    assert_eq!(d.targets[1].name, "c");
}

#[test]
fn a_value_rabbitmq_refuses_names_its_line_and_key() {
    let q = "[{\"name\":\"a\",\n\"arguments\":{\n\"x-max-length\": -5}}]";
    let e = read(&defs(q, "[]"), None, "").unwrap_err();
    assert_eq!(e.path, Path::new("definitions.json"));
    assert_eq!(e.line, Some(5));
    assert_eq!(e.key.as_deref(), Some("x-max-length"));
}

#[test]
fn a_non_durable_quorum_queue_is_refused() {
    let q = "[{\"name\":\"a\",\n\"durable\": false,\n\"arguments\":{\"x-queue-type\":\"quorum\"}}]";
    let e = read(&defs(q, "[]"), None, "").unwrap_err();
    assert_eq!((e.line, e.key.as_deref()), (Some(4), Some("durable")));
}

#[test]
fn the_conf_sets_partition_handling_and_the_node_list() {
    let conf = "cluster_partition_handling = autoheal\n\
                cluster_formation.classic_config.nodes.1 = rabbit@a\n\
                cluster_formation.classic_config.nodes.2 = rabbit@b\n\
                cluster_formation.classic_config.nodes.3 = rabbit@c\n\
                cluster_formation.classic_config.nodes.4 = rabbit@d\n\
                cluster_formation.classic_config.nodes.5 = rabbit@e\n";
    let d = read(
        &defs(r#"[{"name":"a","arguments":{}}]"#, "[]"),
        Some(conf),
        "",
    )
    .unwrap();
    assert_eq!(queue(&d, 0).partition_handling, PartitionHandling::Autoheal);
    assert_eq!(queue(&d, 0).nodes, 5);
    let e = read(
        &defs(r#"[{"name":"a","arguments":{}}]"#, "[]"),
        Some("cluster_partition_handling = pause_if_all_down\n"),
        "",
    )
    .unwrap_err();
    assert_eq!(
        (e.line, e.key.as_deref()),
        (Some(1), Some("cluster_partition_handling"))
    );
}

#[test]
fn bindings_and_the_dead_letter_routing_key_follow_the_queues_new_names() {
    let json = r#"{
"queues": [{"name":"work","durable":true,"arguments":{"x-dead-letter-exchange":"","x-dead-letter-routing-key":"work"}}],
"exchanges": [{"name":"jobs","type":"topic","arguments":{"alternate-exchange":"lost"}},
              {"name":"lost","type":"fanout","arguments":{}},
              {"name":"unused","type":"headers","arguments":{}}],
"bindings": [{"source":"jobs","destination":"work","destination_type":"queue","routing_key":"job.#"},
             {"source":"lost","destination":"work","destination_type":"queue","routing_key":""}]
}"#;
    let client = "publish_mode = \"confirm\"\nexchange = \"jobs\"\nrouting_keys = [\"job.new\"]\nmandatory = true\n";
    let d = read(json, None, client).unwrap();
    let t = &queue(&d, 0).topology;
    assert_eq!(t.bindings.len(), 2);
    assert_eq!(t.bindings[0].queue, 0);
    assert_eq!(
        t.exchange("jobs").unwrap().alternate_exchange.as_deref(),
        Some("lost")
    );
    assert!(t.exchange("unused").is_none());
    assert_eq!(
        queue(&d, 0).dead_lettering.routing_key.as_deref(),
        Some("q0")
    );
}

#[test]
fn unknown_sections_arguments_and_policy_keys_are_listed_not_modelled() {
    let json = r#"{
"users": [],
"queues": [{"name":"a","arguments":{"x-single-active-consumer":true}}],
"policies": [{"name":"p","pattern":".","definition":{"queue-version":2}}]
}"#;
    let d = read(json, None, "").unwrap();
    let keys: Vec<&str> = d.not_modelled.iter().map(|n| n.key.as_str()).collect();
    assert_eq!(
        keys,
        vec!["users", "x-single-active-consumer", "queue-version"]
    );
}

#[test]
fn prefetch_with_automatic_acknowledgements_is_refused_in_the_client_file() {
    let e = read(
        &defs(r#"[{"name":"a","arguments":{}}]"#, "[]"),
        None,
        "ack = \"auto\"\nprefetch = 10\n",
    )
    .unwrap_err();
    assert_eq!(e.path, Path::new("client.toml"));
    assert_eq!((e.line, e.key.as_deref()), (Some(2), Some("prefetch")));
}

#[test]
fn a_vhosts_default_queue_type_makes_its_queues_quorum_queues() {
    let json = r#"{
"vhosts": [{"name":"/","metadata":{"default_queue_type":"quorum"}}],
"queues": [{"name":"a","durable":true,"arguments":{}},
           {"name":"b","durable":true,"arguments":{"x-queue-type":"classic"}}]
}"#;
    let d = read(json, None, "").unwrap();
    assert_eq!(queue(&d, 0).queue_type, QueueType::Quorum);
    assert_eq!(
        origin_of(&d, "x-queue-type"),
        Origin::File {
            path: "definitions.json".into(),
            line: 2
        }
    );
    assert_eq!(queue(&d, 1).queue_type, QueueType::Classic);
    let conf = "default_queue_type = quorum\n";
    let d = read(
        &defs(r#"[{"name":"a","durable":true,"arguments":{}}]"#, "[]"),
        Some(conf),
        "",
    )
    .unwrap();
    assert_eq!(queue(&d, 0).queue_type, QueueType::Quorum);
}

#[test]
fn queue_selects_the_queues_to_audit_and_an_unknown_one_is_refused() {
    let json = defs(
        r#"[{"name":"a","arguments":{}},{"name":"b","durable":true,"arguments":{}}]"#,
        "[]",
    );
    let file = DefinitionsFile::parse(Path::new("definitions.json"), json).unwrap();
    let client = ClientFile::absent(Path::new("client.toml"));
    let d = deployment(&file, None, &client, Some(5), &["b".to_string()]).unwrap();
    assert_eq!(d.targets.len(), 1);
    assert_eq!(d.targets[0].name, "b");
    assert_eq!(queue(&d, 0).nodes, 5);
    let e = deployment(&file, None, &client, None, &["c".to_string()]).unwrap_err();
    assert!(e.message.contains("no queue `c`"), "{e}");
}
