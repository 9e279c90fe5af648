//! Transport-level settings shared by every session.

use std::time::Duration;

/// Which cross-origin requests the HTTP endpoint accepts, and how it answers them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Cors {
    /// No CORS headers; no origin check (browsers then allow same-origin pages only).
    #[default]
    Disabled,
    /// Any origin: the request's `Origin` is echoed back (or `*` when it has none).
    Any,
    /// Only these origins (exact `scheme://host[:port]` strings); a request with any other
    /// `Origin` is refused with 403 and Engine.IO error code 4 ("Forbidden").
    Origins(Vec<String>),
}

/// Engine.IO settings (the `EngineConfig` part of [`crate::SocketIoBuilder`]).
#[derive(Debug, Clone)]
pub(crate) struct EngineConfig {
    pub(crate) path: String,
    pub(crate) ping_interval: Duration,
    pub(crate) ping_timeout: Duration,
    pub(crate) upgrade_timeout: Duration,
    pub(crate) max_payload: usize,
    /// How long a polling POST may take to send its body.
    pub(crate) http_body_timeout: Duration,
    pub(crate) max_buffer_size: usize,
    pub(crate) ws_read_buffer_size: usize,
    pub(crate) allow_upgrades: bool,
    pub(crate) allow_eio3: bool,
    pub(crate) transports: Transports,
    pub(crate) http_compression: bool,
    pub(crate) compression_threshold: usize,
    pub(crate) cookie: Option<String>,
    pub(crate) cors: Cors,
    pub(crate) cors_credentials: bool,
}

/// The transports a server accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Transports {
    pub(crate) polling: bool,
    pub(crate) websocket: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            path: "/socket.io/".into(),
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            upgrade_timeout: Duration::from_millis(10_000),
            max_payload: 1_000_000,
            http_body_timeout: Duration::from_secs(60),
            max_buffer_size: 1024,
            ws_read_buffer_size: 2048,
            allow_upgrades: true,
            allow_eio3: true,
            transports: Transports {
                polling: true,
                websocket: true,
            },
            http_compression: true,
            compression_threshold: 1024,
            cookie: None,
            cors: Cors::Disabled,
            cors_credentials: false,
        }
    }
}
