//! Serving consumers, the same for every queue type: a consumer's request
//! is answered from the master's (or Raft leader's) delivery state as soon
//! as there are deliveries, or after a short wait; acknowledgements settle
//! messages; connections silent for two heartbeats are closed and their
//! unacknowledged deliveries requeued.

use std::rc::Rc;

use crate::history::EventKind;
use crate::queue::config::AckMode;
use crate::queue::fifo::{Dropped, Poll};
use crate::queue::node::{App, QueueRt, POLL_WAIT};
use crate::queue::protocol::{Batch, ClientError, ConsumerId, QueueId, Reply};

/// A consumer's request, as the queue's master or leader reads it.
#[derive(Clone, Debug)]
pub struct Subscription {
    /// The subscription.
    pub consumer: ConsumerId,
    /// Its acknowledgement mode.
    pub ack: AckMode,
    /// Its prefetch count (0 = unlimited).
    pub prefetch: u32,
    /// The highest delivery tag it has received.
    pub received: u64,
    /// Every delivery tag up to this one is acknowledged.
    pub acked: u64,
}

impl App {
    fn poll_queue(&self, q: QueueId, sub: &Subscription) -> Result<(Poll, u64), ClientError> {
        match &self.queues[&q] {
            QueueRt::Mirrored(_) => self.mirrored_poll(q, sub),
            QueueRt::Quorum(_) => self.quorum_poll(q, sub),
        }
    }

    /// Answers a consumer's request as master or leader of queue `q`: at
    /// once with deliveries, or with none once [`POLL_WAIT`] has passed.
    pub async fn consume(&self, q: QueueId, sub: &Subscription) -> Reply {
        let deadline = tokio::time::Instant::now() + POLL_WAIT;
        loop {
            let notified = self.changed.notified();
            let (poll, remaining) = match self.poll_queue(q, sub) {
                Ok(p) => p,
                Err(e) => return Reply::Consume(Err(e)),
            };
            self.record_dropped(q, &poll.dropped);
            if !poll.removed.is_empty() || !poll.dropped.is_empty() {
                self.changed.notify_waiters();
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

    /// Applies `basic.ack` (with `multiple`) as master or leader of `q`.
    pub fn acknowledge(&self, q: QueueId, consumer: &ConsumerId, upto: u64) {
        match &self.queues[&q] {
            QueueRt::Mirrored(_) => self.mirrored_ack(q, consumer, upto),
            QueueRt::Quorum(_) => self.quorum_ack(q, consumer, upto),
        }
        self.changed.notify_waiters();
    }

    /// Closes, while this node serves `q`, consumer connections silent for
    /// two heartbeats.
    pub async fn sweep_consumers(self: Rc<Self>, q: QueueId) {
        let every = self.config().heartbeat / 2;
        let timeout = self.config().consumer_timeout();
        loop {
            tokio::time::sleep(every).await;
            let dropped = match &self.queues[&q] {
                QueueRt::Mirrored(_) => self.mirrored_expire(q, timeout),
                QueueRt::Quorum(_) => self.quorum_expire(q, timeout),
            };
            if !dropped.is_empty() {
                self.record_dropped(q, &dropped);
                self.changed.notify_waiters();
            }
        }
    }

    /// Records what became of closed consumer connections' deliveries.
    fn record_dropped(&self, q: QueueId, dropped: &[Dropped]) {
        for d in dropped {
            if !d.requeued.is_empty() {
                self.record(EventKind::Requeue {
                    dest: App::dest(q),
                    consumer: d.consumer.host.clone(),
                    msgs: d.requeued.clone(),
                });
            }
            if !d.lost_in_flight.is_empty() {
                self.record(EventKind::Discard {
                    dest: App::dest(q),
                    reason: format!(
                        "auto-ack deliveries to {}'s closed connection, never confirmed received",
                        d.consumer.host
                    ),
                    msgs: d.lost_in_flight.clone(),
                });
            }
        }
    }
}
