//! Combining reports: seed batches run apart (CI shards, say) become one
//! report, with every scenario's totals and verdict computed afresh from its
//! seeds.

use std::collections::BTreeMap;

use crate::document::{Counts, Report, ScenarioReport, Verdict};

impl ScenarioReport {
    /// Recomputes the totals, the losing seeds, the verdict and whether it
    /// matches the expectation from `seeds` (kept in seed order).
    pub fn recompute(&mut self) {
        self.seeds.sort_by_key(|s| s.seed);
        self.seeds.dedup_by_key(|s| s.seed);
        let mut totals = Counts::default();
        for s in &self.seeds {
            totals.add(&s.counts);
        }
        self.totals = totals;
        self.seeds_with_loss = self
            .seeds
            .iter()
            .filter(|s| s.counts.lost > 0)
            .map(|s| s.seed)
            .collect();
        self.verdict = if self.seeds_with_loss.is_empty() {
            Verdict::NoLoss
        } else {
            Verdict::Loss
        };
        self.matches = self.verdict == self.expect;
    }
}

/// Merges reports: scenarios with the same name and file are one scenario
/// whose seeds are the union of theirs. Scenarios keep the order in which
/// they first appear.
pub fn merge(reports: Vec<Report>) -> Report {
    let mut out = Report::new();
    let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
    for report in reports {
        for scenario in report.scenarios {
            let key = (scenario.name.clone(), scenario.file.clone());
            match index.get(&key) {
                Some(i) => out.scenarios[*i].seeds.extend(scenario.seeds),
                None => {
                    index.insert(key, out.scenarios.len());
                    out.scenarios.push(scenario);
                }
            }
        }
    }
    for s in &mut out.scenarios {
        s.recompute();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::SeedReport;

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
            lost: vec![],
            duplicated: vec![],
            recovered: vec![],
            unexpected: vec![],
            faults: vec![],
            fault_spans: vec![],
            phases: vec![],
            series: Default::default(),
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
            seeds,
            replay: String::new(),
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
}
