//! The messages `@socket.io/postgres-adapter` carries over LISTEN/NOTIFY: socket.io-adapter's
//! `ClusterAdapter` messages (the shared codec of `socketio_core::node_compat::cluster`,
//! re-exported), when one goes through the attachment table, and the NOTIFY header of one
//! that does. See the [crate docs](crate).

use rmpv::Value;

use crate::WireError;
use socketio_core::node_compat::{encode_json, has_binary, MapBuilder, Obj};

pub use socketio_core::node_compat::cluster::{
    BroadcastFlags, BroadcastOptions, ClusterBody, ClusterMessage, MessageType, Packet,
    RemoteSocket, EVENT,
};

/// Whether the Postgres adapter sends `msg` through the attachment table whatever its size:
/// its type may carry binary (`BROADCAST`, `BROADCAST_ACK`, `SERVER_SIDE_EMIT`,
/// `SERVER_SIDE_EMIT_RESPONSE`; not `FETCH_SOCKETS_RESPONSE`, unlike
/// [`ClusterMessage::may_contain_binary`]) and its data does. Otherwise it goes as JSON
/// ([`ClusterMessage::to_json`]) in a NOTIFY when that fits.
pub fn needs_attachment(msg: &ClusterMessage) -> bool {
    matches!(
        msg.message_type(),
        MessageType::Broadcast
            | MessageType::BroadcastAck
            | MessageType::ServerSideEmit
            | MessageType::ServerSideEmitResponse
    ) && msg.data().as_ref().is_some_and(has_binary)
}

/// What a NOTIFY carries when the message itself is in the attachment table:
/// `{uid, type, attachmentId}`, the id being the row's `id` (Node writes it as a string, the
/// way node-postgres returns a `bigint`; a number is read too).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentHeader {
    /// The sender's uid.
    pub uid: String,
    /// The message type.
    pub message_type: u64,
    /// The row id in the attachment table.
    pub attachment_id: i64,
}

impl AttachmentHeader {
    /// `{"uid":..,"type":..,"attachmentId":"<id>"}`, as Node writes it.
    pub fn to_json(&self) -> String {
        let v = MapBuilder::default()
            .put("uid", self.uid.as_str())
            .put("type", self.message_type)
            .put("attachmentId", self.attachment_id.to_string())
            .build();
        String::from_utf8(encode_json(&v)).unwrap_or_default()
    }
}

/// A NOTIFY payload: a whole message, or the header of one in the attachment table.
#[derive(Debug, Clone, PartialEq)]
pub enum Notification {
    /// The message itself (JSON).
    Message(ClusterMessage),
    /// Where to find the message.
    Attachment(AttachmentHeader),
}

impl Notification {
    /// Reads a NOTIFY payload (JSON); one with an `attachmentId` is a header.
    pub fn decode(payload: &str) -> Result<Notification, WireError> {
        let v: Value = serde_json::from_str(payload).map_err(WireError::Json)?;
        let o = Obj::new(&v, "notification")?;
        let Some(id) = o.get("attachmentId") else {
            return ClusterMessage::from_value(&v).map(Notification::Message);
        };
        let attachment_id = match id {
            Value::String(s) => s.as_str().and_then(|s| s.parse().ok()),
            other => other.as_i64(),
        }
        .ok_or(WireError::Shape {
            what: "notification",
            field: "attachmentId",
            expected: "an integer or its decimal text",
        })?;
        Ok(Notification::Attachment(AttachmentHeader {
            uid: o.str("uid")?,
            message_type: o.u64("type")?,
            attachment_id,
        }))
    }
}
