//! A scenario's report built one seed at a time, in seed order, in memory
//! that does not grow with the seeds beyond one small row each.

use reports::{AckLatency, Detail, Host, Retention, ScenarioReport, SeedReport, DETAILED_SEEDS};

use super::{Finished, Wanted};

/// A seed as a fold kept it, for streaming.
pub(crate) struct Added<'a> {
    /// Its row.
    pub(crate) row: &'a SeedReport,
    /// Its latencies.
    pub(crate) ack_latency: AckLatency,
    /// The cluster's hosts, with the first seed only.
    pub(crate) hosts: &'a [Host],
}

/// Folds finished seeds into a scenario's report, keeping in full only the
/// seeds [`Retention`] picks.
pub(crate) struct Fold {
    report: ScenarioReport,
    retention: Retention,
}

impl Fold {
    /// A fold starting from `header`, a scenario's report with no seeds.
    pub(crate) fn new(header: ScenarioReport) -> Fold {
        Fold {
            report: header,
            retention: Retention::default(),
        }
    }

    /// How a worker should reduce the run of the `index`-th seed of the
    /// sweep (from 0), given the seeds folded so far: no later seed can be
    /// kept in full once the first seeds and the first losing ones have
    /// been.
    pub(crate) fn wanted(&self, index: usize) -> Wanted {
        if index < DETAILED_SEEDS {
            Wanted::Full
        } else if self.retention.may_keep_losing() {
            Wanted::IfNotable
        } else {
            Wanted::CountsOnly
        }
    }

    /// Adds the next seed (seeds come in seed order); returns it as kept.
    pub(crate) fn add(&mut self, finished: Finished) -> Added<'_> {
        let Finished {
            row,
            ack_latency,
            hosts,
        } = finished;
        let first = self.report.seeds.is_empty();
        if first {
            self.report.hosts = hosts;
        }
        self.report.ack_latency_us.add(&ack_latency);
        let row = match self.retention.keep(&row) {
            Detail::Full => row,
            Detail::CountsOnly => row.counts_only(),
        };
        self.report.seeds.push(row);
        Added {
            row: self.report.seeds.last().expect("just pushed"),
            ack_latency,
            hosts: if first { &self.report.hosts } else { &[] },
        }
    }

    /// The report of the seeds folded so far, verdict and totals computed.
    #[cfg(test)]
    pub(crate) fn snapshot(&self) -> ScenarioReport {
        let mut r = self.report.clone();
        r.recompute();
        r
    }

    /// The report of every seed folded.
    pub(crate) fn finish(mut self) -> ScenarioReport {
        self.report.recompute();
        self.report
    }
}

#[cfg(test)]
mod tests;
