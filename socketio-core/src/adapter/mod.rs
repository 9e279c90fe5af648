//! The adapter: the only way the Socket.IO layer reaches rooms and other server nodes.
//!
//! One [`Adapter`] instance serves one namespace (as `new Adapter(nsp)` in socket.io), made by the
//! [`AdapterFactory`] given to [`crate::SocketIoBuilder::adapter`] ([`LocalAdapter`] by default).
//! [`crate::BroadcastOperator`], [`crate::Namespace`] and [`crate::Socket`] call it for every room
//! operation and every broadcast; the adapter reaches the namespace's sockets of this node through
//! the narrow [`LocalSockets`] handle.
//!
//! The operations and their data follow socket.io-adapter's `Adapter` class one to one, so that an
//! adapter speaking the wire format of a Node adapter (`@socket.io/redis-adapter`, the Redis
//! Streams or Postgres adapters) can be written on this trait:
//!
//! | this trait | socket.io-adapter |
//! |---|---|
//! | [`Adapter::add_all`], [`Adapter::del`], [`Adapter::del_all`] | `addAll`, `del`, `delAll` |
//! | [`Adapter::socket_rooms`], [`Adapter::sockets`], [`Adapter::rooms`] | `socketRooms`, `sockets`, `rooms` |
//! | [`Adapter::broadcast`] | `broadcast(packet, opts)` |
//! | [`Adapter::broadcast_with_ack`] | `broadcastWithAck(packet, opts, clientCountCallback, ack)` |
//! | [`Adapter::add_sockets`], [`Adapter::del_sockets`], [`Adapter::disconnect_sockets`] | `addSockets`, `delSockets`, `disconnectSockets` |
//! | [`Adapter::fetch_sockets`] | `fetchSockets` |
//! | [`Adapter::server_side_emit`], [`Adapter::server_count`] | `serverSideEmit`, `serverCount` |
//! | [`Adapter::persist_session`], [`Adapter::restore_session`] | `persistSession`, `restoreSession` |
//!
//! A selection is [`BroadcastOptions`] (`rooms` + `except` + [`BroadcastFlags`]); a packet is an
//! [`EncodedPacket`], the Socket.IO packet encoded once for every receiver, from which an adapter
//! that talks to other nodes reads `{type, nsp, data}` with the binary attachments kept as bytes.

mod local;
mod rooms;

use std::sync::Arc;

pub use self::local::LocalAdapter;
pub use crate::adapter_api::{
    AckAnswers, Adapter, AdapterError, BroadcastFlags, BroadcastOptions, EncodedPacket,
    PacketParts, RecoveryConfig, RestoredSession, Session, SocketInfo,
};
pub use crate::socket::{AdapterFactory, LocalSockets, ServerEventHandler};

/// The default factory: a [`LocalAdapter`] per namespace, keeping sessions in memory when the
/// server has connection state recovery (socket.io's `SessionAwareAdapter` default then).
pub(crate) fn local_factory() -> AdapterFactory {
    Arc::new(|sockets| match sockets.recovery() {
        Some(config) => Arc::new(LocalAdapter::with_recovery(sockets, config)),
        None => Arc::new(LocalAdapter::new(sockets)),
    })
}
