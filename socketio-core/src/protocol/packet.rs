//! The Socket.IO v5 packet format: `<type>[<attachments>-][<namespace>,][<ack id>][<json>]`.

use serde_json::Value;

use crate::args::{Args, RawArgs};
use crate::engine::packet::Frame;

/// Socket.IO packet types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PacketType {
    Connect = 0,
    Disconnect = 1,
    Event = 2,
    Ack = 3,
    ConnectError = 4,
    BinaryEvent = 5,
    BinaryAck = 6,
}

impl PacketType {
    fn from_char(c: u8) -> Option<Self> {
        Some(match c {
            b'0' => PacketType::Connect,
            b'1' => PacketType::Disconnect,
            b'2' => PacketType::Event,
            b'3' => PacketType::Ack,
            b'4' => PacketType::ConnectError,
            b'5' => PacketType::BinaryEvent,
            b'6' => PacketType::BinaryAck,
            _ => return None,
        })
    }

    fn is_binary(self) -> bool {
        matches!(self, PacketType::BinaryEvent | PacketType::BinaryAck)
    }
}

/// Why a packet from a client was rejected. Any of these closes the connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ParseError {
    #[error("empty packet")]
    Empty,
    #[error("unknown packet type")]
    UnknownType,
    #[error("invalid attachment count")]
    Attachments,
    #[error("invalid ack id")]
    AckId,
    #[error("invalid JSON payload: {0}")]
    Json(String),
    #[error("invalid payload for this packet type")]
    Payload,
    #[error("a client may not send CONNECT_ERROR")]
    ClientConnectError,
    #[error("invalid namespace")]
    Namespace,
    #[error("invalid msgpack packet: {0}")]
    Msgpack(String),
}

/// Upper bound on attachments announced by one packet (their total size is bounded too, see
/// `ServerCore::max_attachment_bytes`).
const MAX_ATTACHMENTS: usize = 256;

/// A decoded client packet.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Packet {
    pub(crate) kind: PacketType,
    /// The namespace path (the main one without allocating).
    pub(crate) ns: std::borrow::Cow<'static, str>,
    pub(crate) id: Option<u64>,
    pub(crate) attachments: usize,
    pub(crate) data: PacketData,
}

/// The validated payload of a client packet.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PacketData {
    /// CONNECT: the optional auth object.
    Connect(Option<Value>),
    /// DISCONNECT: nothing.
    Disconnect,
    /// EVENT / BINARY_EVENT: the event name and its arguments (attachments not yet added).
    Event(String, Args),
    /// ACK / BINARY_ACK: the arguments (attachments not yet added).
    Ack(Args),
}

/// Event names a client may not send: they name the framework's own events
/// (socket.io-parser's `RESERVED_EVENTS`; its decoder refuses an EVENT packet with one of them
/// as an invalid payload, and so does ours).
pub(crate) const RESERVED_EVENTS: [&str; 6] = [
    "connect",
    "connect_error",
    "disconnect",
    "disconnecting",
    "newListener",
    "removeListener",
];

/// Refuses a reserved event name (see [`RESERVED_EVENTS`]).
pub(crate) fn event_name(name: String) -> Result<String, ParseError> {
    if RESERVED_EVENTS.contains(&name.as_str()) {
        return Err(ParseError::Payload);
    }
    Ok(name)
}

impl Packet {
    /// Decodes and validates one packet received in an Engine.IO message.
    pub(crate) fn decode(text: &str) -> Result<Packet, ParseError> {
        let bytes = text.as_bytes();
        let kind = PacketType::from_char(*bytes.first().ok_or(ParseError::Empty)?)
            .ok_or(ParseError::UnknownType)?;
        let mut rest = &text[1..];

        let mut attachments = 0;
        if kind.is_binary() {
            let dash = rest.find('-').ok_or(ParseError::Attachments)?;
            attachments = rest[..dash]
                .parse::<usize>()
                .map_err(|_| ParseError::Attachments)?;
            if attachments > MAX_ATTACHMENTS {
                return Err(ParseError::Attachments);
            }
            rest = &rest[dash + 1..];
        }

        let mut ns = "/";
        let mut query = None;
        if rest.starts_with('/') {
            let end = rest.find(',').unwrap_or(rest.len());
            ns = &rest[..end];
            rest = rest.get(end + 1..).unwrap_or("");
            // Socket.IO v4 clients append the namespace query: `0/admin?token=abc,`.
            if let Some((path, q)) = ns.split_once('?') {
                ns = path;
                query = Some(q);
            }
        }

        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let id = if digits > 0 {
            Some(
                rest[..digits]
                    .parse::<u64>()
                    .map_err(|_| ParseError::AckId)?,
            )
        } else {
            None
        };
        rest = &rest[digits..];

        let data = match kind {
            PacketType::Connect => match parse_json(rest)? {
                None => PacketData::Connect(query.map(query_object)),
                Some(v @ Value::Object(_)) => PacketData::Connect(Some(v)),
                Some(_) => return Err(ParseError::Payload),
            },
            PacketType::Disconnect => PacketData::Disconnect,
            // Text packets keep their arguments as JSON text, read straight into the handler's
            // types later; binary ones need values to find the attachment placeholders.
            PacketType::Event if is_array(rest) => {
                let mut raw = RawArgs::parse(rest).map_err(json_error)?;
                let name = raw.take_name().ok_or(ParseError::Payload)?;
                PacketData::Event(event_name(name)?, Args::from_raw(raw))
            }
            PacketType::Ack if is_array(rest) && id.is_some() => {
                PacketData::Ack(Args::from_raw(RawArgs::parse(rest).map_err(json_error)?))
            }
            PacketType::BinaryEvent => match parse_json(rest)? {
                Some(Value::Array(mut items)) if !items.is_empty() => {
                    let name = match items.remove(0) {
                        Value::String(name) => name,
                        Value::Number(n) => crate::args::number_name(&n),
                        _ => return Err(ParseError::Payload),
                    };
                    PacketData::Event(event_name(name)?, Args::new(items, Vec::new()))
                }
                _ => return Err(ParseError::Payload),
            },
            PacketType::BinaryAck => match (parse_json(rest)?, id) {
                (Some(Value::Array(items)), Some(_)) => {
                    PacketData::Ack(Args::new(items, Vec::new()))
                }
                _ => return Err(ParseError::Payload),
            },
            PacketType::Event | PacketType::Ack => return Err(ParseError::Payload),
            PacketType::ConnectError => return Err(ParseError::ClientConnectError),
        };
        Ok(Packet {
            kind,
            ns: match ns {
                "/" => std::borrow::Cow::Borrowed("/"),
                other => std::borrow::Cow::Owned(other.to_owned()),
            },
            id,
            attachments,
            data,
        })
    }
}

/// Whether a JSON payload is an array (JSON allows whitespace before it).
fn is_array(json: &str) -> bool {
    json.trim_start_matches([' ', '\t', '\n', '\r'])
        .starts_with('[')
}

/// The JSON payload of a packet, if it has one.
fn parse_json(rest: &str) -> Result<Option<Value>, ParseError> {
    if rest.is_empty() {
        return Ok(None);
    }
    serde_json::from_str(rest).map(Some).map_err(json_error)
}

fn json_error(e: serde_json::Error) -> ParseError {
    ParseError::Json(e.to_string())
}

/// A namespace query string as a JSON object of strings: Socket.IO v4's stand-in for `auth`.
fn query_object(query: &str) -> Value {
    Value::Object(
        form_urlencoded::parse(query.as_bytes())
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect(),
    )
}

/// Writes `4` (the Engine.IO message type) and a packet header into `out`.
fn write_header(
    out: &mut Vec<u8>,
    kind: PacketType,
    ns: &str,
    attachments: usize,
    id: Option<u64>,
) {
    let kind = if attachments > 0 {
        match kind {
            PacketType::Event => PacketType::BinaryEvent,
            PacketType::Ack => PacketType::BinaryAck,
            other => other,
        }
    } else {
        kind
    };
    out.push(b'4');
    out.push(b'0' + kind as u8);
    if attachments > 0 {
        push_decimal(out, attachments as u64);
        out.push(b'-');
    }
    if ns != "/" {
        out.extend_from_slice(ns.as_bytes());
        out.push(b',');
    }
    if let Some(id) = id {
        push_decimal(out, id);
    }
}

/// Appends `n` in decimal: what `write!(out, "{n}")` writes, without the formatting machinery
/// (every ack and every packet with attachments has a number in its header).
fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Encodes a whole packet (engine prefix included) with an already-built JSON payload.
pub(crate) fn encode(
    kind: PacketType,
    ns: &str,
    attachments: usize,
    id: Option<u64>,
    data: Option<&Value>,
) -> String {
    let mut out = Vec::with_capacity(32);
    write_header(&mut out, kind, ns, attachments, id);
    if let Some(data) = data {
        // Writing a `Value` to a Vec cannot fail.
        let _ = serde_json::to_writer(&mut out, data);
    }
    into_string(out)
}

/// Encodes an EVENT (or BINARY_EVENT): `[name, ...args]`.
pub(crate) fn encode_event(
    ns: &str,
    name: &str,
    args: &[Value],
    attachments: usize,
    id: Option<u64>,
) -> String {
    let mut out = Vec::with_capacity(32 + name.len());
    write_header(&mut out, PacketType::Event, ns, attachments, id);
    out.push(b'[');
    let _ = serde_json::to_writer(&mut out, name);
    for arg in args {
        out.push(b',');
        let _ = serde_json::to_writer(&mut out, arg);
    }
    out.push(b']');
    into_string(out)
}

/// Encodes an EVENT straight from serializable data when it holds no binary (the fast path,
/// no intermediate values); `Ok(None)` when it needs the general path.
pub(crate) fn encode_event_data<T: serde::Serialize + ?Sized>(
    ns: &str,
    name: &str,
    data: &T,
) -> Result<Option<String>, serde_json::Error> {
    let mut out = Vec::with_capacity(128 + name.len());
    write_header(&mut out, PacketType::Event, ns, 0, None);
    out.push(b'[');
    serde_json::to_writer(&mut out, name)?;
    let args_at = out.len();
    if !crate::args::write_json_args(&mut out, data)? {
        return Ok(None);
    }
    if out.len() == args_at + 2 {
        // no arguments: `["name"]`
        out.truncate(args_at);
        out.push(b']');
    } else {
        // `["name"` + `[a,b]` → `["name",a,b]`
        out[args_at] = b',';
    }
    Ok(Some(into_string(out)))
}

/// Encodes an ACK straight from serializable data (see [`encode_event_data`]).
pub(crate) fn encode_ack_data<T: serde::Serialize + ?Sized>(
    ns: &str,
    id: u64,
    data: &T,
) -> Result<Option<String>, serde_json::Error> {
    let mut out = Vec::with_capacity(128);
    write_header(&mut out, PacketType::Ack, ns, 0, Some(id));
    if !crate::args::write_json_args(&mut out, data)? {
        return Ok(None);
    }
    Ok(Some(into_string(out)))
}

/// The same encoded packet (engine prefix included, as [`encode_event`] writes it) with ack id
/// `id` inserted after its header: what lets a broadcast that asks each socket for an ack be
/// encoded once and only have the id spliced in per socket. `None` when `text` is not an
/// encoded EVENT/BINARY_EVENT without an id.
pub(crate) fn with_ack_id(text: &str, id: u64) -> Option<String> {
    use std::fmt::Write as _;
    let bytes = text.as_bytes();
    if bytes.first() != Some(&b'4') {
        return None;
    }
    let mut at = 2;
    match bytes.get(1) {
        Some(b'2') => {}
        Some(b'5') => at += text[2..].find('-')? + 1,
        _ => return None,
    }
    if bytes.get(at) == Some(&b'/') {
        at += text[at..].find(',')? + 1;
    }
    if bytes.get(at) != Some(&b'[') {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 20);
    out.push_str(&text[..at]);
    let _ = write!(out, "{id}");
    out.push_str(&text[at..]);
    Some(out)
}

/// The same encoded EVENT/BINARY_EVENT (engine prefix included) with `arg` appended as its last
/// argument, a JSON string: the offset of connection state recovery. `None` when `text` does
/// not end with the event array's `]`.
pub(crate) fn with_last_arg(text: &str, arg: &str) -> Option<String> {
    let body = text.strip_suffix(']')?;
    if !matches!(text.as_bytes().get(1), Some(b'2' | b'5')) {
        return None;
    }
    let mut out = String::with_capacity(text.len() + arg.len() + 4);
    out.push_str(body);
    out.push(',');
    // Writing a `str` as JSON cannot fail.
    out.push_str(&serde_json::to_string(arg).unwrap_or_default());
    out.push(']');
    Some(out)
}

/// Builds the frame for an EVENT packet from serializable data: straight to JSON when it holds
/// no binary, through [`Args`] otherwise.
pub(crate) fn serialize_event<T: serde::Serialize + ?Sized>(
    ns: &str,
    event: &str,
    data: &T,
) -> Result<Frame, crate::error::EmitError> {
    Ok(match encode_event_data(ns, event, data)? {
        Some(text) => Frame::Text(text.into()),
        None => event_frame(ns, event, Args::from_serialize(data)?, None),
    })
}

/// Builds the frame for an EVENT packet.
pub(crate) fn event_frame(ns: &str, event: &str, args: Args, id: Option<u64>) -> Frame {
    let (values, attachments) = args.into_parts();
    let text = encode_event(ns, event, &values, attachments.len(), id);
    with_attachments(text, attachments)
}

pub(crate) fn with_attachments(text: String, attachments: Vec<bytes::Bytes>) -> Frame {
    if attachments.is_empty() {
        Frame::Text(text.into())
    } else {
        Frame::WithAttachments(text.into(), attachments)
    }
}

fn into_string(bytes: Vec<u8>) -> String {
    // SAFETY: the header is ASCII plus the namespace (a `str`), and serde_json writes UTF-8.
    unsafe { String::from_utf8_unchecked(bytes) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reserved_event_names_are_invalid_and_numbers_are_names() {
        // socket.io-parser's isPayloadValid: a reserved name is an invalid payload
        for name in RESERVED_EVENTS {
            for text in [
                format!(r#"2["{name}",1]"#),
                format!(r#"51-["{name}",{{"_placeholder":true,"num":0}}]"#),
            ] {
                assert_eq!(Packet::decode(&text), Err(ParseError::Payload), "{text}");
            }
        }
        // ... and a number is an event name, as String(n) writes it
        for (text, name) in [
            (r#"2[1,"x"]"#, "1"),
            (r#"2[1.0]"#, "1"),
            (r#"2[-2.5]"#, "-2.5"),
            (r#"51-[7,{"_placeholder":true,"num":0}]"#, "7"),
        ] {
            let PacketData::Event(got, _) = Packet::decode(text).unwrap().data else {
                panic!("{text} is an event")
            };
            assert_eq!(got, name, "{text}");
        }
        assert_eq!(Packet::decode(r#"2[true]"#), Err(ParseError::Payload));
        assert_eq!(Packet::decode(r#"2[null,1]"#), Err(ParseError::Payload));
    }

    #[test]
    fn decodes_events_and_acks() {
        let p = Packet::decode(r#"2/chat,12["msg",{"a":1}]"#).unwrap();
        assert_eq!(p.kind, PacketType::Event);
        assert_eq!(p.ns, "/chat");
        assert_eq!(p.id, Some(12));
        assert_eq!(
            p.data,
            PacketData::Event("msg".into(), Args::new(vec![json!({"a": 1})], vec![]))
        );

        let p = Packet::decode(r#"51-["up",{"_placeholder":true,"num":0}]"#).unwrap();
        assert_eq!(
            (p.kind, p.attachments, p.ns.as_ref()),
            (PacketType::BinaryEvent, 1, "/")
        );

        let spaced = Packet::decode("2 [\"msg\", 1] ").unwrap();
        assert_eq!(
            spaced.data,
            PacketData::Event("msg".into(), Args::new(vec![json!(1)], vec![]))
        );

        let p = Packet::decode(r#"3/x,7[1,2]"#).unwrap();
        assert_eq!(
            p.data,
            PacketData::Ack(Args::new(vec![json!(1), json!(2)], vec![]))
        );
    }

    #[test]
    fn decodes_connect_and_disconnect() {
        assert_eq!(Packet::decode("0").unwrap().data, PacketData::Connect(None));
        let p = Packet::decode(r#"0/admin,{"token":"t"}"#).unwrap();
        assert_eq!(p.ns, "/admin");
        assert_eq!(p.data, PacketData::Connect(Some(json!({"token": "t"}))));
        assert_eq!(Packet::decode("1/admin,").unwrap().ns, "/admin");
        assert_eq!(Packet::decode("0/admin").unwrap().ns, "/admin");
        let v4 = Packet::decode("0/admin?token=abc&x=1,").unwrap();
        assert_eq!(v4.ns, "/admin");
        assert_eq!(
            v4.data,
            PacketData::Connect(Some(json!({"token": "abc", "x": "1"})))
        );
    }

    #[test]
    fn rejects_invalid_packets() {
        for bad in [
            "",
            "9",
            "2",
            "2{}",
            "2[]",
            "2[true]", // a number is a name (see below), a boolean is not
            "0[]",
            "0\"x\"",
            "3[1]",
            "31{}",
            "5[\"a\"]",
            "5x-[\"a\"]",
            "4{\"message\":\"x\"}",
            "2[\"a\"",
            "299999999999999999999999[\"a\"]",
        ] {
            assert!(Packet::decode(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn ack_id_is_spliced_after_the_header() {
        let args = [
            serde_json::json!("a,b"),
            serde_json::json!({"_placeholder": true, "num": 0}),
        ];
        for (ns, atts) in [("/", 0), ("/chat", 0), ("/", 1), ("/chat", 1)] {
            let plain = encode_event(ns, "ev", &args, atts, None);
            assert_eq!(
                with_ack_id(&plain, 42).as_deref(),
                Some(encode_event(ns, "ev", &args, atts, Some(42)).as_str())
            );
        }
        assert_eq!(
            with_ack_id(&encode_event("/", "ev", &[], 0, Some(1)), 2),
            None
        );
        assert_eq!(with_ack_id("40", 2), None);
        assert_eq!(with_ack_id("", 2), None);
        assert_eq!(with_ack_id("45-", 2), None);
        assert_eq!(with_ack_id("42/x", 2), None);
    }

    #[test]
    fn offset_is_appended_as_the_last_argument() {
        assert_eq!(
            with_last_arg(r#"42/chat,["ev",1]"#, "5").as_deref(),
            Some(r#"42/chat,["ev",1,"5"]"#)
        );
        assert_eq!(
            with_last_arg(r#"42["ev"]"#, "a\"b").as_deref(),
            Some(r#"42["ev","a\"b"]"#)
        );
        let binary = encode_event(
            "/",
            "up",
            &[json!({"_placeholder": true, "num": 0})],
            1,
            None,
        );
        assert_eq!(
            with_last_arg(&binary, "1-0").as_deref(),
            Some(r#"451-["up",{"_placeholder":true,"num":0},"1-0"]"#)
        );
        assert_eq!(with_last_arg("40", "x"), None);
        assert_eq!(with_last_arg(r#"43[1]"#, "x"), None);
    }

    #[test]
    fn encodes_headers() {
        assert_eq!(encode_event("/", "e", &[json!(1)], 0, None), r#"42["e",1]"#);
        assert_eq!(encode_event("/c", "e", &[], 2, Some(3)), r#"452-/c,3["e"]"#);
        assert_eq!(
            encode(PacketType::Ack, "/", 0, Some(4), Some(&json!([]))),
            "434[]"
        );
        assert_eq!(
            encode(
                PacketType::Connect,
                "/a",
                0,
                None,
                Some(&json!({"sid": "x"}))
            ),
            r#"40/a,{"sid":"x"}"#
        );
        assert_eq!(encode(PacketType::Disconnect, "/", 0, None, None), "41");
        // numbers in the header read as `format!` writes them, at every length
        for n in [
            0,
            7,
            10,
            99,
            100,
            12_345,
            u64::from(u32::MAX),
            u64::MAX - 1,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            write_header(&mut out, PacketType::Ack, "/", 3, Some(n));
            assert_eq!(String::from_utf8(out).unwrap(), format!("463-{n}"));
        }
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// JSON values that survive a text round trip exactly (floats with short binary forms).
        fn json_value() -> impl Strategy<Value = Value> {
            let leaf = prop_oneof![
                Just(Value::Null),
                any::<bool>().prop_map(Value::from),
                any::<i64>().prop_map(Value::from),
                (-1_000_000i32..1_000_000).prop_map(|n| Value::from(f64::from(n) / 8.0)),
                "\\PC{0,12}".prop_map(Value::from),
            ];
            leaf.prop_recursive(4, 48, 6, |inner| {
                prop_oneof![
                    prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                    prop::collection::btree_map("\\PC{0,6}", inner, 0..6)
                        .prop_map(|m| Value::Object(m.into_iter().collect())),
                ]
            })
        }

        proptest! {
            /// Arguments kept as text read back exactly as the values that were sent, one by
            /// one, as a list, and as values.
            #[test]
            fn text_event_arguments_round_trip(
                name in "\\PC{1,10}",
                args in prop::collection::vec(json_value(), 0..5),
            ) {
                let mut items = vec![Value::from(name.clone())];
                items.extend(args.iter().cloned());
                let text = format!("2{}", Value::from(items));
                let packet = Packet::decode(&text).unwrap();
                let PacketData::Event(got_name, got) = packet.data else {
                    panic!("not an event: {text}");
                };
                prop_assert_eq!(got_name, name);
                prop_assert_eq!(got.values(), &args[..]);
                for (i, arg) in args.iter().enumerate() {
                    prop_assert_eq!(&got.get::<Value>(i).unwrap(), arg);
                }
                let first = args.first().cloned().unwrap_or(Value::Null);
                prop_assert_eq!(got.decode::<Value>().unwrap(), first);
            }

            /// Whatever arrives, decoding answers (a packet or an error) and never panics.
            #[test]
            fn arbitrary_text_never_panics(text in "[0-6]?[-/,0-9a-z\\[\\]{}\":. ]{0,40}") {
                let _ = Packet::decode(&text);
            }
        }
    }
}
