//! Namespaces: handler tables and connected sockets; rooms and broadcasts through the adapter.

use foldhash::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, OnceLock, RwLock};

use super::config::{AdapterLayer, ServerConfig};
use super::handler::{
    drop_panicked, CatchPanic, ConnectHandler, DisconnectHandler, Event, EventHandler, HandlerSite,
    IntoConnectHandler, IntoDisconnectHandler, IntoEventHandler,
};
use super::{DisconnectReason, LocalSockets, SocketRef};
use crate::adapter_api::{Adapter, AdapterError, BroadcastOptions};
use crate::args::Args;
use crate::engine::sid::Sid;
use crate::future::BoxFuture;

/// The handlers of a namespace.
#[derive(Default)]
struct Handlers {
    connect: Option<Arc<dyn ConnectHandler>>,
    disconnect: Option<Arc<dyn DisconnectHandler>>,
    /// Keyed by a shared name, so a panic can be logged with it without a copy per event.
    events: HashMap<Arc<str>, Arc<dyn EventHandler>>,
    fallback: Option<Arc<dyn EventHandler>>,
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
    handlers: RwLock<Handlers>,
    sockets: LocalSockets,
    /// The adapter made by the server's factory.
    adapter: Arc<dyn Adapter>,
    /// The adapter that replaced it once the server joined a cluster (it wraps the first one).
    layered: OnceLock<Arc<dyn Adapter>>,
    config: Arc<ServerConfig>,
    /// What the TypeScript declarations say about this namespace.
    #[cfg(feature = "typescript")]
    types: RwLock<crate::typescript::NamespaceTypes>,
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
        let sockets = LocalSockets::new(path.clone(), config.parser, config.recovery);
        let adapter = (config.adapter_factory)(sockets.clone());
        let ns = Namespace {
            path,
            handlers: RwLock::default(),
            sockets,
            adapter,
            layered: OnceLock::new(),
            config,
            #[cfg(feature = "typescript")]
            types: RwLock::default(),
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

    /// Sets the closure that handles every event without a handler of its own
    /// (python-socketio's `"*"` catch-all, `#[on_any]` in a `#[namespace]`), replacing any
    /// previous one. It takes the same parameters as [`Namespace::on`]; add an
    /// [`EventName`](crate::EventName) parameter for the event's name, `Args` for all its
    /// arguments. Its return value is the ack.
    ///
    /// ```
    /// # let io = socketio_core::SocketIo::new();
    /// use socketio_core::{Args, EventName, SocketRef};
    /// io.ns("/").on_any(|_s: SocketRef, name: EventName, args: Args| async move {
    ///     (name.to_string(), args.len())
    /// });
    /// ```
    pub fn on_any<M>(&self, handler: impl IntoEventHandler<M>) -> &Self {
        self.on_fallback(handler.into_handler().into())
    }

    /// Sets the handler for events that have none (python-socketio's `"*"` catch-all). It
    /// receives the event name in [`Event::name`]; use an [`EventHandler`] implementation or
    /// `Args` to read everything. [`Namespace::on_any`] takes a closure.
    pub fn on_fallback(&self, handler: Arc<dyn EventHandler>) -> &Self {
        self.handlers.write().unwrap().fallback = Some(handler);
        self
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
    }

    /// Routes an event of `socket` to its namespace's handler for `name` (or the fallback),
    /// run here up to its first pending `.await` (see [`run_handler`]).
    pub(crate) fn dispatch(socket: SocketRef, name: String, args: Args, ack_id: Option<u64>) {
        let this = socket.namespace();
        let found = {
            let handlers = this.handlers.read().unwrap();
            match handlers.events.get_key_value(name.as_str()) {
                Some((key, handler)) => Some((Some(key.clone()), handler.clone())),
                None => handlers.fallback.clone().map(|h| (None, h)),
            }
        };
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
