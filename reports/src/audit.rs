//! The result document of `mqsim audit`: a deployment's configurations as
//! read, each fault class run against them, and for each class that loses
//! an acknowledged message the evidence, a shrunk reproducer and the
//! setting changes verified to cure it.

use serde::{Deserialize, Serialize};

use crate::document::{Counts, ScenarioReport, Verdict};

/// Everything one `mqsim audit` found.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    /// The tool and version that wrote the report.
    pub generator: String,
    /// How the files' times map onto simulated time, in words.
    pub time_scale: String,
    /// The seeds every probe ran.
    pub seeds: Vec<u64>,
    /// One entry per audited topic or queue.
    pub targets: Vec<AuditTarget>,
    /// Keys of the files the model does not use.
    pub not_modelled: Vec<NotModelledKey>,
}

impl AuditReport {
    /// Whether some fault class loses an acknowledged message somewhere.
    pub fn loses(&self) -> bool {
        self.findings().next().is_some()
    }

    /// Every (target, class) that loses an acknowledged message.
    pub fn findings(&self) -> impl Iterator<Item = (&AuditTarget, &ClassAudit)> {
        self.targets.iter().flat_map(|t| {
            t.classes
                .iter()
                .filter(|c| c.verdict == Verdict::Loss)
                .map(move |c| (t, c))
        })
    }
}

/// A key of the user's files the model does not use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotModelledKey {
    /// The file.
    pub file: String,
    /// Its line, from 1.
    pub line: u32,
    /// The key.
    pub key: String,
}

/// One effective setting and where its value came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OriginSetting {
    /// The key, as the real system spells it.
    pub key: String,
    /// The effective value.
    pub value: String,
    /// `file:line`, a policy, a queue's arguments, or a default.
    pub origin: String,
}

/// One audited topic or queue.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditTarget {
    /// Its name.
    pub name: String,
    /// `log` or `queue`.
    pub system: String,
    /// The configuration in one line, as the guarantee matrix labels rows.
    pub configuration: String,
    /// Every setting the model uses, with its origin.
    pub settings: Vec<OriginSetting>,
    /// The fault classes run against it, in matrix column order.
    pub classes: Vec<ClassAudit>,
    /// The classes not run, with why not.
    pub not_run: Vec<(String, String)>,
}

/// One fault class run against one target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ClassAudit {
    /// The class, as the guarantee matrix names it.
    pub fault_class: String,
    /// Why it was run against this configuration.
    pub why: String,
    /// Its probes, one line each: the faults (or the workload) it runs.
    pub probes: Vec<String>,
    /// Runs made: probes × seeds.
    pub runs: usize,
    /// Counts summed over the runs.
    pub counts: Counts,
    /// Loss when a run lost an acknowledged message; else inconclusive
    /// when a run's drain ended with messages still readable.
    pub verdict: Verdict,
    /// The clients' side of the runs, against which cures are costed.
    pub cost: Cost,
    /// The first losing probe over its seeds: lost messages with their
    /// trails, faults, hosts.
    pub evidence: Option<ScenarioReport>,
    /// The shrunk reproducer of the first losing run.
    pub reproducer: Option<Reproducer>,
    /// The known cures tried, in table order.
    pub cures: Vec<CureAudit>,
}

/// A shrunk losing run, written as a scenario file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reproducer {
    /// The scenario file, or its name when it was not written.
    pub file: String,
    /// The seed it loses with.
    pub seed: u64,
    /// Its faults.
    pub faults: usize,
    /// Its messages.
    pub messages: u32,
    /// Messages it loses.
    pub lost: u64,
    /// The command that replays it.
    pub replay: String,
}

/// One setting change re-run against a losing class.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CureAudit {
    /// The setting, as the user's files name it.
    pub setting: String,
    /// Its value now.
    pub from: String,
    /// Its value with the cure.
    pub to: String,
    /// Whether every run with the change was conclusive and lost nothing.
    pub verified: bool,
    /// Counts of the runs with the change.
    pub counts: Counts,
    /// The clients' side of those runs.
    pub cost: Cost,
    /// Relative change of throughput against the class's own runs.
    pub throughput_change: Option<f64>,
    /// Relative change of the median send-to-ack latency.
    pub latency_change: Option<f64>,
}

/// The clients' side of a batch of runs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// Acknowledged messages per simulated second, from each run's first
    /// send to its last acknowledgement.
    pub throughput: f64,
    /// The median send-to-acknowledgement latency, in simulated
    /// microseconds.
    pub latency_p50_us: Option<u64>,
    /// Sends the brokers refused.
    pub refused: u64,
    /// Sends whose outcome the producers never learned.
    pub unknown: u64,
}

impl Cost {
    /// The relative change in throughput from `base` to `self` (−0.1 is
    /// 10% fewer messages a second); `None` when `base` had none.
    pub fn throughput_change(&self, base: &Cost) -> Option<f64> {
        (base.throughput > 0.0).then(|| self.throughput / base.throughput - 1.0)
    }

    /// The relative change in median latency from `base` to `self`.
    pub fn latency_change(&self, base: &Cost) -> Option<f64> {
        match (self.latency_p50_us, base.latency_p50_us) {
            (Some(now), Some(before)) if before > 0 => Some(now as f64 / before as f64 - 1.0),
            _ => None,
        }
    }
}

/// A relative change as a signed percentage (`+12.0%`, `-3.5%`), or `n/a`.
pub fn percent(change: Option<f64>) -> String {
    match change {
        Some(c) => format!("{:+.1}%", c * 100.0),
        None => "n/a".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_is_relative_to_the_base_and_unknown_without_one() {
        let base = Cost {
            throughput: 100.0,
            latency_p50_us: Some(2000),
            ..Cost::default()
        };
        let cured = Cost {
            throughput: 90.0,
            latency_p50_us: Some(3000),
            ..Cost::default()
        };
        assert_eq!(percent(cured.throughput_change(&base)), "-10.0%");
        assert_eq!(percent(cured.latency_change(&base)), "+50.0%");
        assert_eq!(percent(cured.throughput_change(&Cost::default())), "n/a");
    }
}
