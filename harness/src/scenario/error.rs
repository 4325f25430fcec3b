//! Errors in scenario files, located by file, line and column.

use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// What is wrong with a scenario file, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, 0 when the whole file is at fault.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The key at fault, when one is.
    pub key: Option<String>,
    /// What is wrong and what is allowed.
    pub message: String,
    /// The offending source line, for display.
    pub source_line: Option<String>,
}

impl ScenarioError {
    /// An error about the file as a whole (it cannot be read, say).
    pub(crate) fn whole_file(file: &Path, message: impl Into<String>) -> Self {
        ScenarioError {
            file: file.to_path_buf(),
            line: 0,
            column: 0,
            key: None,
            message: message.into(),
            source_line: None,
        }
    }

    /// An error at byte range `span` of `text`. When `key` is not given it is
    /// read off the line (`key = value`).
    pub(crate) fn at(
        file: &Path,
        text: &str,
        span: Option<Range<usize>>,
        key: Option<&str>,
        message: impl Into<String>,
    ) -> Self {
        let Some(span) = span else {
            return Self::whole_file(file, message);
        };
        let start = span.start.min(text.len());
        let before = &text[..start];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = text[line_start..start].chars().count() + 1;
        let source_line = text[line_start..].lines().next().unwrap_or("").to_string();
        let key = key
            .map(str::to_string)
            .or_else(|| key_of_line(&source_line));
        ScenarioError {
            file: file.to_path_buf(),
            line,
            column,
            key,
            message: message.into(),
            source_line: Some(source_line),
        }
    }
}

/// The key of a `key = value` line, unquoted.
fn key_of_line(line: &str) -> Option<String> {
    let (key, _) = line.split_once('=')?;
    let key = key.trim().trim_matches('"').trim_matches('\'');
    (!key.is_empty() && !key.starts_with('[')).then(|| key.to_string())
}

impl fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(f, "{}: {}", self.file.display(), self.message);
        }
        write!(f, "{}:{}:{}: ", self.file.display(), self.line, self.column)?;
        match &self.key {
            Some(k) if !self.message.contains(&format!("`{k}`")) => {
                write!(f, "key `{k}`: {}", self.message)?
            }
            _ => write!(f, "{}", self.message)?,
        }
        if let Some(src) = &self.source_line {
            write!(f, "\n    {src}\n    {:>w$}", "^", w = self.column)?;
        }
        Ok(())
    }
}

impl std::error::Error for ScenarioError {}

/// Builds an error at a span of the file being read, naming the key at
/// fault; the checks that follow reading take one so that they need not
/// carry the file's path and text.
pub(crate) type ErrAt<'a> =
    dyn Fn(Option<Range<usize>>, Option<&str>, String) -> ScenarioError + 'a;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_and_key_come_from_the_span() {
        let text = "name = \"x\"\nacks = 7\n";
        let e = ScenarioError::at(Path::new("s.toml"), text, Some(18..19), None, "bad acks");
        assert_eq!((e.line, e.column), (2, 8));
        assert_eq!(e.key.as_deref(), Some("acks"));
        let shown = e.to_string();
        assert!(
            shown.starts_with("s.toml:2:8: key `acks`: bad acks"),
            "{shown}"
        );
    }
}
