//! A node of a Node `@socket.io/redis-streams-adapter` cluster: [`RedisStreamsAdapter`], its
//! write-only [`Emitter`], and the protocol they speak, described here.
//!
//! Ground truth: the published `dist/` of `@socket.io/redis-streams-adapter` **0.3.1** (the
//! latest on npm), on `socket.io-adapter` 2.5.9's `ClusterAdapter` and `@msgpack/msgpack` 2.8,
//! driven by socket.io 4.8.4 (`tests/interop/node-streams/`). Note that 0.3.x is a plain
//! `ClusterAdapter`: older releases (0.1, 0.2) were a `ClusterAdapterWithHeartbeat` that counted
//! nodes by `HEARTBEAT` entries; 0.3 sends no heartbeat and counts nodes with `PUBSUB NUMSUB`.
//!
//! # Options (`createAdapter(redisClient, opts)`) and their defaults
//!
//! | Node option | [`RedisStreamsConfig`] | default |
//! |---|---|---|
//! | `streamName` | `stream_name` | `"socket.io"` |
//! | `streamCount` | `stream_count` | `1` |
//! | `channelPrefix` | `channel_prefix` | `"socket.io"` |
//! | `maxLen` | `max_len` | `10000` (`XADD ... MAXLEN ~ 10000`) |
//! | `readCount` | `read_count` | `100` (`XREAD COUNT`) |
//! | `blockTimeInMs` | `block_time` | `5000` (`XREAD BLOCK`) |
//! | `sessionKeyPrefix` | `session_key_prefix` | `"sio:session:"` |
//! | `useShardedPubSub` | `use_sharded_pub_sub` | `false` |
//! | `onlyPlaintext` | `only_plaintext` | `false` |
//! | socket.io `connectionStateRecovery.maxDisconnectionDuration` | `max_disconnection_duration` | 2 min |
//!
//! # Messages
//!
//! Every message is socket.io-adapter's `ClusterMessage` `{uid, nsp, type, data?}`
//! ([`ClusterMessage`]: `uid` is 16 hex digits per namespace adapter, `type` a
//! [`MessageType`] 3-12, request ids 16 hex digits; their `data` is described in
//! [`crate::node`]'s module docs, sharded adapter section). Two carriers:
//!
//! **The stream** `{streamName}` (one per cluster, all namespaces; with `streamCount` n > 1,
//! namespace `nsp` uses `{streamName}-{hashCode(nsp) % n}`, JavaScript's 32-bit string hash
//! and sign-keeping `%`, and every node reads `{streamName}-0` to `-{n-1}`, one connection
//! each): `XADD {streamName} MAXLEN ~
//! {maxLen} * uid <uid> nsp <nsp> type <type as decimal text> [data <data>]` for
//! `BROADCAST` *without* acks (3), `SOCKETS_JOIN` (4), `SOCKETS_LEAVE` (5) and
//! `DISCONNECT_SOCKETS` (6). `data` is `JSON.stringify(data)`, or, when the type may carry
//! binary (3, 8, 9, 10, 12) and the data holds some (and `onlyPlaintext` is off), the
//! **base64** of the msgpack of `data`.
//! A reader tells them apart by the first character: `{` is JSON. Every node reads the stream
//! with `XREAD COUNT {readCount} BLOCK {blockTimeInMs} STREAMS {streamName} <last id>` on its
//! own connection, starting at `$` (Node) and then from the id of the last entry it read;
//! entries without `nsp` are skipped, then the message goes to that namespace's adapter,
//! which drops its own (`uid`) messages. The entry id (`<ms>-<seq>`) is the broadcast's
//! **offset** for connection state recovery. Ours starts from the stream's last entry at
//! startup (not `$`) and keeps its last id across reconnections, so no entry is lost when
//! Redis drops its reader connection.
//!
//! **Pub/sub** for the ephemeral messages, the msgpack (`@msgpack/msgpack`) of the whole message
//! object `{type, data, uid, nsp}` with a numeric `type`: `BROADCAST` *with* a `requestId`,
//! `FETCH_SOCKETS` (7) and `SERVER_SIDE_EMIT` (9, with or without ack) are `PUBLISH`ed on
//! `{channelPrefix}#{nsp}#`; the answers (`FETCH_SOCKETS_RESPONSE` 8,
//! `SERVER_SIDE_EMIT_RESPONSE` 10, `BROADCAST_CLIENT_COUNT` 11, `BROADCAST_ACK` 12) on the
//! requester's `{channelPrefix}#{nsp}#{requester uid}#`. Every namespace adapter `SUBSCRIBE`s
//! both of its channels (`SPUBLISH`/`SSUBSCRIBE` with `useShardedPubSub`, and the node count
//! below with `SHARDNUMSUB`). `@msgpack/msgpack` writes an `undefined` property as nil (e.g. an ack
//! without argument, `socket.data` unset) and binary as bin.
//!
//! **Node count**: `PUBSUB NUMSUB {channelPrefix}#{nsp}#` (this node included), so a node
//! that dies (its Redis connections close) stops being counted at once. `fetchSockets` and
//! acked `serverSideEmit` wait for `count - 1` answers, 5 s at most (Node then rejects; ours
//! keeps what it has). An acked broadcast counts nothing on the Node side (its ack callbacks
//! live for `flags.timeout`); ours counts nodes and ends when each told its client count and
//! all those acks are in. A node applies a received `SOCKETS_JOIN`/`LEAVE`/`DISCONNECT` to its
//! own sockets only; the sender applies its own at once. Delivery of a broadcast to the
//! sender's own sockets happens after its `XADD` resolves (Node) or at once (ours).
//!
//! # Emitter
//!
//! [`Emitter`] is `@socket.io/redis-streams-emitter` 0.1's counterpart (`new Emitter(redisClient,
//! {streamName, maxLen})`): a process without sockets appends `ClusterMessage`s with uid
//! `"emitter"` to the namespace's stream, with the adapters' `XADD ... MAXLEN ~` and entry
//! encoding, for `BROADCAST` (no acks), `SOCKETS_JOIN`, `SOCKETS_LEAVE`, `DISCONNECT_SOCKETS`
//! and `SERVER_SIDE_EMIT` (no acks; the adapters send theirs over pub/sub, but a node handles
//! one read from the stream the same way: socket.io-adapter's `onMessage` serves both
//! carriers). The npm package is not in this repository's test setup; its format here is what
//! the installed adapter reads (`onRawMessage`, `RedisStreamsAdapter.decode`).
//!
//! # Sessions (connection state recovery)
//!
//! `persistSession(session)`: `SET {sessionKeyPrefix}{pid} <base64 of msgpack {sid, pid, rooms,
//! data}> PX {maxDisconnectionDuration}`. `restoreSession(pid, offset)`: the offset must match
//! `^[0-9]+-[0-9]+$`; `MULTI GET key DEL key EXEC` (a session is restored at most once) and
//! `XRANGE {streamName} offset offset` (the offset must still be in the stream); then
//! `XRANGE {streamName} <ms>-<seq+1> +` (exclusive start written for Redis < 6.2), at most
//! 100 times, keeping the `BROADCAST` entries (`type` `"3"`) of this namespace whose `opts`
//! select a socket in the session's rooms (`rooms` empty or sharing one, `except` sharing
//! none); each missed packet is its `data` array (`[event, ...args]`) with the entry id
//! appended. Ours reads and writes the same keys, so a session persisted by either side is
//! restored by the other. Ours leaves out volatile broadcasts (as our [`Adapter`] trait
//! says; Node keeps them).
//!
//! **Offsets** (with the server's `connection_state_recovery` on, socket.io-adapter's
//! `ClusterAdapter.addOffsetIfNecessary`): a non-local, non-volatile broadcast without acks
//! reaches this node's sockets once its `XADD` has answered, with the entry id appended as its
//! last argument (without it when the write failed, as Node); a broadcast read from the
//! stream gets its entry id appended the same way. `socket.emit` then goes through the adapter
//! too (to the socket's own id, like Node), so every event a client gets carries an offset any
//! node can restore from. The key's `PX` is the server's `max_disconnection_duration` (the
//! config's [`RedisStreamsConfig::max_disconnection_duration`] without the option).
//!
//! # Redis Cluster
//!
//! With a [`crate::RedisClient::cluster`], each stream, session key and sharded channel lives on
//! the primary that owns its slot; `streamCount` spreads the namespaces' streams (Node's
//! advice for clusters). Node counts are summed over the primaries (see
//! [`crate::RedisClient`]).
//!
//! [`Adapter`]: socketio_core::adapter::Adapter

mod adapter;
mod emitter;

pub use crate::node::EmitterError;
pub use adapter::{RedisStreamsAdapter, RedisStreamsConfig};
pub use emitter::{Emitter, EmitterConfig};

use std::collections::HashMap;

use base64::Engine as _;

use crate::node::{ClusterBody, ClusterMessage, MessageType, WireError};
use socketio_core::node_compat::{
    decode_msgpack, encode_json, encode_msgpack, has_binary, MapBuilder,
};

/// The default `maxLen`: streams are trimmed to about 10 000 entries.
const DEFAULT_MAX_LEN: usize = 10_000;

/// The stream namespace `nsp` writes to among `count` streams named `name` (Node's
/// `computeStreamName`): `name` itself for one stream, else `{name}-{hashCode(nsp) % count}`
/// (see [`RedisStreamsConfig::stream_count`]).
fn stream_for(name: &str, count: usize, nsp: &str) -> String {
    if count <= 1 {
        return name.to_owned();
    }
    let hash = nsp.encode_utf16().fold(0i32, |h, unit| {
        h.wrapping_mul(31).wrapping_add(i32::from(unit))
    });
    // JavaScript's `%` takes the dividend's sign, as Rust's `%` on `i32` does.
    let count = i32::try_from(count).unwrap_or(i32::MAX);
    format!("{name}-{}", hash % count)
}

/// `XADD {stream} MAXLEN ~ {max_len} * {field value}...`: how the adapter and the emitter
/// append an entry ([`encode_entry_as`]'s fields), as Node's `XADD` helper.
fn xadd(stream: &str, max_len: usize, fields: &[(&'static str, String)]) -> redis::Cmd {
    let mut cmd = redis::cmd("XADD");
    cmd.arg(stream).arg("MAXLEN").arg("~").arg(max_len).arg("*");
    for (k, v) in fields {
        cmd.arg(*k).arg(v);
    }
    cmd
}

/// Whether a message goes to the stream (`false`: pub/sub), as Node's `isEphemeral` decides.
pub fn goes_to_stream(message: &ClusterMessage) -> bool {
    match &message.body {
        ClusterBody::Broadcast { request_id, .. } => request_id.is_none(),
        ClusterBody::SocketsJoin { .. }
        | ClusterBody::SocketsLeave { .. }
        | ClusterBody::DisconnectSockets { .. } => true,
        // INITIAL_HEARTBEAT, HEARTBEAT and ADAPTER_CLOSE are not sent by 0.3; a
        // heartbeat-based version wrote them to the stream.
        ClusterBody::InitialHeartbeat | ClusterBody::Heartbeat | ClusterBody::AdapterClose => true,
        _ => false,
    }
}

/// The fields of a stream entry for `message`, in Node's order: `uid`, `nsp`, `type` (decimal
/// text), `data` (absent for types without data): JSON text, or base64 of msgpack when the
/// type may carry binary and the data holds some.
pub fn encode_entry(message: &ClusterMessage) -> Vec<(&'static str, String)> {
    encode_entry_as(message, false)
}

/// [`encode_entry`], or with `only_plaintext` (Node's `onlyPlaintext` option) `data` always
/// as JSON, binary included (a `Buffer` becomes `{"type":"Buffer","data":[..]}`).
pub fn encode_entry_as(
    message: &ClusterMessage,
    only_plaintext: bool,
) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        ("uid", message.uid.clone()),
        ("nsp", message.nsp.clone().unwrap_or_default()),
        ("type", (message.message_type() as u8).to_string()),
    ];
    if let Some(data) = message.data() {
        let text = if !only_plaintext && message.may_contain_binary() && has_binary(&data) {
            base64::engine::general_purpose::STANDARD.encode(encode_msgpack(&data))
        } else {
            String::from_utf8(encode_json(&data)).unwrap_or_default()
        };
        fields.push(("data", text));
    }
    fields
}

/// Reads a stream entry's fields back as a message. `Ok(None)` for an entry without `nsp` (Node
/// skips those too).
pub fn decode_entry(
    fields: &HashMap<String, Vec<u8>>,
) -> Result<Option<ClusterMessage>, WireError> {
    let text = |name: &'static str| -> Result<Option<&str>, WireError> {
        fields
            .get(name)
            .map(|v| {
                std::str::from_utf8(v).map_err(|_| WireError::shape("stream entry", "UTF-8 text"))
            })
            .transpose()
    };
    let Some(nsp) = text("nsp")?.filter(|n| !n.is_empty()) else {
        return Ok(None);
    };
    let uid = text("uid")?.unwrap_or_default();
    let t: u64 = text("type")?
        .and_then(|t| t.trim().parse().ok())
        .ok_or(WireError::shape("stream entry", "a numeric `type`"))?;
    MessageType::from_u64(t).ok_or(WireError::UnknownType(t))?;
    let data = match text("data")? {
        None | Some("") => None,
        Some(d) if d.starts_with('{') => Some(serde_json::from_str(d).map_err(WireError::Json)?),
        Some(d) => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(d)
                .map_err(|_| WireError::shape("stream entry", "JSON or base64 `data`"))?;
            Some(decode_msgpack(&bytes)?)
        }
    };
    let value = MapBuilder::default()
        .put("type", t)
        .put_opt("data", data)
        .put("uid", uid)
        .put("nsp", nsp)
        .build();
    ClusterMessage::from_value(&value).map(Some)
}

/// A message as published on a channel: msgpack of `{type, data, uid, nsp}`.
pub fn encode_pubsub(message: &ClusterMessage) -> Vec<u8> {
    encode_msgpack(&message.to_value())
}

/// Reads a message published on a channel (msgpack; JSON is accepted too).
pub fn decode_pubsub(bytes: &[u8]) -> Result<ClusterMessage, WireError> {
    ClusterMessage::decode(bytes)
}

/// A session as Node stores it: base64 of msgpack `{sid, pid, rooms, data}`.
pub(crate) fn encode_session(session: &socketio_core::adapter::Session) -> String {
    let data = socketio_core::node_compat::json_to_node(&session.data);
    let v = MapBuilder::default()
        .put("sid", session.sid.to_string())
        .put("pid", session.pid.as_str())
        .put("rooms", socketio_core::node_compat::strings(&session.rooms))
        .put("data", data)
        .build();
    base64::engine::general_purpose::STANDARD.encode(encode_msgpack(&v))
}

/// Reads a session Node (or we) stored.
pub(crate) fn decode_session(text: &[u8]) -> Result<socketio_core::adapter::Session, WireError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| WireError::shape("session", "base64"))?;
    let v = decode_msgpack(&bytes)?;
    let o = socketio_core::node_compat::Obj::new(&v, "session")?;
    let sid = o
        .str("sid")?
        .parse()
        .map_err(|_| WireError::shape("session", "a socket id in `sid`"))?;
    Ok(socketio_core::adapter::Session {
        sid,
        pid: o.str("pid")?,
        rooms: o.strings_or_empty("rooms")?,
        data: o
            .get("data")
            .map(socketio_core::node_compat::node_to_json)
            .unwrap_or(serde_json::Value::Null),
    })
}

/// Whether a broadcast to `rooms` minus `except` reaches a socket in `session_rooms` (Node's
/// `shouldIncludePacket`).
pub(crate) fn selects(session_rooms: &[String], rooms: &[String], except: &[String]) -> bool {
    (rooms.is_empty() || session_rooms.iter().any(|r| rooms.contains(r)))
        && session_rooms.iter().all(|r| !except.contains(r))
}

/// The id right after `offset` (`<ms>-<seq+1>`), for an exclusive XRANGE start; `None` when
/// `offset` is not `<digits>-<digits>`.
pub(crate) fn next_offset(offset: &str) -> Option<String> {
    let (ms, seq) = offset.split_once('-')?;
    if ms.is_empty() || !ms.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let seq: u64 = seq
        .parse()
        .ok()
        .filter(|_| seq.bytes().all(|b| b.is_ascii_digit()))?;
    Some(format!("{ms}-{}", seq.checked_add(1)?))
}

#[cfg(test)]
mod tests {

    /// The stream of a namespace with `streamCount` 3 and 7, against Node 0.3.1's
    /// `computeStreamName` (values printed by node from its `hashCode`): the hash is 32-bit
    /// and `%` keeps its sign.
    #[test]
    fn stream_for_follows_javascript_hash_code() {
        let config = |n| RedisStreamsConfig {
            stream_name: "s".to_owned(),
            stream_count: n,
            ..RedisStreamsConfig::default()
        };
        for (nsp, by3, by7) in [
            ("/", "s-2", "s-5"),
            ("/chat", "s-1", "s-4"),
            ("/admin", "s-1", "s-4"),
            ("/namespace-with-a-long-name", "s--2", "s--6"),
            ("/\u{e9}\u{2713}", "s-2", "s-2"),
        ] {
            assert_eq!(config(3).stream_for(nsp), by3, "{nsp}");
            assert_eq!(config(7).stream_for(nsp), by7, "{nsp}");
        }
        assert_eq!(config(1).stream_for("/chat"), "s");
        assert_eq!(config(0).streams(), ["s"]);
        assert_eq!(config(3).streams(), ["s-0", "s-1", "s-2"]);
    }

    use super::*;
    use crate::node::{BroadcastOptions, Packet, Value};

    fn fields(list: &[(&str, &str)]) -> HashMap<String, Vec<u8>> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.as_bytes().to_vec()))
            .collect()
    }

    #[test]
    fn a_json_entry_as_node_writes_it_reads_back_and_re_encodes() {
        // As the Node adapter XADDs `io.to("room1").except("room2").emit("hi", 1)`.
        let raw = fields(&[
            ("uid", "0123456789abcdef"),
            ("nsp", "/"),
            ("type", "3"),
            (
                "data",
                r#"{"packet":{"type":2,"data":["hi",1],"nsp":"/"},"opts":{"rooms":["room1"],"except":["room2"],"flags":{}}}"#,
            ),
        ]);
        let msg = decode_entry(&raw).unwrap().unwrap();
        let ClusterBody::Broadcast {
            packet,
            request_id,
            opts,
        } = &msg.body
        else {
            panic!("{msg:?}")
        };
        assert_eq!(packet.event_name(), Some("hi"));
        assert!(request_id.is_none());
        assert_eq!(opts.rooms, ["room1"]);
        assert!(goes_to_stream(&msg));
        let back: HashMap<String, Vec<u8>> = encode_entry(&msg)
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.into_bytes()))
            .collect();
        assert_eq!(back, raw);
    }

    #[test]
    fn binary_data_is_base64_msgpack_and_survives() {
        let msg = ClusterMessage {
            uid: "u".into(),
            nsp: Some("/chat".into()),
            body: ClusterBody::Broadcast {
                packet: Packet::event("/chat", "bin", [Value::Binary(vec![1, 2, 255])]),
                request_id: None,
                opts: BroadcastOptions::default(),
            },
        };
        let entry = encode_entry(&msg);
        assert_eq!(entry[2], ("type", "3".to_owned()));
        assert!(!entry[3].1.starts_with('{'), "{entry:?}");
        let raw = entry
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.into_bytes()))
            .collect();
        assert_eq!(decode_entry(&raw).unwrap().unwrap(), msg);
        // and on pub/sub
        assert_eq!(decode_pubsub(&encode_pubsub(&msg)).unwrap(), msg);
    }

    /// The command the adapter's writer and the emitter send, argument by argument, as
    /// Node's `XADD` helper builds it.
    #[test]
    fn xadd_trims_approximately_and_lets_redis_pick_the_id() {
        let fields = [("uid", "emitter".to_owned()), ("nsp", "/".to_owned())];
        let cmd = xadd("s-1", 500, &fields);
        let args: Vec<String> = cmd
            .args_iter()
            .map(|a| match a {
                redis::Arg::Simple(bytes) => String::from_utf8(bytes.to_vec()).unwrap(),
                _ => "<not a plain argument>".to_owned(),
            })
            .collect();
        assert_eq!(
            args,
            ["XADD", "s-1", "MAXLEN", "~", "500", "*", "uid", "emitter", "nsp", "/"]
        );
    }

    #[test]
    fn bad_entries_are_errors_not_panics() {
        assert!(decode_entry(&fields(&[("uid", "u")])).unwrap().is_none());
        for bad in [
            fields(&[("nsp", "/"), ("type", "x")]),
            fields(&[("nsp", "/"), ("type", "99")]),
            fields(&[("nsp", "/"), ("type", "3"), ("data", "{")]),
            fields(&[("nsp", "/"), ("type", "3"), ("data", "!!not base64")]),
            fields(&[("nsp", "/"), ("type", "3"), ("data", "3d3d")]),
            fields(&[("nsp", "/"), ("type", "4"), ("data", "{}")]),
        ] {
            assert!(decode_entry(&bad).is_err(), "{bad:?}");
        }
        let mut non_utf8 = fields(&[("type", "3")]);
        non_utf8.insert("nsp".into(), vec![0xff]);
        assert!(decode_entry(&non_utf8).is_err());
        assert!(decode_session(b"not base64!").is_err());
        assert!(decode_session(b"kA==").is_err()); // msgpack [] is not a session
    }

    #[test]
    fn offsets_and_session_selection_follow_node() {
        assert_eq!(
            next_offset("1700000000000-0").as_deref(),
            Some("1700000000000-1")
        );
        for bad in ["", "1", "a-1", "1-b", "-1", "1-", "1-2-3", "1-+2"] {
            assert_eq!(next_offset(bad), None, "{bad}");
        }
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert!(selects(&s(&["a"]), &[], &[]));
        assert!(selects(&s(&["a", "b"]), &s(&["b"]), &s(&["c"])));
        assert!(!selects(&s(&["a"]), &s(&["b"]), &[]));
        assert!(!selects(&s(&["a", "c"]), &[], &s(&["c"])));
    }
}
