//! The two encodings Node uses on the wire, over one dynamic value type ([`rmpv::Value`]):
//! msgpack as `notepack.io` 3.x (and `@msgpack/msgpack` 2.8) writes it, and JSON as
//! `JSON.stringify` writes it.

use rmpv::Value;

use super::WireError;

/// How deep nested arrays/maps may go in a decoded message (the decoder counts two steps per
/// level, so this is about 128 levels of nesting, like `serde_json`'s own limit).
const MAX_MSGPACK_DEPTH: usize = 256;

/// Decodes one message the way the Node adapters do: a first byte `{` (0x7b) means JSON,
/// anything else msgpack. Map key order is kept.
pub fn decode_any(bytes: &[u8]) -> Result<Value, WireError> {
    if bytes.first() == Some(&b'{') {
        serde_json::from_slice(bytes).map_err(WireError::Json)
    } else {
        decode_msgpack(bytes)
    }
}

/// Decodes exactly one msgpack value; trailing bytes are an error (as in notepack.io).
pub fn decode_msgpack(bytes: &[u8]) -> Result<Value, WireError> {
    let mut rd = bytes;
    let value = rmpv::decode::read_value_with_max_depth(&mut rd, MAX_MSGPACK_DEPTH)
        .map_err(WireError::Msgpack)?;
    if !rd.is_empty() {
        return Err(WireError::TrailingBytes(rd.len()));
    }
    Ok(value)
}

/// msgpack bytes for `value`. `rmpv` picks the smallest representation for each integer,
/// string, binary, array and map length, as notepack.io does, and writes `F64` as float 64
/// (notepack.io writes every non-integer number that way), so a value decoded from Node's
/// bytes re-encodes to the same bytes.
pub fn encode_msgpack(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = rmpv::encode::write_value(&mut out, value);
    out
}

/// JSON bytes for `value`, as `JSON.stringify` writes the same JavaScript value: no
/// whitespace, keys in order, binary as `{"type":"Buffer","data":[..]}` (what
/// `Buffer.prototype.toJSON` gives), integral floats without a fraction, NaN and infinities
/// as `null`.
pub fn encode_json(value: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_json(value, &mut out);
    out
}

fn write_json_str(s: &str, out: &mut Vec<u8>) {
    // serde_json escapes exactly what JSON.stringify escapes for a valid UTF-8 string.
    let _ = serde_json::to_writer(&mut *out, s);
}

fn write_json_f64(x: f64, out: &mut Vec<u8>) {
    if !x.is_finite() {
        out.extend_from_slice(b"null");
    } else if x == 0.0 {
        out.push(b'0');
    } else if x.fract() == 0.0 && x.abs() < 1e21 {
        out.extend_from_slice(format!("{x:.0}").as_bytes());
    } else {
        // Shortest round-trip digits; JavaScript may choose exponent notation where Rust
        // does not, which parses to the same number.
        out.extend_from_slice(format!("{x}").as_bytes());
    }
}

fn write_json(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Nil | Value::Ext(..) => out.extend_from_slice(b"null"),
        Value::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Value::F32(x) => write_json_f64(f64::from(*x), out),
        Value::F64(x) => write_json_f64(*x, out),
        Value::String(s) => match s.as_str() {
            Some(s) => write_json_str(s, out),
            None => write_json_str(&String::from_utf8_lossy(s.as_bytes()), out),
        },
        Value::Binary(bytes) => {
            out.extend_from_slice(b"{\"type\":\"Buffer\",\"data\":[");
            for (i, b) in bytes.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.extend_from_slice(b.to_string().as_bytes());
            }
            out.extend_from_slice(b"]}");
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(item, out);
            }
            out.push(b']');
        }
        Value::Map(entries) => {
            out.push(b'{');
            for (i, (k, v)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                match k {
                    Value::String(_) => write_json(k, out),
                    // JavaScript object keys are strings: other keys are written as their text.
                    other => {
                        let text = String::from_utf8_lossy(&encode_json(other)).into_owned();
                        write_json_str(&text, out);
                    }
                }
                out.push(b':');
                write_json(v, out);
            }
            out.push(b'}');
        }
    }
}

/// Whether `value` holds binary anywhere (the adapters' `hasBinary`).
pub fn has_binary(value: &Value) -> bool {
    match value {
        Value::Binary(_) => true,
        Value::Array(items) => items.iter().any(has_binary),
        Value::Map(entries) => entries.iter().any(|(_, v)| has_binary(v)),
        _ => false,
    }
}

/// A map with string keys, built in order (the order Node's objects keep).
///
/// ```
/// use socketio_core::node_compat::{encode_json, MapBuilder};
/// let v = MapBuilder::default().put("a", 1).put_opt("b", None::<u8>).build();
/// assert_eq!(encode_json(&v), br#"{"a":1}"#);
/// ```
#[derive(Default)]
pub struct MapBuilder(Vec<(Value, Value)>);

impl MapBuilder {
    /// Adds `key` with `value`.
    pub fn put(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.push((Value::from(key), value.into()));
        self
    }

    /// Adds `key` only when `value` is `Some` (a JavaScript `undefined` property is left out
    /// by both JSON.stringify and notepack.io).
    pub fn put_opt(self, key: &str, value: Option<impl Into<Value>>) -> Self {
        match value {
            Some(v) => self.put(key, v),
            None => self,
        }
    }

    /// The map.
    pub fn build(self) -> Value {
        Value::Map(self.0)
    }
}

/// An array of strings.
pub fn strings(list: &[String]) -> Value {
    Value::Array(list.iter().map(|s| Value::from(s.as_str())).collect())
}

/// Read access to a decoded map with string keys, with errors naming the field.
///
/// ```
/// use socketio_core::node_compat::{decode_any, Obj};
/// let v = decode_any(br#"{"type":2,"rooms":["a"]}"#).unwrap();
/// let o = Obj::new(&v, "request").unwrap();
/// assert_eq!(o.u64("type").unwrap(), 2);
/// assert_eq!(o.strings("rooms").unwrap(), ["a"]);
/// assert!(o.str("uid").is_err());
/// ```
#[derive(Clone, Copy)]
pub struct Obj<'a> {
    entries: &'a [(Value, Value)],
    what: &'static str,
}

impl<'a> Obj<'a> {
    /// `value` as a map; `what` names it in errors (`"packet"`, `"opts"`, ...).
    ///
    /// # Errors
    /// [`WireError::Shape`] when `value` is not a map.
    pub fn new(value: &'a Value, what: &'static str) -> Result<Self, WireError> {
        match value {
            Value::Map(entries) => Ok(Obj { entries, what }),
            _ => Err(WireError::shape(what, "an object")),
        }
    }

    /// The value of `key`, if present.
    pub fn get(&self, key: &str) -> Option<&'a Value> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// Whether `key` is present.
    pub fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    fn field_err(&self, key: &'static str, expected: &'static str) -> WireError {
        WireError::Shape {
            what: self.what,
            field: key,
            expected,
        }
    }

    /// The value of `key`; an error names the field when it is absent.
    ///
    /// # Errors
    /// [`WireError::Shape`] when `key` is absent (so are the errors of the typed getters
    /// below when the value has another type).
    pub fn req(&self, key: &'static str) -> Result<&'a Value, WireError> {
        self.get(key).ok_or(self.field_err(key, "present"))
    }

    /// `key` as a string.
    pub fn str(&self, key: &'static str) -> Result<String, WireError> {
        self.req(key)?
            .as_str()
            .map(str::to_owned)
            .ok_or(self.field_err(key, "a string"))
    }

    /// `key` as a string, `None` when absent.
    pub fn opt_str(&self, key: &'static str) -> Result<Option<String>, WireError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_str()
                .map(|s| Some(s.to_owned()))
                .ok_or(self.field_err(key, "a string")),
        }
    }

    /// `key` as a non-negative integer (a float without a fraction counts).
    pub fn u64(&self, key: &'static str) -> Result<u64, WireError> {
        as_u64(self.req(key)?).ok_or(self.field_err(key, "a non-negative integer"))
    }

    /// Like [`Obj::u64`], `None` when absent.
    pub fn opt_u64(&self, key: &'static str) -> Result<Option<u64>, WireError> {
        self.get(key)
            .map(|v| as_u64(v).ok_or(self.field_err(key, "a non-negative integer")))
            .transpose()
    }

    /// `key` as a boolean; absent, `null` and `undefined` read as `false` (JavaScript falsy).
    pub fn flag(&self, key: &'static str) -> Result<bool, WireError> {
        match self.get(key) {
            None | Some(Value::Nil) => Ok(false),
            Some(Value::Boolean(b)) => Ok(*b),
            Some(_) => Err(self.field_err(key, "a boolean")),
        }
    }

    /// `key` as an array of strings.
    pub fn strings(&self, key: &'static str) -> Result<Vec<String>, WireError> {
        let err = || self.field_err(key, "an array of strings");
        let items = self.req(key)?.as_array().ok_or_else(err)?;
        items
            .iter()
            .map(|v| v.as_str().map(str::to_owned).ok_or_else(err))
            .collect()
    }

    /// Like [`Obj::strings`], but an absent key reads as an empty list (`new Set(undefined)`).
    pub fn strings_or_empty(&self, key: &'static str) -> Result<Vec<String>, WireError> {
        if self.has(key) {
            self.strings(key)
        } else {
            Ok(Vec::new())
        }
    }

    /// `key` as an array.
    pub fn array(&self, key: &'static str) -> Result<&'a Vec<Value>, WireError> {
        self.req(key)?
            .as_array()
            .ok_or(self.field_err(key, "an array"))
    }
}

/// An integer, or a float with no fraction (JSON numbers and JavaScript numbers do not tell
/// them apart).
fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::F64(x) if x.fract() == 0.0 && *x >= 0.0 && *x < 2f64.powi(64) => Some(*x as u64),
        _ => v.as_u64(),
    }
}
