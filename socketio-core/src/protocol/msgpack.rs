//! The packet format of socket.io-msgpack-parser 3.x (npm): each Socket.IO packet is one
//! msgpack map `{type, nsp, data?, id?}` sent as one binary Engine.IO message, as notepack.io
//! 2.x writes and reads it. There are no attachments and no BINARY_EVENT / BINARY_ACK types:
//! binary travels inside the map as msgpack `bin`.
//!
//! Arguments are converted to and from the JSON values of [`Args`] (binary as attachment
//! placeholders `{"_placeholder":true,"num":n}` beside the attachments), so argument
//! extraction is the same for both parsers. As with the default parser, a client object that
//! is exactly such a placeholder stands for the binary it names (or is an error when there is
//! none).
//!
//! What notepack.io gives the types msgpack has beyond JSON, and what we read them as:
//! - `bin` (a Node `Buffer`) and `ext` type 0 of the `ext 8/16/32` formats (an `ArrayBuffer` or
//!   typed array) are binary;
//! - `fixext 1` type 0 is JavaScript's `undefined`: a missing packet field, a `null` in an
//!   array, an object key left out (what `JSON.stringify` does with it);
//! - `fixext 8` type 0 is a `Date` (milliseconds since the epoch): we read it as the ISO 8601
//!   string `Date.prototype.toJSON` gives, as the default parser would have delivered it;
//! - any other extension is `[type, binary]` (notepack.io's own reading);
//! - `float 32/64` stay floats and integers stay integers (a float that is NaN or infinite
//!   reads as `null`, as in JSON);
//! - map keys are strings (a number or boolean key reads as its text, as a JavaScript object
//!   key would).
//!
//! Decoding never trusts a declared length: nothing is reserved before the bytes are there,
//! and nesting is bounded (128 levels).
//!
//! The public items are the same value codec for adapters that speak the Node packages'
//! msgpack (`@socket.io/redis-adapter`, `@socket.io/postgres-adapter`, the emitters: all
//! notepack.io): [`read_value`] / [`write_js_value`] for one value, and [`read_event_data`] /
//! [`write_event_data`] for an EVENT packet's `[event, ...args]`, straight between msgpack
//! and [`Args`].

use std::borrow::Cow;

use bytes::Bytes;
use rmp::Marker;
use serde_json::{Map, Number, Value};

use super::packet::{Packet, PacketData, PacketType, ParseError};
use crate::args::{number_name, Args};

/// How deeply arrays and maps may nest in a client packet (serde_json's limit for JSON text).
pub(crate) const MAX_DEPTH: usize = 128;

/// A malformed msgpack packet.
fn malformed(what: impl Into<String>) -> ParseError {
    ParseError::Msgpack(what.into())
}

/// One decoded value, or JavaScript's `undefined`.
enum Item {
    Value(Value),
    Undefined,
}

impl Item {
    /// `undefined` where a value is needed (an array element) reads as `null`.
    fn or_null(self) -> Value {
        match self {
            Item::Value(v) => v,
            Item::Undefined => Value::Null,
        }
    }
}

/// Reads msgpack values into JSON values, binary taken out as attachments.
struct Reader<'a> {
    src: &'a [u8],
    /// The buffer `src` is, when binary may be shared from it instead of copied.
    owner: Option<&'a Bytes>,
    pos: usize,
    attachments: Vec<Bytes>,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], ParseError> {
        let src: &'a [u8] = self.src;
        let end = self
            .pos
            .checked_add(n)
            .filter(|&end| end <= src.len())
            .ok_or_else(|| malformed("unexpected end of data"))?;
        let bytes = &src[self.pos..end];
        self.pos = end;
        Ok(bytes)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], ParseError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }

    fn u8(&mut self) -> Result<u8, ParseError> {
        Ok(self.take(1)?[0])
    }

    fn len16(&mut self) -> Result<usize, ParseError> {
        Ok(u16::from_be_bytes(self.array()?).into())
    }

    fn len32(&mut self) -> Result<usize, ParseError> {
        usize::try_from(u32::from_be_bytes(self.array()?)).map_err(|_| malformed("length"))
    }

    fn string(&mut self, len: usize) -> Result<String, ParseError> {
        let bytes = self.take(len)?;
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| malformed("a string is not valid UTF-8"))
    }

    /// `len` bytes as an attachment, represented by its placeholder.
    fn binary(&mut self, len: usize) -> Result<Value, ParseError> {
        let start = self.pos;
        let bytes = self.take(len)?;
        self.attachments.push(match self.owner {
            Some(owner) => owner.slice(start..start + len),
            None => Bytes::copy_from_slice(bytes),
        });
        Ok(placeholder(self.attachments.len() - 1))
    }

    /// An extension value of `len` bytes after its type byte (see the module docs).
    fn ext(&mut self, len: usize, fixed: bool) -> Result<Item, ParseError> {
        let ty = self.u8()? as i8;
        Ok(match (ty, fixed, len) {
            (0, false, _) => Item::Value(self.binary(len)?),
            (0, true, 1) => {
                self.take(1)?;
                Item::Undefined
            }
            (0, true, 8) => {
                let ms = i64::from_be_bytes(self.array()?);
                Item::Value(js_date_json(ms).map_or(Value::Null, Value::String))
            }
            _ => Item::Value(Value::Array(vec![Value::from(ty), self.binary(len)?])),
        })
    }

    fn value(&mut self, depth: usize) -> Result<Item, ParseError> {
        let number = |n: Option<Number>| Item::Value(n.map_or(Value::Null, Value::Number));
        Ok(match Marker::from_u8(self.u8()?) {
            Marker::Null => Item::Value(Value::Null),
            Marker::True => Item::Value(Value::Bool(true)),
            Marker::False => Item::Value(Value::Bool(false)),
            Marker::FixPos(n) => Item::Value(n.into()),
            Marker::FixNeg(n) => Item::Value(n.into()),
            Marker::U8 => Item::Value(self.u8()?.into()),
            Marker::U16 => Item::Value(u16::from_be_bytes(self.array()?).into()),
            Marker::U32 => Item::Value(u32::from_be_bytes(self.array()?).into()),
            Marker::U64 => Item::Value(u64::from_be_bytes(self.array()?).into()),
            Marker::I8 => Item::Value((self.u8()? as i8).into()),
            Marker::I16 => Item::Value(i16::from_be_bytes(self.array()?).into()),
            Marker::I32 => Item::Value(i32::from_be_bytes(self.array()?).into()),
            Marker::I64 => Item::Value(i64::from_be_bytes(self.array()?).into()),
            Marker::F32 => number(Number::from_f64(f32::from_be_bytes(self.array()?).into())),
            Marker::F64 => number(Number::from_f64(f64::from_be_bytes(self.array()?))),
            Marker::FixStr(n) => Item::Value(Value::String(self.string(n.into())?)),
            Marker::Str8 => {
                let len = self.u8()?.into();
                Item::Value(Value::String(self.string(len)?))
            }
            Marker::Str16 => {
                let len = self.len16()?;
                Item::Value(Value::String(self.string(len)?))
            }
            Marker::Str32 => {
                let len = self.len32()?;
                Item::Value(Value::String(self.string(len)?))
            }
            Marker::Bin8 => {
                let len = self.u8()?.into();
                Item::Value(self.binary(len)?)
            }
            Marker::Bin16 => {
                let len = self.len16()?;
                Item::Value(self.binary(len)?)
            }
            Marker::Bin32 => {
                let len = self.len32()?;
                Item::Value(self.binary(len)?)
            }
            Marker::FixExt1 => self.ext(1, true)?,
            Marker::FixExt2 => self.ext(2, true)?,
            Marker::FixExt4 => self.ext(4, true)?,
            Marker::FixExt8 => self.ext(8, true)?,
            Marker::FixExt16 => self.ext(16, true)?,
            Marker::Ext8 => {
                let len = self.u8()?.into();
                self.ext(len, false)?
            }
            Marker::Ext16 => {
                let len = self.len16()?;
                self.ext(len, false)?
            }
            Marker::Ext32 => {
                let len = self.len32()?;
                self.ext(len, false)?
            }
            Marker::FixArray(n) => Item::Value(self.seq(n.into(), depth)?),
            Marker::Array16 => {
                let len = self.len16()?;
                Item::Value(self.seq(len, depth)?)
            }
            Marker::Array32 => {
                let len = self.len32()?;
                Item::Value(self.seq(len, depth)?)
            }
            Marker::FixMap(n) => Item::Value(self.map(n.into(), depth)?),
            Marker::Map16 => {
                let len = self.len16()?;
                Item::Value(self.map(len, depth)?)
            }
            Marker::Map32 => {
                let len = self.len32()?;
                Item::Value(self.map(len, depth)?)
            }
            Marker::Reserved => return Err(malformed("reserved byte 0xc1")),
        })
    }

    /// Room for `len` items, but never more than the bytes left could hold (each item takes
    /// at least one byte), so a huge declared length reserves nothing it cannot fill.
    fn capacity(&self, len: usize) -> usize {
        len.min(self.src.len() - self.pos)
    }

    fn seq(&mut self, len: usize, depth: usize) -> Result<Value, ParseError> {
        let depth = deeper(depth)?;
        let mut items = Vec::with_capacity(self.capacity(len));
        for _ in 0..len {
            items.push(self.value(depth)?.or_null());
        }
        Ok(Value::Array(items))
    }

    fn map(&mut self, len: usize, depth: usize) -> Result<Value, ParseError> {
        let depth = deeper(depth)?;
        let mut map = Map::with_capacity(self.capacity(len) / 2);
        for _ in 0..len {
            let key = self.key(depth)?;
            if let Item::Value(value) = self.value(depth)? {
                map.insert(key, value);
            }
        }
        Ok(Value::Object(map))
    }

    /// A map key as a JavaScript object key: a string, or the text of a number or boolean.
    fn key(&mut self, depth: usize) -> Result<String, ParseError> {
        match self.value(depth)? {
            Item::Value(Value::String(s)) => Ok(s),
            Item::Value(Value::Number(n)) => Ok(number_name(&n)),
            Item::Value(Value::Bool(b)) => Ok(b.to_string()),
            _ => Err(malformed("a map key is not a string or a number")),
        }
    }
}

fn deeper(depth: usize) -> Result<usize, ParseError> {
    depth
        .checked_sub(1)
        .ok_or_else(|| malformed(format!("nested deeper than {MAX_DEPTH} levels")))
}

fn placeholder(num: usize) -> Value {
    serde_json::json!({ "_placeholder": true, "num": num })
}

/// `Date.prototype.toJSON` of the date `ms` milliseconds after the epoch
/// (`1970-01-01T00:00:00.000Z`; years beyond 0..=9999 as `+YYYYYY` / `-YYYYYY`); `None` for
/// an invalid date (beyond ±8.64e15 ms), which JSON writes as `null`.
pub(crate) fn js_date_json(ms: i64) -> Option<String> {
    if ms.unsigned_abs() > 8_640_000_000_000_000 {
        return None;
    }
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let year = match year {
        0..=9999 => format!("{year:04}"),
        y if y < 0 => format!("-{:06}", -y),
        y => format!("+{y:06}"),
    };
    let (h, m, s, milli) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    Some(format!(
        "{year}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z"
    ))
}

/// An integer, or a float without a fraction (JavaScript's `Number.isInteger`).
fn integer(value: &Value) -> Option<i128> {
    let Value::Number(n) = value else { return None };
    if let Some(u) = n.as_u64() {
        return Some(u.into());
    }
    if let Some(i) = n.as_i64() {
        return Some(i.into());
    }
    let f = n.as_f64()?;
    (f.fract() == 0.0 && f.abs() < 2f64.powi(64)).then_some(f as i128)
}

/// Decodes and validates one client packet (one binary Engine.IO message), as
/// socket.io-msgpack-parser's `checkPacket` does, plus our own rules of the default parser:
/// an event name is a string or a number and not a reserved name, an ACK has an id, a client
/// does not send CONNECT_ERROR. Unknown fields (socket.io-client's `options`) are ignored.
/// Binary in a CONNECT's auth object reads as an array of byte numbers (the auth is plain
/// JSON); elsewhere it becomes the [`Args`] attachments.
pub(crate) fn decode(src: &Bytes) -> Result<Packet, ParseError> {
    let mut rd = Reader {
        src,
        owner: Some(src),
        pos: 0,
        attachments: Vec::new(),
    };
    let len = match Marker::from_u8(rd.u8()?) {
        Marker::FixMap(n) => n.into(),
        Marker::Map16 => rd.len16()?,
        Marker::Map32 => rd.len32()?,
        _ => return Err(malformed("a packet is a msgpack map")),
    };
    let (mut kind, mut nsp, mut data, mut id) = (None, None, None, None);
    for _ in 0..len {
        let key = rd.key(MAX_DEPTH)?;
        let Item::Value(value) = rd.value(MAX_DEPTH)? else {
            continue; // undefined: absent
        };
        match key.as_str() {
            "type" => kind = Some(value),
            "nsp" => nsp = Some(value),
            "data" => data = Some(value),
            "id" => id = Some(value),
            _ => {}
        }
    }
    if rd.pos != src.len() {
        return Err(malformed(format!(
            "{} bytes after the packet",
            src.len() - rd.pos
        )));
    }

    let kind = match kind.as_ref().and_then(integer) {
        Some(0) => PacketType::Connect,
        Some(1) => PacketType::Disconnect,
        Some(2) => PacketType::Event,
        Some(3) => PacketType::Ack,
        Some(4) => return Err(ParseError::ClientConnectError),
        _ => return Err(ParseError::UnknownType),
    };
    let ns = match nsp {
        Some(Value::String(ns)) if ns == "/" => Cow::Borrowed("/"),
        Some(Value::String(ns)) => Cow::Owned(ns),
        _ => return Err(ParseError::Namespace),
    };
    let id = match id {
        None => None,
        Some(v) => Some(
            integer(&v)
                .and_then(|n| u64::try_from(n).ok())
                .ok_or(ParseError::AckId)?,
        ),
    };
    let data = match (kind, data) {
        (PacketType::Connect, None) => PacketData::Connect(None),
        (PacketType::Connect, Some(mut auth @ Value::Object(_))) => {
            inline_binary(&mut auth, &rd.attachments);
            PacketData::Connect(Some(auth))
        }
        (PacketType::Disconnect, None) => PacketData::Disconnect,
        (PacketType::Event, Some(Value::Array(mut items))) if !items.is_empty() => {
            let name = match items.remove(0) {
                Value::String(name) => name,
                Value::Number(n) => number_name(&n),
                _ => return Err(ParseError::Payload),
            };
            let name = super::packet::event_name(name)?;
            PacketData::Event(name, Args::new(items, rd.attachments))
        }
        (PacketType::Ack, Some(Value::Array(items))) if id.is_some() => {
            PacketData::Ack(Args::new(items, rd.attachments))
        }
        _ => return Err(ParseError::Payload),
    };
    Ok(Packet {
        kind,
        ns,
        id,
        attachments: 0,
        data,
    })
}

/// Replaces attachment placeholders with arrays of byte numbers (what `serde_json::Value`
/// makes of binary).
fn inline_binary(value: &mut Value, attachments: &[Bytes]) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(|v| inline_binary(v, attachments)),
        Value::Object(map) => {
            if let Some(bytes) = placeholder_index(map).and_then(|n| attachments.get(n)) {
                *value = Value::Array(bytes.iter().map(|&b| Value::from(b)).collect());
            } else {
                map.values_mut().for_each(|v| inline_binary(v, attachments));
            }
        }
        _ => {}
    }
}

/// The attachment number of a placeholder object (as `args::de` recognizes it).
fn placeholder_index(map: &Map<String, Value>) -> Option<usize> {
    if map.len() == 2 && map.get("_placeholder") == Some(&Value::Bool(true)) {
        map.get("num")?
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
    } else {
        None
    }
}

/// Writes `value` as msgpack, each attachment placeholder as `bin` with its attachment's
/// bytes. Integers take the smallest integer format, other numbers `float 64` (as notepack.io
/// writes a non-integer), so a Rust `f64` stays a float for a client that tells them apart.
pub(crate) fn write_value(out: &mut Vec<u8>, value: &Value, attachments: &[Bytes]) {
    write_value_as(out, value, attachments, Floats::Kept);
}

/// How [`write_value_as`] writes a float with no fraction.
#[derive(Clone, Copy, PartialEq)]
enum Floats {
    /// As `float 64`: a Rust `f64` stays a float.
    Kept,
    /// As an integer when it is one below 2^53, as notepack.io writes a JavaScript number
    /// (which does not tell `2.0` from `2`).
    JavaScript,
}

fn write_value_as(out: &mut Vec<u8>, value: &Value, attachments: &[Bytes], floats: Floats) {
    use rmp::encode;
    // Writing into a Vec cannot fail, hence the ignored results.
    match value {
        Value::Null => {
            let _ = encode::write_nil(out);
        }
        Value::Bool(b) => {
            let _ = encode::write_bool(out, *b);
        }
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                let _ = encode::write_uint(out, u);
            } else if let Some(i) = n.as_i64() {
                let _ = encode::write_sint(out, i);
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                if floats == Floats::JavaScript && f.fract() == 0.0 && f.abs() < 9.0e15 {
                    let _ = encode::write_sint(out, f as i64);
                } else {
                    let _ = encode::write_f64(out, f);
                }
            }
        }
        Value::String(s) => {
            let _ = encode::write_str(out, s);
        }
        Value::Array(items) => {
            let _ = encode::write_array_len(out, len32(items.len()));
            for item in items {
                write_value_as(out, item, attachments, floats);
            }
        }
        Value::Object(map) => {
            if let Some(bytes) = placeholder_index(map).and_then(|n| attachments.get(n)) {
                let _ = encode::write_bin(out, bytes);
                return;
            }
            let _ = encode::write_map_len(out, len32(map.len()));
            for (k, v) in map {
                let _ = encode::write_str(out, k);
                write_value_as(out, v, attachments, floats);
            }
        }
    }
}

fn len32(len: usize) -> u32 {
    // A message is bounded far below 4 GiB; a longer list could not be sent anyway.
    u32::try_from(len).unwrap_or(u32::MAX)
}

/// The fixmap header and the `type` and `nsp` fields that start every packet we write:
/// `{type, nsp, data?, id?}` with `fields` entries in all.
fn write_head(out: &mut Vec<u8>, kind: PacketType, ns: &str, fields: u8) {
    let kind = match kind {
        PacketType::BinaryEvent => PacketType::Event,
        PacketType::BinaryAck => PacketType::Ack,
        other => other,
    };
    out.push(0x80 | fields);
    let _ = rmp::encode::write_str(out, "type");
    let _ = rmp::encode::write_pfix(out, kind as u8);
    let _ = rmp::encode::write_str(out, "nsp");
    let _ = rmp::encode::write_str(out, ns);
}

fn write_id(out: &mut Vec<u8>, id: u64) {
    let _ = rmp::encode::write_str(out, "id");
    let _ = rmp::encode::write_uint(out, id);
}

/// Encodes a packet with an already-built payload (`data` with attachment placeholders, their
/// bytes in `attachments`).
pub(crate) fn encode(
    kind: PacketType,
    ns: &str,
    id: Option<u64>,
    data: Option<&Value>,
    attachments: &[Bytes],
) -> Bytes {
    let fields = 2 + u8::from(data.is_some()) + u8::from(id.is_some());
    let mut out = Vec::with_capacity(32);
    write_head(&mut out, kind, ns, fields);
    if let Some(data) = data {
        let _ = rmp::encode::write_str(&mut out, "data");
        write_value(&mut out, data, attachments);
    }
    if let Some(id) = id {
        write_id(&mut out, id);
    }
    out.into()
}

/// Encodes an EVENT: `data` is `[name, ...args]`.
pub(crate) fn encode_event(
    ns: &str,
    name: &str,
    args: &[Value],
    attachments: &[Bytes],
    id: Option<u64>,
) -> Bytes {
    let mut out = Vec::with_capacity(64 + name.len());
    write_head(&mut out, PacketType::Event, ns, 3 + u8::from(id.is_some()));
    let _ = rmp::encode::write_str(&mut out, "data");
    let _ = rmp::encode::write_array_len(&mut out, len32(args.len() + 1));
    let _ = rmp::encode::write_str(&mut out, name);
    for arg in args {
        write_value(&mut out, arg, attachments);
    }
    if let Some(id) = id {
        write_id(&mut out, id);
    }
    out.into()
}

/// The same EVENT (as [`encode_event`] writes it, without an id) with ack id `id` added: the
/// map gets a fourth field at its end, so a broadcast with acks is encoded once and only the
/// id is added per socket. `None` when `packet` is not such an EVENT.
pub(crate) fn with_ack_id(packet: &[u8], id: u64) -> Option<Bytes> {
    // fixmap of 3, "type": 2
    const EVENT_HEAD: [u8; 7] = [0x83, 0xa4, b't', b'y', b'p', b'e', 2];
    if !packet.starts_with(&EVENT_HEAD) {
        return None;
    }
    let mut out = Vec::with_capacity(packet.len() + 12);
    out.push(0x84);
    out.extend_from_slice(&packet[1..]);
    write_id(&mut out, id);
    Some(out.into())
}

/// Malformed msgpack given to [`read_value`] or [`read_event_data`]: what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct MsgpackError(String);

impl From<ParseError> for MsgpackError {
    fn from(e: ParseError) -> Self {
        MsgpackError(e.to_string())
    }
}

/// Reads the one msgpack value at the start of `src` (as notepack.io writes it: see the
/// [module docs](self) for what each msgpack type reads as) into a JSON value with binary
/// taken out as attachments (placeholders `{"_placeholder":true,"num":n}` in the value, as in
/// [`Args`]). Returns the value, the attachments (copied out of `src`) and how many bytes of
/// `src` it took; bytes after it are left alone. A top-level `undefined` reads as `null`.
///
/// # Errors
/// When `src` does not start with a whole msgpack value, a string is not UTF-8, a map key
/// is not a string or number, or nesting goes deeper than 128 levels.
///
/// ```
/// use socketio_core::protocol::msgpack::read_value;
/// // {"a": <bin 1 2>} then a trailing byte
/// let (value, attachments, used) = read_value(&[0x81, 0xa1, b'a', 0xc4, 2, 1, 2, 0xc0]).unwrap();
/// assert_eq!(value, serde_json::json!({"a": {"_placeholder": true, "num": 0}}));
/// assert_eq!(attachments[0].as_ref(), &[1, 2]);
/// assert_eq!(used, 7);
/// ```
pub fn read_value(src: &[u8]) -> Result<(Value, Vec<Bytes>, usize), MsgpackError> {
    let mut rd = Reader {
        src,
        owner: None,
        pos: 0,
        attachments: Vec::new(),
    };
    let value = rd.value(MAX_DEPTH)?.or_null();
    Ok((value, rd.attachments, rd.pos))
}

/// Reads the `data` of an EVENT packet as the Node adapters carry it (socket.io-parser's
/// packet object before encoding, in msgpack: the array `[event, ...arguments]` with binary
/// inline) at the start of `src`, into the event name and [`Args`] (binary as attachments).
/// Returns them and how many bytes of `src` the array took. An event name that is a number
/// reads as its text (as the default parser reads `42[1]`).
///
/// This is the receiving half of an adapter that forwards broadcasts between Node and Rust
/// nodes: the arguments go from msgpack to [`Args`] in one pass, ready for
/// [`crate::adapter::EncodedPacket::event`].
///
/// # Errors
/// As [`read_value`], and when the value is not a non-empty array whose first item is a
/// string or a number.
///
/// ```
/// use socketio_core::protocol::msgpack::{read_event_data, write_event_data};
/// let args = socketio_core::Args::from_serialize(&("hi", 2)).unwrap();
/// let mut bytes = Vec::new();
/// write_event_data(&mut bytes, "news", &args);
/// let (event, back, used) = read_event_data(&bytes).unwrap();
/// assert_eq!((event.as_str(), used), ("news", bytes.len()));
/// assert_eq!(back.decode::<(String, u32)>().unwrap(), ("hi".to_owned(), 2));
/// ```
pub fn read_event_data(src: &[u8]) -> Result<(String, Args, usize), MsgpackError> {
    let (value, attachments, used) = read_value(src)?;
    let not_event = || MsgpackError("an event is a non-empty array [name, ...args]".into());
    let Value::Array(mut items) = value else {
        return Err(not_event());
    };
    if items.is_empty() {
        return Err(not_event());
    }
    let name = match items.remove(0) {
        Value::String(name) => name,
        Value::Number(n) => number_name(&n),
        _ => return Err(not_event()),
    };
    Ok((name, Args::new(items, attachments), used))
}

/// Writes `value` as notepack.io would write the same JavaScript value: attachment
/// placeholders as `bin` with the bytes of their attachment in `attachments`, numbers with no
/// fraction (below 2^53) as the smallest integer, other numbers as `float 64`, strings, arrays
/// and maps in their smallest form, map keys in order. The writing half of [`read_value`].
pub fn write_js_value(out: &mut Vec<u8>, value: &Value, attachments: &[Bytes]) {
    write_value_as(out, value, attachments, Floats::JavaScript);
}

/// Writes an EVENT packet's `data` as the Node adapters carry it: the msgpack array
/// `[event, ...arguments]`, binary inline, each value as [`write_js_value`] writes it. The
/// sending half of [`read_event_data`].
pub fn write_event_data(out: &mut Vec<u8>, event: &str, args: &Args) {
    let values = args.values();
    let _ = rmp::encode::write_array_len(out, len32(values.len() + 1));
    let _ = rmp::encode::write_str(out, event);
    for value in values {
        write_js_value(out, value, args.attachments());
    }
}

#[cfg(test)]
mod tests;
