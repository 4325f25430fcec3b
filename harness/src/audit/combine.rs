//! A cure of several settings at once, for a class that no single change
//! cures: a deployment with two unsafe settings (`acks=1` and
//! `enable.auto.commit=true`) loses through both, so each change alone
//! leaves the other's losses.

use crate::audit::cure::{cures, Change};
use crate::scenario::System;

/// The single changes that `lowered` the class's losses, applied together
/// to `system` in the order given; `None` when fewer than two did, or
/// when one of them no longer applies once the others are made.
pub(crate) fn combined(system: &System, names: &[&str], lowered: &[&Change]) -> Option<Change> {
    if lowered.len() < 2 {
        return None;
    }
    let mut current = system.clone();
    for change in lowered {
        let next = cures(&current, names)
            .into_iter()
            .find(|c| c.setting == change.setting && c.to == change.to)?;
        current = next.system;
    }
    let join = |f: fn(&Change) -> &str| {
        lowered
            .iter()
            .map(|c| f(c))
            .collect::<Vec<&str>>()
            .join(" + ")
    };
    Some(Change {
        setting: join(|c| &c.setting),
        from: join(|c| &c.from),
        to: join(|c| &c.to),
        system: current,
    })
}

#[cfg(test)]
mod tests {
    use broker_model::log::{Acks, LogConfig};

    use super::*;

    fn unsafe_log() -> System {
        System::Log(LogConfig {
            brokers: 3,
            replication_factor: 3,
            acks: Acks::Leader,
            enable_auto_commit: true,
            ..LogConfig::default()
        })
    }

    #[test]
    fn two_changes_that_each_lowered_the_losses_are_made_together() {
        let system = unsafe_log();
        let singles = cures(&system, &[]);
        let lowered: Vec<&Change> = singles
            .iter()
            .filter(|c| c.setting == "acks" || c.setting == "enable.auto.commit")
            .collect();
        let both = combined(&system, &[], &lowered).expect("both apply");
        assert_eq!(both.setting, "acks + enable.auto.commit");
        assert_eq!(both.to, "all + false");
        let System::Log(c) = &both.system else {
            panic!("a log")
        };
        assert_eq!(c.acks, Acks::All);
        assert!(!c.enable_auto_commit);
    }

    #[test]
    fn one_change_alone_is_no_combination() {
        let system = unsafe_log();
        let singles = cures(&system, &[]);
        let acks: Vec<&Change> = singles.iter().filter(|c| c.setting == "acks").collect();
        assert!(combined(&system, &[], &acks).is_none());
    }
}
