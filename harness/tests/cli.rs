//! The `mqsim` command as a user runs it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn mqsim(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mqsim"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("mqsim runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mqsim-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn bundled(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.toml"))
        .display()
        .to_string()
}

#[test]
fn a_bad_scenario_is_refused_with_its_location_and_exit_code_2() {
    let dir = scratch("check");
    std::fs::write(
        dir.join("bad.toml"),
        "name = \"x\"\nsystem = \"log\"\nexpect = \"loss\"\n[config]\nacks = 2\n",
    )
    .unwrap();
    let o = mqsim(&["check", "bad.toml"], &dir);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        text(&o).contains("bad.toml:5:8: key `acks`"),
        "{}",
        text(&o)
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn shards_merge_into_the_report_of_a_whole_run() {
    let dir = scratch("shards");
    let file = bundled("log-autocommit-consumer-crash");
    for k in ["1/2", "2/2"] {
        let out = format!("shard{}", &k[..1]);
        let o = mqsim(
            &["run", &file, "--no-shrink", "--shard", k, "--out", &out],
            &dir,
        );
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    let o = mqsim(
        &[
            "merge",
            "shard1/report.json",
            "shard2/report.json",
            "--out",
            "merged",
            "--junit",
            "merged/junit.xml",
        ],
        &dir,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = mqsim(&["run", &file, "--no-shrink", "--out", "whole"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let merged = reports::json::read(&dir.join("merged/report.json")).unwrap();
    let whole = reports::json::read(&dir.join("whole/report.json")).unwrap();
    let (m, w) = (&merged.scenarios[0], &whole.scenarios[0]);
    assert_eq!(m.seeds.len(), 5);
    assert_eq!(m.seeds, w.seeds);
    assert_eq!(
        (m.totals, m.verdict, m.matches),
        (w.totals, w.verdict, w.matches)
    );
    assert!(dir.join("merged/index.html").exists());
    let junit = std::fs::read_to_string(dir.join("merged/junit.xml")).unwrap();
    assert!(
        junit.contains("log-autocommit-consumer-crash [seeds 1..=5]"),
        "{junit}"
    );
    assert!(junit.contains(r#"failures="0""#), "{junit}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn new_writes_a_starter_that_checks_and_never_overwrites() {
    let dir = scratch("new");
    let o = mqsim(&["new", "--system", "log", "mine.toml"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = mqsim(&["check", "mine.toml"], &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = mqsim(&["new", "mine.toml"], &dir);
    assert_eq!(o.status.code(), Some(2));
    let o = mqsim(&["new", "--system", "pulsar"], &dir);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("allowed: log, queue"), "{}", text(&o));
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_schema_is_json_with_every_fault_action() {
    let o = mqsim(&["schema"], Path::new(env!("CARGO_MANIFEST_DIR")));
    assert_eq!(o.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    let action = &schema["properties"]["faults"]["items"]["properties"]["action"];
    let actions: Vec<&str> = action["oneOf"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["const"].as_str())
        .collect();
    assert_eq!(actions.len(), 10, "{action}");
    assert!(actions.contains(&"power_loss"), "{action}");
    assert!(actions.contains(&"stop_app"), "{action}");
    assert!(actions.contains(&"unbind"), "{action}");
}

#[test]
fn streamed_shards_merge_into_the_report_of_a_whole_run_beyond_the_seeds_kept_in_full() {
    let dir = scratch("streamed");
    let file = bundled("log-acks1-leader-crash");
    for k in ["1/2", "2/2"] {
        let out = format!("shard{}", &k[..1]);
        let args = ["run", &file, "--seeds", "8", "--no-shrink", "--shard", k];
        let o = mqsim(&[&args[..], &["--out", &out]].concat(), &dir);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    }
    let o = mqsim(
        &[
            "merge",
            "shard1/seeds.jsonl",
            "shard2/seeds.jsonl",
            "--out",
            "merged",
        ],
        &dir,
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let args = [
        "run",
        &file,
        "--seeds",
        "8",
        "--no-shrink",
        "--out",
        "whole",
    ];
    let o = mqsim(&args, &dir);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let merged = reports::json::read(&dir.join("merged/report.json")).unwrap();
    let whole = reports::json::read(&dir.join("whole/report.json")).unwrap();
    assert_eq!(merged, whole);
    let streamed = reports::stream::read(&dir.join("whole/seeds.jsonl")).unwrap();
    assert_eq!(streamed, whole);
    let s = &whole.scenarios[0];
    assert_eq!(s.seeds.len(), 8);
    assert_eq!(s.ack_latency_us.len(), s.totals.acknowledged);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn ctrl_c_stops_a_sweep_with_a_report_that_says_how_far_it_got() {
    let dir = scratch("interrupt");
    let file = bundled("log-acks1-leader-crash");
    let child = Command::new(env!("CARGO_BIN_EXE_mqsim"))
        .args(["run", &file, "--seeds", "2000", "--no-shrink", "--out", "o"])
        .current_dir(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("mqsim starts");
    let streamed = dir.join("o/seeds.jsonl");
    let lines = || {
        std::fs::read_to_string(&streamed)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    };
    let started = std::time::Instant::now();
    while lines() < 5 && started.elapsed().as_secs() < 300 {
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let pid = child.id().to_string();
    let sent = Command::new("kill").args(["-INT", &pid]).status().unwrap();
    assert!(sent.success());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(130), "{}", text(&o));
    let report = reports::json::read(&dir.join("o/report.json")).unwrap();
    let ran = report.scenarios[0].seeds.len();
    assert!((3..2000).contains(&ran), "{ran} seeds");
    let said = format!(
        "partial: {ran} of 2000 seeds of scenario log-acks1-leader-crash; 0 of 1 scenarios complete"
    );
    assert!(text(&o).contains(&said), "{}", text(&o));
    let page = std::fs::read_to_string(dir.join("o/index.html")).unwrap();
    assert!(page.contains(&said));
    let o = mqsim(&["merge", "o/seeds.jsonl", "--out", "rebuilt"], &dir);
    assert!(text(&o).contains(&said), "{}", text(&o));
    let rebuilt = reports::json::read(&dir.join("rebuilt/report.json")).unwrap();
    assert_eq!(rebuilt.scenarios, report.scenarios);
    std::fs::remove_dir_all(dir).unwrap();
}
