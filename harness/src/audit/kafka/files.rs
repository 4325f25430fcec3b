//! A Kafka `.properties` file as read, with the keys the audit uses.

use std::path::{Path, PathBuf};

use crate::audit::deployment::NotModelled;
use crate::audit::error::ReadError;
use crate::audit::properties::{self, Entry};

/// One of the deployment's `.properties` files.
pub(crate) struct PropFile {
    pub(crate) path: PathBuf,
    entries: Vec<Entry>,
}

impl PropFile {
    /// Reads and parses the file at `path`.
    pub(crate) fn load(path: &Path) -> Result<Self, ReadError> {
        let bytes =
            std::fs::read(path).map_err(|e| ReadError::file(path, format!("cannot read: {e}")))?;
        Self::parse(path, &bytes)
    }

    /// Parses `bytes`, reporting errors against `path`.
    pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Self, ReadError> {
        let entries = properties::parse(bytes).map_err(|e| ReadError {
            path: path.to_path_buf(),
            line: Some(e.line),
            key: None,
            message: e.message,
        })?;
        Ok(PropFile {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// The entry of `key`: the last one, as `Properties` keeps the last.
    pub(crate) fn get(&self, key: &str) -> Option<&Entry> {
        self.entries.iter().rev().find(|e| e.key == key)
    }

    /// The keys of this file outside `known` (or inside `unused`), each
    /// once, at its first line.
    pub(crate) fn not_modelled(&self, known: &[&str], unused: &[&str]) -> Vec<NotModelled> {
        let mut out: Vec<NotModelled> = Vec::new();
        for e in &self.entries {
            let modelled = known.contains(&e.key.as_str()) && !unused.contains(&e.key.as_str());
            if !modelled && !out.iter().any(|n| n.key == e.key) {
                out.push(NotModelled {
                    path: self.path.clone(),
                    line: e.line,
                    key: e.key.clone(),
                });
            }
        }
        out
    }
}
