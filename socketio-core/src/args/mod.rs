//! Event and ack arguments: converting Rust values to and from Socket.IO argument lists,
//! binary attachments included.
//!
//! Sending follows python-socketio's rules for handler return values:
//! - `()` is no argument, a tuple `(a, b)` is several arguments, anything else is one argument
//!   (so a `Vec` is one array argument; wrap it as `(vec,)` or send it as is);
//! - a `Result` sends `Ok(v)` like `v` and `Err(e)` as one argument `{"error": e}`;
//! - bytes (`bytes::Bytes`, `serde_bytes`, anything serialized with `serialize_bytes`) anywhere in
//!   the value become binary attachments, sent as binary frames.
//!
//! Receiving mirrors it: a tuple type takes the arguments positionally, any other type takes the
//! first argument (`null` when there is none, so `Option<T>` accepts a missing argument), and a
//! binary attachment deserializes into `bytes::Bytes` / `Vec<u8>`.

mod de;
mod fast;
mod ser;

pub(crate) use self::fast::json_args;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

pub use self::de::ArgError;

/// The arguments of an event or ack as received: JSON values, with binary attachments kept
/// aside (the values hold `{"_placeholder": true, "num": n}` where attachment `n` belongs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Args {
    values: Vec<Value>,
    attachments: Vec<Bytes>,
}

impl Args {
    /// Arguments from their JSON values and binary attachments.
    pub fn new(values: Vec<Value>, attachments: Vec<Bytes>) -> Self {
        Args {
            values,
            attachments,
        }
    }

    /// Serializes `value` with the sending rules of this module.
    ///
    /// ```
    /// use socketio_core::Args;
    /// let args = Args::from_serialize(&("hello", 42)).unwrap();
    /// assert_eq!(args.len(), 2);
    /// let none = Args::from_serialize(&()).unwrap();
    /// assert!(none.is_empty());
    /// ```
    pub fn from_serialize<T: Serialize + ?Sized>(value: &T) -> Result<Self, serde_json::Error> {
        ser::to_args(value)
    }

    /// The JSON values (binary attachments appear as placeholders).
    pub fn values(&self) -> &[Value] {
        &self.values
    }

    /// The binary attachments, in placeholder order.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// Number of arguments.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether there are no arguments.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// Deserializes argument `index` (a missing argument reads as `null`).
    ///
    /// ```
    /// use socketio_core::Args;
    /// let args = Args::from_serialize(&("a", 1)).unwrap();
    /// assert_eq!(args.get::<u32>(1).unwrap(), 1);
    /// assert_eq!(args.get::<Option<u32>>(2).unwrap(), None);
    /// ```
    pub fn get<T: DeserializeOwned>(&self, index: usize) -> Result<T, ArgError> {
        de::from_arg(self.values.get(index), &self.attachments).map_err(|e| ArgError::at(index, e))
    }

    /// Deserializes all arguments with the receiving rules of this module: a tuple takes them
    /// positionally, any other type takes the first.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, ArgError> {
        de::from_args(&self.values, &self.attachments)
    }

    pub(crate) fn into_parts(self) -> (Vec<Value>, Vec<Bytes>) {
        (self.values, self.attachments)
    }
}

#[cfg(test)]
mod tests;
