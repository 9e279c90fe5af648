//! The reference server of the official Socket.IO protocol test suite
//! (socketio/socket.io-protocol, `test-suite/`), configured as that suite expects.
//!
//! `cargo run --release --example conformance-socketio` listens on port 3000 (or `$PORT`).

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::{json, Value};
use socketio_core::{AckSender, Args, SocketIo, SocketRef};

/// The server, also used by `tests/conformance.rs`.
pub fn server() -> SocketIo {
    let io = SocketIo::builder()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .max_payload(1_000_000)
        .connect_timeout(Duration::from_millis(1000))
        .cors_allowed_origins(["*"])
        .build();
    for path in ["/", "/custom"] {
        io.ns(path)
            .on_connect(|socket: SocketRef, auth: Option<Value>| async move {
                // The suite expects `{}` when the client sent no auth payload.
                let _ = socket.emit("auth", &auth.unwrap_or_else(|| json!({})));
            })
            .on("message", |socket: SocketRef, args: Args| async move {
                let _ = socket.emit_args("message-back", args);
            })
            .on(
                "message-with-ack",
                |_socket: SocketRef, args: Args, ack: AckSender| async move {
                    let _ = ack.send_args(args);
                },
            );
    }
    io
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .init();
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let addr = SocketAddr::from(([0, 0, 0, 0], port));
    println!("conformance-socketio listening on {addr}");
    socketio_axum::serve(addr, server()).await
}
