//! A scenario's run on a real broker (`mqsim real`) beside the model's
//! verdict: its column in the scenario table, its sub-section in the
//! scenario's section, and the count of scenarios on which the two agree.
//!
//! The real run was judged by the same checker as the model's seeds, so
//! it is drawn by the same code ([`super::runs`]); only its clock differs:
//! its times are wall-clock time since the run started.

use super::format::verdict_class;
use super::runs::{self, Clock, LostSeed, PlotView};
use crate::describe::count;
use crate::document::{Counts, RealRun, Report, Verdict};

/// Whether the real broker gave the model's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Agreement {
    /// The same verdict.
    Same,
    /// Another verdict.
    Differs,
}

impl Agreement {
    fn of(real: &RealRun, model: Verdict) -> Option<Agreement> {
        real.agrees_with(model).map(|same| {
            if same {
                Agreement::Same
            } else {
                Agreement::Differs
            }
        })
    }

    /// The mark beside the real verdict.
    pub(crate) fn mark(self) -> &'static str {
        match self {
            Agreement::Same => "= same",
            Agreement::Differs => "≠ differs",
        }
    }

    /// `real-same` or `real-mismatch`, for CSS.
    pub(crate) fn class(self) -> &'static str {
        match self {
            Agreement::Same => "real-same",
            Agreement::Differs => "real-mismatch",
        }
    }
}

/// A real run that took place.
pub(crate) struct RealRan {
    /// The real verdict.
    pub(crate) verdict: Verdict,
    /// The model's verdict over its seeds.
    pub(crate) model: Verdict,
    /// Whether they agree.
    pub(crate) agreement: Agreement,
    /// The real run's counts.
    pub(crate) counts: Counts,
    /// Messages still readable when an inconclusive real run's drain ended.
    pub(crate) readable: u64,
    /// The command that runs it again.
    pub(crate) replay: String,
    /// Its throughput and latency plot.
    pub(crate) plots: Vec<PlotView>,
    /// Its lost messages, with their timelines.
    pub(crate) lost: Vec<LostSeed>,
}

impl RealRan {
    /// `loss`, `ok` or `unknown`, for CSS.
    pub(crate) fn verdict_class(&self) -> &'static str {
        verdict_class(self.verdict)
    }

    /// The real verdict in words.
    pub(crate) fn verdict_text(&self) -> String {
        match self.verdict {
            Verdict::Loss => "loses acknowledged messages".into(),
            Verdict::NoLoss => "no acknowledged message lost".into(),
            Verdict::Inconclusive => format!(
                "? inconclusive: did not drain, {} still readable",
                count(self.readable)
            ),
        }
    }

    /// Whether the real verdict is the model's.
    pub(crate) fn agrees(&self) -> bool {
        self.agreement == Agreement::Same
    }

    /// How the real verdict compares with the model's, in words.
    pub(crate) fn agreement_text(&self) -> String {
        match self.agreement {
            Agreement::Same => format!("✓ same as the model ({})", self.model.name()),
            Agreement::Differs => format!("✗ differs from the model ({})", self.model.name()),
        }
    }
}

/// A scenario on a real broker: run, or skipped and why.
pub(crate) struct RealView {
    /// The broker and its version.
    pub(crate) broker: String,
    /// The `id` of the sub-section.
    pub(crate) anchor: String,
    /// Why it did not run on real nodes.
    pub(crate) skipped: Option<String>,
    /// The run, when it took place.
    pub(crate) ran: Option<RealRan>,
}

impl RealView {
    /// Why it did not run on real nodes; empty when it ran.
    pub(crate) fn skipped_text(&self) -> &str {
        self.skipped.as_deref().unwrap_or_default()
    }

    /// The view of `real`, the real run of a scenario whose model verdict
    /// is `model` and whose section is `scenario_anchor`.
    pub(crate) fn of(real: &RealRun, model: Verdict, scenario_anchor: &str) -> RealView {
        let anchor = format!("{scenario_anchor}-real");
        let ran = real.report.as_deref().and_then(|r| {
            Some(RealRan {
                verdict: r.verdict,
                model,
                agreement: Agreement::of(real, model)?,
                counts: r.totals,
                readable: r.readable(),
                replay: r.replay.clone(),
                plots: runs::plots(r, Clock::SinceStart),
                lost: runs::lost(r, &anchor),
            })
        });
        RealView {
            broker: real.broker.clone(),
            skipped: match (&real.skipped, &ran) {
                (Some(why), _) => Some(why.clone()),
                (None, None) => Some("no real run was recorded".into()),
                (None, Some(_)) => None,
            },
            anchor,
            ran,
        }
    }
}

/// The header of the scenario table's real column: `real` and every
/// broker the report's real runs ran on; `None` when none did, and the
/// table has no such column.
pub(crate) fn column(report: &Report) -> Option<String> {
    let mut brokers: Vec<&str> = Vec::new();
    for real in report.scenarios.iter().filter_map(|s| s.real.as_ref()) {
        if !brokers.contains(&real.broker.as_str()) {
            brokers.push(&real.broker);
        }
    }
    (!brokers.is_empty()).then(|| format!("real {}", brokers.join(" / ")))
}

/// How many scenarios give the real broker's verdict, of those that ran
/// on real nodes.
pub(crate) struct Tally {
    /// Scenarios whose real verdict is the model's.
    pub(crate) agree: usize,
    /// Scenarios that ran on real nodes.
    pub(crate) ran: usize,
    /// Scenarios skipped on real nodes.
    pub(crate) skipped: usize,
}

impl Tally {
    /// The summary line.
    pub(crate) fn text(&self) -> String {
        let skipped = match self.skipped {
            0 => String::new(),
            n => format!(" ({n} skipped on real nodes)"),
        };
        format!(
            "real vs model: {} of {} scenarios agree{skipped}",
            self.agree, self.ran
        )
    }

    /// Whether every scenario that ran agrees.
    pub(crate) fn all_agree(&self) -> bool {
        self.agree == self.ran
    }
}

/// The tally of `report`; `None` when no scenario has a real run.
pub(crate) fn tally(report: &Report) -> Option<Tally> {
    let agreements: Vec<Option<bool>> = report
        .scenarios
        .iter()
        .filter_map(|s| s.real.as_ref().map(|r| r.agrees_with(s.verdict)))
        .collect();
    (!agreements.is_empty()).then(|| Tally {
        agree: agreements.iter().filter(|a| **a == Some(true)).count(),
        ran: agreements.iter().filter(|a| a.is_some()).count(),
        skipped: agreements.iter().filter(|a| a.is_none()).count(),
    })
}
