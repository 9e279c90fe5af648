//! The messages of socket.io-adapter's `ClusterAdapter` (2.5.x), shared by the Node adapters
//! that build on it (`@socket.io/redis-adapter`'s sharded adapter,
//! `@socket.io/redis-streams-adapter`, `@socket.io/postgres-adapter`), and the packet,
//! broadcast options and remote socket shapes every Node adapter carries (the classic Redis
//! adapter too). Pure codec: each adapter crate adds its transport and re-exports these types.
//!
//! The protocol of each adapter is described in its crate's docs (`socketio_redis::node`,
//! `socketio_redis::streams`, `socketio_postgres`).

use rmpv::Value;

use crate::adapter::BroadcastOptions as CoreOptions;

use super::{
    decode_any, encode_json, encode_msgpack, has_binary, strings, MapBuilder, Obj, WireError,
};

/// A Socket.IO packet as the adapters carry it: socket.io-parser's packet object *before*
/// encoding, so binary arguments are plain binary values inside `data` (no placeholders,
/// no attachments count).
///
/// Encoded as a map `{type, data, nsp, id}` in that order, absent fields left out.
#[derive(Debug, Clone, PartialEq)]
pub struct Packet {
    /// socket.io-parser packet type: `2` (EVENT) for every broadcast the Node server and
    /// emitter send, binary or not (the parser switches to BINARY_EVENT only when it encodes
    /// for a client).
    pub packet_type: u64,
    /// The payload: for an EVENT, the array `[event name, ...arguments]`.
    pub data: Option<Value>,
    /// The namespace. Always set by the classic adapter and the emitter; the sharded adapter
    /// sends it as the envelope's `nsp` and leaves it out here. Node reads an absent `nsp`
    /// in a classic broadcast as `"/"`.
    pub nsp: Option<String>,
    /// The ack id; not sent by the adapters (they publish before an id is assigned).
    pub id: Option<u64>,
}

/// The EVENT packet type.
pub const EVENT: u64 = 2;

impl Packet {
    /// An EVENT packet for `nsp` carrying `[event, ...args]`.
    pub fn event(
        nsp: impl Into<String>,
        event: &str,
        args: impl IntoIterator<Item = Value>,
    ) -> Packet {
        let mut data = vec![Value::from(event)];
        data.extend(args);
        Packet {
            packet_type: EVENT,
            data: Some(Value::Array(data)),
            nsp: Some(nsp.into()),
            id: None,
        }
    }

    /// The event name of an EVENT packet (`data[0]`), if it is a string.
    pub fn event_name(&self) -> Option<&str> {
        self.data.as_ref()?.as_array()?.first()?.as_str()
    }

    /// The event arguments of an EVENT packet (`data[1..]`).
    pub fn args(&self) -> &[Value] {
        match self.data.as_ref().and_then(Value::as_array) {
            Some(items) if !items.is_empty() => &items[1..],
            _ => &[],
        }
    }

    /// The Packet as the map Node's objects make (absent fields left out).
    pub fn to_value(&self) -> Value {
        MapBuilder::default()
            .put("type", self.packet_type)
            .put_opt("data", self.data.clone())
            .put_opt("nsp", self.nsp.as_deref())
            .put_opt("id", self.id)
            .build()
    }

    /// Reads a Packet from its value.
    ///
    /// # Errors
    /// A value of another shape.
    pub fn from_value(v: &Value) -> Result<Packet, WireError> {
        let o = Obj::new(v, "packet")?;
        Ok(Packet {
            packet_type: o.u64("type")?,
            data: o.get("data").cloned(),
            nsp: o.opt_str("nsp")?,
            id: o.opt_u64("id")?,
        })
    }
}

/// The flags of a broadcast (socket.io's `BroadcastFlags`), as an ordered list of
/// `(name, value)` so that a message re-encodes byte for byte (their order is the order the
/// Node application called `.compress()`, `.volatile`, `.timeout()`...).
///
/// Known names: `volatile`, `compress`, `local` (booleans), `timeout` (milliseconds),
/// `expectSingleResponse`, `binary`, `broadcast`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BroadcastFlags(pub Vec<(String, Value)>);

impl BroadcastFlags {
    /// The value of flag `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Sets flag `name` (replacing it in place, or appending it).
    pub fn set(&mut self, name: &str, value: impl Into<Value>) -> &mut Self {
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| k == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.to_owned(), value)),
        }
        self
    }

    fn is_true(&self, name: &str) -> bool {
        matches!(self.get(name), Some(Value::Boolean(true)))
    }

    /// `volatile`: the packet may be dropped for a client that is not ready.
    pub fn volatile(&self) -> bool {
        self.is_true("volatile")
    }

    /// `local`: the broadcast stays on the sending node (never published, so never seen on the wire).
    pub fn local(&self) -> bool {
        self.is_true("local")
    }

    /// `compress`: `Some(false)` asks not to compress; absent means the default (compress).
    pub fn compress(&self) -> Option<bool> {
        self.get("compress").and_then(Value::as_bool)
    }

    /// `timeout` in milliseconds (a broadcast with acks waits this long for them).
    pub fn timeout_ms(&self) -> Option<u64> {
        self.get("timeout").and_then(Value::as_u64)
    }

    fn to_value(&self) -> Value {
        Value::Map(
            self.0
                .iter()
                .map(|(k, v)| (Value::from(k.as_str()), v.clone()))
                .collect(),
        )
    }

    fn from_value(v: &Value) -> Result<BroadcastFlags, WireError> {
        match v {
            Value::Map(entries) => entries
                .iter()
                .map(|(k, v)| {
                    k.as_str()
                        .map(|k| (k.to_owned(), v.clone()))
                        .ok_or(WireError::shape("flags", "an object with string keys"))
                })
                .collect::<Result<_, _>>()
                .map(BroadcastFlags),
            _ => Err(WireError::shape("flags", "an object")),
        }
    }
}

/// Which sockets a broadcast (or a cluster-wide join/leave/disconnect/fetch) targets:
/// sockets in any of `rooms` (every socket of the namespace when empty) that are in none of
/// `except`. Encoded `{rooms, except, flags}` (the emitter writes `{rooms, flags, except}`;
/// Node reads both the same).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct BroadcastOptions {
    /// Target rooms; empty means all sockets.
    pub rooms: Vec<String>,
    /// Rooms whose sockets are left out (a socket id is a room, so `except` can name sockets).
    pub except: Vec<String>,
    /// Flags; `None` when the sender had no flags object (classic join/leave/disconnect/fetch
    /// requests never carry one).
    pub flags: Option<BroadcastFlags>,
}

impl BroadcastOptions {
    /// The BroadcastOptions as the map Node's objects make (absent fields left out).
    pub fn to_value(&self) -> Value {
        MapBuilder::default()
            .put("rooms", strings(&self.rooms))
            .put("except", strings(&self.except))
            .put_opt("flags", self.flags.as_ref().map(BroadcastFlags::to_value))
            .build()
    }

    /// Writes the bytes of [`BroadcastOptions::to_value`] without building it.
    pub fn write(&self, out: &mut Vec<u8>) {
        use rmp::encode as e;
        // Writing into a Vec cannot fail; no list here comes near 2^32 items.
        let strings = |out: &mut Vec<u8>, list: &[String]| {
            let _ = e::write_array_len(out, list.len() as u32);
            for s in list {
                let _ = e::write_str(out, s);
            }
        };
        let _ = e::write_map_len(out, 2 + u32::from(self.flags.is_some()));
        let _ = e::write_str(out, "rooms");
        strings(out, &self.rooms);
        let _ = e::write_str(out, "except");
        strings(out, &self.except);
        if let Some(flags) = &self.flags {
            let _ = e::write_str(out, "flags");
            let _ = e::write_map_len(out, flags.0.len() as u32);
            for (name, value) in &flags.0 {
                let _ = e::write_str(out, name);
                let _ = rmpv::encode::write_value(out, value);
            }
        }
    }

    /// Reads a BroadcastOptions from its value.
    ///
    /// # Errors
    /// A value of another shape.
    pub fn from_value(v: &Value) -> Result<BroadcastOptions, WireError> {
        let o = Obj::new(v, "opts")?;
        Ok(BroadcastOptions {
            rooms: o.strings_or_empty("rooms")?,
            except: o.strings_or_empty("except")?,
            flags: match o.get("flags") {
                None | Some(Value::Nil) => None,
                Some(f) => Some(BroadcastFlags::from_value(f)?),
            },
        })
    }
}

/// One socket in a fetchSockets answer (`RemoteSocket` on the Node side).
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteSocket {
    /// The socket id (also the name of its own room).
    pub id: String,
    /// The handshake as Node's `socket.handshake` (`headers`, `time`, `address`, `xdomain`,
    /// `secure`, `issued`, `url`, `query`, `auth`), kept as a dynamic value.
    pub handshake: Value,
    /// Every room the socket is in, its own id included.
    pub rooms: Vec<String>,
    /// `socket.data`; `None` when it was `undefined` (the key is then left out).
    pub data: Option<Value>,
}

impl RemoteSocket {
    /// How this node describes its `socket`, in `rooms`, in a fetchSockets answer: its
    /// handshake as Node's `socket.handshake` ([`super::handshake_of`]) and its data.
    pub fn of(socket: &crate::SocketRef, rooms: Vec<String>) -> RemoteSocket {
        RemoteSocket {
            id: socket.id().to_string(),
            handshake: super::handshake_of(socket),
            rooms,
            data: Some(super::json_to_node(&socket.data_value())),
        }
    }

    /// Another node's socket of namespace `nsp` as [`crate::adapter::SocketInfo`] (an
    /// `undefined` `socket.data` becomes `null`).
    pub fn into_info(self, nsp: &str) -> crate::adapter::SocketInfo {
        crate::adapter::SocketInfo {
            id: self.id,
            nsp: nsp.to_owned(),
            rooms: self.rooms,
            data: self
                .data
                .as_ref()
                .map(super::node_to_json)
                .unwrap_or_default(),
            handshake: super::node_to_json(&self.handshake),
        }
    }

    /// The RemoteSocket as the map Node's objects make (absent fields left out).
    pub fn to_value(&self) -> Value {
        MapBuilder::default()
            .put("id", self.id.as_str())
            .put("handshake", self.handshake.clone())
            .put("rooms", strings(&self.rooms))
            .put_opt("data", self.data.clone())
            .build()
    }

    /// Reads a RemoteSocket from its value.
    ///
    /// # Errors
    /// A value of another shape.
    pub fn from_value(v: &Value) -> Result<RemoteSocket, WireError> {
        let o = Obj::new(v, "socket")?;
        Ok(RemoteSocket {
            id: o.str("id")?,
            handshake: o.get("handshake").cloned().unwrap_or(Value::Nil),
            rooms: o.strings_or_empty("rooms")?,
            data: o.get("data").cloned(),
        })
    }

    /// Reads a list of sockets (a fetchSockets answer's `sockets`).
    ///
    /// # Errors
    /// An item of another shape.
    pub fn list_from(items: &[Value]) -> Result<Vec<RemoteSocket>, WireError> {
        items.iter().map(RemoteSocket::from_value).collect()
    }
}

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

/// One message of socket.io-adapter's `ClusterAdapter`: `{type, data, uid, nsp}`. Each
/// adapter carries it its own way: the sharded Redis adapter as [`ClusterMessage::encode`]
/// (JSON, or msgpack when binary), the Streams adapter as stream fields or msgpack, the
/// Postgres adapter as JSON in a NOTIFY or msgpack in its attachment table.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterMessage {
    /// The sending node's uid (16 hex digits from Node); nodes drop their own messages.
    pub uid: String,
    /// The namespace; nodes drop messages of other namespaces. `None` when the message has no
    /// `nsp` (`@socket.io/postgres-emitter` leaves it out: its channel names the namespace).
    pub nsp: Option<String>,
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
    pub fn data(&self) -> Option<Value> {
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

    /// Bytes as the Node sharded Redis adapter writes them: msgpack when the type may carry
    /// binary ([`ClusterMessage::may_contain_binary`]) and the data does, JSON otherwise.
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
    pub fn may_contain_binary(&self) -> bool {
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
    ///
    /// # Errors
    /// Bytes that are neither, or a value that is not a message of a known type.
    pub fn decode(bytes: &[u8]) -> Result<ClusterMessage, WireError> {
        ClusterMessage::from_value(&decode_any(bytes)?)
    }

    /// The whole message `{type, data, uid, nsp}` as a value (`data` and `nsp` left out when
    /// none), the key order of Node's objects.
    pub fn to_value(&self) -> Value {
        MapBuilder::default()
            .put("type", self.message_type() as u64)
            .put_opt("data", self.data())
            .put("uid", self.uid.as_str())
            .put_opt("nsp", self.nsp.as_deref())
            .build()
    }

    /// Reads a message from its value `{type, data, uid, nsp}`.
    ///
    /// # Errors
    /// A value that is not a message of a known type.
    pub fn from_value(v: &Value) -> Result<ClusterMessage, WireError> {
        use ClusterBody as B;
        let o = Obj::new(v, "message")?;
        let t = o.u64("type")?;
        let kind = MessageType::from_u64(t).ok_or(WireError::UnknownType(t))?;
        let uid = o.str("uid")?;
        let nsp = o.opt_str("nsp")?;
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

    /// `JSON.stringify` of the message.
    pub fn to_json(&self) -> String {
        // encode_json writes valid UTF-8 (JSON text and escaped strings only).
        String::from_utf8(encode_json(&self.to_value())).unwrap_or_default()
    }

    /// msgpack of the message (notepack.io's encoding).
    pub fn to_msgpack(&self) -> Vec<u8> {
        encode_msgpack(&self.to_value())
    }
}

impl BroadcastFlags {
    /// The flags object of a broadcast of ours: `{}`, or `{volatile: true}`.
    pub fn of(opts: &CoreOptions) -> BroadcastFlags {
        let mut flags = BroadcastFlags::default();
        if opts.flags.volatile {
            flags.set("volatile", true);
        }
        flags
    }
}

impl BroadcastOptions {
    /// Our options on the wire, with `flags` (Node sends a flags object with broadcasts and
    /// the ClusterAdapter's other operations, none with the classic Redis adapter's requests).
    pub fn from_core(opts: &CoreOptions, flags: Option<BroadcastFlags>) -> BroadcastOptions {
        BroadcastOptions {
            rooms: opts.rooms.clone(),
            except: opts.except.clone(),
            flags,
        }
    }

    /// Node's options as ours: `volatile` kept, `local` dropped (an operation received from
    /// another node is never forwarded).
    pub fn into_core(self) -> CoreOptions {
        let volatile = self.flags.as_ref().is_some_and(BroadcastFlags::volatile);
        CoreOptions {
            rooms: self.rooms,
            except: self.except,
            flags: crate::adapter::BroadcastFlags {
                local: false,
                volatile,
            },
        }
    }
}
