//! Publisher throughput of transactions versus publisher confirms.
//!
//! Runs the same fault-free workload (one publisher sending as fast as the
//! mode lets it, durable queue, persistent messages) in `transaction` and
//! `confirm` mode for each queue type, and prints messages acknowledged per
//! simulated second and per wall-clock second. A transaction is synchronous
//! (one commit in flight); confirms let many publishes await their ack at
//! once, so they keep the pipe full.
//!
//! Run with `cargo bench --bench publish_modes`.

use std::path::Path;
use std::time::{Duration, Instant};

use broker_model::EventKind;
use harness::{runner, scenario};

const MESSAGES: u32 = 2000;

fn scenario_text(queue_type: &str, mode: &str) -> String {
    let window = if mode == "confirm" {
        "max_outstanding_confirms = 100\n"
    } else {
        ""
    };
    format!(
        r#"
name = "bench-{queue_type}-{mode}"
system = "queue"
expect = "no-loss"
seeds = [1]
duration = "1s"
drain = "120s"

[workload]
producers = 1
consumers = 1
messages = {MESSAGES}
rate = 1000000
processing_time = "0ms"

[config]
nodes = 3
queue_type = "{queue_type}"
durable = true
persistent = true
publish_mode = "{mode}"
ack = "manual"
prefetch = 100
{window}"#
    )
}

/// Acknowledged messages, and the simulated time from the first send to the
/// last acknowledgement.
fn publishing(events: &[broker_model::Event]) -> (u64, Duration) {
    let first = events
        .iter()
        .find(|e| matches!(e.kind, EventKind::Send { .. }))
        .map_or(Duration::ZERO, |e| e.at());
    let acked: Vec<Duration> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::SendOk { .. }))
        .map(|e| e.at())
        .collect();
    let last = acked.iter().max().copied().unwrap_or(first);
    (acked.len() as u64, last.saturating_sub(first))
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("publish modes: {MESSAGES} persistent messages to a durable queue on 3 nodes, one publisher, no faults ({cores} cores)");
    println!(
        "{:<10} {:<12} {:>8} {:>12} {:>14} {:>12} {:>14}",
        "queue", "mode", "acked", "simulated", "acked/sim s", "wall", "acked/wall s"
    );
    for queue_type in ["classic", "mirrored", "quorum"] {
        for mode in ["transaction", "confirm"] {
            let text = scenario_text(queue_type, mode);
            let s = scenario::parse(Path::new("bench.toml"), &text)
                .unwrap_or_else(|e| panic!("the bench scenario is valid: {e}"));
            let started = Instant::now();
            let run = runner::run(&s, 1).expect("the bench run completes");
            let wall = started.elapsed();
            let (acked, simulated) = publishing(&run.events);
            assert_eq!(
                run.analysis.counts.lost, 0,
                "a fault-free run loses nothing"
            );
            let per_sim = acked as f64 / simulated.as_secs_f64().max(1e-9);
            let per_wall = acked as f64 / wall.as_secs_f64().max(1e-9);
            println!(
                "{:<10} {:<12} {:>8} {:>11.3}s {:>14.0} {:>11.3}s {:>14.0}",
                queue_type,
                mode,
                acked,
                simulated.as_secs_f64(),
                per_sim,
                wall.as_secs_f64(),
                per_wall
            );
        }
    }
}
