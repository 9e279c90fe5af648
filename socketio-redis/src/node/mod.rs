//! The wire protocol of Node's `@socket.io/redis-adapter` 8.x and `@socket.io/redis-emitter`
//! 5.x, as a pure codec (no networking): typed messages, `encode`/`decode` to and from the
//! exact bytes the Node packages write and read, and channel-name builders.
//!
//! Ground truth: the published `dist/` of `@socket.io/redis-adapter` 8.3.0 (on
//! `socket.io-adapter` 2.5.9 and `notepack.io` 3.0.1) and `@socket.io/redis-emitter` 5.1.0,
//! driven by socket.io 4.8.4. `tests/interop/node-cluster/capture.mjs` records every message
//! a two-node cluster of each kind and an emitter publish; the capture is committed as
//! `socketio-redis/tests/fixtures/node-cluster-capture.json` and the tests check this codec
//! against it and against live Node processes.
//!
//! # Values and encodings
//!
//! Dynamic values (event arguments, acks, handshakes, `socket.data`) are [`Value`]s
//! (`rmpv::Value`), which hold everything both encodings can: nil, booleans, integers,
//! floats, strings, binary, arrays and maps (with their key order).
//!
//! * **msgpack** is notepack.io's: a JavaScript number with no fraction is the smallest
//!   integer format (positive fixint, uint 8/16/32/64, negative fixint, int 8/16/32/64), any
//!   other number a float 64 (`0xcb`), never float 32; strings are fixstr/str 8/16/32;
//!   `Buffer`/`ArrayBuffer`/typed arrays are bin 8/16/32; objects are maps with string keys
//!   in insertion order, properties that are `undefined` or functions are left out; an
//!   `undefined` array element (or top-level value) is nil; a `Date` is the timestamp
//!   extension (-1), objects with `toJSON` are encoded as its result. The decoder turns bin
//!   into a `Buffer`, ext 0 of length 1 into `undefined`, other ext 0 into an `ArrayBuffer`,
//!   ext -1 into a `Date`, and rejects trailing bytes. This codec writes through `rmpv`,
//!   which makes the same size choices, so Node's bytes re-encode byte for byte.
//! * **JSON** is `JSON.stringify`: no whitespace, keys in insertion order, `undefined`
//!   properties left out, a `Buffer` as `{"type":"Buffer","data":[..bytes]}` (it stays that
//!   object on the other side: binary does not survive a JSON message).
//! * A receiver picks the decoder by the first byte: `{` (0x7b) means JSON, anything else
//!   msgpack (a msgpack map starts with 0x80-0x8f, 0xde or 0xdf; an array with 0x90-0x9f).
//!
//! A **packet** ([`Packet`]) is socket.io-parser's object before encoding:
//! `{type: 2, data: [event, ...args], nsp}`: binary arguments are plain binary values in
//! `data`, there are no placeholders or attachments; `type` is EVENT (2) even when `data`
//! holds binary. A client's ack value (`BROADCAST_ACK`) is the first argument it acked with.
//!
//! **Options** ([`BroadcastOptions`]) are `{rooms: [..], except: [..], flags: {..}}`:
//! sockets in any of `rooms` (all sockets when empty) and in none of `except`; `flags` is
//! socket.io's flags object (`volatile`, `compress`, `local`, `timeout` in ms, ...), `{}` when
//! none; `local` broadcasts are never published.
//!
//! # Classic adapter: `createAdapter(pub, sub, {key, requestsTimeout, publishOnSpecificResponseChannel, parser})`
//!
//! Per namespace `nsp` (with its `/`), with `key` defaulting to `socket.io` ([`ClassicChannels`]):
//!
//! | channel | subscribed with | carries |
//! |---|---|---|
//! | `{key}#{nsp}#` | PSUBSCRIBE `{key}#{nsp}#*` | broadcasts to all sockets or to 2+ rooms |
//! | `{key}#{nsp}#{room}#` | (same pattern) | broadcasts to exactly one room |
//! | `{key}-request#{nsp}#` | SUBSCRIBE | requests |
//! | `{key}-response#{nsp}#` | SUBSCRIBE | responses |
//! | `{key}-response#{nsp}#{uid}#` | SUBSCRIBE | responses for node `uid` (`publishOnSpecificResponseChannel`) |
//!
//! Each node (each namespace's adapter) has a `uid` of 6 random characters (`uid2(6)`); request
//! ids are 6 random characters too. The emitter's uid is `"emitter"`.
//!
//! **Broadcast** ([`BroadcastMessage`]): msgpack of the array `[uid, packet, opts]`, with
//! `packet.nsp` set. A receiver drops it when `uid` is its own, when the packet's `nsp` (`/`
//! when absent) is another namespace, and (before decoding) when the channel names a room
//! it has no socket in (a numeric room name also matches a number room); otherwise it
//! delivers the packet locally to the sockets `opts` selects.
//!
//! **Requests** ([`Request`], on the request channel) are JSON objects with a numeric `type`
//! ([`RequestType`]), except `BROADCAST` (msgpack):
//!
//! | type | message | answered with ([`Response`]) |
//! |---|---|---|
//! | 0 `SOCKETS` | `{uid, requestId, type, rooms}` (legacy, not sent by 8.x) | `{requestId, sockets: [sid]}` |
//! | 1 `ALL_ROOMS` | `{uid, requestId, type}` | `{requestId, rooms}` |
//! | 2 `REMOTE_JOIN` | `{uid, type, opts: {rooms, except}, rooms}` (emitter: no `uid`) | none |
//! | 3 `REMOTE_LEAVE` | `{uid, type, opts: {rooms, except}, rooms}` (emitter: no `uid`) | none |
//! | 4 `REMOTE_DISCONNECT` | `{uid, type, opts: {rooms, except}, close}` (emitter: no `uid`) | none |
//! | 2/3 legacy | `{uid, requestId, type, sid, room}` | `{requestId}` from the node with `sid` |
//! | 4 legacy | `{uid, requestId, type, sid, close}` | `{requestId}` from the node with `sid` |
//! | 5 `REMOTE_FETCH` | `{uid, requestId, type, opts: {rooms, except}}` | `{requestId, sockets: [{id, handshake, rooms, data}]}` |
//! | 6 `SERVER_SIDE_EMIT` | `{uid, requestId?, type, data: [event, ...args]}` | with `requestId`: `{type: 6, requestId, data}` |
//! | 7 `BROADCAST` | msgpack `{uid, requestId, type, packet, opts: {rooms, except, flags}}` | JSON `{type: 8, requestId, clientCount}` then msgpack `{type: 9, requestId, packet}` per client ack |
//!
//! Who acts on what (for the state machine to come): a node does **not** skip requests by
//! uid except `SERVER_SIDE_EMIT` (skipped when its own) and `BROADCAST` (skipped when the
//! request id is one of its own); for `SOCKETS`, `ALL_ROOMS` and `REMOTE_FETCH` it skips its
//! own pending request ids. The selector forms of `REMOTE_JOIN`/`LEAVE`/`DISCONNECT` are
//! applied by every node **including the sender**, which does not apply them locally before
//! publishing. Responses go to the shared response channel, or to
//! `{key}-response#{nsp}#{requester uid}#` when the *answering* node has
//! `publishOnSpecificResponseChannel`; the acked serverSideEmit answer always goes to the
//! shared one. Only the first ack of a serverSideEmit handler is sent.
//!
//! **Node count and timeouts**: there is no heartbeat. Before `ALL_ROOMS`, `REMOTE_FETCH` and
//! an acked `SERVER_SIDE_EMIT` a node runs `PUBSUB NUMSUB {key}-request#{nsp}#` (summed over
//! the masters of a cluster); that count includes itself. It waits for `count - 1` answers
//! (fetch and rooms count their own answer as the first), for `requestsTimeout` (5000 ms
//! by default), then fails the call ("timeout reached"). When the count is 1 or less it does
//! not publish at all. So a Rust node must SUBSCRIBE to the request channel of every namespace
//! it serves (to be counted) and answer every such request, or Node calls time out. An acked
//! broadcast has no count: the requester keeps its ack handlers for `flags.timeout` ms.
//!
//! # Sharded adapter: `createShardedAdapter(pub, sub, {channelPrefix, subscriptionMode})`
//!
//! Redis 7 sharded pub/sub (SSUBSCRIBE / SPUBLISH; pattern subscriptions do not see these
//! messages). On `socket.io-adapter`'s `ClusterAdapter`: every message is [`ClusterMessage`]
//! `{type, data, uid, nsp}` ([`MessageType`] 1-13; `uid` is 16 hex digits, request ids too),
//! JSON unless its type is one of `BROADCAST` (3), `FETCH_SOCKETS_RESPONSE` (8),
//! `SERVER_SIDE_EMIT` (9), `SERVER_SIDE_EMIT_RESPONSE` (10), `BROADCAST_ACK` (12) *and* its
//! `data` holds binary, then msgpack. The packet in a `BROADCAST` has no `nsp`. Options
//! always carry `flags` (`{}` when none). Channels ([`ShardedChannels`], `channelPrefix`
//! defaulting to `socket.io`):
//!
//! * `{prefix}#{nsp}#`: every message except responses and dynamic-room broadcasts;
//!   `PUBSUB SHARDNUMSUB` on it is the node count (the requester waits for `count - 1`
//!   answers, 5000 ms).
//! * `{prefix}#{nsp}#{uid}#`: responses (types 8, 10, 11, 12) to node `uid`.
//! * `{prefix}#{nsp}#{room}#`: a broadcast without acks to exactly one room, in
//!   `subscriptionMode` `"dynamic"` (the default; not for rooms that look like socket ids, 20
//!   characters) or `"dynamic-private"` (all rooms); a node SSUBSCRIBEs a room's channel when
//!   the room is created locally and unsubscribes when it is deleted. `"static"` mode uses
//!   the main channel only.
//!
//! Messages with the node's own `uid` or another namespace are ignored. `BROADCAST` with a
//! `requestId` expects `BROADCAST_CLIENT_COUNT` then `BROADCAST_ACK`s; `FETCH_SOCKETS` expects
//! `FETCH_SOCKETS_RESPONSE`; `SERVER_SIDE_EMIT` with a `requestId` expects
//! `SERVER_SIDE_EMIT_RESPONSE`. Unlike the classic adapter, `SOCKETS_JOIN`/`LEAVE`/
//! `DISCONNECT_SOCKETS` are applied locally by the sender and skipped on receipt of its own.
//! The heartbeat types (1, 2, 13) belong to heartbeat-based cluster adapters and are not sent
//! by the sharded Redis adapter. `connectionStateRecovery` appends the message offset to
//! event data only on adapters that return one (not this one).
//!
//! # Emitter: `new Emitter(redisClient, {key, parser}, nsp = "/")`
//!
//! Publishes on the classic channels only (no sharded variant): broadcasts
//! `["emitter", {type: 2, data, nsp}, {rooms, flags, except}]` (note the key order) on the
//! namespace or single-room channel, and JSON requests `socketsJoin` `{type: 2, opts, rooms}`,
//! `socketsLeave` `{type: 3, opts, rooms}`, `disconnectSockets` `{type: 4, opts, close}` (no
//! `uid`) and `serverSideEmit` `{uid: "emitter", type: 6, data}` (no acks) on the request
//! channel. It never subscribes, so it is not counted as a node.
//!
//! # What this codec does not do
//!
//! No networking and no request/response bookkeeping (that belongs to the adapter built on
//! socketio-core's `Adapter` trait); the `parser` option (a custom encoder in place of
//! notepack.io) is not supported; room names must be strings (JavaScript lets a number
//! through, Node matches it by its decimal text).

mod adapter;
mod channels;
mod emitter;
mod sharded;
mod sharded_adapter;
mod wire;

pub use adapter::{RedisAdapter, RedisAdapterConfig};
pub use channels::{
    looks_like_a_socket_id, ClassicChannels, ShardedChannels, SubscriptionMode, DEFAULT_PREFIX,
    EMITTER_UID,
};
pub(crate) use emitter::reserved;
pub use emitter::{Emitter, EmitterError};
pub use sharded::{ClusterBody, ClusterMessage, MessageType};
pub use sharded_adapter::{ShardedRedisAdapter, ShardedRedisAdapterConfig};
pub use socketio_core::node_compat::Value;
pub use wire::{
    BroadcastFlags, BroadcastMessage, BroadcastOptions, Packet, RemoteSocket, Request, RequestType,
    Response, EVENT,
};

pub use socketio_core::node_compat::WireError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let cases: &[&[u8]] = &[
            b"",
            b"{",
            b"{\"type\":6}",
            b"{\"type\":99,\"uid\":\"u\"}",
            b"{\"uid\":\"u\",\"type\":2,\"opts\":{\"rooms\":[1]},\"rooms\":[\"r\"]}",
            // array 32 claiming 4 billion elements, then nothing
            &[0xdd, 0xff, 0xff, 0xff, 0xff],
            // bin 32 claiming 4 GiB
            &[0xc6, 0xff, 0xff, 0xff, 0xff, 0x00],
            // a complete value followed by garbage
            &[0x90, 0x01],
        ];
        for bytes in cases {
            assert!(Request::decode(bytes).is_err(), "{bytes:?}");
            assert!(
                Response::decode(bytes).is_err() || bytes.is_empty(),
                "{bytes:?}"
            );
            assert!(BroadcastMessage::decode(bytes).is_err(), "{bytes:?}");
            // (The classic REMOTE_JOIN with bad rooms reads as a ClusterAdapter HEARTBEAT (type
            // 2) without `nsp`, which the shared codec accepts: the Postgres emitter leaves
            // `nsp` out. Adapters drop it as another namespace's.)
            match ClusterMessage::decode(bytes) {
                Err(_) => {}
                Ok(msg) => assert_eq!(
                    (msg.message_type(), msg.nsp),
                    (MessageType::Heartbeat, None),
                    "{bytes:?}"
                ),
            }
        }
        // 100 000 nested arrays: refused by depth, without exhausting the stack
        let deep = vec![0x91u8; 100_000];
        assert!(matches!(
            BroadcastMessage::decode(&deep),
            Err(WireError::Msgpack(_))
        ));
        let deep_json = format!("{}{}", "{\"a\":".repeat(10_000), "}".repeat(10_000));
        assert!(matches!(
            Request::decode(deep_json.as_bytes()),
            Err(WireError::Json(_))
        ));
    }

    #[test]
    fn event_broadcasts_take_the_short_path_with_the_same_bytes() {
        let args = socketio_core::Args::from_serialize(&(
            serde_json::json!({"n": 1, "text": "hi", "f": 2.5, "whole": 3.0}),
            bytes::Bytes::from_static(&[1, 2, 3]),
        ))
        .unwrap();
        let opts = BroadcastOptions {
            rooms: vec!["bench".into()],
            except: vec!["x".into()],
            flags: Some(BroadcastFlags::default()),
        };
        let mut data = Vec::new();
        socketio_core::protocol::msgpack::write_event_data(&mut data, "msg", &args);
        let fast = wire::encode_event_broadcast("abcdef", "/chat", &data, &opts);
        // what the general encoder writes for the same packet (numbers as notepack.io)
        let slow = BroadcastMessage {
            uid: "abcdef".into(),
            packet: Packet::event(
                "/chat",
                "msg",
                vec![
                    Value::Map(vec![
                        (Value::from("n"), Value::from(1)),
                        (Value::from("text"), Value::from("hi")),
                        (Value::from("f"), Value::F64(2.5)),
                        (Value::from("whole"), Value::from(3)),
                    ]),
                    Value::Binary(vec![1, 2, 3]),
                ],
            ),
            opts: opts.clone(),
        };
        assert_eq!(fast, slow.encode());

        assert_eq!(wire::broadcast_sender(&fast), Some("abcdef"));
        assert_eq!(wire::broadcast_sender(&[0x93, 0xc0]), None);
        let msg = wire::decode_event_broadcast(&fast).expect("an event broadcast");
        assert_eq!(
            (msg.uid, msg.nsp, msg.event.as_str()),
            ("abcdef", Some("/chat"), "msg")
        );
        assert_eq!(msg.opts, opts);
        assert_eq!(msg.args.len(), 2);
        assert_eq!(
            msg.args.attachments(),
            &[bytes::Bytes::from_static(&[1, 2, 3])]
        );
        assert_eq!(
            msg.args.get::<serde_json::Value>(0).unwrap(),
            serde_json::json!({"n": 1, "text": "hi", "f": 2.5, "whole": 3})
        );

        // options write the same bytes as their value, with flags or without
        let mut flagged = opts.clone();
        flagged
            .flags
            .as_mut()
            .unwrap()
            .set("volatile", true)
            .set("timeout", 5000);
        for o in [flagged, BroadcastOptions::default()] {
            let mut bytes = Vec::new();
            o.write(&mut bytes);
            assert_eq!(
                bytes,
                socketio_core::node_compat::encode_msgpack(&o.to_value())
            );
        }

        // not an event, unknown fields, damage: left to the general path
        let mut other = slow.clone();
        other.packet.packet_type = 3;
        assert!(wire::decode_event_broadcast(&other.encode()).is_none());
        other = slow.clone();
        other.packet.id = Some(4);
        assert!(wire::decode_event_broadcast(&other.encode()).is_none());
        for cut in 0..fast.len() {
            assert!(
                wire::decode_event_broadcast(&fast[..cut]).is_none(),
                "{cut}"
            );
        }
        // a packet without nsp (Node reads it as "/")
        other = slow;
        other.packet.nsp = None;
        assert_eq!(
            wire::decode_event_broadcast(&other.encode()).unwrap().nsp,
            None
        );
    }

    #[test]
    fn json_numbers_and_buffers_are_written_as_json_stringify_writes_them() {
        let v = Value::Array(vec![
            Value::F64(2.0),
            Value::F64(-0.0),
            Value::F64(f64::NAN),
            Value::F64(0.1),
            Value::from(-5),
            Value::Binary(vec![1, 200]),
            Value::Map(vec![(Value::from(1), Value::from("x\u{1}"))]),
        ]);
        assert_eq!(
            String::from_utf8(socketio_core::node_compat::encode_json(&v)).unwrap(),
            r#"[2,0,null,0.1,-5,{"type":"Buffer","data":[1,200]},{"1":"x\u0001"}]"#
        );
    }

    #[test]
    fn empty_sockets_answer_reads_as_fetch_sockets() {
        assert_eq!(
            Response::decode(br#"{"requestId":"r","sockets":[]}"#).unwrap(),
            Response::FetchSockets {
                request_id: "r".into(),
                sockets: vec![]
            }
        );
        assert_eq!(
            Response::decode(br#"{"requestId":"r","sockets":["a"]}"#).unwrap(),
            Response::Sockets {
                request_id: "r".into(),
                sockets: vec!["a".into()]
            }
        );
        assert_eq!(
            Response::decode(br#"{"requestId":"r"}"#).unwrap(),
            Response::Done {
                request_id: "r".into()
            }
        );
    }

    #[test]
    fn legacy_single_socket_requests_round_trip() {
        for raw in [
            &br#"{"uid":"u","requestId":"r","type":2,"sid":"s","room":"x"}"#[..],
            br#"{"uid":"u","requestId":"r","type":3,"sid":"s","room":"x"}"#,
            br#"{"uid":"u","requestId":"r","type":4,"sid":"s","close":true}"#,
            br#"{"uid":"u","requestId":"r","type":0,"rooms":["a"]}"#,
        ] {
            let req = Request::decode(raw).unwrap();
            assert_eq!(req.encode(), raw);
        }
    }

    #[test]
    fn channel_names() {
        let c = ClassicChannels::new("socket.io", "/chat");
        assert_eq!(c.broadcast(), "socket.io#/chat#");
        assert_eq!(c.broadcast_pattern(), "socket.io#/chat#*");
        assert_eq!(c.room_of("socket.io#/chat#lobby#"), Some("lobby"));
        assert_eq!(c.room_of("socket.io#/chat#"), Some(""));
        assert_eq!(c.room_of("socket.io#/other#"), None);
        assert_eq!(c.request(), "socket.io-request#/chat#");
        assert_eq!(c.response_for("abc", true), "socket.io-response#/chat#abc#");
        assert_eq!(c.response_for("abc", false), "socket.io-response#/chat#");
        assert_eq!(
            c.broadcast_for(&["a".into(), "b".into()]),
            "socket.io#/chat#"
        );
        assert!(looks_like_a_socket_id("z4uPrgD8p6tjKEgtAAAA"));
        assert!(!looks_like_a_socket_id("lobby"));
        assert_eq!(
            ShardedChannels::new("socket.io", "/").server_count_command(),
            ["PUBSUB", "SHARDNUMSUB", "socket.io#/#"]
        );
    }
}
