//! Socket.IO v5 packets (pure codecs, no IO): the default parser's text format (`packet`),
//! socket.io-msgpack-parser's format (`msgpack`), and the server-wide choice between them with
//! the frames of every server packet (`parser`).

pub(crate) mod msgpack;
pub(crate) mod packet;
mod parser;

pub use self::parser::Parser;
pub(crate) use self::parser::{parser_of, with_ack_id};
