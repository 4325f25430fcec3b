//! Request/response messaging over turmoil's simulated UDP.
//!
//! Every model host binds one UDP socket on [`PORT`] and speaks in frames of
//! postcard, a compact binary encoding of the same serde types: every
//! request and reply of a run is encoded and decoded once, and JSON's text
//! cost more than any one model's logic. UDP rather than TCP because a dropped datagram loses exactly one
//! request or reply, which is what a fault scenario means by "the network
//! dropped the send"; retries, timeouts and ordering are the protocol's job,
//! as they are for a real client library after a connection breaks.

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::rc::Rc;
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, oneshot};
use turmoil::net::UdpSocket;

use crate::encode;

/// The port every model host listens on.
pub(crate) const PORT: u16 = 9000;

/// Largest frame a host accepts.
const MAX_FRAME: usize = 1 << 20;

#[derive(Serialize, Deserialize)]
enum Frame<Q, R> {
    Call { id: u64, body: Q },
    Cast { body: Q },
    Reply { id: u64, body: R },
}

/// A request that arrived at this host.
#[derive(Debug)]
pub(crate) struct Incoming<Q> {
    /// Who sent it.
    pub(crate) from: SocketAddr,
    /// The correlation id to reply to, or `None` for a one-way message.
    pub(crate) id: Option<u64>,
    /// The request.
    pub(crate) body: Q,
}

/// Why a call got no answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallError {
    /// No reply within the timeout: the request or reply may have been
    /// dropped, or the peer may be down. The outcome is unknown.
    Timeout,
    /// The local socket refused to send.
    Io(String),
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallError::Timeout => write!(f, "timeout"),
            CallError::Io(e) => write!(f, "io: {e}"),
        }
    }
}

impl std::error::Error for CallError {}

/// One host's socket, with replies routed back to the calls awaiting them.
///
/// `Q` is the request type and `R` the reply type of the system's protocol.
pub struct Endpoint<Q, R> {
    socket: UdpSocket,
    pending: RefCell<BTreeMap<u64, oneshot::Sender<R>>>,
    next_id: Cell<u64>,
    /// The buffer frames are encoded into, kept between sends.
    out: Cell<Vec<u8>>,
    _requests: PhantomData<fn(Q)>,
}

/// Removes a call's reply slot when the call ends for any reason.
struct PendingGuard<'a, R> {
    pending: &'a RefCell<BTreeMap<u64, oneshot::Sender<R>>>,
    id: u64,
}

impl<R> Drop for PendingGuard<'_, R> {
    fn drop(&mut self) {
        self.pending.borrow_mut().remove(&self.id);
    }
}

impl<Q, R> Endpoint<Q, R>
where
    Q: Serialize + DeserializeOwned + 'static,
    R: Serialize + DeserializeOwned + 'static,
{
    /// Binds this host's socket and starts routing what arrives: replies go
    /// to their callers, requests to the returned receiver.
    ///
    /// Must run inside a turmoil host.
    pub(crate) async fn bind() -> std::io::Result<(Rc<Self>, mpsc::UnboundedReceiver<Incoming<Q>>)>
    {
        let socket = UdpSocket::bind((IpAddr::V4(Ipv4Addr::UNSPECIFIED), PORT)).await?;
        let endpoint = Rc::new(Endpoint {
            socket,
            pending: RefCell::new(BTreeMap::new()),
            next_id: Cell::new(1),
            out: Cell::new(Vec::new()),
            _requests: PhantomData,
        });
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::task::spawn_local(Rc::clone(&endpoint).route(tx));
        Ok((endpoint, rx))
    }

    async fn route(self: Rc<Self>, requests: mpsc::UnboundedSender<Incoming<Q>>) {
        let mut buf = vec![0u8; MAX_FRAME];
        loop {
            let (n, from) = match self.socket.recv_from(&mut buf).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "socket receive failed");
                    continue;
                }
            };
            match postcard::from_bytes::<Frame<Q, R>>(&buf[..n]) {
                Ok(Frame::Reply { id, body }) => {
                    if let Some(slot) = self.pending.borrow_mut().remove(&id) {
                        let _ = slot.send(body);
                    }
                }
                Ok(Frame::Call { id, body }) => {
                    let _ = requests.send(Incoming {
                        from,
                        id: Some(id),
                        body,
                    });
                }
                Ok(Frame::Cast { body }) => {
                    let _ = requests.send(Incoming {
                        from,
                        id: None,
                        body,
                    });
                }
                Err(e) => tracing::warn!(error = %e, %from, "undecodable frame"),
            }
        }
    }

    async fn send_frame(&self, to: SocketAddr, frame: &Frame<Q, R>) -> Result<(), CallError> {
        // Taken, not borrowed, across the send: a task that sends meanwhile
        // finds an empty buffer and grows its own.
        let mut bytes = self.out.take();
        bytes.clear();
        encode::append(frame, &mut bytes).expect("protocol frames always serialize");
        let sent = self.socket.send_to(&bytes, to).await;
        self.out.set(bytes);
        sent.map(|_| ()).map_err(|e| CallError::Io(e.to_string()))
    }

    /// Sends `body` to `host` and waits up to `timeout` for its reply.
    pub(crate) async fn call(
        &self,
        host: &str,
        body: Q,
        timeout: Duration,
    ) -> Result<R, CallError> {
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let (tx, rx) = oneshot::channel();
        self.pending.borrow_mut().insert(id, tx);
        let _guard = PendingGuard {
            pending: &self.pending,
            id,
        };
        self.send_frame(resolve(host), &Frame::Call { id, body })
            .await?;
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(reply)) => Ok(reply),
            _ => Err(CallError::Timeout),
        }
    }

    /// Sends `body` to `host` expecting no reply. Success means the datagram
    /// was written to the socket, nothing more.
    pub(crate) async fn cast(&self, host: &str, body: Q) -> Result<(), CallError> {
        self.send_frame(resolve(host), &Frame::Cast { body }).await
    }

    /// Replies to a request. One-way requests get nothing.
    pub(crate) async fn reply(&self, to: SocketAddr, id: Option<u64>, body: R) {
        if let Some(id) = id {
            if let Err(e) = self.send_frame(to, &Frame::Reply { id, body }).await {
                tracing::debug!(error = %e, %to, "reply not sent");
            }
        }
    }
}

fn resolve(host: &str) -> SocketAddr {
    SocketAddr::new(turmoil::lookup(host), PORT)
}
