//! The report as one self-contained HTML page: a guarantee matrix, then per
//! scenario its configuration, faults, counts, a throughput and latency plot
//! per run, and a lifecycle timeline per lost message.
//!
//! Self-contained means no request leaves the page: the CSS is inline, the
//! drawings are inline SVG, and expanding a section is plain `<details>`,
//! so the page needs no script at all. The same report always renders to
//! the same bytes.

pub mod audit;
mod faults;
mod format;
mod marks;
mod matrix;
mod page;
mod plot;
mod svg;
mod timeline;

use std::io;
use std::path::Path;

use askama::Template;

use crate::document::Report;

/// Lost messages per seed that get a drawn timeline; every lost message is
/// still listed by id, and `report.json` has the trails the report kept.
pub(crate) const TIMELINES_PER_SEED: usize = 5;

/// The page of `report`.
pub(crate) fn render(report: &Report) -> String {
    page::page(report)
        .render()
        .expect("the page template renders every report")
}

/// Writes the page of `report` to `path`, creating parent folders.
pub fn write(report: &Report, path: &Path) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::write(path, render(report))
}

#[cfg(test)]
mod tests;
