use super::*;
use crate::history::{DropReason, MsgId};
use crate::queue::protocol::Stored;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn discards(seqs: &[u64]) -> Discards {
    let mut d = Discards::default();
    let removed: Vec<(u64, Stored)> = seqs
        .iter()
        .map(|s| {
            let stored = Stored {
                msg: MsgId::new(1, *s as u32),
                persistent: true,
                redelivered: false,
                enqueued_us: 0,
                dead_letter: None,
            };
            (*s, stored)
        })
        .collect();
    d.keep(DropReason::Expired, &removed);
    d
}

fn worker() -> Worker {
    Worker::new(4, ms(1000))
}

#[test]
fn a_dead_letter_is_taken_from_the_discards_once_and_not_sent_again_before_the_timeout() {
    let d = discards(&[1, 2]);
    let mut w = worker();
    assert_eq!(w.take_due(&d, ms(0)), vec![1, 2]);
    assert_eq!(
        w.routed(1, &Destination::Queues(vec![5])),
        Forward::Send(vec![5])
    );
    assert!(w.take_due(&d, ms(999)).is_empty());
    assert_eq!(w.next_attempt(), Some(ms(1000)));
}

#[test]
fn a_dead_letter_is_settled_only_after_every_target_it_routed_to_confirmed_it() {
    let mut w = worker();
    w.take_due(&discards(&[1]), ms(0));
    assert_eq!(
        w.routed(1, &Destination::Queues(vec![5, 6])),
        Forward::Send(vec![5, 6])
    );
    assert_eq!(w.confirmed(1, 5), Confirmed::Waiting);
    assert_eq!(w.confirmed(1, 6), Confirmed::Settle);
    assert_eq!(w.confirmed(1, 6), Confirmed::Stale, "settled once");
    assert_eq!(
        w.next_attempt(),
        None,
        "nothing is sent again once settling"
    );
}

#[test]
fn an_unconfirmed_dead_letter_is_sent_again_after_the_timeout_to_the_targets_that_did_not_confirm()
{
    let d = discards(&[1]);
    let mut w = worker();
    w.take_due(&d, ms(0));
    w.routed(1, &Destination::Queues(vec![5, 6]));
    assert_eq!(w.confirmed(1, 5), Confirmed::Waiting);
    assert_eq!(w.take_due(&d, ms(1000)), vec![1]);
    assert_eq!(
        w.routed(1, &Destination::Queues(vec![5, 6])),
        Forward::Send(vec![6])
    );
    assert_eq!(w.next_attempt(), Some(ms(2000)));
    assert_eq!(w.confirmed(1, 6), Confirmed::Settle);
}

#[test]
fn a_dead_letter_that_routes_nowhere_is_kept_and_tried_again_after_each_timeout() {
    let d = discards(&[1]);
    let mut w = worker();
    w.take_due(&d, ms(0));
    assert_eq!(w.routed(1, &Destination::Unroutable), Forward::Nowhere);
    assert_eq!(w.take_due(&d, ms(1000)), vec![1]);
    assert_eq!(w.routed(1, &Destination::Cycle), Forward::Nowhere);
    assert_eq!(w.take_due(&d, ms(2000)), vec![1]);
    assert_eq!(
        w.routed(1, &Destination::Queues(vec![5])),
        Forward::Send(vec![5]),
        "a binding that appears later takes it"
    );
}

#[test]
fn a_late_confirm_from_an_earlier_attempt_counts() {
    let d = discards(&[1]);
    let mut w = worker();
    w.take_due(&d, ms(0));
    w.routed(1, &Destination::Queues(vec![5]));
    w.take_due(&d, ms(1000));
    w.routed(1, &Destination::Queues(vec![5]));
    assert_eq!(w.confirmed(1, 5), Confirmed::Settle);
}

#[test]
fn a_dead_letter_routing_nowhere_now_that_a_target_confirmed_is_settled() {
    let d = discards(&[1]);
    let mut w = worker();
    w.take_due(&d, ms(0));
    w.routed(1, &Destination::Queues(vec![5, 6]));
    w.confirmed(1, 5);
    w.take_due(&d, ms(1000));
    assert_eq!(w.routed(1, &Destination::Unroutable), Forward::Settle);
}

#[test]
fn no_more_dead_letters_than_the_prefetch_are_in_flight_at_once() {
    let d = discards(&[1, 2, 3, 4, 5, 6]);
    let mut w = worker();
    assert_eq!(w.take_due(&d, ms(0)), vec![1, 2, 3, 4]);
    for seq in 1..=4 {
        w.routed(seq, &Destination::Queues(vec![9]));
    }
    assert!(w.take_due(&d, ms(10)).is_empty());
    w.confirmed(2, 9);
    let mut settled = d.clone();
    settled.settle(&[2]);
    assert_eq!(
        w.take_due(&settled, ms(20)),
        vec![5],
        "room once one settled"
    );
}

#[test]
fn a_dead_letter_stays_in_flight_until_its_settlement_is_in_the_log() {
    let d = discards(&[1]);
    let mut w = worker();
    w.take_due(&d, ms(0));
    w.routed(1, &Destination::Queues(vec![5]));
    assert_eq!(w.confirmed(1, 5), Confirmed::Settle);
    assert!(
        w.take_due(&d, ms(5000)).is_empty(),
        "not sent while settling"
    );
    let mut settled = d.clone();
    settled.settle(&[1]);
    assert!(w.take_due(&settled, ms(5000)).is_empty());
    assert_eq!(w.confirmed(1, 5), Confirmed::Stale, "forgotten");
}

#[test]
fn a_new_leaders_worker_sends_again_everything_still_in_the_discards() {
    let d = discards(&[1, 2]);
    let mut old = worker();
    old.take_due(&d, ms(0));
    old.routed(1, &Destination::Queues(vec![5]));
    old.routed(2, &Destination::Queues(vec![5]));
    old.confirmed(1, 5);
    // The old leader's settlement of 1 never committed: both are still in
    // the discards every member applied, and the new worker knows nothing.
    let mut new = worker();
    assert_eq!(new.take_due(&d, ms(10)), vec![1, 2]);
}
