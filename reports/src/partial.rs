//! How far a run that did not finish got.

use serde::{Deserialize, Serialize};

/// The progress of a run cut short (Ctrl-C, a crash, or a report refreshed
/// while scenarios are still to run).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partial {
    /// Scenarios that ran every planned seed.
    pub scenarios_done: u64,
    /// Scenarios the run was asked for.
    pub scenarios_planned: u64,
    /// The scenario cut short, if one was: its report holds the seeds that
    /// finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cut: Option<CutScenario>,
}

/// A scenario whose seeds did not all run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CutScenario {
    /// Its name.
    pub name: String,
    /// Seeds that finished, in seed order from the first.
    pub seeds_done: u64,
    /// Seeds it was to run.
    pub seeds_planned: u64,
}

impl Partial {
    /// One line for the terminal, the page and CI logs.
    pub fn describe(&self) -> String {
        let scenarios = format!(
            "{} of {} scenarios complete",
            self.scenarios_done, self.scenarios_planned
        );
        match &self.cut {
            Some(c) => format!(
                "partial: {} of {} seeds of scenario {}; {scenarios}",
                c.seeds_done, c.seeds_planned, c.name
            ),
            None => format!("partial: {scenarios}"),
        }
    }
}
