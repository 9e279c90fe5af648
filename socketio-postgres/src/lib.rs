//! A PostgreSQL adapter and emitter for socketio-core, wire-compatible with Node's
//! `@socket.io/postgres-adapter` 0.5 and `@socket.io/postgres-emitter` 0.1: Node servers and
//! ours share rooms, broadcasts and requests through one PostgreSQL database.
//!
//! * [`PostgresAdapter`]: one per namespace, a node of the cluster.
//! * [`Emitter`]: write-only, from any process (no socket.io server needed).
//!
//! # The protocol
//!
//! Ground truth: the published `dist/` of `@socket.io/postgres-adapter` 0.5.0 (on
//! `socket.io-adapter` 2.5.9, `@msgpack/msgpack` 2.8 and `pg` 8) and
//! `@socket.io/postgres-emitter` 0.1.1, driven by socket.io 4.8.4
//! (`tests/interop/node-postgres/` holds the exact versions).
//!
//! **Channel.** Every message of namespace `nsp` is a `NOTIFY` on the channel
//! `{channelPrefix}#{nsp}` (`channelPrefix` defaults to `socket.io`: `socket.io#/`,
//! `socket.io#/chat`), sent as `SELECT pg_notify($1, $2)`; each node `LISTEN "{channel}"`s
//! the channels of its namespaces on one dedicated connection. Requests, responses and
//! heartbeats all go on that one channel (there are no per-node response channels). A channel
//! name is a PostgreSQL identifier: at most 63 bytes.
//!
//! **Messages** are socket.io-adapter's `ClusterAdapter` messages ([`ClusterMessage`]):
//! `{type, data, uid, nsp}`, `uid` being the node's 16 hex digits (one per namespace
//! adapter), request ids 16 hex digits too:
//!
//! | type | `data` | answered with |
//! |---|---|---|
//! | 1 `INITIAL_HEARTBEAT` | none (a node started) | `HEARTBEAT` from every other node |
//! | 2 `HEARTBEAT` | none | |
//! | 3 `BROADCAST` | `{packet, requestId?, opts: {rooms, except, flags}}` | with `requestId`: 11 then one 12 per client ack |
//! | 4 `SOCKETS_JOIN` | `{opts, rooms}` | |
//! | 5 `SOCKETS_LEAVE` | `{opts, rooms}` | |
//! | 6 `DISCONNECT_SOCKETS` | `{opts, close}` | |
//! | 7 `FETCH_SOCKETS` | `{opts, requestId}` | 8 `FETCH_SOCKETS_RESPONSE` `{requestId, sockets: [{id, handshake, rooms, data}]}` |
//! | 9 `SERVER_SIDE_EMIT` | `{requestId?, packet: [event, ...args]}` | with `requestId`: 10 `SERVER_SIDE_EMIT_RESPONSE` `{requestId, packet}` (the handler's first ack argument) |
//! | 11 `BROADCAST_CLIENT_COUNT` | `{requestId, clientCount}` | |
//! | 12 `BROADCAST_ACK` | `{requestId, packet}` (the client's first ack argument) | |
//! | 13 `ADAPTER_CLOSE` | none (a node is leaving) | |
//!
//! `packet` in a broadcast is socket.io-parser's object before encoding,
//! `{type: 2, data: [event, ...args], nsp}`, binary arguments inline. The sender applies a
//! join/leave/disconnect/broadcast to its own sockets itself; every node ignores messages
//! with its own `uid` and messages of another `nsp`.
//!
//! **Encoding.** A message is `JSON.stringify`'d into the NOTIFY payload unless (a) its type
//! is 3, 9, 10 or 12 and its data holds binary, or (b) the JSON is longer than
//! `payloadThreshold` bytes (8000 by default; PostgreSQL refuses a NOTIFY payload of 8000
//! bytes or more). Then the message is msgpack-encoded (`@msgpack/msgpack`: integers in their
//! smallest form, other numbers float 64, binary as bin), inserted with
//! `INSERT INTO {tableName} (payload) VALUES ($1) RETURNING id`, and the NOTIFY carries only
//! `{"uid":..,"type":..,"attachmentId":"<id>"}` ([`AttachmentHeader`]; the id as a string,
//! how node-postgres returns a `bigint`). A receiver reads it back with
//! `SELECT payload FROM {tableName} WHERE id = $1`. The table (`tableName` defaults to
//! `socket_io_attachments`) is created by the application, not by the adapter (see
//! [`create_attachment_table`]):
//!
//! ```sql
//! CREATE TABLE IF NOT EXISTS socket_io_attachments (
//!     id          bigserial UNIQUE,
//!     created_at  timestamptz DEFAULT NOW(),
//!     payload     bytea
//! );
//! ```
//!
//! Every node deletes the rows older than `cleanupInterval` (30 s by default) every
//! `cleanupInterval`.
//!
//! **Node count** (`ClusterAdapterWithHeartbeat`): a node sends `INITIAL_HEARTBEAT` when its
//! namespace adapter starts, a `HEARTBEAT` when it has published nothing for
//! `heartbeatInterval` (5 s), and `ADAPTER_CLOSE` when it closes. Every message with a uid
//! other than `"emitter"` marks its sender alive; a node not heard from for
//! `heartbeatTimeout` (10 s) is dropped. The server count is 1 + the live nodes.
//! `fetchSockets` and an acked `serverSideEmit` wait for an answer from each live node (by
//! uid; a node dropped meanwhile is no longer waited for), for at most 5 s
//! (Node then fails the call; we return what arrived). A broadcast with acks waits for a
//! client count from `serverCount - 1` nodes and for that many acks, within the ack timeout.
//!
//! **Emitter** (`new Emitter(pool, nsp = "/", {channelPrefix, tableName, payloadThreshold})`):
//! publishes `BROADCAST` (`packet` `{type: 2, data, nsp}`, `opts` `{rooms, flags, except}`),
//! `SOCKETS_JOIN`, `SOCKETS_LEAVE`, `DISCONNECT_SOCKETS` (`opts` without `flags`) and
//! `SERVER_SIDE_EMIT` (no acks) with `uid: "emitter"` and **no `nsp`**, on the namespace's
//! channel, with the same JSON/attachment rule (types 3, 9, 10 with binary). Node's
//! postgres-adapter 0.5.0 routes a message by its `nsp`, so it drops these; our adapter
//! takes a message without `nsp` as belonging to the channel's namespace, so the Node emitter
//! reaches our servers. Our [`Emitter`] adds `nsp`, so it reaches both.
//!
//! # Connection state recovery (ours only)
//!
//! `@socket.io/postgres-adapter` 0.5 does not support it (its `doPublish` returns an empty
//! offset and it keeps no session). Ours does, in the way that fits this protocol, when the
//! server has `connection_state_recovery`:
//!
//! * A broadcast that is kept (not `local`, not volatile, without acks) always goes through
//!   the attachment table, whatever its size: the **row id is its offset**. This node's
//!   sockets get it once the row is written, with the id appended as its last argument (as
//!   socket.io-adapter's `ClusterAdapter` does with a stream id); other nodes of ours append
//!   the `attachmentId` of the notification. Node nodes read these messages as any other
//!   attachment.
//! * A session is written to the session table
//!   ([`PostgresAdapterConfig::session_table_name`], `socket_io_sessions` by default, created
//!   by the adapter: `pid text PRIMARY KEY, sid text, rooms text[], data text` (JSON),
//!   `expires_at timestamptz`), in order with the messages (so it is stored before anything
//!   the disconnect handler publishes), for `max_disconnection_duration`.
//! * Restoring takes the session (`DELETE ... RETURNING`: at most once), checks it has not
//!   expired and that the offset's row still exists, then reads the rows after it (`id >
//!   offset ORDER BY id`, at most `max_packets`) and keeps this namespace's broadcasts
//!   without acks, not volatile, that select a socket in the session's rooms.
//! * This node keeps attachment rows for `max_disconnection_duration` when longer than
//!   `cleanup_interval`. Node nodes delete rows older than their own `cleanupInterval`
//!   (30 s by default): in a mixed cluster, raise it on them too, or a client away longer
//!   than that cannot recover. Broadcasts from Node nodes carry no offset and are not replayed.
//!   Row ids come from a sequence: two nodes inserting at the same moment may commit out of
//!   id order, so a client that saw the later id may miss the earlier one (Redis Streams ids
//!   have no such gap).
//!
//! # What this crate does not do
//!
//! A custom `parser`; room names that are not strings.

mod adapter;
mod emitter;
mod message;

/// Entry points of the fuzz targets (`socketio-core/fuzz/`); not a public API, compiled only
/// with the `fuzzing` feature.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz;

pub use adapter::{create_attachment_table, PostgresAdapter, PostgresAdapterConfig};
pub use emitter::{Emitter, EmitterError};
pub use message::{
    needs_attachment, AttachmentHeader, BroadcastFlags, BroadcastOptions, ClusterBody,
    ClusterMessage, MessageType, Notification, Packet, RemoteSocket, EVENT,
};
pub use socketio_core::node_compat::Value;

pub use socketio_core::node_compat::emitter::EMITTER_UID;

pub use socketio_core::node_compat::WireError;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adapter::Outgoing;

    #[test]
    fn bad_notifications_are_errors_not_panics() {
        for payload in [
            "",
            "{",
            "[]",
            r#"{"type":99,"uid":"u"}"#,
            r#"{"type":3,"uid":"u","data":{"opts":{}}}"#,
            r#"{"uid":"u","type":3,"attachmentId":"12x"}"#,
            r#"{"uid":"u","type":3,"attachmentId":[1]}"#,
        ] {
            assert!(Notification::decode(payload).is_err(), "{payload}");
        }
        // an attachment that is not one msgpack message
        assert!(ClusterMessage::decode(&[0xdd, 0xff, 0xff, 0xff, 0xff]).is_err());
        assert!(ClusterMessage::decode(&vec![0x91u8; 100_000]).is_err());
    }

    #[test]
    fn headers_and_emitter_messages_read_as_node_writes_them() {
        // node-postgres returns a bigserial as a string; a number is read too
        for payload in [
            r#"{"uid":"abc","type":3,"attachmentId":"42"}"#,
            r#"{"uid":"abc","type":3,"attachmentId":42}"#,
        ] {
            assert_eq!(
                Notification::decode(payload).unwrap(),
                Notification::Attachment(AttachmentHeader {
                    uid: "abc".into(),
                    message_type: 3,
                    attachment_id: 42
                })
            );
        }
        let header = AttachmentHeader {
            uid: "abc".into(),
            message_type: 9,
            attachment_id: 7,
        };
        assert_eq!(
            header.to_json(),
            r#"{"uid":"abc","type":9,"attachmentId":"7"}"#
        );
        // @socket.io/postgres-emitter: no nsp, opts in the order {rooms, flags, except}
        let raw = r#"{"type":3,"data":{"packet":{"type":2,"data":["ev",1],"nsp":"/"},"opts":{"rooms":["r"],"flags":{},"except":[]}},"uid":"emitter"}"#;
        let Notification::Message(msg) = Notification::decode(raw).unwrap() else {
            panic!("a message")
        };
        assert_eq!(msg.uid, EMITTER_UID);
        assert_eq!(msg.nsp, None);
        assert!(matches!(
            msg.body,
            ClusterBody::Broadcast {
                request_id: None,
                ..
            }
        ));
    }

    #[test]
    fn binary_or_long_messages_go_through_the_attachment_table() {
        let msg = |args: Vec<Value>| ClusterMessage {
            uid: "0123456789abcdef".into(),
            nsp: Some("/".into()),
            body: ClusterBody::Broadcast {
                packet: Packet::event("/", "ev", args),
                request_id: None,
                opts: BroadcastOptions::default(),
            },
        };
        let small = msg(vec![Value::from("x")]);
        match Outgoing::of("socket.io#/", &small, 8000) {
            Outgoing::Notify { channel, payload } => {
                assert_eq!(channel, "socket.io#/");
                assert_eq!(
                    payload,
                    r#"{"type":3,"data":{"packet":{"type":2,"data":["ev","x"],"nsp":"/"},"opts":{"rooms":[],"except":[]}},"uid":"0123456789abcdef","nsp":"/"}"#
                );
                assert_eq!(
                    Notification::decode(&payload).unwrap(),
                    Notification::Message(small.clone())
                );
            }
            _ => panic!("small JSON goes in the NOTIFY"),
        }
        let binary = msg(vec![Value::Binary(vec![1])]);
        let long = msg(vec![Value::from("y".repeat(8000))]);
        for m in [binary, long] {
            match Outgoing::of("socket.io#/", &m, 8000) {
                Outgoing::Attach {
                    payload,
                    message_type,
                    ..
                } => {
                    assert_eq!(message_type, 3);
                    assert_eq!(ClusterMessage::decode(&payload).unwrap(), m);
                }
                _ => panic!("goes through the table"),
            }
        }
        // FETCH_SOCKETS_RESPONSE with binary stays JSON, as in Node (Buffer.toJSON)
        let fetch = ClusterMessage {
            uid: "u".into(),
            nsp: Some("/".into()),
            body: ClusterBody::FetchSocketsResponse {
                request_id: "r".into(),
                sockets: vec![RemoteSocket {
                    id: "s".into(),
                    handshake: Value::Binary(vec![1]),
                    rooms: vec![],
                    data: None,
                }],
            },
        };
        assert!(matches!(
            Outgoing::of("c", &fetch, 8000),
            Outgoing::Notify { .. }
        ));
    }
}
