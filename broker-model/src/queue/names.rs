//! How the queue model names its hosts and queues, and the index types
//! behind the names.

/// A node's 1-based number (`node-1`, `node-2`, …).
pub(crate) type NodeId = u32;
/// A queue's 0-based index (`q0`, `q1`, …).
pub(crate) type QueueId = u32;

/// Host name of node `id` (1-based).
pub fn node_host(id: u32) -> String {
    format!("node-{id}")
}

/// The name queue `q` goes by in histories and reports.
pub fn queue_name(q: u32) -> String {
    format!("q{q}")
}
