//! What an adapter is: the [`Adapter`] trait and the data it works on (selections, encoded
//! packets, sessions). It names no socket, so the socket layer can hold an adapter; the public
//! face is `crate::adapter`, which re-exports all of it beside [`crate::adapter::LocalSockets`]
//! and the default [`crate::adapter::LocalAdapter`].

use std::borrow::Cow;
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
use crate::protocol::{msgpack, parser_of, Parser};

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
    /// Its `socket.data` (set with [`crate::Socket::set_data`]; Node's `RemoteSocket.data`),
    /// as JSON; `null` when unset, or when the node that answered sent none.
    #[serde(default)]
    pub data: serde_json::Value,
    /// Its handshake as socket.io's `socket.handshake` object ([`crate::Handshake::to_json`]:
    /// headers, address, url, query, auth, issued...); `null` when the node that answered sent
    /// none.
    #[serde(default)]
    pub handshake: serde_json::Value,
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

/// A Socket.IO packet encoded once for all its receivers, shared (cloning it copies no
/// payload): with the default parser the text part (with the Engine.IO message prefix `4`) and
/// the binary attachments; with [`crate::Parser::MsgPack`] one binary message.
///
/// A packet arrives at a namespace's sockets in its server's encoding: one encoded by another
/// parser (e.g. [`EncodedPacket::event`], always the default parser's, on a msgpack server) is
/// re-encoded once per delivery ([`crate::adapter::LocalSockets::deliver`]), so adapters need
/// not care which parser the server uses.
///
/// It also carries socket.io's `compress` flag ([`EncodedPacket::compress`], on unless the
/// emit said `compress(false)`), which a polling response reads.
#[derive(Debug, Clone)]
pub struct EncodedPacket {
    pub(crate) frame: Frame,
    compress: bool,
}

impl EncodedPacket {
    /// A packet from its frame, to be compressed as usual.
    pub(crate) fn new(frame: Frame) -> Self {
        EncodedPacket {
            frame,
            compress: true,
        }
    }

    /// Whether an HTTP long-polling response that carries this packet may be compressed
    /// (socket.io's `compress` flag, default `true`; see
    /// [`crate::BroadcastOperator::compress`]). The WebSocket transport never compresses.
    pub fn compress(&self) -> bool {
        self.compress
    }

    /// The same packet with the `compress` flag set: for adapters that carry socket.io's
    /// `flags.compress` from another node.
    pub fn with_compress(mut self, compress: bool) -> Self {
        self.compress = compress;
        self
    }

    /// Encodes an EVENT packet of namespace `nsp` with the default parser (BINARY_EVENT when
    /// `args` has attachments); see the type's docs for servers with another parser.
    pub fn event(nsp: &str, event: &str, args: Args) -> Self {
        EncodedPacket::new(crate::protocol::packet::event_frame(nsp, event, args, None))
    }

    /// The same packet in `parser`'s encoding: itself when `parser` wrote it, else read back
    /// ([`EncodedPacket::parts`]) and encoded again; `None` when it cannot be read back (not
    /// an EVENT).
    pub(crate) fn frame_for(&self, parser: Parser) -> Option<Cow<'_, Frame>> {
        if parser_of(&self.frame) == parser {
            return Some(Cow::Borrowed(&self.frame));
        }
        let parts = self.parts().ok()?;
        Some(Cow::Owned(parser.event(
            &parts.nsp,
            &parts.event,
            parts.args,
            None,
        )))
    }

    /// The Socket.IO packet text, e.g. `2/chat,["news","hi"]` (without the Engine.IO prefix);
    /// empty for a msgpack packet (read it with [`EncodedPacket::parts`]).
    pub fn text(&self) -> &str {
        let text = match &self.frame {
            Frame::Text(t) | Frame::WithAttachments(t, _) => t.as_str(),
            Frame::Binary(_) => "",
        };
        text.get(1..).unwrap_or("")
    }

    /// The binary attachments, in placeholder order (none for a msgpack packet, whose binary
    /// is inside it).
    pub fn attachments(&self) -> &[Bytes] {
        match &self.frame {
            Frame::WithAttachments(_, atts) => atts,
            _ => &[],
        }
    }

    /// The same packet with `offset` appended as its last argument (a JSON string): what
    /// connection state recovery does to every broadcast it keeps (socket.io-adapter's
    /// `packet.data.push(offset)`), so the client learns the offset of the last packet it got
    /// (socket.io-client 4.6+ keeps the last argument of each event, when it is a string, and
    /// sends it back as `auth.offset` on reconnection). The payload is copied once; binary
    /// attachments are shared. A packet that is not an event is returned as it is.
    pub fn with_offset(&self, offset: &str) -> EncodedPacket {
        let spliced = match &self.frame {
            Frame::Text(text) => crate::protocol::packet::with_last_arg(text.as_str(), offset)
                .map(|t| Frame::Text(t.into())),
            Frame::WithAttachments(text, atts) => {
                crate::protocol::packet::with_last_arg(text.as_str(), offset)
                    .map(|t| Frame::WithAttachments(t.into(), atts.clone()))
            }
            // socket.io-msgpack-parser: one msgpack map, read back and written again.
            Frame::Binary(_) => self.parts().ok().map(|parts| {
                let (mut values, attachments) = parts.args.into_parts();
                values.push(serde_json::Value::String(offset.to_owned()));
                Parser::MsgPack.event(
                    &parts.nsp,
                    &parts.event,
                    Args::new(values, attachments),
                    None,
                )
            }),
        };
        match spliced {
            Some(frame) => EncodedPacket {
                frame,
                compress: self.compress,
            },
            None => self.clone(),
        }
    }

    /// Reads the packet back as `{type, nsp, data}`, for adapters that forward it to other
    /// nodes; `data` holds the event name first, then the arguments, with binary as
    /// attachments (placeholders `{"_placeholder":true,"num":n}` in the values), whichever
    /// parser encoded it.
    pub fn parts(&self) -> Result<PacketParts, AdapterError> {
        let undecodable = |e| AdapterError::Transport(format!("undecodable packet: {e}").into());
        let packet = match &self.frame {
            Frame::Binary(bytes) => msgpack::decode(bytes).map_err(undecodable)?,
            _ => Packet::decode(self.text()).map_err(undecodable)?,
        };
        let (event, args) = match packet.data {
            PacketData::Event(name, args) => (name, args),
            _ => return Err(AdapterError::Unsupported("packets other than events")),
        };
        Ok(PacketParts {
            nsp: packet.ns.into_owned(),
            event,
            args: args.with_attachments(self.attachments().to_vec()),
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

/// Connection state recovery (socket.io 4.6+'s `connectionStateRecovery` server option), set
/// with [`crate::SocketIoBuilder::connection_state_recovery`]. Adapters read it from
/// [`crate::adapter::LocalSockets::recovery`]: the default [`crate::adapter::LocalAdapter`]
/// then keeps sessions and packets in memory; the Redis Streams and Postgres adapters keep them
/// in their store, so a client may come back on another node.
///
/// ```
/// use std::time::Duration;
/// use socketio_core::adapter::RecoveryConfig;
/// let io = socketio_core::SocketIo::builder()
///     .connection_state_recovery(RecoveryConfig {
///         max_disconnection_duration: Duration::from_secs(30),
///         ..Default::default()
///     })
///     .build();
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecoveryConfig {
    /// How long a disconnected socket's session and the packets broadcast since are kept
    /// (socket.io's `maxDisconnectionDuration`; default 2 minutes).
    pub max_disconnection_duration: Duration,
    /// Whether a recovered socket skips the namespace's middlewares (socket.io's
    /// `skipMiddlewares`; default `true`). The connect handler runs either way, as socket.io's
    /// `connection` event does; it can tell with [`crate::Socket::recovered`].
    pub skip_middlewares: bool,
    /// Most broadcast packets the in-memory store ([`crate::adapter::LocalAdapter`]) keeps at
    /// once per namespace; older ones are forgotten first (default 10 000), so memory stays
    /// bounded whatever the broadcast rate (socket.io keeps them by age only). A client whose
    /// offset was forgotten gets a new socket.
    pub max_packets: usize,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig {
            max_disconnection_duration: Duration::from_secs(120),
            skip_middlewares: true,
            max_packets: 10_000,
        }
    }
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
/// client's last offset, oldest first, each carrying its offset as its last argument (see
/// [`EncodedPacket::with_offset`]), ready to send.
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
    ///
    /// With connection state recovery on ([`crate::adapter::LocalSockets::recovery`]), an
    /// adapter with a session store keeps each non-volatile packet under an offset and
    /// delivers it with that offset appended ([`EncodedPacket::with_offset`]), as socket.io's
    /// `SessionAwareAdapter` and `ClusterAdapter` do.
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::Value as Dynamic;

    /// A packet reads back the same from either parser's encoding, and is re-encoded only
    /// for a server with the other parser (to what that parser writes itself).
    #[test]
    fn packets_read_back_and_convert_across_parsers() {
        let args = Args::from_values([
            Dynamic::String("hi".into()),
            Dynamic::Binary(Bytes::from_static(&[1, 2])),
            Dynamic::from(serde_json::json!({"n": 2.5})),
        ]);
        let json = EncodedPacket::event("/chat", "news", args.clone());
        let msgpack =
            EncodedPacket::new(Parser::MsgPack.event("/chat", "news", args.clone(), None));
        for packet in [&json, &msgpack] {
            let parts = packet.parts().unwrap();
            assert_eq!(
                (parts.nsp.as_str(), parts.event.as_str()),
                ("/chat", "news")
            );
            assert_eq!(parts.args, args);
        }
        assert!(matches!(
            json.frame_for(Parser::Default),
            Some(Cow::Borrowed(_))
        ));
        assert!(matches!(
            msgpack.frame_for(Parser::MsgPack),
            Some(Cow::Borrowed(_))
        ));
        let converted = json.frame_for(Parser::MsgPack);
        let (Some(Frame::Binary(converted)), Frame::Binary(direct)) =
            (converted.as_deref(), &msgpack.frame)
        else {
            panic!("a msgpack packet is one binary message")
        };
        assert_eq!(converted, direct);
        let Some(Frame::WithAttachments(text, atts)) =
            msgpack.frame_for(Parser::Default).as_deref().cloned()
        else {
            panic!("binary goes as an attachment with the default parser")
        };
        assert_eq!(text.as_str().get(1..), Some(json.text()));
        assert_eq!(&atts[..], json.attachments());
        // only events are read back
        let connect = EncodedPacket::new(Parser::MsgPack.control(
            crate::protocol::packet::PacketType::Connect,
            "/",
            None,
        ));
        assert!(connect.parts().is_err());
        assert!(connect.frame_for(Parser::Default).is_none());
    }

    /// Connection state recovery's offset is the last argument whichever parser encoded the
    /// packet (a msgpack server's kept broadcasts were sent without one).
    #[test]
    fn offset_appended_with_either_parser() {
        let args = Args::from_values([
            Dynamic::String("hi".into()),
            Dynamic::Binary(Bytes::from_static(&[1, 2])),
        ]);
        let json = EncodedPacket::event("/chat", "news", args.clone());
        let msgpack = EncodedPacket::new(Parser::MsgPack.event("/chat", "news", args, None));
        for packet in [json, msgpack] {
            let with = packet.with_offset("1-0").parts().unwrap();
            assert_eq!(with.event, "news");
            assert_eq!(with.args.values().len(), 3);
            assert_eq!(with.args.values()[2], serde_json::json!("1-0"));
            assert_eq!(with.args.attachments(), &[Bytes::from_static(&[1, 2])]);
        }
    }
}
