//! Messages of the classic `createAdapter` (and of `@socket.io/redis-emitter`), and the types
//! both adapters share. See the [module docs](super) for the protocol.

use rmpv::Value;
use socketio_core::Args;

use super::WireError;
use socketio_core::node_compat::{
    decode_any, decode_msgpack, encode_json, encode_msgpack, strings, MapBuilder, Obj,
};

pub use socketio_core::node_compat::cluster::{
    BroadcastFlags, BroadcastOptions, Packet, RemoteSocket, EVENT,
};

/// A broadcast on the classic adapter's broadcast channel (`{key}#{nsp}#` or
/// `{key}#{nsp}#{room}#`): msgpack of the array `[uid, packet, opts]`.
#[derive(Debug, Clone, PartialEq)]
pub struct BroadcastMessage {
    /// The sending node's uid (6 characters for a Node adapter, `"emitter"` for the emitter).
    /// A node drops broadcasts carrying its own uid.
    pub uid: String,
    /// The packet; its `nsp` names the namespace.
    pub packet: Packet,
    /// Rooms, exceptions and flags.
    pub opts: BroadcastOptions,
}

impl BroadcastMessage {
    /// msgpack bytes, as the Node adapter writes them.
    pub fn encode(&self) -> Vec<u8> {
        encode_msgpack(&Value::Array(vec![
            Value::from(self.uid.as_str()),
            self.packet.to_value(),
            self.opts.to_value(),
        ]))
    }

    /// Reads a broadcast. Errors if the bytes are not msgpack or not `[uid, packet, opts]`.
    pub fn decode(bytes: &[u8]) -> Result<BroadcastMessage, WireError> {
        let v = decode_msgpack(bytes)?;
        let items = v
            .as_array()
            .filter(|a| a.len() >= 3)
            .ok_or(WireError::shape(
                "broadcast",
                "an array [uid, packet, opts]",
            ))?;
        Ok(BroadcastMessage {
            uid: items[0]
                .as_str()
                .ok_or(WireError::shape("broadcast uid", "a string"))?
                .to_owned(),
            packet: Packet::from_value(&items[1])?,
            opts: BroadcastOptions::from_value(&items[2])?,
        })
    }
}

/// A broadcast of an EVENT read straight into what the receiving node delivers
/// ([`decode_event_broadcast`]): the arguments go from msgpack to [`Args`] in one pass.
pub(crate) struct EventBroadcast<'a> {
    /// The sender's uid.
    pub(crate) uid: &'a str,
    /// The packet's `nsp` (`None`: absent, which Node reads as `"/"`).
    pub(crate) nsp: Option<&'a str>,
    /// The event name (`data[0]`).
    pub(crate) event: String,
    /// The arguments (`data[1..]`), binary as attachments.
    pub(crate) args: Args,
    /// Rooms, exceptions and flags.
    pub(crate) opts: BroadcastOptions,
}

/// The sender's uid of a [`BroadcastMessage`] (its first item), read without decoding the
/// rest: a node skips its own broadcasts (every node receives what it publishes on its
/// pattern) before paying for their packet. `None` when the bytes do not start that way.
pub(crate) fn broadcast_sender(bytes: &[u8]) -> Option<&str> {
    let mut rd = bytes;
    rmp::decode::read_array_len(&mut rd).ok()?;
    rmp::decode::read_str_from_slice(rd)
        .ok()
        .map(|(uid, _)| uid)
}

/// Reads a [`BroadcastMessage`] whose packet is an EVENT without building its tree: the
/// envelope is walked with `rmp`, the packet's `data` read by
/// [`socketio_core::protocol::msgpack::read_event_data`]. `None` for anything else (another
/// packet type, an unknown packet field, a malformed message): the caller then takes the
/// general path ([`BroadcastMessage::decode`]), which ignores or reports it.
pub(crate) fn decode_event_broadcast(bytes: &[u8]) -> Option<EventBroadcast<'_>> {
    use rmp::decode as d;
    let mut rd = bytes;
    if d::read_array_len(&mut rd).ok()? < 3 {
        return None;
    }
    let (uid, rest) = d::read_str_from_slice(rd).ok()?;
    rd = rest;
    let fields = d::read_map_len(&mut rd).ok()?;
    let (mut kind, mut nsp, mut data) = (None, None, None);
    for _ in 0..fields {
        let (key, rest) = d::read_str_from_slice(rd).ok()?;
        rd = rest;
        match key {
            "type" => kind = Some(d::read_int::<u64, _>(&mut rd).ok()?),
            "nsp" => {
                let (value, rest) = d::read_str_from_slice(rd).ok()?;
                rd = rest;
                nsp = Some(value);
            }
            "data" => {
                let (event, args, used) =
                    socketio_core::protocol::msgpack::read_event_data(rd).ok()?;
                rd = &rd[used..];
                data = Some((event, args));
            }
            _ => return None,
        }
    }
    if kind != Some(EVENT) {
        return None;
    }
    let (event, args) = data?;
    let opts = rmpv::decode::read_value_with_max_depth(&mut rd, 64).ok()?;
    Some(EventBroadcast {
        uid,
        nsp,
        event,
        args,
        opts: BroadcastOptions::from_value(&opts).ok()?,
    })
}

/// The bytes of a [`BroadcastMessage`] of an EVENT whose `data` (`[event, ...args]`) is
/// already msgpack (from [`socketio_core::protocol::msgpack::write_event_data`]): the same
/// bytes as [`BroadcastMessage::encode`] of that packet, without building its tree.
pub(crate) fn encode_event_broadcast(
    uid: &str,
    nsp: &str,
    data: &[u8],
    opts: &BroadcastOptions,
) -> Vec<u8> {
    use rmp::encode as e;
    let mut out = Vec::with_capacity(data.len() + nsp.len() + uid.len() + 48);
    // Writing into a Vec cannot fail.
    let _ = e::write_array_len(&mut out, 3);
    let _ = e::write_str(&mut out, uid);
    let _ = e::write_map_len(&mut out, 3);
    let _ = e::write_str(&mut out, "type");
    let _ = e::write_uint(&mut out, EVENT);
    let _ = e::write_str(&mut out, "data");
    out.extend_from_slice(data);
    let _ = e::write_str(&mut out, "nsp");
    let _ = e::write_str(&mut out, nsp);
    opts.write(&mut out);
    out
}

/// The classic adapter's `RequestType` (the `type` field of requests and of some responses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum RequestType {
    /// `0`: socket ids in some rooms (sent by adapters before 7.x; still answered).
    Sockets = 0,
    /// `1`: every room of every node.
    AllRooms = 1,
    /// `2`: make sockets join rooms.
    RemoteJoin = 2,
    /// `3`: make sockets leave rooms.
    RemoteLeave = 3,
    /// `4`: disconnect sockets.
    RemoteDisconnect = 4,
    /// `5`: fetch socket details.
    RemoteFetch = 5,
    /// `6`: serverSideEmit (request and its ack response).
    ServerSideEmit = 6,
    /// `7`: a broadcast that expects client acks.
    Broadcast = 7,
    /// `8`: response: how many clients got an acked broadcast.
    BroadcastClientCount = 8,
    /// `9`: response: one client's ack.
    BroadcastAck = 9,
}

impl RequestType {
    /// The type for its number.
    pub fn from_u64(n: u64) -> Option<RequestType> {
        use RequestType::*;
        Some(match n {
            0 => Sockets,
            1 => AllRooms,
            2 => RemoteJoin,
            3 => RemoteLeave,
            4 => RemoteDisconnect,
            5 => RemoteFetch,
            6 => ServerSideEmit,
            7 => Broadcast,
            8 => BroadcastClientCount,
            9 => BroadcastAck,
            _ => return None,
        })
    }
}

/// A message on the classic request channel `{key}-request#{nsp}#`. JSON, except
/// [`Request::BroadcastWithAck`] (msgpack, as it may carry binary).
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// `SOCKETS` (0): `{uid, requestId, type, rooms}`; answered by [`Response::Sockets`].
    Sockets {
        /// Requesting node.
        uid: String,
        /// Request id (6 characters from Node).
        request_id: String,
        /// Rooms (all sockets when empty).
        rooms: Vec<String>,
    },
    /// `ALL_ROOMS` (1): `{uid, requestId, type}`; answered by [`Response::AllRooms`].
    AllRooms {
        /// Requesting node.
        uid: String,
        /// Request id.
        request_id: String,
    },
    /// `REMOTE_JOIN` (2) by selector: `{uid, type, opts: {rooms, except}, rooms}`. No answer;
    /// every node applies it, the sender too (it receives its own request).
    SocketsJoin {
        /// Requesting node; `None` from the emitter.
        uid: Option<String>,
        /// Which sockets.
        opts: BroadcastOptions,
        /// Rooms to join.
        rooms: Vec<String>,
    },
    /// `REMOTE_LEAVE` (3) by selector: like [`Request::SocketsJoin`].
    SocketsLeave {
        /// Requesting node; `None` from the emitter.
        uid: Option<String>,
        /// Which sockets.
        opts: BroadcastOptions,
        /// Rooms to leave.
        rooms: Vec<String>,
    },
    /// `REMOTE_DISCONNECT` (4) by selector: `{uid, type, opts, close}`. No answer; every node
    /// applies it, the sender too.
    DisconnectSockets {
        /// Requesting node; `None` from the emitter.
        uid: Option<String>,
        /// Which sockets.
        opts: BroadcastOptions,
        /// Also close the underlying connection.
        close: bool,
    },
    /// Legacy `REMOTE_JOIN` (2) of one socket: `{uid, requestId, type, sid, room}` (the
    /// pre-7.x `remoteJoin()`); the node holding `sid` answers [`Response::Done`].
    RemoteJoin {
        /// Requesting node.
        uid: String,
        /// Request id.
        request_id: String,
        /// The socket.
        sid: String,
        /// The room.
        room: String,
    },
    /// Legacy `REMOTE_LEAVE` (3) of one socket, like [`Request::RemoteJoin`].
    RemoteLeave {
        /// Requesting node.
        uid: String,
        /// Request id.
        request_id: String,
        /// The socket.
        sid: String,
        /// The room.
        room: String,
    },
    /// Legacy `REMOTE_DISCONNECT` (4) of one socket: `{uid, requestId, type, sid, close}`.
    RemoteDisconnect {
        /// Requesting node.
        uid: String,
        /// Request id.
        request_id: String,
        /// The socket.
        sid: String,
        /// Also close the underlying connection.
        close: bool,
    },
    /// `REMOTE_FETCH` (5): `{uid, requestId, type, opts: {rooms, except}}`; every node
    /// (the sender excepted) answers [`Response::FetchSockets`].
    FetchSockets {
        /// Requesting node.
        uid: String,
        /// Request id.
        request_id: String,
        /// Which sockets.
        opts: BroadcastOptions,
    },
    /// `SERVER_SIDE_EMIT` (6): `{uid, requestId?, type, data}` with `data` = `[event,
    /// ...args]`. With a `requestId` every other node answers [`Response::ServerSideEmit`]
    /// once. Being JSON, binary arguments travel as `{"type":"Buffer","data":[..]}`.
    ServerSideEmit {
        /// Sending node (`"emitter"` from the emitter); nodes drop their own.
        uid: String,
        /// Set when the sender waits for acks.
        request_id: Option<String>,
        /// `[event, ...args]`.
        data: Vec<Value>,
    },
    /// `BROADCAST` (7), a broadcast expecting client acks (msgpack):
    /// `{uid, requestId, type, packet, opts: {rooms, except, flags}}`. Every other node sends
    /// [`Response::BroadcastClientCount`] once, then one [`Response::BroadcastAck`] per ack.
    BroadcastWithAck {
        /// Requesting node.
        uid: String,
        /// Request id.
        request_id: String,
        /// The packet (with its `nsp`).
        packet: Packet,
        /// Targets and flags (`flags.timeout` bounds the wait).
        opts: BroadcastOptions,
    },
}

impl Request {
    /// The request's type number.
    pub fn request_type(&self) -> RequestType {
        use RequestType as T;
        match self {
            Request::Sockets { .. } => T::Sockets,
            Request::AllRooms { .. } => T::AllRooms,
            Request::SocketsJoin { .. } | Request::RemoteJoin { .. } => T::RemoteJoin,
            Request::SocketsLeave { .. } | Request::RemoteLeave { .. } => T::RemoteLeave,
            Request::DisconnectSockets { .. } | Request::RemoteDisconnect { .. } => {
                T::RemoteDisconnect
            }
            Request::FetchSockets { .. } => T::RemoteFetch,
            Request::ServerSideEmit { .. } => T::ServerSideEmit,
            Request::BroadcastWithAck { .. } => T::Broadcast,
        }
    }

    /// The sending node's uid, when the message carries one.
    pub fn uid(&self) -> Option<&str> {
        match self {
            Request::SocketsJoin { uid, .. }
            | Request::SocketsLeave { uid, .. }
            | Request::DisconnectSockets { uid, .. } => uid.as_deref(),
            Request::Sockets { uid, .. }
            | Request::AllRooms { uid, .. }
            | Request::RemoteJoin { uid, .. }
            | Request::RemoteLeave { uid, .. }
            | Request::RemoteDisconnect { uid, .. }
            | Request::FetchSockets { uid, .. }
            | Request::ServerSideEmit { uid, .. }
            | Request::BroadcastWithAck { uid, .. } => Some(uid),
        }
    }

    /// Bytes as the Node adapter writes them (JSON key order included).
    pub fn encode(&self) -> Vec<u8> {
        let t = self.request_type() as u64;
        let m = MapBuilder::default();
        let v = match self {
            Request::Sockets {
                uid,
                request_id,
                rooms,
            } => m
                .put("uid", uid.as_str())
                .put("requestId", request_id.as_str())
                .put("type", t)
                .put("rooms", strings(rooms)),
            Request::AllRooms { uid, request_id } => m
                .put("uid", uid.as_str())
                .put("requestId", request_id.as_str())
                .put("type", t),
            Request::SocketsJoin { uid, opts, rooms }
            | Request::SocketsLeave { uid, opts, rooms } => m
                .put_opt("uid", uid.as_deref())
                .put("type", t)
                .put("opts", opts.to_value())
                .put("rooms", strings(rooms)),
            Request::DisconnectSockets { uid, opts, close } => m
                .put_opt("uid", uid.as_deref())
                .put("type", t)
                .put("opts", opts.to_value())
                .put("close", *close),
            Request::RemoteJoin {
                uid,
                request_id,
                sid,
                room,
            }
            | Request::RemoteLeave {
                uid,
                request_id,
                sid,
                room,
            } => m
                .put("uid", uid.as_str())
                .put("requestId", request_id.as_str())
                .put("type", t)
                .put("sid", sid.as_str())
                .put("room", room.as_str()),
            Request::RemoteDisconnect {
                uid,
                request_id,
                sid,
                close,
            } => m
                .put("uid", uid.as_str())
                .put("requestId", request_id.as_str())
                .put("type", t)
                .put("sid", sid.as_str())
                .put("close", *close),
            Request::FetchSockets {
                uid,
                request_id,
                opts,
            } => m
                .put("uid", uid.as_str())
                .put("requestId", request_id.as_str())
                .put("type", t)
                .put("opts", opts.to_value()),
            Request::ServerSideEmit {
                uid,
                request_id,
                data,
            } => m
                .put("uid", uid.as_str())
                .put_opt("requestId", request_id.as_deref())
                .put("type", t)
                .put("data", Value::Array(data.clone())),
            Request::BroadcastWithAck {
                uid,
                request_id,
                packet,
                opts,
            } => {
                return encode_msgpack(
                    &m.put("uid", uid.as_str())
                        .put("requestId", request_id.as_str())
                        .put("type", t)
                        .put("packet", packet.to_value())
                        .put("opts", opts.to_value())
                        .build(),
                );
            }
        };
        encode_json(&v.build())
    }

    /// Reads a request (JSON when the first byte is `{`, msgpack otherwise, as Node does).
    /// Errors on an unknown `type` or a missing/mistyped field.
    pub fn decode(bytes: &[u8]) -> Result<Request, WireError> {
        let v = decode_any(bytes)?;
        let o = Obj::new(&v, "request")?;
        let t = o.u64("type")?;
        let kind = RequestType::from_u64(t).ok_or(WireError::UnknownType(t))?;
        let selector = |o: &Obj<'_>| BroadcastOptions::from_value(o.req("opts")?);
        Ok(match kind {
            RequestType::Sockets => Request::Sockets {
                uid: o.str("uid")?,
                request_id: o.str("requestId")?,
                rooms: o.strings_or_empty("rooms")?,
            },
            RequestType::AllRooms => Request::AllRooms {
                uid: o.str("uid")?,
                request_id: o.str("requestId")?,
            },
            RequestType::RemoteJoin | RequestType::RemoteLeave if o.has("opts") => {
                let (uid, opts, rooms) = (o.opt_str("uid")?, selector(&o)?, o.strings("rooms")?);
                if kind == RequestType::RemoteJoin {
                    Request::SocketsJoin { uid, opts, rooms }
                } else {
                    Request::SocketsLeave { uid, opts, rooms }
                }
            }
            RequestType::RemoteJoin | RequestType::RemoteLeave => {
                let (uid, request_id, sid, room) = (
                    o.str("uid")?,
                    o.str("requestId")?,
                    o.str("sid")?,
                    o.str("room")?,
                );
                if kind == RequestType::RemoteJoin {
                    Request::RemoteJoin {
                        uid,
                        request_id,
                        sid,
                        room,
                    }
                } else {
                    Request::RemoteLeave {
                        uid,
                        request_id,
                        sid,
                        room,
                    }
                }
            }
            RequestType::RemoteDisconnect if o.has("opts") => Request::DisconnectSockets {
                uid: o.opt_str("uid")?,
                opts: selector(&o)?,
                close: o.flag("close")?,
            },
            RequestType::RemoteDisconnect => Request::RemoteDisconnect {
                uid: o.str("uid")?,
                request_id: o.str("requestId")?,
                sid: o.str("sid")?,
                close: o.flag("close")?,
            },
            RequestType::RemoteFetch => Request::FetchSockets {
                uid: o.str("uid")?,
                request_id: o.str("requestId")?,
                opts: selector(&o)?,
            },
            RequestType::ServerSideEmit => Request::ServerSideEmit {
                uid: o.str("uid")?,
                request_id: o.opt_str("requestId")?,
                data: o.array("data")?.clone(),
            },
            RequestType::Broadcast => Request::BroadcastWithAck {
                uid: o.str("uid")?,
                request_id: o.str("requestId")?,
                packet: Packet::from_value(o.req("packet")?)?,
                opts: selector(&o)?,
            },
            RequestType::BroadcastClientCount | RequestType::BroadcastAck => {
                return Err(WireError::UnknownType(t))
            }
        })
    }
}

/// A message on the classic response channel (`{key}-response#{nsp}#`, or the requester's
/// own `{key}-response#{nsp}#{uid}#` with `publishOnSpecificResponseChannel`). JSON, except
/// [`Response::BroadcastAck`] (msgpack).
///
/// Most responses carry no `type`: Node matches them to its pending request by `requestId`.
/// [`Response::decode`] tells them apart by shape.
#[derive(Debug, Clone, PartialEq)]
pub enum Response {
    /// To `SOCKETS`: `{requestId, sockets: [sid, ..]}`.
    Sockets {
        /// The request's id.
        request_id: String,
        /// Socket ids.
        sockets: Vec<String>,
    },
    /// To `REMOTE_FETCH`: `{requestId, sockets: [{id, handshake, rooms, data}, ..]}`. An
    /// empty `sockets` list decodes as this variant.
    FetchSockets {
        /// The request's id.
        request_id: String,
        /// The node's matching sockets.
        sockets: Vec<RemoteSocket>,
    },
    /// To `ALL_ROOMS`: `{requestId, rooms}` (the node's rooms, socket-id rooms included).
    AllRooms {
        /// The request's id.
        request_id: String,
        /// Room names.
        rooms: Vec<String>,
    },
    /// To a legacy single-socket `REMOTE_JOIN`/`REMOTE_LEAVE`/`REMOTE_DISCONNECT`: `{requestId}`.
    Done {
        /// The request's id.
        request_id: String,
    },
    /// To `SERVER_SIDE_EMIT` with ack: `{type: 6, requestId, data}`; `data` is the first
    /// argument the handler acked with (`None` when it acked with none). Always published on
    /// the shared response channel, even with `publishOnSpecificResponseChannel`.
    ServerSideEmit {
        /// The request's id.
        request_id: String,
        /// The ack value.
        data: Option<Value>,
    },
    /// To `BROADCAST`: `{type: 8, requestId, clientCount}`, how many of the node's clients
    /// were sent the packet (so how many acks to expect from it).
    BroadcastClientCount {
        /// The request's id.
        request_id: String,
        /// Number of clients.
        client_count: u64,
    },
    /// To `BROADCAST`: one client's ack, msgpack `{type: 9, requestId, packet}`; `packet` is
    /// the client's first ack argument (binary kept), `None` when it acked with none.
    BroadcastAck {
        /// The request's id.
        request_id: String,
        /// The ack value.
        packet: Option<Value>,
    },
}

impl Response {
    /// The id of the request this answers.
    pub fn request_id(&self) -> &str {
        match self {
            Response::Sockets { request_id, .. }
            | Response::FetchSockets { request_id, .. }
            | Response::AllRooms { request_id, .. }
            | Response::Done { request_id }
            | Response::ServerSideEmit { request_id, .. }
            | Response::BroadcastClientCount { request_id, .. }
            | Response::BroadcastAck { request_id, .. } => request_id,
        }
    }

    /// Bytes as the Node adapter writes them.
    pub fn encode(&self) -> Vec<u8> {
        let m = MapBuilder::default();
        let v = match self {
            Response::Sockets {
                request_id,
                sockets,
            } => m
                .put("requestId", request_id.as_str())
                .put("sockets", strings(sockets)),
            Response::FetchSockets {
                request_id,
                sockets,
            } => m.put("requestId", request_id.as_str()).put(
                "sockets",
                Value::Array(sockets.iter().map(RemoteSocket::to_value).collect()),
            ),
            Response::AllRooms { request_id, rooms } => m
                .put("requestId", request_id.as_str())
                .put("rooms", strings(rooms)),
            Response::Done { request_id } => m.put("requestId", request_id.as_str()),
            Response::ServerSideEmit { request_id, data } => m
                .put("type", RequestType::ServerSideEmit as u64)
                .put("requestId", request_id.as_str())
                .put_opt("data", data.clone()),
            Response::BroadcastClientCount {
                request_id,
                client_count,
            } => m
                .put("type", RequestType::BroadcastClientCount as u64)
                .put("requestId", request_id.as_str())
                .put("clientCount", *client_count),
            Response::BroadcastAck { request_id, packet } => {
                return encode_msgpack(
                    &m.put("type", RequestType::BroadcastAck as u64)
                        .put("requestId", request_id.as_str())
                        .put_opt("packet", packet.clone())
                        .build(),
                )
            }
        };
        encode_json(&v.build())
    }

    /// Reads a response (JSON or msgpack by the first byte).
    pub fn decode(bytes: &[u8]) -> Result<Response, WireError> {
        let v = decode_any(bytes)?;
        let o = Obj::new(&v, "response")?;
        let request_id = o.str("requestId")?;
        if let Some(t) = o.opt_u64("type")? {
            return Ok(match RequestType::from_u64(t) {
                Some(RequestType::ServerSideEmit) => Response::ServerSideEmit {
                    request_id,
                    data: o.get("data").cloned(),
                },
                Some(RequestType::BroadcastClientCount) => Response::BroadcastClientCount {
                    request_id,
                    client_count: o.u64("clientCount")?,
                },
                Some(RequestType::BroadcastAck) => Response::BroadcastAck {
                    request_id,
                    packet: o.get("packet").cloned(),
                },
                _ => return Err(WireError::UnknownType(t)),
            });
        }
        if o.has("sockets") {
            let items = o.array("sockets")?;
            if !items.is_empty() && items.iter().all(|s| s.as_str().is_some()) {
                return Ok(Response::Sockets {
                    request_id,
                    sockets: o.strings("sockets")?,
                });
            }
            return Ok(Response::FetchSockets {
                request_id,
                sockets: RemoteSocket::list_from(items)?,
            });
        }
        if o.has("rooms") {
            return Ok(Response::AllRooms {
                request_id,
                rooms: o.strings("rooms")?,
            });
        }
        Ok(Response::Done { request_id })
    }
}
