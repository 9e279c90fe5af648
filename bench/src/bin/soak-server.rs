//! The server under test of the soak (`scripts/soak.sh`, load from `bench/src/bin/soak.rs`).
//!
//! Namespace `/` with short heartbeats so that clients that vanish without a close are found
//! within seconds: ping interval 1 s (`$SOAK_PING_INTERVAL_MS`), ping timeout 5 s
//! (`$SOAK_PING_TIMEOUT_MS`; a shorter one drops live clients on a loaded 2-core machine,
//! where a debug-built client may answer a ping seconds late), and these handlers:
//!
//! - `echo` (one argument, with or without binary inside): acks it back unchanged;
//! - `join` / `leave` (room name): joins or leaves that room, acks `true`;
//! - `tick` (sequence number): emits `tick` with it to room `stable`, then acks it;
//! - `shout` (room name, payload): emits `shout` with the payload to the room except the
//!   sender, acks `true`.
//!
//! `GET /stats` answers one JSON object: `sessions`, `sockets`, `rooms` (sums of
//! [`socketio_core::SocketIo::stats`]), `namespaces` (its per-namespace list), `tasks` (tokio's
//! `RuntimeMetrics::num_alive_tasks`), `rss_kib` (resident set size from `/proc/self/statm`) and
//! `heartbeat_ms` (ping interval + ping timeout: how long an abandoned session may live).
//! The port is the first argument or `$PORT` (default 3190).

use std::time::Duration;

use axum::routing::get;
use axum::Router;
use socketio_axum::SocketIoRouterExt;
use socketio_core::{SocketIo, SocketRef, Value};

/// Resident set size in KiB from `/proc/self/statm` (second field, in pages of 4 KiB).
fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4)
}

fn stats(io: &SocketIo, heartbeat: Duration) -> String {
    let stats = io.stats();
    let tasks = tokio::runtime::Handle::current()
        .metrics()
        .num_alive_tasks();
    serde_json::json!({
        "sessions": stats.sessions,
        "sockets": stats.sockets(),
        "rooms": stats.rooms(),
        "namespaces": stats.namespaces,
        "tasks": tasks,
        "rss_kib": rss_kib(),
        "heartbeat_ms": heartbeat.as_millis() as u64,
    })
    .to_string()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    // RUST_LOG=socketio_core=debug shows why a session ended
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let ms = |var: &str, default: u64| {
        std::env::var(var)
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(Duration::from_millis(default), Duration::from_millis)
    };
    let ping_interval = ms("SOAK_PING_INTERVAL_MS", 1000);
    let ping_timeout = ms("SOAK_PING_TIMEOUT_MS", 5000);
    let io = SocketIo::builder()
        .ping_interval(ping_interval)
        .ping_timeout(ping_timeout)
        .build();
    let ns = io.ns("/");
    let stable = ns.clone();
    ns.on("echo", |_s: SocketRef, data: Value| async move { data })
        .on("join", |s: SocketRef, room: String| async move {
            s.join(room);
            true
        })
        .on("leave", |s: SocketRef, room: String| async move {
            s.leave(&room);
            true
        })
        .on("tick", move |_s: SocketRef, seq: u64| {
            let sent = stable.to("stable").emit("tick", &seq).is_ok();
            async move { (seq, sent) }
        })
        .on(
            "shout",
            |s: SocketRef, room: String, payload: Value| async move {
                s.to(room).emit("shout", &payload).is_ok()
            },
        );
    let report = io.clone();
    let app = Router::new()
        .route(
            "/stats",
            get(move || std::future::ready(stats(&report, ping_interval + ping_timeout))),
        )
        .socketio(&io);
    axum::serve(socketio_bench::listener().await?, app).await
}
