//! The flush policy: like Kafka, a broker leaves its journal in the page
//! cache by default and relies on replication for durability (and on the
//! kernel writing dirty pages back in its own time); with
//! `log.flush.interval.messages` it fsyncs once that many entries are
//! unsynced, and with `log.flush.interval.ms` on a timer as well.

use std::rc::Rc;
use std::time::Duration;

use super::state::Broker;
use crate::history::EventKind;

impl Broker {
    /// Fsyncs if `log.flush.interval.messages` entries are unsynced.
    pub(super) fn apply_flush_policy(&self) {
        let every = self.ctx.config.flush_interval_messages;
        if self.state.borrow().store.flush_due(every) {
            self.flush();
        }
    }

    /// Fsyncs the journal, recording it when it made anything durable.
    pub(super) fn flush(&self) {
        let entries = self.state.borrow_mut().store.sync();
        if entries > 0 {
            self.ctx
                .history
                .record(&self.host, EventKind::Fsync { entries });
            self.publish_disk();
        }
    }

    /// Fsyncs every `every` (`log.flush.interval.ms`).
    pub(super) async fn flush_periodically(self: Rc<Self>, every: Duration) {
        loop {
            tokio::time::sleep(every).await;
            self.flush();
        }
    }
}

impl Broker {
    /// Publishes the disk again after each of the kernel's writebacks, which
    /// make durable what the broker acknowledged without an fsync.
    pub(super) async fn watch_writeback(self: Rc<Self>) {
        let page_cache = self.ctx.page_cache.clone();
        page_cache
            .after_each_writeback(&self.host, || self.publish_disk())
            .await;
    }
}
