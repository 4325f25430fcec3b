//! The shortest reproducer of a finding: its first losing run shrunk
//! (`harness::shrink`) and written as a scenario file that `mqsim run`
//! replays with the same verdict.

use std::path::Path;

use reports::audit::Reproducer;

use crate::audit::failure::AuditError;
use crate::scenario::{writer, Scenario};
use crate::shrink;
use reports::files::write_atomically;

/// Shrinks `scenario` with `seed` (which loses) in at most `budget` runs,
/// and writes it into `dir` when there is one.
pub(crate) fn reproduce(
    scenario: &Scenario,
    seed: u64,
    budget: usize,
    dir: Option<&Path>,
) -> Result<Option<Reproducer>, AuditError> {
    let Some(mut shrunk) = shrink::shrink(scenario, seed, budget)? else {
        return Ok(None);
    };
    let file = match dir {
        Some(dir) => {
            let path = dir.join(format!("{}.toml", shrunk.scenario.name));
            shrunk.scenario.file = path.clone();
            write_atomically(&path, writer::write(&shrunk.scenario).as_bytes()).map_err(
                |source| AuditError::Write {
                    path: path.clone(),
                    source,
                },
            )?;
            path.display().to_string()
        }
        None => format!("{}.toml", shrunk.scenario.name),
    };
    Ok(Some(Reproducer {
        replay: format!("mqsim run {file} --seed {seed}"),
        file,
        seed,
        faults: shrunk.scenario.faults.len(),
        messages: shrunk.scenario.workload.messages,
        lost: shrunk.lost,
    }))
}
