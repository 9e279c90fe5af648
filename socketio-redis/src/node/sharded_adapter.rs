//! [`ShardedRedisAdapter`]: a socketio-core [`Adapter`] that is a node of a Node
//! `@socket.io/redis-adapter` 8.x `createShardedAdapter` cluster (Redis 7 sharded pub/sub), on
//! the [module's codec](super).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use socketio_core::adapter::{
    AckAnswers, Adapter, AdapterError, BroadcastOptions as CoreOptions, EncodedPacket,
    LocalSockets, RestoredSession, Session, SocketInfo,
};
use socketio_core::{Args, BoxFuture, Sid};
use tokio::sync::mpsc;

use super::adapter::{connect, pubsub_count, run_publisher, OUTBOX};
use super::{ClusterBody, ClusterMessage, ShardedChannels, SubscriptionMode, DEFAULT_PREFIX};
use crate::connection::{named_stream, subscriber, Commands, RedisClient, Subscriber};
use crate::subscription::{run_cluster_subscriber, run_sharded_subscriber, SubCommand};
use socketio_core::node_compat::cluster_adapter::{self, ClusterAdapterCore, ClusterTransport};

/// Settings of a [`ShardedRedisAdapter`] cluster, as `createShardedAdapter(pub, sub, opts)`'s
/// options.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShardedRedisAdapterConfig {
    /// The channel prefix (`channelPrefix`; default `"socket.io"`): every node of a cluster
    /// uses the same.
    pub channel_prefix: String,
    /// `subscriptionMode` (default [`SubscriptionMode::Dynamic`], as Node). Every node of a
    /// cluster must use the same: a node publishes a single-room broadcast on the room's own
    /// channel in the dynamic modes.
    pub subscription_mode: SubscriptionMode,
    /// How long `fetch_sockets` and `all_rooms` wait for the other nodes (Node's fixed 5 s). A
    /// node that has not answered by then is left out (Node fails the whole call instead).
    /// Also the ack timeout of a Node broadcast with acks that carries none.
    pub request_timeout: Duration,
    /// The `CLIENT SETNAME` prefix of this server's Redis connections: `{name}-pub`,
    /// `{name}-sub`, `{name}-cmd`. Default `None`: `socketio-rs-<16 hex digits>`.
    pub connection_name: Option<String>,
}

impl Default for ShardedRedisAdapterConfig {
    fn default() -> Self {
        ShardedRedisAdapterConfig {
            channel_prefix: DEFAULT_PREFIX.to_owned(),
            subscription_mode: SubscriptionMode::Dynamic,
            request_timeout: Duration::from_secs(5),
            connection_name: None,
        }
    }
}

enum Sub {
    Subscribe(Vec<String>),
    Unsubscribe(Vec<String>),
}

impl Sub {
    fn into_command(self) -> Option<SubCommand> {
        Some(match self {
            Sub::Subscribe(c) => SubCommand::SSubscribe(c),
            Sub::Unsubscribe(c) => SubCommand::SUnsubscribe(c),
        })
    }
}

/// The connections shared by the adapters of every namespace of one server.
struct Shared {
    config: ShardedRedisAdapterConfig,
    name: String,
    client: RedisClient,
    outbox: mpsc::Sender<(String, Vec<u8>)>,
    subs: mpsc::UnboundedSender<Sub>,
    /// Which namespace adapter each subscribed shard channel belongs to.
    router: Arc<Mutex<HashMap<String, Weak<ShardedRedisAdapter>>>>,
    commands: tokio::sync::Mutex<Option<Commands>>,
}

impl Shared {
    fn publish(&self, channel: String, payload: Vec<u8>) {
        if self.outbox.try_send((channel, payload)).is_err() {
            tracing::warn!("sharded redis adapter outbox full or closed: message dropped");
        }
    }
}

/// The adapter of one namespace on a Node `createShardedAdapter` cluster (Redis 7 sharded
/// pub/sub: `SSUBSCRIBE`/`SPUBLISH`, which also work on a standalone Redis 7).
///
/// ```no_run
/// # async fn run() -> Result<(), redis::RedisError> {
/// use socketio_redis::node::{ShardedRedisAdapter, ShardedRedisAdapterConfig};
/// let client = redis::Client::open("redis://127.0.0.1:6379")?;
/// let factory = ShardedRedisAdapter::factory(client, ShardedRedisAdapterConfig::default()).await?;
/// let io = socketio_core::SocketIo::builder().adapter(factory).build();
/// # Ok(()) }
/// ```
///
/// As Node's `ShardedRedisAdapter` (on socket.io-adapter's `ClusterAdapter`): each namespace's
/// adapter has a uid of 16 hex digits and `SSUBSCRIBE`s `{prefix}#{nsp}#` (every message;
/// its `PUBSUB SHARDNUMSUB` count is the node count) and `{prefix}#{nsp}#{uid}#` (answers to
/// its requests), plus, in the dynamic modes, `{prefix}#{nsp}#{room}#` while this node has
/// sockets in a room (not socket-id rooms in `Dynamic`).
///
/// * `broadcast`, `add_sockets`, `del_sockets`, `disconnect_sockets` apply here at once and
///   are published (unless `local`); every node skips its own messages.
/// * `fetch_sockets`, `all_rooms` and acked `server_side_emit` count the nodes with
///   `SHARDNUMSUB` and wait for `count - 1` answers. The sharded protocol has no "all rooms"
///   request: `all_rooms` returns this node's rooms only. A node that stays silent is left
///   out after [`ShardedRedisAdapterConfig::request_timeout`] (the server-side emit: its
///   timeout).
/// * `broadcast_with_ack` waits for every node's client count and the acks, at most the ack
///   timeout; remote answers get fresh [`Sid`]s (Node's acks carry no socket id).
/// * Server-side events of other nodes go to `on_server_event` handlers; JSON messages carry
///   binary as `{"type":"Buffer","data":[..]}`, msgpack ones (when the data holds binary) as
///   binary.
///
/// The subscription is one raw RESP2 connection per server (redis-rs has no `SSUBSCRIBE` on
/// a standalone connection); it reconnects like [`super::RedisAdapter`]'s and resubscribes
/// every shard channel. TCP and Unix-socket Redis addresses only (no TLS), and a standalone
/// Redis or a single shard: channels are not routed to cluster shards.
pub struct ShardedRedisAdapter {
    me: Weak<ShardedRedisAdapter>,
    /// Set by `close` (or the drop): the namespace left the cluster.
    closed: std::sync::atomic::AtomicBool,
    shared: Arc<Shared>,
    /// The protocol state: uid, namespace, sockets, requests waiting for answers.
    core: ClusterAdapterCore,
    channels: ShardedChannels,
    /// Rooms whose own channel is subscribed (dynamic modes).
    room_channels: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for ShardedRedisAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShardedRedisAdapter")
            .field("uid", &self.core.uid())
            .field("nsp", &self.core.nsp())
            .field("prefix", &self.shared.config.channel_prefix)
            .finish()
    }
}

impl ShardedRedisAdapter {
    /// Connects to Redis, a single Redis 7 server or a Redis Cluster ([`RedisClient`]; a
    /// [`redis::Client`] converts), with publishing and subscription connections (on a single
    /// server named after [`ShardedRedisAdapterConfig::connection_name`]), and returns the
    /// factory to give to [`socketio_core::SocketIoBuilder::adapter`]. On a cluster each
    /// channel's `SSUBSCRIBE` and `SPUBLISH` go to the primary owning its hash slot.
    ///
    /// # Errors
    /// When Redis cannot be reached, or a single server's address is neither TCP nor a Unix
    /// socket.
    pub async fn factory(
        client: impl Into<RedisClient>,
        config: ShardedRedisAdapterConfig,
    ) -> redis::RedisResult<impl Fn(LocalSockets) -> Arc<ShardedRedisAdapter> + Send + Sync + 'static>
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
        let router = Arc::new(Mutex::new(HashMap::new()));
        match subscriber(&client).await? {
            Subscriber::Standalone(standalone) => {
                let stream = named_stream(standalone, &sub_name)
                    .await?
                    .ok_or_else(crate::connection::sharded_unsupported)?;
                let (wanted, router) = (router.clone(), router.clone());
                tokio::spawn(run_sharded_subscriber(
                    "sharded redis adapter",
                    standalone.clone(),
                    sub_name,
                    stream,
                    sub_rx,
                    Sub::into_command,
                    move || wanted.lock().unwrap().keys().cloned().collect(),
                    move |channel, payload| route(&router, channel, payload),
                ));
            }
            Subscriber::Cluster(conn, pushes) => {
                let router = router.clone();
                tokio::spawn(run_cluster_subscriber(
                    "sharded redis adapter",
                    conn,
                    pushes,
                    sub_rx,
                    Sub::into_command,
                    move |msg| route(&router, msg.get_channel_name(), msg.get_payload_bytes()),
                ));
            }
        }
        tokio::spawn(run_publisher(
            client.clone(),
            pub_name,
            publisher,
            queued,
            "SPUBLISH",
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
        Ok(move |sockets: LocalSockets| ShardedRedisAdapter::new(shared.clone(), sockets))
    }

    fn new(shared: Arc<Shared>, sockets: LocalSockets) -> Arc<ShardedRedisAdapter> {
        let nsp = sockets.nsp().to_owned();
        let channels = ShardedChannels::new(&shared.config.channel_prefix, &nsp);
        let adapter = Arc::new_cyclic(|me| ShardedRedisAdapter {
            me: me.clone(),
            closed: std::sync::atomic::AtomicBool::new(false),
            shared: shared.clone(),
            core: ClusterAdapterCore::new(sockets, shared.config.request_timeout),
            channels,
            room_channels: Mutex::default(),
        });
        adapter.subscribe(vec![
            adapter.channels.main().to_owned(),
            adapter.channels.response(adapter.core.uid()),
        ]);
        adapter
    }

    /// This namespace adapter's uid (16 hex digits), as Node nodes see it in our messages.
    pub fn uid(&self) -> &str {
        self.core.uid()
    }

    fn this(&self) -> Arc<ShardedRedisAdapter> {
        self.me.upgrade().expect("called through an Arc")
    }

    fn subscribe(&self, channels: Vec<String>) {
        {
            let mut router = self.shared.router.lock().unwrap();
            for c in &channels {
                router.insert(c.clone(), self.me.clone());
            }
        }
        let _ = self.shared.subs.send(Sub::Subscribe(channels));
    }

    fn unsubscribe(&self, channels: Vec<String>) {
        if let Ok(mut router) = self.shared.router.lock() {
            for c in &channels {
                router.remove(c);
            }
        }
        let _ = self.shared.subs.send(Sub::Unsubscribe(channels));
    }

    fn is_local_socket_id(&self, room: &str) -> bool {
        room.parse::<Sid>()
            .ok()
            .and_then(|sid| self.core.sockets().get(sid))
            .is_some()
    }

    /// Subscribes the channels of `rooms` that now have local sockets (dynamic modes).
    fn rooms_maybe_created<'a>(&self, rooms: impl IntoIterator<Item = &'a str>) {
        let mode = self.shared.config.subscription_mode;
        if mode == SubscriptionMode::Static {
            return;
        }
        let mut subscribed = self.room_channels.lock().unwrap();
        let mut new = Vec::new();
        for room in rooms {
            if !subscribed.contains(room)
                && ShardedChannels::subscribes_to_room(mode, self.is_local_socket_id(room))
                && self.room_has_sockets(room)
            {
                subscribed.insert(room.to_owned());
                new.push(self.channels.room(room));
            }
        }
        if !new.is_empty() {
            self.subscribe(new);
        }
    }

    /// Unsubscribes the channels of `rooms` that have no local socket left.
    fn rooms_maybe_deleted<'a>(&self, rooms: impl IntoIterator<Item = &'a str>) {
        if self.shared.config.subscription_mode == SubscriptionMode::Static {
            return;
        }
        let mut subscribed = self.room_channels.lock().unwrap();
        let mut gone = Vec::new();
        for room in rooms {
            if subscribed.contains(room) && !self.room_has_sockets(room) {
                subscribed.remove(room);
                gone.push(self.channels.room(room));
            }
        }
        if !gone.is_empty() {
            self.unsubscribe(gone);
        }
    }

    fn room_has_sockets(&self, room: &str) -> bool {
        !self
            .core
            .local()
            .sockets(&CoreOptions {
                rooms: vec![room.to_owned()],
                ..Default::default()
            })
            .is_empty()
    }

    /// The bytes of `msg` as Node's sharded adapter writes them: a broadcast's packet without
    /// `nsp` (the envelope has it).
    fn encode(mut msg: ClusterMessage) -> Vec<u8> {
        if let ClusterBody::Broadcast { packet, .. } = &mut msg.body {
            packet.nsp = None;
        }
        msg.encode()
    }

    async fn count(&self) -> usize {
        let s = &self.shared;
        match pubsub_count(
            &s.commands,
            &s.client,
            &s.name,
            "SHARDNUMSUB",
            self.channels.main(),
        )
        .await
        {
            Ok(n) => n,
            Err(err) => {
                tracing::warn!(%err, nsp = self.core.nsp(), "PUBSUB SHARDNUMSUB failed: counting this node alone");
                1
            }
        }
    }

    // ------------------------------------------------------------ incoming

    fn on_message(&self, payload: &[u8]) {
        let msg = match ClusterMessage::decode(payload) {
            Ok(msg) => msg,
            Err(err) => return tracing::debug!(%err, "undecodable sharded message ignored"),
        };
        if msg.nsp.as_deref() != Some(self.core.nsp()) {
            return;
        }
        // Joins and leaves change which room channels this node listens to.
        let changed = match &msg.body {
            ClusterBody::SocketsJoin { rooms, .. } => Some((true, rooms.clone())),
            ClusterBody::SocketsLeave { rooms, .. } => Some((false, rooms.clone())),
            _ => None,
        };
        cluster_adapter::receive(&self.this(), msg, None);
        match changed {
            Some((true, rooms)) => self.rooms_maybe_created(rooms.iter().map(String::as_str)),
            Some((false, rooms)) => self.rooms_maybe_deleted(rooms.iter().map(String::as_str)),
            None => {}
        }
    }
}

impl Drop for ShardedRedisAdapter {
    fn drop(&mut self) {
        self.leave();
    }
}

impl ShardedRedisAdapter {
    /// Leaves the cluster for this namespace (once): unsubscribes its channels.
    fn leave(&self) {
        if self.closed.swap(true, std::sync::atomic::Ordering::AcqRel) {
            return;
        }
        let mut channels = vec![
            self.channels.main().to_owned(),
            self.channels.response(self.core.uid()),
        ];
        if let Ok(rooms) = self.room_channels.lock() {
            channels.extend(rooms.iter().map(|r| self.channels.room(r)));
        }
        if let Ok(mut router) = self.shared.router.lock() {
            for c in &channels {
                router.remove(c);
            }
        }
        let _ = self.shared.subs.send(Sub::Unsubscribe(channels));
    }
}

impl ClusterTransport for ShardedRedisAdapter {
    fn core(&self) -> &ClusterAdapterCore {
        &self.core
    }

    fn publish(&self, msg: ClusterMessage) {
        let channel = self
            .channels
            .channel_for(&msg, self.shared.config.subscription_mode);
        self.shared.publish(channel, Self::encode(msg));
    }

    fn reply(&self, to: &str, msg: ClusterMessage) {
        self.shared
            .publish(self.channels.response(to), Self::encode(msg));
    }

    fn node_count(&self) -> BoxFuture<usize> {
        let this = self.this();
        Box::pin(async move { this.count().await })
    }
}

impl Adapter for ShardedRedisAdapter {
    /// Leaves the cluster for this namespace, as socket.io's adapters do in `close()` on
    /// `io.close()` (the same happens when the adapter is dropped).
    fn close(&self) -> BoxFuture<()> {
        self.leave();
        Box::pin(std::future::ready(()))
    }

    fn add_all(&self, sid: Sid, rooms: &[&str]) {
        self.core.local().add_all(sid, rooms);
        self.rooms_maybe_created(rooms.iter().copied());
    }

    fn del(&self, sid: Sid, room: &str) {
        self.core.local().del(sid, room);
        self.rooms_maybe_deleted([room]);
    }

    fn del_all(&self, sid: Sid) {
        let rooms = self.core.local().socket_rooms(sid);
        self.core.local().del_all(sid);
        self.rooms_maybe_deleted(rooms.iter().map(String::as_str));
    }

    fn socket_rooms(&self, sid: Sid) -> Vec<String> {
        self.core.local().socket_rooms(sid)
    }

    fn sockets(&self, opts: &CoreOptions) -> Vec<Sid> {
        self.core.local().sockets(opts)
    }

    fn rooms(&self) -> Vec<String> {
        self.core.local().rooms()
    }

    fn broadcast(&self, packet: &EncodedPacket, opts: &CoreOptions) {
        if !opts.flags.local {
            match self.core.broadcast_body(packet, opts) {
                Ok(body) => self.publish(self.core.message(body)),
                Err(err) => tracing::error!(%err, "broadcast not published to the cluster"),
            }
        }
        self.core.local().broadcast(packet, opts);
    }

    fn broadcast_with_ack(
        &self,
        packet: &EncodedPacket,
        opts: &CoreOptions,
        timeout: Duration,
    ) -> BoxFuture<AckAnswers> {
        cluster_adapter::broadcast_with_ack(&self.this(), packet, opts, timeout)
    }

    fn add_sockets(&self, opts: &CoreOptions, rooms: &[String]) {
        cluster_adapter::add_sockets(self, opts, rooms);
        self.rooms_maybe_created(rooms.iter().map(String::as_str));
    }

    fn del_sockets(&self, opts: &CoreOptions, rooms: &[String]) {
        cluster_adapter::del_sockets(self, opts, rooms);
        self.rooms_maybe_deleted(rooms.iter().map(String::as_str));
    }

    fn disconnect_sockets(&self, opts: &CoreOptions, close: bool) {
        cluster_adapter::disconnect_sockets(self, opts, close);
    }

    fn fetch_sockets(&self, opts: &CoreOptions) -> BoxFuture<Vec<SocketInfo>> {
        cluster_adapter::fetch_sockets(&self.this(), opts)
    }

    fn all_rooms(&self) -> BoxFuture<Vec<String>> {
        // The ClusterAdapter protocol has no request for the rooms of other nodes.
        let rooms: BTreeSet<String> = self.core.local().rooms().into_iter().collect();
        Box::pin(std::future::ready(rooms.into_iter().collect()))
    }

    fn server_side_emit(
        &self,
        event: &str,
        args: Args,
        timeout: Option<Duration>,
    ) -> BoxFuture<Result<Vec<Args>, AdapterError>> {
        cluster_adapter::server_side_emit(&self.this(), event, args, timeout)
    }

    fn server_count(&self) -> BoxFuture<usize> {
        let this = self.this();
        Box::pin(async move { this.count().await.max(1) })
    }

    fn persist_session(&self, session: Session) {
        self.core.local().persist_session(session);
    }

    fn restore_session(&self, pid: &str, offset: &str) -> BoxFuture<Option<RestoredSession>> {
        self.core.local().restore_session(pid, offset)
    }
}

/// Hands an `smessage` on `channel` to the namespace adapter subscribed to it.
fn route(
    router: &Mutex<HashMap<String, Weak<ShardedRedisAdapter>>>,
    channel: &str,
    payload: &[u8],
) {
    let adapter = router.lock().unwrap().get(channel).and_then(Weak::upgrade);
    if let Some(adapter) = adapter {
        adapter.on_message(payload);
    }
}
