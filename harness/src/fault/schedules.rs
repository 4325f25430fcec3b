//! Fault schedules written in Rust rather than read from a file: the
//! building blocks the property tests' generated schedules and the audit's
//! fixed probes share, so both describe a fault the same way.

use std::time::Duration;

use crate::fault::{Action, Condition, Fault, Selector, Target, Trigger};

/// The selector of `targets`, whose roles (`leader`, `followers`) mean
/// those of `dest`.
pub fn select(dest: &str, targets: Vec<Target>) -> Selector {
    Selector {
        targets,
        dest: dest.to_string(),
    }
}

/// A fault fired by the clock at `at`.
pub fn timed(at: Duration, action: Action) -> Fault {
    Fault {
        at,
        trigger: None,
        action,
    }
}

/// A fault that starts watching `condition` of `dest` at `at`, and fires
/// `after` it holds, at most `times` times.
pub fn triggered(
    at: Duration,
    condition: Condition,
    dest: &str,
    after: Duration,
    times: u32,
    action: Action,
) -> Fault {
    Fault {
        at,
        trigger: Some(Trigger {
            condition,
            dest: dest.to_string(),
            after,
            times,
        }),
        action,
    }
}

/// Points a schedule's role targets and triggers at `dest`: a schedule
/// written for one destination, run against another.
pub fn for_dest(faults: Vec<Fault>, dest: &str) -> Vec<Fault> {
    let point = |s: &mut Selector| s.dest = dest.to_string();
    faults
        .into_iter()
        .map(|mut f| {
            if let Some(t) = &mut f.trigger {
                t.dest = dest.to_string();
            }
            match &mut f.action {
                Action::Partition { target, peer, .. }
                | Action::Drop { target, peer, .. }
                | Action::Delay { target, peer, .. }
                | Action::Hold { target, peer, .. } => {
                    point(target);
                    peer.iter_mut().for_each(point);
                }
                Action::Crash { target, .. }
                | Action::PowerLoss { target, .. }
                | Action::StopApp { target, .. } => point(target),
                Action::Heal | Action::Unbind { .. } => {}
            }
            f
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_pointed_at_another_destination_keeps_everything_else() {
        let crash = Action::Crash {
            target: select("p0", vec![Target::Leader]),
            restart_after: Some(Duration::from_secs(1)),
        };
        let faults = vec![triggered(
            Duration::from_secs(2),
            Condition::LeaderAheadOfFollowers,
            "p0",
            Duration::ZERO,
            1,
            crash,
        )];
        let moved = for_dest(faults.clone(), "q0");
        assert_eq!(moved[0].trigger.as_ref().unwrap().dest, "q0");
        let Action::Crash { target, .. } = &moved[0].action else {
            panic!("still a crash")
        };
        assert_eq!(target.dest, "q0");
        assert_eq!(moved[0].at, faults[0].at);
    }
}
