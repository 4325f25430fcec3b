use std::path::Path;
use std::time::Duration;

use super::*;
use crate::fault::trigger::Condition;

const GOOD: &str = r#"
name = "acks1"
system = "log"
expect = "loss"
seeds = 3
duration = "8s"

[workload]
messages = 100
rate = 50

[config]
"replication.factor" = 3
"min.insync.replicas" = 2
acks = 1

[[faults]]
at = "2s"
action = "crash"
target = "leader"
restart_after = "3s"
"#;

fn parse_str(text: &str) -> Result<Scenario, ScenarioError> {
    parse(Path::new("s.toml"), text)
}

fn error(text: &str) -> ScenarioError {
    parse_str(text).expect_err("the scenario should be refused")
}

#[test]
fn a_good_file_reads_with_defaults_filled_in() {
    let s = parse_str(GOOD).unwrap();
    assert_eq!(s.name, "acks1");
    assert_eq!(s.seeds, vec![1, 2, 3]);
    assert_eq!(s.duration, Duration::from_secs(8));
    let System::Log(c) = &s.system else {
        panic!("a log scenario reads as the log system");
    };
    assert_eq!(c.acks, broker_model::log::Acks::Leader);
    assert_eq!(c.min_insync_replicas, 2);
    assert_eq!(c.brokers, 3);
    assert_eq!(s.workload.messages, 100);
    assert_eq!(s.faults.len(), 1);
    assert_eq!(
        s.faults[0].to_string(),
        "at 2s: crash leader of p0, restart after 3s"
    );
}

#[test]
fn an_unknown_config_key_is_located_and_the_allowed_keys_listed() {
    let e = error(&GOOD.replace("acks = 1", "ack = 1"));
    assert_eq!((e.line, e.column), (15, 1));
    assert_eq!(e.key.as_deref(), Some("ack"));
    assert!(
        e.message.starts_with("unknown key `ack`; allowed keys:"),
        "{}",
        e.message
    );
    assert!(e.message.contains("min.insync.replicas"), "{}", e.message);
    assert!(e.to_string().starts_with("s.toml:15:1: "), "{e}");
}

#[test]
fn an_unknown_top_level_key_is_refused() {
    let e = error(&GOOD.replace("duration = \"8s\"", "durration = \"8s\""));
    assert_eq!(e.line, 6);
    assert_eq!(e.key.as_deref(), Some("durration"));
}

#[test]
fn a_bad_acks_value_says_what_is_allowed() {
    let e = error(&GOOD.replace("acks = 1", "acks = 2"));
    assert_eq!(e.line, 15);
    assert_eq!(e.key.as_deref(), Some("acks"));
    assert!(e.message.contains("0, 1, \"all\" or -1"), "{}", e.message);
}

#[test]
fn min_insync_above_replication_factor_points_at_min_insync() {
    let e = error(&GOOD.replace("\"min.insync.replicas\" = 2", "\"min.insync.replicas\" = 4"));
    assert_eq!((e.line, e.column), (14, 25));
    assert_eq!(e.key.as_deref(), Some("min.insync.replicas"));
    assert!(e.message.contains("between 1 and `replication.factor` = 3"));
}

#[test]
fn a_key_that_does_not_fit_the_action_is_refused() {
    let e = error(&GOOD.replace("restart_after = \"3s\"", "rate = 0.5"));
    assert_eq!(e.line, 21);
    assert_eq!(e.key.as_deref(), Some("rate"));
    assert!(e
        .message
        .contains("it takes: at, when, after, times, action, target, partition, restart_after"));
}

#[test]
fn a_missing_required_key_is_named() {
    let e = error(&GOOD.replace("target = \"leader\"\n", ""));
    assert_eq!(e.key.as_deref(), Some("target"));
    assert!(e.message.contains("action `crash` needs `target`"));
}

#[test]
fn an_unknown_host_or_role_is_refused() {
    let e = error(&GOOD.replace("target = \"leader\"", "target = \"broker-7\""));
    assert!(e.message.contains("no host `broker-7`"), "{}", e.message);
    let e = error(&GOOD.replace("target = \"leader\"", "target = \"boss\""));
    assert!(e.message.contains("any-broker"), "{}", e.message);
}

#[test]
fn a_bad_duration_is_explained() {
    let e = error(&GOOD.replace("at = \"2s\"", "at = \"soon\""));
    assert_eq!(e.line, 18);
    assert_eq!(e.key.as_deref(), Some("at"));
    assert!(e.message.contains("500ms"), "{}", e.message);
}

#[test]
fn the_drain_follows_the_backlog_unless_a_deadline_is_given() {
    let with = |line: &str| {
        parse_str(&GOOD.replace("duration = \"8s\"", &format!("duration = \"8s\"\n{line}")))
            .unwrap()
            .drain
    };
    assert_eq!(parse_str(GOOD).unwrap().drain, Drain::FollowBacklog);
    assert_eq!(with("drain = \"auto\""), Drain::FollowBacklog);
    assert_eq!(
        with("drain = \"12s\""),
        Drain::Fixed(Duration::from_secs(12))
    );
    assert_eq!(
        with("drain = 1500"),
        Drain::Fixed(Duration::from_millis(1500))
    );
}

#[test]
fn a_bad_drain_is_located_and_says_what_is_allowed() {
    let e = error(&GOOD.replace(
        "duration = \"8s\"",
        "duration = \"8s\"\ndrain = \"forever\"",
    ));
    assert_eq!((e.line, e.column), (7, 9), "{e}");
    assert_eq!(e.key.as_deref(), Some("drain"));
    assert!(
        e.message.contains("\"auto\"") && e.message.contains("\"30s\""),
        "{}",
        e.message
    );
    assert!(e.to_string().starts_with("s.toml:7:9: "), "{e}");
}

#[test]
fn system_and_expect_must_be_known() {
    let e = error(&GOOD.replace("system = \"log\"", "system = \"pulsar\""));
    assert!(e.message.contains("allowed: `log`"));
    assert_eq!(e.line, 3);
    let e = error(&GOOD.replace("expect = \"loss\"", "expect = \"maybe\""));
    assert!(e.message.contains("no-loss"), "{}", e.message);
    let e = error(&GOOD.replace("system = \"log\"\n", ""));
    assert!(e.message.contains("missing key `system`"));
}

#[test]
fn broken_toml_is_located() {
    let e = error("name = \"x\"\nsystem = \"log\"\nexpect = \n");
    assert_eq!(e.line, 3);
}

#[test]
fn a_partition_beyond_the_topic_is_refused() {
    let e = error(&GOOD.replace("target = \"leader\"", "target = \"leader\"\npartition = 1"));
    assert_eq!(e.key.as_deref(), Some("partition"));
}

#[test]
fn a_triggered_fault_reads_its_condition_delay_and_count() {
    let s = parse_str(&GOOD.replace(
        "at = \"2s\"",
        "when = \"leader_ahead_of_followers\"\nafter = \"5ms\"\ntimes = 2",
    ))
    .unwrap();
    let t = s.faults[0].trigger.as_ref().unwrap();
    assert_eq!(t.condition, Condition::LeaderAheadOfFollowers);
    assert_eq!((t.after, t.times), (Duration::from_millis(5), 2));
    assert_eq!(
        s.faults[0].to_string(),
        "when leader_ahead_of_followers of p0 + 5ms (up to 2 times): crash leader of p0, restart after 3s"
    );
}

#[test]
fn trigger_keys_need_a_condition_and_a_fault_needs_a_start() {
    let e = error(&GOOD.replace("at = \"2s\"", "at = \"2s\"\ntimes = 2"));
    assert_eq!(e.key.as_deref(), Some("times"));
    assert!(e.message.contains("only applies to a fault with `when`"));
    let e = error(&GOOD.replace("at = \"2s\"\n", ""));
    assert!(
        e.message.contains("needs `at` (a time) or `when`"),
        "{}",
        e.message
    );
    let e = error(&GOOD.replace("at = \"2s\"", "when = \"soon\""));
    assert_eq!(e.key.as_deref(), Some("when"));
    assert!(e.message.contains("leader_ahead_of_followers"));
}

#[test]
fn the_configuration_label_names_what_decides_survival_and_every_other_change() {
    let s = parse_str(GOOD).unwrap();
    assert_eq!(
        s.configuration_label(),
        "log · acks=1 · RF=3 · min.insync=2 · no fsync · auto-commit"
    );
    let tuned = GOOD.replace(
        "acks = 1",
        "acks = \"all\"\n\"log.flush.interval.messages\" = 1\n\"enable.auto.commit\" = false\n\"enable.idempotence\" = true",
    );
    assert_eq!(
        parse_str(&tuned).unwrap().configuration_label(),
        "log · acks=all · RF=3 · min.insync=2 · fsync every message · manual commit · enable.idempotence=true"
    );
}

#[test]
fn a_retention_limit_below_minus_one_is_refused_at_its_value() {
    let e = error(&GOOD.replace("acks = 1", "acks = 1\n\"retention.ms\" = -2"));
    assert_eq!((e.line, e.column), (16, 18), "{e}");
    assert_eq!(e.key.as_deref(), Some("retention.ms"));
    assert!(e.message.contains("-1 (no limit) or at least 0"), "{e}");
}

#[test]
fn a_writeback_sysctl_beyond_a_linux_int_is_refused() {
    let e = error(&GOOD.replace(
        "acks = 1",
        "acks = 1\n\"vm.dirty_writeback_centisecs\" = 3000000000",
    ));
    assert_eq!(e.line, 16, "{e}");
    assert_eq!(e.key.as_deref(), Some("vm.dirty_writeback_centisecs"));
    assert!(e.message.contains("2147483647"), "{e}");
}

#[test]
fn eligible_leader_replicas_take_feature_level_0_or_1_and_show_once_on() {
    use broker_model::log::EligibleLeaderReplicas;
    let on = GOOD.replace(
        "acks = 1",
        "acks = 1\n\"eligible.leader.replicas.version\" = 1",
    );
    let s = parse_str(&on).unwrap();
    let System::Log(c) = &s.system else {
        panic!("a log scenario")
    };
    assert_eq!(c.eligible_leader_replicas, EligibleLeaderReplicas::Enabled);
    assert!(s
        .configuration_label()
        .ends_with(" · eligible.leader.replicas.version=1"));
    assert!(s
        .config_lines()
        .contains(&("eligible.leader.replicas.version".into(), "1".into())));
    let off = parse_str(&on.replace("version\" = 1", "version\" = 0")).unwrap();
    assert!(!off
        .config_lines()
        .iter()
        .any(|(k, _)| k == "eligible.leader.replicas.version"));
    let e = error(&on.replace("version\" = 1", "version\" = 2"));
    assert_eq!((e.line, e.column), (16, 38), "{e}");
    assert_eq!(e.key.as_deref(), Some("eligible.leader.replicas.version"));
    assert!(e.message.contains("0 (off) or 1"), "{e}");
}

#[test]
fn group_keys_read_with_subscribe_and_are_refused_without_it() {
    let group = "acks = 1\nsubscription = \"subscribe\"\n\"partition.assignment.strategy\" = \"roundrobin\"\n\"session.timeout.ms\" = 900\n\"commit.on.revoke\" = true\n\"enable.auto.commit\" = false\ncommit = \"before-processing\"";
    let s = parse_str(&GOOD.replace("acks = 1", group)).unwrap();
    let System::Log(c) = &s.system else {
        panic!("a log scenario")
    };
    assert_eq!(c.subscription, broker_model::log::Subscription::Subscribe);
    assert_eq!(
        c.group.strategy,
        broker_model::log::AssignmentStrategy::RoundRobin
    );
    assert_eq!(c.group.session_timeout, Duration::from_millis(900));
    assert!(c.group.commit_on_revoke);
    assert_eq!(c.commit, broker_model::log::CommitPolicy::BeforeProcessing);
    let lines = s.config_lines();
    assert!(lines.contains(&("commit".into(), "before-processing".into())));
    assert!(lines.contains(&("max.poll.interval.ms".into(), "3000".into())));
    let label = s.configuration_label();
    for shown in [
        "subscription=subscribe",
        "partition.assignment.strategy=roundrobin",
        "session.timeout.ms=900",
        "commit=before-processing",
    ] {
        assert!(label.contains(shown), "{label}");
    }
    assert!(!label.contains("max.poll.interval.ms"), "{label}");

    let e = error(&GOOD.replace("acks = 1", "acks = 1\n\"session.timeout.ms\" = 900"));
    assert_eq!((e.line, e.column), (16, 24), "{e}");
    assert_eq!(e.key.as_deref(), Some("session.timeout.ms"));
    assert!(e.message.contains("subscription = \"subscribe\""), "{e}");
}

#[test]
fn impossible_consumer_settings_are_refused_at_their_key() {
    let sub = "acks = 1\nsubscription = \"subscribe\"\n";
    let cases = [
        (
            format!("{sub}\"heartbeat.interval.ms\" = 500"),
            "heartbeat.interval.ms",
            "lower than `session.timeout.ms`",
        ),
        (
            "acks = 1\ncommit = \"before-processing\"".into(),
            "commit",
            "`enable.auto.commit = false`",
        ),
    ];
    for (config, key, says) in cases {
        let e = error(&GOOD.replace("acks = 1", &config));
        assert_eq!(e.key.as_deref(), Some(key), "{e}");
        assert!(e.line >= 16, "{e}");
        assert!(e.message.contains(says), "{e}");
    }
}

#[test]
fn poison_messages_are_refused_for_the_log_model() {
    let e = error(&GOOD.replace("rate = 50", "rate = 50\npoison = 0.1"));
    assert_eq!(e.key.as_deref(), Some("poison"));
    assert_eq!(e.line, 11);
    assert!(e.message.contains("queue"), "{}", e.message);
}

#[test]
fn group_offsets_set_before_deployment_read_and_write_back() {
    use broker_model::log::GroupOffsets;
    let text = GOOD.replace("acks = 1", "acks = 1\ngroup_offsets = \"to-earliest\"");
    let s = parse_str(&text).unwrap();
    let System::Log(c) = &s.system else {
        panic!("a log scenario")
    };
    assert_eq!(c.group_offsets, GroupOffsets::ToEarliest);
    assert_eq!(parse_str(&writer::write(&s)).unwrap().system, s.system);

    let e = error(&GOOD.replace("acks = 1", "acks = 1\ngroup_offsets = \"earliest\""));
    assert_eq!(e.key.as_deref(), Some("group_offsets"), "{e}");
    assert!(e.message.contains("to-earliest"), "{}", e.message);
}
