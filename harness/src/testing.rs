//! Assertions for your own `cargo test`: run a scenario file, or a scenario
//! built in Rust, and fail the test when an acknowledged message is lost.
//!
//! ```no_run
//! // tests/durability.rs in your crate
//! #[test]
//! fn our_broker_settings_lose_nothing() {
//!     harness::testing::assert_no_loss("scenarios/our-settings.toml");
//! }
//! ```
//!
//! On failure the panic message names the losing seeds, the report file and
//! the command that replays the first losing seed. A scenario whose drain
//! gave up while messages were still readable is inconclusive and passes
//! neither assertion: it showed neither a loss nor that nothing was lost.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use reports::{Report, ScenarioReport, Verdict};

use crate::runner::RunError;
use crate::scenario::{self, Scenario};
use crate::suite;

/// Why [`run`] has no report to give.
#[derive(Debug)]
pub enum TestingError {
    /// A seed's run could not finish.
    Run(RunError),
    /// The report could not be written.
    Write {
        /// The report file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

impl fmt::Display for TestingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TestingError::Run(e) => e.fmt(f),
            TestingError::Write { path, source } => {
                write!(f, "cannot write {}: {source}", path.display())
            }
        }
    }
}

impl std::error::Error for TestingError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TestingError::Run(e) => Some(e),
            TestingError::Write { source, .. } => Some(source),
        }
    }
}

impl From<RunError> for TestingError {
    fn from(e: RunError) -> Self {
        TestingError::Run(e)
    }
}

/// Where reports of library runs go: `$CARGO_TARGET_DIR/mqsim/<name>/`, or
/// `target/mqsim/<name>/` under the current directory.
pub fn report_dir(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("mqsim").join(name)
}

/// Runs every seed of `scenario`, writes its report, and returns the
/// report and the path of the written JSON.
pub fn run(scenario: &Scenario) -> Result<(ScenarioReport, PathBuf), TestingError> {
    let (report, _) = suite::run(scenario)?;
    let dir = report_dir(&scenario.name);
    let path = dir.join("report.json");
    let document = Report {
        scenarios: vec![report.clone()],
        ..Report::new()
    };
    if let Err(source) = reports::json::write(&document, &path) {
        return Err(TestingError::Write { path, source });
    }
    Ok((report, path))
}

fn load(file: &Path) -> Scenario {
    scenario::load(file).unwrap_or_else(|e| panic!("{e}"))
}

fn require(scenario: &Scenario, want: Verdict) {
    let (report, path) = run(scenario).unwrap_or_else(|e| panic!("{}: {e}", scenario.name));
    if report.verdict == want {
        return;
    }
    if report.verdict == Verdict::Inconclusive {
        panic!(
            "scenario `{}` is inconclusive: {}, so {} acknowledged messages nobody processed are neither shown lost nor shown kept; give it a longer `drain`; report: {}; replay: {}",
            scenario.name,
            reports::describe::undrained(&report),
            report.totals.unconsumed,
            path.display(),
            report.replay
        );
    }
    match want {
        Verdict::NoLoss => panic!(
            "scenario `{}` lost {} of {} acknowledged messages (seeds {:?}); report: {}; replay: {}",
            scenario.name,
            report.totals.lost,
            report.totals.acknowledged,
            report.seeds_with_loss,
            path.display(),
            report.replay
        ),
        Verdict::Loss => panic!(
            "scenario `{}` lost no acknowledged message over {} seeds; report: {}",
            scenario.name,
            report.seeds.len(),
            path.display()
        ),
        Verdict::Inconclusive => unreachable!("no assertion requires an inconclusive verdict"),
    }
}

/// Panics unless every seed of the scenario file at `file` keeps every
/// acknowledged message.
pub fn assert_no_loss(file: impl AsRef<Path>) {
    require(&load(file.as_ref()), Verdict::NoLoss);
}

/// Panics unless some seed of the scenario file at `file` loses an
/// acknowledged message: for scenarios that document an unsafe setting.
pub fn assert_loss(file: impl AsRef<Path>) {
    require(&load(file.as_ref()), Verdict::Loss);
}

/// Panics unless every seed of `scenario` keeps every acknowledged message.
pub fn assert_scenario_no_loss(scenario: &Scenario) {
    require(scenario, Verdict::NoLoss);
}
