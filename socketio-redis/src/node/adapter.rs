//! [`RedisAdapter`]: a socketio-core [`Adapter`] that is a node of a Node `@socket.io/redis-adapter`
//! 8.x cluster (the classic `createAdapter`), on the [module's codec](super).

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use rand::distr::{Alphanumeric, SampleString};
use socketio_core::adapter::{
    AckAnswers, Adapter, AdapterError, BroadcastOptions as CoreOptions, EncodedPacket,
    LocalAdapter, LocalSockets, RestoredSession, Session, SocketInfo,
};
use socketio_core::protocol::msgpack::write_event_data;
use socketio_core::{Args, BoxFuture, Sid, SocketRef};
use tokio::sync::mpsc;

use super::{
    BroadcastFlags, BroadcastMessage, BroadcastOptions, ClassicChannels, Packet, RemoteSocket,
    Request, Response, Value, DEFAULT_PREFIX, EVENT,
};
use crate::connection::{subscriber, Commands, RedisClient, Subscriber};
use crate::subscription::{run_cluster_subscriber, Reconnect, SubCommand};
use socketio_core::node_compat::cluster_adapter::{self, ack_args, gather_remote_acks, AckReport};
use socketio_core::node_compat::{args_from_node, args_to_node};

/// Settings of a [`RedisAdapter`] cluster, as `createAdapter(pub, sub, opts)`'s options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisAdapterConfig {
    /// The channel prefix (`key`; default `"socket.io"`): every node of a cluster uses the same.
    pub key: String,
    /// How long `fetch_sockets`, `all_rooms` and an acked server-side emit wait for the other
    /// nodes (`requestsTimeout`; default 5 s). A node that has not answered by then is left out
    /// (Node fails the whole call instead). Also the ack timeout of a Node broadcast with acks
    /// that carries none.
    pub request_timeout: Duration,
    /// Whether this node answers requests on the requester's own response channel
    /// (`publishOnSpecificResponseChannel`; default `false`: the shared one). Either way this
    /// node listens on both, so it works with Node nodes set either way.
    pub publish_on_specific_response_channel: bool,
    /// The `CLIENT SETNAME` of this server's Redis connections (issued on every connect and
    /// reconnect, on the subscription before it subscribes): `{name}-pub` (publishing),
    /// `{name}-sub` (the subscription), `{name}-cmd` (`PUBSUB NUMSUB`). Default `None`:
    /// `socketio-rs-<16 hex digits>`, new for each [`RedisAdapter::factory`]. Redis refuses
    /// names with spaces or newlines ([`RedisAdapter::factory`] then fails). Lets an operator
    /// (or a test) find this server's connections in `CLIENT LIST`.
    pub connection_name: Option<String>,
}

impl Default for RedisAdapterConfig {
    fn default() -> Self {
        RedisAdapterConfig {
            key: DEFAULT_PREFIX.to_owned(),
            request_timeout: Duration::from_secs(5),
            publish_on_specific_response_channel: false,
            connection_name: None,
        }
    }
}

/// Most messages waiting to be published; beyond, new ones are dropped (and logged), so a
/// Redis outage cannot take unbounded memory.
pub(super) const OUTBOX: usize = 64 * 1024;

/// Longest wait between two attempts to reconnect the subscription.
pub(super) const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// First wait between two attempts to reconnect the subscription (doubled each time).
pub(super) const MIN_BACKOFF: Duration = Duration::from_millis(100);

/// What a subscribed channel carries for its namespace.
#[derive(Clone, Copy)]
enum Route {
    Request,
    Response,
}

/// Which namespace adapter each subscribed channel and pattern belongs to. Shared by the
/// adapters (which add themselves) and the subscriber task (which routes messages and
/// resubscribes everything after a reconnect).
#[derive(Default)]
struct Router {
    channels: HashMap<String, (Route, Weak<RedisAdapter>)>,
    patterns: HashMap<String, Weak<RedisAdapter>>,
}

enum Sub {
    Subscribe(Vec<String>),
    PSubscribe(String),
    Unsubscribe(Vec<String>),
    PUnsubscribe(String),
}

/// The connections shared by the adapters of every namespace of one server.
struct Shared {
    config: RedisAdapterConfig,
    /// The connection name prefix (see [`RedisAdapterConfig::connection_name`]).
    name: String,
    client: RedisClient,
    outbox: mpsc::Sender<(String, Vec<u8>)>,
    subs: mpsc::UnboundedSender<Sub>,
    router: Arc<Mutex<Router>>,
    /// For `PUBSUB NUMSUB`; reconnected on the next use after a failure.
    commands: tokio::sync::Mutex<Option<Commands>>,
}

impl Shared {
    fn publish(&self, channel: String, payload: Vec<u8>) {
        if self.outbox.try_send((channel, payload)).is_err() {
            tracing::warn!("redis adapter outbox full or closed: message dropped");
        }
    }

    async fn numsub(&self, channel: &str) -> redis::RedisResult<usize> {
        pubsub_count(&self.commands, &self.client, &self.name, "NUMSUB", channel).await
    }
}

/// `PUBSUB {sub} {channel}` (`NUMSUB` or `SHARDNUMSUB`): the channel's subscriber count (on a
/// cluster, summed over the primaries), on the connection in `commands` (named `{name}-cmd`;
/// made on first use and after a failure).
pub(super) async fn pubsub_count(
    commands: &tokio::sync::Mutex<Option<Commands>>,
    client: &RedisClient,
    name: &str,
    sub: &str,
    channel: &str,
) -> redis::RedisResult<usize> {
    let mut guard = commands.lock().await;
    if guard.is_none() {
        *guard = Some(connect(client, &format!("{name}-cmd")).await?);
    }
    let mut conn = guard.clone().expect("connected above");
    drop(guard);
    let result = conn.pubsub_count(sub, channel).await;
    if result.is_err() {
        *commands.lock().await = None;
    }
    result
}

/// The adapter of one namespace on a Node `@socket.io/redis-adapter` 8.x cluster (classic
/// pub/sub, `createAdapter`): Node servers and ours share rooms, broadcasts and requests on
/// one Redis, under one [`RedisAdapterConfig::key`].
///
/// ```no_run
/// # async fn run() -> Result<(), redis::RedisError> {
/// use socketio_redis::node::{RedisAdapter, RedisAdapterConfig};
/// let client = redis::Client::open("redis://127.0.0.1:6379")?;
/// let factory = RedisAdapter::factory(client, RedisAdapterConfig::default()).await?;
/// let io = socketio_core::SocketIo::builder().adapter(factory).build();
/// # Ok(()) }
/// ```
///
/// Like Node's adapter, each namespace's adapter has its own 6-character uid, `PSUBSCRIBE`s
/// `{key}#{nsp}#*` and `SUBSCRIBE`s `{key}-request#{nsp}#`, `{key}-response#{nsp}#` and
/// `{key}-response#{nsp}#{uid}#` (all on one subscription connection per server; publishing
/// goes through a second, commands through a third; each named after
/// [`RedisAdapterConfig::connection_name`]). Being subscribed to the request channel
/// is what makes Node count this node (`PUBSUB NUMSUB`); it answers every request there.
///
/// * Rooms and sockets of this node are kept by a wrapped [`LocalAdapter`].
/// * `broadcast`, `add_sockets`, `del_sockets` and `disconnect_sockets` apply to this node at
///   once and are published (unless `local`); Node nodes apply them on receipt. (Node's own
///   sender applies a join/leave/disconnect only when its request comes back from Redis; ours
///   skips its own request instead, same end state, without the round trip.)
/// * `fetch_sockets`, `all_rooms` and acked `server_side_emit` count the nodes with
///   `PUBSUB NUMSUB` and wait for `count - 1` answers, at most
///   [`RedisAdapterConfig::request_timeout`]; a node that stays silent (killed) is left out.
/// * `broadcast_with_ack` waits until every node told its client count and all those acks are
///   in, at most the ack timeout. Node's acks carry no socket id: each remote answer gets a
///   fresh [`Sid`] that names no socket, and each remote socket that did not answer in time an
///   [`AckError::Timeout`](socketio_core::AckError::Timeout) entry under a fresh id too.
/// * Server-side events of other nodes go to [`socketio_core::Namespace::on_server_event`]
///   handlers; acks of a Node handler are its first argument only. Being JSON on the wire,
///   binary arguments of server-side events arrive as `{"type":"Buffer","data":[..]}`.
/// * Sessions (connection state recovery) stay with this node, as with Node's adapter.
///
/// The subscription reconnects by itself after Redis drops it (at once after losing one that
/// was up for a second or more; else, and after a failed attempt, after a growing delay from
/// 100 ms up to 5 s; logged) and resubscribes every pattern and channel; messages published
/// meanwhile are lost, as with any Redis pub/sub (`tests/node_reconnect.rs` measures a few
/// hundred of a 25-per-millisecond flood). A publish that fails is retried once on a new
/// connection, then dropped and logged.
pub struct RedisAdapter {
    me: Weak<RedisAdapter>,
    /// Set by `close` (or the drop): the namespace left the cluster.
    closed: std::sync::atomic::AtomicBool,
    shared: Arc<Shared>,
    uid: String,
    nsp: String,
    channels: ClassicChannels,
    local: LocalAdapter,
    sockets: LocalSockets,
    /// Our requests waiting for answers, by request id.
    pending: Mutex<HashMap<String, mpsc::UnboundedSender<Response>>>,
}

impl std::fmt::Debug for RedisAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisAdapter")
            .field("uid", &self.uid)
            .field("nsp", &self.nsp)
            .field("key", &self.shared.config.key)
            .finish()
    }
}

fn random_id() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 6)
}

/// A multiplexed connection named `name` (`CLIENT SETNAME`), waiting for replies without a
/// bound (see [`crate::connection`]: a timed-out `PUBLISH` retried would be delivered twice).
pub(super) async fn connect(client: &RedisClient, name: &str) -> redis::RedisResult<Commands> {
    crate::connection::connect(client, Some(name), None).await
}

/// A RESP2 pub/sub connection named `name`. redis-rs's [`redis::aio::PubSub`] sends no other
/// command than (un)subscribe and ping, so the name is set on the socket first
/// ([`named_stream`]), then the socket goes to [`redis::aio::PubSub::new`] (which
/// authenticates again, selects the database and subscribes later). TCP and Unix-socket
/// addresses only; any other (TLS) gets an unnamed connection.
async fn named_pubsub(
    client: &redis::Client,
    name: &str,
) -> redis::RedisResult<redis::aio::PubSub> {
    match crate::connection::named_stream(client, name).await? {
        Some(stream) => {
            redis::aio::PubSub::new(client.get_connection_info().redis_settings(), stream).await
        }
        None => {
            tracing::debug!("redis adapter: the subscription connection stays unnamed (TLS)");
            client.get_async_pubsub().await
        }
    }
}

impl RedisAdapter {
    /// Connects to Redis, a single server or a Redis Cluster ([`RedisClient`]; a
    /// [`redis::Client`] converts), with one connection to publish and one to subscribe (on a
    /// single server each named with [`RedisAdapterConfig::connection_name`]), checked now so a
    /// misconfiguration fails here, and returns the factory to give to
    /// [`socketio_core::SocketIoBuilder::adapter`]. The factory is synchronous: it registers
    /// each new namespace's channels with the subscription task, which subscribes them at once.
    ///
    /// # Errors
    /// When Redis cannot be reached.
    pub async fn factory(
        client: impl Into<RedisClient>,
        config: RedisAdapterConfig,
    ) -> redis::RedisResult<impl Fn(LocalSockets) -> Arc<RedisAdapter> + Send + Sync + 'static>
    {
        let client = client.into();
        let name = config
            .connection_name
            .clone()
            .unwrap_or_else(|| format!("socketio-rs-{}", cluster_adapter::random_id()));
        let pub_name = format!("{name}-pub");
        let sub_name = format!("{name}-sub");
        let publisher = connect(&client, &pub_name).await?;
        let (outbox, queued) = mpsc::channel(OUTBOX);
        let (subs, sub_rx) = mpsc::unbounded_channel();
        let router = Arc::new(Mutex::new(Router::default()));
        match subscriber(&client).await? {
            Subscriber::Standalone(standalone) => {
                let pubsub = named_pubsub(standalone, &sub_name).await?;
                tokio::spawn(run_subscriber(
                    standalone.clone(),
                    sub_name,
                    pubsub,
                    router.clone(),
                    sub_rx,
                ));
            }
            Subscriber::Cluster(conn, pushes) => {
                let router = router.clone();
                tokio::spawn(run_cluster_subscriber(
                    "redis adapter",
                    conn,
                    pushes,
                    sub_rx,
                    |sub| {
                        Some(match sub {
                            Sub::Subscribe(c) => SubCommand::Subscribe(c),
                            Sub::PSubscribe(p) => SubCommand::PSubscribe(vec![p]),
                            Sub::Unsubscribe(c) => SubCommand::Unsubscribe(c),
                            Sub::PUnsubscribe(p) => SubCommand::PUnsubscribe(vec![p]),
                        })
                    },
                    move |msg| dispatch(&router, msg),
                ));
            }
        }
        tokio::spawn(run_publisher(
            client.clone(),
            pub_name,
            publisher,
            queued,
            "PUBLISH",
        ));
        let shared = Arc::new(Shared {
            config,
            name,
            client,
            outbox,
            subs,
            router,
            commands: tokio::sync::Mutex::new(None),
        });
        Ok(move |sockets: LocalSockets| RedisAdapter::new(shared.clone(), sockets))
    }

    fn new(shared: Arc<Shared>, sockets: LocalSockets) -> Arc<RedisAdapter> {
        let nsp = sockets.nsp().to_owned();
        let uid = random_id();
        let channels = ClassicChannels::new(&shared.config.key, &nsp);
        let adapter = Arc::new_cyclic(|me| RedisAdapter {
            me: me.clone(),
            closed: std::sync::atomic::AtomicBool::new(false),
            shared: shared.clone(),
            uid: uid.clone(),
            nsp,
            local: LocalAdapter::new(sockets.clone()),
            sockets,
            channels,
            pending: Mutex::default(),
        });
        let subscribed = adapter.subscribed();
        {
            let mut router = shared.router.lock().unwrap();
            for (channel, route) in &subscribed {
                router
                    .channels
                    .insert(channel.clone(), (*route, Arc::downgrade(&adapter)));
            }
            router.patterns.insert(
                adapter.channels.broadcast_pattern(),
                Arc::downgrade(&adapter),
            );
        }
        let _ = shared
            .subs
            .send(Sub::PSubscribe(adapter.channels.broadcast_pattern()));
        let _ = shared.subs.send(Sub::Subscribe(
            subscribed.into_iter().map(|(c, _)| c).collect(),
        ));
        adapter
    }

    fn subscribed(&self) -> Vec<(String, Route)> {
        vec![
            (self.channels.request().to_owned(), Route::Request),
            (self.channels.response().to_owned(), Route::Response),
            (self.channels.specific_response(&self.uid), Route::Response),
        ]
    }

    /// This namespace adapter's uid (6 characters), as Node nodes see it in our messages.
    pub fn uid(&self) -> &str {
        &self.uid
    }

    fn this(&self) -> Arc<RedisAdapter> {
        self.me.upgrade().expect("called through an Arc")
    }

    fn publish_request(&self, request: &Request) {
        self.shared
            .publish(self.channels.request().to_owned(), request.encode());
    }

    /// Answers node `to` on its response channel (shared, or its own with
    /// `publish_on_specific_response_channel`).
    fn reply(&self, to: &str, response: Response) {
        let channel = self
            .channels
            .response_for(to, self.shared.config.publish_on_specific_response_channel);
        self.shared.publish(channel, response.encode());
    }

    async fn count(&self) -> usize {
        match self.shared.numsub(self.channels.request()).await {
            Ok(n) => n,
            Err(err) => {
                tracing::warn!(%err, nsp = self.nsp, "PUBSUB NUMSUB failed: counting this node alone");
                1
            }
        }
    }

    /// Registers a request; answers arrive on the receiver until the guard is dropped.
    fn request(&self) -> (String, mpsc::UnboundedReceiver<Response>, PendingGuard) {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut pending = self.pending.lock().unwrap();
        let mut id = random_id();
        while pending.contains_key(&id) {
            id = random_id();
        }
        pending.insert(id.clone(), tx);
        let guard = PendingGuard {
            adapter: self.this(),
            id: id.clone(),
        };
        (id, rx, guard)
    }

    // ------------------------------------------------------------ incoming

    fn on_broadcast(&self, channel: &str, payload: &[u8]) {
        if self.channels.room_of(channel).is_none() {
            return;
        }
        if super::wire::broadcast_sender(payload) == Some(self.uid.as_str()) {
            return; // our own, back from the pattern subscription
        }
        // The common case, an EVENT: its arguments straight from msgpack to `Args`.
        if let Some(msg) = super::wire::decode_event_broadcast(payload) {
            if msg.uid == self.uid || msg.nsp.unwrap_or("/") != self.nsp {
                return;
            }
            let packet = EncodedPacket::event(&self.nsp, &msg.event, msg.args);
            return self.local.broadcast(&packet, &msg.opts.into_core());
        }
        let msg = match BroadcastMessage::decode(payload) {
            Ok(msg) => msg,
            Err(err) => return tracing::debug!(%err, channel, "undecodable broadcast ignored"),
        };
        if msg.uid == self.uid || msg.packet.nsp.as_deref().unwrap_or("/") != self.nsp {
            return;
        }
        let Some(packet) = self.event_packet(&msg.packet) else {
            return;
        };
        self.local.broadcast(&packet, &msg.opts.into_core());
    }

    fn event_packet(&self, packet: &Packet) -> Option<EncodedPacket> {
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

    fn on_response(&self, payload: &[u8]) {
        match Response::decode(payload) {
            Ok(response) => {
                let pending = self.pending.lock().unwrap();
                if let Some(tx) = pending.get(response.request_id()) {
                    let _ = tx.send(response);
                }
            }
            Err(err) => tracing::debug!(%err, "undecodable response ignored"),
        }
    }

    fn on_request(&self, payload: &[u8]) {
        let request = match Request::decode(payload) {
            Ok(r) => r,
            Err(err) => return tracing::debug!(%err, "undecodable request ignored"),
        };
        // Our own requests come back on the request channel; on a Redis Cluster even after
        // every answer did (our subscription and the channel's node differ). None is for us.
        if request.uid() == Some(self.uid.as_str()) {
            return;
        }
        match request {
            Request::Sockets {
                uid,
                request_id,
                rooms,
            } => {
                let opts = CoreOptions {
                    rooms,
                    ..Default::default()
                };
                let sockets = self.local.sockets(&opts);
                let sockets = sockets.iter().map(Sid::to_string).collect();
                self.reply(
                    &uid,
                    Response::Sockets {
                        request_id,
                        sockets,
                    },
                );
            }
            Request::AllRooms { uid, request_id } => {
                let rooms = self.local.rooms();
                self.reply(&uid, Response::AllRooms { request_id, rooms });
            }
            Request::SocketsJoin { opts, rooms, .. } => {
                self.local.add_sockets(&opts.into_core(), &rooms);
            }
            Request::SocketsLeave { opts, rooms, .. } => {
                self.local.del_sockets(&opts.into_core(), &rooms);
            }
            Request::DisconnectSockets { opts, close, .. } => {
                self.local.disconnect_sockets(&opts.into_core(), close);
            }
            Request::RemoteJoin {
                uid,
                request_id,
                sid,
                room,
            } => {
                if let Some(socket) = self.own_socket(&sid) {
                    self.local.add_all(socket.id(), &[&room]);
                    self.reply(&uid, Response::Done { request_id });
                }
            }
            Request::RemoteLeave {
                uid,
                request_id,
                sid,
                room,
            } => {
                if let Some(socket) = self.own_socket(&sid) {
                    self.local.del(socket.id(), &room);
                    self.reply(&uid, Response::Done { request_id });
                }
            }
            Request::RemoteDisconnect {
                uid,
                request_id,
                sid,
                close,
            } => {
                if let Some(socket) = self.own_socket(&sid) {
                    self.sockets.disconnect(&[socket], close);
                    self.reply(&uid, Response::Done { request_id });
                }
            }
            Request::FetchSockets {
                uid,
                request_id,
                opts,
            } => {
                let selected = self.sockets.among(self.local.sockets(&opts.into_core()));
                let sockets = selected
                    .iter()
                    .map(|s| RemoteSocket::of(s, self.local.socket_rooms(s.id())))
                    .collect();
                self.reply(
                    &uid,
                    Response::FetchSockets {
                        request_id,
                        sockets,
                    },
                );
            }
            Request::ServerSideEmit {
                request_id, data, ..
            } => {
                let Some(event) = data.first().and_then(Value::as_str) else {
                    return tracing::debug!("server-side emit without an event name ignored");
                };
                let Some(answer) = self.sockets.server_event(event, args_from_node(&data[1..]))
                else {
                    return;
                };
                let this = self.this();
                tokio::spawn(async move {
                    let ack = answer.await;
                    if let Some(request_id) = request_id {
                        let data = args_to_node(&ack).into_iter().next();
                        // Always on the shared channel, as Node does.
                        this.shared.publish(
                            this.channels.response().to_owned(),
                            Response::ServerSideEmit { request_id, data }.encode(),
                        );
                    }
                });
            }
            Request::BroadcastWithAck {
                uid,
                request_id,
                packet,
                opts,
            } => {
                let timeout = opts
                    .flags
                    .as_ref()
                    .and_then(BroadcastFlags::timeout_ms)
                    .map_or(self.shared.config.request_timeout, Duration::from_millis);
                let Some(encoded) = self.event_packet(&packet) else {
                    return;
                };
                let selected = self.sockets.among(self.local.sockets(&opts.into_core()));
                self.reply(
                    &uid,
                    Response::BroadcastClientCount {
                        request_id: request_id.clone(),
                        client_count: selected.len() as u64,
                    },
                );
                for socket in &selected {
                    let answer = self.sockets.request_ack(socket, &encoded, timeout);
                    let (this, uid, request_id) = (self.this(), uid.clone(), request_id.clone());
                    tokio::spawn(async move {
                        if let Ok(args) = answer.await {
                            let packet = args_to_node(&args).into_iter().next();
                            this.reply(&uid, Response::BroadcastAck { request_id, packet });
                        }
                    });
                }
            }
        }
    }

    fn own_socket(&self, sid: &str) -> Option<SocketRef> {
        self.sockets.get(sid.parse().ok()?)
    }

    /// Publishes a request and gathers answers from `expected` nodes: `on` takes each answer
    /// and says whether it was one (a node's last).
    async fn gather(
        &self,
        request: impl FnOnce(String) -> Request,
        expected: usize,
        timeout: Duration,
        mut on: impl FnMut(Response) -> bool,
    ) {
        let (id, mut answers, _guard) = self.request();
        self.publish_request(&request(id));
        let deadline = tokio::time::Instant::now() + timeout;
        let mut done = 0;
        while done < expected {
            match tokio::time::timeout_at(deadline, answers.recv()).await {
                Ok(Some(answer)) => {
                    if on(answer) {
                        done += 1;
                    }
                }
                Ok(None) | Err(_) => {
                    tracing::debug!(
                        nsp = self.nsp,
                        answered = done,
                        expected,
                        "request timed out: silent nodes left out"
                    );
                    break;
                }
            }
        }
    }
}

impl Drop for RedisAdapter {
    fn drop(&mut self) {
        self.leave();
    }
}

impl RedisAdapter {
    /// Leaves the cluster for this namespace (once): unsubscribes its channels.
    fn leave(&self) {
        if self.closed.swap(true, std::sync::atomic::Ordering::AcqRel) {
            return;
        }
        let channels: Vec<String> = self.subscribed().into_iter().map(|(c, _)| c).collect();
        let pattern = self.channels.broadcast_pattern();
        if let Ok(mut router) = self.shared.router.lock() {
            for channel in &channels {
                router.channels.remove(channel);
            }
            router.patterns.remove(&pattern);
        }
        let _ = self.shared.subs.send(Sub::Unsubscribe(channels));
        let _ = self.shared.subs.send(Sub::PUnsubscribe(pattern));
    }
}

/// Removes a request from the pending table when its gathering ends.
struct PendingGuard {
    adapter: Arc<RedisAdapter>,
    id: String,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.adapter.pending.lock().unwrap().remove(&self.id);
    }
}

impl Adapter for RedisAdapter {
    /// Leaves the cluster for this namespace, as socket.io's adapters do in `close()` on
    /// `io.close()` (the same happens when the adapter is dropped).
    fn close(&self) -> BoxFuture<()> {
        self.leave();
        Box::pin(std::future::ready(()))
    }

    fn add_all(&self, sid: Sid, rooms: &[&str]) {
        self.local.add_all(sid, rooms);
    }

    fn del(&self, sid: Sid, room: &str) {
        self.local.del(sid, room);
    }

    fn del_all(&self, sid: Sid) {
        self.local.del_all(sid);
    }

    fn socket_rooms(&self, sid: Sid) -> Vec<String> {
        self.local.socket_rooms(sid)
    }

    fn sockets(&self, opts: &CoreOptions) -> Vec<Sid> {
        self.local.sockets(opts)
    }

    fn rooms(&self) -> Vec<String> {
        self.local.rooms()
    }

    fn broadcast(&self, packet: &EncodedPacket, opts: &CoreOptions) {
        if !opts.flags.local {
            match packet.parts() {
                Ok(parts) => {
                    let mut data = Vec::with_capacity(parts.event.len() + 64);
                    write_event_data(&mut data, &parts.event, &parts.args);
                    let payload = super::wire::encode_event_broadcast(
                        &self.uid,
                        &self.nsp,
                        &data,
                        &BroadcastOptions::from_core(opts, Some(BroadcastFlags::of(opts))),
                    );
                    self.shared
                        .publish(self.channels.broadcast_for(&opts.rooms), payload);
                }
                Err(err) => tracing::error!(%err, "broadcast not published to the cluster"),
            }
        }
        self.local.broadcast(packet, opts);
    }

    fn broadcast_with_ack(
        &self,
        packet: &EncodedPacket,
        opts: &CoreOptions,
        timeout: Duration,
    ) -> BoxFuture<AckAnswers> {
        let local = self.local.broadcast_with_ack(packet, opts, timeout);
        if opts.flags.local {
            return local;
        }
        let Some((node_packet, wire_opts)) =
            cluster_adapter::ack_broadcast_parts(&self.nsp, packet, opts, timeout)
        else {
            return local;
        };
        let this = self.this();
        Box::pin(async move {
            let remote = async {
                let nodes = this.count().await.saturating_sub(1);
                if nodes == 0 {
                    return AckAnswers::new();
                }
                let uid = this.uid.clone();
                let (id, mut rx, _guard) = this.request();
                this.publish_request(&Request::BroadcastWithAck {
                    uid,
                    request_id: id,
                    packet: node_packet,
                    opts: wire_opts,
                });
                gather_remote_acks(nodes, timeout, &mut rx, |msg| match msg {
                    Response::BroadcastClientCount { client_count, .. } => {
                        AckReport::ClientCount(client_count)
                    }
                    Response::BroadcastAck { packet, .. } => AckReport::Ack(ack_args(packet)),
                    _ => AckReport::Other,
                })
                .await
            };
            let (mut answers, remote) = tokio::join!(local, remote);
            answers.extend(remote);
            answers
        })
    }

    fn add_sockets(&self, opts: &CoreOptions, rooms: &[String]) {
        if !opts.flags.local {
            self.publish_request(&Request::SocketsJoin {
                uid: Some(self.uid.clone()),
                opts: BroadcastOptions::from_core(opts, None),
                rooms: rooms.to_vec(),
            });
        }
        self.local.add_sockets(opts, rooms);
    }

    fn del_sockets(&self, opts: &CoreOptions, rooms: &[String]) {
        if !opts.flags.local {
            self.publish_request(&Request::SocketsLeave {
                uid: Some(self.uid.clone()),
                opts: BroadcastOptions::from_core(opts, None),
                rooms: rooms.to_vec(),
            });
        }
        self.local.del_sockets(opts, rooms);
    }

    fn disconnect_sockets(&self, opts: &CoreOptions, close: bool) {
        if !opts.flags.local {
            self.publish_request(&Request::DisconnectSockets {
                uid: Some(self.uid.clone()),
                opts: BroadcastOptions::from_core(opts, None),
                close,
            });
        }
        self.local.disconnect_sockets(opts, close);
    }

    fn fetch_sockets(&self, opts: &CoreOptions) -> BoxFuture<Vec<SocketInfo>> {
        let local = self.local.fetch_sockets(opts);
        if opts.flags.local {
            return local;
        }
        let this = self.this();
        let wire_opts = BroadcastOptions::from_core(opts, None);
        Box::pin(async move {
            let mut all = local.await;
            let nodes = this.count().await.saturating_sub(1);
            if nodes == 0 {
                return all;
            }
            let uid = this.uid.clone();
            let nsp = this.nsp.clone();
            this.gather(
                |request_id| Request::FetchSockets {
                    uid,
                    request_id,
                    opts: wire_opts,
                },
                nodes,
                this.shared.config.request_timeout,
                |answer| match answer {
                    Response::FetchSockets { sockets, .. } => {
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

    fn all_rooms(&self) -> BoxFuture<Vec<String>> {
        let this = self.this();
        Box::pin(async move {
            let mut rooms: BTreeSet<String> = this.local.rooms().into_iter().collect();
            let nodes = this.count().await.saturating_sub(1);
            if nodes > 0 {
                let uid = this.uid.clone();
                this.gather(
                    |request_id| Request::AllRooms { uid, request_id },
                    nodes,
                    this.shared.config.request_timeout,
                    |answer| match answer {
                        Response::AllRooms { rooms: theirs, .. } => {
                            rooms.extend(theirs);
                            true
                        }
                        _ => false,
                    },
                )
                .await;
            }
            rooms.into_iter().collect()
        })
    }

    fn server_side_emit(
        &self,
        event: &str,
        args: Args,
        timeout: Option<Duration>,
    ) -> BoxFuture<Result<Vec<Args>, AdapterError>> {
        let mut data = vec![Value::from(event)];
        data.extend(args_to_node(&args));
        let this = self.this();
        let Some(timeout) = timeout else {
            this.publish_request(&Request::ServerSideEmit {
                uid: this.uid.clone(),
                request_id: None,
                data,
            });
            return Box::pin(std::future::ready(Ok(Vec::new())));
        };
        Box::pin(async move {
            let nodes = this.count().await.saturating_sub(1);
            let mut acks = Vec::new();
            if nodes == 0 {
                return Ok(acks);
            }
            let uid = this.uid.clone();
            this.gather(
                |request_id| Request::ServerSideEmit {
                    uid,
                    request_id: Some(request_id),
                    data,
                },
                nodes,
                timeout,
                |answer| match answer {
                    Response::ServerSideEmit { data, .. } => {
                        acks.push(args_from_node(data.as_slice()));
                        true
                    }
                    _ => false,
                },
            )
            .await;
            Ok(acks)
        })
    }

    fn server_count(&self) -> BoxFuture<usize> {
        let this = self.this();
        Box::pin(async move { this.count().await.max(1) })
    }

    fn persist_session(&self, session: Session) {
        self.local.persist_session(session);
    }

    fn restore_session(&self, pid: &str, offset: &str) -> BoxFuture<Option<RestoredSession>> {
        self.local.restore_session(pid, offset)
    }
}

/// Publishes queued messages in order with `command` (`PUBLISH` or `SPUBLISH`), a pipeline of
/// whatever is waiting at a time (on a cluster, see [`Commands::publish_batch`]); a failed batch is retried once on a new connection, then
/// dropped (logged).
pub(super) async fn run_publisher(
    client: RedisClient,
    name: String,
    conn: Commands,
    mut queued: mpsc::Receiver<(String, Vec<u8>)>,
    command: &'static str,
) {
    let mut conn = Some(conn);
    let mut batch = Vec::new();
    while queued.recv_many(&mut batch, 256).await > 0 {
        let mut sent = false;
        for _attempt in 0..2 {
            if conn.is_none() {
                match connect(&client, &name).await {
                    Ok(c) => conn = Some(c),
                    Err(err) => {
                        tracing::warn!(%err, "redis adapter: cannot connect to publish");
                        continue;
                    }
                }
            }
            let c = conn.as_mut().expect("connected above");
            match c.publish_batch(command, &batch).await {
                Ok(()) => {
                    sent = true;
                    break;
                }
                Err(err) => {
                    tracing::warn!(%err, "redis adapter: publish failed, retrying on a new connection");
                    conn = None;
                }
            }
        }
        if !sent {
            tracing::warn!(lost = batch.len(), "redis adapter: messages not published");
        }
        batch.clear();
    }
}

/// Owns the subscription connection: applies (un)subscribe commands, routes messages to the
/// namespace adapters, and reconnects (resubscribing everything the router knows) when
/// Redis drops the connection. Ends when every adapter and the factory are gone.
async fn run_subscriber(
    client: redis::Client,
    name: String,
    first: redis::aio::PubSub,
    router: Arc<Mutex<Router>>,
    mut subs: mpsc::UnboundedReceiver<Sub>,
) {
    let mut next = Some(first);
    let mut reconnect = Reconnect::new(MIN_BACKOFF, MAX_BACKOFF);
    loop {
        let pubsub = match next.take() {
            Some(p) => p,
            None => {
                if subs.is_closed() {
                    return;
                }
                reconnect.pace().await;
                match named_pubsub(&client, &name).await {
                    Ok(p) => p,
                    Err(err) => {
                        tracing::warn!(%err, "redis adapter: reconnecting the subscription failed");
                        continue;
                    }
                }
            }
        };
        let (mut sink, mut stream) = pubsub.split();
        let (channels, patterns): (Vec<String>, Vec<String>) = {
            let r = router.lock().unwrap();
            (
                r.channels.keys().cloned().collect(),
                r.patterns.keys().cloned().collect(),
            )
        };
        // Patterns (broadcasts) first: once the request channel is back, Node counts this node
        // again (`PUBSUB NUMSUB`), and it then gets broadcasts too.
        let restored = async {
            if !patterns.is_empty() {
                sink.psubscribe(&patterns).await?;
            }
            if !channels.is_empty() {
                sink.subscribe(&channels).await?;
            }
            Ok::<_, redis::RedisError>(())
        }
        .await;
        if let Err(err) = restored {
            tracing::warn!(%err, "redis adapter: resubscribing failed");
            continue;
        }
        if !channels.is_empty() || !patterns.is_empty() {
            tracing::info!("redis adapter: subscription restored");
        }
        let up = tokio::time::Instant::now();
        loop {
            tokio::select! {
                sub = subs.recv() => {
                    let Some(sub) = sub else { return };
                    let result = match sub {
                        Sub::Subscribe(c) => sink.subscribe(c).await,
                        Sub::PSubscribe(p) => sink.psubscribe(p).await,
                        Sub::Unsubscribe(c) => sink.unsubscribe(c).await,
                        Sub::PUnsubscribe(p) => sink.punsubscribe(p).await,
                    };
                    if let Err(err) = result {
                        tracing::warn!(%err, "redis adapter: subscription lost, reconnecting");
                        break;
                    }
                }
                msg = stream.next() => {
                    let Some(msg) = msg else {
                        tracing::warn!("redis adapter: subscription lost, reconnecting");
                        break;
                    };
                    dispatch(&router, &msg);
                }
            }
        }
        reconnect.lost(up);
    }
}

fn dispatch(router: &Mutex<Router>, msg: &redis::Msg) {
    let channel = msg.get_channel_name();
    if msg.from_pattern() {
        let Ok(pattern) = msg.get_pattern::<String>() else {
            return;
        };
        let adapter = router
            .lock()
            .unwrap()
            .patterns
            .get(&pattern)
            .and_then(Weak::upgrade);
        if let Some(adapter) = adapter {
            adapter.on_broadcast(channel, msg.get_payload_bytes());
        }
    } else {
        let found = router
            .lock()
            .unwrap()
            .channels
            .get(channel)
            .and_then(|(route, a)| Some((*route, a.upgrade()?)));
        match found {
            Some((Route::Request, adapter)) => adapter.on_request(msg.get_payload_bytes()),
            Some((Route::Response, adapter)) => adapter.on_response(msg.get_payload_bytes()),
            None => {}
        }
    }
}
