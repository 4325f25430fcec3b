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
    assert_eq!(actions.len(), 9, "{action}");
    assert!(actions.contains(&"power_loss"), "{action}");
    assert!(actions.contains(&"unbind"), "{action}");
}
