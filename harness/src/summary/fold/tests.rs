use reports::{AckLatency, Counts, Detail, Outcome, ScenarioReport, SeedReport, DETAILED_SEEDS};

use super::Fold;
use crate::summary::Finished;

fn header() -> ScenarioReport {
    serde_json::from_value(serde_json::json!({
        "name": "s", "file": "s.toml", "description": "", "system": "log",
        "config": [], "schedule": [], "expect": "loss", "verdict": "no-loss",
        "matches": false, "totals": Counts::default(), "seeds_with_loss": [],
        "seeds": [], "replay": ""
    }))
    .unwrap()
}

/// A seed reduced in full, losing `lost` messages, with a series and a list
/// for the fold to drop.
fn finished(seed: u64, lost: u64) -> Finished {
    let mut row: SeedReport = serde_json::from_value(serde_json::json!({
        "seed": seed, "counts": Counts { acknowledged: 10, lost, ..Counts::default() },
        "simulated_ms": 1, "drained": true, "lost": [], "duplicated": [],
        "recovered": [], "unexpected": [], "faults": []
    }))
    .unwrap();
    row.outcome = Outcome::Conclusive;
    row.series.bucket_ms = 100;
    row.recovered = vec![format!("p1-{seed}")];
    let mut ack_latency = AckLatency::default();
    ack_latency.record(1_000 * seed);
    Finished {
        row,
        ack_latency,
        hosts: Vec::new(),
    }
}

fn kept_in_full(report: &ScenarioReport) -> Vec<u64> {
    report
        .seeds
        .iter()
        .filter(|s| s.detail == Detail::Full)
        .map(|s| s.seed)
        .collect()
}

#[test]
fn a_sweep_keeps_the_first_seeds_and_the_first_losing_ones_in_full_whatever_its_length() {
    for n in [1, 5, 40, 3_000] {
        let mut fold = Fold::new(header());
        let mut peak = 0;
        for seed in 1..=n {
            fold.add(finished(seed, u64::from(seed % 7 == 0)));
            peak = peak.max(kept_in_full(&fold.snapshot()).len());
        }
        assert!(peak <= 2 * DETAILED_SEEDS, "{n} seeds kept {peak} in full");
        let report = fold.finish();
        assert_eq!(report.seeds.len(), n as usize);
        let losing: Vec<u64> = (1..=n).filter(|s| s % 7 == 0).collect();
        let mut want: Vec<u64> = (1..=n.min(DETAILED_SEEDS as u64))
            .chain(losing.iter().copied().take(DETAILED_SEEDS))
            .collect();
        want.sort_unstable();
        want.dedup();
        assert_eq!(kept_in_full(&report), want);
        assert_eq!(report.ack_latency_us.len(), n);
        assert_eq!(report.totals.lost, losing.len() as u64);
        assert_eq!(report.seeds_with_loss, losing);
    }
}

#[test]
fn a_seed_kept_by_its_counts_only_says_so_and_keeps_its_counts() {
    let mut fold = Fold::new(header());
    for seed in 1..=6 {
        fold.add(finished(seed, 0));
    }
    let report = fold.finish();
    let last = &report.seeds[5];
    assert_eq!(last.detail, Detail::CountsOnly);
    assert!(last.recovered.is_empty() && last.series == Default::default());
    assert_eq!(last.counts.acknowledged, 10);
    assert_eq!(report.seeds[4].recovered, vec!["p1-5".to_string()]);
    let json = serde_json::to_value(last).unwrap();
    assert_eq!(json["detail"], "counts-only");
    let kept = serde_json::to_value(&report.seeds[4]).unwrap();
    assert!(kept.get("detail").is_none(), "a full row says nothing new");
}
