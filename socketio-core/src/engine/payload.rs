//! Engine.IO v4 polling payloads: packets joined by the record separator `\x1e`.

use base64::Engine as _;

use super::packet::{Frame, Incoming, PacketError};

/// The separator between packets of one polling payload.
pub(crate) const SEPARATOR: char = '\x1e';

/// Decodes a POSTed payload into its packets.
pub(crate) fn decode(body: &str) -> impl Iterator<Item = Result<Incoming<'_>, PacketError>> {
    body.split(SEPARATOR).map(Incoming::decode)
}

/// Appends `frame` to a payload under construction.
pub(crate) fn encode_into(out: &mut String, frame: &Frame) {
    let mut push = |piece: &dyn Fn(&mut String)| {
        if !out.is_empty() {
            out.push(SEPARATOR);
        }
        piece(out);
    };
    match frame {
        Frame::Text(text) => push(&|o| o.push_str(text.as_str())),
        Frame::Binary(bin) => push(&|o| push_binary(o, bin)),
        Frame::WithAttachments(text, atts) => {
            push(&|o| o.push_str(text.as_str()));
            for bin in atts {
                push(&|o| push_binary(o, bin));
            }
        }
    }
}

fn push_binary(out: &mut String, bin: &[u8]) {
    out.push('b');
    base64::engine::general_purpose::STANDARD.encode_string(bin, out);
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    #[test]
    fn roundtrip() {
        let mut out = String::new();
        encode_into(&mut out, &Frame::message("hello"));
        encode_into(&mut out, &Frame::Binary(Bytes::from_static(&[1, 2, 3, 4])));
        encode_into(&mut out, &Frame::PING);
        assert_eq!(out, "4hello\x1ebAQIDBA==\x1e2");
        let packets: Vec<_> = decode(&out).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            packets,
            vec![
                Incoming::Message("hello"),
                Incoming::Binary(Bytes::from_static(&[1, 2, 3, 4])),
                Incoming::Ping { probe: false },
            ]
        );
    }

    #[test]
    fn attachments_follow_their_packet() {
        let mut out = String::new();
        let frame = Frame::WithAttachments(
            "451-[\"e\",{\"_placeholder\":true,\"num\":0}]"
                .to_string()
                .into(),
            vec![Bytes::from_static(b"\xff")],
        );
        encode_into(&mut out, &frame);
        assert_eq!(
            out,
            "451-[\"e\",{\"_placeholder\":true,\"num\":0}]\x1eb/w=="
        );
        assert_eq!(frame.payload_len(), out.len());
    }
}
