//! One socket's own listeners and packet middlewares (socket.io's `socket.onAny`,
//! `prependAny`, `offAny`, `onAnyOutgoing`, `prependAnyOutgoing`, `offAnyOutgoing` and
//! `socket.use`), added by its handlers, run after the namespace-wide ones and dropped with the
//! socket. A socket that never adds one pays one pointer (an empty `OnceLock`) for them.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use super::handler::EventHandler;
use super::namespace::PacketMiddleware;
use super::sockets::{call_outgoing, OutgoingListener};
use super::Socket;
use crate::args::Args;

/// Names a listener added to one socket, to remove it later ([`Socket::off_any`],
/// [`Socket::off_any_outgoing`]): Rust closures cannot be compared, as socket.io compares the
/// function given to `offAny(listener)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenerId(u64);

/// The any-event listeners and packet middlewares an incoming event goes through, in order.
pub(crate) type Incoming = (Vec<Arc<dyn EventHandler>>, Vec<PacketMiddleware>);

/// The listeners and packet middlewares of one socket.
#[derive(Default)]
pub(crate) struct SocketHooks {
    any: RwLock<Vec<(ListenerId, Arc<dyn EventHandler>)>>,
    outgoing: RwLock<Vec<(ListenerId, OutgoingListener)>>,
    /// Whether `outgoing` is non-empty (read on every emit to this socket).
    has_outgoing: AtomicBool,
    /// Whether this socket was counted among the namespace's sockets with outgoing listeners.
    pub(crate) counted: AtomicBool,
    packet_middlewares: RwLock<Vec<PacketMiddleware>>,
    next_id: AtomicU64,
}

impl SocketHooks {
    fn id(&self) -> ListenerId {
        ListenerId(self.next_id.fetch_add(1, Ordering::Relaxed))
    }

    /// Adds an any-event listener, first or last.
    pub(crate) fn add_any(&self, listener: Arc<dyn EventHandler>, first: bool) -> ListenerId {
        let id = self.id();
        add(&mut self.any.write().unwrap(), (id, listener), first);
        id
    }

    /// Removes one any-event listener (`Some`) or all (`None`); `true` if any was removed.
    pub(crate) fn remove_any(&self, id: Option<ListenerId>) -> bool {
        remove(&mut self.any.write().unwrap(), id)
    }

    /// Adds an outgoing listener, first or last.
    pub(crate) fn add_outgoing(&self, listener: OutgoingListener, first: bool) -> ListenerId {
        let id = self.id();
        add(&mut self.outgoing.write().unwrap(), (id, listener), first);
        self.has_outgoing.store(true, Ordering::Release);
        id
    }

    /// Removes one outgoing listener (`Some`) or all (`None`); `true` if any was removed.
    pub(crate) fn remove_outgoing(&self, id: Option<ListenerId>) -> bool {
        let mut list = self.outgoing.write().unwrap();
        let removed = remove(&mut list, id);
        self.has_outgoing.store(!list.is_empty(), Ordering::Release);
        removed
    }

    pub(crate) fn add_packet_middleware(&self, middleware: PacketMiddleware) {
        self.packet_middlewares.write().unwrap().push(middleware);
    }

    /// The any-event listeners and packet middlewares as they are now (a handler may add more
    /// while they run).
    pub(crate) fn incoming(&self) -> Incoming {
        let any = self.any.read().unwrap();
        let any = any.iter().map(|(_, l)| l.clone()).collect();
        (any, self.packet_middlewares.read().unwrap().clone())
    }

    /// Whether an outgoing listener is there.
    pub(crate) fn has_outgoing(&self) -> bool {
        self.has_outgoing.load(Ordering::Acquire)
    }

    /// Tells the outgoing listeners that `event` with `args` goes to `socket`; a panic is
    /// logged and the packet still goes out.
    pub(crate) fn notify_outgoing(&self, socket: &Socket, event: &str, args: &Args) {
        let listeners: Vec<OutgoingListener> = {
            let list = self.outgoing.read().unwrap();
            list.iter().map(|(_, l)| l.clone()).collect()
        };
        for listener in &listeners {
            call_outgoing(listener, socket, event, args, "socket");
        }
    }

    /// Forgets everything (when the socket leaves: a listener that holds its own socket would
    /// otherwise keep it alive).
    pub(crate) fn clear(&self) {
        self.any.write().unwrap().clear();
        self.remove_outgoing(None);
        self.packet_middlewares.write().unwrap().clear();
    }
}

/// Adds `entry` to `list`, first or last.
fn add<T>(list: &mut Vec<T>, entry: T, first: bool) {
    if first {
        list.insert(0, entry);
    } else {
        list.push(entry);
    }
}

fn remove<T>(list: &mut Vec<(ListenerId, T)>, id: Option<ListenerId>) -> bool {
    let before = list.len();
    match id {
        Some(id) => list.retain(|(i, _)| *i != id),
        None => list.clear(),
    }
    list.len() != before
}

/// Socket.io's per-socket listeners and packet middlewares.
impl Socket {
    fn hooks(&self) -> &SocketHooks {
        self.hooks.get_or_init(Default::default)
    }

    /// The socket's own any-event listeners and packet middlewares, if it has any.
    pub(crate) fn own_incoming(&self) -> Option<Incoming> {
        self.hooks.get().map(|h| h.incoming())
    }

    /// The socket's hooks when it has an outgoing listener.
    pub(crate) fn own_outgoing(&self) -> Option<&SocketHooks> {
        self.hooks.get().map(|h| &**h).filter(|h| h.has_outgoing())
    }

    /// Forgets the socket's listeners and middlewares when it leaves its namespace.
    pub(crate) fn drop_hooks(&self) {
        if let Some(hooks) = self.hooks.get() {
            if hooks.counted.swap(false, Ordering::AcqRel) {
                let own = &self.ns.sockets_handle().0.outgoing.own;
                own.fetch_sub(1, Ordering::AcqRel);
            }
            hooks.clear();
        }
    }

    /// Adds a listener of every event this client sends (socket.io's `socket.onAny`), after
    /// the namespace's ([`crate::Namespace::on_any`]) and after this socket's listeners added
    /// before it; before the packet middlewares and the handler. It takes the parameters of an
    /// event handler ([`crate::Namespace::on`]: an [`EventName`](crate::EventName) parameter
    /// gives the event's name, `Args` all its arguments) but cannot answer the ack. Added from
    /// a connect or event handler, it lasts until [`Socket::off_any`] or the socket leaves.
    /// The socket is its first parameter: capturing a `SocketRef` in it is not needed.
    ///
    /// ```
    /// # let io = socketio_core::SocketIo::new();
    /// use socketio_core::{Args, EventName, SocketRef};
    /// io.ns("/").on_connect(|socket: SocketRef| async move {
    ///     let id = socket.on_any(|s: SocketRef, name: EventName, args: Args| async move {
    ///         println!("{} sent {name} ({} arguments)", s.id(), args.len());
    ///     });
    ///     // later: socket.off_any(Some(id));
    /// #   let _ = id;
    /// });
    /// ```
    pub fn on_any<M>(&self, listener: impl super::handler::IntoEventHandler<M>) -> ListenerId {
        self.hooks().add_any(listener.into_handler().into(), false)
    }

    /// Adds an any-event listener before this socket's others (socket.io's
    /// `socket.prependAny`; still after the namespace's); see [`Socket::on_any`].
    pub fn prepend_any<M>(&self, listener: impl super::handler::IntoEventHandler<M>) -> ListenerId {
        self.hooks().add_any(listener.into_handler().into(), true)
    }

    /// Removes one of this socket's any-event listeners, or all of them with `None`
    /// (socket.io's `socket.offAny`); `true` if one was there.
    pub fn off_any(&self, listener: Option<ListenerId>) -> bool {
        self.hooks.get().is_some_and(|h| h.remove_any(listener))
    }

    /// Adds a listener of every event sent to this client (socket.io's
    /// `socket.onAnyOutgoing`): its emits and the broadcasts that reach it, after the
    /// namespace's listeners ([`crate::Namespace::on_any_outgoing`]); acks are not events. It
    /// runs synchronously before the packet is queued; a panic is logged and the packet still
    /// goes out.
    ///
    /// ```
    /// # let io = socketio_core::SocketIo::new();
    /// use socketio_core::{Args, Socket, SocketRef};
    /// io.ns("/").on_connect(|socket: SocketRef| async move {
    ///     socket.on_any_outgoing(|s: &Socket, event: &str, _args: &Args| {
    ///         println!("to {}: {event}", s.id());
    ///     });
    /// });
    /// ```
    pub fn on_any_outgoing(
        &self,
        listener: impl Fn(&Socket, &str, &Args) + Send + Sync + 'static,
    ) -> ListenerId {
        self.add_outgoing(Arc::new(listener), false)
    }

    /// Adds an outgoing listener before this socket's others (socket.io's
    /// `socket.prependAnyOutgoing`); see [`Socket::on_any_outgoing`].
    pub fn prepend_any_outgoing(
        &self,
        listener: impl Fn(&Socket, &str, &Args) + Send + Sync + 'static,
    ) -> ListenerId {
        self.add_outgoing(Arc::new(listener), true)
    }

    /// Removes one of this socket's outgoing listeners, or all of them with `None`
    /// (socket.io's `socket.offAnyOutgoing`); `true` if one was there.
    pub fn off_any_outgoing(&self, listener: Option<ListenerId>) -> bool {
        self.hooks
            .get()
            .is_some_and(|h| h.remove_outgoing(listener))
    }

    fn add_outgoing(&self, listener: OutgoingListener, first: bool) -> ListenerId {
        let hooks = self.hooks();
        let id = hooks.add_outgoing(listener, first);
        // Counted once, and only while connected (`drop_hooks` uncounts it on leaving).
        if self.connected() && !hooks.counted.swap(true, Ordering::AcqRel) {
            let own = &self.ns.sockets_handle().0.outgoing.own;
            own.fetch_add(1, Ordering::AcqRel);
        }
        id
    }

    /// Adds a packet middleware of this socket (socket.io's `socket.use((packet, next) =>
    /// ..)`): it runs after the namespace's ([`crate::Namespace::use_packet_middleware`],
    /// whose docs say what it may do) and after this socket's middlewares added before it.
    ///
    /// ```
    /// # let io = socketio_core::SocketIo::new();
    /// use socketio_core::{Args, PacketRejection, SocketRef};
    /// io.ns("/").on_connect(|socket: SocketRef| async move {
    ///     let guest = socket.handshake().query("guest").is_some();
    ///     socket.use_packet_middleware(move |_s: &SocketRef, event: &str, _args: &mut Args| {
    ///         if guest && event == "post" {
    ///             return Err(PacketRejection::Error("guests cannot post".into()));
    ///         }
    ///         Ok(())
    ///     });
    /// });
    /// ```
    pub fn use_packet_middleware(
        &self,
        middleware: impl Fn(&super::SocketRef, &str, &mut Args) -> Result<(), crate::error::PacketRejection>
            + Send
            + Sync
            + 'static,
    ) {
        self.hooks().add_packet_middleware(Arc::new(middleware));
    }
}
