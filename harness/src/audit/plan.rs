//! The runs an audit makes: for every target, every fault class that
//! applies to it, every probe of the class, every seed. Kept apart from
//! running them so that the same plan serves the configuration as it is
//! and each cure.

use crate::audit::applies::{applies, Applicability};
use crate::audit::deployment::Target;
use crate::audit::probe::probes;
use crate::guarantees::FaultClass;
use crate::scenario::{Scenario, System};

/// A name safe in file names: lower case, runs of anything else than
/// letters and digits as one `-`.
pub(crate) fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// One fault class against one target: the scenarios of its probes.
#[derive(Clone, Debug)]
pub(crate) struct ClassPlan {
    /// Index of the target in the deployment.
    pub(crate) target: usize,
    /// The class.
    pub(crate) class: FaultClass,
    /// Why it applies.
    pub(crate) why: String,
    /// One scenario per probe, seeds set.
    pub(crate) scenarios: Vec<Scenario>,
}

impl ClassPlan {
    /// Every (probe, seed) of the plan, probe by probe.
    pub(crate) fn jobs(&self) -> impl Iterator<Item = (&Scenario, u64)> {
        self.scenarios
            .iter()
            .flat_map(|s| s.seeds.iter().map(move |seed| (s, *seed)))
    }

    /// The same probes against `system` (a cure of the target's own).
    pub(crate) fn with_system(&self, system: &System) -> ClassPlan {
        let mut plan = self.clone();
        for s in &mut plan.scenarios {
            s.system = system.clone();
        }
        plan
    }
}

/// The scenarios of `class`'s probes against `target`, each run with
/// `seeds`.
fn scenarios(target: &Target, class: FaultClass, seeds: &[u64]) -> Vec<Scenario> {
    probes(class, &target.system, &target.workload)
        .into_iter()
        .map(|p| {
            let name = format!(
                "audit-{}-{}-{}",
                slug(&target.name),
                slug(class.name()),
                p.label
            );
            let mut s = Scenario::new(&name, target.system.clone());
            s.description = format!(
                "`{}` under {}: probe {} of `mqsim audit`.",
                target.name,
                class.name(),
                p.label
            );
            s.workload = p.workload;
            s.duration = p.duration;
            s.faults = p.faults;
            s.seeds = seeds.to_vec();
            s
        })
        .collect()
}

/// Which classes run against which target, and which do not (with why
/// not), per target in deployment order.
pub(crate) fn plan(
    targets: &[Target],
    classes: &[FaultClass],
    seeds: &[u64],
) -> (Vec<ClassPlan>, Vec<Vec<(FaultClass, String)>>) {
    let mut plans = Vec::new();
    let mut skipped = Vec::new();
    for (i, target) in targets.iter().enumerate() {
        let mut not_run = Vec::new();
        for class in FaultClass::ALL.into_iter().filter(|c| classes.contains(c)) {
            match applies(class, &target.system) {
                Applicability::Applies(why) => {
                    let scenarios = scenarios(target, class, seeds);
                    if scenarios.is_empty() {
                        not_run.push((class, "no probe fits this configuration".into()));
                        continue;
                    }
                    plans.push(ClassPlan {
                        target: i,
                        class,
                        why,
                        scenarios,
                    });
                }
                Applicability::DoesNotApply(why) => not_run.push((class, why)),
            }
        }
        skipped.push(not_run);
    }
    (plans, skipped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slug_keeps_letters_and_digits_only() {
        assert_eq!(slug("orders, payments"), "orders-payments");
        assert_eq!(
            slug("power loss of all brokers"),
            "power-loss-of-all-brokers"
        );
    }
}
