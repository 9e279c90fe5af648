//! One client connection as the Socket.IO layer sees it: its namespace sockets and the binary
//! packet being assembled (read and written by `crate::client`).

use foldhash::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use bytes::Bytes;

use super::{Socket, SocketRef};
use crate::engine::socket::SocketHandle;
use crate::protocol::packet::Packet;

/// An Engine.IO session carrying Socket.IO.
pub(crate) type Conn = SocketHandle<Client>;

/// Per-connection Socket.IO state.
#[derive(Default)]
pub(crate) struct Client {
    pub(crate) sockets: Mutex<HashMap<String, SocketRef>>,
    pub(crate) partial: Mutex<Option<Partial>>,
    /// Mirrors `partial.is_some()`, so a text packet (the usual case) needs no lock.
    pub(crate) awaiting_attachments: AtomicBool,
    pub(crate) connected_once: AtomicBool,
}

/// A BINARY_EVENT / BINARY_ACK waiting for its attachments.
pub(crate) struct Partial {
    pub(crate) packet: Packet,
    pub(crate) attachments: Vec<Bytes>,
    /// Total size of `attachments` so far.
    pub(crate) bytes: usize,
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
