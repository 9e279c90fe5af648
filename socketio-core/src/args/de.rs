//! Arguments → Rust values: a serde `Deserializer` over `serde_json::Value` that resolves binary
//! placeholders to their attachments, and the top-level rule (tuples take arguments positionally,
//! other types the first argument).

use bytes::Bytes;
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Value};

use super::value::VALUE_TOKEN;

type Error = serde_json::Error;

/// Arguments that could not be deserialized into the type a handler (or an ack) asked for.
///
/// Its `Display` is what a client reads in the error ack (`{"error": "..."}`): the argument's
/// position, the expected Rust type without its module path, and serde's reason, e.g.
/// `argument 1 does not fit u32: invalid type: string "x", expected u32`. Positions inside the
/// argument's own JSON text (serde_json's "at line 1 column 5") are left out: they mean nothing
/// to the client.
#[derive(Debug)]
#[non_exhaustive]
pub struct ArgError {
    /// Position of the argument (0-based, the event name not counted), when the error concerns
    /// one; `None` when a whole tuple of arguments was decoded at once.
    pub index: Option<usize>,
    /// The type asked for, as `std::any::type_name` gives it.
    pub expected: &'static str,
    /// What serde reported.
    pub source: serde_json::Error,
}

impl ArgError {
    /// An error for argument `index` (or the whole list) not fitting `expected`.
    pub fn new(index: Option<usize>, expected: &'static str, source: serde_json::Error) -> Self {
        ArgError {
            index,
            expected,
            source,
        }
    }

    /// serde's reason, without serde_json's position suffix.
    pub fn reason(&self) -> String {
        let text = self.source.to_string();
        if self.source.line() == 0 {
            return text;
        }
        let suffix = format!(
            " at line {} column {}",
            self.source.line(),
            self.source.column()
        );
        match text.strip_suffix(&suffix) {
            Some(reason) => reason.to_owned(),
            None => text,
        }
    }
}

impl std::fmt::Display for ArgError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let expected = short_type_name(self.expected);
        match self.index {
            Some(i) => write!(f, "argument {i} does not fit {expected}: {}", self.reason()),
            None => write!(f, "arguments do not fit {expected}: {}", self.reason()),
        }
    }
}

impl std::error::Error for ArgError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// A type name without module paths: `core::option::Option<my_app::Msg>` → `Option<Msg>`.
pub(crate) fn short_type_name(full: &str) -> String {
    let mut out = String::with_capacity(full.len());
    // Where the path segment being read started in `out`: a `::` drops it.
    let mut segment = 0;
    let mut chars = full.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ':' && chars.peek() == Some(&':') {
            chars.next();
            out.truncate(segment);
        } else {
            out.push(c);
            if !(c.is_alphanumeric() || c == '_') {
                segment = out.len();
            }
        }
    }
    out
}

pub(super) fn from_arg<T: DeserializeOwned>(
    value: Option<&Value>,
    atts: &[Bytes],
) -> Result<T, Error> {
    T::deserialize(ValueDe {
        value: value.unwrap_or(&NULL),
        atts,
    })
}

pub(super) fn from_args<T: DeserializeOwned>(
    values: &[Value],
    atts: &[Bytes],
) -> Result<T, ArgError> {
    T::deserialize(ArgsDe { values, atts })
        .map_err(|source| ArgError::new(None, std::any::type_name::<T>(), source))
}

/// What a missing argument reads as.
static NULL: Value = Value::Null;

fn placeholder_index(map: &Map<String, Value>) -> Option<usize> {
    if map.len() == 2 && map.get("_placeholder") == Some(&Value::Bool(true)) {
        map.get("num")?.as_u64().map(|n| n as usize)
    } else {
        None
    }
}

/// The whole argument list at the top level.
struct ArgsDe<'a> {
    values: &'a [Value],
    atts: &'a [Bytes],
}

impl<'a> ArgsDe<'a> {
    fn first(&self) -> ValueDe<'a> {
        ValueDe {
            value: self.values.first().unwrap_or(&NULL),
            atts: self.atts,
        }
    }
}

macro_rules! first_arg {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {
        $(fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Error> {
            self.first().$method($($arg,)* visitor)
        })*
    };
}

impl<'de> de::Deserializer<'de> for ArgsDe<'de> {
    type Error = Error;

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_seq(SeqDe {
            iter: self.values.iter(),
            atts: self.atts,
        })
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_unit()
    }

    first_arg_methods!(first_arg);
}

/// One JSON value (borrowed: arguments are never copied to be read), with the attachments its
/// placeholders refer to.
struct ValueDe<'a> {
    value: &'a Value,
    atts: &'a [Bytes],
}

impl<'a> ValueDe<'a> {
    fn attachment(&self) -> Option<Result<&'a Bytes, Error>> {
        let Value::Object(map) = self.value else {
            return None;
        };
        let num = placeholder_index(map)?;
        Some(
            self.atts
                .get(num)
                .ok_or_else(|| de::Error::custom(format!("missing binary attachment {num}"))),
        )
    }
}

impl<'de> de::Deserializer<'de> for ValueDe<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if let Some(att) = self.attachment() {
            let bytes: Vec<Value> = att?.iter().map(|&b| Value::from(b)).collect();
            return visitor.visit_seq(bytes.into_deserializer());
        }
        match self.value {
            Value::Array(items) => visitor.visit_seq(SeqDe {
                iter: items.iter(),
                atts: self.atts,
            }),
            Value::Object(map) => visitor.visit_map(MapDe {
                iter: map.iter(),
                value: None,
                atts: self.atts,
            }),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.attachment() {
            Some(att) => visitor.visit_bytes(att?),
            None => match self.value {
                Value::String(s) => visitor.visit_borrowed_str(s),
                _ => self.deserialize_any(visitor),
            },
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.value {
            Value::Null => visitor.visit_unit(),
            other => other.deserialize_unit(visitor),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        // A dynamic `Value` asks this way, so a placeholder can reach it as bytes (to anything
        // else, e.g. `serde_json::Value`, an attachment reads as an array of numbers).
        if name == VALUE_TOKEN {
            if let Some(att) = self.attachment() {
                return visitor.visit_bytes(att?);
            }
        }
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.value.deserialize_enum(name, variants, visitor)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        unit_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

struct SeqDe<'a> {
    iter: std::slice::Iter<'a, Value>,
    atts: &'a [Bytes],
}

impl<'de> de::SeqAccess<'de> for SeqDe<'de> {
    type Error = Error;

    fn next_element_seed<T: de::DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.iter.next() {
            Some(value) => seed
                .deserialize(ValueDe {
                    value,
                    atts: self.atts,
                })
                .map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct MapDe<'a> {
    iter: serde_json::map::Iter<'a>,
    value: Option<&'a Value>,
    atts: &'a [Bytes],
}

impl<'de> de::MapAccess<'de> for MapDe<'de> {
    type Error = Error;

    fn next_key_seed<K: de::DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.iter.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(de::value::BorrowedStrDeserializer::new(key))
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: de::DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        let value = self
            .value
            .take()
            .ok_or_else(|| <Error as de::Error>::custom("map value requested before its key"))?;
        seed.deserialize(ValueDe {
            value,
            atts: self.atts,
        })
    }
}
