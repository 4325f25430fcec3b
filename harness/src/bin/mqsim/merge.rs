//! `mqsim merge`: one report from the JSON reports of several shards, or
//! from the seeds they streamed.

use std::path::PathBuf;
use std::process::ExitCode;

use crate::output::{out, print_header, print_line};
use crate::run::{conclude, write_report, Outputs};

/// Merges `inputs` (`report.json` files, or `.jsonl` files of streamed
/// seeds) and writes the result as `run` would.
pub fn merge(inputs: &[PathBuf], outputs: &Outputs) -> ExitCode {
    let mut reports = Vec::new();
    for path in inputs {
        let streamed = path.extension().is_some_and(|e| e == "jsonl");
        let read = if streamed {
            reports::stream::read(path)
        } else {
            reports::json::read(path)
        };
        match read {
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
    if let Some(partial) = &merged.partial {
        out!("{}", partial.describe());
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
