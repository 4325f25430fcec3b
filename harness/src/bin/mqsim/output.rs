//! What `mqsim` prints: the summary table, lost messages' trails, and the
//! helper that keeps `mqsim run | head` from panicking on a closed pipe.

use reports::describe::{count, undrained};
use reports::{ScenarioReport, Verdict};

/// Prints a line to stdout, ignoring a closed pipe (`mqsim run | head`).
macro_rules! out {
    ($($t:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($t)*);
    }};
}
pub(crate) use out;

/// Lost messages whose trail a replay prints; `--history` has every event.
const TRAILS_SHOWN: usize = 10;

/// One row of the summary table.
fn print_row(cells: [&dyn std::fmt::Display; 8]) {
    let [mark, name, seeds, acked, lost, dup, verdict, expect] = cells;
    out!(
        "{mark:<6} {name:<42} {seeds:>5} {acked:>8} {lost:>6} {dup:>6}  {verdict:<12} {expect:<8}"
    );
}

/// The header of the summary table.
pub fn print_header() {
    print_row([
        &"",
        &"scenario",
        &"seeds",
        &"acked",
        &"lost",
        &"dup",
        &"verdict",
        &"expect",
    ]);
}

/// One scenario's line of the summary table; an inconclusive scenario's
/// is followed by what it left undecided.
pub fn print_line(r: &ScenarioReport) {
    let mark = match (r.verdict, r.matches) {
        (Verdict::Inconclusive, _) => "?",
        (_, true) => "ok",
        (_, false) => "FAIL",
    };
    print_row([
        &mark,
        &r.name,
        &r.seeds.len(),
        &r.totals.acknowledged,
        &r.totals.lost,
        &r.totals.duplicated,
        &r.verdict.name(),
        &r.expect.name(),
    ]);
    if r.verdict == Verdict::Inconclusive {
        out!("       inconclusive: {}", undrained(r));
    }
    if r.totals.dead_lettered > 0 {
        out!(
            "       dead-lettered: {} acknowledged messages processed only from a dead-letter queue (not lost, not processed from their queue)",
            count(r.totals.dead_lettered)
        );
    }
}

/// The faults of every seed and the trail of (the first) lost messages.
pub fn print_trails(r: &ScenarioReport) {
    for seed in &r.seeds {
        if seed.verdict() == Verdict::Inconclusive {
            out!(
                "       seed {}: did not drain: {} still readable; {} acknowledged messages not yet consumed (not counted as lost)",
                seed.seed,
                count(seed.readable()),
                count(seed.counts.unconsumed)
            );
        } else if !seed.drained {
            out!(
                "       seed {}: the final drain did not finish, with nothing left to read",
                seed.seed
            );
        }
        for f in &seed.faults {
            out!(
                "       {:>9.3}s  {:<12} {}",
                f.at().as_secs_f64(),
                f.host,
                reports::describe::event(&f.kind)
            );
        }
        for lost in seed.lost.iter().take(TRAILS_SHOWN) {
            out!("       lost {}:", lost.id);
            for e in &lost.trail {
                out!(
                    "         {:>9.3}s  {:<12} {}",
                    e.at().as_secs_f64(),
                    e.host,
                    reports::describe::event(&e.kind)
                );
            }
        }
        if seed.lost.len() > TRAILS_SHOWN {
            out!(
                "       … and {} more lost messages (listed in the report; --history writes every event)",
                seed.lost.len() - TRAILS_SHOWN
            );
        }
    }
}
