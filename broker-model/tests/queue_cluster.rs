//! The queue model end to end, without faults: in every publish mode, ack
//! mode and queue type, everything sent is acknowledged and processed.

use std::time::Duration;

use broker_model::queue::{install, AckMode, PublishMode, QueueConfig, QueueType};
use broker_model::{EventKind, Instruments, Workload};

fn run(config: QueueConfig, seconds: u64) -> Vec<broker_model::Event> {
    let workload = Workload {
        messages: 60,
        rate: 100.0,
        ..Workload::default()
    };
    run_with(config, workload, seconds, |_, _| {})
}

/// Runs the cluster for `seconds`, calling `act` with the simulation and the
/// process table after every step.
fn run_with(
    config: QueueConfig,
    workload: Workload,
    seconds: u64,
    mut act: impl FnMut(&mut turmoil::Sim<'_>, &broker_model::ProcessTable),
) -> Vec<broker_model::Event> {
    let instruments = Instruments::default();
    let mut sim = turmoil::Builder::new()
        .rng_seed(7)
        .epoch(std::time::UNIX_EPOCH)
        .tick_duration(Duration::from_millis(1))
        .simulation_duration(Duration::from_secs(3600))
        .min_message_latency(Duration::from_millis(1))
        .max_message_latency(Duration::from_millis(5))
        .build();
    install(&mut sim, &config, &workload, &instruments);
    while sim.elapsed() < Duration::from_secs(seconds) {
        sim.step().unwrap();
        act(&mut sim, &instruments.processes);
    }
    instruments.history.snapshot()
}

fn count(events: &[broker_model::Event], f: impl Fn(&EventKind) -> bool) -> usize {
    events.iter().filter(|e| f(&e.kind)).count()
}

fn everything_arrives(config: QueueConfig) {
    let label = format!(
        "{:?}/{:?}/{:?}",
        config.queue_type, config.publish_mode, config.ack
    );
    let events = run(config, 3);
    let ok = count(&events, |k| matches!(k, EventKind::SendOk { .. }));
    let processed = count(&events, |k| matches!(k, EventKind::Processed { .. }));
    assert_eq!((ok, processed), (60, 60), "{label}");
}

fn config(queue_type: QueueType, publish_mode: PublishMode, ack: AckMode) -> QueueConfig {
    QueueConfig {
        queue_type,
        publish_mode,
        ack,
        durable: true,
        persistent: true,
        prefetch: if ack == AckMode::Manual { 5 } else { 0 },
        ..QueueConfig::default()
    }
}

#[test]
fn classic_queues_deliver_everything_in_every_mode() {
    for mode in [
        PublishMode::FireAndForget,
        PublishMode::Transaction,
        PublishMode::Confirm,
    ] {
        for ack in [AckMode::Auto, AckMode::Manual] {
            everything_arrives(config(QueueType::Classic, mode, ack));
        }
    }
}

#[test]
fn mirrored_and_quorum_queues_deliver_everything() {
    for queue_type in [QueueType::Mirrored, QueueType::Quorum] {
        everything_arrives(config(queue_type, PublishMode::Confirm, AckMode::Manual));
        everything_arrives(config(queue_type, PublishMode::Transaction, AckMode::Auto));
    }
}

#[test]
fn mirrors_and_followers_hold_every_confirmed_message() {
    for queue_type in [QueueType::Mirrored, QueueType::Quorum] {
        let mut c = config(queue_type, PublishMode::Confirm, AckMode::Manual);
        c.queues = 2;
        let events = run(c, 3);
        for node in ["node-1", "node-2", "node-3"] {
            let held = events
                .iter()
                .filter(|e| e.host == node)
                .map(|e| match &e.kind {
                    EventKind::Append { msgs, .. } => msgs.len(),
                    _ => 0,
                })
                .sum::<usize>();
            assert_eq!(held, 60, "{queue_type:?}: {node} got every message");
        }
    }
}

#[test]
fn confirms_wait_for_fsync_of_persistent_messages_only() {
    let persistent = run(
        config(QueueType::Classic, PublishMode::Confirm, AckMode::Manual),
        2,
    );
    assert!(count(&persistent, |k| matches!(k, EventKind::Fsync { .. })) > 0);
    let mut transient = config(QueueType::Classic, PublishMode::Confirm, AckMode::Manual);
    transient.persistent = false;
    let transient = run(transient, 2);
    assert_eq!(
        count(&transient, |k| matches!(k, EventKind::Fsync { .. })),
        0
    );
}

/// A node outside a quorum queue's group that restarts after the election
/// never hears an announcement; it asks a member, which redirects it, so
/// the publisher connected to it is not refused. The restart falls between
/// two of that publisher's sends, so it is still connected there after.
#[test]
fn a_restarted_node_outside_the_raft_group_finds_the_leader() {
    let c = QueueConfig {
        nodes: 5,
        quorum_group_size: Some(3),
        retries: 10,
        ..config(QueueType::Quorum, PublishMode::Confirm, AckMode::Manual)
    };
    let workload = Workload {
        producers: 5,
        messages: 100,
        rate: 100.0,
        ..Workload::default()
    };
    let mut stopped = false;
    let events = run_with(c, workload, 4, |sim, processes| {
        let now = sim.elapsed();
        if !stopped && now >= Duration::from_millis(510) {
            stopped = true;
            processes.stop("node-4");
            sim.bounce("node-4");
        }
        if stopped && processes.is_stopped("node-4") && now >= Duration::from_millis(530) {
            processes.start("node-4");
            sim.bounce("node-4");
        }
    });
    let ok = count(&events, |k| matches!(k, EventKind::SendOk { .. }));
    assert_eq!(ok, 100);
}
