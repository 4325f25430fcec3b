//! Runs a scenario over many seeds, in parallel on every core.
//!
//! Each seed runs on one thread from start to end, so the result of a seed
//! does not depend on how many threads there are; results come back in seed
//! order.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use reports::stream::SeedLine;
use reports::ScenarioReport;

use crate::runner::{self, RunError, RunOutput};
use crate::scenario::Scenario;
use crate::summary::{self, Finished, Fold};

/// Runs `scenario` with each of `seeds` and reports on the whole.
///
/// Every run's history is kept until the end: for a few seeds (tests, an
/// audit). A sweep of many seeds uses [`sweep`].
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

/// The report of `scenario` before any seed has run: what it is and what
/// it expects (the first line a streamed sweep writes for it).
pub fn header(scenario: &Scenario) -> ScenarioReport {
    summary::scenario_header(scenario)
}

/// What a [`sweep`] tells its caller as it goes.
pub struct SweepHooks<'a> {
    /// Each run as it finishes, on the thread that ran it, before its
    /// history is dropped (to write it out, say).
    pub on_run: &'a (dyn Fn(&RunOutput) + Sync),
    /// Each seed as the report keeps it, in seed order (to stream it to
    /// disk, say).
    pub on_seed: &'a mut dyn FnMut(SeedLine<'_>),
    /// Checked between batches of seeds: once set, the sweep stops and
    /// reports the seeds it finished.
    pub stop: &'a AtomicBool,
}

/// How a sweep ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SweepEnd {
    /// Every seed ran.
    Complete,
    /// `stop` was set; the report holds the seeds before the first that did
    /// not run.
    Stopped,
}

/// Seeds run at once per thread: enough to keep every core busy while one
/// batch's slowest seed finishes, few enough that the histories in flight
/// stay a small, fixed amount of memory.
const SEEDS_PER_THREAD_IN_FLIGHT: usize = 4;

/// Runs `scenario` with each of `seeds` in bounded memory: each run is
/// reduced to its row as soon as it finishes and its history dropped; the
/// report keeps every seed's counts but the lists, trails and series of
/// the first [`reports::DETAILED_SEEDS`] seeds and first losing ones only. Seeds run
/// in parallel in batches and are folded in seed order, so the report is
/// the same whatever the number of threads, and the same as
/// [`run_seeds`]'s.
pub fn sweep(
    scenario: &Scenario,
    seeds: &[u64],
    hooks: SweepHooks<'_>,
) -> Result<(ScenarioReport, SweepEnd), RunError> {
    let batch = (rayon::current_num_threads() * SEEDS_PER_THREAD_IN_FLIGHT).max(1);
    let mut fold = Fold::new(summary::scenario_header(scenario));
    for (b, part) in seeds.chunks(batch).enumerate() {
        if hooks.stop.load(Ordering::SeqCst) {
            return Ok((fold.finish(), SweepEnd::Stopped));
        }
        let finished = part
            .par_iter()
            .enumerate()
            .map(|(i, seed)| {
                let run = runner::run(scenario, *seed)?;
                (hooks.on_run)(&run);
                Ok(Finished::of(&run, fold.wanted(b * batch + i)))
            })
            .collect::<Result<Vec<_>, RunError>>()?;
        for f in finished {
            let added = fold.add(f);
            (hooks.on_seed)(SeedLine {
                row: added.row,
                ack_latency_us: &added.ack_latency,
                hosts: added.hosts,
            });
        }
    }
    Ok((fold.finish(), SweepEnd::Complete))
}
