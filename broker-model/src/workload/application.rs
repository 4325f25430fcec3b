//! The application behind a consumer, the same in both models: a buffer
//! the consumer's readers fill, one worker that processes what it holds a
//! message at a time (taking the workload's processing time, so that a
//! crash can land between receiving a message and finishing with it), and
//! the view the harness watches to know when the consumer holds nothing
//! more and whether it is still making progress.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::time::Duration;

use tokio::sync::futures::Notified;
use tokio::sync::Notify;

use crate::history::{EventKind, History, MsgId};
use crate::observe::{ClientView, Observer};
use crate::workload::poison;

/// A message as the consumer hands it to its application.
pub(crate) trait Received {
    /// The workload message.
    fn msg(&self) -> MsgId;

    /// Whether it came from a dead-letter queue (it carries `x-death`).
    fn dead_lettered(&self) -> bool {
        false
    }
}

/// What the application made of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Handled {
    /// It processed the message.
    Processed,
    /// The message is poison: the application gave up on it unprocessed.
    Poisoned,
}

/// How far a consumer's reads have got, as it publishes them.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Reading {
    /// Its last reads found nothing new.
    pub(crate) read_all: bool,
    /// Records it knows are committed and has yet to read (Kafka's
    /// `records-lag`); 0 for a queue consumer.
    pub(crate) lag: u64,
}

/// A consumer's application and what it holds.
pub(crate) struct Application<T> {
    host: String,
    history: History,
    observer: Observer,
    processing_time: Duration,
    /// The share of poison messages.
    poison: f64,
    buffer: RefCell<VecDeque<T>>,
    processing: Cell<bool>,
    /// Messages processed by this run of the process.
    processed: Cell<u64>,
    /// Woken when the buffer gains or loses a message.
    changed: Notify,
}

impl<T: Received> Application<T> {
    /// The application of consumer `host`, taking `processing_time` per
    /// message.
    pub(crate) fn new(
        host: String,
        history: &History,
        observer: &Observer,
        processing_time: Duration,
    ) -> Self {
        Application {
            host,
            history: history.clone(),
            observer: observer.clone(),
            processing_time,
            poison: 0.0,
            buffer: RefCell::new(VecDeque::new()),
            processing: Cell::new(false),
            processed: Cell::new(0),
            changed: Notify::new(),
        }
    }

    /// The application, with a share `poison` of the messages poison.
    pub(crate) fn with_poison(self, poison: f64) -> Self {
        Application { poison, ..self }
    }

    /// The consumer's host.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// Messages waiting in the buffer.
    pub(crate) fn queued(&self) -> usize {
        self.buffer.borrow().len()
    }

    /// Adds a message to the buffer; [`Application::notify`] wakes the
    /// worker once the batch is in.
    pub(crate) fn push(&self, item: T) {
        self.buffer.borrow_mut().push_back(item);
    }

    /// Drops the buffered messages `keep` refuses: a group member's
    /// prefetched records of partitions it gave up, as librdkafka purges
    /// its queue on a revoke.
    pub(crate) fn retain(&self, keep: impl FnMut(&T) -> bool) {
        self.buffer.borrow_mut().retain(keep);
    }

    /// `f` of the message waiting longest, if any.
    pub(crate) fn oldest<R>(&self, f: impl FnOnce(&T) -> R) -> Option<R> {
        self.buffer.borrow().front().map(f)
    }

    /// A future that completes at the buffer's next change.
    pub(crate) fn changed(&self) -> Notified<'_> {
        self.changed.notified()
    }

    /// Tells whoever waits that the buffer changed.
    pub(crate) fn notify(&self) {
        self.changed.notify_waiters();
    }

    /// Publishes what the consumer holds and has processed; it is done when
    /// its last reads found nothing new and it holds nothing.
    pub(crate) fn publish(&self, reading: Reading) {
        let holding = self.buffer.borrow().len() as u64 + u64::from(self.processing.get());
        self.observer.client(
            &self.host,
            ClientView {
                done: reading.read_all && holding == 0,
                holding,
                acked: 0,
                processed: self.processed.get(),
                lag: reading.lag,
            },
        );
    }

    /// Processes buffered messages one at a time, for as long as the
    /// consumer runs: each is recorded processed, then handed to `finish`
    /// (to commit or acknowledge it). A poison message takes as long to
    /// fail as another to succeed, is not recorded processed, and goes to
    /// `finish` as such (to reject it), unless it comes from a dead-letter
    /// queue: there the application is the dead-letter handler, which
    /// takes the message in (to park or inspect it) rather than failing
    /// on it again. `reading` says how far the consumer's reads have got.
    pub(crate) async fn process<F, Fut>(&self, reading: impl Fn() -> Reading, finish: F)
    where
        F: Fn(T, Handled) -> Fut,
        Fut: Future<Output = ()>,
    {
        loop {
            let changed = self.changed.notified();
            let next = self.buffer.borrow_mut().pop_front();
            let Some(item) = next else {
                changed.await;
                continue;
            };
            self.processing.set(true);
            self.publish(reading());
            self.changed.notify_waiters();
            tokio::time::sleep(self.processing_time).await;
            if poison::is_poison(self.poison, item.msg()) && !item.dead_lettered() {
                finish(item, Handled::Poisoned).await;
            } else {
                self.history.record(
                    &self.host,
                    EventKind::Processed {
                        msg: item.msg(),
                        dead_lettered: item.dead_lettered(),
                    },
                );
                self.processed.set(self.processed.get() + 1);
                finish(item, Handled::Processed).await;
            }
            self.processing.set(false);
            self.publish(reading());
        }
    }
}
