//! Bad input to `mqsim audit`: a file that cannot be read or parsed, or a
//! value the broker or client itself would refuse.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::scenario::error::ScenarioError;

/// What is wrong with one of the deployment's files, and where: the CLI
/// prints it and exits 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReadError {
    /// The file.
    pub path: PathBuf,
    /// Its line, from 1; `None` when the whole file is at fault.
    pub line: Option<u32>,
    /// The key at fault, as the file spells it, when one is.
    pub key: Option<String>,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl ReadError {
    /// An error about the file as a whole (it cannot be read, say).
    pub(crate) fn file(path: &Path, message: impl Into<String>) -> Self {
        ReadError {
            path: path.to_path_buf(),
            line: None,
            key: None,
            message: message.into(),
        }
    }

    /// An error at `line` of `path`, about `key`.
    pub(crate) fn at(path: &Path, line: u32, key: &str, message: impl Into<String>) -> Self {
        ReadError {
            path: path.to_path_buf(),
            line: Some(line),
            key: Some(key.to_string()),
            message: message.into(),
        }
    }
}

impl From<ScenarioError> for ReadError {
    /// An error the scenario parser found in a file of the deployment
    /// written in the scenario format (`client.toml`).
    fn from(e: ScenarioError) -> Self {
        ReadError {
            path: e.file,
            line: u32::try_from(e.line).ok().filter(|&l| l > 0),
            key: e.key,
            message: e.message,
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        match &self.key {
            Some(k) if !self.message.contains(&format!("`{k}`")) => {
                write!(f, ": key `{k}`: {}", self.message)
            }
            _ => write!(f, ": {}", self.message),
        }
    }
}

impl std::error::Error for ReadError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_names_the_file_the_line_and_the_key() {
        let e = ReadError::at(Path::new("server.properties"), 7, "acks", "bad value");
        assert_eq!(e.to_string(), "server.properties:7: key `acks`: bad value");
        let e = ReadError::file(Path::new("x.json"), "cannot read");
        assert_eq!(e.to_string(), "x.json: cannot read");
    }
}
