//! Arguments → Rust values: a serde `Deserializer` over `serde_json::Value` that resolves binary
//! placeholders to their attachments, and the top-level rule (tuples take arguments positionally,
//! other types the first argument).

use bytes::Bytes;
use serde::de::{self, DeserializeOwned, IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Value};

type Error = serde_json::Error;

/// An argument that could not be deserialized into the type a handler asked for.
#[derive(Debug, thiserror::Error)]
#[error("argument {}: {source}", .index.map_or_else(|| "list".to_string(), |i| i.to_string()))]
pub struct ArgError {
    /// Position of the argument, when the error concerns one.
    pub index: Option<usize>,
    /// What serde reported.
    #[source]
    pub source: serde_json::Error,
}

impl ArgError {
    pub(super) fn at(index: usize, source: serde_json::Error) -> Self {
        ArgError {
            index: Some(index),
            source,
        }
    }
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
    T::deserialize(ArgsDe { values, atts }).map_err(|source| ArgError {
        index: None,
        source,
    })
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
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
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
