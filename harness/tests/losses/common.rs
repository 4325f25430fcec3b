//! Helpers the loss tests share: bundled scenarios, edited, and the drops
//! in a message's trail.

use std::path::{Path, PathBuf};

use broker_model::queue::QueueConfig;
use broker_model::{DropReason, Event, EventKind};
use harness::scenario;

/// The path of the bundled scenario `name`.
pub fn bundled(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../scenarios")
        .join(format!("{name}.toml"))
}

/// The bundled queue scenario `name`, its configuration changed by `change`.
pub fn queue_scenario(name: &str, change: impl FnOnce(&mut QueueConfig)) -> scenario::Scenario {
    let mut s = scenario::load(&bundled(name)).unwrap();
    let scenario::System::Queue(config) = &mut s.system else {
        panic!("a queue scenario")
    };
    change(config);
    s
}

/// The drops in `trail` for `why`.
pub fn dropped(trail: &[Event], why: DropReason) -> Vec<&Event> {
    trail
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Drop { reason, .. } if reason == why))
        .collect()
}

/// Whether `trail` holds an event `kind` accepts.
pub fn has(trail: &[Event], kind: fn(&EventKind) -> bool) -> bool {
    trail.iter().any(|e| kind(&e.kind))
}
