//! Runs one seed of a scenario: build the simulation, inject the faults on
//! schedule, heal, drain, and check the history.
//!
//! The run has three phases, as a Jepsen test does: the workload with its
//! faults for `duration`; a heal that ends every fault and restarts every
//! host; a drain in which clients finish and consumers read everything they
//! can, until every client has been done for a quiet second or the drain
//! gives up (see [`Drain`](crate::scenario::Drain)). Throughout, the
//! harness samples the consumers' backlog into the history, and it records
//! how the drain ended and what was still readable then, which the checker
//! needs to tell a lost message from one nobody had reached yet.

use std::time::{Duration, UNIX_EPOCH};

use broker_model::{Event, EventKind, HostRole, Instruments, Observations};

use crate::checker::{self, Analysis};
use crate::drain::{BacklogSampler, DrainClock};
use crate::fault::apply::{Injector, NEMESIS};
use crate::fault::trigger::Watch;
use crate::fault::Fault;
use crate::scenario::{Scenario, System};

/// What one seed of a scenario produced.
#[derive(Clone, Debug)]
pub struct RunOutput {
    /// The seed.
    pub seed: u64,
    /// The full history.
    pub events: Vec<Event>,
    /// The checker's findings.
    pub analysis: Analysis,
    /// Simulated time the run took.
    pub simulated: Duration,
    /// Whether every client was done before the drain gave up.
    pub drained: bool,
    /// Every host of the cluster with its role, in deployment order.
    pub hosts: Vec<(String, HostRole)>,
}

/// A run that could not finish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RunError {
    /// A host's task returned an error or panicked, which turmoil reports
    /// from the step that ran it. The models' hosts do not fail, so this is
    /// a bug in a model rather than an outcome of a fault.
    HostFailed {
        /// The seed of the run.
        seed: u64,
        /// What turmoil reported (its error is not `Send`, so it travels
        /// as text out of the thread that ran the seed).
        error: String,
    },
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RunError::HostFailed { seed, error } => {
                write!(f, "seed {seed}: a host failed: {error}")
            }
        }
    }
}

impl std::error::Error for RunError {}

/// The faults a seed of `scenario` runs: the file's own faults plus, when
/// the scenario has a `[nemesis]`, the random schedule that seed draws.
pub fn schedule(scenario: &Scenario, seed: u64) -> Vec<Fault> {
    let mut faults = scenario.faults.clone();
    if let Some(random) = &scenario.nemesis {
        faults.extend(random.generate(seed, scenario.duration));
    }
    faults
}

/// An empty simulation configured for `scenario` and `seed`: seeded, with
/// a fixed epoch and the scenario's latencies, no hosts yet. Its file
/// system keeps turmoil's defaults (no random syncs, I/O errors or torn
/// writes), which the model's page cache relies on when it hands a
/// journal's appends to turmoil in one write.
pub fn simulation<'a>(scenario: &Scenario, seed: u64) -> turmoil::Sim<'a> {
    turmoil::Builder::new()
        .rng_seed(seed)
        .epoch(UNIX_EPOCH)
        .tick_duration(Duration::from_millis(1))
        .simulation_duration(Duration::from_secs(365 * 24 * 3600))
        .min_message_latency(scenario.network.min_latency)
        .max_message_latency(scenario.network.max_latency)
        .udp_capacity(4096)
        .build()
}

/// Runs `scenario` with `seed`.
pub fn run(scenario: &Scenario, seed: u64) -> Result<RunOutput, RunError> {
    let instruments = Instruments::default();
    let mut sim = simulation(scenario, seed);
    let deployment = match &scenario.system {
        System::Log(config) => {
            broker_model::log::install(&mut sim, config, &scenario.workload, &instruments)
        }
        System::Queue(config) => {
            broker_model::queue::install(&mut sim, config, &scenario.workload, &instruments)
        }
    };
    let hosts = deployment.hosts.clone();
    let clients: Vec<String> = deployment
        .hosts
        .iter()
        .filter(|(_, r)| matches!(r, HostRole::Producer | HostRole::Consumer))
        .map(|(h, _)| h.clone())
        .collect();
    let mut injector = Injector::new(deployment, &instruments, scenario.network, seed);
    let history = instruments.history.clone();
    let phase = |sim: &turmoil::Sim<'_>, name: &str| {
        history.record_at(
            sim.elapsed(),
            NEMESIS,
            EventKind::Phase {
                name: name.to_string(),
            },
        )
    };
    let step = |sim: &mut turmoil::Sim<'_>| -> Result<(), RunError> {
        sim.step().map(|_| ()).map_err(|e| RunError::HostFailed {
            seed,
            error: e.to_string(),
        })
    };

    let faults = schedule(scenario, seed);
    let (triggered, mut timed): (Vec<&Fault>, Vec<&Fault>) =
        faults.iter().partition(|f| f.trigger.is_some());
    timed.sort_by_key(|f| f.at);
    let mut watches: Vec<Watch> = triggered.iter().map(|_| Watch::default()).collect();
    let mut next = 0;
    let mut sampler = BacklogSampler::new(&history, NEMESIS);
    let mut sample = |sim: &turmoil::Sim<'_>| {
        instruments
            .observer
            .with(|o| sampler.poll(sim.elapsed(), o))
    };
    phase(&sim, "faults");
    while sim.elapsed() < scenario.duration {
        let now = sim.elapsed();
        while next < timed.len() && timed[next].at <= now {
            injector.apply(&mut sim, timed[next], now, &[]);
            next += 1;
        }
        for (fault, watch) in triggered.iter().zip(&mut watches) {
            let trigger = fault.trigger.as_ref().expect("partitioned on trigger");
            let fired = instruments
                .observer
                .with(|o| watch.poll(trigger, fault.at, now, o, injector.deployment()));
            if let Some(witnesses) = fired {
                injector.apply(&mut sim, fault, now, &witnesses);
            }
        }
        injector.tick(&mut sim, now);
        step(&mut sim)?;
        sample(&sim);
    }

    phase(&sim, "heal");
    let now = sim.elapsed();
    injector.heal_all(&mut sim, now);

    phase(&sim, "drain");
    let mut clock = DrainClock::new(scenario.drain, scenario.duration, sim.elapsed());
    let drained = loop {
        if clock.given_up(sim.elapsed()) {
            break false;
        }
        step(&mut sim)?;
        sample(&sim);
        let now = sim.elapsed();
        if instruments
            .observer
            .with(|o| clock.drained(now, o, &clients))
        {
            break true;
        }
    };
    phase(&sim, "end");
    let readable = instruments.observer.with(Observations::backlog);
    history.record_at(
        sim.elapsed(),
        NEMESIS,
        EventKind::DrainEnded { drained, readable },
    );

    let events = instruments.history.take();
    let analysis = checker::check(&events);
    Ok(RunOutput {
        seed,
        events,
        analysis,
        simulated: sim.elapsed(),
        drained,
        hosts,
    })
}
