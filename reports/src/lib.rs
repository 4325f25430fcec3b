//! The result document of mqsim runs, and its renderings.
//!
//! The harness fills a [`Report`]; this crate knows nothing of how runs are
//! made, only of what a person (or CI) needs to see of them. JSON is the
//! exchange format; [`html`] renders the page a person reads.

pub mod audit;
pub mod describe;
mod document;
pub mod html;
pub mod json;
pub mod merge;

pub use document::{
    Bucket, Counts, FaultSpan, Host, LostMessage, Outcome, Phase, Report, ScenarioReport,
    SeedReport, Series, Verdict,
};
