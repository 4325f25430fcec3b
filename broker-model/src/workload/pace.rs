//! The sending side of a producer, the same in both models: its upstream
//! ([`Source`]) and the loop that takes messages from it at the workload's
//! rate, sends each in a task of its own and keeps at most a window of
//! sends awaiting their outcome.

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;

use tokio::sync::Semaphore;

use super::Workload;
use crate::history::MsgId;
use crate::observe::{AckCounter, Observer};

/// The producer's upstream: the next message its application will hand it.
///
/// It lives outside the process, like the database or file a real producer
/// reads from, so a restarted producer carries on where it was rather than
/// sending everything again; messages in flight when it crashed never get an
/// outcome and count as unknown.
#[derive(Clone, Default)]
pub(crate) struct Source {
    next: Rc<Cell<u32>>,
    incarnations: Rc<Cell<u32>>,
}

impl Source {
    /// Counts one more start of the producer's process; returns which
    /// start this is (1 for the first).
    pub(crate) fn start(&self) -> u32 {
        let incarnation = self.incarnations.get() + 1;
        self.incarnations.set(incarnation);
        incarnation
    }
}

/// How a producer spaces its sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Pace {
    /// One interval after each send: a producer held back by its window
    /// stays that much behind the rate.
    Gap,
    /// Message k is due k intervals after the start, so that a producer
    /// held back (by its window, or a slow commit) catches up at once, and
    /// rates above one message per simulation tick hold.
    Schedule,
}

/// What became of one send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SendOutcome {
    /// The broker acknowledged it (or, unacknowledged modes, it left).
    Acknowledged,
    /// It failed, or its fate is unknown.
    NotAcknowledged,
}

/// Producer `index`'s share of the workload and how to send it.
pub(crate) struct Sends<'a> {
    /// The producer's host.
    pub(crate) host: &'a str,
    /// The producer (1-based).
    pub(crate) index: u32,
    /// The workload it takes its share and rate from.
    pub(crate) workload: &'a Workload,
    /// How sends are spaced.
    pub(crate) pace: Pace,
    /// How many sends may await their outcome at once.
    pub(crate) window: usize,
}

impl Sends<'_> {
    /// Sends every message `source` has left through `send`, publishing
    /// acknowledgements to `observer`; once all have an outcome, publishes
    /// the producer as done and idles.
    pub(crate) async fn run<F, Fut>(
        self,
        source: &Source,
        observer: &Observer,
        send: F,
    ) -> turmoil::Result
    where
        F: Fn(MsgId) -> Fut,
        Fut: Future<Output = SendOutcome> + 'static,
    {
        let total = self.workload.messages_for(self.index);
        let permits = Arc::new(Semaphore::new(self.window));
        let acked = Rc::new(AckCounter::new(self.host, observer));
        let interval = self.workload.send_interval();
        let start = tokio::time::Instant::now();
        let first_seq = source.next.get();
        loop {
            let seq = source.next.get();
            if seq >= total {
                break;
            }
            if self.pace == Pace::Schedule {
                tokio::time::sleep_until(start + interval * (seq - first_seq)).await;
            }
            source.next.set(seq + 1);
            let permit = Arc::clone(&permits).acquire_owned().await?;
            let sent = send(MsgId::new(self.index, seq));
            let acked = Rc::clone(&acked);
            tokio::task::spawn_local(async move {
                if sent.await == SendOutcome::Acknowledged {
                    acked.acknowledged();
                }
                drop(permit);
            });
            if self.pace == Pace::Gap {
                tokio::time::sleep(interval).await;
            }
        }
        let _all = permits.acquire_many(self.window as u32).await?;
        acked.publish(true);
        std::future::pending::<()>().await;
        Ok(())
    }
}
