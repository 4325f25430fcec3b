//! The mqsim harness: reads scenario files, runs them on the broker models
//! under turmoil with faults injected, and checks the recorded history for
//! acknowledged messages that were lost.
//!
//! The pieces, in the order a run uses them: [`scenario`] reads a file,
//! [`runner`] builds the simulation and injects the [`fault`]s, [`checker`]
//! judges the history, and [`suite`] runs many seeds at once and turns the
//! runs into the report document. [`shrink`] cuts a losing run down to a
//! minimal scenario; [`testing`] gives your own tests one-line assertions.

pub mod audit;
pub mod checker;
mod drain;
mod duration;
pub mod fault;
pub mod guarantees;
pub mod junit;
pub mod logging;
mod network;
pub mod real;
pub mod runner;
pub mod scenario;
pub mod shard;
pub mod shrink;
pub mod suite;
pub(crate) mod summary;
pub mod testing;

#[cfg(test)]
mod test_history;
