//! The library API users call from their own `cargo test`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use broker_model::log::{Acks, LogConfig};
use harness::fault::{Action, Fault, Selector, Target};
use harness::scenario::{Scenario, System};
use harness::testing;

fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.toml"))
}

#[test]
fn a_safe_scenario_file_passes_and_an_unsafe_one_passes_assert_loss() {
    testing::assert_no_loss(bundled("log-power-loss-fsync"));
    testing::assert_loss(bundled("log-power-loss-no-fsync"));
}

#[test]
fn a_losing_scenario_fails_with_the_report_path_in_the_message() {
    let panic = std::panic::catch_unwind(|| {
        testing::assert_no_loss(bundled("log-acks1-leader-crash"));
    })
    .expect_err("acks=1 loses messages");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("lost"), "{message}");
    let report = message
        .split("report: ")
        .nth(1)
        .and_then(|rest| rest.split(';').next())
        .expect("the message names the report");
    assert!(Path::new(report).exists(), "{report} was not written");
    assert!(message.contains("replay: cargo run"), "{message}");
}

#[test]
fn a_scenario_built_in_rust_can_be_asserted() {
    let config = LogConfig {
        acks: Acks::All,
        min_insync_replicas: 2,
        enable_auto_commit: false,
        ..LogConfig::default()
    };
    let mut s = Scenario::new("rust-built-acks-all", System::Log(config));
    s.seeds = vec![1, 2];
    s.duration = Duration::from_secs(5);
    s.faults.push(Fault {
        at: Duration::from_secs(2),
        trigger: None,
        action: Action::Crash {
            target: Selector {
                targets: vec![Target::Leader],
                dest: "p0".into(),
            },
            restart_after: Some(Duration::from_secs(1)),
        },
    });
    testing::assert_scenario_no_loss(&s);
}

#[test]
fn an_inconclusive_run_fails_the_no_loss_assertion_and_says_why() {
    let config = LogConfig {
        enable_auto_commit: false,
        ..LogConfig::default()
    };
    let mut s = Scenario::new("rust-built-lagging-consumer", System::Log(config));
    s.seeds = vec![1];
    s.duration = Duration::from_secs(2);
    s.drain = harness::scenario::Drain::Fixed(Duration::from_millis(500));
    s.workload.messages = 300;
    s.workload.rate = 150.0;
    s.workload.processing_time = Duration::from_millis(40);
    let (report, _) = testing::run(&s).unwrap();
    assert_eq!(report.verdict, reports::Verdict::Inconclusive);
    assert_eq!(report.totals.lost, 0);
    let panic = std::panic::catch_unwind(|| testing::assert_scenario_no_loss(&s))
        .expect_err("an inconclusive run passed the no-loss assertion");
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(
        message.contains("is inconclusive: seed 1 did not drain;")
            && message.contains("messages still readable"),
        "{message}"
    );
}
