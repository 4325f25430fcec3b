//! The client processes of a run on real nodes: `mqsim real-client` runs
//! one producer or consumer of a scenario against the nodes' AMQP ports
//! and writes what it saw to its standard output, one history event per
//! line. Each is a process of its own so that a fault can kill it for
//! real (`kill -9`), with everything it held in memory.

mod consumer;
mod emit;
mod link;
mod producer;

use std::path::PathBuf;
use std::sync::Arc;

use broker_model::{consumer_host, producer_host};

use crate::scenario::{self, System};
use consumer::Subscriber;
use emit::Emitter;
use link::Link;
use producer::Publisher;

pub use consumer::CRASHED;
pub(crate) use emit::since;
pub(crate) use link::amqp_uri;

/// Which client a process is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Publisher `n` (1-based).
    Producer(u32),
    /// Consumer `n` (1-based).
    Consumer(u32),
}

/// What `mqsim real-client` is told.
#[derive(Clone, Debug)]
pub struct ClientArgs {
    /// The scenario file whose `[config]` and `[workload]` it follows.
    pub scenario: PathBuf,
    /// Which client it is.
    pub role: Role,
    /// The nodes' AMQP ports, node 1 first.
    pub ports: Vec<u16>,
    /// When the run began, in microseconds since the Unix epoch.
    pub epoch_us: u64,
    /// A restarted producer's first message: where its upstream had got.
    pub from: u32,
}

/// Ends the process once the harness that started it is gone (it was
/// killed before it could stop its clients): an orphaned consumer would
/// take the next run's messages.
async fn exit_when_orphaned() {
    let parent = std::os::unix::process::parent_id();
    loop {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        if std::os::unix::process::parent_id() != parent {
            std::process::exit(ORPHANED);
        }
    }
}

/// The exit code of a client whose harness is gone.
const ORPHANED: i32 = 4;

/// Runs one client until it is done (a producer) or killed (a consumer).
pub fn run_client(args: &ClientArgs) -> Result<(), String> {
    let scenario = scenario::load(&args.scenario).map_err(|e| e.to_string())?;
    let System::Queue(config) = scenario.system else {
        return Err(format!(
            "{}: only queue scenarios run on real RabbitMQ nodes",
            args.scenario.display()
        ));
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))?;
    let nodes = args.ports.len().max(1) as u32;
    runtime.block_on(async {
        tokio::spawn(exit_when_orphaned());
        match args.role {
            Role::Producer(index) => {
                let out = Emitter::new(producer_host(index), args.epoch_us);
                // As the model's publisher: producer k starts on node k.
                let link = Link::new(args.ports.clone(), ((index - 1) % nodes) as usize);
                let publisher = Publisher::new(index, config, scenario.workload, link, out);
                Arc::new(publisher).run(args.from).await;
            }
            Role::Consumer(index) => {
                let out = Emitter::new(consumer_host(index), args.epoch_us);
                // As the model's consumer: consumer k starts on node k + 1.
                let link = Link::new(args.ports.clone(), (index % nodes) as usize);
                let subscriber = Subscriber::new(config, scenario.workload, link, out);
                Arc::new(subscriber).run().await;
            }
        }
    });
    Ok(())
}
