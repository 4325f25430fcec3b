//! One scenario run twice: by the model over its seeds, and once on real
//! nodes; the two verdicts side by side, in one scenario report.

use reports::{RealRun, ScenarioReport, Verdict};

use super::compare::Agreement;
use super::error::RealError;
use super::run::{run_real, RealOptions, RealOutcome};
use crate::scenario::Scenario;
use crate::summary::scenario_report;

/// A scenario's verdicts from the model and from real nodes.
#[derive(Clone, Debug)]
pub struct SideBySide {
    /// The model's report over the scenario's seeds, with the real run in
    /// its `real`.
    pub report: ScenarioReport,
    /// What the real nodes gave.
    pub real: RealOutcome,
}

impl SideBySide {
    /// The scenario.
    pub fn name(&self) -> &str {
        &self.report.name
    }

    /// The model's verdict over the scenario's seeds.
    pub fn model(&self) -> Verdict {
        self.report.verdict
    }

    /// The real run's verdict, as its report (and the page) gives it;
    /// `None` when the scenario was skipped.
    pub fn real_verdict(&self) -> Option<Verdict> {
        self.report.real.as_ref().and_then(RealRun::verdict)
    }

    /// How the verdicts compare; `None` when the scenario was skipped.
    pub fn agreement(&self) -> Option<Agreement> {
        self.real_verdict()
            .map(|real| Agreement::of(self.model(), real))
    }
}

/// Runs `scenario` in the model and on real nodes whose broker is
/// `broker` (its name and version).
pub fn side_by_side(
    scenario: &Scenario,
    options: &RealOptions,
    broker: &str,
) -> Result<SideBySide, RealError> {
    let (mut report, _runs) = crate::suite::run(scenario)
        .map_err(|e| RealError::Command(format!("the model failed: {e}")))?;
    let real = run_real(scenario, options)?;
    report.real = Some(match &real {
        RealOutcome::Ran(run) => {
            let mut real = scenario_report(scenario, std::slice::from_ref(run));
            real.replay = format!(
                "cargo run --release --bin mqsim -- real rabbitmq {}",
                scenario.file.display()
            );
            RealRun {
                broker: broker.to_string(),
                skipped: None,
                report: Some(Box::new(real)),
            }
        }
        RealOutcome::Skipped(why) => RealRun {
            broker: broker.to_string(),
            skipped: Some(why.to_string()),
            report: None,
        },
    });
    Ok(SideBySide { report, real })
}
