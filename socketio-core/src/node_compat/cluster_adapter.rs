//! The node side of socket.io-adapter's `ClusterAdapter` protocol (2.5.x), shared by the
//! adapters built on it (the sharded Redis, Redis Streams and Postgres adapters): what a node
//! does with each [`ClusterMessage`] it receives, the requests it sends and the gathering of
//! their answers. Each adapter brings its transport ([`ClusterTransport`]: how a message
//! reaches the other nodes or one of them, and how nodes are counted) and keeps a
//! [`ClusterAdapterCore`]; its [`crate::adapter::Adapter`] methods call the functions here.
//!
//! Source: socket.io-adapter's `cluster-adapter.ts` (`onMessage`, `broadcastWithAck`,
//! `fetchSockets`, `serverSideEmit`, `addSockets`, `delSockets`, `disconnectSockets`).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::RngCore;
use tokio::sync::mpsc;

use super::cluster::{
    BroadcastFlags, BroadcastOptions, ClusterBody, ClusterMessage, Packet, RemoteSocket, EVENT,
};
use super::{args_from_node, args_to_node, Value};
use crate::adapter::{
    AckAnswers, Adapter, AdapterError, BroadcastOptions as CoreOptions, EncodedPacket,
    LocalAdapter, LocalSockets, SocketInfo,
};
use crate::{AckError, Args, BoxFuture, Sid};

/// How an adapter on the `ClusterAdapter` protocol reaches the other nodes of its namespace.
/// Implemented by the adapter itself, which also holds the [`ClusterAdapterCore`].
pub trait ClusterTransport: Send + Sync + 'static {
    /// The protocol state of this namespace's node.
    fn core(&self) -> &ClusterAdapterCore;

    /// Sends `msg` to every other node of the namespace (`publishMessage`). Never waits: a
    /// transport queues it.
    fn publish(&self, msg: ClusterMessage);

    /// Sends the answer `msg` to node `to` (`publishResponse`).
    fn reply(&self, to: &str, msg: ClusterMessage);

    /// How many nodes serve the namespace, this one included (`serverCount`). Requests wait
    /// for this count minus one answers, unless [`ClusterTransport::live_nodes`] names them.
    fn node_count(&self) -> BoxFuture<usize>;

    /// The other nodes' uids, for a transport that tracks nodes by their heartbeats
    /// (socket.io-adapter's `ClusterAdapterWithHeartbeat`): requests then wait for an answer
    /// from each of them, and stop waiting for one that is no longer live (checked every
    /// [`LIVENESS_TICK`]). `None` (the default): requests count answers.
    fn live_nodes(&self) -> Option<HashSet<String>> {
        None
    }
}

/// How often a request waiting for heartbeat-tracked nodes checks they are still live.
pub const LIVENESS_TICK: Duration = Duration::from_millis(250);

/// Whom a request still waits for.
enum Waiting {
    /// So many more answers (nodes counted by the transport).
    Count(usize),
    /// An answer from each of these nodes (tracked by heartbeats).
    Nodes(HashSet<String>),
}

impl Waiting {
    /// The other nodes a request to `transport`'s cluster waits for.
    async fn of<T: ClusterTransport>(transport: &T) -> Waiting {
        match transport.live_nodes() {
            Some(nodes) => Waiting::Nodes(nodes),
            None => Waiting::Count(transport.node_count().await.saturating_sub(1)),
        }
    }

    fn is_done(&self) -> bool {
        match self {
            Waiting::Count(n) => *n == 0,
            Waiting::Nodes(nodes) => nodes.is_empty(),
        }
    }

    /// Node `uid` gave its (last) answer.
    fn answered(&mut self, uid: &str) {
        match self {
            Waiting::Count(n) => *n = n.saturating_sub(1),
            Waiting::Nodes(nodes) => {
                nodes.remove(uid);
            }
        }
    }

    /// Stops waiting for the nodes that are no longer live.
    fn keep_live<T: ClusterTransport>(&mut self, transport: &T) {
        if let (Waiting::Nodes(nodes), Some(live)) = (self, transport.live_nodes()) {
            nodes.retain(|uid| live.contains(uid));
        }
    }
}

/// Ticks every [`LIVENESS_TICK`] when waiting for heartbeat-tracked nodes, never otherwise.
async fn liveness_tick(waiting: &Waiting, tick: &mut tokio::time::Interval) {
    match waiting {
        Waiting::Nodes(_) => {
            tick.tick().await;
        }
        Waiting::Count(_) => std::future::pending().await,
    }
}

/// The protocol state of one namespace's node: its uid, its sockets (through a
/// [`LocalAdapter`]) and its requests waiting for answers.
pub struct ClusterAdapterCore {
    uid: String,
    nsp: String,
    local: LocalAdapter,
    sockets: LocalSockets,
    request_timeout: Duration,
    /// Our requests waiting for answers (each with the uid of the node that sent it), by
    /// request id.
    pending: Mutex<HashMap<String, mpsc::UnboundedSender<(String, ClusterBody)>>>,
}

impl std::fmt::Debug for ClusterAdapterCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterAdapterCore")
            .field("uid", &self.uid)
            .field("nsp", &self.nsp)
            .finish()
    }
}

/// 16 random hex digits, as Node's `randomId()` (a node's uid, a request id).
pub fn random_id() -> String {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl ClusterAdapterCore {
    /// The state of a new node for `sockets`' namespace, with a fresh uid ([`random_id`]).
    /// `request_timeout` bounds `fetch_sockets` and the client counts of a broadcast with acks
    /// (socket.io-adapter's `requestsTimeout`, 5 s), and is the ack timeout of a received
    /// broadcast with acks that carries none.
    pub fn new(sockets: LocalSockets, request_timeout: Duration) -> ClusterAdapterCore {
        ClusterAdapterCore {
            uid: random_id(),
            nsp: sockets.nsp().to_owned(),
            local: LocalAdapter::new(sockets.clone()),
            sockets,
            request_timeout,
            pending: Mutex::default(),
        }
    }

    /// This node's uid (16 hex digits), as other nodes see it in its messages.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// The namespace.
    pub fn nsp(&self) -> &str {
        &self.nsp
    }

    /// This node's rooms and sockets.
    pub fn local(&self) -> &LocalAdapter {
        &self.local
    }

    /// This namespace's sockets.
    pub fn sockets(&self) -> &LocalSockets {
        &self.sockets
    }

    /// A message of this node: `{uid, nsp, ..body}`.
    pub fn message(&self, body: ClusterBody) -> ClusterMessage {
        ClusterMessage {
            uid: self.uid.clone(),
            nsp: Some(self.nsp.clone()),
            body,
        }
    }

    /// The packet a broadcast from another node carries, for this node's sockets; `None` (and
    /// logged) when it is not an event.
    pub fn event_packet(&self, packet: &Packet) -> Option<EncodedPacket> {
        match (packet.packet_type, packet.event_name()) {
            (EVENT, Some(event)) => Some(EncodedPacket::event(
                &self.nsp,
                event,
                args_from_node(packet.args()),
            )),
            _ => {
                tracing::debug!(?packet, "a broadcast that is not an event ignored");
                None
            }
        }
    }

    /// The `BROADCAST` (without acks) of `packet` to the sockets `opts` selects.
    ///
    /// # Errors
    /// A packet that is not an event.
    pub fn broadcast_body(
        &self,
        packet: &EncodedPacket,
        opts: &CoreOptions,
    ) -> Result<ClusterBody, AdapterError> {
        let parts = packet.parts()?;
        Ok(ClusterBody::Broadcast {
            packet: Packet::event(self.nsp.as_str(), &parts.event, args_to_node(&parts.args)),
            request_id: None,
            opts: BroadcastOptions::from_core(opts, Some(BroadcastFlags::of(opts))),
        })
    }

    fn forget(&self, id: &str) {
        self.pending.lock().unwrap().remove(id);
    }
}

/// Removes a request from the pending table when its gathering ends (or is dropped).
struct PendingGuard<T: ClusterTransport> {
    transport: Arc<T>,
    id: String,
}

impl<T: ClusterTransport> Drop for PendingGuard<T> {
    fn drop(&mut self) {
        self.transport.core().forget(&self.id);
    }
}

/// Registers a request; its answers arrive on the receiver until the guard is dropped.
fn request<T: ClusterTransport>(
    transport: &Arc<T>,
) -> (
    String,
    mpsc::UnboundedReceiver<(String, ClusterBody)>,
    PendingGuard<T>,
) {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut pending = transport.core().pending.lock().unwrap();
    let mut id = random_id();
    while pending.contains_key(&id) {
        id = random_id();
    }
    pending.insert(id.clone(), tx);
    drop(pending);
    let guard = PendingGuard {
        transport: transport.clone(),
        id: id.clone(),
    };
    (id, rx, guard)
}

/// Handles `msg` from another node of the namespace (the caller checked `msg.nsp`), as
/// `ClusterAdapter.onMessage`: broadcasts reach this node's sockets (with `offset` appended
/// when the server keeps packets for connection state recovery and the broadcast is not
/// volatile), join/leave/disconnect apply to this node's sockets, requests are answered
/// through `transport`, answers go to the request waiting for them. A message from this node
/// itself is ignored. Returns the messages the protocol leaves to the adapter (the heartbeat
/// types and `ADAPTER_CLOSE`), else `None`.
pub fn receive<T: ClusterTransport>(
    transport: &Arc<T>,
    msg: ClusterMessage,
    offset: Option<&str>,
) -> Option<ClusterMessage> {
    let core = transport.core();
    if msg.uid == core.uid {
        return None;
    }
    let from = msg.uid.clone();
    match msg.body {
        ClusterBody::Broadcast {
            packet,
            request_id: None,
            opts,
        } => {
            let volatile = opts.flags.as_ref().is_some_and(BroadcastFlags::volatile);
            if let Some(mut packet) = core.event_packet(&packet) {
                let keeps = core.sockets.recovery().is_some() && !volatile;
                if let Some(offset) = offset.filter(|_| keeps) {
                    packet = packet.with_offset(offset);
                }
                core.local.broadcast(&packet, &opts.into_core());
            }
        }
        ClusterBody::Broadcast {
            packet,
            request_id: Some(request_id),
            opts,
        } => answer_broadcast_with_ack(transport, &from, request_id, &packet, opts),
        ClusterBody::SocketsJoin { opts, rooms } => {
            core.local.add_sockets(&opts.into_core(), &rooms);
        }
        ClusterBody::SocketsLeave { opts, rooms } => {
            core.local.del_sockets(&opts.into_core(), &rooms);
        }
        ClusterBody::DisconnectSockets { opts, close } => {
            core.local.disconnect_sockets(&opts.into_core(), close);
        }
        ClusterBody::FetchSockets { opts, request_id } => {
            let selected = core.sockets.among(core.local.sockets(&opts.into_core()));
            let sockets = selected
                .iter()
                .map(|s| RemoteSocket::of(s, core.local.socket_rooms(s.id())))
                .collect();
            let answer = core.message(ClusterBody::FetchSocketsResponse {
                request_id,
                sockets,
            });
            transport.reply(&from, answer);
        }
        ClusterBody::ServerSideEmit { request_id, packet } => {
            let Some(event) = packet.first().and_then(Value::as_str) else {
                tracing::debug!("server-side emit without an event name ignored");
                return None;
            };
            let answer = core
                .sockets
                .server_event(event, args_from_node(&packet[1..]))?;
            let transport = transport.clone();
            tokio::spawn(async move {
                let ack = answer.await;
                if let Some(request_id) = request_id {
                    let packet = args_to_node(&ack).into_iter().next();
                    let answer = transport
                        .core()
                        .message(ClusterBody::ServerSideEmitResponse { request_id, packet });
                    transport.reply(&from, answer);
                }
            });
        }
        response @ (ClusterBody::FetchSocketsResponse { .. }
        | ClusterBody::ServerSideEmitResponse { .. }
        | ClusterBody::BroadcastClientCount { .. }
        | ClusterBody::BroadcastAck { .. }) => {
            let id = match &response {
                ClusterBody::FetchSocketsResponse { request_id, .. }
                | ClusterBody::ServerSideEmitResponse { request_id, .. }
                | ClusterBody::BroadcastClientCount { request_id, .. }
                | ClusterBody::BroadcastAck { request_id, .. } => request_id.clone(),
                _ => return None,
            };
            if let Some(tx) = core.pending.lock().unwrap().get(&id) {
                let _ = tx.send((from, response));
            }
        }
        body @ (ClusterBody::InitialHeartbeat
        | ClusterBody::Heartbeat
        | ClusterBody::AdapterClose) => {
            return Some(ClusterMessage {
                uid: msg.uid,
                nsp: msg.nsp,
                body,
            })
        }
    }
    None
}

/// A broadcast with acks from node `from`: this node's selected sockets get it, `from` learns
/// how many (`BROADCAST_CLIENT_COUNT`) and then gets each ack (`BROADCAST_ACK`).
fn answer_broadcast_with_ack<T: ClusterTransport>(
    transport: &Arc<T>,
    from: &str,
    request_id: String,
    packet: &Packet,
    opts: BroadcastOptions,
) {
    let core = transport.core();
    let timeout = opts
        .flags
        .as_ref()
        .and_then(BroadcastFlags::timeout_ms)
        .map_or(core.request_timeout, Duration::from_millis);
    let Some(encoded) = core.event_packet(packet) else {
        return;
    };
    let selected = core.sockets.among(core.local.sockets(&opts.into_core()));
    let count = core.message(ClusterBody::BroadcastClientCount {
        request_id: request_id.clone(),
        client_count: selected.len() as u64,
    });
    transport.reply(from, count);
    for socket in &selected {
        let answer = core.sockets.request_ack(socket, &encoded, timeout);
        let (transport, from, request_id) =
            (transport.clone(), from.to_owned(), request_id.clone());
        tokio::spawn(async move {
            if let Ok(args) = answer.await {
                let packet = args_to_node(&args).into_iter().next();
                let ack = transport
                    .core()
                    .message(ClusterBody::BroadcastAck { request_id, packet });
                transport.reply(&from, ack);
            }
        });
    }
}

/// Publishes the request `request(id)` and gathers the answers of `waiting`'s nodes within
/// `timeout`: `on` takes each answer and says whether it was one (a node's last). Nodes that
/// stay silent are left out (logged).
async fn gather<T: ClusterTransport>(
    transport: &Arc<T>,
    request: impl FnOnce(String) -> ClusterBody,
    mut waiting: Waiting,
    timeout: Duration,
    mut on: impl FnMut(ClusterBody) -> bool,
) {
    let core = transport.core();
    let (id, mut answers, _guard) = self::request(transport);
    transport.publish(core.message(request(id)));
    let deadline = tokio::time::Instant::now() + timeout;
    let mut tick = tokio::time::interval(LIVENESS_TICK);
    while !waiting.is_done() {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => {
                tracing::debug!(nsp = core.nsp, "request timed out: silent nodes left out");
                break;
            }
            _ = liveness_tick(&waiting, &mut tick) => waiting.keep_live(&**transport),
            answer = answers.recv() => {
                let Some((uid, answer)) = answer else { break };
                if on(answer) {
                    waiting.answered(&uid);
                }
            }
        }
    }
}

/// `broadcastWithAck`: this node's sockets and every other node's; each other node reports its
/// client count, then one ack per client. Acks missing at `timeout` are
/// [`AckError::Timeout`] entries.
pub fn broadcast_with_ack<T: ClusterTransport>(
    transport: &Arc<T>,
    packet: &EncodedPacket,
    opts: &CoreOptions,
    timeout: Duration,
) -> BoxFuture<AckAnswers> {
    let core = transport.core();
    let local = core.local.broadcast_with_ack(packet, opts, timeout);
    if opts.flags.local {
        return local;
    }
    let Some((node_packet, wire_opts)) = ack_broadcast_parts(&core.nsp, packet, opts, timeout)
    else {
        return local;
    };
    let transport = transport.clone();
    Box::pin(async move {
        let remote = async {
            let unreported = Waiting::of(&*transport).await;
            if unreported.is_done() {
                return AckAnswers::new();
            }
            let core = transport.core();
            let (id, mut rx, _guard) = request(&transport);
            transport.publish(core.message(ClusterBody::Broadcast {
                packet: node_packet,
                request_id: Some(id),
                opts: wire_opts,
            }));
            gather_acks(
                unreported,
                timeout,
                &mut rx,
                |waiting| waiting.keep_live(&*transport),
                |(uid, body)| {
                    let report = match body {
                        ClusterBody::BroadcastClientCount { client_count, .. } => {
                            AckReport::ClientCount(client_count)
                        }
                        ClusterBody::BroadcastAck { packet, .. } => {
                            AckReport::Ack(ack_args(packet))
                        }
                        _ => AckReport::Other,
                    };
                    (uid, report)
                },
            )
            .await
        };
        let (mut answers, remote) = tokio::join!(local, remote);
        answers.extend(remote);
        answers
    })
}

/// What a broadcast with acks sends to the other nodes, in socket.io-adapter's shape (the
/// ClusterAdapter's `BROADCAST` and the classic Redis adapter's `BROADCAST` request alike):
/// namespace `nsp`'s event packet, and the options with the ack `timeout` (milliseconds) among
/// the flags. `None`, logged, when `packet` cannot be read back as an event: the broadcast then
/// reaches this node's clients only.
pub fn ack_broadcast_parts(
    nsp: &str,
    packet: &EncodedPacket,
    opts: &CoreOptions,
    timeout: Duration,
) -> Option<(Packet, BroadcastOptions)> {
    let parts = match packet.parts() {
        Ok(parts) => parts,
        Err(err) => {
            tracing::error!(%err, "broadcast with acks not published to the cluster");
            return None;
        }
    };
    let mut flags = BroadcastFlags::of(opts);
    flags.set("timeout", timeout.as_millis() as u64);
    Some((
        Packet::event(nsp, &parts.event, args_to_node(&parts.args)),
        BroadcastOptions::from_core(opts, Some(flags)),
    ))
}

/// An ack's value (`packet`) as arguments: none when absent (an `undefined` left out of
/// JSON), else the one value, `null` included (Node's callback gets `null` too).
pub fn ack_args(packet: Option<Value>) -> Args {
    args_from_node(packet.as_slice())
}

/// `addSockets`: the selected sockets of every node join `rooms` (published unless local,
/// then applied here).
pub fn add_sockets<T: ClusterTransport>(transport: &T, opts: &CoreOptions, rooms: &[String]) {
    let core = transport.core();
    if !opts.flags.local {
        transport.publish(core.message(ClusterBody::SocketsJoin {
            opts: BroadcastOptions::from_core(opts, Some(BroadcastFlags::of(opts))),
            rooms: rooms.to_vec(),
        }));
    }
    core.local.add_sockets(opts, rooms);
}

/// `delSockets`: the selected sockets of every node leave `rooms`.
pub fn del_sockets<T: ClusterTransport>(transport: &T, opts: &CoreOptions, rooms: &[String]) {
    let core = transport.core();
    if !opts.flags.local {
        transport.publish(core.message(ClusterBody::SocketsLeave {
            opts: BroadcastOptions::from_core(opts, Some(BroadcastFlags::of(opts))),
            rooms: rooms.to_vec(),
        }));
    }
    core.local.del_sockets(opts, rooms);
}

/// `disconnectSockets`: the selected sockets of every node are disconnected (`close`: their
/// whole connection).
pub fn disconnect_sockets<T: ClusterTransport>(transport: &T, opts: &CoreOptions, close: bool) {
    let core = transport.core();
    if !opts.flags.local {
        transport.publish(core.message(ClusterBody::DisconnectSockets {
            opts: BroadcastOptions::from_core(opts, Some(BroadcastFlags::of(opts))),
            close,
        }));
    }
    core.local.disconnect_sockets(opts, close);
}

/// `fetchSockets`: this node's selected sockets, then every other node's answer, within the
/// request timeout (silent nodes left out).
pub fn fetch_sockets<T: ClusterTransport>(
    transport: &Arc<T>,
    opts: &CoreOptions,
) -> BoxFuture<Vec<SocketInfo>> {
    let core = transport.core();
    let local = core.local.fetch_sockets(opts);
    if opts.flags.local {
        return local;
    }
    let transport = transport.clone();
    let wire_opts = BroadcastOptions::from_core(opts, Some(BroadcastFlags::of(opts)));
    Box::pin(async move {
        let mut all = local.await;
        let waiting = Waiting::of(&*transport).await;
        if waiting.is_done() {
            return all;
        }
        let core = transport.core();
        let nsp = core.nsp.clone();
        gather(
            &transport,
            |request_id| ClusterBody::FetchSockets {
                opts: wire_opts,
                request_id,
            },
            waiting,
            core.request_timeout,
            |answer| match answer {
                ClusterBody::FetchSocketsResponse { sockets, .. } => {
                    all.extend(sockets.into_iter().map(|s| s.into_info(&nsp)));
                    true
                }
                _ => false,
            },
        )
        .await;
        all
    })
}

/// `serverSideEmit`: `event` with `args` to the other nodes' server-side handlers; with a
/// `timeout`, gathers one answer per node (silent nodes left out).
pub fn server_side_emit<T: ClusterTransport>(
    transport: &Arc<T>,
    event: &str,
    args: Args,
    timeout: Option<Duration>,
) -> BoxFuture<Result<Vec<Args>, AdapterError>> {
    let mut packet = vec![Value::from(event)];
    packet.extend(args_to_node(&args));
    let Some(timeout) = timeout else {
        let core = transport.core();
        transport.publish(core.message(ClusterBody::ServerSideEmit {
            request_id: None,
            packet,
        }));
        return Box::pin(std::future::ready(Ok(Vec::new())));
    };
    let transport = transport.clone();
    Box::pin(async move {
        let waiting = Waiting::of(&*transport).await;
        let mut acks = Vec::new();
        if waiting.is_done() {
            return Ok(acks);
        }
        gather(
            &transport,
            |request_id| ClusterBody::ServerSideEmit {
                request_id: Some(request_id),
                packet,
            },
            waiting,
            timeout,
            |answer| match answer {
                ClusterBody::ServerSideEmitResponse { packet, .. } => {
                    acks.push(ack_args(packet));
                    true
                }
                _ => false,
            },
        )
        .await;
        Ok(acks)
    })
}

/// What one answer to a broadcast-with-acks request says.
pub enum AckReport {
    /// A node asked this many of its sockets.
    ClientCount(u64),
    /// One socket's ack.
    Ack(Args),
    /// Anything else routed to the request (ignored).
    Other,
}

/// Reads the answers on `rx` (each classified by `report`) until each of `nodes` other nodes
/// reported its client count and that many acks arrived, or `timeout` passed; every ack still
/// missing then is an [`AckError::Timeout`] entry. Remote acks carry no socket id, so each gets
/// a fresh [`Sid`] that names no socket. (socket.io-adapter's `broadcastWithAck`: each node
/// first sends `BROADCAST_CLIENT_COUNT`, then one `BROADCAST_ACK` per answer; the classic Redis
/// adapter's answers have the same two kinds.)
pub async fn gather_remote_acks<M>(
    nodes: usize,
    timeout: Duration,
    rx: &mut mpsc::UnboundedReceiver<M>,
    report: impl Fn(M) -> AckReport,
) -> AckAnswers {
    gather_acks(
        Waiting::Count(nodes),
        timeout,
        rx,
        |_| {},
        |msg| (String::new(), report(msg)),
    )
    .await
}

/// [`gather_remote_acks`] waiting for `unreported`'s nodes: `report` also names the node an
/// answer came from (unused when counting), `keep_live` drops dead nodes every
/// [`LIVENESS_TICK`] when waiting for heartbeat-tracked ones.
async fn gather_acks<M>(
    mut unreported: Waiting,
    timeout: Duration,
    rx: &mut mpsc::UnboundedReceiver<M>,
    mut keep_live: impl FnMut(&mut Waiting),
    report: impl Fn(M) -> (String, AckReport),
) -> AckAnswers {
    let mut answers = AckAnswers::new();
    let mut expected = 0u64;
    let deadline = tokio::time::Instant::now() + timeout;
    let mut tick = tokio::time::interval(LIVENESS_TICK);
    while !unreported.is_done() || (answers.len() as u64) < expected {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            _ = liveness_tick(&unreported, &mut tick) => keep_live(&mut unreported),
            msg = rx.recv() => match msg.map(&report) {
                Some((uid, AckReport::ClientCount(count))) => {
                    unreported.answered(&uid);
                    expected += count;
                }
                Some((_, AckReport::Ack(args))) => answers.push((Sid::new(), Ok(args))),
                Some((_, AckReport::Other)) => {}
                None => break,
            },
        }
    }
    let missing = expected.saturating_sub(answers.len() as u64);
    for _ in 0..missing {
        answers.push((Sid::new(), Err(AckError::Timeout(timeout))));
    }
    answers
}
