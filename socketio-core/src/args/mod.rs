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

/// Calls `$m!` with every `Deserializer` method that an argument list forwards to its first
/// argument (all but `deserialize_tuple` and `deserialize_unit`, which look at the whole list).
macro_rules! first_arg_methods {
    ($m:ident) => {
        $m! {
            deserialize_any(); deserialize_bool(); deserialize_i8(); deserialize_i16();
            deserialize_i32(); deserialize_i64(); deserialize_u8(); deserialize_u16();
            deserialize_u32(); deserialize_u64(); deserialize_f32(); deserialize_f64();
            deserialize_char(); deserialize_str(); deserialize_string(); deserialize_bytes();
            deserialize_byte_buf(); deserialize_option(); deserialize_seq(); deserialize_map();
            deserialize_identifier(); deserialize_ignored_any();
            deserialize_unit_struct(name: &'static str);
            deserialize_newtype_struct(name: &'static str);
            deserialize_tuple_struct(name: &'static str, len: usize);
            deserialize_struct(name: &'static str, fields: &'static [&'static str]);
            deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        }
    };
}

mod de;
mod fast;
mod raw;
mod ser;
mod split;
mod value;

pub(crate) use self::fast::write_json_args;
pub(crate) use self::raw::{number_name, RawArgs};

use std::sync::OnceLock;

use bytes::Bytes;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value as Json;

pub use self::de::ArgError;
pub use self::value::{Map, Value};

/// The arguments of an event or ack as received: JSON values, with binary attachments kept
/// aside (the values hold `{"_placeholder": true, "num": n}` where attachment `n` belongs).
///
/// Arguments of a text packet stay JSON text until read: [`Args::get`] and [`Args::decode`]
/// deserialize straight from it, and [`Args::values`] builds the values on first use.
#[derive(Clone, Default)]
pub struct Args {
    repr: Repr,
    attachments: Vec<Bytes>,
}

#[derive(Clone)]
enum Repr {
    Values(Vec<Json>),
    Raw {
        raw: RawArgs,
        values: OnceLock<Vec<Json>>,
    },
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Values(Vec::new())
    }
}

impl PartialEq for Args {
    fn eq(&self, other: &Self) -> bool {
        self.values() == other.values() && self.attachments == other.attachments
    }
}

impl std::fmt::Debug for Args {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut s = f.debug_struct("Args");
        match &self.repr {
            Repr::Values(values) => s.field("values", values),
            Repr::Raw { raw, .. } => s.field("values", raw),
        };
        s.field("attachments", &self.attachments).finish()
    }
}

impl Args {
    /// Arguments from their JSON values and binary attachments.
    pub fn new(values: Vec<Json>, attachments: Vec<Bytes>) -> Self {
        Args {
            repr: Repr::Values(values),
            attachments,
        }
    }

    /// Arguments of a text packet, kept as JSON text.
    pub(crate) fn from_raw(raw: RawArgs) -> Self {
        Args {
            repr: Repr::Raw {
                raw,
                values: OnceLock::new(),
            },
            attachments: Vec::new(),
        }
    }

    /// The same arguments with the attachments of a binary packet (unchanged when there are
    /// none).
    pub(crate) fn with_attachments(self, attachments: Vec<Bytes>) -> Self {
        if attachments.is_empty() {
            return self;
        }
        let (values, _) = self.into_parts();
        Args::new(values, attachments)
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

    /// The JSON values as they travel (binary attachments appear as placeholders
    /// `{"_placeholder": true, "num": n}`); read an argument with [`Args::get`] into a
    /// [`Value`] to have binary as binary. An argument that `serde_json::Value` cannot hold (a
    /// number beyond `f64`; nesting past 128 levels is refused when the packet is decoded)
    /// reads as `null` here; [`Args::get`] reports it as an error.
    pub fn values(&self) -> &[Json] {
        match &self.repr {
            Repr::Values(values) => values,
            Repr::Raw { raw, values } => values.get_or_init(|| raw.to_values()),
        }
    }

    /// The binary attachments, in placeholder order.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// Number of arguments.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Values(values) => values.len(),
            Repr::Raw { raw, .. } => raw.len(),
        }
    }

    /// Whether there are no arguments.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
        match &self.repr {
            Repr::Values(values) => de::from_arg(values.get(index), &self.attachments),
            Repr::Raw { raw, .. } => raw.arg(index),
        }
        .map_err(|e| ArgError::new(Some(index), std::any::type_name::<T>(), e))
    }

    /// Deserializes all arguments with the receiving rules of this module: a tuple takes them
    /// positionally, any other type takes the first.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, ArgError> {
        match &self.repr {
            Repr::Values(values) => de::from_args(values, &self.attachments),
            Repr::Raw { raw, .. } => raw
                .decode()
                .map_err(|source| ArgError::new(None, std::any::type_name::<T>(), source)),
        }
    }

    /// Arguments from dynamic values; [`Value::Binary`] anywhere becomes an attachment.
    ///
    /// ```
    /// use socketio_core::{Args, Value};
    /// let args = Args::from_values([Value::Null, Value::Binary(vec![1, 2].into())]);
    /// assert_eq!(args.len(), 2);
    /// assert_eq!(args.attachments().len(), 1);
    /// assert_eq!(args.get::<Value>(0).unwrap(), Value::Null);
    /// ```
    pub fn from_values(values: impl IntoIterator<Item = Value>) -> Self {
        ser::from_values(values)
    }

    pub(crate) fn into_parts(self) -> (Vec<Json>, Vec<Bytes>) {
        let values = match self.repr {
            Repr::Values(values) => values,
            Repr::Raw { raw, values } => values.into_inner().unwrap_or_else(|| raw.to_values()),
        };
        (values, self.attachments)
    }
}

/// What an ack answer decodes into ([`crate::Socket::emit_with_ack`],
/// [`crate::BroadcastOperator::emit_with_ack`]).
///
/// Any `DeserializeOwned` type follows the receiving rules of this module (a tuple takes the
/// arguments positionally, any other type the first); [`Args`] keeps every argument of a
/// multi-argument answer (`cb("a", 1)` on the client), binary included.
pub trait FromAck: Sized {
    /// Decodes the answer.
    ///
    /// # Errors
    /// When the arguments do not fit the type.
    fn from_ack(args: Args) -> Result<Self, ArgError>;
}

impl<T: DeserializeOwned> FromAck for T {
    fn from_ack(args: Args) -> Result<Self, ArgError> {
        args.decode()
    }
}

impl FromAck for Args {
    fn from_ack(args: Args) -> Result<Self, ArgError> {
        Ok(args)
    }
}

#[cfg(test)]
mod tests;
