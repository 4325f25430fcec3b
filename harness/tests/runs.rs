//! Properties of whole runs: determinism, and the shape of the acks=1 loss.

use std::path::{Path, PathBuf};
use std::process::Command;

use broker_model::history::to_json_lines;
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
    let out = std::env::temp_dir().join(format!("mqsim-determinism-{}", std::process::id()));
    let file = bundled("log-power-loss-no-fsync");
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
        histories.push(std::fs::read(dir.join("log-power-loss-no-fsync-seed2.jsonl")).unwrap());
        pages.push(std::fs::read(dir.join("report/index.html")).unwrap());
    }
    std::fs::remove_dir_all(&out).unwrap();
    assert!(!histories[0].is_empty());
    assert!(
        histories[0] == histories[1],
        "histories of two processes differ"
    );
    assert!(pages[0].len() > 10_000, "a real report page is written");
    assert!(pages[0] == pages[1], "report pages of two processes differ");
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
            generator: String::new(),
            scenarios: vec![report],
        })
    };
    assert!(report(1) == report(3));
}
