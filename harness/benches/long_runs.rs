//! How the cost of a run grows with its length:
//! `cargo bench -p harness --bench long_runs`.
//!
//! Runs the same fault-free log scenario (acks=all, RF 3,
//! min.insync.replicas=2, manual commit, one producer at 200 messages/s,
//! `duration` = messages / 200 + 2 s, the default drain) with 1,000, 4,000
//! and 16,000 messages, two seeds each, with Kafka's default flush policy
//! (page cache only) and with an fsync per message, and prints the wall
//! time of each and the ratio of the 16,000-message run to the
//! 4,000-message one. A cost linear in messages puts that ratio near 4.

use std::time::{Duration, Instant};

use broker_model::log::{Acks, LogConfig};
use broker_model::Workload;
use harness::scenario::{Scenario, System};
use harness::suite;

fn scenario(messages: u32, fsync_every_message: bool) -> Scenario {
    let config = LogConfig {
        replication_factor: 3,
        min_insync_replicas: 2,
        acks: Acks::All,
        enable_auto_commit: false,
        flush_interval_messages: fsync_every_message.then_some(1),
        ..LogConfig::default()
    };
    let mut s = Scenario::new(&format!("long-run-{messages}"), System::Log(config));
    s.workload = Workload {
        messages,
        rate: 200.0,
        ..Workload::default()
    };
    s.duration = Duration::from_secs(u64::from(messages) / 200 + 2);
    s.seeds = vec![1, 2];
    s
}

fn main() {
    for (policy, fsync) in [("page cache only", false), ("fsync per message", true)] {
        let mut walls = Vec::new();
        for messages in [1_000, 4_000, 16_000] {
            let s = scenario(messages, fsync);
            let start = Instant::now();
            let (report, runs) = suite::run(&s).expect("runs");
            let wall = start.elapsed();
            let simulated: Duration = runs.iter().map(|r| r.simulated).sum();
            println!(
                "{policy}, {messages:>6} messages: {:>6.2} s wall for {:>5.0} simulated s over 2 seeds; verdict {}; {} acknowledged, {} lost",
                wall.as_secs_f64(),
                simulated.as_secs_f64(),
                report.verdict.name(),
                report.totals.acknowledged,
                report.totals.lost,
            );
            walls.push(wall);
        }
        println!(
            "{policy}: 16,000 messages cost {:.1}x 4,000 messages",
            walls[2].as_secs_f64() / walls[1].as_secs_f64()
        );
    }
}
