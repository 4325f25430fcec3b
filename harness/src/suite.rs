//! Runs a scenario over many seeds, in parallel on every core.
//!
//! Each seed runs on one thread from start to end, so the result of a seed
//! does not depend on how many threads there are; results come back in seed
//! order.

use rayon::prelude::*;
use reports::ScenarioReport;

use crate::runner::{self, RunError, RunOutput};
use crate::scenario::Scenario;
use crate::summary;

/// Runs `scenario` with each of `seeds` and reports on the whole.
pub fn run_seeds(
    scenario: &Scenario,
    seeds: &[u64],
) -> Result<(ScenarioReport, Vec<RunOutput>), RunError> {
    run_seeds_with(scenario, seeds, || {})
}

/// Like [`run_seeds`], calling `done` as each seed finishes (from whichever
/// thread ran it), for progress display.
pub fn run_seeds_with(
    scenario: &Scenario,
    seeds: &[u64],
    done: impl Fn() + Sync,
) -> Result<(ScenarioReport, Vec<RunOutput>), RunError> {
    let runs = seeds
        .par_iter()
        .map(|seed| {
            let run = runner::run(scenario, *seed);
            done();
            run
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok((summary::scenario_report(scenario, &runs), runs))
}

/// Runs `scenario` with its own seeds.
pub fn run(scenario: &Scenario) -> Result<(ScenarioReport, Vec<RunOutput>), RunError> {
    run_seeds(scenario, &scenario.seeds)
}
