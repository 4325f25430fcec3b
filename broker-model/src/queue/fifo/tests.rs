//! Tests of a queue's contents and consumer windows.

use super::*;

fn stored(seq: u32) -> Stored {
    Stored {
        msg: MsgId::new(1, seq),
        persistent: true,
        redelivered: false,
        enqueued_us: u64::from(seq) * 1000,
        dead_letter: None,
    }
}

fn queue(n: u32) -> Fifo {
    Fifo::with_messages((0..n).map(|i| (u64::from(i), stored(i))))
}

fn consumer(connection: u32) -> ConsumerId {
    ConsumerId {
        host: "consumer-1".into(),
        incarnation: 1,
        connection,
        subscription: 1,
    }
}

const T0: Duration = Duration::ZERO;

fn sub(
    consumer: &ConsumerId,
    ack: AckMode,
    prefetch: u32,
    received: u64,
    acked: u64,
) -> Subscription {
    Subscription {
        consumer: consumer.clone(),
        ack,
        prefetch,
        received,
        acked,
        rejected: Vec::new(),
    }
}

#[test]
fn manual_ack_respects_prefetch_and_keeps_unacked_in_the_queue() {
    let mut q = queue(10);
    let c = consumer(1);
    let p = q.poll(&sub(&c, AckMode::Manual, 3, 0, 0), T0);
    assert_eq!(p.deliveries.len(), 3);
    assert_eq!(p.deliveries[0].tag, 1);
    assert!(p.removed.is_empty());
    assert_eq!(q.len(), 10);
    // Received but not acked: nothing new fits.
    let p = q.poll(&sub(&c, AckMode::Manual, 3, 3, 0), T0);
    assert!(p.deliveries.is_empty());
    // Acking two frees two slots.
    let p = q.poll(&sub(&c, AckMode::Manual, 3, 3, 2), T0);
    assert_eq!(p.removed.len(), 2);
    assert_eq!(
        p.deliveries.iter().map(|d| d.tag).collect::<Vec<_>>(),
        vec![4, 5]
    );
    assert_eq!(q.len(), 8);
}

#[test]
fn deliveries_not_received_are_sent_again() {
    let mut q = queue(5);
    let c = consumer(1);
    let first = q.poll(&sub(&c, AckMode::Manual, 2, 0, 0), T0);
    let again = q.poll(&sub(&c, AckMode::Manual, 2, 0, 0), T0);
    assert_eq!(first.deliveries, again.deliveries);
}

#[test]
fn auto_ack_removes_at_send_and_loses_unreceived_deliveries_on_close() {
    let mut q = queue(5);
    let c = consumer(1);
    let p = q.poll(&sub(&c, AckMode::Auto, 2, 0, 0), T0);
    assert_eq!(p.deliveries.len(), 5, "prefetch does not bound auto-ack");
    assert_eq!(p.removed.len(), 5);
    assert_eq!(q.len(), 0);
    let d = q.drop_consumer(&c).unwrap();
    assert_eq!(d.lost_in_flight.len(), 5);
    assert!(d.requeued.is_empty());
    assert_eq!(q.len(), 0);
}

#[test]
fn a_dead_manual_consumer_has_its_deliveries_requeued_in_place() {
    let mut q = queue(4);
    let c = consumer(1);
    q.poll(&sub(&c, AckMode::Manual, 2, 0, 0), T0);
    let dropped = q.expire(Duration::from_secs(5), Duration::from_secs(1));
    assert_eq!(dropped.len(), 1);
    assert_eq!(dropped[0].requeued.len(), 2);
    let c2 = consumer(2);
    let p = q.poll(&sub(&c2, AckMode::Manual, 1, 0, 0), T0);
    assert_eq!(p.deliveries[0].msg, MsgId::new(1, 0));
    assert!(p.deliveries[0].redelivered);
}

#[test]
fn a_new_connection_closes_the_old_one() {
    let mut q = queue(3);
    q.poll(&sub(&consumer(1), AckMode::Manual, 0, 0, 0), T0);
    assert_eq!(q.remaining_for(&consumer(2)), 3);
    let p = q.poll(&sub(&consumer(2), AckMode::Manual, 0, 0, 0), T0);
    assert_eq!(p.dropped.len(), 1);
    assert_eq!(p.deliveries.len(), 3);
    assert!(p.deliveries.iter().all(|d| d.redelivered));
}

#[test]
fn removal_finds_messages_held_by_consumers() {
    let mut q = queue(3);
    let c = consumer(1);
    q.poll(&sub(&c, AckMode::Manual, 1, 0, 0), T0);
    assert_eq!(q.min_seq(), Some(0));
    let removed = q.remove(&[0, 2]);
    assert_eq!(removed.len(), 2);
    assert_eq!(q.contents().len(), 1);
    assert_eq!(q.min_seq(), Some(1));
}

#[test]
fn dropping_the_head_takes_the_oldest_ready_messages_and_leaves_deliveries_alone() {
    let mut q = queue(5);
    let c = consumer(1);
    q.poll(&sub(&c, AckMode::Manual, 1, 0, 0), T0);
    assert_eq!(q.head().map(|s| s.msg), Some(MsgId::new(1, 1)));
    let dropped = q.drop_head(2);
    assert_eq!(
        dropped.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(),
        vec![1, 2]
    );
    assert_eq!(q.ready(), 2);
    assert_eq!(q.len(), 3, "the delivery awaiting its ack is still held");
    assert_eq!(q.drop_head(9).len(), 2, "no more than what is ready");
}

#[test]
fn dropping_from_the_head_stops_at_the_first_message_that_stays() {
    let mut q = queue(4);
    q.enqueue(9, stored(0));
    let gone = q.drop_head_while(|s| s.enqueued() < Duration::from_millis(2));
    assert_eq!(gone.len(), 2);
    assert_eq!(
        q.ready(),
        3,
        "the old message behind a newer one waits its turn"
    );
}

#[test]
fn a_dead_lettered_message_is_delivered_with_its_x_death() {
    let death = crate::queue::dead_letter::DeadLetter {
        reason: crate::history::DropReason::Expired,
        queue: 0,
    };
    let mut q = Fifo::with_messages([(
        0,
        Stored {
            dead_letter: Some(death),
            ..stored(0)
        },
    )]);
    let p = q.poll(&sub(&consumer(1), AckMode::Manual, 0, 0, 0), T0);
    assert_eq!(p.deliveries[0].dead_letter, Some(death));
    // Sent again after a lost answer, it still carries it.
    let p = q.poll(&sub(&consumer(1), AckMode::Manual, 0, 0, 0), T0);
    assert_eq!(p.deliveries[0].dead_letter, Some(death));
}

#[test]
fn a_rejected_delivery_is_taken_back_before_the_acknowledgement_and_requeued_at_the_head() {
    let mut q = queue(5);
    let c = consumer(1);
    q.poll(&sub(&c, AckMode::Manual, 2, 0, 0), T0);
    // Tag 1 (message 0) is rejected, tag 2 acknowledged in the same request:
    // the ack (multiple, up to 2) does not take the rejected delivery.
    let mut request = sub(&c, AckMode::Manual, 2, 2, 2);
    request.rejected = vec![1];
    let p = q.poll(&request, T0);
    assert_eq!(p.returned.len(), 1);
    assert_eq!(p.returned[0].0, 0);
    assert!(p.returned[0].1.redelivered);
    assert_eq!(p.removed.len(), 1, "only tag 2 was acknowledged");
    assert_eq!(p.removed[0].1.msg, MsgId::new(1, 1));
    q.requeue(p.returned);
    assert_eq!(
        q.head().map(|s| (s.msg, s.redelivered)),
        Some((MsgId::new(1, 0), true))
    );
}

#[test]
fn a_repeated_rejection_is_ignored() {
    let mut q = queue(2);
    let c = consumer(1);
    q.poll(&sub(&c, AckMode::Manual, 1, 0, 0), T0);
    assert_eq!(q.reject(&c, &[1]).len(), 1);
    assert!(q.reject(&c, &[1]).is_empty());
    assert!(q.reject(&c, &[7]).is_empty(), "a tag never handed out");
}

#[test]
fn a_closed_connection_reports_where_its_requeued_deliveries_were() {
    let mut q = queue(3);
    let c = consumer(1);
    q.poll(&sub(&c, AckMode::Manual, 2, 0, 0), T0);
    let d = q.drop_consumer(&c).expect("was registered");
    assert_eq!(d.requeued, vec![MsgId::new(1, 0), MsgId::new(1, 1)]);
    assert!(d.held.is_empty());
    assert_eq!(q.ready(), 3);
}

#[test]
fn a_queue_holding_returns_hands_a_closed_connections_deliveries_to_the_caller() {
    let mut q = queue(3).holding_returns();
    let c = consumer(1);
    q.poll(&sub(&c, AckMode::Manual, 2, 0, 0), T0);
    // A new connection of the same consumer closes the old one; what the
    // old one held is not delivered to the new one in the same request.
    let p = q.poll(&sub(&consumer(2), AckMode::Manual, 10, 0, 0), T0);
    let held: Vec<u64> = p.dropped[0].held.iter().map(|(s, _)| *s).collect();
    assert_eq!(held, vec![0, 1]);
    assert!(p.dropped[0].held.iter().all(|(_, s)| s.redelivered));
    assert_eq!(p.deliveries.len(), 1, "only message 2 is delivered");
    assert_eq!(p.deliveries[0].msg, MsgId::new(1, 2));
}
