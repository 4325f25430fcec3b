//! Serving consumers, the same for every queue type: a consumer's request
//! is answered from the master's (or Raft leader's) delivery state as soon
//! as there are deliveries, or after a short wait; acknowledgements settle
//! messages. (Connections silent for two heartbeats are closed by the
//! sweep every queue type runs, [`crate::queue::replica::sweep_consumers`].)

use crate::queue::fifo::Subscription;
use crate::queue::protocol::{Batch, ConsumerId, QueueId, Reply};
use crate::queue::replica::QueueReplica;
use crate::queue::runtime::{Io, POLL_WAIT};

/// Answers a consumer's request as master or leader of queue `q`: at once
/// with deliveries, or with none once [`POLL_WAIT`] has passed.
pub(crate) async fn consume(
    io: &Io,
    replica: &dyn QueueReplica,
    q: QueueId,
    sub: &Subscription,
) -> Reply {
    let deadline = tokio::time::Instant::now() + POLL_WAIT;
    loop {
        let notified = io.changed.notified();
        let (poll, remaining) = match replica.poll(sub) {
            Ok(p) => p,
            Err(e) => return Reply::Consume(Err(e)),
        };
        io.record_dropped(q, &poll.dropped);
        if !poll.removed.is_empty() || !poll.dropped.is_empty() {
            io.changed.notify_waiters();
        }
        if !poll.deliveries.is_empty() || tokio::time::Instant::now() >= deadline {
            return Reply::Consume(Ok(Batch {
                deliveries: poll.deliveries,
                remaining,
            }));
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
}

/// Applies the `basic.reject`s (with `requeue`) of `rejected`, then
/// `basic.ack` (with `multiple`) up to `upto`, as master or leader of the
/// queue.
pub(crate) fn acknowledge(
    io: &Io,
    replica: &dyn QueueReplica,
    consumer: &ConsumerId,
    upto: u64,
    rejected: &[u64],
) {
    replica.ack(consumer, upto, rejected);
    io.changed.notify_waiters();
}
