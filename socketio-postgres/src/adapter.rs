//! [`PostgresAdapter`]: a socketio-core [`Adapter`] that is a node of a Node
//! `@socket.io/postgres-adapter` cluster (see the [crate docs](crate) for the protocol).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use futures_util::StreamExt;
use socketio_core::adapter::{
    AckAnswers, Adapter, AdapterError, BroadcastOptions as CoreOptions, EncodedPacket,
    LocalSockets, RestoredSession, Session, SocketInfo,
};
use socketio_core::{Args, BoxFuture, Sid};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_postgres::{AsyncMessage, Client, NoTls, Notification as PgNotification};

use crate::message::{
    needs_attachment, AttachmentHeader, BroadcastFlags, ClusterBody, ClusterMessage, Notification,
};
use crate::EMITTER_UID;
use socketio_core::node_compat::cluster_adapter::{self, ClusterAdapterCore, ClusterTransport};

/// Settings of a [`PostgresAdapter`] cluster, as `createAdapter(pool, opts)`'s options. Every
/// node of a cluster must use the same `channel_prefix` and `table_name`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostgresAdapterConfig {
    /// The channel prefix (`channelPrefix`; default `"socket.io"`): namespace `nsp` uses the
    /// channel `{channel_prefix}#{nsp}`, which must fit in 63 bytes.
    pub channel_prefix: String,
    /// The attachment table (`tableName`; default `"socket_io_attachments"`), written into SQL
    /// as is (it may be schema-qualified; it is not quoted).
    pub table_name: String,
    /// Longest JSON message sent in the NOTIFY itself, in bytes (`payloadThreshold`; default
    /// 8000); longer ones go through the attachment table.
    pub payload_threshold: usize,
    /// How old attachment rows get before this node deletes them, and how often it does
    /// (`cleanupInterval`; default 30 s).
    pub cleanup_interval: Duration,
    /// After how long without publishing this node sends a `HEARTBEAT`
    /// (`heartbeatInterval`; default 5 s).
    pub heartbeat_interval: Duration,
    /// After how long without a message a node is dropped from the count
    /// (`heartbeatTimeout`; default 10 s).
    pub heartbeat_timeout: Duration,
    /// How long `fetch_sockets` and an acked server-side emit wait for the other nodes
    /// (default 5 s, Node's `DEFAULT_TIMEOUT`). A node that has not answered by then is left out
    /// (Node fails the whole call instead). Also the ack timeout of a Node broadcast with acks
    /// that carries none.
    pub request_timeout: Duration,
    /// The `application_name` of the LISTEN connection (default: the one of the connection
    /// config), so it can be told apart in `pg_stat_activity`.
    pub listener_application_name: Option<String>,
    /// The table of sessions kept for connection state recovery (ours; default
    /// `"socket_io_sessions"`), created by the adapter when it first needs it, written into SQL
    /// as is like `table_name`. See the [crate docs](crate) on recovery.
    pub session_table_name: String,
}

impl Default for PostgresAdapterConfig {
    fn default() -> Self {
        PostgresAdapterConfig {
            channel_prefix: "socket.io".to_owned(),
            table_name: "socket_io_attachments".to_owned(),
            payload_threshold: 8000,
            cleanup_interval: Duration::from_secs(30),
            heartbeat_interval: Duration::from_secs(5),
            heartbeat_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(5),
            listener_application_name: None,
            session_table_name: "socket_io_sessions".to_owned(),
        }
    }
}

/// Creates the attachment table `table_name` if it does not exist, with the columns the Node
/// adapter's documentation gives (`id bigserial UNIQUE, created_at timestamptz DEFAULT NOW(),
/// payload bytea`).
///
/// # Errors
/// When PostgreSQL refuses the statement.
pub async fn create_attachment_table(
    client: &Client,
    table_name: &str,
) -> Result<(), tokio_postgres::Error> {
    client
        .batch_execute(&format!(
            "CREATE TABLE IF NOT EXISTS {table_name} (id bigserial UNIQUE, \
             created_at timestamptz DEFAULT NOW(), payload bytea)"
        ))
        .await
}

/// Most messages waiting to be published; beyond, new ones are dropped (and logged), so a
/// PostgreSQL outage cannot take unbounded memory.
const OUTBOX: usize = 64 * 1024;

/// Longest wait between two attempts to reconnect.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Called by the publisher with the id of the attachment row it inserted (`None` when it could
/// not publish), in publishing order.
pub(crate) type OnAdded = Box<dyn FnOnce(Option<i64>) + Send + Sync>;

/// A message ready for the publisher.
pub(crate) enum Outgoing {
    /// JSON small enough for the NOTIFY itself.
    Notify { channel: String, payload: String },
    /// msgpack to insert into the attachment table, then announce.
    Attach {
        channel: String,
        uid: String,
        message_type: u64,
        payload: Vec<u8>,
        /// Told the row id once published (a broadcast kept for connection state recovery).
        on_added: Option<OnAdded>,
    },
    /// A session to keep for connection state recovery (written in order with the messages,
    /// so it is stored before anything the disconnect handler publishes after it).
    Persist { session: Session, ttl: Duration },
}

impl Outgoing {
    /// How `@socket.io/postgres-adapter` sends `msg` on `channel`.
    pub(crate) fn of(channel: &str, msg: &ClusterMessage, threshold: usize) -> Outgoing {
        if !needs_attachment(msg) {
            let payload = msg.to_json();
            if payload.len() <= threshold {
                return Outgoing::Notify {
                    channel: channel.to_owned(),
                    payload,
                };
            }
        }
        Outgoing::attach(channel, msg, None)
    }

    /// `msg` through the attachment table whatever its size.
    pub(crate) fn attach(channel: &str, msg: &ClusterMessage, on_added: Option<OnAdded>) -> Self {
        Outgoing::Attach {
            channel: channel.to_owned(),
            uid: msg.uid.clone(),
            message_type: msg.message_type() as u64,
            payload: msg.to_msgpack(),
            on_added,
        }
    }

    /// Tells a waiting broadcast that it was not published.
    fn give_up(self) {
        if let Outgoing::Attach {
            on_added: Some(on_added),
            ..
        } = self
        {
            on_added(None);
        }
    }
}

enum Sub {
    Listen(String),
    Unlisten(String),
}

type Router = Arc<Mutex<HashMap<String, Weak<PostgresAdapter>>>>;

/// What the adapters of every namespace of one server share.
struct Shared {
    config: PostgresAdapterConfig,
    pg: tokio_postgres::Config,
    outbox: mpsc::Sender<Outgoing>,
    subs: mpsc::UnboundedSender<Sub>,
    router: Router,
    /// For restoring sessions; connected on first use, again after a failure.
    commands: tokio::sync::Mutex<Option<Arc<Client>>>,
    /// How long attachment rows are kept (ms): `cleanup_interval`, or the recovery's
    /// `max_disconnection_duration` when longer.
    retention_ms: Arc<AtomicU64>,
}

impl Shared {
    fn send(&self, out: Outgoing) {
        if let Err(err) = self.outbox.try_send(out) {
            tracing::warn!("postgres adapter outbox full or closed: message dropped");
            err.into_inner().give_up();
        }
    }

    async fn command(&self) -> Result<Arc<Client>, tokio_postgres::Error> {
        let mut guard = self.commands.lock().await;
        if guard.as_ref().is_none_or(|c| c.is_closed()) {
            let client = connect(&self.pg).await?;
            client
                .batch_execute(&create_session_table_sql(&self.config.session_table_name))
                .await?;
            *guard = Some(Arc::new(client));
        }
        Ok(guard.clone().expect("connected above"))
    }
}

/// `CREATE TABLE IF NOT EXISTS` for the session table.
fn create_session_table_sql(table: &str) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {table} (pid text PRIMARY KEY, sid text NOT NULL, \
         rooms text[] NOT NULL, data text NOT NULL, expires_at timestamptz NOT NULL)"
    )
}

/// The adapter of one namespace on a Node `@socket.io/postgres-adapter` cluster: Node servers
/// and ours share rooms, broadcasts and requests through one PostgreSQL database.
///
/// ```no_run
/// # async fn run() -> Result<(), tokio_postgres::Error> {
/// use socketio_postgres::{PostgresAdapter, PostgresAdapterConfig};
/// let pg: tokio_postgres::Config = "host=127.0.0.1 user=postgres dbname=test".parse()?;
/// let factory = PostgresAdapter::factory(pg, PostgresAdapterConfig::default()).await?;
/// let io = socketio_core::SocketIo::builder().adapter(factory).build();
/// # Ok(()) }
/// ```
///
/// One server uses two connections (without TLS): one LISTENs to the channel of every
/// namespace, the other publishes (in order, pipelined) and deletes old attachments.
///
/// * Rooms and sockets of this node are kept by a wrapped [`LocalAdapter`](socketio_core::adapter::LocalAdapter).
/// * `broadcast`, `add_sockets`, `del_sockets` and `disconnect_sockets` apply to this node at
///   once and are published (unless `local`).
/// * The node count comes from heartbeats (see the crate docs); `server_count` is 1 + the
///   nodes heard from within [`PostgresAdapterConfig::heartbeat_timeout`].
/// * `fetch_sockets` and acked `server_side_emit` wait for one answer per live node, at most
///   [`PostgresAdapterConfig::request_timeout`]; a node that stays silent (killed) is left out,
///   and stops being waited for once its heartbeat times out.
/// * `broadcast_with_ack` waits until every live node told its client count and all those
///   acks are in, at most the ack timeout. Node's acks carry no socket id: each remote answer
///   gets a fresh [`Sid`] that names no socket, and each remote socket that did not answer in
///   time an [`AckError::Timeout`](socketio_core::AckError::Timeout) entry under a fresh id too.
/// * `all_rooms` is this node's rooms: the cluster protocol has no request for it (Node's
///   `ClusterAdapter` answers with its local rooms too).
/// * Server-side events of other nodes go to [`socketio_core::Namespace::on_server_event`]
///   handlers; an ack is the handler's first argument only (as in Node).
/// * Connection state recovery (ours only, Node's adapter has none): sessions in the session
///   table, kept broadcasts through the attachment table, so a client may recover on any node
///   of ours (see the [crate docs](crate)).
///
/// The LISTEN connection reconnects by itself when it is lost (growing delay, up to 5 s,
/// logged), LISTENs again and sends an `INITIAL_HEARTBEAT`; notifications sent meanwhile are
/// lost (PostgreSQL keeps none for a listener that is gone). A publish that fails is retried
/// once on a new connection, then dropped and logged.
pub struct PostgresAdapter {
    me: Weak<PostgresAdapter>,
    /// Set by `close` (or the drop): the namespace left the cluster.
    closed: std::sync::atomic::AtomicBool,
    shared: Arc<Shared>,
    /// The protocol state: uid, namespace, sockets, requests waiting for answers.
    core: ClusterAdapterCore,
    channel: String,
    /// Other nodes by uid, with when they were last heard from.
    nodes: Mutex<HashMap<String, Instant>>,
    /// When this node last published (a heartbeat is due `heartbeat_interval` later).
    last_publish: Mutex<Instant>,
}

impl std::fmt::Debug for PostgresAdapter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresAdapter")
            .field("uid", &self.core.uid())
            .field("nsp", &self.core.nsp())
            .field("channel", &self.channel)
            .finish()
    }
}

/// `"name"`, with `"` doubled, for LISTEN/UNLISTEN.
fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl PostgresAdapter {
    /// Connects to PostgreSQL (one connection to publish and one to LISTEN, both checked now so
    /// a misconfiguration fails here) and returns the factory to give to
    /// [`socketio_core::SocketIoBuilder::adapter`]. The factory is synchronous: each new
    /// namespace's channel is LISTENed to by the listener task at once; the adapter announces
    /// itself (`INITIAL_HEARTBEAT`) once the LISTEN is in place.
    ///
    /// # Errors
    /// When PostgreSQL cannot be reached.
    pub async fn factory(
        pg: tokio_postgres::Config,
        config: PostgresAdapterConfig,
    ) -> Result<
        impl Fn(LocalSockets) -> Arc<PostgresAdapter> + Send + Sync + 'static,
        tokio_postgres::Error,
    > {
        let mut listen_pg = pg.clone();
        if let Some(name) = &config.listener_application_name {
            listen_pg.application_name(name);
        }
        let publisher = connect(&pg).await?;
        let listener = connect_listener(&listen_pg).await?;
        let (outbox, queued) = mpsc::channel(OUTBOX);
        let (subs, sub_rx) = mpsc::unbounded_channel();
        let router = Router::default();
        let retention_ms = Arc::new(AtomicU64::new(config.cleanup_interval.as_millis() as u64));
        tokio::spawn(run_publisher(
            pg.clone(),
            publisher,
            queued,
            Tables {
                attachments: config.table_name.clone(),
                sessions: config.session_table_name.clone(),
            },
            config.cleanup_interval,
            retention_ms.clone(),
        ));
        tokio::spawn(run_listener(
            listen_pg,
            listener,
            router.clone(),
            sub_rx,
            config.table_name.clone(),
        ));
        let shared = Arc::new(Shared {
            config,
            pg,
            outbox,
            subs,
            router,
            commands: tokio::sync::Mutex::new(None),
            retention_ms,
        });
        Ok(move |sockets: LocalSockets| PostgresAdapter::new(shared.clone(), sockets))
    }

    fn new(shared: Arc<Shared>, sockets: LocalSockets) -> Arc<PostgresAdapter> {
        let nsp = sockets.nsp().to_owned();
        if let Some(recovery) = sockets.recovery() {
            // Packets must outlive the sessions that may ask for them.
            shared.retention_ms.fetch_max(
                recovery.max_disconnection_duration.as_millis() as u64,
                Ordering::Relaxed,
            );
        }
        let channel = format!("{}#{}", shared.config.channel_prefix, nsp);
        if channel.len() > 63 {
            tracing::error!(
                channel,
                "channel name longer than 63 bytes: PostgreSQL will refuse it"
            );
        }
        let adapter = Arc::new_cyclic(|me| PostgresAdapter {
            me: me.clone(),
            closed: std::sync::atomic::AtomicBool::new(false),
            shared: shared.clone(),
            core: ClusterAdapterCore::new(sockets, shared.config.request_timeout),
            channel: channel.clone(),
            nodes: Mutex::default(),
            last_publish: Mutex::new(Instant::now()),
        });
        shared
            .router
            .lock()
            .unwrap()
            .insert(channel.clone(), Arc::downgrade(&adapter));
        let _ = shared.subs.send(Sub::Listen(channel));
        tokio::spawn(run_heartbeat(
            Arc::downgrade(&adapter),
            shared.config.heartbeat_interval,
        ));
        adapter
    }

    /// This namespace adapter's uid (16 hex digits), as other nodes see it in our messages.
    pub fn uid(&self) -> &str {
        self.core.uid()
    }

    /// The channel this namespace's messages go on (`{channel_prefix}#{nsp}`).
    pub fn channel(&self) -> &str {
        &self.channel
    }

    fn this(&self) -> Arc<PostgresAdapter> {
        self.me.upgrade().expect("called through an Arc")
    }

    /// Sends `msg` on the namespace's channel: in a NOTIFY, or through the attachment table.
    fn send(&self, msg: ClusterMessage) {
        *self.last_publish.lock().unwrap() = Instant::now();
        let out = Outgoing::of(&self.channel, &msg, self.shared.config.payload_threshold);
        self.shared.send(out);
    }

    /// The uids of the other nodes heard from within the heartbeat timeout (the others are
    /// forgotten).
    fn live_nodes(&self) -> HashSet<String> {
        let timeout = self.shared.config.heartbeat_timeout;
        let mut nodes = self.nodes.lock().unwrap();
        nodes.retain(|uid, seen| {
            let alive = seen.elapsed() <= timeout;
            if !alive {
                tracing::debug!(uid, nsp = self.core.nsp(), "node seems down");
            }
            alive
        });
        nodes.keys().cloned().collect()
    }

    /// Whether a broadcast is kept for connection state recovery: the server has it on and
    /// the packet may not be lost (socket.io-adapter's `addOffsetIfNecessary`).
    fn keeps(&self, volatile: bool) -> bool {
        self.core.sockets().recovery().is_some() && !volatile
    }

    /// Takes session `pid` back if it has not expired and the packet at `offset` is still in
    /// the attachment table, with the broadcasts of this namespace to its rooms since.
    async fn restore(
        &self,
        pid: &str,
        offset: &str,
    ) -> Result<Option<RestoredSession>, tokio_postgres::Error> {
        let Ok(offset) = offset.parse::<i64>() else {
            return Ok(None);
        };
        let config = &self.shared.config;
        let client = self.shared.command().await?;
        let Some(row) = client
            .query_opt(
                &format!(
                    "DELETE FROM {} WHERE pid = $1 \
                     RETURNING sid, rooms, data, expires_at > now()",
                    config.session_table_name
                ),
                &[&pid],
            )
            .await?
        else {
            return Ok(None);
        };
        let (sid, rooms, data, fresh): (String, Vec<String>, String, bool) =
            (row.get(0), row.get(1), row.get(2), row.get(3));
        let offset_known = client
            .query_opt(
                &format!("SELECT 1 FROM {} WHERE id = $1", config.table_name),
                &[&offset],
            )
            .await?
            .is_some();
        let (Ok(sid), Ok(data)) = (sid.parse(), serde_json::from_str(&data)) else {
            tracing::debug!(pid, "undecodable session");
            return Ok(None);
        };
        if !fresh || !offset_known {
            return Ok(None);
        }
        let session = Session {
            sid,
            pid: pid.to_owned(),
            rooms,
            data,
        };
        let limit = self
            .core
            .sockets()
            .recovery()
            .map_or(10_000, |r| r.max_packets.max(1)) as i64;
        let rows = client
            .query(
                &format!(
                    "SELECT id, payload FROM {} WHERE id > $1 ORDER BY id LIMIT $2",
                    config.table_name
                ),
                &[&offset, &limit],
            )
            .await?;
        let mut missed = Vec::new();
        for row in rows {
            let (id, payload): (i64, Vec<u8>) = (row.get(0), row.get(1));
            let Ok(msg) = ClusterMessage::decode(&payload) else {
                continue;
            };
            if msg.nsp.as_deref().is_some_and(|nsp| nsp != self.core.nsp()) {
                continue;
            }
            if let ClusterBody::Broadcast {
                packet,
                request_id: None,
                opts,
            } = msg.body
            {
                let volatile = opts.flags.as_ref().is_some_and(BroadcastFlags::volatile);
                let selected = (opts.rooms.is_empty()
                    || session.rooms.iter().any(|r| opts.rooms.contains(r)))
                    && session.rooms.iter().all(|r| !opts.except.contains(r));
                if !volatile && selected {
                    if let Some(p) = self.core.event_packet(&packet) {
                        let offset = id.to_string();
                        missed.push((offset.clone(), p.with_offset(&offset)));
                    }
                }
            }
        }
        Ok(Some(RestoredSession { session, missed }))
    }

    // ------------------------------------------------------------ incoming

    /// The LISTEN on our channel is in place (first time, or after a reconnection): announce
    /// this node, so the others answer with heartbeats.
    fn on_listening(&self) {
        self.send(self.core.message(ClusterBody::InitialHeartbeat));
    }

    /// A message from another node; `offset` is its attachment row id when it came through the
    /// table (every broadcast ours keep for recovery does). Every message but the emitter's
    /// keeps its sender alive; heartbeats are this adapter's (socket.io-adapter's
    /// `ClusterAdapterWithHeartbeat`), the rest the shared protocol's.
    fn on_message(&self, msg: ClusterMessage, offset: Option<i64>) {
        if msg.uid == self.core.uid() {
            return;
        }
        if msg.nsp.as_deref().is_some_and(|nsp| nsp != self.core.nsp()) {
            return;
        }
        if msg.uid != EMITTER_UID {
            self.nodes
                .lock()
                .unwrap()
                .insert(msg.uid.clone(), Instant::now());
        }
        let offset = offset.map(|id| id.to_string());
        let Some(left) = cluster_adapter::receive(&self.this(), msg, offset.as_deref()) else {
            return;
        };
        match left.body {
            ClusterBody::InitialHeartbeat => {
                self.send(self.core.message(ClusterBody::Heartbeat));
            }
            ClusterBody::AdapterClose => {
                self.nodes.lock().unwrap().remove(&left.uid);
            }
            _ => {}
        }
    }
}

impl Drop for PostgresAdapter {
    fn drop(&mut self) {
        self.leave();
    }
}

impl PostgresAdapter {
    /// Leaves the cluster for this namespace (once): unsubscribes its channels and tells the other nodes (`ADAPTER_CLOSE`).
    fn leave(&self) {
        if self.closed.swap(true, std::sync::atomic::Ordering::AcqRel) {
            return;
        }
        let msg = self.core.message(ClusterBody::AdapterClose);
        let out = Outgoing::of(&self.channel, &msg, self.shared.config.payload_threshold);
        let _ = self.shared.outbox.try_send(out);
        if let Ok(mut router) = self.shared.router.lock() {
            router.remove(&self.channel);
        }
        let _ = self.shared.subs.send(Sub::Unlisten(self.channel.clone()));
    }
}

impl ClusterTransport for PostgresAdapter {
    fn core(&self) -> &ClusterAdapterCore {
        &self.core
    }

    fn publish(&self, msg: ClusterMessage) {
        self.send(msg);
    }

    /// Answers go on the namespace's channel too (every node sees them; only the requester
    /// waits for them), as `@socket.io/postgres-adapter` sends them.
    fn reply(&self, _to: &str, msg: ClusterMessage) {
        self.send(msg);
    }

    fn node_count(&self) -> BoxFuture<usize> {
        Box::pin(std::future::ready(1 + self.live_nodes().len()))
    }

    fn live_nodes(&self) -> Option<HashSet<String>> {
        Some(PostgresAdapter::live_nodes(self))
    }
}

impl Adapter for PostgresAdapter {
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
                        // Kept: through the attachment table whatever its size, the row id being
                        // its offset; this node's sockets get it once the row is written.
                        let (this, packet, opts) = (self.this(), packet.clone(), opts.clone());
                        let on_added: OnAdded = Box::new(move |id| {
                            let local = this.core.local();
                            match id {
                                Some(id) => {
                                    local.broadcast(&packet.with_offset(&id.to_string()), &opts)
                                }
                                None => local.broadcast(&packet, &opts),
                            }
                        });
                        *self.last_publish.lock().unwrap() = Instant::now();
                        self.shared
                            .send(Outgoing::attach(&self.channel, &msg, Some(on_added)));
                        return;
                    }
                    self.send(msg);
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
        Box::pin(std::future::ready(1 + self.live_nodes().len()))
    }

    fn persist_session(&self, session: Session) {
        if let Some(recovery) = self.core.sockets().recovery() {
            let ttl = recovery.max_disconnection_duration;
            self.shared.send(Outgoing::Persist { session, ttl });
        }
    }

    fn restore_session(&self, pid: &str, offset: &str) -> BoxFuture<Option<RestoredSession>> {
        let (this, pid, offset) = (self.this(), pid.to_owned(), offset.to_owned());
        Box::pin(async move {
            match this.restore(&pid, &offset).await {
                Ok(restored) => restored,
                Err(err) => {
                    *this.shared.commands.lock().await = None;
                    tracing::warn!(%err, pid, "restoring a session failed");
                    None
                }
            }
        })
    }
}

/// Sends a `HEARTBEAT` whenever the adapter has published nothing for `interval`; ends with
/// the adapter.
async fn run_heartbeat(adapter: Weak<PostgresAdapter>, interval: Duration) {
    loop {
        let due = {
            let Some(a) = adapter.upgrade() else { return };
            let last = *a.last_publish.lock().unwrap();
            last + interval
        };
        tokio::time::sleep_until(due).await;
        let Some(a) = adapter.upgrade() else { return };
        if a.closed.load(std::sync::atomic::Ordering::Acquire) {
            return;
        }
        let last = *a.last_publish.lock().unwrap();
        if last.elapsed() >= interval {
            a.send(a.core.message(ClusterBody::Heartbeat));
        }
    }
}

/// A connection whose driver runs in its own task (notifications, if any, are dropped).
pub(crate) async fn connect(pg: &tokio_postgres::Config) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = pg.connect(NoTls).await?;
    tokio::spawn(async move {
        if let Err(err) = connection.await {
            tracing::warn!(%err, "postgres adapter: connection lost");
        }
    });
    Ok(client)
}

/// A connection whose notifications arrive on the receiver; it ends when the connection does.
async fn connect_listener(
    pg: &tokio_postgres::Config,
) -> Result<(Client, mpsc::UnboundedReceiver<PgNotification>), tokio_postgres::Error> {
    let (client, mut connection) = pg.connect(NoTls).await?;
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut messages = futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
        while let Some(message) = messages.next().await {
            match message {
                Ok(AsyncMessage::Notification(n)) => {
                    if tx.send(n).is_err() {
                        return;
                    }
                }
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(%err, "postgres adapter: LISTEN connection lost");
                    return;
                }
            }
        }
    });
    Ok((client, rx))
}

/// The tables the publisher writes.
pub(crate) struct Tables {
    /// The attachment table (`table_name`).
    pub(crate) attachments: String,
    /// The session table (`session_table_name`), created on the first session written.
    pub(crate) sessions: String,
}

/// Publishes queued messages in order: a run of plain NOTIFYs is pipelined on the connection,
/// an attachment is inserted then announced, a session is written. A message that fails is
/// retried once on a new connection, then dropped (logged). Also deletes, every `cleanup`,
/// attachments older than `retention_ms` and expired sessions.
async fn run_publisher(
    pg: tokio_postgres::Config,
    client: Client,
    mut queued: mpsc::Receiver<Outgoing>,
    tables: Tables,
    cleanup: Duration,
    retention_ms: Arc<AtomicU64>,
) {
    let mut client = Some(client);
    let mut batch = Vec::new();
    let mut cleanup_tick = tokio::time::interval_at(Instant::now() + cleanup, cleanup);
    let mut sessions_ready = false;
    loop {
        tokio::select! {
            n = queued.recv_many(&mut batch, 512) => if n == 0 { return },
            _ = cleanup_tick.tick() => {
                if let Some(c) = &client {
                    let delete = format!(
                        "DELETE FROM {} WHERE created_at < now() - interval '{} milliseconds'",
                        tables.attachments,
                        retention_ms.load(Ordering::Relaxed)
                    );
                    if let Err(err) = c.batch_execute(&delete).await {
                        tracing::debug!(%err, "postgres adapter: removing old attachments failed");
                    }
                    if sessions_ready {
                        let expired =
                            format!("DELETE FROM {} WHERE expires_at < now()", tables.sessions);
                        if let Err(err) = c.batch_execute(&expired).await {
                            tracing::debug!(%err, "postgres adapter: removing expired sessions failed");
                        }
                    }
                }
                continue;
            }
        }
        let mut todo: Vec<Outgoing> = std::mem::take(&mut batch);
        for attempt in 0..2 {
            if client.as_ref().is_none_or(Client::is_closed) {
                match connect(&pg).await {
                    Ok(c) => client = Some(c),
                    Err(err) => {
                        tracing::warn!(%err, "postgres adapter: cannot connect to publish");
                        client = None;
                        if attempt == 0 {
                            tokio::time::sleep(Duration::from_millis(200)).await;
                        }
                        continue;
                    }
                }
            }
            let c = client.as_ref().expect("connected above");
            if !sessions_ready && todo.iter().any(|o| matches!(o, Outgoing::Persist { .. })) {
                match c
                    .batch_execute(&create_session_table_sql(&tables.sessions))
                    .await
                {
                    Ok(()) => sessions_ready = true,
                    Err(err) => {
                        tracing::warn!(%err, "postgres adapter: creating the session table failed")
                    }
                }
            }
            todo = publish_all(c, &tables.attachments, &tables.sessions, todo).await;
            if todo.is_empty() {
                break;
            }
        }
        if !todo.is_empty() {
            tracing::warn!(
                lost = todo.len(),
                "postgres adapter: messages not published"
            );
            todo.into_iter().for_each(Outgoing::give_up);
        }
    }
}

/// Sends `batch` in order; returns the messages that failed.
pub(crate) async fn publish_all(
    client: &Client,
    table: &str,
    sessions: &str,
    batch: Vec<Outgoing>,
) -> Vec<Outgoing> {
    let mut failed = Vec::new();
    let mut run: Vec<Outgoing> = Vec::new();
    for mut out in batch {
        match out {
            Outgoing::Notify { .. } => run.push(out),
            Outgoing::Attach { .. } => {
                failed.extend(notify_run(client, std::mem::take(&mut run)).await);
                match attach(client, table, &out).await {
                    Ok(id) => {
                        if let Outgoing::Attach {
                            on_added: Some(on_added),
                            ..
                        } = &mut out
                        {
                            let on_added = std::mem::replace(on_added, Box::new(|_| {}));
                            on_added(Some(id));
                        }
                    }
                    Err(err) => {
                        tracing::warn!(%err, "postgres adapter: publishing with an attachment failed");
                        failed.push(out);
                    }
                }
            }
            Outgoing::Persist { ref session, ttl } => {
                failed.extend(notify_run(client, std::mem::take(&mut run)).await);
                if let Err(err) = persist(client, sessions, session, ttl).await {
                    tracing::warn!(%err, "postgres adapter: persisting a session failed");
                    failed.push(out);
                }
            }
        }
    }
    failed.extend(notify_run(client, run).await);
    failed
}

/// Writes (or replaces) a session, kept for `ttl`.
async fn persist(
    client: &Client,
    table: &str,
    session: &Session,
    ttl: Duration,
) -> Result<(), tokio_postgres::Error> {
    let ttl_ms = ttl.as_millis() as i64;
    client
        .execute(
            &format!(
                "INSERT INTO {table} (pid, sid, rooms, data, expires_at) \
                 VALUES ($1, $2, $3, $4, now() + $5::bigint * interval '1 millisecond') \
                 ON CONFLICT (pid) DO UPDATE SET sid = EXCLUDED.sid, rooms = EXCLUDED.rooms, \
                 data = EXCLUDED.data, expires_at = EXCLUDED.expires_at"
            ),
            &[
                &session.pid,
                &session.sid.to_string(),
                &session.rooms,
                &session.data.to_string(),
                &ttl_ms,
            ],
        )
        .await
        .map(drop)
}

async fn notify_run(client: &Client, run: Vec<Outgoing>) -> Vec<Outgoing> {
    if run.is_empty() {
        return run;
    }
    let results = futures_util::future::join_all(run.iter().map(|out| async move {
        let Outgoing::Notify { channel, payload } = out else {
            return Ok(());
        };
        client
            .execute("SELECT pg_notify($1, $2)", &[channel, payload])
            .await
            .map(drop)
    }))
    .await;
    let mut failed = Vec::new();
    for (out, result) in run.into_iter().zip(results) {
        if let Err(err) = result {
            tracing::warn!(%err, "postgres adapter: NOTIFY failed");
            failed.push(out);
        }
    }
    failed
}

/// Inserts an attachment and announces it; returns its row id.
async fn attach(
    client: &Client,
    table: &str,
    out: &Outgoing,
) -> Result<i64, tokio_postgres::Error> {
    let Outgoing::Attach {
        channel,
        uid,
        message_type,
        payload,
        ..
    } = out
    else {
        return Ok(0);
    };
    let row = client
        .query_one(
            &format!("INSERT INTO {table} (payload) VALUES ($1) RETURNING id"),
            &[payload],
        )
        .await?;
    let header = AttachmentHeader {
        uid: uid.clone(),
        message_type: *message_type,
        attachment_id: row.get(0),
    };
    client
        .execute("SELECT pg_notify($1, $2)", &[channel, &header.to_json()])
        .await?;
    Ok(header.attachment_id)
}

/// Owns the LISTEN connection: applies LISTEN/UNLISTEN, reads attachments, routes messages to
/// the namespace adapters, and reconnects (LISTENing again to every channel the router knows)
/// when the connection is lost. Ends when every adapter and the factory are gone.
async fn run_listener(
    pg: tokio_postgres::Config,
    first: (Client, mpsc::UnboundedReceiver<PgNotification>),
    router: Router,
    mut subs: mpsc::UnboundedReceiver<Sub>,
    table: String,
) {
    let mut next = Some(first);
    let mut backoff = Duration::from_millis(100);
    let select = format!("SELECT payload FROM {table} WHERE id = $1");
    loop {
        let (client, mut notifications) = match next.take() {
            Some(c) => c,
            None => {
                if subs.is_closed() {
                    return;
                }
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                match connect_listener(&pg).await {
                    Ok(c) => c,
                    Err(err) => {
                        tracing::warn!(%err, "postgres adapter: reconnecting the listener failed");
                        continue;
                    }
                }
            }
        };
        let channels: Vec<String> = router.lock().unwrap().keys().cloned().collect();
        let mut restored = Ok(());
        for channel in &channels {
            restored = client
                .batch_execute(&format!("LISTEN {}", quote_ident(channel)))
                .await;
            if restored.is_err() {
                break;
            }
        }
        if let Err(err) = restored {
            tracing::warn!(%err, "postgres adapter: LISTEN failed");
            continue;
        }
        if !channels.is_empty() {
            tracing::info!("postgres adapter: listening again");
            announce(&router, &channels);
        }
        backoff = Duration::from_millis(100);
        loop {
            tokio::select! {
                sub = subs.recv() => {
                    let Some(sub) = sub else { return };
                    let (sql, listened) = match sub {
                        Sub::Listen(c) => (format!("LISTEN {}", quote_ident(&c)), Some(c)),
                        Sub::Unlisten(c) => (format!("UNLISTEN {}", quote_ident(&c)), None),
                    };
                    if let Err(err) = client.batch_execute(&sql).await {
                        tracing::warn!(%err, "postgres adapter: listener lost, reconnecting");
                        break;
                    }
                    if let Some(channel) = listened {
                        announce(&router, &[channel]);
                    }
                }
                n = notifications.recv() => {
                    let Some(n) = n else {
                        tracing::warn!("postgres adapter: listener lost, reconnecting");
                        break;
                    };
                    dispatch(&router, &client, &select, &n).await;
                }
            }
        }
    }
}

fn announce(router: &Router, channels: &[String]) {
    let adapters: Vec<_> = {
        let r = router.lock().unwrap();
        channels
            .iter()
            .filter_map(|c| r.get(c).and_then(Weak::upgrade))
            .collect()
    };
    for adapter in adapters {
        adapter.on_listening();
    }
}

async fn dispatch(router: &Router, client: &Client, select: &str, n: &PgNotification) {
    let adapter = router
        .lock()
        .unwrap()
        .get(n.channel())
        .and_then(Weak::upgrade);
    let Some(adapter) = adapter else { return };
    let mut offset = None;
    let msg = match Notification::decode(n.payload()) {
        Ok(Notification::Message(msg)) => msg,
        Ok(Notification::Attachment(header)) => {
            offset = Some(header.attachment_id);
            if header.uid == adapter.core.uid() {
                return;
            }
            let row = match client.query_opt(select, &[&header.attachment_id]).await {
                Ok(Some(row)) => row,
                Ok(None) => {
                    return tracing::warn!(id = header.attachment_id, "attachment not found")
                }
                Err(err) => return tracing::warn!(%err, "reading an attachment failed"),
            };
            let payload: Vec<u8> = match row.try_get(0) {
                Ok(p) => p,
                Err(err) => return tracing::warn!(%err, "attachment without a payload"),
            };
            match ClusterMessage::decode(&payload) {
                Ok(msg) => msg,
                Err(err) => return tracing::debug!(%err, "undecodable attachment ignored"),
            }
        }
        Err(err) => return tracing::debug!(%err, "undecodable notification ignored"),
    };
    adapter.on_message(msg, offset);
}
