//! `mqsim new` and `mqsim schema`: help for people writing scenarios.

use std::path::Path;
use std::process::ExitCode;

use harness::scenario::{self, starter, SYSTEMS};

use crate::output::out;

/// `mqsim new`: a commented starter file for `system`, printed or written
/// to `path` (never over an existing file).
pub fn new(system: &str, path: Option<&Path>) -> ExitCode {
    let Some(text) = starter(system) else {
        eprintln!(
            "error: unknown system `{system}`; allowed: {}",
            SYSTEMS.join(", ")
        );
        return ExitCode::from(2);
    };
    let Some(path) = path else {
        out!("{text}");
        return ExitCode::SUCCESS;
    };
    if path.exists() {
        eprintln!("error: {} exists; choose another name", path.display());
        return ExitCode::from(2);
    }
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    let written = parent
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|_| std::fs::write(path, text));
    match written {
        Ok(()) => {
            out!("wrote {}; check it with: mqsim check {0}", path.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot write {}: {e}", path.display());
            ExitCode::from(2)
        }
    }
}

/// `mqsim schema`: the JSON Schema of scenario files.
pub fn print_schema() -> ExitCode {
    let text = serde_json::to_string_pretty(&scenario::schema()).expect("the schema serializes");
    out!("{text}");
    ExitCode::SUCCESS
}
