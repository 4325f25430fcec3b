//! Properties of whole runs: determinism, and the shape of the losses the
//! acks=1, unsynchronised-promotion and partition-handling scenarios show;
//! `sweeps`: a sweep in bounded memory reports what keeping every run would.

mod sweeps;

use std::path::{Path, PathBuf};
use std::process::Command;

use broker_model::to_json_lines;
use broker_model::EventKind;
use harness::{runner, scenario, suite};

fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.toml"))
}

#[test]
fn the_same_seed_gives_byte_identical_histories() {
    let s = scenario::load(&bundled("log-acks1-leader-crash")).unwrap();
    let a = to_json_lines(&runner::run(&s, 3).unwrap().events);
    let b = to_json_lines(&runner::run(&s, 3).unwrap().events);
    assert!(a.len() > 10_000, "a real history is recorded");
    assert!(a == b, "two runs of seed 3 differ");
    let c = to_json_lines(&runner::run(&s, 4).unwrap().events);
    assert!(
        a != c,
        "seeds 3 and 4 gave the same history: the seed is not used"
    );
}

/// Two processes given the same scenario and seed write the same history
/// and the same report, byte for byte.
#[test]
fn separate_processes_write_byte_identical_histories_and_reports() {
    for name in [
        "log-power-loss-no-fsync",
        "queue-mirrored-unsynced-promotion",
    ] {
        let out = std::env::temp_dir().join(format!("mqsim-determinism-{}", std::process::id()));
        let file = bundled(name);
        let mut histories = Vec::new();
        let mut pages = Vec::new();
        for attempt in 0..2 {
            let dir = out.join(attempt.to_string());
            let status = Command::new(env!("CARGO_BIN_EXE_mqsim"))
                .args(["run", "--no-shrink", "--seed", "2", "--out"])
                .arg(dir.join("report"))
                .arg("--history")
                .arg(&dir)
                .arg(&file)
                .output()
                .unwrap();
            assert!(status.status.success(), "mqsim failed: {status:?}");
            histories.push(std::fs::read(dir.join(format!("{name}-seed2.jsonl"))).unwrap());
            pages.push(std::fs::read(dir.join("report/index.html")).unwrap());
        }
        std::fs::remove_dir_all(&out).unwrap();
        assert!(!histories[0].is_empty());
        assert!(
            histories[0] == histories[1],
            "histories of two processes differ for {name}"
        );
        assert!(pages[0].len() > 10_000, "a real report page is written");
        assert!(
            pages[0] == pages[1],
            "report pages of two processes differ for {name}"
        );
    }
}

/// In the acks=1 scenario every lost message was appended by the old leader
/// alone, acknowledged, and later truncated from that same broker's log.
#[test]
fn acks1_loss_is_an_acknowledged_append_later_truncated() {
    let s = scenario::load(&bundled("log-acks1-leader-crash")).unwrap();
    let run = runner::run(&s, 1).unwrap();
    assert!(!run.analysis.lost.is_empty(), "the scenario loses messages");
    for id in &run.analysis.lost {
        let trail = harness::checker::trail(&run.events, *id);
        let appends: Vec<_> = trail
            .iter()
            .filter(|e| matches!(e.kind, EventKind::Append { .. }))
            .collect();
        assert_eq!(
            appends.len(),
            1,
            "{id} reached exactly one broker: {trail:#?}"
        );
        let leader = &appends[0].host;
        let acked = trail
            .iter()
            .position(|e| matches!(e.kind, EventKind::SendOk { .. }))
            .expect("lost messages were acknowledged");
        let truncated = trail
            .iter()
            .position(|e| matches!(e.kind, EventKind::Truncate { .. }) && e.host == *leader)
            .unwrap_or_else(|| panic!("{id} was never truncated on {leader}: {trail:#?}"));
        assert!(
            acked < truncated,
            "{id} was truncated before it was acknowledged"
        );
        let elected_elsewhere = run.events.iter().any(|e| match &e.kind {
            EventKind::Elect {
                leader: Some(l), ..
            } => l != leader && e.at_us < trail[truncated].at_us,
            _ => false,
        });
        assert!(
            elected_elsewhere,
            "another broker was elected before the truncation"
        );
    }
}

#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let s = scenario::load(&bundled("log-autocommit-consumer-crash")).unwrap();
    let report = |threads| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        let (report, _) = pool
            .install(|| suite::run_seeds(&s, &[1, 2, 3, 4]))
            .unwrap();
        reports::json::to_string(&reports::Report {
            scenarios: vec![report],
            ..Default::default()
        })
    };
    assert!(report(1) == report(3));
}

#[test]
fn the_same_seed_of_a_queue_scenario_gives_byte_identical_histories() {
    let s = scenario::load(&bundled("queue-autoheal-partition")).unwrap();
    let a = to_json_lines(&runner::run(&s, 2).unwrap().events);
    let b = to_json_lines(&runner::run(&s, 2).unwrap().events);
    assert!(a.len() > 10_000, "a real history is recorded");
    assert!(a == b, "two runs of seed 2 differ");
    let c = to_json_lines(&runner::run(&s, 3).unwrap().events);
    assert!(
        a != c,
        "seeds 2 and 3 gave the same history: the seed is not used"
    );
}

/// In the unsynchronised-promotion scenario every lost message was
/// confirmed while on the old master, never reached the mirror that was
/// promoted (unsynchronised), and was dropped by the old master when it
/// rejoined as a mirror.
#[test]
fn mirrored_loss_is_an_unsynchronised_promotion() {
    let s = scenario::load(&bundled("queue-mirrored-unsynced-promotion")).unwrap();
    let run = runner::run(&s, 1).unwrap();
    assert!(!run.analysis.lost.is_empty(), "the scenario loses messages");
    let promotion = run
        .events
        .iter()
        .find(|e| matches!(e.kind, EventKind::Promote { .. }))
        .expect("a mirror was promoted");
    let EventKind::Promote {
        synced, previous, ..
    } = &promotion.kind
    else {
        unreachable!()
    };
    assert!(!synced, "the promoted mirror was not synchronised");
    let promoted = &promotion.host;
    for id in &run.analysis.lost {
        let trail = harness::checker::trail(&run.events, *id);
        let acked = trail
            .iter()
            .position(|e| matches!(e.kind, EventKind::SendOk { .. }))
            .expect("lost messages were confirmed");
        assert!(
            trail[..acked]
                .iter()
                .any(|e| { matches!(e.kind, EventKind::Append { .. }) && e.host == *previous }),
            "{id} was on the old master before its confirm: {trail:#?}"
        );
        let held_by_promoted = trail.iter().any(|e| {
            e.host == *promoted
                && e.at_us <= promotion.at_us
                && matches!(e.kind, EventKind::Append { .. })
        });
        let dropped_by_promoted = trail.iter().any(|e| {
            e.host == *promoted
                && e.at_us <= promotion.at_us
                && matches!(e.kind, EventKind::Discard { .. })
        });
        assert!(
            !held_by_promoted || dropped_by_promoted,
            "{id} was held by the promoted mirror: {trail:#?}"
        );
        assert!(
            trail.iter().any(|e| e.host == *previous
                && e.at_us > promotion.at_us
                && matches!(e.kind, EventKind::Discard { .. })),
            "{id} was dropped by the old master when it rejoined: {trail:#?}"
        );
    }
}

/// The same split under `autoheal` and under `ignore`: autoheal restarts
/// the losing node, which drops what it confirmed alone; with `ignore`
/// nothing is restarted and node-1 stays master of its own copy after the
/// network heals, so what it confirmed alone is never delivered to the
/// consumer on the other side either.
#[test]
fn autoheal_restarts_the_losing_side_and_ignore_leaves_the_split() {
    use broker_model::queue::PartitionHandling;
    use harness::scenario::System;

    let autoheal = scenario::load(&bundled("queue-autoheal-partition")).unwrap();
    let mut ignore = autoheal.clone();
    let System::Queue(c) = &mut ignore.system else {
        panic!("a queue scenario");
    };
    c.partition_handling = PartitionHandling::Ignore;

    let healed = runner::run(&autoheal, 1).unwrap();
    let node1 = |e: &broker_model::Event| e.host == "node-1";
    assert!(healed
        .events
        .iter()
        .any(|e| node1(e) && matches!(e.kind, EventKind::Autoheal { .. })));
    assert!(healed
        .events
        .iter()
        .any(|e| node1(e) && matches!(e.kind, EventKind::Discard { .. })));

    let split = runner::run(&ignore, 1).unwrap();
    assert!(!split.events.iter().any(|e| matches!(
        e.kind,
        EventKind::Autoheal { .. } | EventKind::Pause { .. } | EventKind::Discard { .. }
    )));
    let masters: std::collections::BTreeSet<&str> = split
        .events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::Promote { .. } | EventKind::BecomeLeader { .. }
            )
        })
        .map(|e| e.host.as_str())
        .collect();
    assert_eq!(masters.len(), 2, "both sides have a master: {masters:?}");
    assert!(!split.analysis.lost.is_empty());
    assert!(!healed.analysis.lost.is_empty());
}

/// `log-power-loss-after-writeback` keeps its messages because the kernel
/// wrote the journals back before the power went: every broker records a
/// writeback before the fault, and with periodic writeback turned off the
/// same seed loses what the consumer had not yet read.
#[test]
fn a_power_loss_after_the_kernels_writeback_keeps_what_it_wrote_back() {
    let s = scenario::load(&bundled("log-power-loss-after-writeback")).unwrap();
    let run = runner::run(&s, 1).unwrap();
    assert!(run.analysis.lost.is_empty(), "{:?}", run.analysis.lost);
    let power_loss = run
        .events
        .iter()
        .find(|e| matches!(e.kind, EventKind::Fault { .. }))
        .expect("the power loss fired")
        .at_us;
    for broker in ["broker-1", "broker-2", "broker-3"] {
        assert!(
            run.events.iter().any(|e| e.host == broker
                && e.at_us < power_loss
                && matches!(e.kind, EventKind::Writeback { .. })),
            "{broker} wrote back before the power loss"
        );
    }

    let mut off = s.clone();
    let scenario::System::Log(config) = &mut off.system else {
        panic!("a log scenario")
    };
    config.writeback.interval = std::time::Duration::ZERO;
    let run = runner::run(&off, 1).unwrap();
    assert!(
        !run.analysis.lost.is_empty(),
        "without writeback the power loss takes the unread messages"
    );
    assert!(!run
        .events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Writeback { .. })));
}

/// A log consumer that processes 20 messages a second behind a producer
/// sending 200: 400 acknowledged messages, most of them still in the log
/// when the faulty phase ends.
fn lagging(drain: scenario::Drain) -> scenario::Scenario {
    use std::time::Duration;
    let config = broker_model::log::LogConfig {
        enable_auto_commit: false,
        ..Default::default()
    };
    let mut s = scenario::Scenario::new("lagging-consumer", scenario::System::Log(config));
    s.seeds = vec![1];
    s.duration = Duration::from_secs(2);
    s.drain = drain;
    s.workload.messages = 400;
    s.workload.rate = 200.0;
    s.workload.processing_time = Duration::from_millis(50);
    s
}

#[test]
fn a_lagging_consumer_cut_off_by_a_fixed_drain_is_inconclusive_not_lossy() {
    let s = lagging(scenario::Drain::Fixed(std::time::Duration::from_secs(1)));
    let run = runner::run(&s, 1).unwrap();
    let a = &run.analysis;
    assert!(!run.drained);
    let reports::Outcome::Inconclusive { readable } = a.outcome else {
        panic!("a drain cut off with a backlog was judged conclusively: {a:?}");
    };
    assert!(a.lost.is_empty(), "{} reported lost", a.lost.len());
    assert_eq!(a.counts.acknowledged, 400);
    assert_eq!(a.counts.unconsumed, 400 - a.counts.processed);
    // The consumer counts a message it is committing as held, so the two
    // may differ by the one in hand.
    assert!(
        readable.abs_diff(a.counts.unconsumed) <= 1 && readable > 100,
        "{readable} readable, {} unconsumed",
        a.counts.unconsumed
    );
    let last = run.events.last().expect("a history");
    assert!(
        matches!(last.kind, EventKind::DrainEnded { drained: false, readable: r } if r == readable),
        "the history ends with the drain's end: {last:?}"
    );
    let samples = run
        .events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Backlog { .. }))
        .count() as u64;
    let simulated_ms = run.simulated.as_millis() as u64;
    assert!(
        samples > 10 && samples <= simulated_ms / 100 + 1,
        "{samples} backlog samples over {simulated_ms} ms"
    );
}

#[test]
fn the_default_drain_waits_for_a_lagging_consumer_to_catch_up() {
    let s = lagging(scenario::Drain::FollowBacklog);
    let run = runner::run(&s, 1).unwrap();
    let a = &run.analysis;
    assert!(run.drained, "the drain gave up after {:?}", run.simulated);
    assert_eq!(a.outcome, reports::Outcome::Conclusive);
    assert_eq!((a.counts.lost, a.counts.processed), (0, 400));
    assert!(
        matches!(
            run.events.last().map(|e| &e.kind),
            Some(EventKind::DrainEnded {
                drained: true,
                readable: 0
            })
        ),
        "{:?}",
        run.events.last()
    );
}
