//! One scenario on real nodes, in the simulation's three phases: the
//! workload with its faults for `duration`, a heal that starts again every
//! node and client that is down, and a drain that ends once every
//! producer is done and the queues and consumers hold nothing for a quiet
//! second, or gives up at the scenario's drain cap. The history is the
//! clients' own events plus the harness's faults and phases, and the same
//! checker reads it.

use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use broker_model::queue::node_host;
use broker_model::{consumer_host, producer_host, Event, EventKind, HostRole};

use super::client::{since, Role};
use super::clients::{Clients, Shared};
use super::error::RealError;
use super::faults::Nemesis;
use super::held::Held;
use super::nodes::Cluster;
use super::plan::{self, Skipped};
use super::queues;
use super::targets::Targets;
use crate::checker;
use crate::fault::apply::NEMESIS;
use crate::runner::RunOutput;
use crate::scenario::{Scenario, System};

/// Where a real run finds what it needs.
#[derive(Clone, Debug)]
pub struct RealOptions {
    /// The `mqsim` executable, whose `real-client` subcommand runs the
    /// clients.
    pub client_exe: PathBuf,
    /// A folder for the nodes' data directories (emptied first).
    pub work_dir: PathBuf,
}

/// What a scenario gave on real nodes.
#[derive(Clone, Debug)]
pub enum RealOutcome {
    /// It ran: the history, in time order, and the checker's findings, as
    /// a run of seed 0 (`simulated` is wall-clock time here).
    Ran(Box<RunOutput>),
    /// It cannot run on real nodes, for this reason.
    Skipped(Skipped),
}

/// How often the harness looks at the clients' events and the clock.
const TICK: Duration = Duration::from_millis(20);
/// How long everything must stay quiet for the drain to end.
const QUIET: Duration = Duration::from_secs(1);

/// Runs `scenario` on a fresh cluster of local RabbitMQ nodes.
pub fn run_real(scenario: &Scenario, options: &RealOptions) -> Result<RealOutcome, RealError> {
    if let Err(skipped) = plan::check(scenario) {
        return Ok(RealOutcome::Skipped(skipped));
    }
    let System::Queue(config) = &scenario.system else {
        unreachable!("plan::check refuses log scenarios")
    };
    if !scenario.file.is_file() {
        // The client processes read the scenario from its file.
        return Err(RealError::Command(format!(
            "{}: a real run needs the scenario's file, which its client processes read",
            scenario.file.display()
        )));
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| RealError::Command(format!("tokio runtime: {e}")))?;
    let mut cluster = Cluster::start(&options.work_dir.join("nodes"), config.nodes)?;
    runtime.block_on(super::declare::declare(&cluster, config))?;

    let epoch = SystemTime::now();
    let epoch_us = epoch
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0);
    let history: Shared = Default::default();
    let record = |kind: EventKind| {
        history.lock().expect("history lock").push(Event {
            at_us: since(epoch),
            host: NEMESIS.to_string(),
            kind,
        })
    };
    let logs = options.work_dir.join("clients");
    let _ = std::fs::remove_dir_all(&logs);
    std::fs::create_dir_all(&logs).map_err(|e| RealError::io(&logs, e))?;
    let mut clients = Clients::new(
        &options.client_exe,
        &scenario.file,
        &logs,
        cluster.ports(),
        epoch_us,
        history.clone(),
    );
    let started = Instant::now();
    record(EventKind::Phase {
        name: "faults".into(),
    });
    for n in 1..=scenario.workload.producers {
        clients.start(Role::Producer(n))?;
    }
    let mut consumers_started = false;
    let targets = Targets {
        config,
        producers: scenario.workload.producers,
        consumers: scenario.workload.consumers,
    };
    let mut nemesis = Nemesis::new(targets, &scenario.faults, &history, epoch);
    while started.elapsed() < scenario.duration {
        if !consumers_started && started.elapsed() >= scenario.workload.consumer_start {
            for n in 1..=scenario.workload.consumers {
                clients.start(Role::Consumer(n))?;
            }
            consumers_started = true;
        }
        nemesis.tick(started.elapsed(), &mut cluster, &mut clients, &runtime)?;
        clients.restart_crashed()?;
        std::thread::sleep(TICK);
    }
    record(EventKind::Phase {
        name: "heal".into(),
    });
    nemesis.heal(&mut cluster, &mut clients, &runtime)?;
    if !consumers_started {
        for n in 1..=scenario.workload.consumers {
            clients.start(Role::Consumer(n))?;
        }
    }

    record(EventKind::Phase {
        name: "drain".into(),
    });
    let (drained, readable) = match drain(
        scenario,
        config.queues,
        &mut cluster,
        &mut clients,
        &history,
    )? {
        DrainEnd::Drained => (true, 0),
        DrainEnd::GaveUp { readable } => (false, readable),
    };
    record(EventKind::Phase { name: "end".into() });
    record(EventKind::DrainEnded { drained, readable });
    clients.stop_all();
    drop(cluster);

    let mut events = std::mem::take(&mut *history.lock().expect("history lock"));
    events.sort_by_key(|e| e.at_us);
    let analysis = checker::check(&events);
    let nodes = (1..=config.nodes).map(|n| (node_host(n), HostRole::Broker));
    let producers =
        (1..=scenario.workload.producers).map(|n| (producer_host(n), HostRole::Producer));
    let consumers =
        (1..=scenario.workload.consumers).map(|n| (consumer_host(n), HostRole::Consumer));
    Ok(RealOutcome::Ran(Box::new(RunOutput {
        seed: 0,
        simulated: started.elapsed(),
        drained,
        hosts: nodes.chain(producers).chain(consumers).collect(),
        events,
        analysis,
    })))
}

/// How the drain ended.
enum DrainEnd {
    /// Every producer done, nothing left in the queues or the consumers'
    /// buffers.
    Drained,
    /// It gave up with `readable` messages still in the queues or buffers.
    GaveUp { readable: u64 },
}

/// Drains: every producer done, nothing in the queues or in a consumer's
/// buffer, for a quiet second; or gives up at the scenario's cap, or
/// after [`Drain::STALL`](crate::scenario::Drain::STALL) without a message
/// processed.
fn drain(
    scenario: &Scenario,
    queue_count: u32,
    cluster: &mut Cluster,
    clients: &mut Clients,
    history: &Shared,
) -> Result<DrainEnd, RealError> {
    let began = Instant::now();
    let cap = scenario.drain.cap(scenario.duration);
    let mut quiet_since: Option<Instant> = None;
    let mut last_progress = (0usize, Instant::now());
    // What the queues were last seen to hold, for a drain that gives up
    // while they cannot be read.
    let mut last_stored = 0;
    loop {
        clients.restart_crashed()?;
        let producers_done = clients.reap_producers();
        let (buffered, processed) = {
            let events = history.lock().expect("history lock");
            (Held::of(&events).total(), processed(&events))
        };
        let stored = queues::stored(cluster, queue_count);
        if let Some(n) = stored {
            last_stored = n;
        }
        let readable = last_stored + buffered;
        if processed != last_progress.0 {
            last_progress = (processed, Instant::now());
        }
        if producers_done && stored == Some(0) && buffered == 0 {
            let since = *quiet_since.get_or_insert_with(Instant::now);
            if since.elapsed() >= QUIET {
                return Ok(DrainEnd::Drained);
            }
        } else {
            quiet_since = None;
        }
        let stalled = scenario
            .drain
            .stall()
            .is_some_and(|stall| last_progress.1.elapsed() >= stall);
        if began.elapsed() >= cap || stalled {
            return Ok(DrainEnd::GaveUp { readable });
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// Messages processed so far.
fn processed(events: &[Event]) -> usize {
    events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::Processed { .. }))
        .count()
}
