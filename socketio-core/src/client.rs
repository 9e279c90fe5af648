//! The Socket.IO layer on top of Engine.IO: [`ServerCore`] (the namespaces) implements
//! [`EngineHandler`], decoding each connection's packets (binary attachments collected in its
//! [`Client`]) and connecting its sockets to namespaces.

use foldhash::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};

use bytes::Bytes;

use crate::engine::socket::{CloseReason, Protocol};
use crate::engine::EngineHandler;
use crate::protocol::packet::{Packet, PacketData, PacketType};
use crate::protocol::{msgpack, Parser};
use crate::socket::config::ServerConfig;
use crate::socket::conn::{AttachmentError, Client, Conn, Partial};
use crate::socket::handler::call_connect;
use crate::socket::{DisconnectReason, Handshake, Namespace, Socket, SocketRef};

/// Socket.IO state shared by all connections: the namespaces.
pub(crate) struct ServerCore {
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) namespaces: RwLock<HashMap<String, Arc<Namespace>>>,
    /// Bound on the total size of one binary packet's attachments (10 × `max_payload`; each
    /// attachment is also bounded by `max_payload` on its own).
    pub(crate) max_attachment_bytes: usize,
}

impl ServerCore {
    pub(crate) fn namespace(&self, path: &str) -> Option<Arc<Namespace>> {
        self.namespaces.read().unwrap().get(path).cloned()
    }
}

impl EngineHandler for ServerCore {
    type Data = Client;

    fn new_data(&self) -> Client {
        Client::default()
    }

    fn on_open(&self, conn: &Conn) {
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
            }
        });
        // Socket.IO v4 (over Engine.IO v3) connects every client to "/" without a CONNECT.
        if conn.protocol == Protocol::V3 {
            self.connect(conn, "/".to_owned(), None);
        }
    }

    fn on_message(&self, conn: &Conn, text: &str) {
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
        if packet.attachments > 0 {
            *conn.data.partial.lock().unwrap() = Some(Partial::new(packet));
            conn.data
                .awaiting_attachments
                .store(true, Ordering::Release);
        } else {
            self.dispatch(conn, packet, Vec::new());
        }
    }

    fn on_binary(&self, conn: &Conn, data: Bytes) {
        if self.config.parser == Parser::MsgPack {
            // each packet is one binary message; its binary is inside it
            match msgpack::decode(&data) {
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
        for socket in sockets {
            socket.close(reason, false);
        }
    }
}

impl ServerCore {
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

    /// A CONNECT: runs the namespace's connect handler in a task, then answers. A panicking
    /// connect handler refuses with "internal server error" (see `call_connect`).
    fn connect(&self, conn: &Conn, path: String, auth: Option<serde_json::Value>) {
        let Some(ns) = self.namespace(&path) else {
            send_connect_error(
                conn,
                self.config.parser,
                &path,
                "Invalid namespace".into(),
                None,
            );
            return;
        };
        let socket = {
            let mut sockets = conn.data.sockets.lock().unwrap();
            if sockets.contains_key(&path) {
                tracing::debug!(sid = %conn.sid, ns = path, "duplicate CONNECT ignored");
                return;
            }
            let handshake = Handshake {
                auth: auth.clone(),
                uri: conn.request.uri.clone(),
                headers: conn.request.headers.clone(),
            };
            let socket = Arc::new(Socket::new(ns.clone(), conn.clone(), handshake));
            sockets.insert(path.clone(), socket.clone());
            socket
        };
        ns.adapter().add_all(socket.id(), &[socket.id().as_str()]);
        let conn = conn.clone();
        let parser = self.config.parser;
        tokio::spawn(async move {
            let verdict = match ns.connect_handler() {
                Some(handler) => call_connect(&*handler, socket.clone(), auth).await,
                None => Ok(()),
            };
            match verdict {
                Ok(()) if !conn.is_closed() => {
                    ns.add_socket(socket.clone());
                    if socket.mark_connected() {
                        conn.data.connected_once.store(true, Ordering::Release);
                        tracing::debug!(sid = %socket.id(), ns = ns.path(), "socket connected");
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
