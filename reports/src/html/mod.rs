//! The report as one self-contained HTML page: a guarantee matrix, then per
//! scenario its configuration, faults, counts, an aggregate over its seeds,
//! a throughput and latency plot per run the report keeps in full, and a
//! lifecycle timeline per lost message. Its size depends on the seeds kept
//! in full, not on how many ran. A report of `mqsim real` also shows each
//! scenario's verdict on the real broker beside the model's (`real.rs`).
//!
//! Self-contained means no request leaves the page: the CSS is inline, the
//! drawings are inline SVG, and expanding a section is plain `<details>`,
//! so the page needs no script at all. The same report always renders to
//! the same bytes.

mod aggregate;
pub mod audit;
mod faults;
mod format;
mod marks;
mod matrix;
mod page;
mod plot;
mod real;
mod runs;
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

/// Writes the page of `report` to `path`, atomically, creating parent
/// folders.
pub fn write(report: &Report, path: &Path) -> io::Result<()> {
    crate::files::write_atomically(path, render(report).as_bytes())
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_at_scale;
#[cfg(test)]
mod tests_real;
