//! Whole runs that lose messages through the models' own logic, one
//! mechanism per module, each with where its lost messages' trails end:
//! eligible leader replicas (`elr`), consumer-group rebalances (`group`),
//! poison messages and delivery limits (`poison`), length limits, TTL,
//! expiry, retention and offset resets (`policy`), exchanges, bindings
//! and dead-lettering (`routing`), and classic queues whose node is down
//! (`queue_down`). One test binary, so that `cargo test` links it once.

mod common;
mod elr;
mod group;
mod poison;
mod policy;
mod queue_down;
mod routing;
