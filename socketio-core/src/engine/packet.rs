//! Engine.IO v4 packets: the text codec shared by both transports (pure, no IO).

use bytes::Bytes;

use super::str::Str;

/// A packet received from a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Incoming<'a> {
    /// `1`: the client closes the session.
    Close,
    /// `2`, or `2probe` during an upgrade.
    Ping { probe: bool },
    /// `3`, or `3probe`.
    Pong { probe: bool },
    /// `4…`: a text message.
    Message(&'a str),
    /// A binary message (a binary WebSocket frame, or `b<base64>` on polling).
    Binary(Bytes),
    /// `5`: the client completes a transport upgrade.
    Upgrade,
    /// `6`: no operation.
    Noop,
}

/// Why an incoming packet could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PacketError {
    /// An empty packet.
    #[error("empty packet")]
    Empty,
    /// A type character that is not a client-to-server packet type.
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    /// `b…` whose payload is not valid base64.
    #[error("invalid base64 in binary packet")]
    Base64,
    /// A polling payload whose framing (lengths, separators) is broken.
    #[error("invalid payload framing")]
    Framing,
}

impl<'a> Incoming<'a> {
    /// Decodes one text packet (`b…` base64 binary included, as sent over polling).
    pub(crate) fn decode(text: &'a str) -> Result<Self, PacketError> {
        let mut chars = text.chars();
        let kind = chars.next().ok_or(PacketError::Empty)?;
        let rest = &text[kind.len_utf8()..];
        Ok(match kind {
            '1' => Incoming::Close,
            '2' => Incoming::Ping {
                probe: rest == "probe",
            },
            '3' => Incoming::Pong {
                probe: rest == "probe",
            },
            '4' => Incoming::Message(rest),
            '5' => Incoming::Upgrade,
            '6' => Incoming::Noop,
            'b' => Incoming::Binary(decode_base64(rest)?),
            other => return Err(PacketError::UnknownType(other)),
        })
    }
}

fn decode_base64(text: &str) -> Result<Bytes, PacketError> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map(Bytes::from)
        .map_err(|_| PacketError::Base64)
}

/// A frame queued for a client, already encoded as far as it can be without knowing the
/// transport. Text frames carry their Engine.IO type prefix (`4…`, `2`, …).
#[derive(Debug, Clone)]
pub(crate) enum Frame {
    /// A text packet, type prefix included.
    Text(Str),
    /// A raw binary message (what a bare Engine.IO server sends; the Socket.IO layer sends
    /// binaries as attachments of a packet, `WithAttachments`).
    Binary(Bytes),
    /// A text packet followed by binary attachments that must not be interleaved with other
    /// frames (a Socket.IO binary event).
    WithAttachments(Str, Vec<Bytes>),
}

impl Frame {
    pub(crate) const PING: Frame = Frame::Text(Str::from_static("2"));
    pub(crate) const PONG: Frame = Frame::Text(Str::from_static("3"));
    pub(crate) const NOOP: Frame = Frame::Text(Str::from_static("6"));
    pub(crate) const CLOSE: Frame = Frame::Text(Str::from_static("1"));

    /// A `4…` message packet carrying `text`.
    #[cfg(test)]
    pub(crate) fn message(text: &str) -> Frame {
        let mut s = String::with_capacity(text.len() + 1);
        s.push('4');
        s.push_str(text);
        Frame::Text(s.into())
    }

    /// Bytes this frame adds to a polling payload (an estimate, for `maxPayload` batching).
    pub(crate) fn payload_len(&self) -> usize {
        let bin = |b: &Bytes| 1 + b.len().div_ceil(3) * 4;
        match self {
            Frame::Text(t) => t.len(),
            Frame::Binary(b) => bin(b),
            Frame::WithAttachments(t, atts) => {
                t.len() + atts.iter().map(|b| 1 + bin(b)).sum::<usize>()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_client_type() {
        assert_eq!(Incoming::decode("1"), Ok(Incoming::Close));
        assert_eq!(Incoming::decode("2"), Ok(Incoming::Ping { probe: false }));
        assert_eq!(
            Incoming::decode("2probe"),
            Ok(Incoming::Ping { probe: true })
        );
        assert_eq!(
            Incoming::decode("3probe"),
            Ok(Incoming::Pong { probe: true })
        );
        assert_eq!(Incoming::decode("4héllo"), Ok(Incoming::Message("héllo")));
        assert_eq!(Incoming::decode("5"), Ok(Incoming::Upgrade));
        assert_eq!(Incoming::decode("6"), Ok(Incoming::Noop));
        assert_eq!(
            Incoming::decode("bAQID"),
            Ok(Incoming::Binary(Bytes::from_static(&[1, 2, 3])))
        );
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(Incoming::decode(""), Err(PacketError::Empty));
        assert_eq!(Incoming::decode("9"), Err(PacketError::UnknownType('9')));
        assert_eq!(Incoming::decode("b!!"), Err(PacketError::Base64));
    }
}
