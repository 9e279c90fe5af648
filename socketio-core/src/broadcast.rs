//! Selecting sockets of a namespace by room and acting on them all, through the namespace's
//! [`crate::adapter::Adapter`] (which reaches other nodes when there are any).

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::adapter_api::{BroadcastOptions, EncodedPacket, SocketInfo};
use crate::args::{Args, FromAck};
use crate::engine::sid::Sid;
use crate::error::{AckError, EmitError};
use crate::socket::{Namespace, Socket, SocketRef};

/// A selection of sockets in one namespace: everyone, or the members of some rooms, minus the
/// members of others. Built with [`Namespace::to`], [`crate::Socket::to`],
/// [`crate::Socket::broadcast`] and [`crate::SocketIo::to`].
///
/// Every operation goes through the namespace's adapter: in a cluster
/// ([`crate::SocketIo::join_cluster`]), `emit`, `emit_with_ack`, `join`, `leave`, `disconnect`
/// and `fetch_sockets` also reach the selected sockets of the other nodes (unless
/// [`BroadcastOperator::local`]); `sockets` returns this node's.
///
/// ```
/// # let io = socketio_core::SocketIo::new();
/// # let ns = io.ns("/");
/// // everyone in "lobby" or "hall", except those in "muted"
/// ns.to("lobby").to("hall").except("muted").emit("news", &"hello").unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct BroadcastOperator {
    ns: Arc<Namespace>,
    opts: BroadcastOptions,
    timeout: Option<Duration>,
    compress: bool,
}

impl BroadcastOperator {
    pub(crate) fn new(ns: Arc<Namespace>) -> Self {
        BroadcastOperator {
            ns,
            opts: BroadcastOptions::default(),
            timeout: None,
            compress: true,
        }
    }

    /// Adds a room to the selection (a socket id is a room too).
    pub fn to(mut self, room: impl Into<String>) -> Self {
        self.opts.rooms.push(room.into());
        self
    }

    /// Leaves out the members of `room` (or the socket with that id: python-socketio's `skip_sid`).
    pub fn except(mut self, room: impl Into<String>) -> Self {
        self.opts.except.push(room.into());
        self
    }

    /// Acts on this node's sockets only (socket.io's `local` flag).
    pub fn local(mut self) -> Self {
        self.opts.flags.local = true;
        self
    }

    /// Lets the packet be lost: not kept for connection state recovery (socket.io's `volatile`
    /// flag).
    pub fn volatile(mut self) -> Self {
        self.opts.flags.volatile = true;
        self
    }

    /// Whether HTTP long-polling responses that carry this packet may be compressed
    /// (socket.io's `compress` flag; default `true`). A polling response is compressed
    /// (gzip or deflate, as the client's `Accept-Encoding` asks, from
    /// [`crate::SocketIoBuilder::compression_threshold`] bytes, unless
    /// [`crate::SocketIoBuilder::http_compression`] is off) when any packet in it may be, so
    /// `compress(false)` keeps a response of only such packets as it is: for data that does
    /// not compress (already compressed images) or that must not share a compression context
    /// with secrets (BREACH). WebSocket frames are never compressed: permessage-deflate is off
    /// by default in engine.io 4+ too, and our WebSocket library (tungstenite) has none.
    /// Applies to this node's sockets; other nodes of a cluster compress as usual.
    ///
    /// ```
    /// # let io = socketio_core::SocketIo::new();
    /// io.ns("/").to("viewers").compress(false).emit("frame", &"<jpeg as base64>").unwrap();
    /// ```
    pub fn compress(mut self, compress: bool) -> Self {
        self.compress = compress;
        self
    }

    /// Sets the ack timeout of [`BroadcastOperator::emit_with_ack`].
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// An EVENT encoded once, with the server's parser.
    fn encode<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<EncodedPacket, EmitError> {
        let parser = self.ns.config().parser;
        let frame = parser.serialize_event(self.ns.path(), event, data)?;
        Ok(EncodedPacket::new(frame).with_compress(self.compress))
    }

    /// The selected sockets of this node.
    pub fn sockets(&self) -> Vec<SocketRef> {
        self.ns.sockets_among(self.ns.adapter().sockets(&self.opts))
    }

    /// Emits to every selected socket. The packet is encoded once and shared. A socket whose
    /// queue is full misses the message (logged); the call fails only if `data` does not
    /// serialize.
    pub fn emit<T: Serialize + ?Sized>(&self, event: &str, data: &T) -> Result<(), EmitError> {
        let packet = self.encode(event, data)?;
        self.ns.adapter().broadcast(&packet, &self.opts);
        Ok(())
    }

    /// Emits already-built arguments to every selected socket.
    pub fn emit_args(&self, event: &str, args: Args) {
        let parser = self.ns.config().parser;
        let packet = EncodedPacket::new(parser.event(self.ns.path(), event, args, None))
            .with_compress(self.compress);
        self.ns.adapter().broadcast(&packet, &self.opts);
    }

    /// Emits to every selected socket asking each for an ack, and gathers the answers, one per
    /// socket (in a cluster, from every node). A socket that does not answer within the timeout
    /// ([`BroadcastOperator::timeout`], default `ack_timeout`) or disconnects gets an error.
    /// The packet is encoded once; each socket's ack id is spliced into it.
    pub async fn emit_with_ack<T, D>(
        &self,
        event: &str,
        data: &D,
    ) -> Result<Vec<(Sid, Result<T, AckError>)>, EmitError>
    where
        T: FromAck + Send + 'static,
        D: Serialize + ?Sized,
    {
        let packet = self.encode(event, data)?;
        let timeout = self.timeout.unwrap_or(self.ns.config().ack_timeout);
        let answers = self
            .ns
            .adapter()
            .broadcast_with_ack(&packet, &self.opts, timeout)
            .await;
        Ok(answers
            .into_iter()
            .map(|(sid, answer)| (sid, answer.and_then(|args| Ok(T::from_ack(args)?))))
            .collect())
    }

    /// The selected sockets of every node of the cluster (this node's alone otherwise). Nodes
    /// that do not answer within a few seconds are left out.
    pub async fn fetch_sockets(&self) -> Vec<SocketInfo> {
        self.ns.adapter().fetch_sockets(&self.opts).await
    }

    /// Makes every selected socket join `room`.
    pub fn join(&self, room: &str) {
        self.ns
            .adapter()
            .add_sockets(&self.opts, &[room.to_owned()]);
    }

    /// Makes every selected socket leave `room`.
    pub fn leave(&self, room: &str) {
        self.ns
            .adapter()
            .del_sockets(&self.opts, &[room.to_owned()]);
    }

    /// Disconnects every selected socket from the namespace.
    pub fn disconnect(&self) {
        self.ns.adapter().disconnect_sockets(&self.opts, false);
    }
}

/// The broadcasts a socket starts (to its namespace, without itself).
impl Socket {
    /// Emits to the sockets in `room`, except this one.
    pub fn to(&self, room: impl Into<String>) -> BroadcastOperator {
        self.broadcast().to(room)
    }

    /// Emits to every socket of the namespace except this one; add `.to(room)` to narrow it.
    pub fn broadcast(&self) -> BroadcastOperator {
        BroadcastOperator::new(self.ns.clone()).except(self.id())
    }
}

/// The broadcasts of a namespace.
impl Namespace {
    /// Emits to every socket of the namespace.
    pub fn emit<T: Serialize + ?Sized>(
        self: &Arc<Self>,
        event: &str,
        data: &T,
    ) -> Result<(), EmitError> {
        BroadcastOperator::new(self.clone()).emit(event, data)
    }

    /// Selects the sockets in `room` (chain `.to()` / `.except()` for more).
    pub fn to(self: &Arc<Self>, room: impl Into<String>) -> BroadcastOperator {
        BroadcastOperator::new(self.clone()).to(room)
    }

    /// Selects every socket except those in `room` (or with that id).
    pub fn except(self: &Arc<Self>, room: impl Into<String>) -> BroadcastOperator {
        BroadcastOperator::new(self.clone()).except(room)
    }
}
