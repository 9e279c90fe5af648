//! The reference server of the official Engine.IO protocol test suite
//! (socketio/engine.io-protocol, `test-suite/`): a bare Engine.IO server on `/engine.io/` that
//! echoes every message, configured as that suite expects.
//!
//! `cargo run --release --example conformance-engineio` listens on port 3000 (or `$PORT`).

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use socketio_core::{EngineIo, SocketIo};

/// The server, also used by `tests/conformance.rs`.
pub fn server() -> EngineIo {
    SocketIo::builder()
        .path("/engine.io/")
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .max_payload(1_000_000)
        .cors_allowed_origins(["*"])
        .build_engine_io(|socket, message| {
            let _ = socket.send(message);
        })
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let eio = server();
    let app = Router::new().route_service(eio.path(), eio.service());
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([0, 0, 0, 0], port))).await?;
    println!(
        "conformance-engineio listening on {}",
        listener.local_addr()?
    );
    axum::serve(listener, app).await
}
