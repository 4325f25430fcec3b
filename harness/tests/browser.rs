//! The HTML report in a real browser.
//!
//! Headless Chromium loads a report that `mqsim run` wrote and must raise
//! no error of any kind (no uncaught exception, no `console.error`, no
//! failed load: the page fetches nothing), and the rendered page must hold
//! the guarantee matrix and a drawn lifecycle timeline. A second test loads
//! a deliberately broken page, to show that the first would notice.
//!
//! The browser is `MQSIM_CHROMIUM` or the first of `chromium`,
//! `chromium-browser`, `google-chrome` on `PATH`. Without one, both tests
//! are reported as ignored and a line says how to install it.

#[path = "browser/cdp.rs"]
mod cdp;

use std::path::{Path, PathBuf};
use std::process::Command;

use libtest_mimic::{Arguments, Failed, Trial};

const BROWSERS: &[&str] = &[
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];

fn find_browser() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("MQSIM_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    BROWSERS.iter().find_map(|name| {
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    })
}

/// A fresh folder for one test's files.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("mqsim-browser-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the temp folder is writable");
    dir
}

fn file_url(path: &Path) -> String {
    format!("file://{}", path.display())
}

/// Runs two bundled scenarios, one that loses messages and one that does
/// not, for two seeds each, and writes their report into `dir`.
fn write_report(dir: &Path) -> Result<PathBuf, Failed> {
    let scenarios = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios");
    let out = Command::new(env!("CARGO_BIN_EXE_mqsim"))
        .arg("run")
        .arg(scenarios.join("log-acks1-leader-crash.toml"))
        .arg(scenarios.join("log-acksall-leader-crash.toml"))
        .args(["--seeds", "2", "--out"])
        .arg(dir)
        .output()
        .map_err(|e| format!("cannot run mqsim: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "mqsim run failed: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    Ok(dir.join("index.html"))
}

fn report_loads_cleanly_and_shows_matrix_and_timeline(exe: &Path) -> Result<(), Failed> {
    let dir = scratch("report");
    let page = write_report(&dir)?;
    let mut browser = cdp::Browser::launch(exe)?;
    let loaded = browser.load(&file_url(&page))?;
    if !loaded.problems.is_empty() {
        return Err(format!(
            "the report raised errors in the browser:\n{}",
            loaded.problems.join("\n")
        )
        .into());
    }
    let shown = browser.evaluate(
        &loaded,
        r#"(() => {
            const area = (el) => { if (!el) return 0; const r = el.getBoundingClientRect(); return r.width * r.height; };
            const open = document.querySelector('details[open] svg.timeline');
            return {
                matrix: area(document.querySelector('table#guarantee-matrix')),
                cells: document.querySelectorAll('#guarantee-matrix td.cell-loss, #guarantee-matrix td.cell-ok').length,
                timelines: document.querySelectorAll('svg.timeline').length,
                timelineArea: area(open),
                timelineMarks: open ? open.querySelectorAll('.ev').length : 0,
                plots: document.querySelectorAll('svg.plot').length,
                scripts: document.scripts.length,
            };
        })()"#,
    )?;
    let n = |k: &str| shown[k].as_f64().unwrap_or(0.0);
    let fail = |what: &str| -> Result<(), Failed> {
        Err(format!("{what}; the page showed {shown}").into())
    };
    if n("matrix") < 1.0 || n("cells") < 2.0 {
        return fail("the guarantee matrix is missing or empty");
    }
    if n("timelines") < 1.0 || n("timelineArea") < 10_000.0 || n("timelineMarks") < 4.0 {
        return fail("no lifecycle timeline is drawn in an open section");
    }
    if n("plots") < 4.0 {
        return fail("a run's throughput and latency plot is missing");
    }
    if n("scripts") != 0.0 {
        return fail("the page carries a script");
    }
    drop(browser);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// The same check on a page with an uncaught exception, a console error and
/// a missing image must find all three.
fn a_broken_page_is_caught(exe: &Path) -> Result<(), Failed> {
    let dir = scratch("broken");
    let page = dir.join("broken.html");
    std::fs::write(
        &page,
        r#"<!DOCTYPE html><html><head><title>broken</title></head><body>
<script>console.error("deliberate console error");</script>
<script>undefinedFunction();</script>
<img src="missing.png" alt="">
</body></html>"#,
    )
    .map_err(|e| e.to_string())?;
    let mut browser = cdp::Browser::launch(exe)?;
    let loaded = browser.load(&file_url(&page))?;
    let all = loaded.problems.join("\n");
    for expected in [
        "deliberate console error",
        "undefinedFunction is not defined",
        "missing.png",
    ] {
        if !all.contains(expected) {
            return Err(format!("`{expected}` was not reported; reported:\n{all}").into());
        }
    }
    drop(browser);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let browser = find_browser();
    if browser.is_none() {
        eprintln!(
            "skipped: chromium not installed (no {} on PATH and MQSIM_CHROMIUM unset; \
             on Debian or Ubuntu: `apt-get install chromium`)",
            BROWSERS.join(", ")
        );
    }
    let exe = browser.clone().unwrap_or_default();
    let exe2 = exe.clone();
    let trials = vec![
        Trial::test(
            "browser::report_loads_cleanly_and_shows_matrix_and_timeline",
            move || report_loads_cleanly_and_shows_matrix_and_timeline(&exe),
        )
        .with_ignored_flag(browser.is_none()),
        Trial::test("browser::a_broken_page_is_caught", move || {
            a_broken_page_is_caught(&exe2)
        })
        .with_ignored_flag(browser.is_none()),
    ];
    libtest_mimic::run(&args, trials).exit();
}
