//! Loading scenario files for a command, with errors reported and mapped
//! to exit code 2.

use std::path::PathBuf;
use std::process::ExitCode;

use harness::scenario::{self, Scenario};

use crate::output::out;

/// Every scenario under `paths`, or exit code 2 after printing each error.
pub fn load_all(paths: &[PathBuf]) -> Result<Vec<Scenario>, ExitCode> {
    let files = scenario::discover(paths).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })?;
    if files.is_empty() {
        eprintln!("error: no scenario files (*.toml) found");
        return Err(ExitCode::from(2));
    }
    let mut scenarios = Vec::new();
    let mut failed = false;
    for f in files {
        match scenario::load(&f) {
            Ok(s) => scenarios.push(s),
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
            }
        }
    }
    if failed {
        Err(ExitCode::from(2))
    } else {
        Ok(scenarios)
    }
}

/// `mqsim check`: validates files without running them.
pub fn check(paths: &[PathBuf]) -> ExitCode {
    match load_all(paths) {
        Ok(scenarios) => {
            for s in &scenarios {
                out!(
                    "ok  {}  ({}, {} seeds, {} faults)",
                    s.file.display(),
                    s.system.name(),
                    s.seeds.len(),
                    s.faults.len()
                );
            }
            ExitCode::SUCCESS
        }
        Err(code) => code,
    }
}
