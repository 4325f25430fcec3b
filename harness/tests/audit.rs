//! `harness::audit::audit` on deployments built in Rust: what it finds,
//! which cures it verifies, and the reproducers it writes.

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
