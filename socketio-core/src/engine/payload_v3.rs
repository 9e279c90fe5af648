//! Engine.IO v3 polling payloads (socket.io-client 1.x/2.x, python-socketio 4.x).
//!
//! Text payloads frame each packet as `<length>:<packet>`, the length counted in UTF-16 code
//! units (JavaScript string length); binary packets travel as `b<type><base64>`. Clients that
//! support binary POST a binary payload instead: per packet a kind byte (0 text, 1 binary), the
//! length as one byte per decimal digit, a 255 byte, then the packet (a binary one starts with
//! its type byte). This server always answers with text payloads, which every v3 client reads.

use base64::Engine as _;
use bytes::Bytes;

use super::packet::{Frame, Incoming, PacketError};

/// Longest length prefix accepted (in digits); `max_payload` bounds the body anyway.
const MAX_LEN_DIGITS: usize = 10;

/// Decodes a text payload.
pub(crate) fn decode_text(mut body: &str) -> Result<Vec<Incoming<'_>>, PacketError> {
    let mut packets = Vec::new();
    while !body.is_empty() {
        let colon = body.find(':').ok_or(PacketError::Framing)?;
        let digits = &body[..colon];
        if digits.is_empty() || digits.len() > MAX_LEN_DIGITS {
            return Err(PacketError::Framing);
        }
        let units: usize = digits.parse().map_err(|_| PacketError::Framing)?;
        let rest = &body[colon + 1..];
        let end = utf16_prefix_len(rest, units).ok_or(PacketError::Framing)?;
        packets.push(decode_packet(&rest[..end])?);
        body = &rest[end..];
    }
    Ok(packets)
}

/// Byte length of the prefix of `s` that is `units` UTF-16 code units long.
fn utf16_prefix_len(s: &str, units: usize) -> Option<usize> {
    let mut counted = 0;
    for (i, c) in s.char_indices() {
        if counted == units {
            return Some(i);
        }
        counted += c.len_utf16();
        if counted > units {
            return None;
        }
    }
    (counted == units).then_some(s.len())
}

/// One v3 packet in text form: `b4<base64>` is a binary message.
fn decode_packet(text: &str) -> Result<Incoming<'_>, PacketError> {
    match text.strip_prefix('b') {
        Some(rest) => {
            let data = rest.strip_prefix('4').ok_or(PacketError::Framing)?;
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .map(|v| Incoming::Binary(Bytes::from(v)))
                .map_err(|_| PacketError::Base64)
        }
        None => Incoming::decode(text),
    }
}

/// Decodes a binary payload.
pub(crate) fn decode_binary(body: &Bytes) -> Result<Vec<Incoming<'_>>, PacketError> {
    let mut packets = Vec::new();
    let mut pos = 0;
    while pos < body.len() {
        let kind = body[pos];
        pos += 1;
        let mut len: usize = 0;
        let mut digits = 0;
        loop {
            let b = *body.get(pos).ok_or(PacketError::Framing)?;
            pos += 1;
            if b == 255 {
                break;
            }
            if b > 9 || digits == MAX_LEN_DIGITS {
                return Err(PacketError::Framing);
            }
            len = len * 10 + usize::from(b);
            digits += 1;
        }
        let end = pos
            .checked_add(len)
            .filter(|&e| e <= body.len())
            .ok_or(PacketError::Framing)?;
        let data = &body[pos..end];
        pos = end;
        packets.push(match kind {
            0 => Incoming::decode(std::str::from_utf8(data).map_err(|_| PacketError::Framing)?)?,
            1 => match data.first() {
                Some(4) => Incoming::Binary(body.slice(pos - len + 1..end)),
                _ => return Err(PacketError::Framing),
            },
            _ => return Err(PacketError::Framing),
        });
    }
    Ok(packets)
}

/// Appends `frame` to a text payload under construction.
pub(crate) fn encode_into(out: &mut String, frame: &Frame) {
    match frame {
        Frame::Text(text) => push_text(out, text.as_str()),
        Frame::Binary(bin) => push_binary(out, bin),
        Frame::WithAttachments(text, atts) => {
            push_text(out, text.as_str());
            for bin in atts {
                push_binary(out, bin);
            }
        }
    }
}

fn push_text(out: &mut String, text: &str) {
    use std::fmt::Write as _;
    let _ = write!(out, "{}:", text.encode_utf16().count());
    out.push_str(text);
}

fn push_binary(out: &mut String, bin: &[u8]) {
    use std::fmt::Write as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bin);
    let _ = write!(out, "{}:b4{encoded}", encoded.len() + 2);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_framing_counts_utf16_units() {
        let mut out = String::new();
        encode_into(&mut out, &Frame::message("hello"));
        encode_into(&mut out, &Frame::message("é😀"));
        encode_into(&mut out, &Frame::Binary(Bytes::from_static(&[1, 2, 3, 4])));
        assert_eq!(out, "6:4hello4:4é😀10:b4AQIDBA==");
        let packets = decode_text(&out).unwrap();
        assert_eq!(
            packets,
            vec![
                Incoming::Message("hello"),
                Incoming::Message("é😀"),
                Incoming::Binary(Bytes::from_static(&[1, 2, 3, 4])),
            ]
        );
    }

    #[test]
    fn decodes_the_suite_examples() {
        assert_eq!(
            decode_text("1:2").unwrap(),
            vec![Incoming::Ping { probe: false }]
        );
        assert_eq!(decode_text("6:4test16:4test2").unwrap().len(), 2);
        assert_eq!(
            decode_text("6:4hello9:bAQIDBA==").ok(),
            None,
            "b without a type is invalid"
        );
    }

    #[test]
    fn rejects_bad_framing() {
        for bad in ["abc", "5:4hi", ":4", "99999999999:4", "2:4\u{1F600}"] {
            assert!(decode_text(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn binary_payload() {
        // "4hi" as text, then binary [1, 2]
        let body = Bytes::from_static(&[0, 3, 255, b'4', b'h', b'i', 1, 3, 255, 4, 1, 2]);
        assert_eq!(
            decode_binary(&body).unwrap(),
            vec![
                Incoming::Message("hi"),
                Incoming::Binary(Bytes::from_static(&[1, 2]))
            ]
        );
        assert!(decode_binary(&Bytes::from_static(&[0, 9, 255, b'4'])).is_err());
        assert!(decode_binary(&Bytes::from_static(&[0, 3])).is_err());
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        fn frame() -> impl Strategy<Value = Frame> {
            prop_oneof![
                "\\PC{0,20}".prop_map(|t| Frame::message(&t)),
                prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| Frame::Binary(b.into())),
            ]
        }

        proptest! {
            /// Whatever is encoded (any text, including characters outside the BMP, and any
            /// bytes) decodes back to the same packets.
            #[test]
            fn text_payloads_round_trip(frames in prop::collection::vec(frame(), 1..6)) {
                let mut out = String::new();
                for f in &frames {
                    encode_into(&mut out, f);
                }
                let decoded = decode_text(&out).unwrap();
                prop_assert_eq!(decoded.len(), frames.len());
                for (got, sent) in decoded.iter().zip(&frames) {
                    match (got, sent) {
                        (Incoming::Message(m), Frame::Text(t)) => prop_assert_eq!(*m, &t.as_str()[1..]),
                        (Incoming::Binary(b), Frame::Binary(s)) => prop_assert_eq!(b, s),
                        other => prop_assert!(false, "mismatch {:?}", other),
                    }
                }
            }

            /// Arbitrary bodies are decoded or refused, never a panic.
            #[test]
            fn arbitrary_bodies_never_panic(
                text in "[0-9:b4a-z\\x{1F600}é]{0,30}",
                bytes in prop::collection::vec(prop_oneof![0u8..12, Just(255u8), any::<u8>()], 0..30),
            ) {
                let _ = decode_text(&text);
                let _ = decode_binary(&Bytes::from(bytes));
            }
        }
    }
}
