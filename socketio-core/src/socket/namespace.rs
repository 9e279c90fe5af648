//! Namespaces: handler tables and connected sockets; rooms and broadcasts through the adapter.

use foldhash::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock, Weak};

use super::config::{AdapterLayer, ServerConfig};
use super::handler::{
    call_connect, drop_panicked, CatchPanic, ConnectHandler, DisconnectHandler, Event,
    EventHandler, HandlerSite, IntoConnectHandler, IntoDisconnectHandler, IntoEventHandler,
};
use super::{DisconnectReason, LocalSockets, SocketRef};
use crate::adapter_api::{Adapter, AdapterError, BroadcastOptions};
use crate::args::Args;
use crate::engine::sid::Sid;
use crate::error::PacketRejection;
use crate::future::BoxFuture;

/// A packet middleware ([`Namespace::use_packet_middleware`]): sees each incoming event's name
/// and arguments (which it may change) and lets it through, drops it or refuses it.
pub type PacketMiddleware =
    Arc<dyn Fn(&SocketRef, &str, &mut Args) -> Result<(), PacketRejection> + Send + Sync>;

/// The server's table of namespaces by path (what a dynamic namespace's children are added to
/// and removed from).
pub(crate) type NamespaceTable = RwLock<HashMap<String, Arc<Namespace>>>;

/// The handlers of a namespace.
#[derive(Default)]
struct Handlers {
    /// Namespace middlewares, run in order before the connect handler.
    middlewares: Vec<Arc<dyn ConnectHandler>>,
    connect: Option<Arc<dyn ConnectHandler>>,
    disconnect: Option<Arc<dyn DisconnectHandler>>,
    /// Keyed by a shared name, so a panic can be logged with it without a copy per event.
    events: HashMap<Arc<str>, Arc<dyn EventHandler>>,
    fallback: Option<Arc<dyn EventHandler>>,
    /// Any-event listeners (socket.io's `onAny`), run in order before the packet middlewares
    /// and the handler.
    any: Vec<Arc<dyn EventHandler>>,
    /// Packet middlewares (socket.io's `socket.use`), run in order before the handler.
    packet_middlewares: Vec<PacketMiddleware>,
}

/// Which paths a dynamic namespace serves.
enum Matcher {
    Regex(regex::Regex),
    Predicate(Box<dyn Fn(&str) -> bool + Send + Sync>),
}

/// Where a namespace stands among dynamic namespaces.
enum Family {
    /// A namespace of its own path.
    Plain,
    /// A dynamic namespace: the paths it matches and the children made so far.
    Parent {
        matcher: Matcher,
        children: RwLock<HashMap<String, Arc<Namespace>>>,
    },
    /// A child of a dynamic namespace: shares its parent's handlers.
    Child {
        parent: Arc<Namespace>,
        table: Weak<NamespaceTable>,
    },
}

/// A namespace (`/`, `/chat`, …): its own handlers, sockets and rooms (kept by its
/// [`Adapter`]).
///
/// Obtained from [`crate::SocketIo::ns`]; handlers may be added at any time. Events of one socket
/// are dispatched in the order they arrive: each handler runs until its first pending `.await`
/// before the next event is read, and continues as its own task from there, so a slow handler
/// does not hold up the next event.
///
/// A panic in any handler (event, fallback, argument extractor, connect, disconnect; before or
/// after an `.await`) is contained and logged at error level with the namespace, event and
/// socket id. The client gets the error ack `{"error": "internal server error"}` for an event
/// it wanted acknowledged, or a CONNECT_ERROR with that message when the connect handler
/// panicked; the socket and its connection carry on. (This needs the default
/// `panic = "unwind"`; a build with `panic = "abort"` stops the process.)
pub struct Namespace {
    path: String,
    /// Shared by a dynamic namespace and its children.
    handlers: Arc<RwLock<Handlers>>,
    pub(crate) sockets: LocalSockets,
    /// The adapter made by the server's factory.
    adapter: Arc<dyn Adapter>,
    /// The adapter that replaced it once the server joined a cluster (it wraps the first one).
    layered: OnceLock<Arc<dyn Adapter>>,
    config: Arc<ServerConfig>,
    /// What the TypeScript declarations say about this namespace.
    #[cfg(feature = "typescript")]
    types: RwLock<crate::typescript::NamespaceTypes>,
    family: Family,
    /// Connections being admitted (middlewares, connect handler): a child with some is not
    /// empty.
    connecting: AtomicUsize,
}

impl std::fmt::Debug for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Namespace")
            .field("path", &self.path)
            .finish()
    }
}

impl Namespace {
    pub(crate) fn new(path: String, config: Arc<ServerConfig>) -> Self {
        Self::with_family(path, config, Arc::default(), Arc::default(), Family::Plain)
    }

    /// A dynamic namespace (named `/_0`, `/_1`, .. as in socket.io) serving the paths that
    /// `regex` matches.
    pub(crate) fn parent_regex(
        name: String,
        config: Arc<ServerConfig>,
        regex: regex::Regex,
    ) -> Self {
        Self::new_parent(name, config, Matcher::Regex(regex))
    }

    /// A dynamic namespace serving the paths `predicate` accepts.
    pub(crate) fn parent_predicate(
        name: String,
        config: Arc<ServerConfig>,
        predicate: Box<dyn Fn(&str) -> bool + Send + Sync>,
    ) -> Self {
        Self::new_parent(name, config, Matcher::Predicate(predicate))
    }

    fn new_parent(name: String, config: Arc<ServerConfig>, matcher: Matcher) -> Self {
        let family = Family::Parent {
            matcher,
            children: RwLock::default(),
        };
        Self::with_family(name, config, Arc::default(), Arc::default(), family)
    }

    /// Whether this is a dynamic namespace serving `path`.
    pub(crate) fn matches(&self, path: &str) -> bool {
        match &self.family {
            Family::Parent {
                matcher: Matcher::Regex(re),
                ..
            } => re.is_match(path),
            Family::Parent {
                matcher: Matcher::Predicate(f),
                ..
            } => {
                // A panicking predicate is a bug of the application: it matches nothing.
                catch_unwind(AssertUnwindSafe(|| f(path))).unwrap_or_else(|payload| {
                    tracing::error!(
                        ns = self.path,
                        path,
                        panic = crate::panic::message(&*payload),
                        "dynamic namespace predicate panicked"
                    );
                    false
                })
            }
            _ => false,
        }
    }

    /// A new child of this dynamic namespace at `path`, added to the parent's children; the
    /// caller adds it to `table`, whose write lock it holds (it is only kept here, weakly, to
    /// leave the table when empty).
    pub(crate) fn make_child(
        self: &Arc<Self>,
        path: &str,
        table: &Arc<NamespaceTable>,
    ) -> Arc<Namespace> {
        let family = Family::Child {
            parent: self.clone(),
            table: Arc::downgrade(table),
        };
        let child = Arc::new(Self::with_family(
            path.to_owned(),
            self.config.clone(),
            self.handlers.clone(),
            self.sockets.0.outgoing.clone(),
            family,
        ));
        if let Family::Parent { children, .. } = &self.family {
            children
                .write()
                .unwrap()
                .insert(path.to_owned(), child.clone());
        }
        tracing::debug!(parent = self.path, ns = path, "child namespace created");
        child
    }

    /// The children of this dynamic namespace ([`crate::SocketIo::dynamic_ns`]) that exist
    /// now, in no particular order; empty for other namespaces. socket.io's parent namespace
    /// emits to all of them; here, emit to each: `for ns in parent.children() { ns.emit(..) }`.
    pub fn children(&self) -> Vec<Arc<Namespace>> {
        match &self.family {
            Family::Parent { children, .. } => children.read().unwrap().values().cloned().collect(),
            _ => Vec::new(),
        }
    }

    /// The dynamic namespace this one was made from, if it is a child of one.
    pub fn parent(&self) -> Option<&Arc<Namespace>> {
        match &self.family {
            Family::Child { parent, .. } => Some(parent),
            _ => None,
        }
    }

    /// Counts a connection being admitted (called under the table's read lock, so a cleanup,
    /// which holds the write lock, sees it).
    pub(crate) fn start_connecting(&self) {
        self.connecting.fetch_add(1, Ordering::AcqRel);
    }

    /// A connection counted by [`Namespace::start_connecting`] was admitted or refused.
    pub(crate) fn end_connecting(&self) {
        self.connecting.fetch_sub(1, Ordering::AcqRel);
        self.release_if_empty();
    }

    /// Removes a child of a dynamic namespace from the server's table (and from its parent's
    /// children) once it has no socket and no connection being admitted, when the server was
    /// built with `cleanup_empty_child_namespaces(true)` (socket.io's
    /// `cleanupEmptyChildNamespaces`).
    fn release_if_empty(&self) {
        let Family::Child { parent, table } = &self.family else {
            return;
        };
        if !self.config.cleanup_empty_children || !self.is_idle() {
            return;
        }
        let Some(table) = table.upgrade() else { return };
        let mut table = table.write().unwrap();
        // Again under the write lock: a connection counts itself in under the read lock.
        let current = table
            .get(&self.path)
            .is_some_and(|ns| std::ptr::eq(&**ns, self));
        if !current || !self.is_idle() {
            return;
        }
        table.remove(&self.path);
        if let Family::Parent { children, .. } = &parent.family {
            children.write().unwrap().remove(&self.path);
        }
        tracing::debug!(
            parent = parent.path,
            ns = self.path,
            "empty child namespace removed"
        );
    }

    fn is_idle(&self) -> bool {
        self.connecting.load(Ordering::Acquire) == 0 && self.sockets.is_empty()
    }

    fn with_family(
        path: String,
        config: Arc<ServerConfig>,
        handlers: Arc<RwLock<Handlers>>,
        outgoing: Arc<super::sockets::Outgoing>,
        family: Family,
    ) -> Self {
        let sockets = LocalSockets::new(path.clone(), config.parser, config.recovery, outgoing);
        let adapter = (config.adapter_factory)(sockets.clone());
        let ns = Namespace {
            path,
            handlers,
            sockets,
            adapter,
            layered: OnceLock::new(),
            config,
            #[cfg(feature = "typescript")]
            types: RwLock::default(),
            family,
            connecting: AtomicUsize::new(0),
        };
        if let Some(layer) = ns.config.adapter_layer.get() {
            ns.add_layer(layer);
        }
        ns
    }

    /// The adapter through which this namespace reaches rooms and other nodes.
    pub fn adapter(&self) -> &dyn Adapter {
        match self.layered.get() {
            Some(layered) => &**layered,
            None => &*self.adapter,
        }
    }

    /// Wraps the adapter with `layer` (once; later calls do nothing).
    pub(crate) fn add_layer(&self, layer: &AdapterLayer) {
        if self.layered.get().is_none() {
            let _ = self.layered.set(layer(&self.sockets, self.adapter.clone()));
        }
    }

    /// The path, e.g. `"/chat"`.
    pub fn path(&self) -> &str {
        &self.path
    }

    pub(crate) fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Sets the connect handler: it sees the socket (handshake included) and the auth payload,
    /// and may refuse the connection.
    ///
    /// ```
    /// # let io = socketio_core::SocketIo::new();
    /// use socketio_core::{ConnectError, SocketRef};
    /// #[derive(serde::Deserialize)]
    /// struct Auth { token: String }
    /// io.ns("/admin").on_connect(|_socket: SocketRef, auth: Option<Auth>| async move {
    ///     match auth {
    ///         Some(a) if a.token == "secret" => Ok(()),
    ///         _ => Err(ConnectError::new("unauthorized")),
    ///     }
    /// });
    /// ```
    pub fn on_connect<M>(&self, handler: impl IntoConnectHandler<M>) -> &Self {
        self.handlers.write().unwrap().connect = Some(handler.into_handler().into());
        self
    }

    /// Adds a middleware (socket.io's `namespace.use((socket, next) => ..)`): middlewares run
    /// in the order they were added when a client connects, before the connect handler, and
    /// any of them can refuse the connection. The first refusal stops the chain; the client
    /// gets CONNECT_ERROR `{"message": .., "data": ..}` from the [`ConnectError`](crate::ConnectError) (its
    /// `connect_error` event: `err.message`, `err.data`). The connect handler only runs when
    /// every middleware accepted.
    ///
    /// A middleware takes the same parameters as [`Namespace::on_connect`]: the socket (with
    /// [`crate::Socket::handshake`]: headers, query, auth), then any number of
    /// [`FromConnect`](crate::FromConnect) values: the auth payload as a `Deserialize` type,
    /// [`State`](crate::State). It returns `()` or `Result<(), E: Into<ConnectError>>`. A
    /// socket's extensions set by a middleware ([`crate::Socket::insert_extension`]) are there
    /// for the handlers. A panic refuses with `"internal server error"` (logged).
    ///
    /// ```
    /// # let io = socketio_core::SocketIo::new();
    /// use socketio_core::{ConnectError, SocketRef};
    /// io.ns("/admin")
    ///     .use_middleware(|socket: SocketRef| async move {
    ///         match socket.handshake().headers.get("x-token") {
    ///             Some(t) if t == "secret" => Ok(()),
    ///             _ => Err(ConnectError::new("unauthorized")
    ///                 .with_data(&serde_json::json!({ "retry": false }))),
    ///         }
    ///     })
    ///     .on_connect(|socket: SocketRef| async move { socket.join("admins") });
    /// ```
    pub fn use_middleware<M>(&self, middleware: impl IntoConnectHandler<M>) -> &Self {
        self.use_middleware_handler(middleware.into_handler().into())
    }

    /// Adds an already-built middleware (what `#[middleware]` registers); see
    /// [`Namespace::use_middleware`].
    pub fn use_middleware_handler(&self, middleware: Arc<dyn ConnectHandler>) -> &Self {
        self.handlers.write().unwrap().middlewares.push(middleware);
        self
    }

    /// Runs the middlewares in order for `socket` (socket.io's `Namespace.run`), stopping at
    /// the first refusal. Panics are contained (see `call_connect`).
    pub(crate) async fn run_middlewares(
        &self,
        socket: &SocketRef,
        auth: &Option<serde_json::Value>,
    ) -> Result<(), crate::ConnectError> {
        let middlewares = {
            let handlers = self.handlers.read().unwrap();
            if handlers.middlewares.is_empty() {
                return Ok(());
            }
            handlers.middlewares.clone()
        };
        for middleware in middlewares {
            let site = HandlerSite::middleware(socket.clone());
            call_connect(site, &*middleware, socket.clone(), auth.clone()).await?;
        }
        Ok(())
    }

    /// Sets the disconnect handler.
    pub fn on_disconnect<M>(&self, handler: impl IntoDisconnectHandler<M>) -> &Self {
        self.handlers.write().unwrap().disconnect = Some(handler.into_handler().into());
        self
    }

    /// Event names a handler cannot be registered for: the Node server's lifecycle events
    /// (`socket.io`'s `RESERVED_EVENTS`), which a client's EVENT packet never triggers. Use
    /// [`Namespace::on_connect`] and [`Namespace::on_disconnect`] for the lifecycle.
    pub const RESERVED_EVENTS: [&'static str; 6] = crate::protocol::packet::RESERVED_EVENTS;

    /// Sets the handler of `event`, replacing any previous one. Its return value is the ack.
    ///
    /// ```
    /// # let io = socketio_core::SocketIo::new();
    /// use socketio_core::SocketRef;
    /// io.ns("/").on("add", |_s: SocketRef, a: i64, b: i64| async move { a + b });
    /// ```
    ///
    /// # Panics
    ///
    /// When `event` is one of [`Namespace::RESERVED_EVENTS`] (`"connect"`, `"disconnect"`, ..):
    /// a programming error, reported where the handler is registered (as axum does for
    /// overlapping routes) rather than a handler that silently never runs.
    pub fn on<M>(&self, event: impl Into<String>, handler: impl IntoEventHandler<M>) -> &Self {
        self.on_handler(event, handler.into_handler().into())
    }

    /// Sets an already-built handler for `event` (what `#[namespace]` registers). The last
    /// handler set for an event wins, whether a closure or a method.
    ///
    /// # Panics
    ///
    /// When `event` is one of [`Namespace::RESERVED_EVENTS`], like [`Namespace::on`].
    pub fn on_handler(&self, event: impl Into<String>, handler: Arc<dyn EventHandler>) -> &Self {
        let event: Arc<str> = event.into().into();
        if Self::RESERVED_EVENTS.contains(&&*event) {
            panic!(
                "\"{event}\" is a reserved event name in namespace {}: a client cannot send it; \
                 use on_connect/on_disconnect for the socket's lifecycle",
                self.path
            );
        }
        let replaced = self
            .handlers
            .write()
            .unwrap()
            .events
            .insert(event.clone(), handler);
        if replaced.is_some() {
            tracing::debug!(ns = self.path, event = &*event, "event handler replaced");
        }
        // A new handler has new types: the old declaration no longer holds.
        #[cfg(feature = "typescript")]
        self.types.write().unwrap().remove_event(&event);
        self
    }

    /// Declares the TypeScript shape of the client → server event `event` (cargo feature
    /// `typescript`): `A` is the tuple of handler parameters after the socket (`(String, u32)`;
    /// `AckSender`, `Args` and `EventName` are understood), `R` the ack as a tuple of its
    /// arguments (`()` for none, `(T,)` for one) or `Result<(T,), E>` (acked as `T` or
    /// `{"error": e}`). Call it after [`Namespace::on`]: registering a handler forgets the
    /// event's previous declaration. See [`crate::typescript`].
    ///
    /// ```
    /// # let io = socketio_core::SocketIo::new();
    /// use socketio_core::SocketRef;
    /// io.ns("/")
    ///     .on("add", |_s: SocketRef, a: i32, b: i32| async move { a + b })
    ///     .describe_event::<(i32, i32), (i32,)>("add");
    /// ```
    #[cfg(feature = "typescript")]
    pub fn describe_event<A, R>(&self, event: &str) -> &Self
    where
        A: crate::typescript::DescribeArgs,
        R: crate::typescript::AckTypes,
    {
        self.describe_event_types(event, crate::typescript::EventTypes::new::<A, R>(&[]))
    }

    /// Declares the TypeScript shape of `event` from a built description (what
    /// `#[namespace(.., typescript)]` calls, with parameter names).
    #[cfg(feature = "typescript")]
    pub fn describe_event_types(&self, event: &str, types: crate::typescript::EventTypes) -> &Self {
        self.types.write().unwrap().set_event(event, types);
        self
    }

    /// Declares the TypeScript type of the connect handler's auth payload (cargo feature
    /// `typescript`); `Option<A>` when it may be absent.
    #[cfg(feature = "typescript")]
    pub fn describe_auth<A: crate::typescript::TS + 'static>(&self) -> &Self {
        self.types
            .write()
            .unwrap()
            .set_auth(Some(crate::typescript::auth_type::<A>()));
        self
    }

    /// Declares that the connect handler reads no auth payload (`SocketAuth = undefined`).
    #[cfg(feature = "typescript")]
    pub fn describe_no_auth(&self) -> &Self {
        self.types.write().unwrap().set_auth(None);
        self
    }

    /// Declares the server → client events of `E` (a `#[derive(ServerEvents)]` enum with
    /// `#[server_events(typescript)]`) as this namespace's `ServerToClientEvents` (cargo
    /// feature `typescript`).
    #[cfg(feature = "typescript")]
    pub fn describe_emits<E: crate::typescript::ServerEventTypes + ?Sized>(&self) -> &Self {
        self.types.write().unwrap().add_emits::<E>();
        self
    }

    /// What this namespace's TypeScript declarations say (cargo feature `typescript`).
    #[cfg(feature = "typescript")]
    pub fn types(&self) -> crate::typescript::NamespaceTypes {
        self.types.read().unwrap().clone()
    }

    /// The handler of `event`, if one is set.
    pub fn handler(&self, event: &str) -> Option<Arc<dyn EventHandler>> {
        self.handlers.read().unwrap().events.get(event).cloned()
    }

    /// Sets an already-built connect handler.
    pub fn on_connect_handler(&self, handler: Arc<dyn ConnectHandler>) -> &Self {
        self.handlers.write().unwrap().connect = Some(handler);
        self
    }

    /// Sets an already-built disconnect handler.
    pub fn on_disconnect_handler(&self, handler: Arc<dyn DisconnectHandler>) -> &Self {
        self.handlers.write().unwrap().disconnect = Some(handler);
        self
    }

    /// Adds an any-event listener (socket.io's `socket.onAny`, here for every socket of the
    /// namespace): it sees every event a client sends, whether or not it has a handler, before
    /// the packet middlewares and the handler run, after the listeners added before it. It
    /// takes the same parameters as [`Namespace::on`] (an [`EventName`](crate::EventName)
    /// parameter gives the event's name, `Args` all its arguments) but cannot answer the ack:
    /// its return value is dropped and an `AckSender` parameter answers nothing (the handler
    /// owns the ack). Arguments that do not fit its parameters skip it (logged at debug level).
    ///
    /// ```
    /// # let io = socketio_core::SocketIo::new();
    /// use socketio_core::{Args, EventName, SocketRef};
    /// io.ns("/").on_any(|socket: SocketRef, name: EventName, args: Args| async move {
    ///     println!("{} sent {name} with {} arguments", socket.id(), args.len());
    /// });
    /// ```
    pub fn on_any<M>(&self, listener: impl IntoEventHandler<M>) -> &Self {
        self.on_any_handler(listener.into_handler().into())
    }

    /// Adds an any-event listener that runs before those already added (socket.io's
    /// `prependAny`); see [`Namespace::on_any`].
    pub fn prepend_any<M>(&self, listener: impl IntoEventHandler<M>) -> &Self {
        self.handlers
            .write()
            .unwrap()
            .any
            .insert(0, listener.into_handler().into());
        self
    }

    /// Adds an already-built any-event listener (what `#[on_any]` registers); see
    /// [`Namespace::on_any`].
    pub fn on_any_handler(&self, listener: Arc<dyn EventHandler>) -> &Self {
        self.handlers.write().unwrap().any.push(listener);
        self
    }

    /// Adds a listener of every event sent to a socket of this namespace (socket.io's
    /// `socket.onAnyOutgoing`, for every socket of the namespace): the socket, the event name
    /// and its arguments, for emits to the socket ([`crate::Socket::emit`],
    /// `emit_with_ack`, ..) and broadcasts that reach it (from this node or another). Acks are
    /// not events and are not seen. It runs synchronously, before the packet is queued, so keep
    /// it short; a panic is logged and the packet still goes out. With no outgoing listener an
    /// emit costs nothing more.
    ///
    /// ```
    /// # let io = socketio_core::SocketIo::new();
    /// use socketio_core::{Args, Socket};
    /// io.ns("/").on_any_outgoing(|socket: &Socket, event: &str, args: &Args| {
    ///     println!("to {}: {event} ({} arguments)", socket.id(), args.len());
    /// });
    /// ```
    pub fn on_any_outgoing(
        &self,
        listener: impl Fn(&super::Socket, &str, &Args) + Send + Sync + 'static,
    ) -> &Self {
        self.sockets.add_outgoing(Arc::new(listener));
        self
    }

    /// Adds a watcher of this namespace's sockets on this node: it sees each socket connect
    /// and disconnect (with the reason), and each room a socket joins or leaves, whoever made
    /// it (the socket, a selection such as `ns.to(r).join(..)`, another node, the
    /// disconnection). This is what socket.io code gets from `nsp.on("connection")`,
    /// `socket.on("disconnect")` and its adapter's `join-room` / `leave-room` events; the admin
    /// UI's instrumentation is built on it. It runs synchronously where the change happens, so
    /// keep it short and do not block; a panic is logged. Room changes come from the adapter:
    /// [`crate::adapter::LocalAdapter`] and adapters wrapping it report them; one keeping its
    /// own rooms reports them with [`LocalSockets::room_changed`].
    ///
    /// ```
    /// # let io = socketio_core::SocketIo::new();
    /// use socketio_core::SocketChange;
    /// io.ns("/").watch(|change: &SocketChange<'_>| match change {
    ///     SocketChange::RoomJoined { sid, room } => println!("{sid} joined {room}"),
    ///     other => println!("{other:?}"),
    /// });
    /// ```
    pub fn watch(
        &self,
        watcher: impl Fn(&super::SocketChange<'_>) + Send + Sync + 'static,
    ) -> &Self {
        self.sockets.add_watcher(Arc::new(watcher));
        self
    }

    /// Adds a packet middleware (socket.io's `socket.use((packet, next) => ..)`, here for every
    /// socket of the namespace): it sees the name and arguments of each incoming event after
    /// the any-event listeners and before the handler, in the order middlewares were added,
    /// and may change the arguments. It returns `Ok(())` to let the event through,
    /// `Err(PacketRejection::Drop)` to drop it silently, or `Err(PacketRejection::Error(msg))`
    /// to refuse it: the client then gets the error ack `{"error": msg}` if it asked for an
    /// ack (socket.io instead emits an `error` event on the server-side socket; here it is
    /// logged at debug level). A panic refuses it with `"internal server error"` (logged at
    /// error level). Later middlewares and the handler do not run for a dropped or refused
    /// event.
    ///
    /// It runs synchronously, inline in the socket's event order: use a connect middleware or
    /// the handler for anything that waits.
    ///
    /// ```
    /// # let io = socketio_core::SocketIo::new();
    /// use socketio_core::{Args, PacketRejection, SocketRef};
    /// io.ns("/").use_packet_middleware(|socket: &SocketRef, event: &str, _args: &mut Args| {
    ///     if event.starts_with("admin:") && !socket.rooms().contains(&"admins".to_owned()) {
    ///         return Err(PacketRejection::Error("forbidden".into()));
    ///     }
    ///     Ok(())
    /// });
    /// ```
    pub fn use_packet_middleware(
        &self,
        middleware: impl Fn(&SocketRef, &str, &mut Args) -> Result<(), PacketRejection>
            + Send
            + Sync
            + 'static,
    ) -> &Self {
        self.handlers
            .write()
            .unwrap()
            .packet_middlewares
            .push(Arc::new(middleware));
        self
    }

    /// Sets the closure that handles every event without a handler of its own
    /// (python-socketio's `"*"` catch-all, `#[fallback]` in a `#[namespace]`), replacing any
    /// previous one. It takes the same parameters as [`Namespace::on`]; add an
    /// [`EventName`](crate::EventName) parameter for the event's name, `Args` for all its
    /// arguments. Its return value is the ack. (To see every event, handled or not, use
    /// [`Namespace::on_any`].)
    ///
    /// ```
    /// # let io = socketio_core::SocketIo::new();
    /// use socketio_core::{Args, EventName, SocketRef};
    /// io.ns("/").fallback(|_s: SocketRef, name: EventName, args: Args| async move {
    ///     (name.to_string(), args.len())
    /// });
    /// ```
    pub fn fallback<M>(&self, handler: impl IntoEventHandler<M>) -> &Self {
        self.on_fallback(handler.into_handler().into())
    }

    /// Sets the handler for events that have none (python-socketio's `"*"` catch-all). It
    /// receives the event name in [`Event::name`]; use an [`EventHandler`] implementation or
    /// `Args` to read everything. [`Namespace::fallback`] takes a closure.
    pub fn on_fallback(&self, handler: Arc<dyn EventHandler>) -> &Self {
        self.handlers.write().unwrap().fallback = Some(handler);
        self
    }

    pub(crate) fn sockets_handle(&self) -> &LocalSockets {
        &self.sockets
    }

    /// The connected socket with this id.
    pub fn socket(&self, sid: Sid) -> Option<SocketRef> {
        self.sockets.get(sid)
    }

    /// The connected sockets among `ids` (one lock for all).
    pub(crate) fn sockets_among(&self, ids: impl IntoIterator<Item = Sid>) -> Vec<SocketRef> {
        self.sockets.among(ids)
    }

    /// All connected sockets.
    pub fn sockets(&self) -> Vec<SocketRef> {
        self.sockets.all()
    }

    /// How many sockets are connected to this namespace on this node (`sockets().len()`
    /// without building the list).
    pub fn socket_count(&self) -> usize {
        self.sockets.len()
    }

    /// Names of the rooms that have members on this node, sorted.
    pub fn rooms(&self) -> Vec<String> {
        self.adapter().rooms()
    }

    /// Names of the rooms that have members on any node of the cluster, sorted (this node's
    /// alone outside a cluster). Nodes that do not answer within a few seconds are left out.
    pub async fn all_rooms(&self) -> Vec<String> {
        self.adapter().all_rooms().await
    }

    /// Sets the handler of the server-side event `event`, which other nodes of a cluster send
    /// with their `serverSideEmit` (socket.io's `io.on(event, (...args, ack) => ..)` on the
    /// server, not on a socket), replacing any previous one. The handler gets the arguments and
    /// returns its ack, sent back only when the sender asked for acks (a Node sender keeps only
    /// the first argument of it). An event without a handler is dropped and not acked, as in
    /// socket.io. Only adapters that talk to other nodes deliver server-side events.
    ///
    /// ```
    /// # let io = socketio_core::SocketIo::new();
    /// use socketio_core::Args;
    /// io.ns("/").on_server_event("ping", |args: Args| async move {
    ///     Args::from_serialize(&("pong", args.len())).unwrap()
    /// });
    /// ```
    pub fn on_server_event<F, Fut>(&self, event: impl Into<String>, handler: F) -> &Self
    where
        F: Fn(Args) -> Fut + Send + Sync + 'static,
        Fut: std::future::Future<Output = Args> + Send + 'static,
    {
        self.sockets
            .set_server_handler(event.into(), Arc::new(move |args| Box::pin(handler(args))));
        self
    }

    /// Emits `event` with `args` to the server-side handlers of every other node of the
    /// cluster (socket.io's `serverSideEmit(event, ...args)`), without waiting for acks. Fails
    /// only when the adapter cannot send it ([`AdapterError::Unsupported`] for adapters that
    /// have no wire format for it); a single node has no one to send to and succeeds.
    pub async fn server_side_emit(&self, event: &str, args: Args) -> Result<(), AdapterError> {
        self.adapter()
            .server_side_emit(event, args, None)
            .await
            .map(drop)
    }

    /// Emits `event` with `args` to the server-side handlers of every other node and gathers
    /// their acks, one per node that answered within `timeout` (socket.io's
    /// `serverSideEmitWithAck`, which instead fails as a whole when a node is late).
    pub async fn server_side_emit_with_ack(
        &self,
        event: &str,
        args: Args,
        timeout: std::time::Duration,
    ) -> Result<Vec<Args>, AdapterError> {
        self.adapter()
            .server_side_emit(event, args, Some(timeout))
            .await
    }

    /// How many server nodes serve this namespace, this one included (1 outside a cluster).
    pub async fn server_count(&self) -> usize {
        self.adapter().server_count().await
    }

    /// Makes every socket leave `room` (python-socketio's `close_room`), on every node of a
    /// cluster.
    pub fn close_room(&self, room: &str) {
        let opts = BroadcastOptions {
            rooms: vec![room.to_owned()],
            ..Default::default()
        };
        self.adapter().del_sockets(&opts, &[room.to_owned()]);
    }

    pub(crate) fn connect_handler(&self) -> Option<Arc<dyn ConnectHandler>> {
        self.handlers.read().unwrap().connect.clone()
    }

    pub(crate) fn add_socket(&self, socket: SocketRef) {
        self.sockets.insert(socket);
    }

    pub(crate) fn remove_socket(&self, sid: Sid) {
        self.sockets.remove(sid);
        self.adapter().del_all(sid);
        self.release_if_empty();
    }

    /// Routes an event of `socket` to its namespace's handler for `name` (or the fallback),
    /// run here up to its first pending `.await` (see [`run_handler`]).
    pub(crate) fn dispatch(socket: SocketRef, name: String, mut args: Args, ack_id: Option<u64>) {
        let this = socket.namespace();
        let (found, hooks) = {
            let handlers = this.handlers.read().unwrap();
            let found = match handlers.events.get_key_value(name.as_str()) {
                Some((key, handler)) => Some((Some(key.clone()), handler.clone())),
                None => handlers.fallback.clone().map(|h| (None, h)),
            };
            let hooks = (!handlers.any.is_empty() || !handlers.packet_middlewares.is_empty())
                .then(|| (handlers.any.clone(), handlers.packet_middlewares.clone()));
            (found, hooks)
        };
        // Namespace-wide listeners, the socket's own, then namespace-wide packet middlewares,
        // the socket's own.
        let own = socket.own_incoming();
        if hooks.is_some() || own.is_some() {
            let (listeners, middlewares) = hooks.unwrap_or_default();
            let (own_listeners, own_middlewares) = own.unwrap_or_default();
            run_listeners(&socket, &name, &args, listeners);
            run_listeners(&socket, &name, &args, own_listeners);
            for middlewares in [middlewares, own_middlewares] {
                if !run_packet_middlewares(&socket, &name, &mut args, ack_id, middlewares) {
                    return;
                }
            }
        }
        let Some((key, handler)) = found else {
            tracing::debug!(ns = this.path, event = name, "no handler for event");
            return;
        };
        // The fallback's events have no shared name to log a panic with: they pay for a copy.
        let label = key.unwrap_or_else(|| Arc::from(name.as_str()));
        let site = HandlerSite::event(socket.clone(), label);
        let ack = ack_id.map(|id| super::handler::AckSender::new(socket.clone(), id));
        run_handler(site, move || {
            handler.call(socket, Event { name, args, ack })
        });
    }

    /// Runs the disconnect handler, if any, in a task of its own; a panic is logged.
    pub(crate) fn run_disconnect_handler(&self, socket: SocketRef, reason: DisconnectReason) {
        let handler = self.handlers.read().unwrap().disconnect.clone();
        let Some(handler) = handler else { return };
        let site = HandlerSite::disconnect(socket.clone());
        match catch_unwind(AssertUnwindSafe(|| handler.call(socket, reason))) {
            Ok(fut) => {
                tokio::spawn(async move {
                    if let Err(payload) = CatchPanic::new(fut).await {
                        site.log_panic(&*payload);
                    }
                });
            }
            Err(payload) => site.log_panic(&*payload),
        }
    }
}

/// Runs the any-event listeners of an incoming event, each with its own copy of the arguments
/// and no ack, in order (each up to its first pending `.await`, as handlers).
fn run_listeners(
    socket: &SocketRef,
    name: &str,
    args: &Args,
    listeners: Vec<Arc<dyn EventHandler>>,
) {
    for listener in listeners {
        let site = HandlerSite::event(socket.clone(), Arc::from(name));
        let event = Event {
            name: name.to_owned(),
            args: args.clone(),
            ack: None,
        };
        let socket = socket.clone();
        run_handler(site, move || listener.call(socket, event));
    }
}

/// Runs the packet middlewares of an incoming event in order; `false` when one dropped or
/// refused it (the refusal answered as the error ack when the client asked for one).
fn run_packet_middlewares(
    socket: &SocketRef,
    name: &str,
    args: &mut Args,
    ack_id: Option<u64>,
    middlewares: Vec<PacketMiddleware>,
) -> bool {
    for middleware in middlewares {
        let verdict = catch_unwind(AssertUnwindSafe(|| middleware(socket, name, args)));
        let message = match verdict {
            Ok(Ok(())) => continue,
            Ok(Err(PacketRejection::Drop)) => {
                tracing::debug!(sid = %socket.id(), ns = socket.ns(), event = name, "event dropped by a packet middleware");
                return false;
            }
            Ok(Err(PacketRejection::Error(message))) => {
                tracing::debug!(sid = %socket.id(), ns = socket.ns(), event = name, message, "event refused by a packet middleware");
                message
            }
            Err(payload) => {
                HandlerSite::event(socket.clone(), Arc::from(name)).log_panic(&*payload);
                super::handler::INTERNAL_ERROR.to_owned()
            }
        };
        if let Some(id) = ack_id {
            let _ = super::handler::AckSender::new(socket.clone(), id).send_error(&message);
        }
        return false;
    }
    true
}

/// Runs a handler (`call` builds its future) up to its first pending `.await` right here, and
/// spawns the rest.
///
/// Like socket.io on Node, handlers therefore start in the order their events arrived, and one
/// that never waits (most do not) finishes, ack included, before the next event is looked at.
/// That keeps replies in order and saves a task spawn per event.
///
/// A panic in `call`, in the first poll or in the spawned rest is contained: logged with `site`,
/// and an ack the handler still held is answered with the error ack (see `drop_panicked`).
pub(crate) fn run_handler(site: HandlerSite, call: impl FnOnce() -> BoxFuture<()>) {
    use std::task::{Context, Poll, Waker};

    let mut cx = Context::from_waker(Waker::noop());
    let mut slot = None;
    let first = catch_unwind(AssertUnwindSafe(|| {
        slot.insert(call()).as_mut().poll(&mut cx)
    }));
    match (first, slot) {
        (Ok(Poll::Ready(())), _) => {}
        (Ok(Poll::Pending), Some(fut)) => {
            tokio::spawn(async move {
                if let Err(payload) = CatchPanic::new(fut).await {
                    site.log_panic(&*payload);
                }
            });
        }
        (Ok(Poll::Pending), None) => {}
        (Err(payload), fut) => {
            site.log_panic(&*payload);
            drop_panicked(fut);
        }
    }
}
