//! [`Parser`]: which packet encoding a server speaks, and the frames of every server packet in
//! that encoding.

use serde::Serialize;
use serde_json::Value;

use super::msgpack;
use super::packet::{self, PacketType};
use crate::args::Args;
use crate::engine::packet::Frame;
use crate::error::EmitError;

/// How Socket.IO packets are encoded on the wire (socket.io's `parser` server option). Every
/// client of a server must use the same one.
///
/// ```
/// use socketio_core::{Parser, SocketIo};
/// // for clients created with `io(url, { parser: require("socket.io-msgpack-parser") })`
/// let io = SocketIo::builder().parser(Parser::MsgPack).build();
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Parser {
    /// socket.io-parser's: JSON text, binary as separate attachment frames (what every
    /// official client uses unless told otherwise).
    #[default]
    Default,
    /// socket.io-msgpack-parser's (npm, 3.x, over notepack.io 2.x): each packet is one
    /// msgpack map `{type, nsp, data?, id?}` in one binary Engine.IO message, binary inside it
    /// as msgpack `bin` (over HTTP long-polling the engine carries it as `b<base64>`), for
    /// socket.io-client 3.x/4.x created with `parser: require("socket.io-msgpack-parser")`.
    ///
    /// Arguments reach handlers exactly as with the default parser (typed, [`crate::Value`],
    /// `Bytes`), and numbers keep their kind both ways: msgpack integers are integers, floats
    /// are floats (an `f64` is always sent as float 64, `2.0` included). What notepack.io
    /// writes for JavaScript values JSON has no word for is read as the default parser would
    /// have delivered them: `undefined` as a missing field or key (`null` in an array), a
    /// `Date` as its ISO 8601 string, an `ArrayBuffer`/typed array as binary, another
    /// extension type as `[type, binary]`. Malformed packets close the connection with a
    /// parse error; declared lengths are never trusted and nesting is bounded (128 levels).
    MsgPack,
}

impl Parser {
    /// An EVENT from serializable data (the default parser's fast path straight to JSON when
    /// it holds no binary).
    pub(crate) fn serialize_event<T: Serialize + ?Sized>(
        self,
        ns: &str,
        event: &str,
        data: &T,
    ) -> Result<Frame, EmitError> {
        match self {
            Parser::Default => packet::serialize_event(ns, event, data),
            Parser::MsgPack => Ok(self.event(ns, event, Args::from_serialize(data)?, None)),
        }
    }

    /// An EVENT with built arguments, asking for ack `id` when given.
    pub(crate) fn event(self, ns: &str, event: &str, args: Args, id: Option<u64>) -> Frame {
        match self {
            Parser::Default => packet::event_frame(ns, event, args, id),
            Parser::MsgPack => {
                let (values, attachments) = args.into_parts();
                Frame::Binary(msgpack::encode_event(ns, event, &values, &attachments, id))
            }
        }
    }

    /// An ACK answering the client's ack `id`.
    pub(crate) fn ack(self, ns: &str, id: u64, args: Args) -> Frame {
        let (values, attachments) = args.into_parts();
        let data = Value::Array(values);
        match self {
            Parser::Default => packet::with_attachments(
                packet::encode(
                    PacketType::Ack,
                    ns,
                    attachments.len(),
                    Some(id),
                    Some(&data),
                ),
                attachments,
            ),
            Parser::MsgPack => Frame::Binary(msgpack::encode(
                PacketType::Ack,
                ns,
                Some(id),
                Some(&data),
                &attachments,
            )),
        }
    }

    /// An ACK from serializable data (the default parser's fast path as in
    /// [`Parser::serialize_event`]).
    pub(crate) fn serialize_ack<T: Serialize + ?Sized>(
        self,
        ns: &str,
        id: u64,
        data: &T,
    ) -> Result<Frame, EmitError> {
        if self == Parser::Default {
            if let Some(text) = packet::encode_ack_data(ns, id, data)? {
                return Ok(Frame::Text(text.into()));
            }
        }
        Ok(self.ack(ns, id, Args::from_serialize(data)?))
    }

    /// A packet without binary: CONNECT (with its `{"sid"}` payload), DISCONNECT or
    /// CONNECT_ERROR.
    pub(crate) fn control(self, kind: PacketType, ns: &str, data: Option<&Value>) -> Frame {
        match self {
            Parser::Default => Frame::Text(packet::encode(kind, ns, 0, None, data).into()),
            Parser::MsgPack => Frame::Binary(msgpack::encode(kind, ns, None, data, &[])),
        }
    }
}

/// The same encoded EVENT with ack id `id` added (a broadcast with acks is encoded once and
/// only gets each socket's id); whichever parser encoded it. `None` when `frame` is not an
/// EVENT without an id.
pub(crate) fn with_ack_id(frame: &Frame, id: u64) -> Option<Frame> {
    Some(match frame {
        Frame::Text(text) => Frame::Text(packet::with_ack_id(text.as_str(), id)?.into()),
        Frame::WithAttachments(text, atts) => {
            Frame::WithAttachments(packet::with_ack_id(text.as_str(), id)?.into(), atts.clone())
        }
        Frame::Binary(bytes) => Frame::Binary(msgpack::with_ack_id(bytes, id)?),
    })
}

/// Which parser wrote `frame` (a Socket.IO layer frame: msgpack packets are binary messages).
pub(crate) fn parser_of(frame: &Frame) -> Parser {
    match frame {
        Frame::Binary(_) => Parser::MsgPack,
        Frame::Text(_) | Frame::WithAttachments(..) => Parser::Default,
    }
}
