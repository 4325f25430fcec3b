//! The result document of mqsim runs, and its renderings.
//!
//! The harness fills a [`Report`]; this crate knows nothing of how runs are
//! made, only of what a person (or CI) needs to see of them. JSON is the
//! exchange format; [`html`] renders the page a person reads.

pub mod audit;
pub mod describe;
mod document;
pub mod files;
pub mod html;
pub mod json;
mod latency;
pub mod merge;
mod partial;
mod retention;
pub mod stream;

pub use document::{
    Bucket, Counts, Detail, FaultSpan, Host, LostMessage, Outcome, Phase, RealRun, Report,
    ScenarioReport, SeedReport, Series, Verdict,
};
pub use latency::{AckLatency, SHOWN_QUANTILES};
pub use partial::{CutScenario, Partial};
pub use retention::{Retention, DETAILED_SEEDS};
