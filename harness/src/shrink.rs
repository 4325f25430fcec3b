//! Shrinking a losing run to a minimal reproducer.
//!
//! Given a scenario and a seed that lost messages, the shrinker looks for a
//! smaller scenario that still loses with the same seed: fewer faults,
//! shorter faults, earlier faults, fewer messages, a shorter run. Random
//! nemesis schedules are written out as explicit faults first, so the
//! result is a plain scenario file anyone can read and replay. Candidates of
//! one round run in parallel; the first one (in a fixed order) that still
//! loses is kept, so the result does not depend on thread timing.

use std::time::Duration;

use rayon::prelude::*;

use crate::runner::{self, RunError};
use crate::scenario::{Expect, Scenario};

/// A minimal losing scenario.
#[derive(Clone, Debug)]
pub struct Shrunk {
    /// The scenario, with its seed as its only seed.
    pub scenario: Scenario,
    /// The seed.
    pub seed: u64,
    /// Messages it loses.
    pub lost: u64,
    /// Runs the shrinking took.
    pub runs: usize,
}

fn loses(s: &Scenario, seed: u64) -> Result<u64, RunError> {
    runner::run(s, seed).map(|r| r.analysis.counts.lost)
}

/// Shrinks `scenario` with `seed`, trying at most `budget` runs. Returns
/// `None` when the seed does not lose in the first place.
pub fn shrink(scenario: &Scenario, seed: u64, budget: usize) -> Result<Option<Shrunk>, RunError> {
    let mut best = scenario.clone();
    best.faults = runner::schedule(scenario, seed);
    best.nemesis = None;
    best.seeds = vec![seed];
    best.expect = Expect::Loss;
    let mut lost = loses(&best, seed)?;
    let mut runs = 1;
    if lost == 0 {
        return Ok(None);
    }
    loop {
        let candidates = candidates(&best);
        if candidates.is_empty() || runs >= budget {
            break;
        }
        let room = budget - runs;
        let tried: Vec<Scenario> = candidates.into_iter().take(room).collect();
        runs += tried.len();
        let results: Vec<Result<u64, RunError>> =
            tried.par_iter().map(|c| loses(c, seed)).collect();
        let mut improved = false;
        for (candidate, result) in tried.into_iter().zip(results) {
            let n = result?;
            if n > 0 {
                best = candidate;
                lost = n;
                improved = true;
                break;
            }
        }
        if !improved {
            break;
        }
    }
    best.name = format!("{}-seed{seed}-shrunk", scenario.name);
    best.description = format!(
        "A minimal schedule, found by shrinking `{}` with seed {seed}, that still loses acknowledged messages.",
        scenario.name
    );
    Ok(Some(Shrunk {
        scenario: best,
        seed,
        lost,
        runs,
    }))
}

fn halve(d: Duration) -> Option<Duration> {
    let half = Duration::from_millis((d.as_millis() / 2) as u64);
    (half >= Duration::from_millis(10)).then_some(half)
}

/// Every one-step simplification of `s`, simplest first: dropping a fault,
/// shortening a fault, moving a fault earlier, halving the messages,
/// halving the run.
fn candidates(s: &Scenario) -> Vec<Scenario> {
    let mut out = Vec::new();
    for i in 0..s.faults.len() {
        let mut c = s.clone();
        c.faults.remove(i);
        out.push(c);
    }
    for i in 0..s.faults.len() {
        if let Some(shorter) = s.faults[i].action.duration().and_then(halve) {
            let mut c = s.clone();
            if let Some(duration) = c.faults[i].action.duration_mut() {
                *duration = Some(shorter);
            }
            out.push(c);
        }
    }
    for i in 0..s.faults.len() {
        if let Some(earlier) = halve(s.faults[i].at) {
            let mut c = s.clone();
            c.faults[i].at = earlier;
            out.push(c);
        }
    }
    let half = s.workload.messages / 2;
    if half >= s.workload.producers.max(10) {
        let mut c = s.clone();
        c.workload.messages = half;
        out.push(c);
    }
    let last_fault = s.faults.iter().map(|f| f.at).max().unwrap_or_default();
    if let Some(shorter) = halve(s.duration).filter(|d| *d > last_fault) {
        let mut c = s.clone();
        c.duration = shorter;
        out.push(c);
    }
    out
}
