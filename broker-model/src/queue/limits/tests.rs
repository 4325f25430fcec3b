//! Tests of the length-limit and time-to-live rules.

use super::*;
use crate::history::MsgId;
use crate::queue::config::AckMode;
use crate::queue::fifo::Subscription;
use crate::queue::protocol::ConsumerId;

const MS: Duration = Duration::from_millis(1);

fn stored(seq: u32, at_ms: u64) -> Stored {
    Stored {
        msg: MsgId::new(1, seq),
        persistent: false,
        redelivered: false,
        enqueued_us: at_ms * 1000,
        dead_letter: None,
    }
}

/// A queue of `n` ready messages, message `i` enqueued at `i` ms.
fn queue(n: u32) -> Fifo {
    Fifo::with_messages((0..n).map(|i| (u64::from(i), stored(i, u64::from(i)))))
}

fn consumer() -> ConsumerId {
    ConsumerId {
        host: "consumer-1".into(),
        incarnation: 1,
        connection: 1,
        subscription: 1,
    }
}

/// Has a manual-ack consumer with `prefetch` take deliveries from `q`.
fn deliver(q: &mut Fifo, prefetch: u32) {
    let sub = Subscription {
        consumer: consumer(),
        ack: AckMode::Manual,
        prefetch,
        received: 0,
        acked: 0,
        rejected: Vec::new(),
    };
    q.poll(&sub, Duration::ZERO);
}

fn policy(limits: Limits) -> Policy {
    Policy::new(&limits, 100)
}

fn max_length(n: u64, overflow: Overflow) -> Policy {
    policy(Limits {
        max_length: Some(n),
        overflow,
        ..Limits::default()
    })
}

#[test]
fn drop_head_drops_the_oldest_ready_messages_past_the_limit() {
    let mut q = queue(5);
    let dropped = max_length(3, Overflow::DropHead).make_room(&mut q);
    let msgs: Vec<MsgId> = dropped.iter().map(|(_, s)| s.msg).collect();
    assert_eq!(msgs, vec![MsgId::new(1, 0), MsgId::new(1, 1)]);
    assert_eq!(q.ready(), 3);
}

#[test]
fn unacknowledged_deliveries_do_not_count_toward_the_limit() {
    let mut q = queue(5);
    deliver(&mut q, 2);
    let dropped = max_length(3, Overflow::DropHead).make_room(&mut q);
    assert!(dropped.is_empty(), "three ready, two unacknowledged");
    assert_eq!(q.len(), 5);
}

#[test]
fn max_length_bytes_counts_whole_messages_of_the_workloads_size() {
    let limits = Limits {
        max_length_bytes: Some(250),
        ..Limits::default()
    };
    let mut q = queue(5);
    assert_eq!(Policy::new(&limits, 100).make_room(&mut q).len(), 3);
    let both = Limits {
        max_length: Some(1),
        ..limits
    };
    let mut q = queue(5);
    assert_eq!(
        Policy::new(&both, 100).make_room(&mut q).len(),
        4,
        "the smaller limit wins"
    );
}

#[test]
fn reject_publish_refuses_a_message_that_would_pass_the_limit_and_drops_nothing() {
    let p = max_length(3, Overflow::RejectPublish);
    assert_eq!(p.admit(2), Admission::Accept);
    assert_eq!(p.admit(3), Admission::Reject);
    let mut q = queue(5);
    assert!(p.make_room(&mut q).is_empty());
    assert_eq!(
        max_length(3, Overflow::DropHead).admit(3),
        Admission::Accept,
        "drop-head takes every publish"
    );
    assert_eq!(
        max_length(0, Overflow::RejectPublish).admit(0),
        Admission::Reject
    );
}

#[test]
fn a_blocked_quorum_queue_takes_publishes_again_only_at_eighty_percent_of_its_limit() {
    let p = max_length(10, Overflow::RejectPublish);
    assert_eq!(p.intake(Intake::Open, 10), Intake::Open);
    assert_eq!(p.intake(Intake::Open, 11), Intake::Blocked);
    assert_eq!(p.intake(Intake::Blocked, 9), Intake::Blocked);
    assert_eq!(p.intake(Intake::Blocked, 8), Intake::Open);
    assert_eq!(
        max_length(10, Overflow::DropHead).intake(Intake::Blocked, 50),
        Intake::Open,
        "drop-head never blocks publishers"
    );
}

#[test]
fn messages_expire_only_from_the_head_once_their_ttl_has_passed() {
    let p = policy(Limits {
        message_ttl: Some(10 * MS),
        ..Limits::default()
    });
    let mut q = queue(5);
    assert!(p.expire(&mut q, 9 * MS).is_empty());
    assert_eq!(p.expire(&mut q, 11 * MS).len(), 2, "enqueued at 0 and 1 ms");
    assert_eq!(
        p.next_deadline(&q, &Lease::declared(Duration::ZERO)),
        Some(12 * MS)
    );
}

#[test]
fn a_delivered_message_awaiting_its_ack_does_not_expire() {
    let p = policy(Limits {
        message_ttl: Some(10 * MS),
        ..Limits::default()
    });
    let mut q = queue(3);
    deliver(&mut q, 1);
    let expired = p.expire(&mut q, Duration::from_secs(1));
    assert_eq!(expired.len(), 2);
    assert_eq!(q.len(), 1, "the delivery is still held");
}

#[test]
fn an_unused_queue_expires_and_a_consumer_keeps_it_alive() {
    let p = policy(Limits {
        expires: Some(100 * MS),
        ..Limits::default()
    });
    let mut q = queue(2);
    let mut lease = Lease::declared(Duration::ZERO);
    assert!(!p.unused_too_long(&lease, &q, 99 * MS));
    assert!(p.unused_too_long(&lease, &q, 100 * MS));
    assert_eq!(p.next_deadline(&q, &lease), Some(100 * MS));
    deliver(&mut q, 1);
    lease.renew(&q, 50 * MS);
    assert!(
        !p.unused_too_long(&lease, &q, 500 * MS),
        "it has a consumer"
    );
    assert_eq!(p.next_deadline(&q, &lease), None);
    lease.existence = Existence::Deleted;
    assert!(
        !p.unused_too_long(&lease, &Fifo::default(), Duration::from_secs(9)),
        "a deleted queue is not deleted twice"
    );
}

#[test]
fn rabbitmq_refuses_a_queue_ttl_of_zero() {
    let limits = Limits {
        expires: Some(Duration::ZERO),
        ..Limits::default()
    };
    assert_eq!(limits.validate(100).unwrap_err().key, "expires");
}

#[test]
fn limits_that_drop_every_message_on_arrival_are_refused_under_drop_head_only() {
    let zero = Limits {
        max_length: Some(0),
        ..Limits::default()
    };
    assert_eq!(zero.validate(100).unwrap_err().key, "max-length");
    let reject = Limits {
        overflow: Overflow::RejectPublish,
        ..zero
    };
    assert!(reject.validate(100).is_ok(), "every publish is refused");
    let small = Limits {
        max_length_bytes: Some(99),
        ..Limits::default()
    };
    let e = small.validate(100).unwrap_err();
    assert_eq!(e.key, "max-length-bytes");
    assert!(e.message.contains("`message_bytes` = 100"), "{}", e.message);
    assert!(small.validate(99).is_ok());
    let ttl = Limits {
        message_ttl: Some(Duration::ZERO),
        ..Limits::default()
    };
    assert_eq!(ttl.validate(100).unwrap_err().key, "message-ttl");
}
