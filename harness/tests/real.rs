//! The bundled `scenarios/real/` on real RabbitMQ nodes: each scenario's
//! real verdict must equal the model's, and a difference fails with the
//! scenario and both verdicts.
//!
//! The comparison starts a fresh three-node cluster per scenario and takes
//! minutes, so it runs only with `MQSIM_REAL=1` (CI sets it, after
//! installing Debian's `rabbitmq-server`). Without it, or without a
//! RabbitMQ the harness can start (the package, and root), every trial is
//! reported as ignored and a line says why.

use std::path::PathBuf;

use harness::real::compare::Agreement;
use harness::real::{available, broker_version, side_by_side, RealOptions, RealOutcome};
use harness::scenario;
use libtest_mimic::{Arguments, Failed, Trial};

fn main() {
    let mut args = Arguments::from_args();
    // One cluster at a time: the nodes' ports are fixed.
    args.test_threads = Some(1);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scenarios/real");
    let files = scenario::discover(&[root]).expect("scenarios/real is readable");
    let why_not = if std::env::var("MQSIM_REAL").as_deref() != Ok("1") {
        Some("set MQSIM_REAL=1 to run the comparison with real RabbitMQ nodes".to_string())
    } else {
        available().err()
    };
    if let Some(why) = &why_not {
        eprintln!("real RabbitMQ comparison skipped: {why}");
    }
    let trials = files
        .into_iter()
        .map(|file| {
            let name = file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            Trial::test(format!("real_vs_model::{name}"), move || compare(&file))
                .with_ignored_flag(why_not.is_some())
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn compare(file: &std::path::Path) -> Result<(), Failed> {
    let s = scenario::load(file).map_err(|e| e.to_string())?;
    let options = RealOptions {
        client_exe: PathBuf::from(env!("CARGO_BIN_EXE_mqsim")),
        work_dir: std::env::temp_dir().join(format!("mqsim-real-test-{}", std::process::id())),
    };
    let side =
        side_by_side(&s, &options, &broker_version()).map_err(|e| format!("{}: {e}", s.name))?;
    let RealOutcome::Ran(run) = &side.real else {
        return Err(format!(
            "{}: a bundled real scenario was skipped: {:?}",
            s.name, side.real
        )
        .into());
    };
    let analysis = &run.analysis;
    let agreement = side
        .agreement()
        .ok_or_else(|| format!("{}: the real run has no report", s.name))?;
    if let Agreement::Differ { model, real } = agreement {
        return Err(format!(
            "{}: the model says {} ({} lost over its seeds), real RabbitMQ says {} \
             ({} acknowledged, {} lost, {} unconsumed)",
            s.name,
            model.name(),
            side.report.totals.lost,
            real.name(),
            analysis.counts.acknowledged,
            analysis.counts.lost,
            analysis.unconsumed.len()
        )
        .into());
    }
    Ok(())
}
