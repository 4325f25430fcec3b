//! The client processes of a run, as the harness sees them: started as
//! `mqsim real-client` children, their event lines gathered into one
//! history as they arrive, killed with `kill -9` for a crash, and started
//! again (a producer where its upstream had got).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

use broker_model::{consumer_host, producer_host, Event, EventKind};

use super::client::{Role, CRASHED};
use super::error::RealError;

/// The history being recorded, shared with the threads that read the
/// clients' output.
pub(crate) type Shared = Arc<Mutex<Vec<Event>>>;

/// The client processes of one run.
pub(crate) struct Clients {
    exe: PathBuf,
    scenario: PathBuf,
    /// Where each client's standard error goes (`<host>.log`).
    logs: PathBuf,
    ports: Vec<u16>,
    epoch_us: u64,
    history: Shared,
    running: BTreeMap<String, Running>,
    /// Hosts that finished on their own (producers done with their share).
    finished: Vec<String>,
}

/// A client process and the thread that reads its events.
struct Running {
    role: Role,
    child: Child,
    reader: std::thread::JoinHandle<()>,
}

/// The host name of a client.
pub(crate) fn host(role: Role) -> String {
    match role {
        Role::Producer(n) => producer_host(n),
        Role::Consumer(n) => consumer_host(n),
    }
}

impl Clients {
    /// No clients yet.
    pub(crate) fn new(
        exe: &Path,
        scenario: &Path,
        logs: &Path,
        ports: Vec<u16>,
        epoch_us: u64,
        history: Shared,
    ) -> Self {
        Clients {
            exe: exe.to_path_buf(),
            scenario: scenario.to_path_buf(),
            logs: logs.to_path_buf(),
            ports,
            epoch_us,
            history,
            running: BTreeMap::new(),
            finished: Vec::new(),
        }
    }

    /// Starts client `role`; a producer starts at its upstream's next
    /// message, the one after the last it began to send.
    pub(crate) fn start(&mut self, role: Role) -> Result<(), RealError> {
        let host = host(role);
        let from = match role {
            Role::Producer(n) => self.next_message(n),
            Role::Consumer(_) => 0,
        };
        let (kind, index) = match role {
            Role::Producer(n) => ("producer", n),
            Role::Consumer(n) => ("consumer", n),
        };
        let ports: Vec<String> = self.ports.iter().map(u16::to_string).collect();
        let log_path = self.logs.join(format!("{host}.log"));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|e| RealError::io(&log_path, e))?;
        let mut child = Command::new(&self.exe)
            .arg("real-client")
            .arg(&self.scenario)
            .args(["--role", kind, "--index", &index.to_string()])
            .args(["--ports", &ports.join(",")])
            .args(["--epoch-us", &self.epoch_us.to_string()])
            .args(["--from", &from.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|e| RealError::Command(format!("{}: {e}", self.exe.display())))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let history = Arc::clone(&self.history);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                match serde_json::from_str::<Event>(&line) {
                    Ok(event) => history.lock().expect("history lock").push(event),
                    Err(e) => tracing::warn!("a client wrote a line that is no event: {e}"),
                }
            }
        });
        self.finished.retain(|h| *h != host);
        self.running.insert(
            host,
            Running {
                role,
                child,
                reader,
            },
        );
        Ok(())
    }

    /// The first message producer `n` has not begun to send.
    fn next_message(&self, n: u32) -> u32 {
        let host = producer_host(n);
        let history = self.history.lock().expect("history lock");
        history
            .iter()
            .filter(|e| e.host == host)
            .filter_map(|e| match &e.kind {
                EventKind::Send { msg, .. } => Some(msg.seq + 1),
                _ => None,
            })
            .max()
            .unwrap_or(0)
    }

    /// `kill -9` of client `host`; its role, if it was running.
    pub(crate) fn kill(&mut self, host: &str) -> Option<Role> {
        let mut running = self.running.remove(host)?;
        let _ = running.child.kill();
        let _ = running.child.wait();
        // Everything the process wrote before it died is in the history
        // before anything is recorded after the kill.
        let _ = running.reader.join();
        Some(running.role)
    }

    /// Moves the producers that exited on their own (each done with its
    /// share, or given up) to the finished ones; returns whether every
    /// producer has.
    pub(crate) fn reap_producers(&mut self) -> bool {
        let mut exited = Vec::new();
        for (host, r) in &mut self.running {
            let done = !matches!(r.child.try_wait(), Ok(None));
            if done && matches!(r.role, Role::Producer(_)) {
                exited.push(host.clone());
            }
        }
        for host in exited {
            if let Some(r) = self.running.remove(&host) {
                let _ = r.reader.join();
            }
            self.finished.push(host);
        }
        !self
            .running
            .values()
            .any(|r| matches!(r.role, Role::Producer(_)))
    }

    /// Starts again at once every consumer whose application crashed on a
    /// poison message, as a supervisor restarts it.
    pub(crate) fn restart_crashed(&mut self) -> Result<(), RealError> {
        let mut crashed = Vec::new();
        for r in self.running.values_mut() {
            if let Ok(Some(status)) = r.child.try_wait() {
                if matches!(r.role, Role::Consumer(_)) && status.code() == Some(CRASHED) {
                    crashed.push(r.role);
                }
            }
        }
        for role in crashed {
            if let Some(r) = self.running.remove(&host(role)) {
                let _ = r.reader.join();
            }
            self.start(role)?;
        }
        Ok(())
    }

    /// Whether client `host` was started and has not been killed.
    pub(crate) fn is_up(&self, host: &str) -> bool {
        self.running.contains_key(host) || self.finished.iter().any(|h| h == host)
    }

    /// Kills every client still running.
    pub(crate) fn stop_all(&mut self) {
        let hosts: Vec<String> = self.running.keys().cloned().collect();
        for host in hosts {
            self.kill(&host);
        }
    }
}

impl Drop for Clients {
    fn drop(&mut self) {
        self.stop_all();
    }
}
