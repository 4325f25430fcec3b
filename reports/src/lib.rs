//! The result document of mqsim runs, and its renderings.
//!
//! The harness fills a [`Report`]; this crate knows nothing of how runs are
//! made, only of what a person (or CI) needs to see of them. JSON is the
//! exchange format.

pub mod document;
pub mod json;
pub mod merge;

pub use document::{Counts, LostMessage, Report, ScenarioReport, SeedReport, Verdict};
