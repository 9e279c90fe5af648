//! [`LocalSockets`]: the narrow handle through which an adapter reaches the sockets of its
//! namespace on this node.

use foldhash::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use crate::adapter_api::{EncodedPacket, RecoveryConfig, SocketInfo};
use crate::args::Args;
use crate::engine::sid::Sid;
use crate::error::AckError;
use crate::future::BoxFuture;
use crate::protocol::Parser;
use crate::socket::{wait_ack, Socket, SocketRef};

/// A handler of server-side events ([`crate::Namespace::on_server_event`]): it gets the
/// arguments another node emitted and returns its ack (ignored when the sender asked for none).
pub type ServerEventHandler = Arc<dyn Fn(Args) -> BoxFuture<Args> + Send + Sync>;

/// A listener of the events sent to a namespace's sockets
/// ([`crate::Namespace::on_any_outgoing`]).
pub(crate) type OutgoingListener = Arc<dyn Fn(&Socket, &str, &Args) + Send + Sync>;

/// What happened to a socket of a namespace, as a watcher ([`crate::Namespace::watch`]) sees
/// it: socket.io's `connection` and `disconnect` events and its adapter's `join-room` /
/// `leave-room` events, in one stream.
#[derive(Debug)]
#[non_exhaustive]
pub enum SocketChange<'a> {
    /// The socket is connected: middlewares and the connect handler accepted it (rooms the
    /// connect handler joined are already [`RoomJoined`](SocketChange::RoomJoined)).
    Connected(&'a SocketRef),
    /// A connected socket left the namespace, for this reason (its rooms are left first).
    Disconnected(&'a SocketRef, crate::DisconnectReason),
    /// Socket `sid` joined `room` (it was not in it; its own id's room included).
    RoomJoined {
        /// The socket id.
        sid: Sid,
        /// The room.
        room: &'a str,
    },
    /// Socket `sid` left `room` (it was in it), by itself, by a selection or on disconnection.
    RoomLeft {
        /// The socket id.
        sid: Sid,
        /// The room.
        room: &'a str,
    },
}

/// A watcher of [`SocketChange`]s ([`crate::Namespace::watch`]).
pub(crate) type Watcher = Arc<dyn Fn(&SocketChange<'_>) + Send + Sync>;

/// The outgoing listeners of a namespace (shared by a dynamic namespace and its children).
#[derive(Default)]
pub(crate) struct Outgoing {
    /// Whether `list` is non-empty: the one load an emit pays when there is no listener.
    any: AtomicBool,
    list: RwLock<Vec<OutgoingListener>>,
    /// How many sockets have outgoing listeners of their own ([`crate::Socket::on_any_outgoing`]):
    /// while none has, a broadcast does not look at each socket for them.
    pub(crate) own: std::sync::atomic::AtomicUsize,
}

impl Outgoing {
    /// Whether there is any listener.
    pub(crate) fn active(&self) -> bool {
        self.any.load(Ordering::Acquire)
    }

    /// Tells every listener that `event` with `args` goes to each of `sockets`; a panic is
    /// logged and the packet still goes out.
    pub(crate) fn notify(&self, sockets: &[&Socket], event: &str, args: &Args) {
        let listeners = self.list.read().unwrap().clone();
        for socket in sockets {
            for listener in &listeners {
                call_outgoing(listener, socket, event, args, "namespace");
            }
        }
    }
}

/// Calls one outgoing listener (`of`: whose it is, the namespace's or the socket's, for the
/// log); a panic in it is logged and the packet still goes out.
pub(crate) fn call_outgoing(
    listener: &OutgoingListener,
    socket: &Socket,
    event: &str,
    args: &Args,
    of: &'static str,
) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(|| listener(socket, event, args))) {
        tracing::error!(
            ns = socket.ns(),
            event,
            sid = %socket.id(),
            listener_of = of,
            panic = crate::panic::message(&*payload),
            "outgoing listener panicked"
        );
    }
}

/// The connected sockets of one namespace on this node.
pub(crate) struct NsSockets {
    path: String,
    /// The server's packet encoding (a packet in another one is re-encoded on delivery).
    parser: Parser,
    /// The server's connection state recovery settings, if it has them.
    recovery: Option<RecoveryConfig>,
    map: RwLock<HashMap<Sid, SocketRef>>,
    /// Sockets of this namespace not connected yet (middlewares and connect handler running):
    /// they may join rooms already, so the adapter finds them here by id.
    joining: Mutex<HashMap<Sid, SocketRef>>,
    pub(crate) outgoing: Arc<Outgoing>,
    /// Handlers of events other nodes emit to this namespace's server side, by event name.
    server_handlers: RwLock<HashMap<String, ServerEventHandler>>,
    /// Watchers of connections, disconnections and room changes.
    watchers: RwLock<Vec<Watcher>>,
}

/// What an adapter may do with the sockets of its namespace on this node: deliver an encoded
/// packet, ask for acks, disconnect, describe. Cheap to clone. Selecting by room is the
/// adapter's business; this handle only knows socket ids.
#[derive(Clone)]
pub struct LocalSockets(pub(crate) Arc<NsSockets>);

impl std::fmt::Debug for LocalSockets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalSockets")
            .field("nsp", &self.0.path)
            .finish()
    }
}

impl LocalSockets {
    pub(crate) fn new(
        path: String,
        parser: Parser,
        recovery: Option<RecoveryConfig>,
        outgoing: Arc<Outgoing>,
    ) -> Self {
        LocalSockets(Arc::new(NsSockets {
            path,
            parser,
            recovery,
            map: RwLock::default(),
            joining: Mutex::default(),
            outgoing,
            server_handlers: RwLock::default(),
            watchers: RwLock::default(),
        }))
    }

    /// The namespace path, e.g. `"/chat"`.
    pub fn nsp(&self) -> &str {
        &self.0.path
    }

    /// The server's connection state recovery settings
    /// ([`crate::SocketIoBuilder::connection_state_recovery`]; socket.io's
    /// `nsp.server.opts.connectionStateRecovery`), `None` when it is off. An adapter with a
    /// session store reads it to know whether to keep packets and append their offsets, and
    /// for how long.
    pub fn recovery(&self) -> Option<RecoveryConfig> {
        self.0.recovery
    }

    /// The connected socket with this id.
    pub fn get(&self, sid: Sid) -> Option<SocketRef> {
        self.0.map.read().unwrap().get(&sid).cloned()
    }

    /// How many sockets are connected to this namespace on this node.
    pub fn len(&self) -> usize {
        self.0.map.read().unwrap().len()
    }

    /// All connected sockets.
    pub fn all(&self) -> Vec<SocketRef> {
        self.0.map.read().unwrap().values().cloned().collect()
    }

    /// The connected sockets whose id passes `keep` (one lock for all).
    pub fn filter(&self, keep: impl Fn(Sid) -> bool) -> Vec<SocketRef> {
        let map = self.0.map.read().unwrap();
        map.iter()
            .filter(|(sid, _)| keep(**sid))
            .map(|(_, s)| s.clone())
            .collect()
    }

    /// The connected sockets among `ids` (one lock for all).
    pub fn among(&self, ids: impl IntoIterator<Item = Sid>) -> Vec<SocketRef> {
        let map = self.0.map.read().unwrap();
        ids.into_iter()
            .filter_map(|sid| map.get(&sid).cloned())
            .collect()
    }

    /// Whether no socket is connected.
    pub fn is_empty(&self) -> bool {
        self.0.map.read().unwrap().is_empty()
    }

    pub(crate) fn add_outgoing(&self, listener: OutgoingListener) {
        let outgoing = &self.0.outgoing;
        outgoing.list.write().unwrap().push(listener);
        outgoing.any.store(true, Ordering::Release);
    }

    /// Whether an outgoing listener, the namespace's or a socket's own, may run on delivery:
    /// user code, so a delivery must then hold no lock of the adapter.
    pub(crate) fn outgoing_listened(&self) -> bool {
        let outgoing = &self.0.outgoing;
        outgoing.active() || outgoing.own.load(Ordering::Acquire) > 0
    }

    /// Tells the outgoing listeners, if any, that `packet` goes to `sockets` (decoded once).
    fn notify_outgoing(&self, sockets: &[SocketRef], packet: &EncodedPacket) {
        let outgoing = &self.0.outgoing;
        let own = outgoing.own.load(Ordering::Acquire) > 0;
        if !outgoing.active() && !own || sockets.is_empty() {
            return;
        }
        let Ok(parts) = packet.parts() else { return };
        let listed = || sockets.iter().filter(|s| s.listed());
        if outgoing.active() {
            let sockets: Vec<&Socket> = listed().map(|s| &**s).collect();
            outgoing.notify(&sockets, &parts.event, &parts.args);
        }
        if own {
            for socket in listed() {
                if let Some(hooks) = socket.own_outgoing() {
                    hooks.notify_outgoing(socket, &parts.event, &parts.args);
                }
            }
        }
    }

    pub(crate) fn add_watcher(&self, watcher: Watcher) {
        self.0.watchers.write().unwrap().push(watcher);
    }

    /// Tells the namespace's watchers ([`crate::Namespace::watch`]) of `change`; a panic is
    /// logged. Called with no lock held.
    pub(crate) fn notify(&self, change: &SocketChange<'_>) {
        let watchers = self.0.watchers.read().unwrap().clone();
        for watcher in watchers {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| watcher(change))) {
                tracing::error!(
                    ns = self.0.path,
                    panic = crate::panic::message(&*payload),
                    "namespace watcher panicked"
                );
            }
        }
    }

    /// What an adapter calls when socket `sid` of this node joined (`joined`) or left `room`,
    /// only when its membership changed (socket.io-adapter's `join-room` / `leave-room`
    /// events): the namespace's watchers ([`crate::Namespace::watch`]) see it. Call it with no
    /// lock of the adapter held. [`crate::adapter::LocalAdapter`] does.
    pub fn room_changed(&self, sid: Sid, room: &str, joined: bool) {
        if self.0.watchers.read().unwrap().is_empty() {
            return;
        }
        self.notify(&if joined {
            SocketChange::RoomJoined { sid, room }
        } else {
            SocketChange::RoomLeft { sid, room }
        });
    }

    /// Makes a new socket of this namespace findable by id ([`LocalSockets::member`]) before
    /// it is connected, so that it can join rooms while its middlewares and connect handler
    /// run.
    pub(crate) fn register(&self, socket: &SocketRef) {
        self.0
            .joining
            .lock()
            .unwrap()
            .insert(socket.id(), socket.clone());
    }

    /// Forgets a registered socket that will not connect, when it never joined anything.
    pub(crate) fn unregister(&self, sid: Sid) {
        self.0.joining.lock().unwrap().remove(&sid);
    }

    /// The socket of this namespace with this id, connected or still connecting (what an
    /// adapter keeps in its rooms).
    pub(crate) fn member(&self, sid: Sid) -> Option<SocketRef> {
        self.get(sid)
            .or_else(|| self.0.joining.lock().unwrap().get(&sid).cloned())
    }

    /// Lists `socket` as connected: broadcasts, [`LocalSockets::get`] and the rest see it.
    pub(crate) fn insert(&self, socket: SocketRef) {
        socket.set_listed(true);
        self.0.joining.lock().unwrap().remove(&socket.id());
        self.0.map.write().unwrap().insert(socket.id(), socket);
    }

    pub(crate) fn remove(&self, sid: Sid) {
        if let Some(socket) = self.0.map.write().unwrap().remove(&sid) {
            socket.set_listed(false);
        }
        self.0.joining.lock().unwrap().remove(&sid);
    }

    /// Queues `packet` for each of `sockets` (the packet is shared, not copied; one encoded by
    /// another parser than the server's is re-encoded once, here). A socket whose queue is
    /// full or closed misses it (logged at debug level). The namespace's outgoing listeners
    /// see it first.
    pub fn deliver(&self, sockets: &[SocketRef], packet: &EncodedPacket) {
        self.deliver_as(sockets, packet, false, true);
    }

    /// Delivers `packet` to `sockets`, only to those whose transport is writable when
    /// `volatile`; the outgoing listeners hear of it first when `notify`. An adapter that
    /// delivers while holding a lock of its own passes `notify: false`, and only when
    /// [`LocalSockets::outgoing_listened`] was `false`: user code must never run under that
    /// lock (it could join or leave rooms), and a listener added meanwhile misses this packet.
    pub(crate) fn deliver_as(
        &self,
        sockets: &[SocketRef],
        packet: &EncodedPacket,
        volatile: bool,
        notify: bool,
    ) {
        if sockets.is_empty() {
            return;
        }
        let Some(frame) = packet.frame_for(self.0.parser) else {
            tracing::debug!(nsp = %self.0.path, "broadcast packet not an event: not delivered");
            return;
        };
        let frame: &crate::engine::packet::Frame = &frame;
        if notify {
            self.notify_outgoing(sockets, packet);
        }
        for socket in sockets {
            // A room holds its sockets from their first join, before they are connected.
            if !socket.listed() {
                continue;
            }
            if volatile {
                socket.send_volatile_frame(frame.clone(), packet.compress());
            } else if let Err(err) = socket.send_frame_with(frame.clone(), packet.compress()) {
                tracing::debug!(sid = %socket.id(), %err, "broadcast not delivered");
            }
        }
    }

    /// Like [`LocalSockets::deliver`] for a volatile packet (socket.io's `volatile` flag): a
    /// socket whose transport cannot take it right now misses it (see
    /// [`crate::Socket::volatile`] for what "cannot" means).
    pub fn deliver_volatile(&self, sockets: &[SocketRef], packet: &EncodedPacket) {
        self.deliver_as(sockets, packet, true, true);
    }

    /// Sends `packet` to `socket` under a fresh ack id of the socket and waits for its answer,
    /// within `timeout` ([`AckError::Timeout`]; [`AckError::Closed`] if it disconnects first).
    pub fn request_ack(
        &self,
        socket: &SocketRef,
        packet: &EncodedPacket,
        timeout: Duration,
    ) -> BoxFuture<Result<Args, AckError>> {
        self.notify_outgoing(std::slice::from_ref(socket), packet);
        Box::pin(wait_ack(socket.send_packet_with_ack(packet), timeout))
    }

    /// Disconnects each of `sockets` from the namespace (`close`: its whole connection).
    pub fn disconnect(&self, sockets: &[SocketRef], close: bool) {
        for socket in sockets {
            if close {
                socket.close_connection();
            } else {
                socket.disconnect();
            }
        }
    }

    pub(crate) fn set_server_handler(&self, event: String, handler: ServerEventHandler) {
        self.0
            .server_handlers
            .write()
            .unwrap()
            .insert(event, handler);
    }

    /// Runs this namespace's handler of the server-side event `event` (another node's
    /// `serverSideEmit`) with `args`; the future gives the handler's ack. `None` when no handler
    /// is set for `event` (as in socket.io, the event is then dropped and never acked).
    pub fn server_event(&self, event: &str, args: Args) -> Option<BoxFuture<Args>> {
        let handler = self.0.server_handlers.read().unwrap().get(event).cloned()?;
        Some(handler(args))
    }

    /// Describes `socket` for `fetch_sockets`, with its `rooms`.
    pub fn info(&self, socket: &SocketRef, rooms: Vec<String>) -> SocketInfo {
        SocketInfo {
            id: socket.id().to_string(),
            nsp: self.0.path.clone(),
            rooms,
            data: socket.data_value(),
            handshake: socket.handshake().to_json(),
        }
    }
}
