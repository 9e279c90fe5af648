//! What an adapter is: the [`Adapter`] trait and the data it works on (selections, encoded
//! packets, sessions). It names no socket, so the socket layer can hold an adapter; the public
//! face is `crate::adapter`, which re-exports all of it beside [`crate::adapter::LocalSockets`]
//! and the default [`crate::adapter::LocalAdapter`].

use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::args::Args;
use crate::engine::packet::Frame;
use crate::engine::sid::Sid;
use crate::error::AckError;
use crate::future::BoxFuture;
use crate::protocol::packet::{Packet, PacketData};

/// Per-socket answers of a broadcast with acks: the socket id and its ack arguments, or why
/// there is none ([`AckError::Timeout`] when it did not answer in time).
pub type AckAnswers = Vec<(Sid, Result<Args, AckError>)>;

/// Which sockets a broadcast or a selection operation concerns (socket.io-adapter's
/// `BroadcastOptions`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BroadcastOptions {
    /// Sockets in any of these rooms; empty means every socket of the namespace. A socket id is
    /// a room too.
    pub rooms: Vec<String>,
    /// Minus the sockets in any of these rooms.
    pub except: Vec<String>,
    /// How the operation is carried out.
    pub flags: BroadcastFlags,
}

/// Modifiers of a broadcast (socket.io's `BroadcastFlags`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BroadcastFlags {
    /// This node's sockets only: an adapter must not forward the operation to other nodes.
    pub local: bool,
    /// The packet may be lost: a socket that cannot take it now misses it, and it is not kept
    /// for connection state recovery.
    pub volatile: bool,
}

/// A socket as an adapter describes it (what `fetch_sockets` returns from every node).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SocketInfo {
    /// The socket id.
    pub id: String,
    /// Its namespace.
    pub nsp: String,
    /// Its rooms (its own id included).
    pub rooms: Vec<String>,
}

/// Why an adapter operation that needs other nodes failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AdapterError {
    /// This adapter does not implement the operation.
    #[error("this adapter does not support {0}")]
    Unsupported(&'static str),
    /// The transport between nodes failed.
    #[error("adapter transport: {0}")]
    Transport(Box<dyn std::error::Error + Send + Sync>),
}

/// A Socket.IO packet encoded once for all its receivers: the text part (with the Engine.IO
/// message prefix `4`) and the binary attachments, shared (cloning it copies no payload).
#[derive(Debug, Clone)]
pub struct EncodedPacket(pub(crate) Frame);

impl EncodedPacket {
    /// Encodes an EVENT packet of namespace `nsp` (BINARY_EVENT when `args` has attachments).
    pub fn event(nsp: &str, event: &str, args: Args) -> Self {
        EncodedPacket(crate::protocol::packet::event_frame(nsp, event, args, None))
    }

    /// The Socket.IO packet text, e.g. `2/chat,["news","hi"]` (without the Engine.IO prefix).
    pub fn text(&self) -> &str {
        let text = match &self.0 {
            Frame::Text(t) | Frame::WithAttachments(t, _) => t.as_str(),
            Frame::Binary(_) => "",
        };
        text.get(1..).unwrap_or("")
    }

    /// The binary attachments, in placeholder order.
    pub fn attachments(&self) -> &[Bytes] {
        match &self.0 {
            Frame::WithAttachments(_, atts) => atts,
            _ => &[],
        }
    }

    /// Reads the packet back as `{type, nsp, data}`, for adapters that forward it to other
    /// nodes; `data` holds the event name first, then the arguments, with binary attachments as
    /// `{"_placeholder":true,"num":n}` (their bytes are [`EncodedPacket::attachments`]).
    pub fn parts(&self) -> Result<PacketParts, AdapterError> {
        let packet = Packet::decode(self.text())
            .map_err(|e| AdapterError::Transport(format!("undecodable packet: {e}").into()))?;
        let (event, args) = match packet.data {
            PacketData::Event(name, args) => (name, args),
            _ => return Err(AdapterError::Unsupported("packets other than events")),
        };
        Ok(PacketParts {
            nsp: packet.ns.into_owned(),
            event,
            args: Args::new(args.values().to_vec(), self.attachments().to_vec()),
        })
    }
}

/// An EVENT packet read back from an [`EncodedPacket`].
#[derive(Debug, Clone)]
pub struct PacketParts {
    /// Its namespace.
    pub nsp: String,
    /// The event name.
    pub event: String,
    /// The arguments, attachments included.
    pub args: Args,
}

/// What [`Adapter::persist_session`] keeps of a socket that disconnected, for connection state
/// recovery (socket.io's `SessionToPersist`).
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// The socket id the client will get back.
    pub sid: Sid,
    /// The private session id the client presents to recover (socket.io's `pid`).
    pub pid: String,
    /// The rooms the socket was in.
    pub rooms: Vec<String>,
    /// The application data attached to the socket (socket.io's `socket.data`).
    pub data: Value,
}

/// A recovered session: what was persisted, and the packets broadcast to its rooms since the
/// client's last offset, oldest first.
#[derive(Debug, Clone)]
pub struct RestoredSession {
    /// The persisted session.
    pub session: Session,
    /// The missed packets with their offsets, oldest first.
    pub missed: Vec<(String, EncodedPacket)>,
}

/// The seam between the Socket.IO layer and room membership / other nodes. One instance per
/// namespace. Methods that only concern this node return at once; those that may need other
/// nodes return a future. An implementation must not call back into the namespace while it
/// holds its own locks (the [`crate::adapter::LocalSockets`] handle may run disconnect logic that calls
/// [`Adapter::del_all`]).
pub trait Adapter: Send + Sync + 'static {
    /// Adds socket `sid` of this node to `rooms`.
    fn add_all(&self, sid: Sid, rooms: &[&str]);

    /// Removes socket `sid` from `room`.
    fn del(&self, sid: Sid, room: &str);

    /// Removes socket `sid` from every room (it left the namespace).
    fn del_all(&self, sid: Sid);

    /// The rooms socket `sid` of this node is in, sorted.
    fn socket_rooms(&self, sid: Sid) -> Vec<String>;

    /// This node's sockets selected by `opts` (`rooms` and `except`; flags are ignored).
    fn sockets(&self, opts: &BroadcastOptions) -> Vec<Sid>;

    /// The rooms that have members on this node, sorted.
    fn rooms(&self) -> Vec<String>;

    /// Sends `packet` to the selected sockets of this node and, unless `opts.flags.local`, of
    /// every other node. Never fails: a socket that cannot take the packet misses it.
    fn broadcast(&self, packet: &EncodedPacket, opts: &BroadcastOptions);

    /// Sends `packet` to the selected sockets (of every node unless `opts.flags.local`), each
    /// under its own ack id, and gathers one answer per socket. Each node tells how many sockets
    /// it asked, so the gathering ends as soon as every answer is in; a socket that does not
    /// answer within `timeout` gets [`AckError::Timeout`], a node that stays silent is left out.
    fn broadcast_with_ack(
        &self,
        packet: &EncodedPacket,
        opts: &BroadcastOptions,
        timeout: Duration,
    ) -> BoxFuture<AckAnswers>;

    /// Makes the selected sockets (of every node unless `opts.flags.local`) join `rooms`.
    fn add_sockets(&self, opts: &BroadcastOptions, rooms: &[String]);

    /// Makes the selected sockets leave `rooms`.
    fn del_sockets(&self, opts: &BroadcastOptions, rooms: &[String]);

    /// Disconnects the selected sockets from the namespace (`close`: their whole connection).
    fn disconnect_sockets(&self, opts: &BroadcastOptions, close: bool);

    /// The selected sockets of every node (this node's alone with `opts.flags.local`). Nodes
    /// that do not answer in time are left out.
    fn fetch_sockets(&self, opts: &BroadcastOptions) -> BoxFuture<Vec<SocketInfo>>;

    /// The rooms that have members on any node, sorted.
    fn all_rooms(&self) -> BoxFuture<Vec<String>>;

    /// Emits `event` to the server-side handlers of the other nodes (not to clients). With
    /// `timeout`, each node's handler acks and the answers are gathered (one per node that
    /// answered in time); without, the result is empty. A single node has no one to send to:
    /// `Ok(vec![])`.
    fn server_side_emit(
        &self,
        event: &str,
        args: Args,
        timeout: Option<Duration>,
    ) -> BoxFuture<Result<Vec<Args>, AdapterError>>;

    /// How many server nodes share this namespace (this one included).
    fn server_count(&self) -> BoxFuture<usize>;

    /// Keeps a disconnected socket's session for connection state recovery, for the adapter's
    /// `max_disconnection_duration` (socket.io's `maxDisconnectionDuration`, 2 minutes by
    /// default). Adapters without a session store drop it.
    fn persist_session(&self, session: Session);

    /// Takes back the session `pid` if it has not expired and the packet at `offset` (the last
    /// one the client received) is still known: the session and every non-volatile packet
    /// broadcast after `offset` to a selection the session's rooms belong to. `None` otherwise
    /// (the client then connects as a new socket). A session is restored at most once.
    fn restore_session(&self, pid: &str, offset: &str) -> BoxFuture<Option<RestoredSession>>;

    /// The server is shutting down ([`crate::SocketIo::close`], after every socket of the
    /// namespace was disconnected): leave the cluster cleanly — stop background tasks, close
    /// connections, tell the other nodes if the protocol has a way. socket.io-adapter's
    /// `close()`, awaited by socket.io 4.8's `io.close()`. The default does nothing (an adapter
    /// without tasks or connections). The server waits for it within its shutdown timeout.
    fn close(&self) -> BoxFuture<()> {
        Box::pin(std::future::ready(()))
    }
}
