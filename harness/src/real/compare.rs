//! The model's verdict held to the real one, scenario by scenario, as
//! Jepsen holds a system's claims to what a real cluster does.

use reports::Verdict;

/// How the model and the real nodes compare on one scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Agreement {
    /// Both gave this verdict.
    Agree(Verdict),
    /// They differ.
    Differ {
        /// The model's verdict over the scenario's seeds.
        model: Verdict,
        /// The real run's verdict.
        real: Verdict,
    },
}

impl Agreement {
    /// Compares the model's verdict with the real one.
    pub fn of(model: Verdict, real: Verdict) -> Self {
        if model == real {
            Agreement::Agree(model)
        } else {
            Agreement::Differ { model, real }
        }
    }

    /// Whether they agree.
    pub fn agrees(&self) -> bool {
        matches!(self, Agreement::Agree(_))
    }
}

/// The summary line: `real vs model: N of M scenarios agree`, M counting
/// the scenarios that ran on real nodes.
pub fn summary_line(agreements: &[Agreement]) -> String {
    let agree = agreements.iter().filter(|a| a.agrees()).count();
    format!(
        "real vs model: {agree} of {} scenarios agree",
        agreements.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inconclusive_real_run_never_agrees_with_a_conclusive_model() {
        let a = Agreement::of(Verdict::NoLoss, Verdict::Inconclusive);
        assert!(!a.agrees());
    }

    #[test]
    fn the_summary_counts_the_scenarios_that_ran() {
        let line = summary_line(&[
            Agreement::of(Verdict::Loss, Verdict::Loss),
            Agreement::of(Verdict::NoLoss, Verdict::Loss),
        ]);
        assert_eq!(line, "real vs model: 1 of 2 scenarios agree");
    }
}
