use super::*;
use crate::document::{Counts, Outcome, Verdict};
use crate::merge::merge;

fn header(name: &str) -> ScenarioReport {
    serde_json::from_value(serde_json::json!({
        "name": name, "file": format!("{name}.toml"), "description": "", "system": "log",
        "config": [], "schedule": [], "expect": "loss", "verdict": "no-loss",
        "matches": false, "totals": Counts::default(), "seeds_with_loss": [],
        "seeds": [], "replay": ""
    }))
    .unwrap()
}

fn row(seed: u64, lost: u64) -> SeedReport {
    let mut r: SeedReport = serde_json::from_value(serde_json::json!({
        "seed": seed, "counts": Counts { acknowledged: 10, lost, ..Counts::default() },
        "simulated_ms": 1, "drained": true, "lost": [], "duplicated": [],
        "recovered": [], "unexpected": [], "faults": []
    }))
    .unwrap();
    r.outcome = Outcome::Conclusive;
    r
}

fn latency(seed: u64) -> AckLatency {
    let mut l = AckLatency::default();
    l.record(1_000 + seed);
    l
}

fn host() -> Host {
    Host {
        name: "broker-1".into(),
        role: broker_model::HostRole::Broker,
    }
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir()
        .join(format!("mqsim-stream-{}", std::process::id()))
        .join(name)
}

/// Streams scenarios `a` (seeds of `a_seeds`, planned `a_planned`) and `b`
/// (seeds `b_seeds`) to `path`, planning both.
fn write(path: &Path, a_seeds: &[u64], a_planned: u64, b_seeds: &[u64]) {
    let mut s = SeedStream::create(path, "mqsim test", 2).unwrap();
    s.scenario(&header("a"), a_planned).unwrap();
    for &n in a_seeds {
        let hosts = [host()];
        s.seed(SeedLine {
            row: &row(n, n % 2),
            ack_latency_us: &latency(n),
            hosts: if n == a_seeds[0] { &hosts } else { &[] },
        })
        .unwrap();
    }
    if !b_seeds.is_empty() {
        s.scenario(&header("b"), b_seeds.len() as u64).unwrap();
        for &n in b_seeds {
            s.seed(SeedLine {
                row: &row(n, 0),
                ack_latency_us: &latency(n),
                hosts: &[],
            })
            .unwrap();
        }
    }
}

#[test]
fn a_complete_stream_reads_back_as_the_whole_report() {
    let path = temp("whole.jsonl");
    write(&path, &[1, 2, 3], 3, &[1, 2]);
    let r = read(&path).unwrap();
    assert_eq!(r.partial, None);
    assert_eq!(r.generator, "mqsim test");
    let a = &r.scenarios[0];
    assert_eq!(
        (a.seeds.len(), a.totals.lost, a.verdict),
        (3, 2, Verdict::Loss)
    );
    assert_eq!(a.seeds_with_loss, vec![1, 3]);
    assert_eq!(a.ack_latency_us.len(), 3);
    assert_eq!(a.hosts, vec![host()]);
    assert_eq!(
        a.replay,
        "cargo run --release --bin mqsim -- run a.toml --seed 1"
    );
    assert_eq!(r.scenarios[1].verdict, Verdict::NoLoss);
}

#[test]
fn a_stream_cut_in_the_middle_of_a_line_reads_up_to_it_and_says_how_far_it_got() {
    let path = temp("cut.jsonl");
    write(&path, &[1, 2, 3, 4], 2_000, &[]);
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, &text[..text.len() - 25]).unwrap();
    let r = read(&path).unwrap();
    let a = &r.scenarios[0];
    assert_eq!(
        a.seeds.iter().map(|s| s.seed).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    let partial = r.partial.expect("a cut stream is partial");
    assert_eq!(
        partial.describe(),
        "partial: 3 of 2000 seeds of scenario a; 0 of 2 scenarios complete"
    );
}

#[test]
fn a_bad_line_before_the_last_is_an_error_that_names_it() {
    let path = temp("bad.jsonl");
    write(&path, &[1, 2], 2, &[]);
    let text = std::fs::read_to_string(&path)
        .unwrap()
        .replacen("\"seed\"", "\"sed\"", 1);
    std::fs::write(&path, text).unwrap();
    let e = read(&path).unwrap_err();
    assert!(e.to_string().starts_with("line 3:"), "{e}");
}

#[test]
fn streamed_shards_merge_into_what_one_stream_of_every_seed_reads_as() {
    let (whole, odd, even) = (temp("all.jsonl"), temp("odd.jsonl"), temp("even.jsonl"));
    let seeds: Vec<u64> = (1..=12).collect();
    let pick = |r: u64| {
        seeds
            .iter()
            .copied()
            .filter(|s| s % 2 == r)
            .collect::<Vec<_>>()
    };
    write(&whole, &seeds, 12, &[1, 2]);
    write(&odd, &pick(1), 6, &[1]);
    write(&even, &pick(0), 6, &[2]);
    let merged = merge(vec![read(&odd).unwrap(), read(&even).unwrap()]);
    assert_eq!(merged, merge(vec![read(&whole).unwrap()]));
}
