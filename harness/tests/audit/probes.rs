//! The audit's fixed probes hold the guarantee matrix: every class a row
//! does not survive applies to it and loses a message under its probes,
//! and no class it survives does.

use broker_model::Workload;
use harness::audit::{applies, probes, Applicability};
use harness::guarantees::{self, FaultClass, Guarantee};
use harness::runner;
use rayon::prelude::*;

const SEEDS: [u64; 1] = [1];

/// Acknowledged messages lost by `class`'s probes of row `g`, over
/// [`SEEDS`], and whether every run was conclusive.
fn lost(g: &Guarantee, class: FaultClass) -> (u64, bool) {
    let runs: Vec<(u64, bool)> = probes(class, &g.system, &Workload::default())
        .into_iter()
        .flat_map(|p| SEEDS.map(|seed| (p.clone(), seed)))
        .collect::<Vec<_>>()
        .par_iter()
        .map(|(p, seed)| {
            let s = guarantees::scenario(g, p.workload.clone(), p.duration, p.faults.clone());
            let r = runner::run(&s, *seed).expect("the models' hosts do not fail");
            (
                r.analysis.counts.lost,
                r.drained || r.analysis.counts.unconsumed == 0,
            )
        })
        .collect();
    (runs.iter().map(|r| r.0).sum(), runs.iter().all(|r| r.1))
}

#[test]
fn every_row_loses_under_its_probes_exactly_where_the_matrix_says() {
    let mut wrong = Vec::new();
    for g in guarantees::matrix() {
        for class in &g.loses_under {
            if let Applicability::DoesNotApply(why) = applies(*class, &g.system) {
                wrong.push(format!("{}: {} would not run: {why}", g.name, class.name()));
            }
            let (n, _) = lost(&g, *class);
            if n == 0 {
                wrong.push(format!("{}: {} lost nothing", g.name, class.name()));
            }
        }
        for class in &g.survives {
            let (n, conclusive) = lost(&g, *class);
            if n > 0 || !conclusive {
                wrong.push(format!(
                    "{}: {} lost {n} (conclusive: {conclusive})",
                    g.name,
                    class.name()
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
