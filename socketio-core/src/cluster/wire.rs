//! The JSON messages nodes (and write-only emitters) exchange over the bus.
//!
//! Every message is one JSON object published on the channel `<prefix>` (all nodes) or
//! `<prefix>#<uid>` (answers to one node). Fields common to all messages:
//!
//! | field | meaning |
//! |---|---|
//! | `uid` | the sender's node id (any unique string; emitters use `"emitter"`) |
//! | `nsp` | the namespace, e.g. `"/"` or `"/chat"` |
//! | `type` | one of the kinds below |
//!
//! Kinds that select sockets carry `rooms` (sockets in any of them; empty = every socket of the
//! namespace) and `except` (leave out sockets in any of these rooms; a socket id is a room):
//!
//! | `type` | other fields | effect on each node |
//! |---|---|---|
//! | `broadcast` | `rooms`, `except`, `event`, `args` (JSON array), `attachments` (base64 strings, for `{"_placeholder":true,"num":n}` in `args`) | emits the event to the selected local sockets |
//! | `join` | `rooms`, `except`, `targets` | the selected local sockets join every room of `targets` |
//! | `leave` | `rooms`, `except`, `targets` | … leave them |
//! | `disconnect` | `rooms`, `except`, `close` | disconnects the selected sockets (`close`: their whole connection) |
//! | `close_room` | `room` | every local socket leaves `room` |
//! | `heartbeat` | — | announces a live node |
//! | `adapter_close` | — | the sender leaves the cluster (its server shuts down): forget it now |
//!
//! Requests carry a numeric `rid`; nodes answer on the requester's channel `<prefix>#<uid>`:
//! `fetch_sockets` (selection) → `sockets` (`sockets`: `[{"id","nsp","rooms"}]`); `all_rooms` →
//! `rooms` (`rooms`); `broadcast_with_ack` (selection, `event`, `args`, `attachments`,
//! `timeout_ms`) → one `ack_count` (`count`), then one `ack` per socket (`sid`, `args` or `null`
//! when it did not answer, `attachments`). Emitters never send requests.
//!
//! Example, what `Emitter::new(bus, "socket.io").of("/chat").to("lobby").emit("news", &"hi")`
//! publishes on channel `socket.io`:
//!
//! ```json
//! {"uid":"emitter","nsp":"/chat","type":"broadcast","rooms":["lobby"],"except":[],"event":"news","args":["hi"],"attachments":[]}
//! ```

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One bus message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// The sender's node id.
    pub uid: String,
    /// The namespace concerned.
    pub nsp: String,
    /// What to do.
    #[serde(flatten)]
    pub kind: Kind,
}

/// Which sockets of a namespace an operation concerns.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// Sockets in any of these rooms; empty means every socket.
    #[serde(default)]
    pub rooms: Vec<String>,
    /// Minus sockets in any of these rooms.
    #[serde(default)]
    pub except: Vec<String>,
}

/// The operations nodes exchange.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Kind {
    /// Emit an event to the selected sockets.
    Broadcast {
        /// The sockets.
        #[serde(flatten)]
        selection: Selection,
        /// The event name.
        event: String,
        /// The arguments (binary attachments as placeholders).
        args: Vec<Value>,
        /// Base64 of each binary attachment.
        #[serde(default)]
        attachments: Vec<String>,
    },
    /// The selected sockets join `targets`.
    Join {
        /// The sockets.
        #[serde(flatten)]
        selection: Selection,
        /// Rooms to join.
        targets: Vec<String>,
    },
    /// The selected sockets leave `targets`.
    Leave {
        /// The sockets.
        #[serde(flatten)]
        selection: Selection,
        /// Rooms to leave.
        targets: Vec<String>,
    },
    /// Disconnect the selected sockets.
    Disconnect {
        /// The sockets.
        #[serde(flatten)]
        selection: Selection,
        /// Close their whole connection rather than just this namespace.
        #[serde(default)]
        close: bool,
    },
    /// Every socket leaves `room`.
    CloseRoom {
        /// The room.
        room: String,
    },
    /// A node is alive (sent on joining and periodically; a node answers an unknown peer's
    /// heartbeat with its own, on that peer's channel).
    Heartbeat,
    /// The sender leaves the cluster (its server is shutting down, `SocketIo::close`): the
    /// other nodes stop counting it at once instead of after their heartbeat window (the
    /// Postgres adapter's `ADAPTER_CLOSE`).
    AdapterClose,
    /// Request: the selected sockets of each node. Answered with `sockets`.
    FetchSockets {
        /// Request id, echoed in the answer.
        rid: u64,
        /// The sockets.
        #[serde(flatten)]
        selection: Selection,
    },
    /// Answer to `fetch_sockets`, on the requester's channel.
    Sockets {
        /// The request id.
        rid: u64,
        /// The answering node's selected sockets.
        sockets: Vec<SocketInfo>,
    },
    /// Request: the rooms of each node. Answered with `rooms`.
    AllRooms {
        /// Request id.
        rid: u64,
    },
    /// Answer to `all_rooms`.
    Rooms {
        /// The request id.
        rid: u64,
        /// The answering node's rooms that have members.
        rooms: Vec<String>,
    },
    /// Request: emit to the selected sockets asking each for an ack. Each node answers with
    /// one `ack_count`, then one `ack` per socket.
    BroadcastWithAck {
        /// Request id.
        rid: u64,
        /// The sockets.
        #[serde(flatten)]
        selection: Selection,
        /// The event name.
        event: String,
        /// The arguments.
        args: Vec<Value>,
        /// Base64 attachments.
        #[serde(default)]
        attachments: Vec<String>,
        /// How long each socket has to answer.
        timeout_ms: u64,
    },
    /// How many sockets a node emitted a `broadcast_with_ack` to.
    AckCount {
        /// The request id.
        rid: u64,
        /// Number of `ack` answers that will follow.
        count: usize,
    },
    /// One socket's answer to a `broadcast_with_ack`.
    Ack {
        /// The request id.
        rid: u64,
        /// The socket.
        sid: String,
        /// Its ack arguments, or `null` when it did not answer in time or disconnected.
        args: Option<Vec<Value>>,
        /// Base64 attachments of the ack.
        #[serde(default)]
        attachments: Vec<String>,
    },
}

/// A socket as another node describes it (`{"id","nsp","rooms"}`).
pub use crate::adapter::SocketInfo;

impl Selection {
    /// The selection as adapter options (no flags: an operation from another node is applied
    /// to this node's sockets only, by the local adapter).
    pub(crate) fn into_options(self) -> crate::adapter::BroadcastOptions {
        crate::adapter::BroadcastOptions {
            rooms: self.rooms,
            except: self.except,
            flags: Default::default(),
        }
    }

    pub(crate) fn of(opts: &crate::adapter::BroadcastOptions) -> Self {
        Selection {
            rooms: opts.rooms.clone(),
            except: opts.except.clone(),
        }
    }
}

/// Base64 of each binary attachment (the `attachments` fields).
pub(crate) fn encode_attachments(attachments: &[bytes::Bytes]) -> Vec<String> {
    use base64::Engine as _;
    attachments
        .iter()
        .map(|a| base64::engine::general_purpose::STANDARD.encode(a))
        .collect()
}

/// The attachments back from their base64 (the one decoder of every `attachments` field).
pub(crate) fn decode_attachments(
    attachments: &[String],
) -> Result<Vec<bytes::Bytes>, base64::DecodeError> {
    use base64::Engine as _;
    attachments
        .iter()
        .map(|a| {
            base64::engine::general_purpose::STANDARD
                .decode(a)
                .map(bytes::Bytes::from)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn documented_example_round_trips() {
        let text = r#"{"uid":"emitter","nsp":"/chat","type":"broadcast","rooms":["lobby"],"except":[],"event":"news","args":["hi"],"attachments":[]}"#;
        let msg: Message = serde_json::from_str(text).unwrap();
        assert_eq!(
            msg,
            Message {
                uid: "emitter".into(),
                nsp: "/chat".into(),
                kind: Kind::Broadcast {
                    selection: Selection {
                        rooms: vec!["lobby".into()],
                        except: vec![],
                    },
                    event: "news".into(),
                    args: vec![json!("hi")],
                    attachments: vec![],
                },
            }
        );
        assert_eq!(
            serde_json::to_value(&msg).unwrap(),
            serde_json::from_str::<Value>(text).unwrap()
        );
    }

    #[test]
    fn attachments_round_trip_and_bad_base64_is_an_error() {
        let atts = vec![
            bytes::Bytes::from_static(b"\x00\xffhi"),
            bytes::Bytes::new(),
        ];
        let text = encode_attachments(&atts);
        assert_eq!(text, ["AP9oaQ==", ""]);
        assert_eq!(decode_attachments(&text).unwrap(), atts);
        assert!(decode_attachments(&["not base64!".into()]).is_err());
    }

    #[test]
    fn optional_fields_default() {
        let msg: Message =
            serde_json::from_str(r#"{"uid":"a","nsp":"/","type":"disconnect"}"#).unwrap();
        assert_eq!(
            msg.kind,
            Kind::Disconnect {
                selection: Selection::default(),
                close: false
            }
        );
        assert!(serde_json::from_str::<Message>(r#"{"uid":"a","nsp":"/","type":"nope"}"#).is_err());
    }
}
