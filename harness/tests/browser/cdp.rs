//! Just enough of the Chrome DevTools Protocol to load a page in headless
//! Chromium and hear every complaint it makes: uncaught exceptions,
//! `console.error`, and log entries at error level (a resource that failed
//! to load, a blocked request).
//!
//! Chromium's own `--enable-logging` output writes every console message at
//! the same level, so an error cannot be told from a log line there; the
//! protocol says which is which.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use tungstenite::{Message, WebSocket};

/// The longest any one step may take; a hung browser fails the test
/// instead of hanging it.
const STEP: Duration = Duration::from_secs(30);

/// A headless Chromium driven over its DevTools socket; killed on drop.
pub struct Browser {
    child: Child,
    socket: WebSocket<TcpStream>,
    profile: PathBuf,
    next_id: u64,
    events: Vec<Value>,
}

/// What loading a page produced.
pub struct Loaded {
    /// Every error the page caused, one line each.
    pub problems: Vec<String>,
    session: String,
}

impl Browser {
    /// Starts `exe` headless with a fresh profile and connects to it.
    pub fn launch(exe: &Path) -> Result<Browser, String> {
        static LAUNCHES: AtomicUsize = AtomicUsize::new(0);
        let profile = std::env::temp_dir().join(format!(
            "mqsim-chromium-{}-{}",
            std::process::id(),
            LAUNCHES.fetch_add(1, Ordering::Relaxed)
        ));
        let mut child = Command::new(exe)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
        // Chromium announces its socket on stderr; keep draining stderr
        // afterwards so the browser never blocks on a full pipe.
        let stderr = child.stderr.take().expect("stderr is piped");
        let (tx, rx) = mpsc::channel::<String>();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let deadline = Instant::now() + STEP;
        let mut seen = Vec::new();
        let url = loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) => match line.split_once("DevTools listening on ") {
                    Some((_, url)) => break url.trim().to_string(),
                    None => seen.push(line),
                },
                Err(_) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let _ = std::fs::remove_dir_all(&profile);
                    return Err(format!(
                        "{} never opened its DevTools socket; it said:\n{}",
                        exe.display(),
                        seen.join("\n")
                    ));
                }
            }
        };
        let socket = match connect(&url) {
            Ok(socket) => socket,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = std::fs::remove_dir_all(&profile);
                return Err(e);
            }
        };
        Ok(Browser {
            child,
            socket,
            profile,
            next_id: 0,
            events: Vec::new(),
        })
    }
}

/// Opens the DevTools socket at `url` (`ws://host:port/devtools/browser/…`).
fn connect(url: &str) -> Result<WebSocket<TcpStream>, String> {
    let address = url
        .strip_prefix("ws://")
        .and_then(|rest| rest.split('/').next())
        .ok_or_else(|| format!("unexpected DevTools address {url}"))?;
    let stream = TcpStream::connect(address).map_err(|e| format!("{address}: {e}"))?;
    // The handshake gets a whole step; afterwards reads wait briefly, so
    // that the loops below can watch their own deadlines.
    stream
        .set_read_timeout(Some(STEP))
        .map_err(|e| e.to_string())?;
    let (socket, _) = tungstenite::client(url, stream)
        .map_err(|e| format!("DevTools handshake with {url}: {e}"))?;
    socket
        .get_ref()
        .set_read_timeout(Some(Duration::from_millis(200)))
        .map_err(|e| e.to_string())?;
    Ok(socket)
}

impl Browser {
    /// Reads one message, or `None` when nothing arrived for a moment.
    fn read(&mut self) -> Result<Option<Value>, String> {
        match self.socket.read() {
            Ok(Message::Text(text)) => serde_json::from_str(text.as_str())
                .map(Some)
                .map_err(|e| e.to_string()),
            Ok(_) => Ok(None),
            Err(tungstenite::Error::Io(e))
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(format!("DevTools socket: {e}")),
        }
    }

    /// Sends a command and waits for its answer, keeping the events that
    /// arrive meanwhile.
    fn call(
        &mut self,
        session: Option<&str>,
        method: &str,
        params: Value,
    ) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut message = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            message["sessionId"] = json!(s);
        }
        self.socket
            .send(Message::Text(message.to_string().into()))
            .map_err(|e| format!("{method}: {e}"))?;
        let deadline = Instant::now() + STEP;
        while Instant::now() < deadline {
            let Some(v) = self.read()? else { continue };
            if v["id"].as_u64() == Some(id) {
                if let Some(err) = v.get("error") {
                    return Err(format!("{method}: {err}"));
                }
                return Ok(v["result"].clone());
            }
            if v.get("method").is_some() {
                self.events.push(v);
            }
        }
        Err(format!("{method}: no answer in {STEP:?}"))
    }

    /// Collects events until `done` says so, or for `at_most`.
    fn collect_until(
        &mut self,
        at_most: Duration,
        done: impl Fn(&[Value]) -> bool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + at_most;
        while Instant::now() < deadline && !done(&self.events) {
            if let Some(v) = self.read()? {
                if v.get("method").is_some() {
                    self.events.push(v);
                }
            }
        }
        Ok(())
    }

    /// Opens `url` in a new tab, waits for it to load and settle, and
    /// reports every error it caused.
    pub fn load(&mut self, url: &str) -> Result<Loaded, String> {
        let target = self.call(None, "Target.createTarget", json!({ "url": "about:blank" }))?;
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({ "targetId": target["targetId"], "flatten": true }),
        )?;
        let session = attached["sessionId"]
            .as_str()
            .ok_or("no session id")?
            .to_string();
        for domain in ["Runtime.enable", "Log.enable", "Page.enable"] {
            self.call(Some(&session), domain, json!({}))?;
        }
        self.events.clear();
        self.call(Some(&session), "Page.navigate", json!({ "url": url }))?;
        self.collect_until(STEP, |events| {
            events.iter().any(|e| e["method"] == "Page.loadEventFired")
        })?;
        if !self
            .events
            .iter()
            .any(|e| e["method"] == "Page.loadEventFired")
        {
            return Err(format!("{url} did not finish loading in {STEP:?}"));
        }
        // Late complaints (a timer, a lazy resource) get a moment to arrive.
        self.collect_until(Duration::from_millis(500), |_| false)?;
        let problems = self
            .events
            .iter()
            .filter(|e| e["sessionId"].as_str() == Some(session.as_str()))
            .filter_map(problem)
            .collect();
        Ok(Loaded { problems, session })
    }

    /// Evaluates a JavaScript expression in a loaded page and returns its
    /// value.
    pub fn evaluate(&mut self, page: &Loaded, expression: &str) -> Result<Value, String> {
        let result = self.call(
            Some(&page.session),
            "Runtime.evaluate",
            json!({ "expression": expression, "returnByValue": true }),
        )?;
        if let Some(e) = result.get("exceptionDetails") {
            return Err(format!("{expression}: {e}"));
        }
        Ok(result["result"]["value"].clone())
    }
}

/// The complaint an event makes, if it is one.
fn problem(event: &Value) -> Option<String> {
    let p = &event["params"];
    match event["method"].as_str()? {
        "Runtime.exceptionThrown" => {
            let d = &p["exceptionDetails"];
            let what = d["exception"]["description"]
                .as_str()
                .or(d["text"].as_str())
                .unwrap_or("exception");
            Some(format!("uncaught exception: {what}"))
        }
        "Runtime.consoleAPICalled" if matches!(p["type"].as_str(), Some("error" | "assert")) => {
            let args: Vec<String> = p["args"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| {
                    a["value"]
                        .as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| a["description"].to_string())
                })
                .collect();
            Some(format!("console.error: {}", args.join(" ")))
        }
        "Log.entryAdded" if p["entry"]["level"] == "error" => Some(format!(
            "{} error: {} {}",
            p["entry"]["source"].as_str().unwrap_or("log"),
            p["entry"]["text"].as_str().unwrap_or(""),
            p["entry"]["url"].as_str().unwrap_or("")
        )),
        _ => None,
    }
}

impl Drop for Browser {
    /// Asks the browser to close, so that it removes its own temporary
    /// files; kills it if it has not gone within a few seconds.
    fn drop(&mut self) {
        self.next_id += 1;
        let close = json!({ "id": self.next_id, "method": "Browser.close" });
        let _ = self.socket.send(Message::Text(close.to_string().into()));
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
