//! Several server nodes sharing their clients through a message bus (Redis pub/sub, an AMQP
//! exchange, …), and write-only [`Emitter`]s for processes that are not servers.
//!
//! Joining a cluster wraps every namespace's adapter in a [`BusAdapter`]: each node keeps its own
//! sockets and rooms in its local adapter; what selects sockets by room — broadcasts, joins and
//! leaves by room, disconnects, `close_room` — is applied there and also published on the bus,
//! where every other node applies it to its local adapter. A [`Bus`] implementation only moves
//! bytes: the `socketio-redis` and `socketio-amqp` crates provide them. The message format is
//! documented in [`wire`], so any language can emit.

mod adapter;
mod emitter;
pub mod wire;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;

pub use self::adapter::BusAdapter;
pub use self::emitter::{Emitter, EmitterError};
use self::wire::{Kind, Message};
use crate::adapter::{Adapter, LocalSockets};
use crate::future::BoxFuture;
use crate::socket::config::AdapterLayer;

/// A stream of bus messages.
pub type BusStream = std::pin::Pin<Box<dyn futures_util::Stream<Item = Bytes> + Send>>;

/// A failure of the message bus.
#[derive(Debug, thiserror::Error)]
#[error("message bus: {0}")]
pub struct BusError(pub Box<dyn std::error::Error + Send + Sync>);

impl BusError {
    /// Wraps any error.
    pub fn new(err: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        BusError(err.into())
    }
}

/// A publish/subscribe channel between nodes.
pub trait Bus: Send + Sync + 'static {
    /// Publishes `payload` to every subscriber of `channel`.
    fn publish(&self, channel: String, payload: Bytes) -> BoxFuture<Result<(), BusError>>;

    /// Subscribes to `channel`. The stream must outlive connection failures: an implementation
    /// reconnects, resubscribes and logs on its own, and ends the stream only when shut down.
    fn subscribe(&self, channel: String) -> BoxFuture<Result<BusStream, BusError>>;
}

/// Longest wait between two attempts of [`reconnecting_stream`].
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Turns a subscription that can break into a [`BusStream`] that does not: `connect` opens a
/// fresh subscription (a stream of payloads); whenever it ends, `connect` is called again after
/// a growing delay (up to 5 s), each loss and recovery logged with `name`. The first `connect`
/// must succeed, so a misconfiguration fails loudly. For [`Bus::subscribe`] implementations.
pub async fn reconnecting_stream<F, Fut, S, E>(
    name: String,
    connect: F,
) -> Result<BusStream, BusError>
where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<S, E>> + Send,
    S: futures_util::Stream<Item = Bytes> + Send + Unpin + 'static,
    E: std::fmt::Display + Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut current = connect().await.map_err(BusError::new)?;
    let (tx, rx) = mpsc::unbounded_channel::<Bytes>();
    tokio::spawn(async move {
        loop {
            while let Some(payload) = current.next().await {
                if tx.send(payload).is_err() {
                    return; // nobody listens any more
                }
            }
            tracing::warn!(name, "bus subscription lost, reconnecting");
            let mut backoff = Duration::from_millis(100);
            current = loop {
                if tx.is_closed() {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                match connect().await {
                    Ok(stream) => break stream,
                    Err(err) => tracing::warn!(name, %err, "bus reconnect failed"),
                }
            };
            tracing::info!(name, "bus subscription restored");
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|payload| (payload, rx))
    });
    Ok(Box::pin(stream))
}

/// Runs `attempt` and, if it fails, once more (logging the first failure): an implementation
/// whose `attempt` reconnects when its connection broke then survives a broker restart between
/// two publishes. For [`Bus::publish`] implementations.
pub async fn retry_once<F, Fut, E>(what: &str, attempt: F) -> Result<(), BusError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), E>>,
    E: std::fmt::Display + Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match attempt().await {
        Ok(()) => Ok(()),
        Err(first) => {
            tracing::warn!(what, err = %first, "bus publish failed, retrying on a new connection");
            attempt().await.map_err(BusError::new)
        }
    }
}

/// Most messages waiting to be published before new ones are dropped (and logged).
const OUTBOX: usize = 16 * 1024;

/// How often a node announces itself; a peer unheard of for three periods is presumed gone.
const HEARTBEAT: Duration = Duration::from_secs(5);

/// How long a request (`fetch_sockets`, `all_rooms`) waits for the other nodes.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// A namespace's local adapter and sockets.
type LocalNamespace = (Arc<dyn Adapter>, LocalSockets);

/// This node's membership in a cluster, shared by the [`BusAdapter`]s of its namespaces.
pub(crate) struct Cluster {
    uid: String,
    channel: String,
    outbox: mpsc::Sender<(String, Bytes)>,
    /// Other nodes, by uid, with when they were last heard of.
    peers: Mutex<HashMap<String, Instant>>,
    /// Requests waiting for answers, by request id.
    requests: Mutex<HashMap<u64, mpsc::UnboundedSender<Message>>>,
    next_request: AtomicU64,
    /// The local adapter and sockets of each namespace, by path: where other nodes' operations
    /// apply.
    namespaces: RwLock<HashMap<String, LocalNamespace>>,
    /// Set when the server shuts down ([`Cluster::leave`]): the heartbeat and the receiver
    /// stop, so the other nodes stop counting this one after their heartbeat window.
    left: tokio::sync::watch::Sender<bool>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster").field("uid", &self.uid).finish()
    }
}

/// A request in flight; answers arrive on `answers` until it is dropped.
pub(crate) struct Request {
    cluster: Arc<Cluster>,
    pub(crate) rid: u64,
    answers: mpsc::UnboundedReceiver<Message>,
    /// The nodes expected to answer.
    peers: HashSet<String>,
}

impl Drop for Request {
    fn drop(&mut self) {
        self.cluster.requests.lock().unwrap().remove(&self.rid);
    }
}

impl Request {
    /// The one answer loop of every request: feeds each answer of an expected node to `on`,
    /// which says whether that node is done (its last answer arrived), until every node is done
    /// or `timeout` passes. Nodes that stay silent are left out.
    pub(crate) async fn collect(
        mut self,
        timeout: Duration,
        mut on: impl FnMut(&str, Kind) -> bool,
    ) {
        let deadline = tokio::time::Instant::now() + timeout;
        while !self.peers.is_empty() {
            match tokio::time::timeout_at(deadline, self.answers.recv()).await {
                Ok(Some(msg)) => {
                    if self.peers.contains(&msg.uid) && on(&msg.uid, msg.kind) {
                        self.peers.remove(&msg.uid);
                    }
                }
                Ok(None) | Err(_) => break,
            }
        }
    }
}

impl Cluster {
    /// Stops the heartbeat and the receiver (idempotent): the subscriptions are dropped, and
    /// the other nodes leave this one out of requests once its heartbeats stop.
    /// Other nodes are told first (`adapter_close`), so they stop counting this one at once.
    pub(crate) fn leave(&self) {
        if !self.left.send_replace(true) {
            self.publish("/", Kind::AdapterClose);
        }
    }
}

impl Cluster {
    /// Publishes an operation for the other nodes, in order, without waiting.
    pub(crate) fn publish(&self, nsp: &str, kind: Kind) {
        self.publish_to(self.channel.clone(), nsp, kind);
    }

    fn publish_to(&self, channel: String, nsp: &str, kind: Kind) {
        let msg = Message {
            uid: self.uid.clone(),
            nsp: nsp.to_owned(),
            kind,
        };
        let payload = match serde_json::to_vec(&msg) {
            Ok(p) => Bytes::from(p),
            Err(err) => return tracing::error!(%err, "cannot encode a cluster message"),
        };
        if self.outbox.try_send((channel, payload)).is_err() {
            tracing::warn!(nsp, "cluster outbox full or closed: message dropped");
        }
    }

    /// Answers a request of node `to`.
    pub(crate) fn reply(&self, to: &str, nsp: &str, kind: Kind) {
        self.publish_to(format!("{}#{to}", self.channel), nsp, kind);
    }

    /// The nodes heard of within three heartbeats.
    fn live_peers(&self) -> HashSet<String> {
        let horizon = HEARTBEAT * 3;
        self.peers
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, seen)| seen.elapsed() < horizon)
            .map(|(uid, _)| uid.clone())
            .collect()
    }

    /// Starts a request: registers for its answers and notes which peers should answer.
    pub(crate) fn request(self: &Arc<Self>) -> Request {
        let rid = self.next_request.fetch_add(1, Ordering::Relaxed);
        let (tx, answers) = mpsc::unbounded_channel();
        self.requests.lock().unwrap().insert(rid, tx);
        Request {
            cluster: self.clone(),
            rid,
            answers,
            peers: self.live_peers(),
        }
    }

    fn route_answer(&self, rid: u64, msg: Message) {
        if let Some(tx) = self.requests.lock().unwrap().get(&rid) {
            let _ = tx.send(msg);
        }
    }

    /// Notes a heartbeat; answers a newcomer with ours so it learns of us at once.
    fn heard_from(&self, uid: &str) {
        let known = self
            .peers
            .lock()
            .unwrap()
            .insert(uid.to_owned(), Instant::now())
            .is_some();
        if !known {
            tracing::info!(peer = uid, "cluster node joined");
            self.publish("/", Kind::Heartbeat);
        }
    }

    /// Handles a message of another node: a heartbeat, an answer to one of our requests, or an
    /// operation for the local adapter of its namespace (if this node has that namespace).
    fn receive(self: &Arc<Self>, msg: Message) {
        match msg.kind {
            Kind::Heartbeat => self.heard_from(&msg.uid),
            Kind::AdapterClose => {
                if self.peers.lock().unwrap().remove(&msg.uid).is_some() {
                    tracing::info!(peer = msg.uid, "cluster node left");
                }
            }
            Kind::Sockets { rid, .. }
            | Kind::Rooms { rid, .. }
            | Kind::AckCount { rid, .. }
            | Kind::Ack { rid, .. } => self.route_answer(rid, msg),
            _ => {
                let local = self.namespaces.read().unwrap().get(&msg.nsp).cloned();
                if let Some((local, sockets)) = local {
                    adapter::apply_remote(self, &*local, &sockets, msg);
                }
            }
        }
    }
}

/// Joins the cluster on `bus` under `channel`: subscribes, then has `install` wrap every
/// namespace's adapter with the [`BusAdapter`] layer (`false`: the server already had one), then
/// starts the publisher, heartbeat and receiver tasks. The body of `SocketIo::join_cluster`.
pub(crate) async fn join(
    bus: Arc<dyn Bus>,
    channel: &str,
    install: impl FnOnce(AdapterLayer) -> bool,
) -> Result<(), BusError> {
    let uid = crate::engine::sid::Sid::new().to_string();
    let everyone = bus.subscribe(channel.to_owned()).await?;
    let mine = bus.subscribe(format!("{channel}#{uid}")).await?;
    let (outbox, mut queued) = mpsc::channel::<(String, Bytes)>(OUTBOX);
    let cluster = Arc::new(Cluster {
        uid: uid.clone(),
        channel: channel.to_owned(),
        outbox,
        peers: Mutex::default(),
        requests: Mutex::default(),
        next_request: AtomicU64::new(0),
        namespaces: RwLock::default(),
        left: tokio::sync::watch::channel(false).0,
    });
    let layer_cluster = cluster.clone();
    let layer: AdapterLayer = Arc::new(move |sockets, local| {
        let nsp = sockets.nsp().to_owned();
        layer_cluster
            .namespaces
            .write()
            .unwrap()
            .insert(nsp.clone(), (local.clone(), sockets.clone()));
        Arc::new(BusAdapter::new(layer_cluster.clone(), nsp, local))
    });
    if !install(layer) {
        return Err(BusError::new("this server already joined a cluster"));
    }
    let publisher_bus = bus.clone();
    tokio::spawn(async move {
        while let Some((channel, payload)) = queued.recv().await {
            if let Err(err) = publisher_bus.publish(channel, payload).await {
                tracing::warn!(%err, "cluster publish failed: message lost");
            }
        }
    });
    let beating = Arc::downgrade(&cluster);
    let mut left = cluster.left.subscribe();
    tokio::spawn(async move {
        while let Some(cluster) = beating.upgrade() {
            cluster.publish("/", Kind::Heartbeat);
            drop(cluster);
            tokio::select! {
                _ = tokio::time::sleep(HEARTBEAT) => {}
                _ = left.wait_for(|left| *left) => return,
            }
        }
    });
    let mut incoming = futures_util::stream::select(everyone, mine);
    let mut left = cluster.left.subscribe();
    tokio::spawn(async move {
        loop {
            let payload = tokio::select! {
                payload = incoming.next() => payload,
                _ = left.wait_for(|left| *left) => {
                    tracing::info!("left cluster");
                    return;
                }
            };
            let Some(payload) = payload else { break };
            match serde_json::from_slice::<Message>(&payload) {
                Ok(msg) if msg.uid == uid => {}
                Ok(msg) => cluster.receive(msg),
                Err(err) => tracing::warn!(%err, "invalid cluster message ignored"),
            }
        }
        tracing::warn!("cluster subscription ended");
    });
    tracing::info!(channel, "joined cluster");
    Ok(())
}
