//! How a client process reports what it saw: one history event per line
//! on its standard output, flushed at once, so that what it wrote before a
//! `kill -9` is in the pipe for the harness to read.

use std::io::Write;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use broker_model::{Event, EventKind};

/// Writes a client's events, stamped with the time since the run began.
#[derive(Clone, Debug)]
pub(crate) struct Emitter {
    host: String,
    epoch: SystemTime,
}

impl Emitter {
    /// The emitter of client `host`, for a run that began `epoch_us`
    /// microseconds after the Unix epoch.
    pub(crate) fn new(host: String, epoch_us: u64) -> Self {
        Emitter {
            host,
            epoch: UNIX_EPOCH + Duration::from_micros(epoch_us),
        }
    }

    /// The client's host name.
    pub(crate) fn host(&self) -> &str {
        &self.host
    }

    /// Records `kind` now.
    pub(crate) fn record(&self, kind: EventKind) {
        let event = Event {
            at_us: since(self.epoch),
            host: self.host.clone(),
            kind,
        };
        let line = serde_json::to_string(&event).expect("events serialise");
        let mut out = std::io::stdout().lock();
        // A closed pipe means the harness is gone: nothing is left to tell.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// Microseconds from `epoch` to now (0 if the clock is behind it).
pub(crate) fn since(epoch: SystemTime) -> u64 {
    SystemTime::now()
        .duration_since(epoch)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}
