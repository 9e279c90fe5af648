//! [`RedisStreamsAdapter`]: a socketio-core [`Adapter`] that is a node of a Node
//! `@socket.io/redis-streams-adapter` cluster, on the [module's protocol](super).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use redis::streams::{StreamRangeReply, StreamReadReply};
use socketio_core::adapter::{
    AckAnswers, Adapter, AdapterError, BroadcastOptions as CoreOptions, EncodedPacket,
    LocalSockets, RestoredSession, Session, SocketInfo,
};
use socketio_core::{Args, BoxFuture, Sid};
use tokio::sync::mpsc;

use super::{
    decode_entry, decode_pubsub, decode_session, encode_entry_as, encode_pubsub, encode_session,
    goes_to_stream, next_offset, selects, stream_for, xadd, DEFAULT_MAX_LEN,
};
use crate::connection::{
    connect, named_stream, subscriber, Commands, LazyCommands, RedisClient, RedisStream, Subscriber,
};
use crate::node::{BroadcastFlags, ClusterBody, ClusterMessage, DEFAULT_PREFIX};
use crate::subscription::{run_cluster_subscriber, run_sharded_subscriber, SubCommand};
use socketio_core::node_compat::cluster_adapter::{self, ClusterAdapterCore, ClusterTransport};

/// Settings of a [`RedisStreamsAdapter`], as `createAdapter(redisClient, opts)`'s options (see
/// the [module docs](super) for the table).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisStreamsConfig {
    /// The stream every node of the cluster writes and reads (`streamName`; default
    /// `"socket.io"`), or the streams' common prefix with [`RedisStreamsConfig::stream_count`].
    pub stream_name: String,
    /// How many streams the namespaces are spread over (`streamCount`; default 1). With more
    /// than one, namespace `nsp` writes to `{stream_name}-{i}`, where `i` is JavaScript's
    /// `hashCode(nsp) % stream_count` (the 32-bit `hash * 31 + UTF-16 unit` of Node's
    /// `util.js`), and every node reads each of `{stream_name}-0` to `-{stream_count - 1}` on a
    /// connection of its own (on a Redis Cluster, the streams spread over the primaries). As in
    /// Node 0.3.1, `%` keeps the hash's sign: a namespace whose hash is negative writes to
    /// `{stream_name}--{i}`, which no node reads. 0 counts as 1.
    pub stream_count: usize,
    /// Requests and answers over sharded pub/sub (`SSUBSCRIBE`/`SPUBLISH`, Redis 7) instead of
    /// classic pub/sub, and nodes counted with `PUBSUB SHARDNUMSUB` (`useShardedPubSub`;
    /// default `false`).
    pub use_sharded_pub_sub: bool,
    /// Writes stream entries' `data` as JSON even when it holds binary (`onlyPlaintext`;
    /// default `false`): binary then arrives as `{"type":"Buffer","data":[..]}` objects, as
    /// from Node with this option. Entries of either form are read.
    pub only_plaintext: bool,
    /// The prefix of the pub/sub channels (`channelPrefix`; default `"socket.io"`).
    pub channel_prefix: String,
    /// The approximate length the stream is trimmed to on each write (`maxLen`; default 10 000
    /// entries). Also bounds how far back a session can be restored.
    pub max_len: usize,
    /// Most entries one `XREAD` returns (`readCount`; default 100).
    pub read_count: usize,
    /// How long one `XREAD` blocks (`blockTimeInMs`; default 5 s).
    pub block_time: Duration,
    /// The prefix of session keys (`sessionKeyPrefix`; default `"sio:session:"`).
    pub session_key_prefix: String,
    /// How long `fetch_sockets`, an acked server-side emit and the client counts of an acked
    /// broadcast wait for the other nodes (socket.io-adapter's 5 s default). Also the ack
    /// timeout of a Node broadcast with acks that carries none.
    pub request_timeout: Duration,
    /// How long a persisted session is kept (socket.io's
    /// `connectionStateRecovery.maxDisconnectionDuration`; default 2 minutes): the `PX` of its
    /// key.
    pub max_disconnection_duration: Duration,
    /// The `CLIENT SETNAME` of this server's Redis connections: `{name}-reader` (the stream
    /// reader), `{name}-pub` (writes and commands); default `socketio-streams-<16 hex digits>`.
    pub connection_name: Option<String>,
}

impl RedisStreamsConfig {
    /// The stream namespace `nsp` writes to (see [`RedisStreamsConfig::stream_count`]).
    pub fn stream_for(&self, nsp: &str) -> String {
        stream_for(&self.stream_name, self.stream_count, nsp)
    }

    /// Every stream a node reads: `[stream_name]`, or `{stream_name}-0` to
    /// `-{stream_count - 1}`.
    pub fn streams(&self) -> Vec<String> {
        if self.stream_count <= 1 {
            vec![self.stream_name.clone()]
        } else {
            (0..self.stream_count)
                .map(|i| format!("{}-{i}", self.stream_name))
                .collect()
        }
    }

    fn publish_command(&self) -> &'static str {
        if self.use_sharded_pub_sub {
            "SPUBLISH"
        } else {
            "PUBLISH"
        }
    }
}

impl Default for RedisStreamsConfig {
    fn default() -> Self {
        RedisStreamsConfig {
            stream_name: DEFAULT_PREFIX.to_owned(),
            stream_count: 1,
            use_sharded_pub_sub: false,
            only_plaintext: false,
            channel_prefix: DEFAULT_PREFIX.to_owned(),
            max_len: DEFAULT_MAX_LEN,
            read_count: 100,
            block_time: Duration::from_secs(5),
            session_key_prefix: "sio:session:".to_owned(),
            request_timeout: Duration::from_secs(5),
            max_disconnection_duration: Duration::from_secs(120),
            connection_name: None,
        }
    }
}

/// Most writes waiting to be sent; beyond, new ones are dropped (and logged), so a Redis
/// outage cannot take unbounded memory.
const OUTBOX: usize = 64 * 1024;

/// Longest wait between two reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Most `XRANGE` calls of one session restore (as Node), each of at most [`RANGE_COUNT`]
/// entries.
const MAX_RANGE_CALLS: usize = 100;
const RANGE_COUNT: usize = 1000;

/// Called by the writer with the id of the entry it added (`None` when the write failed), in
/// the order of the writes.
type OnAdded = Box<dyn FnOnce(Option<String>) + Send>;

/// A write, in the order the adapters asked for it.
enum Out {
    /// `XADD` to the stream named first.
    Xadd(String, Vec<(&'static str, String)>, Option<OnAdded>),
    Publish(String, Vec<u8>),
    SetPx(String, String, u64),
}

/// Which namespace adapter each channel and namespace belongs to.
#[derive(Default)]
struct Router {
    channels: HashMap<String, Weak<RedisStreamsAdapter>>,
    namespaces: HashMap<String, Weak<RedisStreamsAdapter>>,
}

enum Sub {
    Subscribe(Vec<String>),
    Unsubscribe(Vec<String>),
}

/// What the adapters of every namespace of one server share.
struct Shared {
    config: RedisStreamsConfig,
    name: String,
    client: RedisClient,
    outbox: mpsc::Sender<Out>,
    subs: mpsc::UnboundedSender<Sub>,
    router: Arc<Mutex<Router>>,
    /// For `PUBSUB NUMSUB`, `XRANGE`, `GET`/`DEL`; reconnected on the next use after a failure.
    commands: LazyCommands,
}

impl Shared {
    fn send(&self, out: Out) {
        if let Err(err) = self.outbox.try_send(out) {
            tracing::warn!("redis streams adapter: outbox full or closed, message dropped");
            if let Out::Xadd(_, _, Some(on_added)) = err.into_inner() {
                on_added(None);
            }
        }
    }
}

/// The adapter of one namespace on a Node `@socket.io/redis-streams-adapter` 0.3 cluster: Node
/// servers and ours share rooms, broadcasts, requests and sessions on one Redis stream (see
/// the [module docs](super) for the protocol).
///
/// ```no_run
/// # async fn run() -> Result<(), redis::RedisError> {
/// use socketio_redis::streams::{RedisStreamsAdapter, RedisStreamsConfig};
/// let client = redis::Client::open("redis://127.0.0.1:6379")?;
/// let factory = RedisStreamsAdapter::factory(client, RedisStreamsConfig::default()).await?;
/// let io = socketio_core::SocketIo::builder().adapter(factory).build();
/// # Ok(()) }
/// ```
///
/// One server (all its namespaces) uses three Redis connections: a reader blocked in
/// `XREAD` (its own, named `{connection_name}-reader`), a pub/sub subscription, and one for
/// writes and commands (`{connection_name}-pub`).
///
/// * Rooms and sockets of this node are kept by a wrapped [`LocalAdapter`](socketio_core::adapter::LocalAdapter).
/// * `broadcast`, `add_sockets`, `del_sockets` and `disconnect_sockets` apply to this node at
///   once and are appended to the stream (unless `local`), in call order.
/// * `fetch_sockets`, acked `server_side_emit` and `broadcast_with_ack` count the nodes with
///   `PUBSUB NUMSUB` and wait for `count - 1` answers ([`RedisStreamsConfig::request_timeout`]
///   at most for the first two; the ack timeout for the acks); a node that dies stops being
///   counted as soon as Redis sees its connections close. Node's acks carry no socket id: each
///   remote answer gets a fresh [`Sid`] that names no socket.
/// * `all_rooms` is this node's rooms: the protocol has no message for it (as Node's).
/// * Server-side events of other nodes go to [`socketio_core::Namespace::on_server_event`]
///   handlers; the answer to an acked one is the handler's first argument.
/// * Sessions are stored in Redis as Node stores them, and with the server's
///   `connection_state_recovery` broadcasts carry their stream entry id as offset, so a client
///   recovers on any node, Node's or ours (see the module docs).
///
/// The reader resumes `XREAD` from the last entry it read after Redis drops its connection
/// (growing delay up to 5 s, logged), so entries written meanwhile are read, not lost. The
/// subscription reconnects the same way (ephemeral messages published meanwhile are lost,
/// as with any pub/sub). A write that fails is retried once on a new connection, then dropped
/// and logged.
pub struct RedisStreamsAdapter {
    me: Weak<RedisStreamsAdapter>,
    /// Set by `close` (or the drop): the namespace left the cluster.
    closed: std::sync::atomic::AtomicBool,
    shared: Arc<Shared>,
    /// The protocol state: uid, namespace, sockets, requests waiting for answers.
    core: ClusterAdapterCore,
    /// The stream this namespace writes to ([`RedisStreamsConfig::stream_for`]).
    stream: String,
    public: String,
    private: String,
}

impl std::fmt::Debug for RedisStreamsAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStreamsAdapter")
            .field("uid", &self.core.uid())
            .field("nsp", &self.core.nsp())
            .field("stream", &self.shared.config.stream_name)
            .finish()
    }
}

/// The adapter's subscription connection, opened before its tasks start: pub/sub or sharded
/// pub/sub on one server, or a cluster connection.
enum Subscription {
    PubSub(redis::Client, redis::aio::PubSub),
    Sharded(redis::Client, Box<dyn RedisStream>),
    Cluster(
        redis::cluster_async::ClusterConnection,
        mpsc::UnboundedReceiver<redis::PushInfo>,
    ),
}

impl RedisStreamsAdapter {
    /// Connects to Redis (writer and subscription now, so a misconfiguration fails here), finds
    /// the stream's last entry (reading starts after it), starts the reader, and returns the
    /// factory to give to [`socketio_core::SocketIoBuilder::adapter`].
    ///
    /// # Errors
    /// When Redis cannot be reached.
    pub async fn factory(
        client: impl Into<RedisClient>,
        config: RedisStreamsConfig,
    ) -> redis::RedisResult<impl Fn(LocalSockets) -> Arc<RedisStreamsAdapter> + Send + Sync + 'static>
    {
        let client = client.into();
        let name = config
            .connection_name
            .clone()
            .unwrap_or_else(|| format!("socketio-streams-{}", cluster_adapter::random_id()));
        let mut writer = connect(&client, Some(&format!("{name}-pub")), None).await?;
        // Each stream is read from its last entry on.
        let mut readers = Vec::new();
        for stream in config.streams() {
            let last: StreamRangeReply = redis::cmd("XREVRANGE")
                .arg(&stream)
                .arg("+")
                .arg("-")
                .arg("COUNT")
                .arg(1)
                .query_async(&mut writer)
                .await?;
            let last_id = last
                .ids
                .first()
                .map_or_else(|| "0-0".to_owned(), |e| e.id.clone());
            readers.push((stream, last_id));
        }
        let sub_name = format!("{name}-sub");
        // Every subscription connection is opened before any task starts.
        let subscription = match subscriber(&client).await? {
            Subscriber::Standalone(standalone) if config.use_sharded_pub_sub => {
                Subscription::Sharded(
                    standalone.clone(),
                    named_stream(standalone, &sub_name)
                        .await?
                        .ok_or_else(crate::connection::sharded_unsupported)?,
                )
            }
            Subscriber::Standalone(standalone) => {
                Subscription::PubSub(standalone.clone(), standalone.get_async_pubsub().await?)
            }
            Subscriber::Cluster(conn, pushes) => Subscription::Cluster(conn, pushes),
        };
        let (outbox, queued) = mpsc::channel(OUTBOX);
        let (subs, sub_rx) = mpsc::unbounded_channel();
        let router = Arc::new(Mutex::new(Router::default()));
        let pub_name = format!("{name}-pub");
        let shared = Arc::new(Shared {
            config,
            name,
            client: client.clone(),
            outbox,
            subs,
            router: router.clone(),
            commands: LazyCommands::new(client.clone(), Some(pub_name)),
        });
        tokio::spawn(run_writer(
            client.clone(),
            writer,
            shared.config.max_len,
            shared.config.publish_command(),
            format!("{}-pub", shared.name),
            queued,
        ));
        let sharded = shared.config.use_sharded_pub_sub;
        // Turns an adapter's change into the subscription command, at the time it is applied.
        let wanted = router.clone();
        let command = move |sub: Sub| match sub {
            Sub::Subscribe(c) if sharded => Some(SubCommand::SSubscribe(c)),
            Sub::Subscribe(c) => Some(SubCommand::Subscribe(c)),
            Sub::Unsubscribe(c) => {
                let gone = still_unwanted(&wanted, c);
                (!gone.is_empty()).then_some(if sharded {
                    SubCommand::SUnsubscribe(gone)
                } else {
                    SubCommand::Unsubscribe(gone)
                })
            }
        };
        match subscription {
            Subscription::PubSub(standalone, pubsub) => {
                tokio::spawn(run_subscriber(standalone, pubsub, router.clone(), sub_rx));
            }
            Subscription::Sharded(standalone, stream) => {
                let (channels, router) = (router.clone(), router.clone());
                tokio::spawn(run_sharded_subscriber(
                    "redis streams adapter",
                    standalone,
                    sub_name,
                    stream,
                    sub_rx,
                    command,
                    move || channels.lock().unwrap().channels.keys().cloned().collect(),
                    move |channel, payload| on_payload(&router, channel, payload),
                ));
            }
            Subscription::Cluster(conn, pushes) => {
                let router = router.clone();
                tokio::spawn(run_cluster_subscriber(
                    "redis streams adapter",
                    conn,
                    pushes,
                    sub_rx,
                    command,
                    move |msg| on_payload(&router, msg.get_channel_name(), msg.get_payload_bytes()),
                ));
            }
        }
        for (stream, last_id) in readers {
            tokio::spawn(run_reader(
                Arc::downgrade(&shared),
                router.clone(),
                stream,
                last_id,
            ));
        }
        Ok(move |sockets: LocalSockets| RedisStreamsAdapter::new(shared.clone(), sockets))
    }

    fn new(shared: Arc<Shared>, sockets: LocalSockets) -> Arc<RedisStreamsAdapter> {
        let nsp = sockets.nsp().to_owned();
        let core = ClusterAdapterCore::new(sockets, shared.config.request_timeout);
        let uid = core.uid().to_owned();
        let prefix = &shared.config.channel_prefix;
        let public = format!("{prefix}#{nsp}#");
        let private = format!("{prefix}#{nsp}#{uid}#");
        let adapter = Arc::new_cyclic(|me| RedisStreamsAdapter {
            me: me.clone(),
            closed: std::sync::atomic::AtomicBool::new(false),
            shared: shared.clone(),
            core,
            stream: shared.config.stream_for(&nsp),
            public: public.clone(),
            private: private.clone(),
        });
        {
            let mut router = shared.router.lock().unwrap();
            for channel in [&public, &private] {
                router
                    .channels
                    .insert(channel.clone(), Arc::downgrade(&adapter));
            }
            router.namespaces.insert(nsp, Arc::downgrade(&adapter));
        }
        let _ = shared.subs.send(Sub::Subscribe(vec![public, private]));
        adapter
    }

    /// This namespace adapter's uid (16 hex digits), as other nodes see it in our messages.
    pub fn uid(&self) -> &str {
        self.core.uid()
    }

    fn this(&self) -> Arc<RedisStreamsAdapter> {
        self.me.upgrade().expect("called through an Arc")
    }

    fn entry(&self, msg: &ClusterMessage) -> Vec<(&'static str, String)> {
        encode_entry_as(msg, self.shared.config.only_plaintext)
    }

    /// Sends a message to the other nodes: on the stream or on the public channel.
    fn send_to_all(&self, msg: ClusterMessage) {
        if goes_to_stream(&msg) {
            self.shared
                .send(Out::Xadd(self.stream.clone(), self.entry(&msg), None));
        } else {
            self.shared
                .send(Out::Publish(self.public.clone(), encode_pubsub(&msg)));
        }
    }

    /// Answers node `to` on its own channel.
    fn send_to(&self, to: &str, msg: ClusterMessage) {
        let channel = format!(
            "{}#{}#{}#",
            self.shared.config.channel_prefix,
            self.core.nsp(),
            to
        );
        self.shared.send(Out::Publish(channel, encode_pubsub(&msg)));
    }

    async fn count(&self) -> usize {
        let result = async {
            let mut conn = self.shared.commands.get().await?;
            let sub = if self.shared.config.use_sharded_pub_sub {
                "SHARDNUMSUB"
            } else {
                "NUMSUB"
            };
            conn.pubsub_count(sub, &self.public).await
        }
        .await;
        match result {
            Ok(n) => n,
            Err(err) => {
                self.shared.commands.forget().await;
                tracing::warn!(%err, nsp = self.core.nsp(), "PUBSUB NUMSUB failed: counting this node alone");
                1
            }
        }
    }

    /// Whether a broadcast gets an offset for connection state recovery: the server has it on
    /// and the packet may not be lost (socket.io-adapter's `addOffsetIfNecessary`; acked
    /// broadcasts never reach the stream).
    fn keeps(&self, volatile: bool) -> bool {
        self.core.sockets().recovery().is_some() && !volatile
    }

    // ------------------------------------------------------------ incoming

    /// A message from another node; `offset` is the id of its stream entry (none for pub/sub).
    fn on_message(&self, msg: ClusterMessage, offset: Option<&str>) {
        if msg.nsp.as_deref() == Some(self.core.nsp()) {
            cluster_adapter::receive(&self.this(), msg, offset);
        }
    }

    async fn restore(
        &self,
        pid: &str,
        offset: &str,
    ) -> redis::RedisResult<Option<RestoredSession>> {
        let Some(mut start) = next_offset(offset) else {
            return Ok(None);
        };
        let stream = &self.stream;
        let key = format!("{}{pid}", self.shared.config.session_key_prefix);
        let mut conn = self.shared.commands.get().await?;
        let (raw,): (Option<Vec<u8>>,) = redis::pipe()
            .atomic()
            .get(&key)
            .del(&key)
            .ignore()
            .query_async(&mut conn)
            .await?;
        let here: StreamRangeReply = redis::cmd("XRANGE")
            .arg(stream)
            .arg(offset)
            .arg(offset)
            .query_async(&mut conn)
            .await?;
        let Some(raw) = raw else { return Ok(None) };
        if here.ids.is_empty() {
            return Ok(None);
        }
        let session = match decode_session(&raw) {
            Ok(s) => s,
            Err(err) => {
                tracing::debug!(%err, pid, "undecodable session");
                return Ok(None);
            }
        };
        let mut missed = Vec::new();
        for _ in 0..MAX_RANGE_CALLS {
            let range: StreamRangeReply = redis::cmd("XRANGE")
                .arg(stream)
                .arg(&start)
                .arg("+")
                .arg("COUNT")
                .arg(RANGE_COUNT)
                .query_async(&mut conn)
                .await?;
            let Some(last) = range.ids.last() else { break };
            let Some(next) = next_offset(&last.id) else {
                break;
            };
            start = next;
            for entry in &range.ids {
                let Ok(Some(msg)) = decode_entry(&entry_fields(&entry.map)) else {
                    continue;
                };
                if msg.nsp.as_deref() != Some(self.core.nsp()) {
                    continue;
                }
                if let ClusterBody::Broadcast {
                    packet,
                    request_id: None,
                    opts,
                } = msg.body
                {
                    let volatile = opts.flags.as_ref().is_some_and(BroadcastFlags::volatile);
                    if !volatile && selects(&session.rooms, &opts.rooms, &opts.except) {
                        if let Some(p) = self.core.event_packet(&packet) {
                            missed.push((entry.id.clone(), p.with_offset(&entry.id)));
                        }
                    }
                }
            }
        }
        Ok(Some(RestoredSession { session, missed }))
    }
}

fn entry_fields(map: &HashMap<String, redis::Value>) -> HashMap<String, Vec<u8>> {
    map.iter()
        .filter_map(|(k, v)| Some((k.clone(), redis::from_redis_value_ref::<Vec<u8>>(v).ok()?)))
        .collect()
}

impl Drop for RedisStreamsAdapter {
    fn drop(&mut self) {
        self.leave();
    }
}

impl RedisStreamsAdapter {
    /// Leaves the cluster for this namespace (once): unsubscribes its channels.
    fn leave(&self) {
        if self.closed.swap(true, std::sync::atomic::Ordering::AcqRel) {
            return;
        }
        let channels = vec![self.public.clone(), self.private.clone()];
        if let Ok(mut router) = self.shared.router.lock() {
            for channel in &channels {
                router.channels.remove(channel);
            }
            if router
                .namespaces
                .get(self.core.nsp())
                .is_some_and(|w| w.strong_count() == 0)
            {
                router.namespaces.remove(self.core.nsp());
            }
        }
        let _ = self.shared.subs.send(Sub::Unsubscribe(channels));
    }
}

impl ClusterTransport for RedisStreamsAdapter {
    fn core(&self) -> &ClusterAdapterCore {
        &self.core
    }

    fn publish(&self, msg: ClusterMessage) {
        self.send_to_all(msg);
    }

    fn reply(&self, to: &str, msg: ClusterMessage) {
        self.send_to(to, msg);
    }

    fn node_count(&self) -> BoxFuture<usize> {
        let this = self.this();
        Box::pin(async move { this.count().await })
    }
}

impl Adapter for RedisStreamsAdapter {
    /// Leaves the cluster for this namespace, as socket.io's adapters do in `close()` on
    /// `io.close()` (the same happens when the adapter is dropped).
    fn close(&self) -> BoxFuture<()> {
        self.leave();
        Box::pin(std::future::ready(()))
    }

    fn add_all(&self, sid: Sid, rooms: &[&str]) {
        self.core.local().add_all(sid, rooms);
    }

    fn del(&self, sid: Sid, room: &str) {
        self.core.local().del(sid, room);
    }

    fn del_all(&self, sid: Sid) {
        self.core.local().del_all(sid);
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
                Ok(body) => {
                    let msg = self.core.message(body);
                    if self.keeps(opts.flags.volatile) {
                        // As socket.io-adapter's ClusterAdapter: this node's sockets get the
                        // packet once its entry is written, with the entry id as its offset
                        // (without one when the write failed).
                        let (this, packet, opts) = (self.this(), packet.clone(), opts.clone());
                        let on_added: OnAdded = Box::new(move |id| {
                            let local = this.core.local();
                            match id {
                                Some(id) => local.broadcast(&packet.with_offset(&id), &opts),
                                None => local.broadcast(&packet, &opts),
                            }
                        });
                        self.shared.send(Out::Xadd(
                            self.stream.clone(),
                            self.entry(&msg),
                            Some(on_added),
                        ));
                        return;
                    }
                    self.send_to_all(msg);
                }
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
    }

    fn del_sockets(&self, opts: &CoreOptions, rooms: &[String]) {
        cluster_adapter::del_sockets(self, opts, rooms);
    }

    fn disconnect_sockets(&self, opts: &CoreOptions, close: bool) {
        cluster_adapter::disconnect_sockets(self, opts, close);
    }

    fn fetch_sockets(&self, opts: &CoreOptions) -> BoxFuture<Vec<SocketInfo>> {
        cluster_adapter::fetch_sockets(&self.this(), opts)
    }

    fn all_rooms(&self) -> BoxFuture<Vec<String>> {
        Box::pin(std::future::ready(self.core.local().rooms()))
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
        let key = format!("{}{}", self.shared.config.session_key_prefix, session.pid);
        let keep = self
            .core
            .sockets()
            .recovery()
            .map_or(self.shared.config.max_disconnection_duration, |r| {
                r.max_disconnection_duration
            });
        let ms = keep.as_millis() as u64;
        self.shared
            .send(Out::SetPx(key, encode_session(&session), ms.max(1)));
    }

    fn restore_session(&self, pid: &str, offset: &str) -> BoxFuture<Option<RestoredSession>> {
        let (this, pid, offset) = (self.this(), pid.to_owned(), offset.to_owned());
        Box::pin(async move {
            match this.restore(&pid, &offset).await {
                Ok(restored) => restored,
                Err(err) => {
                    this.shared.commands.forget().await;
                    tracing::warn!(%err, pid, "restoring a session failed");
                    None
                }
            }
        })
    }
}

/// Sends queued writes in order, a pipeline of whatever is waiting at a time; a failed batch
/// is retried once on a new connection, then dropped (logged).
async fn run_writer(
    client: RedisClient,
    conn: Commands,
    max_len: usize,
    publish: &'static str,
    name: String,
    mut queued: mpsc::Receiver<Out>,
) {
    let mut conn = Some(conn);
    let mut batch = Vec::new();
    while queued.recv_many(&mut batch, 256).await > 0 {
        let mut cmds = Vec::with_capacity(batch.len());
        // The XADDs whose entry id someone waits for, with their index in `cmds`.
        let mut waiting: Vec<(usize, OnAdded)> = Vec::new();
        for out in &mut batch {
            let mut cmd;
            match out {
                Out::Xadd(stream, fields, on_added) => {
                    cmd = xadd(stream, max_len, fields);
                    if let Some(f) = on_added.take() {
                        waiting.push((cmds.len(), f));
                    }
                }
                Out::Publish(channel, payload) => {
                    cmd = redis::cmd(publish);
                    cmd.arg(channel).arg(payload);
                }
                Out::SetPx(key, value, ms) => {
                    cmd = redis::cmd("SET");
                    cmd.arg(key).arg(value).arg("PX").arg(*ms);
                }
            }
            cmds.push(cmd);
        }
        let mut sent = false;
        for _attempt in 0..2 {
            if conn.is_none() {
                match connect(&client, Some(&name), None).await {
                    Ok(c) => conn = Some(c),
                    Err(err) => {
                        tracing::warn!(%err, "redis streams adapter: cannot connect to write");
                        continue;
                    }
                }
            }
            let c = conn.as_mut().expect("connected above");
            match c.query_each(&cmds).await {
                Ok(replies) => {
                    for (i, on_added) in waiting.drain(..) {
                        on_added(redis::from_redis_value_ref(&replies[i]).ok());
                    }
                    sent = true;
                    break;
                }
                Err(err) => {
                    tracing::warn!(%err, "redis streams adapter: write failed, retrying on a new connection");
                    conn = None;
                }
            }
        }
        if !sent {
            tracing::warn!(lost = batch.len(), "redis streams adapter: writes dropped");
        }
        for (_, on_added) in waiting {
            on_added(None);
        }
        batch.clear();
    }
}

/// Reads the stream from `last_id` on, forever: routes each entry to its namespace's adapter,
/// and after a failure (Redis dropped the connection) reconnects and resumes after the last
/// entry it read. Ends when every adapter and the factory are gone.
async fn run_reader(
    shared: Weak<Shared>,
    router: Arc<Mutex<Router>>,
    stream: String,
    mut last_id: String,
) {
    let Some((client, name, count, block)) = shared.upgrade().map(|s| {
        (
            s.client.clone(),
            format!("{}-reader", s.name),
            s.config.read_count.max(1),
            s.config.block_time,
        )
    }) else {
        return;
    };
    let mut backoff = Duration::from_millis(50);
    let mut failed = false;
    loop {
        if shared.strong_count() == 0 {
            return;
        }
        if failed {
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
        let mut conn =
            match connect(&client, Some(&name), Some(block + Duration::from_secs(5))).await {
                Ok(c) => c,
                Err(err) => {
                    tracing::warn!(%err, "redis streams adapter: reader cannot connect");
                    failed = true;
                    continue;
                }
            };
        if failed {
            tracing::info!(
                last_id,
                "redis streams adapter: reader reconnected, resuming"
            );
        }
        backoff = Duration::from_millis(50);
        loop {
            if shared.strong_count() == 0 {
                return;
            }
            let reply: redis::RedisResult<Option<StreamReadReply>> = redis::cmd("XREAD")
                .arg("COUNT")
                .arg(count)
                .arg("BLOCK")
                .arg(block.as_millis() as u64)
                .arg("STREAMS")
                .arg(&stream)
                .arg(&last_id)
                .query_async(&mut conn)
                .await;
            let reply = match reply {
                Ok(r) => r,
                Err(err) => {
                    tracing::warn!(%err, last_id, "redis streams adapter: reader lost its connection, reconnecting");
                    failed = true;
                    break;
                }
            };
            for key in reply.map(|r| r.keys).unwrap_or_default() {
                for entry in key.ids {
                    match decode_entry(&entry_fields(&entry.map)) {
                        Ok(Some(msg)) => {
                            let adapter = router
                                .lock()
                                .unwrap()
                                .namespaces
                                .get(msg.nsp.as_deref().unwrap_or_default())
                                .and_then(Weak::upgrade);
                            if let Some(adapter) = adapter {
                                adapter.on_message(msg, Some(&entry.id));
                            }
                        }
                        Ok(None) => {}
                        Err(err) => {
                            tracing::debug!(%err, id = entry.id, "undecodable stream entry ignored");
                        }
                    }
                    last_id = entry.id;
                }
            }
        }
    }
}

/// Owns the subscription connection: applies (un)subscribe commands, routes messages to the
/// namespace adapters, and reconnects (resubscribing every channel) when Redis drops it.
/// Ends when every adapter and the factory are gone.
async fn run_subscriber(
    client: redis::Client,
    first: redis::aio::PubSub,
    router: Arc<Mutex<Router>>,
    mut subs: mpsc::UnboundedReceiver<Sub>,
) {
    let mut next = Some(first);
    let mut backoff = Duration::from_millis(50);
    loop {
        let pubsub = match next.take() {
            Some(p) => p,
            None => {
                if subs.is_closed() {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                match client.get_async_pubsub().await {
                    Ok(p) => p,
                    Err(err) => {
                        tracing::warn!(%err, "redis streams adapter: reconnecting the subscription failed");
                        continue;
                    }
                }
            }
        };
        let (mut sink, mut stream) = pubsub.split();
        let channels: Vec<String> = router.lock().unwrap().channels.keys().cloned().collect();
        if !channels.is_empty() {
            if let Err(err) = sink.subscribe(&channels).await {
                tracing::warn!(%err, "redis streams adapter: resubscribing failed");
                continue;
            }
        }
        backoff = Duration::from_millis(50);
        loop {
            tokio::select! {
                sub = subs.recv() => {
                    let Some(sub) = sub else { return };
                    let result = match sub {
                        Sub::Subscribe(c) => sink.subscribe(c).await,
                        Sub::Unsubscribe(c) => {
                            let gone = still_unwanted(&router, c);
                            if gone.is_empty() {
                                Ok(())
                            } else {
                                sink.unsubscribe(gone).await
                            }
                        }
                    };
                    if let Err(err) = result {
                        tracing::warn!(%err, "redis streams adapter: subscription lost, reconnecting");
                        break;
                    }
                }
                msg = stream.next() => {
                    let Some(msg) = msg else {
                        tracing::warn!("redis streams adapter: subscription lost, reconnecting");
                        break;
                    };
                    on_pubsub(&router, &msg);
                }
            }
        }
    }
}

/// Of the channels in `channels`, those no live adapter subscribes to any more (a namespace
/// made again keeps its channels).
fn still_unwanted(router: &Mutex<Router>, channels: Vec<String>) -> Vec<String> {
    let r = router.lock().unwrap();
    let gone: HashSet<String> = channels
        .into_iter()
        .filter(|ch| !r.channels.contains_key(ch))
        .collect();
    gone.into_iter().collect()
}

/// Hands a pub/sub message (a request or response) to the adapter of its channel.
fn on_pubsub(router: &Mutex<Router>, msg: &redis::Msg) {
    on_payload(router, msg.get_channel_name(), msg.get_payload_bytes());
}

/// Hands the payload of a pub/sub message on `channel` to the adapter of the channel.
fn on_payload(router: &Mutex<Router>, channel: &str, payload: &[u8]) {
    let adapter = router
        .lock()
        .unwrap()
        .channels
        .get(channel)
        .and_then(Weak::upgrade);
    if let Some(adapter) = adapter {
        match decode_pubsub(payload) {
            Ok(m) => adapter.on_message(m, None),
            Err(err) => tracing::debug!(%err, "undecodable message ignored"),
        }
    }
}
