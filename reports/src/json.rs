//! The report as JSON.

use std::io;
use std::path::Path;

use crate::document::Report;

/// The report as pretty-printed JSON.
pub fn to_string(report: &Report) -> String {
    serde_json::to_string_pretty(report).expect("reports always serialize")
}

/// Writes the report to `path` as JSON, atomically, creating parent
/// folders.
pub fn write(report: &Report, path: &Path) -> io::Result<()> {
    crate::files::write_atomically(path, to_string(report).as_bytes())
}

/// Reads a report written by [`write()`].
pub fn read(path: &Path) -> io::Result<Report> {
    let text = std::fs::read_to_string(path)?;
    serde_json::from_str(&text).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_round_trips() {
        let dir = std::env::temp_dir().join(format!("mqsim-json-{}", std::process::id()));
        let path = dir.join("r.json");
        let report = Report::new();
        write(&report, &path).unwrap();
        assert_eq!(read(&path).unwrap(), report);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
