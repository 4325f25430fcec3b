//! A client's connection to the cluster: to one node at a time, and, when
//! that connection fails, to the next node in turn, as the model's clients
//! reconnect (and as a client given every node's address does).

use std::sync::Arc;
use std::time::Duration;

use lapin::{Connection, ConnectionProperties};
use tokio::sync::Mutex;

/// How long one attempt to open a connection may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The URI of the node listening on `port`: the default user, which
/// RabbitMQ lets in from 127.0.0.1 only, and the default virtual host.
pub(crate) fn amqp_uri(port: u16) -> String {
    format!("amqp://guest:guest@127.0.0.1:{port}/%2f")
}

/// The connection a client holds, and which node it tries next.
pub(crate) struct Link {
    ports: Vec<u16>,
    state: Mutex<State>,
}

struct State {
    /// The node (index into `ports`) of the current or next connection.
    node: usize,
    /// Counts connections opened, so that a failure seen on an old one
    /// does not close a newer one.
    generation: u32,
    current: Option<Arc<Connection>>,
}

/// An open connection and its generation.
#[derive(Clone)]
pub(crate) struct Held {
    /// The connection.
    pub(crate) connection: Arc<Connection>,
    /// Which connection of the client this is.
    pub(crate) generation: u32,
}

impl Link {
    /// A link that connects first to `ports[first]`.
    pub(crate) fn new(ports: Vec<u16>, first: usize) -> Self {
        let node = first % ports.len().max(1);
        Link {
            ports,
            state: Mutex::new(State {
                node,
                generation: 0,
                current: None,
            }),
        }
    }

    /// The open connection, opening one if there is none: to the current
    /// node, then to each other node in turn.
    pub(crate) async fn connection(&self) -> Result<Held, String> {
        let mut state = self.state.lock().await;
        if let Some(c) = &state.current {
            if c.status().connected() {
                return Ok(Held {
                    connection: Arc::clone(c),
                    generation: state.generation,
                });
            }
        }
        state.current = None;
        let mut last = String::new();
        for _ in 0..self.ports.len() {
            let port = self.ports[state.node];
            let uri = amqp_uri(port);
            let open = Connection::connect(&uri, ConnectionProperties::default());
            match tokio::time::timeout(CONNECT_TIMEOUT, open).await {
                Ok(Ok(c)) => {
                    let c = Arc::new(c);
                    state.generation += 1;
                    state.current = Some(Arc::clone(&c));
                    return Ok(Held {
                        connection: c,
                        generation: state.generation,
                    });
                }
                Ok(Err(e)) => last = format!("connect to port {port}: {e}"),
                Err(_) => last = format!("connect to port {port}: timed out"),
            }
            state.node = (state.node + 1) % self.ports.len();
        }
        Err(last)
    }

    /// Gives up connection `generation` after an error on it: the next
    /// call opens one to the next node.
    pub(crate) async fn failed(&self, generation: u32) {
        let mut state = self.state.lock().await;
        if state.generation == generation && state.current.is_some() {
            state.current = None;
            state.node = (state.node + 1) % self.ports.len();
        }
    }
}
