//! `harness::audit::audit` on deployments built in Rust and on the files
//! of `examples/`: what it finds, which cures it verifies, the reproducers
//! it writes, and the command's exit status; `probes` holds the audit's
//! fixed probes to the guarantee matrix.

mod probes;

use std::path::PathBuf;
use std::process::Command;

use broker_model::log::{Acks, LogConfig, OffsetReset};
use broker_model::queue::{AckMode, PublishMode, QueueConfig};
use broker_model::Workload;
use harness::audit::{
    audit, AuditOptions, AuditReport, Deployment, Origin, Target, TargetSetting, TimeScale,
};
use harness::guarantees::FaultClass;
use harness::scenario::{self, System};
use reports::Verdict;

fn deployment(name: &str, system: System, settings: &[(&str, &str)]) -> Deployment {
    Deployment {
        targets: vec![Target {
            name: name.into(),
            system,
            workload: Workload::default(),
            settings: settings
                .iter()
                .map(|(k, v)| TargetSetting {
                    key: k.to_string(),
                    value: v.to_string(),
                    origin: Origin::File {
                        path: "server.properties".into(),
                        line: 1,
                    },
                })
                .collect(),
        }],
        not_modelled: Vec::new(),
        time_scale: TimeScale { factor: 1.0 },
    }
}

fn options(classes: &[FaultClass], seeds: u64) -> AuditOptions {
    AuditOptions {
        seeds,
        classes: classes.to_vec(),
        shrink_budget: 8,
        reproducers: None,
    }
}

fn verified(report: &AuditReport, class: FaultClass) -> Vec<String> {
    report.targets[0]
        .classes
        .iter()
        .filter(|c| c.fault_class == class.name())
        .flat_map(|c| c.cures.iter().filter(|k| k.verified))
        .map(|k| k.setting.clone())
        .collect()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mqsim-audit-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

#[test]
fn an_unsafe_producer_and_consumer_lose_and_acks_and_manual_commit_cure_them() {
    let system = System::Log(LogConfig {
        acks: Acks::Leader,
        enable_auto_commit: true,
        ..LogConfig::default()
    });
    let d = deployment(
        "orders",
        system,
        &[("acks", "1"), ("enable.auto.commit", "true")],
    );
    let classes = [FaultClass::LeaderCrashBeforeSync, FaultClass::ConsumerCrash];
    let report = audit(&d, &options(&classes, 2), &|_| {}).unwrap();
    assert!(report.loses());
    let found: Vec<&str> = report
        .findings()
        .map(|(_, c)| c.fault_class.as_str())
        .collect();
    assert_eq!(
        found,
        ["leader crash before sync", "consumer crash before ack"]
    );
    let acks = verified(&report, FaultClass::LeaderCrashBeforeSync);
    assert!(acks.contains(&"acks".to_string()), "{acks:?}");
    let commit = verified(&report, FaultClass::ConsumerCrash);
    assert!(
        commit.contains(&"enable.auto.commit".to_string()),
        "{commit:?}"
    );
    let (_, finding) = report.findings().next().unwrap();
    let cure = finding.cures.iter().find(|c| c.setting == "acks").unwrap();
    assert_eq!((cure.from.as_str(), cure.to.as_str()), ("1", "all"));
    assert!(cure.throughput_change.is_some() && cure.latency_change.is_some());
    assert!(finding.evidence.as_ref().is_some_and(|e| e.totals.lost > 0));
    let page = reports::html::audit::render(&report);
    assert!(
        page.contains("Lifecycle of lost message"),
        "no timeline drawn"
    );
}

#[test]
fn a_safe_log_configuration_loses_nothing_under_any_class() {
    let system = System::Log(LogConfig {
        replication_factor: 3,
        min_insync_replicas: 2,
        acks: Acks::All,
        enable_idempotence: true,
        flush_interval_messages: Some(1),
        enable_auto_commit: false,
        auto_offset_reset: OffsetReset::Earliest,
        ..LogConfig::default()
    });
    let d = deployment("payments", system, &[]);
    let report = audit(&d, &options(&FaultClass::ALL, 1), &|_| {}).unwrap();
    assert!(!report.loses());
    let classes = &report.targets[0].classes;
    assert!(classes.len() >= 10, "{} classes run", classes.len());
    for c in classes {
        assert_eq!(c.verdict, Verdict::NoLoss, "{}", c.fault_class);
        assert!(c.cures.is_empty());
    }
}

#[test]
fn a_non_durable_queue_is_cured_by_durable_and_its_reproducer_replays() {
    let system = System::Queue(QueueConfig {
        durable: false,
        persistent: true,
        publish_mode: PublishMode::Confirm,
        ack: AckMode::Manual,
        prefetch: 10,
        ..QueueConfig::default()
    });
    let d = deployment("invoices", system, &[("durable", "false")]);
    let dir = scratch("durable");
    let mut o = options(&[FaultClass::BrokerCrash], 2);
    o.reproducers = Some(dir.clone());
    let report = audit(&d, &o, &|_| {}).unwrap();
    assert!(report.loses());
    let cures = verified(&report, FaultClass::BrokerCrash);
    assert!(cures.contains(&"durable".to_string()), "{cures:?}");

    let (_, finding) = report.findings().next().unwrap();
    let r = finding.reproducer.as_ref().expect("a reproducer");
    let file = PathBuf::from(&r.file);
    let s = scenario::load(&file).unwrap();
    let replay = harness::runner::run(&s, r.seed).unwrap();
    assert_eq!(replay.analysis.counts.lost, r.lost);
    let out = Command::new(env!("CARGO_BIN_EXE_mqsim"))
        .args(["run", &r.file, "--seed", &r.seed.to_string(), "--no-shrink"])
        .arg("--out")
        .arg(dir.join("report"))
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains(" loss "));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_report_is_the_same_whatever_the_number_of_threads() {
    let system = System::Log(LogConfig {
        acks: Acks::Leader,
        ..LogConfig::default()
    });
    let d = deployment("t", system, &[]);
    let o = options(&[FaultClass::LeaderCrashBeforeSync], 2);
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap()
        .install(|| audit(&d, &o, &|_| {}).unwrap());
    let many = audit(&d, &o, &|_| {}).unwrap();
    assert_eq!(one, many);
}

#[test]
fn files_that_cannot_be_read_exit_2() {
    let dir = scratch("cli");
    std::fs::create_dir_all(&dir).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mqsim"))
        .args([
            "audit",
            "kafka",
            "--broker",
            "server.properties",
            "--producer",
            "producer.properties",
            "--consumer",
            "consumer.properties",
            "--seeds",
            "1",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("error: "));
    assert!(
        !dir.join("audit").exists(),
        "nothing is written for bad input"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

fn example(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(path)
}

/// Every verified cure's settings, a combined cure's split apart.
fn verified_settings(report: &AuditReport) -> Vec<String> {
    report
        .targets
        .iter()
        .flat_map(|t| &t.classes)
        .flat_map(|c| c.cures.iter().filter(|k| k.verified))
        .flat_map(|k| k.setting.split(" + ").map(str::to_string))
        .collect()
}

#[test]
fn the_unsafe_kafka_example_loses_and_acks_and_auto_commit_are_among_its_verified_cures() {
    let d = harness::audit::read_kafka(&harness::audit::KafkaFiles {
        broker: example("kafka/unsafe/server.properties"),
        producer: Some(example("kafka/unsafe/producer.properties")),
        consumer: Some(example("kafka/unsafe/consumer.properties")),
        ..Default::default()
    })
    .unwrap();
    let classes = [FaultClass::LeaderCrashBeforeSync, FaultClass::ConsumerCrash];
    let report = audit(&d, &options(&classes, 1), &|_| {}).unwrap();
    assert!(report.loses());
    let cures = verified_settings(&report);
    assert!(cures.iter().any(|s| s == "acks"), "{cures:?}");
    assert!(cures.iter().any(|s| s == "enable.auto.commit"), "{cures:?}");
}

#[test]
fn the_safe_examples_lose_nothing_under_any_class() {
    let kafka = harness::audit::read_kafka(&harness::audit::KafkaFiles {
        broker: example("kafka/safe/server.properties"),
        topic: Some(example("kafka/safe/orders.properties")),
        producer: Some(example("kafka/safe/producer.properties")),
        consumer: Some(example("kafka/safe/consumer.properties")),
        ..Default::default()
    })
    .unwrap();
    let rabbitmq = harness::audit::read_rabbitmq(&harness::audit::RabbitFiles {
        definitions: example("rabbitmq/safe/definitions.json"),
        conf: Some(example("rabbitmq/safe/rabbitmq.conf")),
        client: Some(example("rabbitmq/safe/client.toml")),
        ..Default::default()
    })
    .unwrap();
    for d in [kafka, rabbitmq] {
        let report = audit(&d, &options(FaultClass::ALL.as_slice(), 1), &|_| {}).unwrap();
        assert!(!report.loses(), "{}", report.targets[0].name);
        assert!(report.targets[0].classes.len() >= 8, "the classes ran");
    }
}

#[test]
fn the_unsafe_rabbitmq_example_loses_to_a_consumer_crash_and_manual_acks_cure_it() {
    let d = harness::audit::read_rabbitmq(&harness::audit::RabbitFiles {
        definitions: example("rabbitmq/unsafe/definitions.json"),
        conf: Some(example("rabbitmq/unsafe/rabbitmq.conf")),
        client: Some(example("rabbitmq/unsafe/client.toml")),
        ..Default::default()
    })
    .unwrap();
    let report = audit(&d, &options(&[FaultClass::ConsumerCrash], 1), &|_| {}).unwrap();
    assert!(report.loses());
    assert_eq!(verified(&report, FaultClass::ConsumerCrash), ["ack"]);
}

#[test]
fn a_value_kafka_refuses_exits_2_naming_the_file_line_and_key() {
    let dir = scratch("refused");
    std::fs::create_dir_all(&dir).unwrap();
    for name in ["server.properties", "consumer.properties"] {
        std::fs::copy(example(&format!("kafka/unsafe/{name}")), dir.join(name)).unwrap();
    }
    std::fs::write(dir.join("producer.properties"), "# producer\nacks=2\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_mqsim"))
        .args([
            "audit",
            "kafka",
            "--broker",
            "server.properties",
            "--producer",
            "producer.properties",
            "--consumer",
            "consumer.properties",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("producer.properties:2"), "{stderr}");
    assert!(stderr.contains("acks"), "{stderr}");
    std::fs::remove_dir_all(dir).unwrap();
}

/// `mqsim audit <system>` with each file given by its flag.
fn audit_command(system: &str, files: &[(&str, PathBuf)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mqsim"));
    command.args(["audit", system]);
    for (flag, path) in files {
        command.arg(flag).arg(path);
    }
    command
}

#[test]
fn the_command_exits_0_for_the_safe_kafka_example_and_writes_its_outputs() {
    let dir = scratch("safe-cli");
    let file = |name: &str| example(&format!("kafka/safe/{name}"));
    let out = audit_command(
        "kafka",
        &[
            ("--broker", file("server.properties")),
            ("--topic", file("orders.properties")),
            ("--producer", file("producer.properties")),
            ("--consumer", file("consumer.properties")),
        ],
    )
    .args(["--seeds", "1", "--out"])
    .arg(dir.join("out"))
    .arg("--json")
    .arg(dir.join("findings.json"))
    .arg("--junit")
    .arg(dir.join("junit.xml"))
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("no acknowledged message lost"), "{stdout}");
    let findings: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("findings.json")).unwrap()).unwrap();
    assert_eq!(findings["findings"], serde_json::json!([]));
    assert!(!findings["not_modelled"].as_array().unwrap().is_empty());
    assert!(dir.join("out").join("index.html").exists());
    assert!(std::fs::read_to_string(dir.join("junit.xml"))
        .unwrap()
        .contains("<testcase"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_command_exits_1_when_a_chosen_class_loses_and_prints_the_cure() {
    let dir = scratch("unsafe-cli");
    let file = |name: &str| example(&format!("rabbitmq/unsafe/{name}"));
    let out = audit_command(
        "rabbitmq",
        &[
            ("--definitions", file("definitions.json")),
            ("--conf", file("rabbitmq.conf")),
            ("--client", file("client.toml")),
        ],
    )
    .args([
        "--seeds",
        "1",
        "--class",
        "consumer-crash-before-ack",
        "--out",
    ])
    .arg(dir.join("out"))
    .output()
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("LOSS"), "{stdout}");
    assert!(stdout.contains("ack auto -> manual: cures"), "{stdout}");
    assert!(
        !stdout.contains("broker crash"),
        "only the chosen class ran: {stdout}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}
