//! One test per bundled scenario file: run every seed the file lists and
//! require the checker's verdict to match the file's `expect`. The bundled
//! `loss` scenarios fire their faults on conditions, not on luck, so each of
//! them must lose on every one of its seeds.
//!
//! A new file in `scenarios/` is a new test, with no Rust to write.

use std::path::{Path, PathBuf};

use harness::scenario;
use harness::suite;

use libtest_mimic::{Arguments, Failed, Trial};

fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios")
}

fn check(file: &Path) -> Result<(), Failed> {
    let s = scenario::load(file).map_err(|e| e.to_string())?;
    let (report, _) = suite::run(&s).map_err(|e| e.to_string())?;
    if report.matches && report.verdict == reports::Verdict::Loss {
        let spared: Vec<u64> = report
            .seeds
            .iter()
            .filter(|s| s.counts.lost == 0)
            .map(|s| s.seed)
            .collect();
        if !spared.is_empty() {
            return Err(format!("seeds {spared:?} lost nothing").into());
        }
    }
    if report.matches {
        return Ok(());
    }
    if report.verdict == reports::Verdict::Inconclusive {
        return Err(format!(
            "inconclusive: {}, so {} acknowledged messages nobody processed are not judged; replay: {}",
            reports::describe::undrained(&report),
            report.totals.unconsumed,
            report.replay,
        )
        .into());
    }
    Err(format!(
        "verdict `{}` but the file expects `{}`: lost {} of {} acknowledged over seeds {:?}; replay: {}",
        report.verdict.name(),
        report.expect.name(),
        report.totals.lost,
        report.totals.acknowledged,
        report.seeds.iter().map(|s| s.seed).collect::<Vec<_>>(),
        report.replay,
    )
    .into())
}

fn main() {
    let args = Arguments::from_args();
    let files = scenario::discover(&[scenarios_dir()]).expect("the scenarios folder is readable");
    let trials = files
        .into_iter()
        .map(|file| {
            let name = file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            Trial::test(format!("scenario::{name}"), move || check(&file))
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
