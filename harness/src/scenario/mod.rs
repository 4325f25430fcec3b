//! Scenario files: which system, which configuration, which faults, and what
//! the author expects.
//!
//! A file is read into raw types that keep the span of every value (`raw`,
//! `spanned`, and each system's `[config]` in `log_config` and
//! `queue_config`), then checked and converted (`parse`, with the faults and
//! the random nemesis in `validate`) into a [`Scenario`] (`model`). Every
//! error names the file, the line and column, the key, and what is allowed.
//! The JSON Schema of the format (`schema`) is derived from the same raw
//! types, so it lists what the parser accepts. The other way round,
//! `settings` names a checked configuration's settings for reports and
//! `writer` writes a scenario back as a file; `discover` finds scenario
//! files and `starter` holds the files `mqsim new` writes.

mod discover;
pub(crate) mod error;
mod kernel;
pub(crate) mod log_config;
mod model;
mod one_or_many;
pub(crate) mod parse;
pub(crate) mod queue_config;
pub(crate) mod queue_dead_lettering;
pub(crate) mod queue_limits;
pub(crate) mod queue_routing;
mod raw;
mod raw_nemesis;
mod schema;
mod settings;
pub(crate) mod spanned;
mod starter;
mod validate;
pub(crate) mod workload;
pub mod writer;

pub use discover::discover;
pub use error::ScenarioError;
pub use model::{dest_names, Drain, Expect, Network, Scenario, System, SYSTEMS};
pub use parse::{load, parse};
pub use schema::schema;
pub use starter::starter;

#[cfg(test)]
mod queue_routing_tests;
#[cfg(test)]
mod queue_tests;
#[cfg(test)]
mod tests;
