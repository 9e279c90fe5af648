//! Messages of `createShardedAdapter` (socket.io-adapter's `ClusterAdapter` messages over
//! Redis 7 sharded pub/sub). See the [module docs](super) for the protocol.

use rmpv::Value;

use super::wire::{BroadcastOptions, Packet, RemoteSocket};
use super::WireError;
use socketio_core::node_compat::{
    decode_any, encode_json, encode_msgpack, has_binary, strings, MapBuilder, Obj,
};

/// socket.io-adapter's `MessageType` (the envelope's `type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MessageType {
    /// `1`: a node started (heartbeat-based cluster adapters only; not sent over Redis sharded pub/sub).
    InitialHeartbeat = 1,
    /// `2`: a node is alive (heartbeat-based adapters only).
    Heartbeat = 2,
    /// `3`: a broadcast, with or without acks.
    Broadcast = 3,
    /// `4`: make sockets join rooms.
    SocketsJoin = 4,
    /// `5`: make sockets leave rooms.
    SocketsLeave = 5,
    /// `6`: disconnect sockets.
    DisconnectSockets = 6,
    /// `7`: fetch socket details.
    FetchSockets = 7,
    /// `8`: answer to `FETCH_SOCKETS`.
    FetchSocketsResponse = 8,
    /// `9`: serverSideEmit.
    ServerSideEmit = 9,
    /// `10`: answer to an acked serverSideEmit.
    ServerSideEmitResponse = 10,
    /// `11`: how many clients got an acked broadcast.
    BroadcastClientCount = 11,
    /// `12`: one client's ack to a broadcast.
    BroadcastAck = 12,
    /// `13`: a node is closing (heartbeat-based adapters only).
    AdapterClose = 13,
}

impl MessageType {
    /// The type for its number.
    pub fn from_u64(n: u64) -> Option<MessageType> {
        use MessageType::*;
        Some(match n {
            1 => InitialHeartbeat,
            2 => Heartbeat,
            3 => Broadcast,
            4 => SocketsJoin,
            5 => SocketsLeave,
            6 => DisconnectSockets,
            7 => FetchSockets,
            8 => FetchSocketsResponse,
            9 => ServerSideEmit,
            10 => ServerSideEmitResponse,
            11 => BroadcastClientCount,
            12 => BroadcastAck,
            13 => AdapterClose,
            _ => return None,
        })
    }
}

/// The `data` of a [`ClusterMessage`], by type. Field order on the wire is the order below.
#[derive(Debug, Clone, PartialEq)]
pub enum ClusterBody {
    /// `INITIAL_HEARTBEAT`, no data.
    InitialHeartbeat,
    /// `HEARTBEAT`, no data.
    Heartbeat,
    /// `BROADCAST`: `{packet, requestId?, opts}`. With a `requestId` it expects client acks:
    /// every other node answers [`ClusterBody::BroadcastClientCount`] then one
    /// [`ClusterBody::BroadcastAck`] per ack, on the requester's response channel.
    Broadcast {
        /// The packet (without `nsp`: the envelope's `nsp` names the namespace).
        packet: Packet,
        /// Set for a broadcast with acks.
        request_id: Option<String>,
        /// Targets and flags.
        opts: BroadcastOptions,
    },
    /// `SOCKETS_JOIN`: `{opts, rooms}`.
    SocketsJoin {
        /// Which sockets.
        opts: BroadcastOptions,
        /// Rooms to join.
        rooms: Vec<String>,
    },
    /// `SOCKETS_LEAVE`: `{opts, rooms}`.
    SocketsLeave {
        /// Which sockets.
        opts: BroadcastOptions,
        /// Rooms to leave.
        rooms: Vec<String>,
    },
    /// `DISCONNECT_SOCKETS`: `{opts, close}`.
    DisconnectSockets {
        /// Which sockets.
        opts: BroadcastOptions,
        /// Also close the underlying connection.
        close: bool,
    },
    /// `FETCH_SOCKETS`: `{opts, requestId}`; every other node answers
    /// [`ClusterBody::FetchSocketsResponse`].
    FetchSockets {
        /// Which sockets.
        opts: BroadcastOptions,
        /// Request id (16 hex digits from Node).
        request_id: String,
    },
    /// `FETCH_SOCKETS_RESPONSE`: `{requestId, sockets}`.
    FetchSocketsResponse {
        /// The request's id.
        request_id: String,
        /// The node's matching sockets.
        sockets: Vec<RemoteSocket>,
    },
    /// `SERVER_SIDE_EMIT`: `{requestId?, packet}` with `packet` = `[event, ...args]`.
    ServerSideEmit {
        /// Set when the sender waits for acks.
        request_id: Option<String>,
        /// `[event, ...args]`.
        packet: Vec<Value>,
    },
    /// `SERVER_SIDE_EMIT_RESPONSE`: `{requestId, packet}`, the handler's first ack argument.
    ServerSideEmitResponse {
        /// The request's id.
        request_id: String,
        /// The ack value (`None`: acked with no argument).
        packet: Option<Value>,
    },
    /// `BROADCAST_CLIENT_COUNT`: `{requestId, clientCount}`.
    BroadcastClientCount {
        /// The request's id.
        request_id: String,
        /// Number of clients the node sent the packet to.
        client_count: u64,
    },
    /// `BROADCAST_ACK`: `{requestId, packet}`, one client's first ack argument.
    BroadcastAck {
        /// The request's id.
        request_id: String,
        /// The ack value (`None`: acked with no argument).
        packet: Option<Value>,
    },
    /// `ADAPTER_CLOSE`, no data.
    AdapterClose,
}

/// One message of the sharded adapter: `{type, data, uid, nsp}`, JSON, or msgpack when its
/// type may carry binary (`BROADCAST`, `BROADCAST_ACK`, `FETCH_SOCKETS_RESPONSE`,
/// `SERVER_SIDE_EMIT`, `SERVER_SIDE_EMIT_RESPONSE`) and `data` does.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterMessage {
    /// The sending node's uid (16 hex digits from Node); nodes drop their own messages.
    pub uid: String,
    /// The namespace; nodes drop messages of other namespaces.
    pub nsp: String,
    /// Type and data.
    pub body: ClusterBody,
}

impl ClusterMessage {
    /// The message's type.
    pub fn message_type(&self) -> MessageType {
        use ClusterBody as B;
        use MessageType as T;
        match &self.body {
            B::InitialHeartbeat => T::InitialHeartbeat,
            B::Heartbeat => T::Heartbeat,
            B::Broadcast { .. } => T::Broadcast,
            B::SocketsJoin { .. } => T::SocketsJoin,
            B::SocketsLeave { .. } => T::SocketsLeave,
            B::DisconnectSockets { .. } => T::DisconnectSockets,
            B::FetchSockets { .. } => T::FetchSockets,
            B::FetchSocketsResponse { .. } => T::FetchSocketsResponse,
            B::ServerSideEmit { .. } => T::ServerSideEmit,
            B::ServerSideEmitResponse { .. } => T::ServerSideEmitResponse,
            B::BroadcastClientCount { .. } => T::BroadcastClientCount,
            B::BroadcastAck { .. } => T::BroadcastAck,
            B::AdapterClose => T::AdapterClose,
        }
    }

    /// Whether the message answers a request (Node publishes these on the requester's
    /// response channel).
    pub fn is_response(&self) -> bool {
        matches!(
            self.body,
            ClusterBody::FetchSocketsResponse { .. }
                | ClusterBody::ServerSideEmitResponse { .. }
                | ClusterBody::BroadcastClientCount { .. }
                | ClusterBody::BroadcastAck { .. }
        )
    }

    /// The `data` object as a value (`None` for the types without data).
    pub(crate) fn data(&self) -> Option<Value> {
        use ClusterBody as B;
        let m = MapBuilder::default();
        Some(
            match &self.body {
                B::InitialHeartbeat | B::Heartbeat | B::AdapterClose => return None,
                B::Broadcast {
                    packet,
                    request_id,
                    opts,
                } => m
                    .put("packet", packet.to_value())
                    .put_opt("requestId", request_id.as_deref())
                    .put("opts", opts.to_value()),
                B::SocketsJoin { opts, rooms } | B::SocketsLeave { opts, rooms } => {
                    m.put("opts", opts.to_value()).put("rooms", strings(rooms))
                }
                B::DisconnectSockets { opts, close } => {
                    m.put("opts", opts.to_value()).put("close", *close)
                }
                B::FetchSockets { opts, request_id } => m
                    .put("opts", opts.to_value())
                    .put("requestId", request_id.as_str()),
                B::FetchSocketsResponse {
                    request_id,
                    sockets,
                } => m.put("requestId", request_id.as_str()).put(
                    "sockets",
                    Value::Array(sockets.iter().map(RemoteSocket::to_value).collect()),
                ),
                B::ServerSideEmit { request_id, packet } => m
                    .put_opt("requestId", request_id.as_deref())
                    .put("packet", Value::Array(packet.clone())),
                B::ServerSideEmitResponse { request_id, packet }
                | B::BroadcastAck { request_id, packet } => m
                    .put("requestId", request_id.as_str())
                    .put_opt("packet", packet.clone()),
                B::BroadcastClientCount {
                    request_id,
                    client_count,
                } => m
                    .put("requestId", request_id.as_str())
                    .put("clientCount", *client_count),
            }
            .build(),
        )
    }

    /// Bytes as the Node sharded adapter writes them: msgpack when the type may carry binary
    /// and the data does, JSON otherwise.
    pub fn encode(&self) -> Vec<u8> {
        let binary = self.may_contain_binary() && self.data().as_ref().is_some_and(has_binary);
        let v = self.to_value();
        if binary {
            encode_msgpack(&v)
        } else {
            encode_json(&v)
        }
    }

    /// Whether this type may carry binary in its data (`BROADCAST`, `BROADCAST_ACK`,
    /// `FETCH_SOCKETS_RESPONSE`, `SERVER_SIDE_EMIT`, `SERVER_SIDE_EMIT_RESPONSE`): the Node
    /// adapters write those in msgpack when their data does.
    pub(crate) fn may_contain_binary(&self) -> bool {
        matches!(
            self.message_type(),
            MessageType::Broadcast
                | MessageType::BroadcastAck
                | MessageType::FetchSocketsResponse
                | MessageType::ServerSideEmit
                | MessageType::ServerSideEmitResponse
        )
    }

    /// Reads a message (JSON when the first byte is `{`, msgpack otherwise).
    pub fn decode(bytes: &[u8]) -> Result<ClusterMessage, WireError> {
        ClusterMessage::from_value(&decode_any(bytes)?)
    }

    /// The whole message `{type, data, uid, nsp}` as a value (`data` left out when none).
    pub(crate) fn to_value(&self) -> Value {
        MapBuilder::default()
            .put("type", self.message_type() as u64)
            .put_opt("data", self.data())
            .put("uid", self.uid.as_str())
            .put("nsp", self.nsp.as_str())
            .build()
    }

    /// Reads a message from its value `{type, data, uid, nsp}`.
    pub(crate) fn from_value(v: &Value) -> Result<ClusterMessage, WireError> {
        use ClusterBody as B;
        let o = Obj::new(v, "message")?;
        let t = o.u64("type")?;
        let kind = MessageType::from_u64(t).ok_or(WireError::UnknownType(t))?;
        let uid = o.str("uid")?;
        let nsp = o.str("nsp")?;
        let data = || Obj::new(o.req("data")?, "data");
        let opts = |d: &Obj<'_>| BroadcastOptions::from_value(d.req("opts")?);
        let body = match kind {
            MessageType::InitialHeartbeat => B::InitialHeartbeat,
            MessageType::Heartbeat => B::Heartbeat,
            MessageType::AdapterClose => B::AdapterClose,
            MessageType::Broadcast => {
                let d = data()?;
                B::Broadcast {
                    packet: Packet::from_value(d.req("packet")?)?,
                    request_id: d.opt_str("requestId")?,
                    opts: opts(&d)?,
                }
            }
            MessageType::SocketsJoin | MessageType::SocketsLeave => {
                let d = data()?;
                let (opts, rooms) = (opts(&d)?, d.strings("rooms")?);
                if kind == MessageType::SocketsJoin {
                    B::SocketsJoin { opts, rooms }
                } else {
                    B::SocketsLeave { opts, rooms }
                }
            }
            MessageType::DisconnectSockets => {
                let d = data()?;
                B::DisconnectSockets {
                    opts: opts(&d)?,
                    close: d.flag("close")?,
                }
            }
            MessageType::FetchSockets => {
                let d = data()?;
                B::FetchSockets {
                    opts: opts(&d)?,
                    request_id: d.str("requestId")?,
                }
            }
            MessageType::FetchSocketsResponse => {
                let d = data()?;
                B::FetchSocketsResponse {
                    request_id: d.str("requestId")?,
                    sockets: RemoteSocket::list_from(d.array("sockets")?)?,
                }
            }
            MessageType::ServerSideEmit => {
                let d = data()?;
                B::ServerSideEmit {
                    request_id: d.opt_str("requestId")?,
                    packet: d.array("packet")?.clone(),
                }
            }
            MessageType::ServerSideEmitResponse | MessageType::BroadcastAck => {
                let d = data()?;
                let (request_id, packet) = (d.str("requestId")?, d.get("packet").cloned());
                if kind == MessageType::BroadcastAck {
                    B::BroadcastAck { request_id, packet }
                } else {
                    B::ServerSideEmitResponse { request_id, packet }
                }
            }
            MessageType::BroadcastClientCount => {
                let d = data()?;
                B::BroadcastClientCount {
                    request_id: d.str("requestId")?,
                    client_count: d.u64("clientCount")?,
                }
            }
        };
        Ok(ClusterMessage { uid, nsp, body })
    }
}
