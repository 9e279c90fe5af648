//! Socket.IO v5 packets (pure codecs, no IO): the default parser's text format (`packet`),
//! socket.io-msgpack-parser's format (`msgpack`), and the server-wide choice between them with
//! the frames of every server packet (`parser`).
//!
//! Public: [`Parser`] and, in [`msgpack`], the notepack.io value codec that the adapters for
//! Node clusters share.

pub mod msgpack;
pub(crate) mod packet;
mod parser;

pub use self::parser::Parser;
pub(crate) use self::parser::{parser_of, with_ack_id};

/// A namespace name with its leading `/` (added when missing), as [`crate::SocketIo::ns`] and
/// [`crate::SocketIo::of`] take it (and the emitters' `of`).
pub(crate) fn normalize_namespace(path: &str) -> String {
    if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    }
}
