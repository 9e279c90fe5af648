//! One client connection as the Socket.IO layer sees it: its namespace sockets and the binary
//! packet being assembled (read and written by `crate::client`).

use foldhash::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use bytes::Bytes;
use tokio::sync::Notify;

use super::{Socket, SocketRef};
use crate::engine::socket::SocketHandle;
use crate::protocol::packet::Packet;

/// An Engine.IO session carrying Socket.IO.
pub(crate) type Conn = SocketHandle<Client>;

/// Per-connection Socket.IO state.
#[derive(Default)]
pub(crate) struct Client {
    pub(crate) sockets: Mutex<HashMap<String, SocketRef>>,
    /// Boxed: rare (binary packets only), and large, it would otherwise take room in every
    /// connection.
    pub(crate) partial: Mutex<Option<Box<Partial>>>,
    /// Mirrors `partial.is_some()`, so a text packet (the usual case) needs no lock.
    pub(crate) awaiting_attachments: AtomicBool,
    pub(crate) connected_once: AtomicBool,
    /// Notified when `connected_once` is first set: the connect-timeout watch then ends, and
    /// the memory of its task with it.
    pub(crate) connected: Notify,
}

/// A BINARY_EVENT / BINARY_ACK waiting for its attachments.
pub(crate) struct Partial {
    pub(crate) packet: Packet,
    pub(crate) attachments: Vec<Bytes>,
    /// Total size of `attachments` so far.
    pub(crate) bytes: usize,
}

/// Why a binary attachment was refused (the connection is closed as a parse error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AttachmentError {
    /// The attachments together exceed the size bound.
    TooLarge,
}

impl Partial {
    /// A partial packet for `packet`, which announces `packet.attachments` attachments.
    pub(crate) fn new(packet: Packet) -> Self {
        Partial {
            // bounded: `Packet::decode` refuses more than `MAX_ATTACHMENTS`
            attachments: Vec::with_capacity(packet.attachments),
            packet,
            bytes: 0,
        }
    }

    /// Adds one attachment (a binary message), refusing it when the attachments together
    /// would exceed `max_bytes`. `Ok(true)` when the packet is now complete (every announced
    /// attachment received); the pure bookkeeping of `ServerCore::on_binary`.
    pub(crate) fn push(&mut self, data: Bytes, max_bytes: usize) -> Result<bool, AttachmentError> {
        self.bytes = self.bytes.saturating_add(data.len());
        if self.bytes > max_bytes {
            return Err(AttachmentError::TooLarge);
        }
        self.attachments.push(data);
        Ok(self.attachments.len() >= self.packet.attachments)
    }
}

impl Client {
    pub(crate) fn socket(&self, ns: &str) -> Option<SocketRef> {
        self.sockets.lock().unwrap().get(ns).cloned()
    }

    /// Forgets `socket` (not a newer socket of the same namespace).
    pub(crate) fn remove_socket(&self, socket: &Socket) {
        let mut sockets = self.sockets.lock().unwrap();
        if sockets
            .get(socket.ns())
            .is_some_and(|s| std::ptr::eq(&**s, socket))
        {
            sockets.remove(socket.ns());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn partial(text: &str) -> Partial {
        Partial::new(Packet::decode(text).unwrap())
    }

    #[test]
    fn completes_with_the_announced_attachment_count() {
        let mut p =
            partial(r#"52-["ev",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#);
        assert_eq!(p.push(Bytes::from_static(b"ab"), 10), Ok(false));
        assert_eq!(p.push(Bytes::from_static(b"cde"), 10), Ok(true));
        assert_eq!(p.bytes, 5);
        assert_eq!(p.attachments.len(), 2);
    }

    #[test]
    fn refuses_attachments_over_the_size_bound() {
        let mut p = partial(r#"52-["ev",{"_placeholder":true,"num":0}]"#);
        assert_eq!(p.push(Bytes::from_static(b"12345"), 8), Ok(false));
        assert_eq!(
            p.push(Bytes::from_static(b"6789"), 8),
            Err(AttachmentError::TooLarge)
        );
        // empty attachments count, and complete the packet
        let mut p = partial(r#"51-["ev",{"_placeholder":true,"num":0}]"#);
        assert_eq!(p.push(Bytes::new(), 0), Ok(true));
    }
}
