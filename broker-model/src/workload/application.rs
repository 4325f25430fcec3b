//! The application behind a consumer, the same in both models: a buffer
//! the consumer's readers fill, one worker that processes what it holds a
//! message at a time (taking the workload's processing time, so that a
//! crash can land between receiving a message and finishing with it), and
//! the view the harness watches to know when the consumer holds nothing
//! more.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::time::Duration;

use tokio::sync::futures::Notified;
use tokio::sync::Notify;

use crate::history::{EventKind, History, MsgId};
use crate::observe::{ClientView, Observer};

/// A message as the consumer hands it to its application.
pub(crate) trait Received {
    /// The workload message.
    fn msg(&self) -> MsgId;
}

/// A consumer's application and what it holds.
pub(crate) struct Application<T> {
    host: String,
    history: History,
    observer: Observer,
    processing_time: Duration,
    buffer: RefCell<VecDeque<T>>,
    processing: Cell<bool>,
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
            buffer: RefCell::new(VecDeque::new()),
            processing: Cell::new(false),
            changed: Notify::new(),
        }
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

    /// A future that completes at the buffer's next change.
    pub(crate) fn changed(&self) -> Notified<'_> {
        self.changed.notified()
    }

    /// Tells whoever waits that the buffer changed.
    pub(crate) fn notify(&self) {
        self.changed.notify_waiters();
    }

    /// Publishes what the consumer holds; it is done when `read_all` (its
    /// last reads found nothing new) and it holds nothing.
    pub(crate) fn publish(&self, read_all: bool) {
        let holding = self.buffer.borrow().len() as u64 + u64::from(self.processing.get());
        self.observer.client(
            &self.host,
            ClientView {
                done: read_all && holding == 0,
                holding,
                acked: 0,
            },
        );
    }

    /// Processes buffered messages one at a time, for as long as the
    /// consumer runs: each is recorded processed, then handed to `finish`
    /// (to commit or acknowledge it). `read_all` says whether the
    /// consumer's reads have found nothing new.
    pub(crate) async fn process<F, Fut>(&self, read_all: impl Fn() -> bool, finish: F)
    where
        F: Fn(T) -> Fut,
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
            self.publish(read_all());
            self.changed.notify_waiters();
            tokio::time::sleep(self.processing_time).await;
            self.history
                .record(&self.host, EventKind::Processed { msg: item.msg() });
            finish(item).await;
            self.processing.set(false);
            self.publish(read_all());
        }
    }
}
