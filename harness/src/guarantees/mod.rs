//! The guarantee matrix: for each configuration, the fault classes it
//! claims to survive without losing an acknowledged message, and those it
//! does not.
//!
//! The property tests (`harness/tests/properties/`) hold every row to its
//! claims in both directions: generated schedules of a survived class must
//! lose nothing, and generated schedules of a class it does not survive must
//! lose something within a bounded number of cases. README's table is
//! rendered from this list (a test keeps them equal).

mod class;
mod guarantee;
mod rows;

use std::time::Duration;

use broker_model::Workload;

use crate::fault::Fault;
use crate::scenario::Scenario;

pub use class::FaultClass;
pub use guarantee::Guarantee;
pub use rows::{matrix, missing_binding};

/// A scenario running `g`'s configuration under `faults`.
pub fn scenario(
    g: &Guarantee,
    workload: Workload,
    duration: Duration,
    faults: Vec<Fault>,
) -> Scenario {
    let mut s = Scenario::new(g.name, g.system.clone());
    s.description = g.summary.to_string();
    s.workload = workload;
    s.duration = duration;
    s.faults = faults;
    s
}

/// The matrix as a Markdown table (survives ✓, loses ✗, untested blank).
pub fn markdown() -> String {
    let mut out = String::from("| configuration |");
    for c in FaultClass::ALL {
        out.push_str(&format!(" {} |", c.name()));
    }
    out.push_str("\n|---|");
    for _ in FaultClass::ALL {
        out.push_str("---|");
    }
    for g in matrix() {
        out.push_str(&format!("\n| `{}`: {} |", g.name, g.summary));
        for c in FaultClass::ALL {
            let cell = if g.survives.contains(&c) {
                " ✓ |"
            } else if g.loses_under.contains(&c) {
                " ✗ |"
            } else {
                " |"
            };
            out.push_str(cell);
        }
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::System;

    #[test]
    fn no_row_claims_both_ways_and_every_config_is_valid() {
        for g in matrix() {
            for c in &g.survives {
                assert!(!g.loses_under.contains(c), "{}: {c:?} both ways", g.name);
            }
            match &g.system {
                System::Log(config) => config.validate().unwrap(),
                System::Queue(config) => config.validate().unwrap(),
            }
        }
    }
}

#[cfg(test)]
mod readme {
    #[test]
    fn the_readme_shows_this_matrix() {
        let readme = include_str!("../../../README.md");
        let table = super::markdown();
        assert!(
            readme.contains(&table),
            "README.md's guarantee matrix is out of date; it should read:\n{table}"
        );
    }
}
