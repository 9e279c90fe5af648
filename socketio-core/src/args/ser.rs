//! Rust values → arguments: a serde `Serializer` producing `serde_json::Value` that lifts bytes
//! out as attachments, and a probe that tells `()`, tuples and `Result`s apart at the top level.

use bytes::Bytes;
use serde::ser::{self, Serialize};
use serde_json::{Map, Number, Value};

use super::Args;

type Error = serde_json::Error;

/// Applies the top-level rules (unit, tuple, Result) and serializes.
pub(super) fn to_args<T: Serialize + ?Sized>(value: &T) -> Result<Args, Error> {
    let shape = probe(value)?;
    let mut attachments = Vec::new();
    let value = value.serialize(ValueSerializer {
        attachments: &mut attachments,
    })?;
    Ok(Args::new(apply_shape(shape, value), attachments))
}

/// Arguments from dynamic values, each one argument.
pub(super) fn from_values(values: impl IntoIterator<Item = super::Value>) -> Args {
    let mut attachments = Vec::new();
    let values = values
        .into_iter()
        .map(|v| {
            v.serialize(ValueSerializer {
                attachments: &mut attachments,
            })
        })
        .collect::<Result<Vec<_>, _>>()
        // A `Value` always serializes: its numbers are finite, its keys strings.
        .unwrap_or_default();
    Args::new(values, attachments)
}

/// The top-level shape of `value` (looks at the first serializer call only).
///
/// Only the type `()` means "no argument": `serde_json::Value::Null` serializes through the
/// same `serialize_unit` call, yet it is one `null` argument (as `emit("ev", null)` on Node).
pub(super) fn probe<T: Serialize + ?Sized>(value: &T) -> Result<Shape, Error> {
    if is_unit::<T>() {
        return Ok(Shape::Unit);
    }
    value.serialize(ShapeProbe)
}

/// Whether `T` is `()`. serde cannot tell `()` from other unit-like values (both call
/// `serialize_unit`), and `TypeId` needs `'static`; the type's name can.
fn is_unit<T: ?Sized>() -> bool {
    std::any::type_name::<T>() == "()"
}

fn apply_shape(shape: Shape, value: Value) -> Vec<Value> {
    match (shape, value) {
        (Shape::Unit, _) => Vec::new(),
        (Shape::Tuple, Value::Array(items)) => items,
        (Shape::Ok(inner), Value::Object(mut map)) => {
            apply_shape(*inner, map.remove("Ok").unwrap_or(Value::Null))
        }
        (Shape::Err, Value::Object(mut map)) => {
            let err = map.remove("Err").unwrap_or(Value::Null);
            vec![serde_json::json!({ "error": err })]
        }
        (_, value) => vec![value],
    }
}

/// What the top level of a value looks like.
#[derive(Debug)]
pub(super) enum Shape {
    Unit,
    Tuple,
    Ok(Box<Shape>),
    Err,
    Other,
}

/// A serializer that only looks at the first call it receives.
struct ShapeProbe;

/// Ignores the elements of a compound value and reports the shape decided at its start.
struct Skip(Shape);

macro_rules! other {
    ($($name:ident($($arg:ty),*);)*) => {
        $(fn $name(self, $(_: $arg),*) -> Result<Shape, Error> { Ok(Shape::Other) })*
    };
}

impl ser::Serializer for ShapeProbe {
    type Ok = Shape;
    type Error = Error;
    type SerializeSeq = Skip;
    type SerializeTuple = Skip;
    type SerializeTupleStruct = Skip;
    type SerializeTupleVariant = Skip;
    type SerializeMap = Skip;
    type SerializeStruct = Skip;
    type SerializeStructVariant = Skip;

    other! {
        serialize_bool(bool); serialize_i8(i8); serialize_i16(i16); serialize_i32(i32);
        serialize_i64(i64); serialize_i128(i128); serialize_u8(u8); serialize_u16(u16);
        serialize_u32(u32); serialize_u64(u64); serialize_u128(u128); serialize_f32(f32);
        serialize_f64(f64); serialize_char(char); serialize_str(&str); serialize_bytes(&[u8]);
        serialize_none(); serialize_unit_struct(&'static str);
        serialize_unit_variant(&'static str, u32, &'static str);
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Shape, Error> {
        Ok(Shape::Other)
    }
    fn serialize_unit(self) -> Result<Shape, Error> {
        // Not the type `()` (see `probe`): a unit-like value such as a JSON null.
        Ok(Shape::Other)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<Shape, Error> {
        Ok(Shape::Other)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Shape, Error> {
        Ok(match (name, variant) {
            ("Result", "Ok") => Shape::Ok(Box::new(probe(value)?)),
            ("Result", "Err") => Shape::Err,
            _ => Shape::Other,
        })
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Skip, Error> {
        Ok(Skip(Shape::Other))
    }
    fn serialize_tuple(self, _: usize) -> Result<Skip, Error> {
        Ok(Skip(Shape::Tuple))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Skip, Error> {
        Ok(Skip(Shape::Other))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Skip, Error> {
        Ok(Skip(Shape::Other))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Skip, Error> {
        Ok(Skip(Shape::Other))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Skip, Error> {
        Ok(Skip(Shape::Other))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Skip, Error> {
        Ok(Skip(Shape::Other))
    }
}

macro_rules! skip_compound {
    ($($trait:ident :: $method:ident ($($key:ident),*);)*) => {
        $(impl ser::$trait for Skip {
            type Ok = Shape;
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, $(_: $key,)* _: &T) -> Result<(), Error> {
                Ok(())
            }
            fn end(self) -> Result<Shape, Error> {
                Ok(self.0)
            }
        })*
    };
}

type Key = &'static str;
skip_compound! {
    SerializeSeq::serialize_element();
    SerializeTuple::serialize_element();
    SerializeTupleStruct::serialize_field();
    SerializeTupleVariant::serialize_field();
    SerializeStruct::serialize_field(Key);
    SerializeStructVariant::serialize_field(Key);
}

impl ser::SerializeMap for Skip {
    type Ok = Shape;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), Error> {
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), Error> {
        Ok(())
    }
    fn end(self) -> Result<Shape, Error> {
        Ok(self.0)
    }
}

/// Serializes to `serde_json::Value`, replacing byte strings with attachment placeholders.
pub(super) struct ValueSerializer<'a> {
    pub(super) attachments: &'a mut Vec<Bytes>,
}

fn placeholder(num: usize) -> Value {
    serde_json::json!({ "_placeholder": true, "num": num })
}

impl<'a> ser::Serializer for ValueSerializer<'a> {
    type Ok = Value;
    type Error = Error;
    type SerializeSeq = SeqSer<'a>;
    type SerializeTuple = SeqSer<'a>;
    type SerializeTupleStruct = SeqSer<'a>;
    type SerializeTupleVariant = SeqSer<'a>;
    type SerializeMap = MapSer<'a>;
    type SerializeStruct = MapSer<'a>;
    type SerializeStructVariant = MapSer<'a>;

    fn serialize_bool(self, v: bool) -> Result<Value, Error> {
        Ok(Value::Bool(v))
    }
    fn serialize_i8(self, v: i8) -> Result<Value, Error> {
        Ok(v.into())
    }
    fn serialize_i16(self, v: i16) -> Result<Value, Error> {
        Ok(v.into())
    }
    fn serialize_i32(self, v: i32) -> Result<Value, Error> {
        Ok(v.into())
    }
    fn serialize_i64(self, v: i64) -> Result<Value, Error> {
        Ok(v.into())
    }
    fn serialize_i128(self, v: i128) -> Result<Value, Error> {
        serde_json::to_value(v)
    }
    fn serialize_u8(self, v: u8) -> Result<Value, Error> {
        Ok(v.into())
    }
    fn serialize_u16(self, v: u16) -> Result<Value, Error> {
        Ok(v.into())
    }
    fn serialize_u32(self, v: u32) -> Result<Value, Error> {
        Ok(v.into())
    }
    fn serialize_u64(self, v: u64) -> Result<Value, Error> {
        Ok(v.into())
    }
    fn serialize_u128(self, v: u128) -> Result<Value, Error> {
        serde_json::to_value(v)
    }
    fn serialize_f32(self, v: f32) -> Result<Value, Error> {
        self.serialize_f64(f64::from(v))
    }
    fn serialize_f64(self, v: f64) -> Result<Value, Error> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn serialize_char(self, v: char) -> Result<Value, Error> {
        Ok(Value::String(v.to_string()))
    }
    fn serialize_str(self, v: &str) -> Result<Value, Error> {
        Ok(Value::String(v.to_owned()))
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<Value, Error> {
        self.attachments.push(Bytes::copy_from_slice(v));
        Ok(placeholder(self.attachments.len() - 1))
    }
    fn serialize_none(self) -> Result<Value, Error> {
        Ok(Value::Null)
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<Value, Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<Value, Error> {
        Ok(Value::Null)
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<Value, Error> {
        Ok(Value::Null)
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<Value, Error> {
        Ok(Value::String(variant.to_owned()))
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<Value, Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<Value, Error> {
        let mut map = Map::new();
        map.insert(variant.to_owned(), value.serialize(self)?);
        Ok(Value::Object(map))
    }
    fn serialize_seq(self, len: Option<usize>) -> Result<SeqSer<'a>, Error> {
        Ok(SeqSer {
            attachments: self.attachments,
            items: Vec::with_capacity(len.unwrap_or(0)),
            variant: None,
        })
    }
    fn serialize_tuple(self, len: usize) -> Result<SeqSer<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<SeqSer<'a>, Error> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<SeqSer<'a>, Error> {
        let mut seq = self.serialize_seq(Some(len))?;
        seq.variant = Some(variant);
        Ok(seq)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<MapSer<'a>, Error> {
        Ok(MapSer {
            attachments: self.attachments,
            map: Map::new(),
            key: None,
            variant: None,
        })
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Result<MapSer<'a>, Error> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<MapSer<'a>, Error> {
        let mut map = self.serialize_map(Some(len))?;
        map.variant = Some(variant);
        Ok(map)
    }
}

/// Wraps `value` as `{variant: value}` for enum variants.
fn wrap_variant(variant: Option<&'static str>, value: Value) -> Value {
    match variant {
        None => value,
        Some(name) => {
            let mut map = Map::new();
            map.insert(name.to_owned(), value);
            Value::Object(map)
        }
    }
}

/// Sequences, tuples and tuple variants.
pub(super) struct SeqSer<'a> {
    attachments: &'a mut Vec<Bytes>,
    items: Vec<Value>,
    variant: Option<&'static str>,
}

impl SeqSer<'_> {
    fn push<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let v = value.serialize(ValueSerializer {
            attachments: self.attachments,
        })?;
        self.items.push(v);
        Ok(())
    }
    fn finish(self) -> Result<Value, Error> {
        Ok(wrap_variant(self.variant, Value::Array(self.items)))
    }
}

macro_rules! seq_impl {
    ($($trait:ident :: $method:ident;)*) => {
        $(impl ser::$trait for SeqSer<'_> {
            type Ok = Value;
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.push(value)
            }
            fn end(self) -> Result<Value, Error> {
                self.finish()
            }
        })*
    };
}

seq_impl! {
    SerializeSeq::serialize_element;
    SerializeTuple::serialize_element;
    SerializeTupleStruct::serialize_field;
    SerializeTupleVariant::serialize_field;
}

/// Maps, structs and struct variants.
pub(super) struct MapSer<'a> {
    attachments: &'a mut Vec<Bytes>,
    map: Map<String, Value>,
    key: Option<String>,
    variant: Option<&'static str>,
}

impl MapSer<'_> {
    fn insert<T: Serialize + ?Sized>(&mut self, key: String, value: &T) -> Result<(), Error> {
        let v = value.serialize(ValueSerializer {
            attachments: self.attachments,
        })?;
        self.map.insert(key, v);
        Ok(())
    }
}

impl ser::SerializeMap for MapSer<'_> {
    type Ok = Value;
    type Error = Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.key = Some(match serde_json::to_value(key)? {
            Value::String(s) => s,
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            _ => {
                return Err(ser::Error::custom(
                    "map keys must be strings, numbers or booleans",
                ))
            }
        });
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        let key = self
            .key
            .take()
            .ok_or_else(|| <Error as ser::Error>::custom("map value without a key"))?;
        self.insert(key, value)
    }
    fn end(self) -> Result<Value, Error> {
        Ok(Value::Object(self.map))
    }
}

macro_rules! struct_impl {
    ($($trait:ident;)*) => {
        $(impl ser::$trait for MapSer<'_> {
            type Ok = Value;
            type Error = Error;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Error> {
                self.insert(key.to_owned(), value)
            }
            fn end(self) -> Result<Value, Error> {
                Ok(wrap_variant(self.variant, Value::Object(self.map)))
            }
        })*
    };
}

struct_impl! {
    SerializeStruct;
    SerializeStructVariant;
}
