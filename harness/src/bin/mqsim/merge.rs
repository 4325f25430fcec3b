//! `mqsim merge`: one report from the JSON reports of several shards.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::output::{out, print_header, print_line};
use crate::run::{conclude, write_report, Outputs};

/// Merges `inputs` and writes the result as `run` would.
pub fn merge(inputs: &[PathBuf], outputs: &Outputs) -> ExitCode {
    let mut reports = Vec::new();
    for path in inputs {
        match reports::json::read(path) {
            Ok(r) => reports.push(r),
            Err(e) => {
                eprintln!("error: cannot read {}: {e}", path.display());
                return ExitCode::from(2);
            }
        }
    }
    let merged = reports::merge::merge(reports);
    print_header();
    for s in &merged.scenarios {
        print_line(s);
    }
    match write_report(&merged, outputs) {
        Ok(page) => out!("report: {}", page.display()),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    conclude(&merged)
}
