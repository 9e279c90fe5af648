//! Shared bits of the benchmark binaries: the port argument and the listener every server uses.
//!
//! Every server implements the same handlers: `echo` acks its argument, `join` joins room
//! "bench" (or the room named by its argument, if any) and acks with no argument, `broadcast`
//! emits `msg` with its argument to room "bench" (or to the room named by the argument's
//! `"room"` field: the multi-process runs give each load generator a room of its own), to
//! every member; the emitting client of the benchmark is not one.
//!
//! The Rust servers come in two binaries each: `server-ours` / `server-socketioxide` with no
//! adapter but the in-memory one, and `server-ours-redis` / `server-socketioxide-redis`, one node
//! of a Redis cluster (`REDIS_URL`, `REDIS_KEY`). Only the `-redis` ones link a Redis client,
//! so the single-node rows (the idle server's RSS among them) measure servers as an
//! application without Redis would build them.

use axum::serve::{Listener, ListenerExt};
use tokio::net::{TcpListener, TcpStream};

pub mod ours;
mod socketioxide_handlers;

/// The port from the first argument or `$PORT` (default 3190).
pub fn port() -> u16 {
    std::env::args()
        .nth(1)
        .or_else(|| std::env::var("PORT").ok())
        .and_then(|p| p.parse().ok())
        .unwrap_or(3190)
}

/// Whether accepted connections get `TCP_NODELAY` (default yes, as Node's `http` server and
/// aiohttp do; `BENCH_NODELAY=0` keeps axum's default, Nagle on).
pub fn nodelay() -> bool {
    std::env::var("BENCH_NODELAY").map_or(true, |v| v != "0")
}

/// A listener on 127.0.0.1:[`port`] that applies [`nodelay`] to every accepted connection.
pub async fn listener(
) -> std::io::Result<impl Listener<Io = TcpStream, Addr = std::net::SocketAddr>> {
    let nodelay = nodelay();
    let listener = TcpListener::bind(("127.0.0.1", port())).await?;
    Ok(listener.tap_io(move |tcp: &mut TcpStream| {
        if nodelay {
            let _ = tcp.set_nodelay(true);
        }
    }))
}
