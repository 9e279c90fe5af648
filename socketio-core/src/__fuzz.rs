//! Entry points for the fuzz targets in `socketio-core/fuzz/` (feature `fuzzing`, off by
//! default); not a public API.
//!
//! Each function feeds client or peer bytes to a real decoder of this crate, as the server
//! does with what it receives, and goes on with what the decoder accepted (attachment
//! reassembly, argument extraction) so a fuzzer reaches those paths too. None of them may
//! panic, hang or allocate without bound whatever the input: that is what the targets check.

use bytes::Bytes;

use crate::args::Args;
use crate::engine::packet::Incoming;
use crate::engine::{payload, payload_v3};
use crate::protocol::msgpack;
use crate::protocol::packet::{Packet, PacketData};
use crate::socket::conn::Partial;

/// The separator of a fuzz input made of a text packet then binary attachments: `0xFF`, a
/// byte UTF-8 text never contains.
pub const ATTACHMENT_SEPARATOR: u8 = 0xff;

/// Bound on all attachments of one packet in [`socketio_packet`] (the server's default:
/// 10 × the default `max_payload` of 1 MB).
pub const MAX_ATTACHMENT_BYTES: usize = 10_000_000;

/// One Engine.IO v4 packet as text (a WebSocket text frame, or one packet of a polling
/// payload; `b<base64>` included). Whether it decoded.
pub fn engine_packet(text: &str) -> bool {
    Incoming::decode(text).is_ok()
}

/// An Engine.IO v4 polling payload (packets joined by `\x1e`). How many packets decoded.
pub fn engine_payload(body: &str) -> usize {
    payload::decode(body).filter(Result::is_ok).count()
}

/// An Engine.IO v3 text polling payload (`<len>:<packet>…`). The packets, or `None`.
pub fn payload_v3_text(body: &str) -> Option<usize> {
    payload_v3::decode_text(body).ok().map(|p| p.len())
}

/// An Engine.IO v3 binary polling payload. The packets, or `None`.
pub fn payload_v3_binary(body: &[u8]) -> Option<usize> {
    payload_v3::decode_binary(&Bytes::copy_from_slice(body))
        .ok()
        .map(|p| p.len())
}

/// What a packet fed to [`socketio_packet`] or [`msgpack_packet`] came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The packet did not decode.
    Invalid,
    /// A binary packet whose attachments were over the size bound.
    TooLarge,
    /// A binary packet still waiting for attachments when the input ended.
    Incomplete,
    /// A binary message after the packet was complete (the server closes the connection).
    Unexpected,
    /// A complete packet; for events and acks, how many arguments extracted as each type
    /// tried (see [`extract`]).
    Complete(usize),
}

/// A Socket.IO packet as the default parser receives it: `input` is the packet's text, then
/// its binary attachments, each after an [`ATTACHMENT_SEPARATOR`] byte. The text goes through
/// `Packet::decode`, the attachments through the bookkeeping of `ServerCore::on_binary`
/// (`Partial::push`), and the arguments of a complete event or ack through [`extract`].
pub fn socketio_packet(input: &[u8]) -> Outcome {
    let mut parts = input.split(|&b| b == ATTACHMENT_SEPARATOR);
    let text = parts.next().unwrap_or_default();
    let Ok(text) = std::str::from_utf8(text) else {
        return Outcome::Invalid;
    };
    let Ok(packet) = Packet::decode(text) else {
        return Outcome::Invalid;
    };
    let (packet, attachments) = if packet.attachments > 0 {
        let mut partial = Partial::new(packet);
        let mut complete = false;
        for data in parts.by_ref() {
            match partial.push(Bytes::copy_from_slice(data), MAX_ATTACHMENT_BYTES) {
                Err(_) => return Outcome::TooLarge,
                Ok(true) => {
                    complete = true;
                    break;
                }
                Ok(false) => {}
            }
        }
        if !complete {
            return Outcome::Incomplete;
        }
        (partial.packet, partial.attachments)
    } else {
        (packet, Vec::new())
    };
    if parts.next().is_some() {
        return Outcome::Unexpected;
    }
    Outcome::Complete(dispatch(packet, attachments))
}

/// A socket.io-msgpack-parser packet (one binary message), then its arguments through
/// [`extract`].
pub fn msgpack_packet(input: &[u8]) -> Outcome {
    match msgpack::decode(&Bytes::copy_from_slice(input)) {
        Ok(packet) => Outcome::Complete(dispatch(packet, Vec::new())),
        Err(_) => Outcome::Invalid,
    }
}

/// What `ServerCore::dispatch` hands to handlers: the auth of a CONNECT, the arguments (with
/// the attachments) of an EVENT or ACK.
fn dispatch(packet: Packet, attachments: Vec<Bytes>) -> usize {
    match packet.data {
        PacketData::Connect(auth) => usize::from(
            crate::socket::handler::decode_auth::<crate::Value>(auth.clone()).is_ok(),
        ) + usize::from(
            crate::socket::handler::decode_auth::<std::collections::HashMap<String, String>>(auth)
                .is_ok(),
        ),
        PacketData::Disconnect => 0,
        PacketData::Event(_, args) | PacketData::Ack(args) => {
            extract(&args.with_attachments(attachments))
        }
    }
}

/// A struct handler argument, as users write them.
#[derive(Debug, serde::Deserialize)]
#[allow(dead_code)] // read by Deserialize only
struct Message {
    room: String,
    text: Option<String>,
    count: Option<i64>,
    data: Option<Bytes>,
    tags: Vec<String>,
}

/// How many leading arguments [`extract`] reads one by one (a handler has a few parameters;
/// reading every one of thousands of arguments would make each run quadratic).
const EXTRACTED_ARGS: usize = 8;

/// Extracts the first arguments of `args` (and the one after them, missing when there are few)
/// as the handler types users write:
/// the dynamic [`crate::Value`], `serde_json::Value`, strings, numbers, booleans, `Bytes`,
/// options, vectors, maps, a struct, and the whole list as a tuple and as [`Args`] values.
/// How many extractions succeeded.
pub fn extract(args: &Args) -> usize {
    use serde_json::Value as Json;
    use std::collections::HashMap;
    let mut ok = 0;
    for i in 0..=args.len().min(EXTRACTED_ARGS) {
        ok += usize::from(args.get::<crate::Value>(i).is_ok());
        ok += usize::from(args.get::<Json>(i).is_ok());
        ok += usize::from(args.get::<String>(i).is_ok());
        ok += usize::from(args.get::<u32>(i).is_ok());
        ok += usize::from(args.get::<i64>(i).is_ok());
        ok += usize::from(args.get::<f64>(i).is_ok());
        ok += usize::from(args.get::<bool>(i).is_ok());
        ok += usize::from(args.get::<Bytes>(i).is_ok());
        ok += usize::from(args.get::<Option<String>>(i).is_ok());
        ok += usize::from(args.get::<Vec<crate::Value>>(i).is_ok());
        ok += usize::from(args.get::<HashMap<String, Json>>(i).is_ok());
        ok += usize::from(args.get::<Message>(i).is_ok());
        ok += usize::from(args.get::<()>(i).is_ok());
    }
    ok += usize::from(args.decode::<(String, u32)>().is_ok());
    ok += usize::from(args.decode::<(crate::Value, Bytes, Option<bool>)>().is_ok());
    ok += usize::from(args.decode::<Vec<Json>>().is_ok());
    ok += args.values().len() + args.attachments().len();
    ok
}

/// A message of the cluster bus ([`crate::cluster::wire`]), as a node reads it off the bus,
/// then its base64 attachments and its arguments with them. Whether it decoded.
pub fn cluster_message(input: &[u8]) -> bool {
    use crate::cluster::wire::{decode_attachments, Kind, Message};
    let Ok(msg) = serde_json::from_slice::<Message>(input) else {
        return false;
    };
    let (args, attachments) = match msg.kind {
        Kind::Broadcast {
            selection,
            args,
            attachments,
            ..
        }
        | Kind::BroadcastWithAck {
            selection,
            args,
            attachments,
            ..
        } => {
            let _ = selection.into_options();
            (args, attachments)
        }
        Kind::Ack {
            args, attachments, ..
        } => (args.unwrap_or_default(), attachments),
        Kind::Join { selection, .. }
        | Kind::Leave { selection, .. }
        | Kind::Disconnect { selection, .. }
        | Kind::FetchSockets { selection, .. } => {
            let _ = selection.into_options();
            return true;
        }
        Kind::CloseRoom { .. }
        | Kind::Heartbeat
        | Kind::Sockets { .. }
        | Kind::AllRooms { .. }
        | Kind::Rooms { .. }
        | Kind::AckCount { .. }
        | Kind::AdapterClose => return true,
    };
    if let Ok(attachments) = decode_attachments(&attachments) {
        extract(&Args::new(args, attachments));
    }
    true
}
