//! The server handle, its builder and its configuration.

use foldhash::HashMap;
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Serialize;

use crate::adapter::{Adapter, LocalSockets, RecoveryConfig};
use crate::broadcast::BroadcastOperator;
use crate::client::ServerCore;
use crate::engine::config::{Cors, EngineConfig, Transports};
use crate::engine::sid::Sid;
use crate::engine::socket::Transport;
use crate::engine::Engine;
use crate::error::EmitError;
use crate::protocol::Parser;
use crate::registry::NamespaceHandlers;
use crate::service::SocketIoService;
use crate::socket::config::{AdapterLayer, ServerConfig};
use crate::socket::conn::Client;
use crate::socket::{Handshake, Namespace, Socket, SocketRef};

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            connect_timeout: Duration::from_secs(45),
            ack_timeout: Duration::from_secs(60),
            parser: Parser::Default,
            recovery: None,
            shutdown_timeout: Duration::from_secs(10),
            max_name_len: 1024,
            adapter_factory: crate::adapter::local_factory(),
            adapter_layer: Arc::default(),
            state: Default::default(),
            cleanup_empty_children: false,
            traffic: std::sync::OnceLock::new(),
        }
    }
}

/// Counts of what a server holds, from [`SocketIo::stats`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ServerStats {
    /// Open Engine.IO sessions (every transport), as [`SocketIo::connection_count`].
    pub sessions: usize,
    /// One entry per namespace in the path table, sorted by path.
    pub namespaces: Vec<NamespaceStats>,
}

impl ServerStats {
    /// Connected sockets over all namespaces.
    pub fn sockets(&self) -> usize {
        self.namespaces.iter().map(|n| n.sockets).sum()
    }

    /// Rooms over all namespaces (a room name in two namespaces counts twice).
    pub fn rooms(&self) -> usize {
        self.namespaces.iter().map(|n| n.rooms).sum()
    }
}

/// Counts of one namespace on this node, part of [`ServerStats`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NamespaceStats {
    /// The namespace path, e.g. `"/chat"`.
    pub path: String,
    /// Its connected sockets on this node ([`Namespace::sockets`]).
    pub sockets: usize,
    /// Its rooms with members on this node ([`Namespace::rooms`]), socket-id rooms included.
    pub rooms: usize,
}

/// The server: a cheap-to-clone handle shared by handlers, the HTTP service and your own tasks.
///
/// ```no_run
/// use socketio_core::{SocketIo, SocketRef};
/// # async fn run() {
/// let io = SocketIo::builder().ping_interval(std::time::Duration::from_secs(10)).build();
/// io.ns("/").on("ping", |_s: SocketRef| async { "pong" });
/// let service = io.service(); // a tower Service: mount it on any hyper/axum server
/// # }
/// ```
#[derive(Clone)]
pub struct SocketIo {
    engine: Arc<Engine<ServerCore>>,
}

impl std::fmt::Debug for SocketIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketIo")
            .field("path", &self.engine.config.path)
            .finish()
    }
}

impl Default for SocketIo {
    fn default() -> Self {
        Self::new()
    }
}

impl SocketIo {
    /// A server with default settings.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// Configures a server.
    pub fn builder() -> SocketIoBuilder {
        SocketIoBuilder::default()
    }

    /// The namespace at `path`, created on first use (a missing leading `/` is added).
    /// Clients can only connect to namespaces that exist.
    pub fn ns(&self, path: &str) -> Arc<Namespace> {
        let path = crate::protocol::normalize_namespace(path);
        let core = &self.engine.handler;
        if let Some(ns) = core.namespace(&path) {
            return ns;
        }
        let (ns, made) = {
            let mut table = core.namespaces.write().unwrap();
            match table.get(&path) {
                Some(ns) => (ns.clone(), false),
                None => {
                    let ns = Arc::new(Namespace::new(path.clone(), core.config.clone()));
                    table.insert(path, ns.clone());
                    (ns, true)
                }
            }
        };
        if made {
            core.announce(&ns);
        }
        ns
    }

    /// Calls `listener` with every namespace made from now on: by [`SocketIo::ns`] (or a
    /// `#[namespace]` registration) and each child a dynamic namespace makes on its first
    /// connection (socket.io's `io.on("new_namespace", (namespace) => ..)`). It runs before
    /// the namespace's first socket connects, with no lock held (it may call the server); a
    /// panic in it is logged and ignored. Listeners cannot be removed; they live as long as
    /// the server.
    ///
    /// ```
    /// use socketio_core::SocketIo;
    /// let io = SocketIo::new();
    /// io.on_new_namespace(|ns| println!("namespace {} made", ns.path()));
    /// io.ns("/chat"); // prints "namespace /chat made"
    /// ```
    pub fn on_new_namespace(&self, listener: impl Fn(&Arc<Namespace>) + Send + Sync + 'static) {
        self.engine
            .handler
            .new_namespace
            .write()
            .unwrap()
            .push(Arc::new(listener));
    }

    /// Every namespace of the table (dynamic children included, their parents not), sorted by
    /// path.
    #[cfg_attr(not(feature = "admin-ui"), allow(dead_code))]
    pub(crate) fn namespaces(&self) -> Vec<Arc<Namespace>> {
        let table = self.engine.handler.namespaces.read().unwrap();
        let mut all: Vec<Arc<Namespace>> = table.values().cloned().collect();
        all.sort_by(|a, b| a.path().cmp(b.path()));
        all
    }

    /// A handle that does not keep the server alive (for background tasks).
    #[cfg_attr(not(feature = "admin-ui"), allow(dead_code))]
    pub(crate) fn downgrade(&self) -> std::sync::Weak<Engine<ServerCore>> {
        Arc::downgrade(&self.engine)
    }

    /// The server of a [`SocketIo::downgrade`] handle, while it lives.
    #[cfg_attr(not(feature = "admin-ui"), allow(dead_code))]
    pub(crate) fn upgrade(weak: &std::sync::Weak<Engine<ServerCore>>) -> Option<SocketIo> {
        weak.upgrade().map(|engine| SocketIo { engine })
    }

    pub(crate) fn core(&self) -> &ServerConfig {
        &self.engine.handler.config
    }

    /// Wraps the adapter of every namespace, existing and future, with `layer`; `false` if a
    /// layer was already set (a server joins one cluster at most).
    pub(crate) fn add_adapter_layer(&self, layer: AdapterLayer) -> bool {
        let core = &self.engine.handler;
        if core.config.adapter_layer.set(layer.clone()).is_err() {
            return false;
        }
        // A namespace created from now on wraps itself (see `Namespace::new`); it is built under
        // the map's write lock, so this pass sees every earlier one.
        for ns in core.namespaces.read().unwrap().values() {
            ns.add_layer(&layer);
        }
        true
    }

    /// The TypeScript declarations of every namespace (cargo feature `typescript`), as the text
    /// of one `.d.ts` file: the types the handlers name, then per namespace
    /// `ClientToServerEvents`, `ServerToClientEvents` and `SocketAuth` (prefixed by the
    /// namespace's name: `/chat` → `ChatClientToServerEvents`). See [`crate::typescript`].
    ///
    /// # Errors
    ///
    /// [`crate::typescript::TypeScriptError`] when two Rust types get the same TypeScript name.
    #[cfg(feature = "typescript")]
    pub fn typescript(&self) -> Result<String, crate::typescript::TypeScriptError> {
        let mut namespaces: Vec<(String, crate::typescript::NamespaceTypes)> = self
            .engine
            .handler
            .namespaces
            .read()
            .unwrap()
            .values()
            .map(|ns| (ns.path().to_owned(), ns.types()))
            .collect();
        namespaces.sort_by(|a, b| a.0.cmp(&b.0));
        crate::typescript::render(&namespaces)
    }

    /// The shared state of type `T` given to [`SocketIoBuilder::state`], if any.
    pub fn state<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.core().state.get::<T>()
    }

    /// Declares a dynamic namespace (socket.io's `io.of(/^\/room-\d+$/)`): a client may
    /// connect to any path the regular expression `pattern` matches (the whole path, leading
    /// `/` included; anchor it with `^..$`). The first connection to such a path makes a child
    /// namespace there, with the handlers, middlewares and listeners set on the returned
    /// dynamic namespace (set before or after: they are shared); sockets, rooms and broadcasts
    /// are the child's own ([`SocketIo::of`] finds it, [`Namespace::children`] lists them).
    /// A path with a namespace of its own is never a child; dynamic namespaces are tried in the
    /// order they were declared. With [`SocketIoBuilder::cleanup_empty_child_namespaces`] a
    /// child is removed when its last socket leaves.
    ///
    /// The returned namespace's own path is `/_0`, `/_1`, .. (as in socket.io; clients cannot
    /// connect to it and it has no sockets: emit to its children, `for ns in
    /// parent.children() { ns.emit(..) }`, where socket.io's parent namespace emits to all of
    /// them). Server-side event handlers ([`Namespace::on_server_event`]) are per namespace and
    /// not shared with children. Fails when `pattern` is not a valid regular expression
    /// (`regex` crate syntax).
    ///
    /// ```
    /// use socketio_core::{SocketIo, SocketRef};
    /// let io = SocketIo::new();
    /// io.dynamic_ns(r"^/room-\d+$")?
    ///     .on("hello", |socket: SocketRef| async move { socket.ns().to_owned() });
    /// # Ok::<(), regex::Error>(())
    /// ```
    pub fn dynamic_ns(&self, pattern: &str) -> Result<Arc<Namespace>, regex::Error> {
        let regex = regex::Regex::new(pattern)?;
        Ok(self.add_parent(|name, config| Namespace::parent_regex(name, config, regex)))
    }

    /// Declares a dynamic namespace whose paths `accept` decides (socket.io's
    /// `io.of((name, auth, next) => ..)`, python-socketio's namespace `"*"` with
    /// `|_| true`); see [`SocketIo::dynamic_ns`]. `accept` gets the path only: refuse by auth
    /// with a middleware on the returned namespace. A panic in it is logged and matches
    /// nothing.
    ///
    /// ```
    /// use socketio_core::{SocketIo, SocketRef};
    /// let io = SocketIo::new();
    /// io.dynamic_ns_with(|path| path.starts_with("/tenant/"))
    ///     .on_connect(|socket: SocketRef| async move { socket.join("all") });
    /// ```
    pub fn dynamic_ns_with(
        &self,
        accept: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Arc<Namespace> {
        self.add_parent(|name, config| Namespace::parent_predicate(name, config, Box::new(accept)))
    }

    fn add_parent(
        &self,
        make: impl FnOnce(String, Arc<ServerConfig>) -> Namespace,
    ) -> Arc<Namespace> {
        let core = &self.engine.handler;
        let mut parents = core.parents.write().unwrap();
        let parent = Arc::new(make(format!("/_{}", parents.len()), core.config.clone()));
        parents.push(parent.clone());
        parent
    }

    /// The namespace at `path`, if it exists.
    pub fn of(&self, path: &str) -> Option<Arc<Namespace>> {
        self.engine
            .handler
            .namespace(&crate::protocol::normalize_namespace(path))
    }

    /// Selects the sockets of `room` in the main namespace `/`.
    pub fn to(&self, room: impl Into<String>) -> BroadcastOperator {
        self.ns("/").to(room)
    }

    /// Emits to every socket of the main namespace `/`.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.ns("/").emit(event, data)
    }

    /// The socket with this id in namespace `ns`.
    pub fn socket(&self, ns: &str, sid: Sid) -> Option<SocketRef> {
        self.of(ns)?.socket(sid)
    }

    /// The transport of socket `sid` in namespace `ns` (python-socketio's `transport(sid)`).
    pub fn transport(&self, ns: &str, sid: Sid) -> Option<Transport> {
        self.socket(ns, sid).map(|s| s.transport())
    }

    /// Disconnects socket `sid` from namespace `ns`; `false` if there is no such socket.
    pub fn disconnect(&self, ns: &str, sid: Sid) -> bool {
        self.socket(ns, sid).map(|s| s.disconnect()).is_some()
    }

    /// Runs a background task on the tokio runtime (python-socketio's `start_background_task`).
    pub fn spawn<F>(&self, task: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(task)
    }

    /// Number of open Engine.IO connections.
    pub fn connection_count(&self) -> usize {
        self.engine.session_count()
    }

    /// What this server holds now: its open Engine.IO sessions and, for each namespace in the
    /// path table (dynamic namespaces' children included, their parents not), its connected
    /// sockets and its rooms on this node (each socket's own room counts, as in
    /// [`Namespace::rooms`]). Sorted by namespace path. Meant for monitoring and leak checks
    /// (`bench/src/bin/soak-server.rs` reports it): an idle server has `sessions == 0` and
    /// every namespace at 0 sockets and 0 rooms. Each count is read under its own lock, so
    /// while clients come and go the numbers are a near-instant view, not one snapshot.
    pub fn stats(&self) -> ServerStats {
        let mut namespaces: Vec<NamespaceStats> = {
            let table = self.engine.handler.namespaces.read().unwrap();
            table
                .iter()
                .map(|(path, ns)| NamespaceStats {
                    path: path.clone(),
                    sockets: ns.socket_count(),
                    rooms: ns.rooms().len(),
                })
                .collect()
        };
        namespaces.sort_by(|a, b| a.path.cmp(&b.path));
        ServerStats {
            sessions: self.engine.session_count(),
            namespaces,
        }
    }

    /// Shuts the server down gracefully, waiting at most the builder's
    /// [`shutdown_timeout`](SocketIoBuilder::shutdown_timeout) (10 s by default); see
    /// [`SocketIo::close_within`].
    pub async fn close(&self) {
        self.close_within(self.core().shutdown_timeout).await
    }

    /// Shuts the server down gracefully, waiting at most `timeout` in all:
    ///
    /// 1. new connections are refused from now on (a handshake gets `503 Service Unavailable`;
    ///    stop your HTTP server's listener too, as `socketio_axum::serve_with_shutdown` does);
    /// 2. the acks this server awaits from clients ([`Socket::emit_with_ack`]) get a chance to
    ///    arrive, while time is left;
    /// 3. every socket leaves its namespace with [`DisconnectReason::ServerShuttingDown`](crate::DisconnectReason::ServerShuttingDown)
    ///    ("server shutting down", the reason socket.io 4.8's `io.close()` gives), which runs
    ///    the disconnect handlers;
    /// 4. each namespace's adapter is closed ([`Adapter::close`]: a clustered node leaves the
    ///    cluster, adapters stop their tasks);
    /// 5. every Engine.IO connection is closed after what was queued for it (a WebSocket gets
    ///    its queued packets and a close frame; a polling client its queued packets and the
    ///    close packet with its next GET), and `close` waits until they are all gone.
    ///
    /// As with the reference server, clients are not sent a Socket.IO DISCONNECT: they see
    /// their transport close (socket.io-client reports `"transport close"`) and reconnect,
    /// e.g. to another node. Calling it again (or concurrently) is harmless. When `timeout`
    /// passes first, `close` returns with connections still closing in the background.
    ///
    /// ```no_run
    /// # async fn run(io: socketio_core::SocketIo) {
    /// io.close_within(std::time::Duration::from_secs(5)).await;
    /// # }
    /// ```
    pub async fn close_within(&self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        let core = &self.engine.handler;
        self.engine.stop_accepting();
        let namespaces: Vec<Arc<Namespace>> =
            core.namespaces.read().unwrap().values().cloned().collect();
        // Acks in flight: wait (while time is left) for the clients' answers.
        let awaiting = || {
            namespaces
                .iter()
                .flat_map(|ns| ns.sockets())
                .any(|s| s.pending_acks() > 0)
        };
        while awaiting() && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for ns in &namespaces {
            for socket in ns.sockets() {
                socket.close(crate::socket::DisconnectReason::ServerShuttingDown, false);
            }
        }
        // A socket still waiting for its connect handler's verdict has no place in the
        // namespace yet: it goes with its connection below.
        let adapters =
            futures_util::future::join_all(namespaces.iter().map(|ns| ns.adapter().close()));
        if tokio::time::timeout_at(deadline, adapters).await.is_err() {
            tracing::warn!("adapters did not close within the shutdown timeout");
        }
        self.engine.close_all();
        while self.engine.session_count() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let left = self.engine.session_count();
        if left > 0 {
            tracing::warn!(left, "connections still closing after the shutdown timeout");
        } else {
            tracing::info!("server closed");
        }
    }

    /// The HTTP endpoint as a tower `Service`.
    pub fn service(&self) -> SocketIoService {
        SocketIoService::new(self.engine.clone())
    }

    /// The builder's [`shutdown_timeout`](SocketIoBuilder::shutdown_timeout): the longest
    /// [`SocketIo::close`] waits.
    pub fn shutdown_timeout(&self) -> Duration {
        self.core().shutdown_timeout
    }

    /// The path the service answers on (default `/socket.io/`).
    pub fn path(&self) -> &str {
        &self.engine.config.path
    }

    /// Installs the handlers of a `#[namespace]` type; returns its namespace. When a closure
    /// and a method handle the same event, the one registered last wins.
    ///
    /// ```ignore
    /// io.register(Chat::new(database));
    /// ```
    ///
    /// # Panics
    ///
    /// For a dynamic namespace (`#[namespace(dynamic = "..")]`) whose pattern is not a valid
    /// regular expression: a programming error, reported at registration.
    pub fn register<N: NamespaceHandlers>(&self, handlers: N) -> Arc<Namespace> {
        let ns = if N::DYNAMIC {
            self.dynamic_ns(N::PATH).unwrap_or_else(|err| {
                panic!("invalid dynamic namespace pattern {:?}: {err}", N::PATH)
            })
        } else {
            self.ns(N::PATH)
        };
        Arc::new(handlers).register(&ns);
        ns
    }

    /// Registers every `#[namespace]` type linked into the program that implements `Default`
    /// (those without one are logged and need [`SocketIo::register`]); returns how many.
    pub fn auto_namespaces(&self) -> usize {
        let mut registered = 0;
        for entry in inventory::iter::<NamespaceRegistration> {
            if (entry.register)(self) {
                tracing::debug!(
                    ns = entry.path,
                    ty = entry.type_name,
                    "namespace registered"
                );
                registered += 1;
            } else {
                tracing::warn!(
                    ns = entry.path,
                    ty = entry.type_name,
                    at = format!("{}:{}", entry.location.0, entry.location.1),
                    "no Default implementation: register it with `io.register(..)`"
                );
            }
        }
        registered
    }

    /// Joins the cluster of nodes that share `bus` under `channel` (e.g. `"socket.io"`): from
    /// now on every namespace's adapter is wrapped in a [`crate::cluster::BusAdapter`], so broadcasts and room
    /// operations reach the clients of every node. Call once, after building the server and
    /// before serving.
    ///
    /// ```no_run
    /// # async fn run(bus: impl socketio_core::cluster::Bus) -> Result<(), socketio_core::cluster::BusError> {
    /// let io = socketio_core::SocketIo::new();
    /// io.join_cluster(bus, "socket.io").await?;
    /// # Ok(()) }
    /// ```
    pub async fn join_cluster(
        &self,
        bus: impl crate::cluster::Bus,
        channel: &str,
    ) -> Result<(), crate::cluster::BusError> {
        if self.core().adapter_layer.get().is_some() {
            return Err(crate::cluster::BusError::new(
                "this server already joined a cluster",
            ));
        }
        crate::cluster::join(Arc::new(bus), channel, |layer| {
            self.add_adapter_layer(layer)
        })
        .await
    }
}

/// One `#[namespace]` type, collected at link time.
#[doc(hidden)]
pub struct NamespaceRegistration {
    /// The namespace path.
    pub path: &'static str,
    /// The type's name, for logs.
    pub type_name: &'static str,
    /// Where the `#[namespace]` attribute is.
    pub location: (&'static str, u32),
    /// Registers a `Default` instance; `false` when the type has no `Default`.
    pub register: fn(&SocketIo) -> bool,
}

inventory::collect!(NamespaceRegistration);

/// Builds a [`SocketIo`]. Every setting has the reference server's default.
#[derive(Debug, Clone, Default)]
pub struct SocketIoBuilder {
    engine: EngineConfig,
    server: ServerConfig,
}

impl SocketIoBuilder {
    /// The HTTP path (default `/socket.io/`).
    pub fn path(mut self, path: impl Into<String>) -> Self {
        let mut path = path.into();
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        if !path.ends_with('/') {
            path.push('/');
        }
        self.engine.path = path;
        self
    }

    /// How often the server pings (default 25 s).
    pub fn ping_interval(mut self, d: Duration) -> Self {
        self.engine.ping_interval = d;
        self
    }

    /// How long the server waits for a pong before closing (default 20 s).
    pub fn ping_timeout(mut self, d: Duration) -> Self {
        self.engine.ping_timeout = d;
        self
    }

    /// How long an upgrade to WebSocket may take (default 10 s).
    pub fn upgrade_timeout(mut self, d: Duration) -> Self {
        self.engine.upgrade_timeout = d;
        self
    }

    /// Largest accepted message or polling request body, in bytes (default 1 MB); larger ones
    /// close the connection (413 on polling). Announced to clients as `maxPayload`.
    pub fn max_payload(mut self, bytes: usize) -> Self {
        self.engine.max_payload = bytes;
        self
    }

    /// Alias of [`SocketIoBuilder::max_payload`] (python-socketio's `max_http_buffer_size`).
    pub fn max_http_buffer_size(self, bytes: usize) -> Self {
        self.max_payload(bytes)
    }

    /// How many frames may wait for one slow client before emits to it fail with
    /// [`EmitError::Full`] (default 1024).
    pub fn max_buffer_size(mut self, frames: usize) -> Self {
        self.engine.max_buffer_size = frames;
        self
    }

    /// Size of each WebSocket's read buffer, in bytes (default 2 KiB; a message larger than
    /// it is read in several reads, its bytes gathered apart). The largest per-connection
    /// memory cost of idle WebSocket clients (tungstenite allocates and fills it up front):
    /// raise it when clients often send messages of several KiB, lower it to save memory
    /// when they send little. At least 64.
    pub fn ws_read_buffer_size(mut self, bytes: usize) -> Self {
        self.engine.ws_read_buffer_size = bytes.max(64);
        self
    }

    /// Whether polling clients may upgrade to WebSocket (default true).
    pub fn allow_upgrades(mut self, allow: bool) -> Self {
        self.engine.allow_upgrades = allow;
        self
    }

    /// Whether Engine.IO v3 clients (`EIO=3`: socket.io-client 1.x/2.x, python-socketio 4.x)
    /// are accepted, speaking Socket.IO protocol v4 (default true).
    pub fn allow_eio3(mut self, allow: bool) -> Self {
        self.engine.allow_eio3 = allow;
        self
    }

    /// Which transports are accepted (default both). At least one must be enabled.
    pub fn transports(mut self, polling: bool, websocket: bool) -> Self {
        assert!(
            polling || websocket,
            "at least one transport must be enabled"
        );
        self.engine.transports = Transports { polling, websocket };
        self
    }

    /// Whether polling responses are compressed (gzip or deflate, per `Accept-Encoding`;
    /// default true, as engine.io's `httpCompression`). A response is compressed when it is
    /// at least [`SocketIoBuilder::compression_threshold`] long and some packet in it was not
    /// emitted with `compress(false)` ([`crate::Socket::compress`],
    /// [`crate::BroadcastOperator::compress`]).
    ///
    /// WebSocket messages are never compressed: engine.io 4+ has `perMessageDeflate` off by
    /// default too, and tungstenite (our WebSocket library) has no permessage-deflate, so the
    /// server does not offer the extension and a client never sends a compressed frame.
    pub fn http_compression(mut self, on: bool) -> Self {
        self.engine.http_compression = on;
        self
    }

    /// Smallest polling response that is compressed, in bytes (default 1024).
    pub fn compression_threshold(mut self, bytes: usize) -> Self {
        self.engine.compression_threshold = bytes;
        self
    }

    /// The name of the session cookie set on the handshake, or `None` for no cookie (default).
    pub fn cookie(mut self, name: Option<&str>) -> Self {
        self.engine.cookie = name.map(str::to_owned);
        self
    }

    /// Cross-origin policy (default [`Cors::Disabled`]).
    pub fn cors(mut self, cors: Cors) -> Self {
        self.engine.cors = cors;
        self
    }

    /// Allowed origins, python-socketio style: `["*"]` for any, else the exact origins.
    pub fn cors_allowed_origins<I, S>(self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let origins: Vec<String> = origins.into_iter().map(Into::into).collect();
        if origins.iter().any(|o| o == "*") {
            self.cors(Cors::Any)
        } else {
            self.cors(Cors::Origins(origins))
        }
    }

    /// Whether CORS responses allow credentials (cookies) (default false).
    pub fn cors_credentials(mut self, on: bool) -> Self {
        self.engine.cors_credentials = on;
        self
    }

    /// How long a client may take to connect to a namespace before its connection is closed
    /// (default 45 s).
    pub fn connect_timeout(mut self, d: Duration) -> Self {
        self.server.connect_timeout = d;
        self
    }

    /// Default time to wait for a client's ack (default 60 s).
    pub fn ack_timeout(mut self, d: Duration) -> Self {
        self.server.ack_timeout = d;
        self
    }

    /// Adds shared state of type `T`, handed to handlers and middlewares by the
    /// [`crate::State`] extractor (one value per type; a second `state` of the same type
    /// replaces the first). Also readable with [`SocketIo::state`].
    ///
    /// ```
    /// struct Db { url: String }
    /// let io = socketio_core::SocketIo::builder()
    ///     .state(Db { url: "postgres://..".into() })
    ///     .build();
    /// assert_eq!(io.state::<Db>().unwrap().url, "postgres://..");
    /// ```
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.server.state.insert(value);
        self
    }

    /// Whether a child namespace of a dynamic namespace ([`SocketIo::dynamic_ns`]) is removed,
    /// with its adapter, once its last socket leaves (socket.io's
    /// `cleanupEmptyChildNamespaces`; default false: children stay until the server stops). A
    /// later connection to the same path creates it again with the parent's handlers. Turn it
    /// on when clients pick the paths (one per room, per user): without it each distinct path
    /// a client connects to stays in memory.
    pub fn cleanup_empty_child_namespaces(mut self, on: bool) -> Self {
        self.server.cleanup_empty_children = on;
        self
    }

    /// The packet encoding of every client (socket.io's `parser` option; default
    /// [`Parser::Default`], socket.io-parser's JSON). [`Parser::MsgPack`] serves clients built
    /// with socket.io-msgpack-parser, on both transports, binary included.
    ///
    /// ```
    /// use socketio_core::{Parser, SocketIo};
    /// let io = SocketIo::builder().parser(Parser::MsgPack).build();
    /// ```
    pub fn parser(mut self, parser: Parser) -> Self {
        self.server.parser = parser;
        self
    }

    /// Turns on connection state recovery (socket.io 4.6+'s `connectionStateRecovery`): when a
    /// client loses its connection (transport close or error, ping timeout), its socket's id,
    /// rooms and [`Socket::data`](crate::Socket::data) are kept for
    /// `config.max_disconnection_duration` with every packet broadcast to its rooms since; a
    /// client that reconnects within that time with its private session id and the offset of
    /// the last packet it got (socket.io-client 4.6+ does by itself) gets the same socket back,
    /// [`Socket::recovered`](crate::Socket::recovered) true, and the missed packets in order
    /// right after the CONNECT answer. Otherwise (too late, unknown session, or the socket was
    /// disconnected on purpose by either side) it connects as a new socket.
    ///
    /// With it on, the CONNECT answer is `{sid, pid}`, every non-volatile broadcast without
    /// ack gets an offset appended as its last argument (the JS client's handlers see it as an
    /// extra argument, as with socket.io), and [`Socket::emit`](crate::Socket::emit) goes
    /// through the adapter to the room of the socket's own id so it gets one too. The default
    /// adapter keeps sessions and packets in memory ([`crate::adapter::LocalAdapter::with_recovery`]);
    /// an adapter set with [`SocketIoBuilder::adapter`] reads the settings from
    /// [`LocalSockets::recovery`] (the Redis Streams and Postgres adapters keep them in their
    /// store, so the client may come back on another node). Default: off.
    ///
    /// ```
    /// use socketio_core::{adapter::RecoveryConfig, SocketIo, SocketRef};
    /// let io = SocketIo::builder().connection_state_recovery(RecoveryConfig::default()).build();
    /// io.ns("/").on_connect(|socket: SocketRef| async move {
    ///     if !socket.recovered() {
    ///         socket.join("lobby"); // a recovered socket is back in its rooms already
    ///     }
    /// });
    /// ```
    pub fn connection_state_recovery(mut self, config: RecoveryConfig) -> Self {
        self.server.recovery = Some(config);
        self
    }

    /// The longest [`SocketIo::close`] waits for acks, adapters and the clients' connections to
    /// close (default 10 s; `socketio_axum`'s `serve` and `serve_with_shutdown` use it on
    /// Ctrl-C, SIGTERM or their signal). The reference server does not wait.
    pub fn shutdown_timeout(mut self, d: Duration) -> Self {
        self.server.shutdown_timeout = d;
        self
    }

    /// Longest event name and namespace name a client may send, in bytes (default 1024). A
    /// packet with a longer one is a protocol error: the connection is closed with
    /// [`DisconnectReason::ParseError`](crate::DisconnectReason::ParseError) ("parse error"),
    /// as for a reserved event name. The reference server has no such limit (only `maxPayload`
    /// bounds names); ours keeps hostile names out of handler lookups, logs and the
    /// CONNECT_ERROR echo of an unknown namespace.
    pub fn max_name_len(mut self, bytes: usize) -> Self {
        self.server.max_name_len = bytes;
        self
    }

    /// How long a polling POST may take to deliver its body (default 60 s). A slower client
    /// (slow loris) gets `408 Request Timeout` and its session ends with "transport error".
    /// The size is bounded by [`max_payload`](Self::max_payload), both from `Content-Length`
    /// and while streaming. Node bounds a whole request by its HTTP server's `requestTimeout`
    /// (300 s); this bound also holds when you mount [`SocketIo::service`] on your own server.
    pub fn http_body_timeout(mut self, d: Duration) -> Self {
        self.engine.http_body_timeout = d;
        self
    }

    /// How each namespace's [`Adapter`] is made (socket.io's `adapter` option): `factory` gets
    /// the namespace's sockets of this node and is called once per namespace. Default: a
    /// [`crate::adapter::LocalAdapter`] each (rooms in memory, one node; with sessions in
    /// memory under [`SocketIoBuilder::connection_state_recovery`]).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use socketio_core::adapter::LocalAdapter;
    /// let io = socketio_core::SocketIo::builder()
    ///     .adapter(|sockets| Arc::new(LocalAdapter::new(sockets)))
    ///     .build();
    /// ```
    pub fn adapter<A, F>(mut self, factory: F) -> Self
    where
        A: Adapter,
        F: Fn(LocalSockets) -> Arc<A> + Send + Sync + 'static,
    {
        self.server.adapter_factory = Arc::new(move |sockets| factory(sockets) as Arc<dyn Adapter>);
        self
    }

    /// Builds a bare Engine.IO server (no Socket.IO layer) with this builder's transport
    /// settings; `on_message` receives every message of every session.
    pub fn build_engine_io<F>(self, on_message: F) -> crate::EngineIo
    where
        F: Fn(crate::EngineIoSocket, crate::EngineMessage) + Send + Sync + 'static,
    {
        let core = crate::engine_io::EngineIoCore::new(Box::new(on_message));
        crate::EngineIo::new(Arc::new(Engine::new(self.engine, core)))
    }

    /// Builds the server. The main namespace `/` exists from the start.
    pub fn build(self) -> SocketIo {
        let core = ServerCore {
            config: Arc::new(self.server),
            namespaces: Arc::new(RwLock::new(HashMap::default())),
            parents: RwLock::default(),
            new_namespace: RwLock::default(),
            max_attachment_bytes: self.engine.max_payload.saturating_mul(10),
        };
        let io = SocketIo {
            engine: Arc::new(Engine::new(self.engine, core)),
        };
        io.ns("/");
        io
    }
}

/// A socket of namespace `ns` with no client behind it (its outbound queue is never read), for
/// benchmarks that call handlers directly. Not part of the public API.
#[doc(hidden)]
pub fn detached_socket(io: &SocketIo, ns: &str) -> SocketRef {
    use crate::engine::socket::{EngineSocket, HandshakeRequest, Protocol};
    let request = HandshakeRequest {
        uri: http::Uri::from_static("/socket.io/"),
        headers: Arc::default(),
        address: None,
    };
    let conn = Arc::new(EngineSocket::new(
        Sid::new(),
        Protocol::V4,
        Client::default(),
        Transport::Websocket,
        request,
        1024,
    ));
    let handshake = Handshake {
        auth: None,
        uri: conn.request.uri.clone(),
        headers: conn.request.headers.clone(),
        address: None,
        issued: crate::socket::now_ms(),
    };
    let ns = io.ns(ns);
    let socket = Arc::new(Socket::new(ns.clone(), conn, handshake));
    ns.sockets.register(&socket);
    socket
}
