//! Local RabbitMQ nodes: started from Debian's `rabbitmq-server` wrapper
//! with their own node names, ports and data directories on 127.0.0.1,
//! clustered with `rabbitmqctl join_cluster`, killed with `kill -9` of
//! their Erlang VM and started again on the same data directory, and always
//! stopped at the end (also when a test fails: [`Cluster`]'s `Drop`).
//!
//! The wrappers, run as root, switch to the `rabbitmq` user and change to
//! its home first: every path handed to them is absolute, and the
//! directories belong to that user.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::error::RealError;

/// The first AMQP port; node k listens on `AMQP_BASE + k` and uses
/// `DIST_BASE + k` for Erlang distribution.
const AMQP_BASE: u16 = 5700;
const DIST_BASE: u16 = 25700;

/// How long a node may take to boot.
const BOOT_TIMEOUT: Duration = Duration::from_secs(90);

/// Whether real nodes can run here; `Err` says why not.
pub fn available() -> Result<(), String> {
    let found = Command::new("sh")
        .args(["-c", "command -v rabbitmq-server && command -v rabbitmqctl"])
        .stdout(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    if !found {
        return Err(
            "rabbitmq-server is not installed (Debian: apt-get install -y \
                    rabbitmq-server)"
                .into(),
        );
    }
    let user = Command::new("id")
        .arg("-un")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    if user != "root" && user != "rabbitmq" {
        return Err(format!(
            "the rabbitmq-server wrappers run only as root or rabbitmq, not as `{user}`"
        ));
    }
    Ok(())
}

/// The installed broker and its version (`rabbitmqctl version`).
pub fn broker_version() -> String {
    let version = Command::new("rabbitmqctl")
        .arg("version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!("RabbitMQ {version}").trim().to_string()
}

/// One local node.
pub(crate) struct Node {
    /// 1-based, as the model's `node-k`.
    pub(crate) index: u32,
    dir: PathBuf,
    child: Option<Child>,
}

impl Node {
    /// Its Erlang node name.
    pub(crate) fn name(&self) -> String {
        format!("mqsim{}@localhost", self.index)
    }

    /// Its AMQP port.
    pub(crate) fn port(&self) -> u16 {
        AMQP_BASE + self.index as u16
    }

    fn pid_file(&self) -> PathBuf {
        self.dir.join("pid")
    }

    /// Starts the node's VM (returns at once).
    fn spawn(&mut self) -> Result<(), RealError> {
        let log = std::fs::File::create(self.dir.join("stdout.log"))
            .map_err(|e| RealError::io(&self.dir, e))?;
        let err = log.try_clone().map_err(|e| RealError::io(&self.dir, e))?;
        let child = Command::new("rabbitmq-server")
            .env("RABBITMQ_NODENAME", self.name())
            .env("RABBITMQ_NODE_IP_ADDRESS", "127.0.0.1")
            .env("RABBITMQ_NODE_PORT", self.port().to_string())
            .env(
                "RABBITMQ_DIST_PORT",
                (DIST_BASE + self.index as u16).to_string(),
            )
            .env("RABBITMQ_MNESIA_BASE", self.dir.join("mnesia"))
            .env("RABBITMQ_LOG_BASE", self.dir.join("log"))
            .env("RABBITMQ_PID_FILE", self.pid_file())
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
            .map_err(|e| RealError::Command(format!("rabbitmq-server: {e}")))?;
        self.child = Some(child);
        Ok(())
    }

    /// Waits until the node runs the rabbit application.
    fn wait(&self) -> Result<(), RealError> {
        let pid = self.pid_file();
        let timeout = BOOT_TIMEOUT.as_secs().to_string();
        ctl(
            &self.name(),
            &["wait", "--timeout", &timeout, &pid.to_string_lossy()],
        )
        .map(|_| ())
    }

    /// Whether the node's VM runs.
    pub(crate) fn running(&mut self) -> bool {
        match self.child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => false,
        }
    }

    /// `kill -9` of the node's Erlang VM: the process dies, the machine
    /// and what the node wrote to its files stay.
    pub(crate) fn kill(&mut self) {
        if let Ok(pid) = std::fs::read_to_string(self.pid_file()) {
            let _ = Command::new("kill").args(["-9", pid.trim()]).status();
        }
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_file(self.pid_file());
    }

    /// Starts the node again on its data directory and waits until it runs.
    pub(crate) fn restart(&mut self) -> Result<(), RealError> {
        self.spawn()?;
        self.wait()
    }

    /// `rabbitmqctl stop`: an orderly stop that waits for the VM to exit;
    /// `kill -9` if it does not.
    fn stop(&mut self) {
        if self.running() {
            let pid = self.pid_file();
            let _ = ctl_timeout(
                &self.name(),
                &["stop", &pid.to_string_lossy()],
                Duration::from_secs(30),
            );
        }
        self.kill();
    }
}

/// Runs `rabbitmqctl -n node ARGS`; its standard output, or why it failed.
pub(crate) fn ctl(node: &str, args: &[&str]) -> Result<String, RealError> {
    ctl_timeout(node, args, Duration::from_secs(120))
}

fn ctl_timeout(node: &str, args: &[&str], timeout: Duration) -> Result<String, RealError> {
    let mut cmd = Command::new("rabbitmqctl");
    cmd.arg("-q").arg("-n").arg(node).args(args);
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| RealError::Command(format!("rabbitmqctl: {e}")))?;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RealError::Command(format!(
                    "rabbitmqctl -n {node} {}: no answer in {}s",
                    args.join(" "),
                    timeout.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(RealError::Command(format!("rabbitmqctl: {e}"))),
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| RealError::Command(format!("rabbitmqctl: {e}")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(RealError::Command(format!(
            "rabbitmqctl -n {node} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )))
    }
}

/// A cluster of local nodes, stopped when dropped.
pub(crate) struct Cluster {
    pub(crate) nodes: Vec<Node>,
    base: PathBuf,
}

impl Cluster {
    /// Starts `count` fresh nodes under `base` and joins the others to the
    /// first.
    pub(crate) fn start(base: &Path, count: u32) -> Result<Cluster, RealError> {
        for index in 1..=count {
            stop_leftover(index);
        }
        let _ = std::fs::remove_dir_all(base);
        let mut cluster = Cluster {
            nodes: Vec::new(),
            base: base.to_path_buf(),
        };
        for index in 1..=count {
            let dir = base.join(format!("node{index}"));
            for sub in ["mnesia", "log"] {
                std::fs::create_dir_all(dir.join(sub)).map_err(|e| RealError::io(&dir, e))?;
            }
            cluster.nodes.push(Node {
                index,
                dir,
                child: None,
            });
        }
        own_by_rabbitmq(base)?;
        for node in &mut cluster.nodes {
            node.spawn()?;
        }
        for node in &cluster.nodes {
            node.wait()?;
        }
        let first = cluster.nodes[0].name();
        for node in &cluster.nodes[1..] {
            let name = node.name();
            ctl(&name, &["stop_app"])?;
            ctl(&name, &["join_cluster", &first])?;
            ctl(&name, &["start_app"])?;
        }
        Ok(cluster)
    }

    /// The AMQP ports, node 1 first.
    pub(crate) fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(Node::port).collect()
    }

    /// Node `index` (1-based).
    pub(crate) fn node(&mut self, index: u32) -> Option<&mut Node> {
        self.nodes.iter_mut().find(|n| n.index == index)
    }

    /// Whether every node's VM runs.
    pub(crate) fn all_running(&mut self) -> bool {
        self.nodes.iter_mut().all(|n| n.running())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            node.stop();
        }
        // The Erlang port mapper the first node started stays behind.
        let _ = Command::new("epmd")
            .arg("-kill")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// Stops a node `index` left running by an earlier run that was killed
/// before it could stop its nodes: its ports would be taken.
fn stop_leftover(index: u32) {
    let port = AMQP_BASE + index as u16;
    let listening = |timeout| {
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        std::net::TcpStream::connect_timeout(&addr, timeout).is_ok()
    };
    if !listening(Duration::from_millis(200)) {
        return;
    }
    let name = format!("mqsim{index}@localhost");
    let _ = ctl_timeout(&name, &["stop"], Duration::from_secs(30));
    let started = Instant::now();
    while listening(Duration::from_millis(200)) && started.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Hands `dir` to the `rabbitmq` user, which the wrappers switch to (the
/// folders above it must let that user through, as `/tmp` does).
fn own_by_rabbitmq(dir: &Path) -> Result<(), RealError> {
    let status = Command::new("chown")
        .args(["-R", "rabbitmq:rabbitmq"])
        .arg(dir)
        .status()
        .map_err(|e| RealError::Command(format!("chown: {e}")))?;
    if !status.success() {
        return Err(RealError::Command(format!(
            "chown -R rabbitmq:rabbitmq {} failed",
            dir.display()
        )));
    }
    Ok(())
}
