//! Socket.IO-level settings a namespace reads, and how its adapter is made.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::state::StateMap;
use super::LocalSockets;
use crate::adapter_api::{Adapter, RecoveryConfig};
use crate::protocol::Parser;

/// Makes the adapter of each namespace, given the namespace's sockets of this node. Called once
/// per namespace, when it is created.
pub type AdapterFactory = Arc<dyn Fn(LocalSockets) -> Arc<dyn Adapter> + Send + Sync>;

/// Wraps a namespace's adapter (given the namespace's sockets) in another one, e.g. the bus
/// cluster adapter of `SocketIo::join_cluster`.
pub(crate) type AdapterLayer =
    Arc<dyn Fn(&LocalSockets, Arc<dyn Adapter>) -> Arc<dyn Adapter> + Send + Sync>;

/// Socket.IO-level settings.
#[derive(Clone)]
pub(crate) struct ServerConfig {
    pub(crate) connect_timeout: Duration,
    pub(crate) ack_timeout: Duration,
    /// The packet encoding every socket reads and writes.
    pub(crate) parser: Parser,
    /// Connection state recovery, when on.
    pub(crate) recovery: Option<RecoveryConfig>,
    /// The longest [`crate::SocketIo::close`] waits (acks, adapters, flushing).
    pub(crate) shutdown_timeout: Duration,
    /// Longest event or namespace name a client may send, in bytes.
    pub(crate) max_name_len: usize,
    /// Makes each namespace's adapter.
    pub(crate) adapter_factory: AdapterFactory,
    /// Set once, when the server joins a cluster: wraps every namespace's adapter.
    pub(crate) adapter_layer: Arc<OnceLock<AdapterLayer>>,
    /// Shared typed state ([`crate::State`]).
    pub(crate) state: StateMap,
    /// Whether a child of a dynamic namespace is removed once its last socket leaves
    /// (socket.io's `cleanupEmptyChildNamespaces`).
    pub(crate) cleanup_empty_children: bool,
    /// Per-second traffic counts for the admin UI, once [`crate::admin::instrument`] asks.
    pub(crate) traffic: OnceLock<Arc<super::traffic::Traffic>>,
}

impl std::fmt::Debug for ServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerConfig")
            .field("connect_timeout", &self.connect_timeout)
            .field("ack_timeout", &self.ack_timeout)
            .field("parser", &self.parser)
            .field("recovery", &self.recovery)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("max_name_len", &self.max_name_len)
            .finish_non_exhaustive()
    }
}

// Its `Default` (the reference server's timeouts, a `LocalAdapter` per namespace) is in `server.rs`.
