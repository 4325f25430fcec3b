//! The log model end to end, without faults: everything sent is processed.

use std::time::Duration;

use broker_model::log::{install, LogConfig};
use broker_model::{EventKind, Instruments, Workload};

fn run(config: LogConfig, workload: Workload, seconds: u64) -> Instruments {
    let instruments = Instruments::default();
    let mut sim = turmoil::Builder::new()
        .rng_seed(7)
        .epoch(std::time::UNIX_EPOCH)
        .simulation_duration(Duration::from_secs(3600))
        .min_message_latency(Duration::from_millis(1))
        .max_message_latency(Duration::from_millis(5))
        .build();
    install(&mut sim, &config, &workload, &instruments);
    while sim.elapsed() < Duration::from_secs(seconds) {
        sim.step().unwrap();
    }
    instruments
}

#[test]
fn every_message_is_acknowledged_and_processed_without_faults() {
    let workload = Workload {
        messages: 100,
        ..Workload::default()
    };
    let i = run(LogConfig::default(), workload, 5);
    let events = i.history.snapshot();
    let count = |f: &dyn Fn(&EventKind) -> bool| events.iter().filter(|e| f(&e.kind)).count();
    assert_eq!(count(&|k| matches!(k, EventKind::SendOk { .. })), 100);
    assert_eq!(count(&|k| matches!(k, EventKind::Processed { .. })), 100);
}
