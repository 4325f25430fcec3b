//! Events for the unit tests of the modules that read histories (the
//! checker, the lifecycle of a lost message, the client series): short
//! constructors, so that a test's history reads as a list of what happened.

use broker_model::{Event, EventKind, MsgId};

/// `kind`, recorded by `host` at `at_ms` simulated milliseconds.
pub(crate) fn ev(at_ms: u64, host: &str, kind: EventKind) -> Event {
    Event {
        at_us: at_ms * 1000,
        host: host.into(),
        kind,
    }
}

/// Message `seq` of producer 1.
pub(crate) fn id(seq: u32) -> MsgId {
    MsgId::new(1, seq)
}

/// Producer 1 starts sending message `seq` to `p0`.
pub(crate) fn send(seq: u32) -> EventKind {
    EventKind::Send {
        msg: id(seq),
        dest: "p0".into(),
    }
}

/// Producer 1 is told message `seq` is stored at offset `seq`.
pub(crate) fn ok(seq: u32) -> EventKind {
    EventKind::SendOk {
        msg: id(seq),
        offset: Some(seq.into()),
    }
}

/// A consumer finished processing message `seq` of `producer`.
pub(crate) fn processed(producer: u32, seq: u32) -> EventKind {
    EventKind::Processed {
        msg: MsgId::new(producer, seq),
        dead_lettered: false,
    }
}

/// A consumer of a dead-letter queue finished processing message `seq` of
/// `producer`, which carried `x-death`.
pub(crate) fn processed_dead_lettered(producer: u32, seq: u32) -> EventKind {
    EventKind::Processed {
        msg: MsgId::new(producer, seq),
        dead_lettered: true,
    }
}
