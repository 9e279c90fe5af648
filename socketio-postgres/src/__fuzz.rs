//! Entry points for the fuzz targets in `socketio-core/fuzz/` (feature `fuzzing`, off by
//! default); not a public API.
//!
//! Each function feeds peer bytes (a NOTIFY payload, a row of the attachment table) to the
//! real decoders of this crate, then turns the arguments they carry into handler arguments as
//! the adapter does. None of them may panic, hang or allocate without bound whatever the input.

use crate::{ClusterBody, ClusterMessage, Notification};
use socketio_core::node_compat::args_from_node;
use socketio_core::node_compat::decode_any;

/// `input` as a NOTIFY payload (when it is UTF-8) and as the bytes of an attachment-table row
/// (msgpack or JSON). How many decoders accepted it.
pub fn message(input: &[u8]) -> usize {
    let mut ok = 0;
    if let Ok(text) = std::str::from_utf8(input) {
        if let Ok(note) = Notification::decode(text) {
            if let Notification::Message(msg) = &note {
                message_args(msg);
            }
            ok += 1;
        }
    }
    if let Ok(msg) = ClusterMessage::decode(input) {
        message_args(&msg);
        ok += 1;
    }
    if let Ok(value) = decode_any(input) {
        socketio_core::__fuzz::extract(&args_from_node(std::slice::from_ref(&value)));
    }
    ok
}

/// The arguments a message carries, as handler arguments.
fn message_args(msg: &ClusterMessage) {
    if let ClusterBody::Broadcast { packet, .. } = &msg.body {
        socketio_core::__fuzz::extract(&args_from_node(packet.args()));
    }
}
