//! How a run watches its consumers: the backlog it samples into the
//! history, and when the final drain is over.
//!
//! The backlog is what consumers could still read (their lag and what they
//! hold, plus the queues' ready messages), read from the views hosts
//! publish, as an operator reads Kafka's consumer lag or RabbitMQ's
//! `messages_ready`. The checker needs it at the end of the drain: an
//! acknowledged message nobody processed is lost only if nothing was left
//! to read.

use std::time::Duration;

use broker_model::{EventKind, History, Observations};

use crate::scenario::Drain;

/// How often the backlog is sampled, in simulated time: a plot's bucket.
const SAMPLE_EVERY: Duration = Duration::from_millis(100);

/// How long every client must have been done before the drain ends.
const QUIET: Duration = Duration::from_secs(1);

/// Records the backlog every [`SAMPLE_EVERY`] of simulated time, as the
/// harness's own event, when it changed since the last sample: a long run
/// whose consumers keep up records few events.
pub(crate) struct BacklogSampler {
    history: History,
    host: &'static str,
    next: Duration,
    last: Option<u64>,
}

impl BacklogSampler {
    /// A sampler recording into `history` as `host`, from time zero.
    pub(crate) fn new(history: &History, host: &'static str) -> Self {
        BacklogSampler {
            history: history.clone(),
            host,
            next: Duration::ZERO,
            last: None,
        }
    }

    /// Samples at `now` if a sampling time has come.
    pub(crate) fn poll(&mut self, now: Duration, o: &Observations) {
        if now < self.next {
            return;
        }
        let period = SAMPLE_EVERY.as_micros() as u64;
        self.next = Duration::from_micros((now.as_micros() as u64 / period + 1) * period);
        let messages = o.backlog();
        if self.last != Some(messages) {
            self.last = Some(messages);
            self.history
                .record_at(now, self.host, EventKind::Backlog { messages });
        }
    }
}

/// When the final drain is over: drained once every client has been done
/// for [`QUIET`], given up at the drain's cap or, when it follows the
/// backlog, once no consumer has processed a message for its stall.
pub(crate) struct DrainClock {
    deadline: Duration,
    stall: Option<Duration>,
    quiet_since: Option<Duration>,
    processed: u64,
    progress_at: Duration,
}

impl DrainClock {
    /// The clock of a drain starting at `start` after a faulty phase of
    /// `duration`.
    pub(crate) fn new(drain: Drain, duration: Duration, start: Duration) -> Self {
        DrainClock {
            deadline: start + drain.cap(duration),
            stall: drain.stall(),
            quiet_since: None,
            processed: 0,
            progress_at: start,
        }
    }

    /// Whether the drain gives up at `now`, not drained.
    pub(crate) fn given_up(&self, now: Duration) -> bool {
        now >= self.deadline
            || self
                .stall
                .is_some_and(|stall| now.saturating_sub(self.progress_at) >= stall)
    }

    /// Takes in the views after a step at `now`; true once `clients` have
    /// all been done, and no queue has kept a dead letter for its target,
    /// for [`QUIET`].
    ///
    /// Progress is any change of the consumers' processed counters: they
    /// grow as messages are processed, and a restarted consumer counts from
    /// zero again, which the drain takes for progress too.
    pub(crate) fn drained(&mut self, now: Duration, o: &Observations, clients: &[String]) -> bool {
        let processed = o.clients.values().map(|c| c.processed).sum();
        if processed != self.processed {
            self.processed = processed;
            self.progress_at = now;
        }
        let all_done = clients
            .iter()
            .all(|c| o.clients.get(c).is_some_and(|v| v.done))
            && o.dead_letters_in_flight() == 0;
        if !all_done {
            self.quiet_since = None;
            return false;
        }
        let since = *self.quiet_since.get_or_insert(now);
        now - since >= QUIET
    }
}

#[cfg(test)]
mod tests {
    use broker_model::ClientView;

    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn consumer(processed: u64, done: bool) -> Observations {
        let mut o = Observations::default();
        o.clients.insert(
            "consumer-1".into(),
            ClientView {
                done,
                processed,
                lag: u64::from(!done) * 5,
                ..ClientView::default()
            },
        );
        o
    }

    #[test]
    fn the_backlog_is_sampled_every_100ms_and_recorded_only_when_it_changed() {
        let history = History::new();
        let mut sampler = BacklogSampler::new(&history, "nemesis");
        let mut o = Observations::default();
        for t in 0..=450 {
            if t == 120 {
                o = consumer(0, false);
            }
            if t == 350 {
                o = consumer(3, true);
            }
            sampler.poll(ms(t), &o);
        }
        let samples: Vec<(u64, u64)> = history
            .snapshot()
            .iter()
            .map(|e| match e.kind {
                EventKind::Backlog { messages } => (e.at_us / 1000, messages),
                _ => panic!("only backlog samples"),
            })
            .collect();
        assert_eq!(samples, vec![(0, 0), (200, 5), (400, 0)]);
    }

    #[test]
    fn a_following_drain_goes_on_while_consumers_make_progress() {
        let clients = ["consumer-1".to_string()];
        let mut clock = DrainClock::new(Drain::FollowBacklog, ms(8_000), ms(10_000));
        let mut processed = 0;
        let mut now = ms(10_000);
        let mut last_progress = now;
        while now < ms(60_000) {
            processed += 1;
            last_progress = now;
            assert!(!clock.drained(now, &consumer(processed, false), &clients));
            assert!(!clock.given_up(now), "gave up at {now:?} while progressing");
            now += ms(100);
        }
        while !clock.given_up(now) {
            assert!(!clock.drained(now, &consumer(processed, false), &clients));
            now += ms(100);
        }
        assert_eq!(now - last_progress, Drain::STALL);
    }

    #[test]
    fn a_following_drain_gives_up_at_its_cap_even_while_consumers_progress() {
        let clients = ["consumer-1".to_string()];
        let mut clock = DrainClock::new(Drain::FollowBacklog, ms(4_000), ms(4_000));
        let mut processed = 0;
        let mut now = ms(4_000);
        while !clock.given_up(now) {
            processed += 1;
            clock.drained(now, &consumer(processed, false), &clients);
            now += ms(100);
        }
        assert_eq!(now, ms(44_000), "ten times the 4 s run after the heal");
    }

    #[test]
    fn a_fixed_drain_gives_up_at_its_deadline_and_any_drain_ends_after_a_quiet_second() {
        let clients = ["consumer-1".to_string()];
        let clock = DrainClock::new(Drain::Fixed(ms(10_000)), ms(8_000), ms(8_000));
        assert!(!clock.given_up(ms(17_999)));
        assert!(clock.given_up(ms(18_000)));

        let mut clock = DrainClock::new(Drain::Fixed(ms(10_000)), ms(8_000), ms(8_000));
        assert!(!clock.drained(ms(8_100), &consumer(4, true), &clients));
        assert!(!clock.drained(ms(8_600), &consumer(4, false), &clients));
        assert!(!clock.drained(ms(8_700), &consumer(5, true), &clients));
        assert!(!clock.drained(ms(9_699), &consumer(5, true), &clients));
        assert!(clock.drained(ms(9_700), &consumer(5, true), &clients));
    }

    #[test]
    fn a_drain_is_not_over_while_a_queue_keeps_dead_letters_for_their_target() {
        let clients = ["consumer-1".to_string()];
        let mut clock = DrainClock::new(Drain::FollowBacklog, ms(8_000), ms(8_000));
        let mut o = consumer(5, true);
        o.replicas.entry("q0".into()).or_default().insert(
            "node-1".into(),
            broker_model::ReplicaView {
                leader: true,
                dead_letters: 2,
                ..Default::default()
            },
        );
        assert!(!clock.drained(ms(8_000), &o, &clients));
        assert!(!clock.drained(ms(9_500), &o, &clients));
        assert_eq!(o.backlog(), 2, "kept dead letters are readable");
        // Confirmed and settled: the quiet second starts only now.
        assert!(!clock.drained(ms(9_600), &consumer(5, true), &clients));
        assert!(clock.drained(ms(10_600), &consumer(5, true), &clients));
    }
}
