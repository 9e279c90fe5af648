//! A client's connection to one namespace: identity, handshake, emits, acks, rooms.

use foldhash::HashMap;
use std::any::{Any, TypeId};
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;
use tokio::sync::oneshot;

pub(crate) mod config;
pub(crate) mod conn;
pub(crate) mod handler;
pub(crate) mod hooks;
pub(crate) mod namespace;
pub(crate) mod sockets;
pub(crate) mod state;
pub(crate) mod traffic;

pub use self::config::AdapterFactory;
pub(crate) use self::conn::Conn;
pub use self::hooks::ListenerId;
pub use self::namespace::Namespace;
pub use self::sockets::{LocalSockets, ServerEventHandler, SocketChange};
use crate::adapter_api::{BroadcastOptions, EncodedPacket, Session};
use crate::args::{Args, FromAck};
use crate::engine::packet::Frame;
use crate::engine::sid::Sid;
use crate::engine::socket::{CloseReason, Protocol, QueueError, Transport};
use crate::error::{AckError, EmitError};
use crate::protocol::packet::PacketType;
use crate::protocol::Parser;

/// A shared handle on a [`Socket`]; this is what handlers receive.
pub type SocketRef = Arc<Socket>;

/// Why a socket left its namespace. The strings match socket.io's reasons.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisconnectReason {
    /// The client closed the connection.
    TransportClose,
    /// The connection failed (bad frames, overlapping requests, write errors…).
    TransportError,
    /// The client stopped answering pings.
    PingTimeout,
    /// The client disconnected from this namespace.
    ClientNamespaceDisconnect,
    /// The server disconnected the socket ([`Socket::disconnect`]).
    ServerNamespaceDisconnect,
    /// The server closed the whole connection ([`Socket::close_connection`]).
    ForcedServerClose,
    /// The client sent a packet that could not be decoded.
    ParseError,
    /// The server is shutting down ([`crate::SocketIo::close`]); socket.io 4.8's `io.close()`
    /// gives its disconnect handlers the same reason. The client sees its transport close
    /// (`"transport close"` in socket.io-client) and may reconnect to another node.
    ServerShuttingDown,
}

impl DisconnectReason {
    /// The reason as socket.io spells it (e.g. `"transport close"`).
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
            DisconnectReason::ForcedServerClose => "forced server close",
            DisconnectReason::ParseError => "parse error",
            DisconnectReason::ServerShuttingDown => "server shutting down",
        }
    }

    pub(crate) fn from_close(reason: CloseReason) -> Self {
        match reason {
            CloseReason::TransportClose => DisconnectReason::TransportClose,
            CloseReason::TransportError => DisconnectReason::TransportError,
            CloseReason::PingTimeout => DisconnectReason::PingTimeout,
            CloseReason::ServerClose | CloseReason::ConnectTimeout => {
                DisconnectReason::ForcedServerClose
            }
            CloseReason::ParseError => DisconnectReason::ParseError,
        }
    }

    /// Whether a socket that left for this reason keeps its session for connection state
    /// recovery: the connection was lost (socket.io's `RECOVERABLE_DISCONNECT_REASONS`:
    /// transport close or error, ping timeout). A namespace disconnect by either side, a parse
    /// error and [`Socket::close_connection`] (socket.io's `socket.disconnect(true)`, whose
    /// sockets leave with "server namespace disconnect" there) are not.
    pub(crate) fn is_recoverable(self) -> bool {
        matches!(
            self,
            DisconnectReason::TransportClose
                | DisconnectReason::TransportError
                | DisconnectReason::PingTimeout
        )
    }
}

impl std::fmt::Display for DisconnectReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the client sent when it connected to the namespace.
#[derive(Debug, Clone)]
pub struct Handshake {
    /// The CONNECT packet's auth payload, if any.
    pub auth: Option<Value>,
    /// The URI of the first HTTP request of the connection (path and query).
    pub uri: http::Uri,
    /// The headers of that request (cookies, user agent, …), shared by the connection's
    /// sockets (read them as a `HeaderMap`: `handshake.headers.get("cookie")`).
    pub headers: Arc<http::HeaderMap>,
    /// The client's address: the TCP peer of the connection's first request (socket.io's
    /// `socket.handshake.address`; behind a proxy, the proxy's, and the client's own is in
    /// its `x-forwarded-for` header). `None` unless the server puts the peer's
    /// [`std::net::SocketAddr`] in the request's extensions: `socketio_axum::Server` does;
    /// with `axum::serve`, serve `into_make_service_with_connect_info::<SocketAddr>()` and add
    /// the layer `axum::middleware::from_fn(socketio_axum::peer_address)`.
    pub address: Option<std::net::SocketAddr>,
    /// When the socket connected to its namespace, in milliseconds since the Unix epoch
    /// (socket.io's `socket.handshake.issued`).
    pub issued: u64,
}

impl Handshake {
    /// A query parameter of the connection URL (e.g. the client's `query` option).
    pub fn query(&self, name: &str) -> Option<String> {
        form_urlencoded::parse(self.uri.query()?.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    }

    /// The handshake as socket.io's `socket.handshake` object, the shape `fetchSockets`
    /// answers carry between nodes and the admin UI shows: `{headers, time, address, xdomain,
    /// secure, issued, url, query, auth}`. A header with several values is one string joined
    /// with `", "` (Node's `IncomingMessage.headers`); `time` is `issued` as
    /// `Date.prototype.toJSON` writes it (Node writes `Date.toString()`'s local-time text);
    /// `secure` is whether the URI's scheme is `https`; `xdomain` whether the request had an
    /// `Origin` header; `address` and `auth` are left out when unknown.
    pub fn to_json(&self) -> Value {
        let mut headers = serde_json::Map::new();
        for name in self.headers.keys() {
            let values: Vec<String> = self
                .headers
                .get_all(name)
                .iter()
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
                .collect();
            headers.insert(name.as_str().to_owned(), Value::from(values.join(", ")));
        }
        let query: serde_json::Map<String, Value> =
            form_urlencoded::parse(self.uri.query().unwrap_or_default().as_bytes())
                .map(|(k, v)| (k.into_owned(), Value::from(v.into_owned())))
                .collect();
        let mut out = serde_json::Map::new();
        out.insert("headers".into(), Value::Object(headers));
        let time =
            crate::protocol::msgpack::js_date_json(i64::try_from(self.issued).unwrap_or(i64::MAX));
        out.insert("time".into(), time.map_or(Value::Null, Value::from));
        if let Some(address) = self.address {
            out.insert("address".into(), Value::from(address.ip().to_string()));
        }
        out.insert(
            "xdomain".into(),
            Value::from(self.headers.contains_key(http::header::ORIGIN)),
        );
        out.insert(
            "secure".into(),
            Value::from(self.uri.scheme_str() == Some("https")),
        );
        out.insert("issued".into(), Value::from(self.issued));
        out.insert("url".into(), Value::from(self.uri.to_string()));
        out.insert("query".into(), Value::Object(query));
        if let Some(auth) = &self.auth {
            out.insert("auth".into(), auth.clone());
        }
        Value::Object(out)
    }
}

/// Now, in milliseconds since the Unix epoch (a handshake's `issued`).
pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

const PENDING: u8 = 0;
const CONNECTED: u8 = 1;
const DISCONNECTED: u8 = 2;

/// One client connected to one namespace. Each namespace connection has its own id.
pub struct Socket {
    id: Sid,
    pub(crate) ns: Arc<Namespace>,
    pub(crate) conn: Conn,
    handshake: Handshake,
    state: AtomicU8,
    /// Whether it is in its namespace's table of connected sockets (`LocalSockets::insert`):
    /// rooms hold a socket from its first join, and deliver only to listed ones.
    listed: AtomicBool,
    /// Frames emitted while the connect handler runs, sent right after the CONNECT answer.
    pending: Mutex<Vec<(Frame, bool)>>,
    acks: Mutex<HashMap<u64, oneshot::Sender<Args>>>,
    next_ack: AtomicU64,
    extensions: Mutex<HashMap<TypeId, Box<dyn Any + Send + Sync>>>,
    /// The rooms it was in when it disconnected (python-socketio's disconnect handlers still see
    /// them).
    rooms_at_exit: Mutex<Option<Vec<String>>>,
    /// The private session id the client presents to recover this socket (socket.io's `pid`):
    /// set when the server has connection state recovery and the client speaks Socket.IO v5.
    pid: Option<String>,
    /// The serializable per-socket data (socket.io's `socket.data`), kept with the session.
    data: Mutex<Value>,
    /// Whether this socket is a recovered session.
    recovered: bool,
    /// Its own listeners and packet middlewares, made by the first one added
    /// (`socket/hooks.rs`).
    hooks: OnceLock<Box<hooks::SocketHooks>>,
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.id)
            .field("ns", &self.ns.path())
            .finish()
    }
}

impl Socket {
    pub(crate) fn new(ns: Arc<Namespace>, conn: Conn, handshake: Handshake) -> Self {
        // Socket.IO v4 clients never learn their id from the server: they compute it.
        let id = match conn.protocol {
            Protocol::V3 => Sid::legacy(ns.path(), conn.sid),
            Protocol::V4 => Sid::new(),
        };
        // Like socket.io's base64id: 15 random bytes, 20 url-safe characters.
        let pid = (ns.config().recovery.is_some() && conn.protocol == Protocol::V4)
            .then(|| Sid::new().to_string());
        Socket {
            id,
            ns,
            conn,
            handshake,
            state: AtomicU8::new(PENDING),
            listed: AtomicBool::new(false),
            pending: Mutex::new(Vec::new()),
            acks: Mutex::new(HashMap::default()),
            next_ack: AtomicU64::new(0),
            extensions: Mutex::new(HashMap::default()),
            rooms_at_exit: Mutex::new(None),
            pid,
            data: Mutex::new(Value::Object(Default::default())),
            recovered: false,
            hooks: OnceLock::new(),
        }
    }

    /// The socket of a recovered session: its id, private id and data (joining its rooms and
    /// queueing the missed packets is the caller's business).
    pub(crate) fn restored(
        ns: Arc<Namespace>,
        conn: Conn,
        handshake: Handshake,
        session: Session,
    ) -> Self {
        let mut socket = Socket::new(ns, conn, handshake);
        socket.id = session.sid;
        socket.pid = Some(session.pid);
        socket.data = Mutex::new(session.data);
        socket.recovered = true;
        socket
    }

    /// Whether this socket is a recovered session (socket.io's `socket.recovered`): the client
    /// lost its connection and came back within the server's
    /// [`max_disconnection_duration`](crate::adapter::RecoveryConfig::max_disconnection_duration),
    /// so it has its former id, rooms and [`Socket::data`], and the packets it missed follow
    /// the CONNECT answer. Always `false` without
    /// [`crate::SocketIoBuilder::connection_state_recovery`].
    ///
    /// ```
    /// # let io = socketio_core::SocketIo::new();
    /// use socketio_core::SocketRef;
    /// io.ns("/").on_connect(|socket: SocketRef| async move {
    ///     if !socket.recovered() {
    ///         socket.join("news"); // a recovered socket is back in its rooms already
    ///     }
    /// });
    /// ```
    pub fn recovered(&self) -> bool {
        self.recovered
    }

    /// The per-socket data (socket.io's `socket.data`) read as `T`: a serializable value
    /// that, unlike extensions ([`Socket::insert_extension`], for values that are not
    /// serializable), is kept with the session for connection state recovery and given back
    /// to the recovered socket, on this node or (with the Redis Streams or Postgres adapters)
    /// another one. It starts as an empty JSON object `{}`, as in socket.io.
    ///
    /// # Errors
    /// When the stored value does not fit `T` (e.g. it was never set and `T` has required
    /// fields).
    ///
    /// ```
    /// # fn handler(socket: socketio_core::SocketRef) -> Result<(), serde_json::Error> {
    /// #[derive(serde::Serialize, serde::Deserialize)]
    /// struct User { name: String }
    /// socket.set_data(&User { name: "ana".into() })?;
    /// let user: User = socket.data()?;
    /// # Ok(()) }
    /// ```
    pub fn data<T: serde::de::DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        T::deserialize(&*self.data.lock().unwrap())
    }

    /// The per-socket data as JSON (a copy); see [`Socket::data`].
    pub fn data_value(&self) -> Value {
        self.data.lock().unwrap().clone()
    }

    /// Replaces the per-socket data (see [`Socket::data`]).
    ///
    /// # Errors
    /// When `value` does not serialize to JSON (e.g. a map with non-string keys); the data is
    /// then unchanged.
    pub fn set_data<T: Serialize + ?Sized>(&self, value: &T) -> Result<(), serde_json::Error> {
        let value = serde_json::to_value(value)?;
        *self.data.lock().unwrap() = value;
        Ok(())
    }

    /// This socket's id (distinct from the Engine.IO session id and per namespace).
    pub fn id(&self) -> Sid {
        self.id
    }

    /// The namespace path, e.g. `"/chat"`.
    pub fn ns(&self) -> &str {
        self.ns.path()
    }

    /// The namespace this socket belongs to.
    pub fn namespace(&self) -> &Arc<Namespace> {
        &self.ns
    }

    /// The handshake: auth payload, request URI and headers.
    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    /// The transport the client uses now (`polling` until an upgrade completes).
    pub fn transport(&self) -> Transport {
        self.conn.transport()
    }

    /// Whether the socket is still connected to its namespace.
    pub fn connected(&self) -> bool {
        self.state.load(Ordering::Acquire) != DISCONNECTED
    }

    /// Sends an event to this client. `data` follows the argument rules of [`crate::args`]:
    /// `()` for none, a tuple for several, anything else for one.
    ///
    /// With connection state recovery on, the event goes through the namespace's adapter to
    /// the room of this socket's id (as socket.io does), so it is kept and carries an offset;
    /// it then fails only when `data` does not serialize.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        self.compress(true).emit(event, data)
    }

    /// Sends an event with already-built arguments (e.g. ones received, to echo them).
    pub fn emit_args(&self, event: &str, args: Args) -> Result<(), EmitError> {
        self.compress(true).emit_args(event, args)
    }

    /// Whether this socket has a private session id: the server has connection state recovery
    /// and the client speaks Socket.IO v5.
    pub(crate) fn has_session(&self) -> bool {
        self.pid.is_some()
    }

    /// Sends an EVENT without ack: through the adapter to the room of this socket's id when
    /// connection state recovery is on (the packet is then stored and gets its offset; the
    /// socket is in the namespace's table from the start of its connect handler then), else
    /// straight to the client.
    fn send_event(&self, frame: Frame, compress: bool) -> Result<(), EmitError> {
        if self.pid.is_none() {
            return self.send_frame_with(frame, compress);
        }
        if self.state.load(Ordering::Acquire) == DISCONNECTED {
            return Err(EmitError::Closed);
        }
        let to_self = BroadcastOptions {
            rooms: vec![self.id.to_string()],
            ..Default::default()
        };
        let packet = EncodedPacket::new(frame).with_compress(compress);
        self.ns.adapter().broadcast(&packet, &to_self);
        Ok(())
    }

    /// Emits to this client only if its transport can take the packet right now (socket.io's
    /// `socket.volatile.emit`): for data that is stale by the time a slow client would read it
    /// (positions, game ticks). The packet is dropped when the transport is not writable, as
    /// Engine.IO's `transport.writable` says: frames are already waiting in the socket's queue
    /// (the writer has not caught up), or the client polls and no GET is waiting at the
    /// server, or it is upgrading to WebSocket. Emits during the connect handler are held
    /// back as usual.
    ///
    /// ```
    /// # fn f(socket: socketio_core::SocketRef) {
    /// let sent = socket.volatile().emit("position", &(12.5, 3.0)).unwrap();
    /// if !sent { /* dropped: the client was not ready */ }
    /// # }
    /// ```
    pub fn volatile(&self) -> VolatileEmitter<'_> {
        VolatileEmitter {
            socket: self,
            compress: true,
        }
    }

    /// Emits to this client with socket.io's `compress` flag (default `true`): with
    /// `compress(false)`, an HTTP long-polling response made only of such packets is sent
    /// uncompressed, whatever [`crate::SocketIoBuilder::http_compression`] says (see
    /// [`crate::BroadcastOperator::compress`] for when a response is compressed). WebSocket
    /// frames are never compressed.
    ///
    /// ```
    /// # fn f(socket: socketio_core::SocketRef) {
    /// socket.compress(false).emit("avatar", &"<png as base64>").unwrap();
    /// # }
    /// ```
    pub fn compress(&self, compress: bool) -> Emitter<'_> {
        Emitter {
            socket: self,
            compress,
        }
    }

    /// Tells the namespace's outgoing listeners, if any, of an event sent to this socket
    /// (`args` is only built when there is one).
    fn notify_outgoing(&self, event: &str, args: impl FnOnce() -> Result<Args, serde_json::Error>) {
        let outgoing = &self.ns.sockets_handle().0.outgoing;
        let own = self.own_outgoing();
        if !outgoing.active() && own.is_none() {
            return;
        }
        if let Ok(args) = args() {
            if outgoing.active() {
                outgoing.notify(&[self], event, &args);
            }
            if let Some(own) = own {
                own.notify_outgoing(self, event, &args);
            }
        }
    }

    /// Queues a volatile frame if the transport is writable; `false` when it was dropped.
    pub(crate) fn send_volatile_frame(&self, frame: Frame, compress: bool) -> bool {
        let connected = self.state.load(Ordering::Acquire) == CONNECTED;
        if connected && !self.conn.writable() {
            tracing::trace!(sid = %self.id, "volatile packet dropped: transport not writable");
            return false;
        }
        self.send_frame_with(frame, compress).is_ok()
    }

    /// Sends an event and waits for the client's ack, decoded as `T` (see [`FromAck`]: a tuple
    /// for several arguments, [`Args`] for all of them whatever their number). Times out after
    /// the server's `ack_timeout` unless [`AckFuture::timeout`] sets another bound.
    ///
    /// ```no_run
    /// # async fn f(socket: socketio_core::SocketRef) -> Result<(), socketio_core::AckError> {
    /// use socketio_core::{Args, Value};
    /// // the client answers cb("ok", 2, buffer)
    /// let answer: Args = socket.emit_with_ack("ask", &"question").await?;
    /// let status: String = answer.get(0)?;
    /// let blob: Value = answer.get(2)?; // Value::Binary
    /// # Ok(()) }
    /// ```
    pub fn emit_with_ack<T: FromAck, D: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &D,
    ) -> AckFuture<T> {
        self.compress(true).emit_with_ack(event, data)
    }

    pub(crate) fn send_with_ack(
        &self,
        event: &str,
        args: Args,
        compress: bool,
    ) -> Result<oneshot::Receiver<Args>, EmitError> {
        self.notify_outgoing(event, || Ok(args.clone()));
        let (id, rx) = self.register_ack();
        let frame = self.parser().event(self.ns.path(), event, args, Some(id));
        self.send_expecting_ack(id, frame, compress)?;
        Ok(rx)
    }

    /// Sends a packet encoded once for many sockets (a broadcast with acks) under a fresh ack id
    /// of this socket, spliced into the packet (re-encoded first if another parser wrote it).
    pub(crate) fn send_packet_with_ack(
        &self,
        packet: &EncodedPacket,
    ) -> Result<oneshot::Receiver<Args>, EmitError> {
        let (id, rx) = self.register_ack();
        let frame = packet
            .frame_for(self.parser())
            .and_then(|frame| crate::protocol::with_ack_id(&frame, id));
        let Some(frame) = frame else {
            self.acks.lock().unwrap().remove(&id);
            return Err(EmitError::NotAnEvent);
        };
        self.send_expecting_ack(id, frame, packet.compress())?;
        Ok(rx)
    }

    /// A fresh ack id and the receiver of its answer.
    fn register_ack(&self) -> (u64, oneshot::Receiver<Args>) {
        let id = self.next_ack.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        let mut acks = self.acks.lock().unwrap();
        // Forget acks nobody waits for any more (timed out or dropped), now and then.
        if acks.len() >= 64 && acks.len().is_power_of_two() {
            acks.retain(|_, tx| !tx.is_closed());
        }
        acks.insert(id, tx);
        (id, rx)
    }

    fn send_expecting_ack(&self, id: u64, frame: Frame, compress: bool) -> Result<(), EmitError> {
        self.send_frame_with(frame, compress).inspect_err(|_| {
            self.acks.lock().unwrap().remove(&id);
        })
    }

    /// Joins a room of this namespace.
    pub fn join(&self, room: impl Into<String>) {
        self.ns.adapter().add_all(self.id, &[&room.into()]);
    }

    /// Leaves a room.
    pub fn leave(&self, room: &str) {
        self.ns.adapter().del(self.id, room);
    }

    /// The rooms this socket is in, sorted (its own id is always one of them). Once it has
    /// disconnected (in the disconnect handler), the rooms it was in when it left.
    pub fn rooms(&self) -> Vec<String> {
        if let Some(rooms) = &*self.rooms_at_exit.lock().unwrap() {
            return rooms.clone();
        }
        self.ns.adapter().socket_rooms(self.id)
    }

    /// Disconnects this socket from its namespace (the client gets a DISCONNECT packet; its
    /// other namespaces stay connected).
    pub fn disconnect(self: &Arc<Self>) {
        self.close(DisconnectReason::ServerNamespaceDisconnect, true);
    }

    /// Closes the client's whole connection, disconnecting all its namespaces.
    pub fn close_connection(&self) {
        self.conn.close(CloseReason::ServerClose);
    }

    /// Stores a typed value on the socket (one per type), replacing any previous one.
    pub fn insert_extension<T: Any + Send + Sync>(&self, value: T) -> Option<T> {
        self.extensions
            .lock()
            .unwrap()
            .insert(TypeId::of::<T>(), Box::new(value))
            .and_then(|old| old.downcast().ok().map(|b| *b))
    }

    /// A clone of the typed value stored with [`Socket::insert_extension`].
    pub fn extension<T: Any + Send + Sync + Clone>(&self) -> Option<T> {
        self.extensions
            .lock()
            .unwrap()
            .get(&TypeId::of::<T>())
            .and_then(|v| v.downcast_ref::<T>())
            .cloned()
    }

    /// The per-socket value of type `T`, made by `init` the first time it is asked for, as a
    /// shared handle: mutable per-socket state without a clone-and-reinsert dance (use a
    /// `Mutex`, an atomic or another type with interior mutability for `T`).
    ///
    /// It is stored as an `Arc<T>` extension, so [`Socket::extension::<Arc<T>>`] returns it and
    /// [`Socket::remove_extension::<Arc<T>>`] removes it. `init` runs without any lock held; when
    /// two calls race, the first value stored wins and both get it.
    ///
    /// ```
    /// # use socketio_core::SocketRef;
    /// # use std::sync::Mutex;
    /// # fn handler(socket: SocketRef, line: String) {
    /// let history = socket.extension_or_insert_with(|| Mutex::new(Vec::<String>::new()));
    /// history.lock().unwrap().push(line);
    /// # }
    /// ```
    ///
    /// [`Socket::extension::<Arc<T>>`]: Socket::extension
    /// [`Socket::remove_extension::<Arc<T>>`]: Socket::remove_extension
    pub fn extension_or_insert_with<T: Any + Send + Sync>(
        &self,
        init: impl FnOnce() -> T,
    ) -> Arc<T> {
        if let Some(found) = self.extension::<Arc<T>>() {
            return found;
        }
        let made = Arc::new(init());
        self.extensions
            .lock()
            .unwrap()
            .entry(TypeId::of::<Arc<T>>())
            .or_insert_with(|| Box::new(made))
            .downcast_ref::<Arc<T>>()
            .expect("extensions are keyed by their type")
            .clone()
    }

    /// Removes and returns a typed value.
    pub fn remove_extension<T: Any + Send + Sync>(&self) -> Option<T> {
        self.extensions
            .lock()
            .unwrap()
            .remove(&TypeId::of::<T>())
            .and_then(|old| old.downcast().ok().map(|b| *b))
    }

    /// Queues a frame, holding it back while the connect handler runs.
    pub(crate) fn send_frame(&self, frame: Frame) -> Result<(), EmitError> {
        self.send_frame_with(frame, true)
    }

    /// [`Socket::send_frame`] with socket.io's `compress` flag (for polling responses).
    pub(crate) fn send_frame_with(&self, frame: Frame, compress: bool) -> Result<(), EmitError> {
        if let Some(traffic) = self.ns.config().traffic.get() {
            traffic.sent(&frame);
        }
        if self.state.load(Ordering::Acquire) == PENDING {
            let mut pending = self.pending.lock().unwrap();
            // Re-check under the lock: `mark_connected` flips the state while holding it.
            if self.state.load(Ordering::Acquire) == PENDING {
                pending.push((frame, compress));
                return Ok(());
            }
        }
        if self.state.load(Ordering::Acquire) == DISCONNECTED {
            return Err(EmitError::Closed);
        }
        self.conn.send_with(frame, compress).map_err(|e| match e {
            QueueError::Full => EmitError::Full,
            QueueError::Closed => EmitError::Closed,
        })
    }

    /// Whether the namespace lists it as connected (see the `listed` field).
    pub(crate) fn listed(&self) -> bool {
        self.listed.load(Ordering::Acquire)
    }

    pub(crate) fn set_listed(&self, listed: bool) {
        self.listed.store(listed, Ordering::Release);
    }

    /// Sends the CONNECT answer, then everything emitted during the connect handler.
    pub(crate) fn mark_connected(&self) -> bool {
        let mut pending = self.pending.lock().unwrap();
        if self.state.load(Ordering::Acquire) != PENDING {
            return false;
        }
        // Socket.IO v5 tells the client its id (and its private session id with connection
        // state recovery); v4 (Engine.IO v3 clients) has no payload.
        let sid = match &self.pid {
            Some(pid) => serde_json::json!({ "sid": self.id, "pid": pid }),
            None => serde_json::json!({ "sid": self.id }),
        };
        let payload = (self.conn.protocol == Protocol::V4).then_some(&sid);
        let answer = self
            .parser()
            .control(PacketType::Connect, self.ns.path(), payload);
        if let Some(traffic) = self.ns.config().traffic.get() {
            traffic.sent(&answer);
        }
        let _ = self.conn.send(answer);
        for (frame, compress) in pending.drain(..) {
            let _ = self.conn.send_with(frame, compress);
        }
        self.state.store(CONNECTED, Ordering::Release);
        true
    }

    /// How many acks of this socket's emits are still awaited (for a graceful shutdown).
    pub(crate) fn pending_acks(&self) -> usize {
        let acks = self.acks.lock().unwrap();
        acks.values().filter(|tx| !tx.is_closed()).count()
    }

    /// An ack from the client.
    pub(crate) fn on_ack(&self, id: u64, args: Args) {
        if let Some(tx) = self.acks.lock().unwrap().remove(&id) {
            let _ = tx.send(args);
        }
    }

    /// Leaves the namespace: rooms, tables, pending acks; tells the client when `notify`, and
    /// runs the disconnect handler if the socket had been connected.
    pub(crate) fn close(self: &Arc<Self>, reason: DisconnectReason, notify: bool) {
        // Under the lock `mark_connected` holds from sending the CONNECT answer to marking the
        // socket connected: a client that disconnects as soon as it reads that answer finds a
        // connected socket here (and its disconnect handler runs), never a pending one.
        let was = {
            let mut pending = self.pending.lock().unwrap();
            pending.clear();
            self.state.swap(DISCONNECTED, Ordering::AcqRel)
        };
        if was == DISCONNECTED {
            return;
        }
        self.acks.lock().unwrap().clear();
        self.drop_hooks();
        let rooms = self.ns.adapter().socket_rooms(self.id);
        *self.rooms_at_exit.lock().unwrap() = Some(rooms.clone());
        // socket.io's `_onclose`: a connected socket that lost its connection keeps its session.
        if let (CONNECTED, Some(pid)) = (was, &self.pid) {
            if reason.is_recoverable() {
                self.ns.adapter().persist_session(Session {
                    sid: self.id,
                    pid: pid.clone(),
                    rooms,
                    data: self.data_value(),
                });
            }
        }
        self.ns.remove_socket(self.id);
        self.conn.data.remove_socket(self);
        if notify {
            let packet = self
                .parser()
                .control(PacketType::Disconnect, self.ns.path(), None);
            let _ = self.conn.send(packet);
        }
        tracing::debug!(sid = %self.id, ns = self.ns.path(), %reason, "socket disconnected");
        if was == CONNECTED {
            self.ns
                .sockets
                .notify(&SocketChange::Disconnected(self, reason));
            self.ns.run_disconnect_handler(self.clone(), reason);
        }
    }

    /// Sends an ACK packet with serializable data (straight to JSON when it holds no binary).
    pub(crate) fn send_ack_data<T: Serialize + ?Sized>(
        &self,
        id: u64,
        data: &T,
    ) -> Result<(), EmitError> {
        self.send_frame(self.parser().serialize_ack(self.ns.path(), id, data)?)
    }

    /// Sends an ACK packet answering the client's ack id.
    pub(crate) fn send_ack(&self, id: u64, args: Args) -> Result<(), EmitError> {
        self.send_frame(self.parser().ack(self.ns.path(), id, args))
    }

    /// The server's packet encoding.
    fn parser(&self) -> Parser {
        self.ns.config().parser
    }
}

/// Emits to one socket with socket.io's `compress` flag: [`Socket::compress`].
#[derive(Debug)]
pub struct Emitter<'a> {
    socket: &'a Socket,
    compress: bool,
}

impl<'a> Emitter<'a> {
    /// Emits `event` with `data`, as [`Socket::emit`] does.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        let socket = self.socket;
        let frame = socket
            .parser()
            .serialize_event(socket.ns.path(), event, data)?;
        // With a session the adapter delivers it, and tells the listeners then.
        if !socket.has_session() {
            socket.notify_outgoing(event, || Args::from_serialize(data));
        }
        socket.send_event(frame, self.compress)
    }

    /// The same with already-built arguments ([`Socket::emit_args`]).
    pub fn emit_args(&self, event: &str, args: Args) -> Result<(), EmitError> {
        let socket = self.socket;
        if !socket.has_session() {
            socket.notify_outgoing(event, || Ok(args.clone()));
        }
        let frame = socket.parser().event(socket.ns.path(), event, args, None);
        socket.send_event(frame, self.compress)
    }

    /// Emits and waits for the client's ack, as [`Socket::emit_with_ack`] does.
    pub fn emit_with_ack<T: FromAck, D: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &D,
    ) -> AckFuture<T> {
        let socket = self.socket;
        let rx = Args::from_serialize(data)
            .map_err(EmitError::from)
            .and_then(|args| socket.send_with_ack(event, args, self.compress));
        AckFuture::new(rx, socket.ns.config().ack_timeout)
    }

    /// A volatile emit with this flag ([`Socket::volatile`]).
    pub fn volatile(&self) -> VolatileEmitter<'a> {
        VolatileEmitter {
            socket: self.socket,
            compress: self.compress,
        }
    }
}

/// Volatile emits to one socket: [`Socket::volatile`].
#[derive(Debug)]
pub struct VolatileEmitter<'a> {
    socket: &'a Socket,
    compress: bool,
}

impl VolatileEmitter<'_> {
    /// Sets socket.io's `compress` flag of the emit (see [`Socket::compress`]).
    pub fn compress(mut self, compress: bool) -> Self {
        self.compress = compress;
        self
    }

    /// Emits `event` with `data` (the argument rules of [`Socket::emit`]) if the transport can
    /// take it now: `Ok(true)` when queued, `Ok(false)` when dropped (not writable, or the
    /// socket is gone); an error only when `data` does not serialize.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<bool, EmitError> {
        let socket = self.socket;
        let frame = socket
            .parser()
            .serialize_event(socket.ns.path(), event, data)?;
        // Told before the transport decides (socket.io notifies before a volatile drop too),
        // but only of an event that could be encoded.
        socket.notify_outgoing(event, || Args::from_serialize(data));
        Ok(socket.send_volatile_frame(frame, self.compress))
    }

    /// The same with already-built arguments.
    pub fn emit_args(&self, event: &str, args: Args) -> bool {
        let socket = self.socket;
        socket.notify_outgoing(event, || Ok(args.clone()));
        let frame = socket.parser().event(socket.ns.path(), event, args, None);
        socket.send_volatile_frame(frame, self.compress)
    }
}

/// The answer to [`Socket::emit_with_ack`]: await it for the client's ack.
///
/// The event is sent when `emit_with_ack` is called, not when this is awaited.
#[must_use = "the ack is only received when this is awaited"]
pub struct AckFuture<T> {
    rx: Result<oneshot::Receiver<Args>, EmitError>,
    timeout: Duration,
    _marker: std::marker::PhantomData<fn() -> T>,
}

impl<T: FromAck> AckFuture<T> {
    pub(crate) fn new(rx: Result<oneshot::Receiver<Args>, EmitError>, timeout: Duration) -> Self {
        AckFuture {
            rx,
            timeout,
            _marker: std::marker::PhantomData,
        }
    }

    /// Sets how long to wait for the ack.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
}

impl<T: FromAck + Send + 'static> IntoFuture for AckFuture<T> {
    type Output = Result<T, AckError>;
    type IntoFuture = Pin<Box<dyn Future<Output = Self::Output> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        let answer = wait_ack(self.rx, self.timeout);
        Box::pin(async move { Ok(T::from_ack(answer.await?)?) })
    }
}

/// Waits for a client's raw ack arguments, within `timeout`.
pub(crate) async fn wait_ack(
    rx: Result<oneshot::Receiver<Args>, EmitError>,
    timeout: Duration,
) -> Result<Args, AckError> {
    match tokio::time::timeout(timeout, rx?).await {
        Err(_) => Err(AckError::Timeout(timeout)),
        Ok(Err(_)) => Err(AckError::Closed),
        Ok(Ok(args)) => Ok(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `socket.handshake` as Node's fetchSockets answers and the admin UI carry it.
    #[test]
    fn a_handshake_reads_as_node_writes_socket_handshake() {
        let mut headers = http::HeaderMap::new();
        headers.append("accept", "a".parse().unwrap());
        headers.append("accept", "b".parse().unwrap());
        headers.insert("origin", "http://example.com".parse().unwrap());
        let handshake = Handshake {
            auth: Some(serde_json::json!({"token": "t"})),
            uri: "/socket.io/?EIO=4&transport=polling&x=a%20b"
                .parse()
                .unwrap(),
            headers: Arc::new(headers),
            address: Some("10.0.0.7:5000".parse().unwrap()),
            issued: 1_700_000_000_123,
        };
        assert_eq!(
            handshake.to_json(),
            serde_json::json!({
                "headers": {"accept": "a, b", "origin": "http://example.com"},
                "time": "2023-11-14T22:13:20.123Z",
                "address": "10.0.0.7",
                "xdomain": true,
                "secure": false,
                "issued": 1_700_000_000_123u64,
                "url": "/socket.io/?EIO=4&transport=polling&x=a%20b",
                "query": {"EIO": "4", "transport": "polling", "x": "a b"},
                "auth": {"token": "t"},
            })
        );
    }
}
