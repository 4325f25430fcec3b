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
//!
//! The test drives the browser over the DevTools protocol with
//! `headless_chrome` (its browser download is a feature left off): the
//! protocol tells an uncaught exception, a `console.error` and a failed load
//! apart from a log line, which Chromium's `--enable-logging` output does
//! not.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::Log::LogEntryLevel;
use headless_chrome::protocol::cdp::Runtime::ConsoleAPICalledEventTypeOption;
use headless_chrome::protocol::cdp::Runtime::RemoteObject;
use headless_chrome::{Browser, LaunchOptions, Tab};
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

/// The longest any one step may take; a hung browser fails the test
/// instead of hanging it.
const STEP: Duration = Duration::from_secs(30);

/// Starts `exe` headless with a fresh profile; the browser is killed and its
/// profile removed when the value is dropped.
fn launch(exe: &Path) -> Result<Browser, Failed> {
    let options = LaunchOptions::default_builder()
        .path(Some(exe.to_path_buf()))
        .sandbox(false)
        .idle_browser_timeout(STEP)
        .args(vec!["--disable-quic".as_ref()])
        .build()
        .map_err(|e| format!("browser options: {e}"))?;
    Browser::new(options).map_err(|e| format!("cannot start {}: {e}", exe.display()).into())
}

/// A loaded page and every error it caused, one line each.
struct Loaded {
    tab: Arc<Tab>,
    problems: Vec<String>,
}

/// A step that went wrong, for the test's message.
fn failed(what: &str, e: impl std::fmt::Display) -> String {
    format!("{what}: {e}")
}

/// Opens `url` in a new tab, waits for it to load and settle, and reports
/// every error it caused.
fn load(browser: &Browser, url: &str) -> Result<Loaded, Failed> {
    let tab = browser.new_tab().map_err(|e| failed("new tab", e))?;
    tab.set_default_timeout(STEP);
    tab.enable_runtime()
        .map_err(|e| failed("Runtime.enable", e))?;
    tab.enable_log().map_err(|e| failed("Log.enable", e))?;
    let problems = Arc::new(Mutex::new(Vec::new()));
    let heard = Arc::clone(&problems);
    tab.add_event_listener(Arc::new(move |event: &Event| {
        if let Some(p) = problem(event) {
            heard.lock().expect("the listener never panics").push(p);
        }
    }))
    .map_err(|e| failed("listening", e))?;
    tab.navigate_to(url)
        .and_then(|t| t.wait_until_navigated())
        .map_err(|e| failed(url, e))?;
    // Late complaints (a timer, a lazy resource) get a moment to arrive.
    std::thread::sleep(Duration::from_millis(500));
    let problems = problems.lock().expect("the listener never panics").clone();
    Ok(Loaded { tab, problems })
}

/// Evaluates a JavaScript expression whose value is JSON text in a loaded
/// page, and returns the value.
fn evaluate(page: &Loaded, expression: &str) -> Result<serde_json::Value, Failed> {
    let result = page
        .tab
        .evaluate(expression, false)
        .map_err(|e| format!("{expression}: {e}"))?;
    let text = result
        .value
        .as_ref()
        .and_then(|v| v.as_str())
        .ok_or_else(|| format!("{expression}: no text but {result:?}"))?;
    serde_json::from_str(text).map_err(|e| format!("{expression}: {e}").into())
}

/// What a remote value says, for a message.
fn said(value: &RemoteObject) -> String {
    match &value.value {
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(v) => v.to_string(),
        None => value.description.clone().unwrap_or_default(),
    }
}

/// The complaint an event makes, if it is one.
fn problem(event: &Event) -> Option<String> {
    match event {
        Event::RuntimeExceptionThrown(e) => {
            let d = &e.params.exception_details;
            let what = d
                .exception
                .as_ref()
                .and_then(|x| x.description.clone())
                .unwrap_or_else(|| d.text.clone());
            Some(format!("uncaught exception: {what}"))
        }
        Event::RuntimeConsoleAPICalled(c)
            if matches!(
                c.params.Type,
                ConsoleAPICalledEventTypeOption::Error | ConsoleAPICalledEventTypeOption::Assert
            ) =>
        {
            let args: Vec<String> = c.params.args.iter().map(said).collect();
            Some(format!("console.error: {}", args.join(" ")))
        }
        Event::LogEntryAdded(l) if matches!(l.params.entry.level, LogEntryLevel::Error) => {
            let entry = &l.params.entry;
            let source = serde_json::to_value(&entry.source).unwrap_or_default();
            Some(format!(
                "{} error: {} {}",
                source.as_str().unwrap_or("log"),
                entry.text,
                entry.url.as_deref().unwrap_or("")
            ))
        }
        _ => None,
    }
}

fn report_loads_cleanly_and_shows_matrix_and_timeline(exe: &Path) -> Result<(), Failed> {
    let dir = scratch("report");
    let page = write_report(&dir)?;
    let browser = launch(exe)?;
    let loaded = load(&browser, &file_url(&page))?;
    if !loaded.problems.is_empty() {
        return Err(format!(
            "the report raised errors in the browser:\n{}",
            loaded.problems.join("\n")
        )
        .into());
    }
    let shown = evaluate(
        &loaded,
        r#"JSON.stringify((() => {
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
        })())"#,
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
    drop(loaded);
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
    let browser = launch(exe)?;
    let loaded = load(&browser, &file_url(&page))?;
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
    drop(loaded);
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
