//! Entry points for the fuzz targets in `socketio-core/fuzz/` (feature `fuzzing`, off by
//! default); not a public API.
//!
//! Each function feeds peer bytes (what another node or an emitter published in Redis) to the
//! real decoders of this crate, then turns the arguments they carry into handler arguments as
//! the adapters do. None of them may panic, hang or allocate without bound whatever the input.

use std::collections::HashMap;

use crate::node::{BroadcastMessage, ClusterBody, ClusterMessage, Request, Response};
use crate::streams::{decode_entry, decode_pubsub, decode_session};
use socketio_core::node_compat::args_from_node;
use socketio_core::node_compat::decode_any;

/// A message of `@socket.io/redis-adapter` (a broadcast on `socket.io#…`, a request, a
/// response), of its sharded variant, and of the Streams adapter's pub/sub channel: `input`
/// goes to each decoder. How many decoders accepted it.
pub fn node_message(input: &[u8]) -> usize {
    let mut ok = 0;
    if let Ok(msg) = BroadcastMessage::decode(input) {
        socketio_core::__fuzz::extract(&args_from_node(msg.packet.args()));
        ok += 1;
    }
    ok += usize::from(Request::decode(input).is_ok());
    ok += usize::from(Response::decode(input).is_ok());
    if let Ok(msg) = ClusterMessage::decode(input) {
        cluster_args(&msg);
        ok += 1;
    }
    ok += usize::from(decode_pubsub(input).is_ok());
    // every value a message carries becomes handler arguments the same way
    if let Ok(value) = decode_any(input) {
        socketio_core::__fuzz::extract(&args_from_node(std::slice::from_ref(&value)));
    }
    ok
}

/// The arguments a sharded / Streams message carries, as handler arguments.
fn cluster_args(msg: &ClusterMessage) {
    if let ClusterBody::Broadcast { packet, .. } = &msg.body {
        socketio_core::__fuzz::extract(&args_from_node(packet.args()));
    }
}

/// A Redis Streams entry: `input` is its fields, each `name` `=` `value` and separated by
/// `0xFF` bytes (a field without `=` has an empty value). Then, as a second decoder, the same
/// bytes as a session stored by the Streams adapter. Whether the entry decoded to a message.
pub fn streams_entry(input: &[u8]) -> bool {
    let mut fields = HashMap::new();
    for field in input.split(|&b| b == 0xff) {
        let (name, value) = match field.iter().position(|&b| b == b'=') {
            Some(eq) => (&field[..eq], &field[eq + 1..]),
            None => (field, &[][..]),
        };
        fields.insert(String::from_utf8_lossy(name).into_owned(), value.to_vec());
    }
    let _ = decode_session(input);
    match decode_entry(&fields) {
        Ok(Some(msg)) => {
            cluster_args(&msg);
            true
        }
        _ => false,
    }
}
