//! Finding scenario files in the files and folders a command names.

use std::path::{Path, PathBuf};

use super::error::ScenarioError;

/// Every `.toml` file under `paths` (files as given, folders searched
/// recursively), sorted, so runs visit scenarios in a stable order.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, ScenarioError> {
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            collect(p, &mut files)
                .map_err(|e| ScenarioError::whole_file(p, format!("cannot list: {e}")))?;
        } else if p.exists() {
            files.push(p.clone());
        } else {
            return Err(ScenarioError::whole_file(p, "no such file or folder"));
        }
    }
    files.sort();
    files.dedup();
    Ok(files)
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    Ok(())
}
