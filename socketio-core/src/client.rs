//! The Socket.IO layer on top of Engine.IO: [`ServerCore`] (the namespaces) implements
//! [`EngineHandler`], decoding each connection's packets (binary attachments collected in its
//! [`Client`]) and connecting its sockets to namespaces.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};

use bytes::Bytes;

use crate::engine::socket::{CloseReason, Protocol};
use crate::engine::EngineHandler;
use crate::protocol::packet::{Packet, PacketData, PacketType};
use crate::protocol::{msgpack, Parser};
use crate::socket::config::ServerConfig;
use crate::socket::conn::{AttachmentError, Client, Conn, Partial};
use crate::socket::handler::{call_connect, HandlerSite};
use crate::socket::namespace::NamespaceTable;
use crate::socket::{DisconnectReason, Handshake, Namespace, Socket, SocketRef};

/// Socket.IO state shared by all connections: the namespaces.
pub(crate) struct ServerCore {
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) namespaces: Arc<NamespaceTable>,
    /// Dynamic namespaces, in the order they were declared: a CONNECT to a path with no
    /// namespace of its own makes a child of the first that matches.
    pub(crate) parents: RwLock<Vec<Arc<Namespace>>>,
    /// `SocketIo::on_new_namespace` listeners, in the order they were added.
    pub(crate) new_namespace: RwLock<Vec<NewNamespaceListener>>,
    /// Bound on the total size of one binary packet's attachments (10 × `max_payload`; each
    /// attachment is also bounded by `max_payload` on its own).
    pub(crate) max_attachment_bytes: usize,
}

/// A `SocketIo::on_new_namespace` listener.
pub(crate) type NewNamespaceListener = Arc<dyn Fn(&Arc<Namespace>) + Send + Sync>;

impl ServerCore {
    /// Tells the `new_namespace` listeners of `ns`, just made (socket.io's `new_namespace`
    /// event). Called with no lock held, so a listener may use the server; a panic in one is
    /// logged and the others still run.
    pub(crate) fn announce(&self, ns: &Arc<Namespace>) {
        let listeners = self.new_namespace.read().unwrap().clone();
        for listener in listeners {
            if let Err(payload) = catch_unwind(AssertUnwindSafe(|| listener(ns))) {
                tracing::error!(
                    ns = ns.path(),
                    panic = crate::panic::message(&*payload),
                    "new_namespace listener panicked"
                );
            }
        }
    }

    pub(crate) fn namespace(&self, path: &str) -> Option<Arc<Namespace>> {
        self.namespaces.read().unwrap().get(path).cloned()
    }

    /// The namespace a CONNECT to `path` joins, counted as connecting (see [`Admission`]): the
    /// one at `path`, else a child of the first dynamic namespace that matches, made now
    /// (socket.io's `_checkNamespace`).
    fn admission(&self, path: &str) -> Option<Admission> {
        if let Some(ns) = self.namespaces.read().unwrap().get(path) {
            ns.start_connecting();
            return Some(Admission(ns.clone()));
        }
        let parent = {
            let parents = self.parents.read().unwrap();
            parents.iter().find(|p| p.matches(path)).cloned()?
        };
        let (ns, made) = {
            let mut table = self.namespaces.write().unwrap();
            match table.get(path) {
                Some(ns) => (ns.clone(), false),
                None => {
                    let child = parent.make_child(path, &self.namespaces);
                    table.insert(path.to_owned(), child.clone());
                    (child, true)
                }
            }
        };
        // Counted before the listeners run, so cleanup cannot remove the child under them.
        ns.start_connecting();
        let admission = Admission(ns);
        if made {
            self.announce(&admission.0);
        }
        Some(admission)
    }
}

/// A connection being admitted to a namespace: while it lives the namespace counts it, so an
/// empty child of a dynamic namespace is not removed under it.
struct Admission(Arc<Namespace>);

impl Drop for Admission {
    fn drop(&mut self) {
        self.0.end_connecting();
    }
}

impl EngineHandler for ServerCore {
    type Data = Client;

    fn new_data(&self) -> Client {
        Client::default()
    }

    fn on_open(&self, conn: &Conn) {
        if let Some(traffic) = self.config.traffic.get() {
            traffic.connection();
        }
        let timeout = self.config.connect_timeout;
        let watched = conn.clone();
        tokio::spawn(async move {
            let conn = watched;
            tokio::select! {
                _ = tokio::time::sleep(timeout) => {
                    if !conn.data.connected_once.load(Ordering::Acquire) {
                        tracing::debug!(sid = %conn.sid, "no namespace connection in time");
                        conn.close(CloseReason::ConnectTimeout);
                    }
                }
                _ = conn.closed() => {}
                // Connected in time: nothing left to watch.
                _ = conn.data.connected.notified() => {}
            }
        });
        // Socket.IO v4 (over Engine.IO v3) connects every client to "/" without a CONNECT.
        if conn.protocol == Protocol::V3 {
            self.connect(conn, "/".to_owned(), None);
        }
    }

    fn on_message(&self, conn: &Conn, text: &str) {
        if let Some(traffic) = self.config.traffic.get() {
            traffic.received(text.len());
        }
        if self.config.parser != Parser::Default {
            tracing::debug!(sid = %conn.sid, "text packet while the server's parser is msgpack");
            conn.close(CloseReason::ParseError);
            return;
        }
        if conn.data.awaiting_attachments.load(Ordering::Acquire) {
            tracing::debug!(sid = %conn.sid, "text packet while binary attachments were expected");
            conn.close(CloseReason::ParseError);
            return;
        }
        let packet = match Packet::decode(text) {
            Ok(packet) => packet,
            Err(err) => {
                tracing::debug!(sid = %conn.sid, %err, "invalid socket.io packet");
                conn.close(CloseReason::ParseError);
                return;
            }
        };
        if let Some(name) = self.overlong_name(&packet) {
            tracing::debug!(sid = %conn.sid, len = name.len(), "name over max_name_len");
            conn.close(CloseReason::ParseError);
            return;
        }
        if packet.attachments > 0 {
            *conn.data.partial.lock().unwrap() = Some(Box::new(Partial::new(packet)));
            conn.data
                .awaiting_attachments
                .store(true, Ordering::Release);
        } else {
            self.dispatch(conn, packet, Vec::new());
        }
    }

    fn on_binary(&self, conn: &Conn, data: Bytes) {
        if let Some(traffic) = self.config.traffic.get() {
            traffic.received(data.len());
        }
        if self.config.parser == Parser::MsgPack {
            // each packet is one binary message; its binary is inside it
            match msgpack::decode(&data) {
                Ok(packet) if self.overlong_name(&packet).is_some() => {
                    tracing::debug!(sid = %conn.sid, "name over max_name_len");
                    conn.close(CloseReason::ParseError);
                }
                Ok(packet) => self.dispatch(conn, packet, Vec::new()),
                Err(err) => {
                    tracing::debug!(sid = %conn.sid, %err, "invalid socket.io packet");
                    conn.close(CloseReason::ParseError);
                }
            }
            return;
        }
        let complete = {
            let mut partial = conn.data.partial.lock().unwrap();
            match partial.as_mut() {
                None => None,
                Some(p) => match p.push(data, self.max_attachment_bytes) {
                    Err(AttachmentError::TooLarge) => {
                        tracing::debug!(sid = %conn.sid, "binary attachments over the size limit");
                        drop(partial);
                        conn.close(CloseReason::ParseError);
                        return;
                    }
                    Ok(false) => return,
                    Ok(true) => {
                        conn.data
                            .awaiting_attachments
                            .store(false, Ordering::Release);
                        partial.take()
                    }
                },
            }
        };
        match complete {
            Some(p) => self.dispatch(conn, p.packet, p.attachments),
            None => {
                tracing::debug!(sid = %conn.sid, "unexpected binary message");
                conn.close(CloseReason::ParseError);
            }
        }
    }

    fn on_close(&self, conn: &Conn, reason: CloseReason) {
        let sockets: Vec<SocketRef> = conn
            .data
            .sockets
            .lock()
            .unwrap()
            .drain()
            .map(|(_, s)| s)
            .collect();
        let reason = DisconnectReason::from_close(reason);
        if let Some(traffic) = self.config.traffic.get() {
            traffic.disconnection(reason.as_str());
        }
        for socket in sockets {
            socket.close(reason, false);
        }
    }
}

impl ServerCore {
    /// The namespace or event name of `packet` that is longer than `max_name_len`, if any.
    fn overlong_name<'p>(&self, packet: &'p Packet) -> Option<&'p str> {
        let limit = self.config.max_name_len;
        let event = match &packet.data {
            PacketData::Event(name, _) => Some(name.as_str()),
            _ => None,
        };
        [Some(&*packet.ns), event]
            .into_iter()
            .flatten()
            .find(|name| name.len() > limit)
    }

    fn dispatch(&self, conn: &Conn, packet: Packet, attachments: Vec<Bytes>) {
        let Packet { ns, id, data, .. } = packet;
        match data {
            PacketData::Connect(auth) => self.connect(conn, ns.into_owned(), auth),
            PacketData::Disconnect => {
                if let Some(socket) = conn.data.socket(&ns) {
                    socket.close(DisconnectReason::ClientNamespaceDisconnect, false);
                }
            }
            PacketData::Event(name, args) => match conn.data.socket(&ns) {
                Some(socket) => {
                    Namespace::dispatch(socket, name, args.with_attachments(attachments), id)
                }
                None => {
                    tracing::debug!(sid = %conn.sid, ns = %ns, "event for a namespace not joined")
                }
            },
            PacketData::Ack(args) => {
                if let (Some(socket), Some(id)) = (conn.data.socket(&ns), id) {
                    socket.on_ack(id, args.with_attachments(attachments));
                }
            }
        }
    }

    /// A CONNECT: recovers the session the client names, if any (socket.io's
    /// `Namespace._createSocket`), then runs the namespace's connect handler in a task, then
    /// answers. A panicking connect handler refuses with "internal server error" (see
    /// `call_connect`).
    fn connect(&self, conn: &Conn, path: String, auth: Option<serde_json::Value>) {
        let Some(admission) = self.admission(&path) else {
            send_connect_error(
                conn,
                self.config.parser,
                &path,
                "Invalid namespace".into(),
                None,
            );
            return;
        };
        let ns = admission.0.clone();
        if conn.data.socket(&path).is_some() {
            tracing::debug!(sid = %conn.sid, ns = path, "duplicate CONNECT ignored");
            return;
        }
        let conn = conn.clone();
        let handshake = Handshake {
            auth: auth.clone(),
            uri: conn.request.uri.clone(),
            headers: conn.request.headers.clone(),
            address: conn.request.address,
            issued: crate::socket::now_ms(),
        };
        // Connection state recovery: `auth.pid` and `auth.offset` (both strings) name the
        // session and the last packet the client got.
        let recovery = ns
            .config()
            .recovery
            .filter(|_| conn.protocol == Protocol::V4);
        let claim = recovery.and(auth.as_ref()).and_then(|auth| {
            match (auth.get("pid")?.as_str(), auth.get("offset")?.as_str()) {
                (Some(pid), Some(offset)) => Some((pid.to_owned(), offset.to_owned())),
                _ => None,
            }
        });
        let Some((pid, offset)) = claim else {
            let socket = Arc::new(Socket::new(ns.clone(), conn.clone(), handshake));
            ns.sockets.register(&socket);
            Self::connect_socket(admission, conn, socket, auth, false);
            return;
        };
        tokio::spawn(async move {
            let restored = ns.adapter().restore_session(&pid, &offset).await;
            let socket = match restored {
                Some(restored) => {
                    tracing::debug!(sid = %restored.session.sid, ns = ns.path(), missed = restored.missed.len(), "session recovered");
                    let rooms = restored.session.rooms.clone();
                    let socket = Arc::new(Socket::restored(
                        ns.clone(),
                        conn.clone(),
                        handshake,
                        restored.session,
                    ));
                    ns.sockets.register(&socket);
                    let rooms: Vec<&str> = rooms.iter().map(String::as_str).collect();
                    ns.adapter().add_all(socket.id(), &rooms);
                    // Held back until the CONNECT answer, then sent first, in order.
                    let parser = ns.config().parser;
                    for (_, packet) in restored.missed {
                        if let Some(frame) = packet.frame_for(parser) {
                            let _ = socket.send_frame_with(frame.into_owned(), packet.compress());
                        }
                    }
                    socket
                }
                None => {
                    let socket = Arc::new(Socket::new(ns.clone(), conn.clone(), handshake));
                    ns.sockets.register(&socket);
                    socket
                }
            };
            let skip_middlewares =
                socket.recovered() && recovery.is_some_and(|r| r.skip_middlewares);
            Self::connect_socket(admission, conn, socket, auth, skip_middlewares);
        });
    }

    /// Registers `socket` with its connection, runs the connect handler in a task, then
    /// answers. With connection state recovery, the socket is in the namespace's table from
    /// the start (as in socket.io, where the `connection` handler sees a connected socket): its
    /// own emits reach it through the adapter with offsets, and broadcasts to its rooms while
    /// the connect handler runs are queued (after a recovered socket's missed packets) until
    /// the CONNECT answer.
    fn connect_socket(
        admission: Admission,
        conn: Conn,
        socket: SocketRef,
        auth: Option<serde_json::Value>,
        skip_middlewares: bool,
    ) {
        let ns = admission.0.clone();
        {
            let mut sockets = conn.data.sockets.lock().unwrap();
            if sockets.contains_key(ns.path()) {
                tracing::debug!(sid = %conn.sid, ns = ns.path(), "duplicate CONNECT ignored");
                if socket.recovered() {
                    ns.adapter().del_all(socket.id());
                }
                ns.sockets.unregister(socket.id());
                return;
            }
            sockets.insert(ns.path().to_owned(), socket.clone());
        }
        ns.adapter().add_all(socket.id(), &[socket.id().as_str()]);
        let parser = ns.config().parser;
        let early = socket.has_session();
        if early {
            ns.add_socket(socket.clone());
        }
        tokio::spawn(async move {
            let _admission = admission;
            let verdict = admit(&ns, &socket, auth, skip_middlewares).await;
            match verdict {
                Ok(()) if !conn.is_closed() => {
                    if !early {
                        ns.add_socket(socket.clone());
                    }
                    if socket.mark_connected() {
                        if !conn.data.connected_once.swap(true, Ordering::AcqRel) {
                            // A permit if the watch is not waiting yet: it ends when it looks.
                            conn.data.connected.notify_one();
                        }
                        tracing::debug!(sid = %socket.id(), ns = ns.path(), "socket connected");
                        ns.sockets
                            .notify(&crate::socket::SocketChange::Connected(&socket));
                    } else {
                        ns.remove_socket(socket.id());
                    }
                }
                Ok(()) => socket.close(DisconnectReason::TransportClose, false),
                Err(err) => {
                    tracing::debug!(ns = ns.path(), %err, "connection refused");
                    socket.close(DisconnectReason::ServerNamespaceDisconnect, false);
                    send_connect_error(&conn, parser, ns.path(), err.message, err.data);
                }
            }
        });
    }
}

/// Decides whether `socket` joins `ns`: the namespace's middlewares in order
/// ([`Namespace::run_middlewares`]; not for a recovered socket when `skip_middlewares`, as
/// socket.io's `Namespace._add` with `connectionStateRecovery.skipMiddlewares`), then its
/// connect handler, the first refusal winning.
async fn admit(
    ns: &Namespace,
    socket: &SocketRef,
    auth: Option<serde_json::Value>,
    skip_middlewares: bool,
) -> Result<(), crate::ConnectError> {
    if !skip_middlewares {
        ns.run_middlewares(socket, &auth).await?;
    }
    match ns.connect_handler() {
        Some(handler) => {
            let site = HandlerSite::connect(socket.clone());
            call_connect(site, &*handler, socket.clone(), auth).await
        }
        None => Ok(()),
    }
}

/// Refuses a namespace connection. Socket.IO v5 sends `{"message", "data"?}`; v4 sends the
/// data if any, else the message as a JSON string (`44/ns,"Invalid namespace"`).
fn send_connect_error(
    conn: &Conn,
    parser: Parser,
    ns: &str,
    message: String,
    data: Option<serde_json::Value>,
) {
    let body = match conn.protocol {
        Protocol::V4 => {
            let mut body = serde_json::json!({ "message": message });
            if let Some(data) = data {
                body["data"] = data;
            }
            body
        }
        Protocol::V3 => data.unwrap_or(serde_json::Value::String(message)),
    };
    let _ = conn.send(parser.control(PacketType::ConnectError, ns, Some(&body)));
}
