//! What the adapters for Node clusters share (`socketio-redis`'s `node` and `streams`
//! modules, `socketio-postgres`): the dynamic value the Node packages put on the wire
//! ([`Value`], `rmpv::Value`: nil, booleans, integers, floats, strings, binary, arrays, maps
//! with their key order), its two encodings as Node writes them (msgpack as notepack.io
//! 3.x and `@msgpack/msgpack` 2.8, JSON as `JSON.stringify`), read access with errors that
//! name the field ([`Obj`], [`WireError`]), and the conversions between it and our [`Args`](crate::Args)
//! (binary inline there, attachments here); socket.io-adapter's `ClusterAdapter` messages
//! ([`cluster`]) and the node side of that protocol ([`cluster_adapter`]); the selection and
//! reserved-name check the write-only emitters share ([`emitter`]).
//!
//! Cargo feature `node-compat` (the adapter crates turn it on). For the hot path of a
//! broadcast, [`crate::protocol::msgpack`] goes between msgpack bytes and [`Args`](crate::Args) without
//! this value in between.
//!
//! ```
//! use socketio_core::node_compat::{args_from_node, args_to_node, decode_msgpack, encode_msgpack, Value};
//! let args = socketio_core::Args::from_serialize(&("hi", bytes::Bytes::from_static(&[1]))).unwrap();
//! let values = args_to_node(&args);
//! assert_eq!(values[1], Value::Binary(vec![1]));
//! let bytes = encode_msgpack(&Value::Array(values.clone()));
//! assert_eq!(decode_msgpack(&bytes).unwrap(), Value::Array(values.clone()));
//! assert_eq!(args_from_node(&values).attachments().len(), 1);
//! ```

pub mod cluster;
pub mod cluster_adapter;
mod convert;
pub mod emitter;
mod value;

pub use self::convert::{
    args_from_node, args_to_node, from_node, handshake_of, json_to_node, node_to_json, to_node,
};
pub use self::value::{
    decode_any, decode_msgpack, encode_json, encode_msgpack, has_binary, strings, MapBuilder, Obj,
};
pub use rmpv::Value;

/// Why bytes could not be read as a message of a Node protocol (each adapter crate
/// re-exports it for its own messages).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// Not valid JSON (a message starting with `{`).
    #[error("invalid JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// Not valid msgpack, or nested deeper than about 128 levels.
    #[error("invalid msgpack: {0}")]
    Msgpack(#[source] rmpv::decode::Error),
    /// Bytes left after one complete msgpack value.
    #[error("{0} trailing bytes after the msgpack value")]
    TrailingBytes(usize),
    /// A `type` number the protocol does not define (or not valid where it was found).
    #[error("unknown message type {0}")]
    UnknownType(u64),
    /// A part of the message has the wrong shape.
    #[error("malformed {what}: {} must be {expected}", field_label(field))]
    Shape {
        /// The part of the message (`request`, `packet`, `opts`, ...).
        what: &'static str,
        /// The field (empty for the part itself).
        field: &'static str,
        /// What it should be.
        expected: &'static str,
    },
}

fn field_label(field: &str) -> String {
    if field.is_empty() {
        "it".to_owned()
    } else {
        format!("`{field}`")
    }
}

impl WireError {
    /// A [`WireError::Shape`] error about a whole part (no field): `what` must be `expected`.
    pub fn shape(what: &'static str, expected: &'static str) -> WireError {
        WireError::Shape {
            what,
            field: "",
            expected,
        }
    }
}
