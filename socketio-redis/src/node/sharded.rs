//! Messages of `createShardedAdapter` (socket.io-adapter's `ClusterAdapter` messages over
//! Redis 7 sharded pub/sub): the shared codec of `socketio_core::node_compat::cluster`. See the
//! [module docs](super) for the protocol.

pub use socketio_core::node_compat::cluster::{ClusterBody, ClusterMessage, MessageType};
