//! Combining reports: seed batches run apart (CI shards, say) become one
//! report, with every scenario's totals and verdict computed afresh from its
//! seeds.

use std::collections::BTreeMap;

use crate::document::{Counts, Report, ScenarioReport, Verdict};
use crate::retention::Retention;

impl ScenarioReport {
    /// Recomputes the totals, the losing and inconclusive seeds, the
    /// verdict, whether it matches the expectation and the replay command
    /// (of the first losing seed, else the first inconclusive one, else the
    /// first) from `seeds` (kept in seed order). A loss anywhere decides the verdict, since a lost
    /// message stays lost whatever another seed could not tell; an
    /// inconclusive verdict matches no expectation.
    pub fn recompute(&mut self) {
        self.seeds.sort_by_key(|s| s.seed);
        self.seeds.dedup_by_key(|s| s.seed);
        let mut totals = Counts::default();
        for s in &self.seeds {
            totals.add(&s.counts);
        }
        self.totals = totals;
        let with = |verdict: Verdict| -> Vec<u64> {
            self.seeds
                .iter()
                .filter(|s| s.verdict() == verdict)
                .map(|s| s.seed)
                .collect()
        };
        self.seeds_with_loss = with(Verdict::Loss);
        self.seeds_inconclusive = with(Verdict::Inconclusive);
        self.verdict = if !self.seeds_with_loss.is_empty() {
            Verdict::Loss
        } else if !self.seeds_inconclusive.is_empty() {
            Verdict::Inconclusive
        } else {
            Verdict::NoLoss
        };
        self.matches = self.verdict != Verdict::Inconclusive && self.verdict == self.expect;
        let replay_seed = self
            .seeds_with_loss
            .first()
            .or(self.seeds_inconclusive.first())
            .copied()
            .or_else(|| self.seeds.first().map(|s| s.seed))
            .unwrap_or(1);
        self.replay = format!(
            "cargo run --release --bin mqsim -- run {} --seed {replay_seed}",
            self.file
        );
    }
}

/// Merges reports: scenarios with the same name and file are one scenario
/// whose seeds are the union of theirs (and whose latencies add up: the
/// reports of shards, which share no seed; a seed in two inputs counts once,
/// its latencies twice).
/// Scenarios keep the order in which they first appear, and keep in full
/// the seeds one run of all their seeds would have kept. A merge of a partial
/// report is partial, and says how far the first partial one got.
pub fn merge(reports: Vec<Report>) -> Report {
    let mut out = Report::new();
    let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
    for report in reports {
        out.partial = out.partial.or(report.partial);
        for scenario in report.scenarios {
            let key = (scenario.name.clone(), scenario.file.clone());
            match index.get(&key) {
                Some(i) => {
                    let into = &mut out.scenarios[*i];
                    into.ack_latency_us.add(&scenario.ack_latency_us);
                    into.seeds.extend(scenario.seeds);
                }
                None => {
                    index.insert(key, out.scenarios.len());
                    out.scenarios.push(scenario);
                }
            }
        }
    }
    for s in &mut out.scenarios {
        s.recompute();
        Retention::apply(&mut s.seeds);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{Outcome, SeedReport};

    fn seed(seed: u64, lost: u64) -> SeedReport {
        SeedReport {
            seed,
            counts: Counts {
                acknowledged: 10,
                lost,
                ..Counts::default()
            },
            simulated_ms: 1,
            drained: true,
            outcome: Outcome::Conclusive,
            lost: vec![],
            unconsumed: vec![],
            dead_lettered: vec![],
            duplicated: vec![],
            recovered: vec![],
            unexpected: vec![],
            faults: vec![],
            fault_spans: vec![],
            phases: vec![],
            series: Default::default(),
            detail: Default::default(),
        }
    }

    fn scenario(seeds: Vec<SeedReport>) -> ScenarioReport {
        let mut s = ScenarioReport {
            name: "s".into(),
            file: "s.toml".into(),
            description: String::new(),
            system: "log".into(),
            config: vec![],
            configuration: String::new(),
            schedule: vec![],
            fault_class: String::new(),
            hosts: vec![],
            duration_ms: 0,
            expect: Verdict::NoLoss,
            verdict: Verdict::NoLoss,
            matches: true,
            totals: Counts::default(),
            seeds_with_loss: vec![],
            seeds_inconclusive: vec![],
            seeds,
            replay: String::new(),
            ack_latency_us: Default::default(),
            real: None,
        };
        s.recompute();
        s
    }

    #[test]
    fn shards_merge_into_one_verdict() {
        let a = Report {
            scenarios: vec![scenario(vec![seed(1, 0), seed(3, 0)])],
            ..Report::new()
        };
        let b = Report {
            scenarios: vec![scenario(vec![seed(2, 4)])],
            ..Report::new()
        };
        assert!(a.all_match() && !b.all_match());
        let merged = merge(vec![b, a]);
        let s = &merged.scenarios[0];
        assert_eq!(
            s.seeds.iter().map(|s| s.seed).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!(s.totals.acknowledged, 30);
        assert_eq!(s.seeds_with_loss, vec![2]);
        assert_eq!(s.verdict, Verdict::Loss);
        assert!(!s.matches);
    }

    /// A seed cut off by its drain deadline with `readable` messages left,
    /// `unconsumed` of its acknowledged messages not yet processed.
    fn undrained(n: u64, readable: u64, unconsumed: u64) -> SeedReport {
        let mut s = seed(n, 0);
        s.drained = false;
        s.outcome = Outcome::Inconclusive { readable };
        s.counts.unconsumed = unconsumed;
        s.unconsumed = (0..unconsumed).map(|i| format!("p1-{i}")).collect();
        s
    }

    #[test]
    fn an_inconclusive_seed_makes_the_scenario_inconclusive_and_never_a_match() {
        let s = scenario(vec![seed(1, 0), undrained(2, 50, 40), undrained(3, 9, 9)]);
        assert_eq!(s.verdict, Verdict::Inconclusive);
        assert_eq!(s.seeds_inconclusive, vec![2, 3]);
        assert!(s.seeds_with_loss.is_empty());
        assert_eq!((s.totals.lost, s.totals.unconsumed), (0, 49));
        assert_eq!(s.readable(), 59);
        assert!(!s.matches, "an inconclusive scenario matched `no-loss`");
        let mut expecting_loss = s.clone();
        expecting_loss.expect = Verdict::Loss;
        expecting_loss.recompute();
        assert!(!expecting_loss.matches);
    }

    #[test]
    fn a_loss_in_one_shard_outweighs_an_inconclusive_seed_in_another() {
        let a = Report {
            scenarios: vec![scenario(vec![undrained(1, 10, 10)])],
            ..Report::new()
        };
        let b = Report {
            scenarios: vec![scenario(vec![seed(2, 3)])],
            ..Report::new()
        };
        let merged = merge(vec![a, b]);
        let s = &merged.scenarios[0];
        assert_eq!(s.verdict, Verdict::Loss);
        assert_eq!(
            (s.seeds_with_loss.clone(), s.seeds_inconclusive.clone()),
            (vec![2], vec![1])
        );
    }

    #[test]
    fn dead_lettered_counts_add_up_and_are_absent_from_reports_without_any() {
        let mut a = seed(1, 0);
        a.counts.dead_lettered = 4;
        let json = serde_json::to_value(seed(2, 0)).unwrap();
        assert!(json["counts"].get("dead_lettered").is_none());
        let old: SeedReport = serde_json::from_value(json).expect("loads without the key");
        let merged = merge(vec![Report {
            scenarios: vec![scenario(vec![a, old])],
            ..Report::new()
        }]);
        assert_eq!(merged.scenarios[0].totals.dead_lettered, 4);
        assert_eq!(merged.scenarios[0].verdict, Verdict::NoLoss);
    }

    #[test]
    fn a_report_written_before_inconclusive_runs_still_loads_and_merges() {
        let mut old = serde_json::to_value(Report {
            scenarios: vec![scenario(vec![seed(1, 2), seed(2, 0)])],
            ..Report::new()
        })
        .unwrap();
        let s = &mut old["scenarios"][0];
        s.as_object_mut().unwrap().remove("seeds_inconclusive");
        s["totals"].as_object_mut().unwrap().remove("unconsumed");
        for seed in s["seeds"].as_array_mut().unwrap() {
            let seed = seed.as_object_mut().unwrap();
            seed.remove("outcome");
            seed.remove("unconsumed");
            seed["counts"].as_object_mut().unwrap().remove("unconsumed");
        }
        let old: Report = serde_json::from_value(old).expect("an old report loads");
        let merged = merge(vec![old]);
        let s = &merged.scenarios[0];
        assert_eq!(s.seeds[0].outcome, Outcome::Conclusive);
        assert_eq!(s.verdict, Verdict::Loss);
        assert_eq!(s.seeds_with_loss, vec![1]);
        assert!(s.seeds_inconclusive.is_empty());
    }
}
