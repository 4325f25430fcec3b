//! Simulated time, as every host of both models reads it.
//!
//! turmoil runs each host's tokio runtime on a paused clock that it advances
//! one tick per step; `sim_elapsed` is how long the simulation has run, the
//! same reading on every host, so events recorded by different hosts order
//! by it.

use std::time::Duration;

/// Simulated time now (zero outside a simulation).
pub(crate) fn now() -> Duration {
    turmoil::sim_elapsed().unwrap_or_default()
}
