//! The benchmark server on this project's crates, mounted on an axum `Router` like an
//! application would, served by `socketio_axum::Server` (the server the README recommends:
//! hyper's HTTP/1 with a header timeout and the peer address); with `AXUM_SERVE=1` by
//! `axum::serve` instead (as the socketioxide server is).
//!
//! With `REDIS_URL` set (e.g. `redis://127.0.0.1:6379`) it is one node of a cluster on
//! `socketio_redis::node::RedisAdapter` (the Node `@socket.io/redis-adapter` protocol), with
//! the channel prefix from `REDIS_KEY` (default `socket.io`): two such processes on two ports
//! with the same key broadcast to each other's sockets.

use axum::Router;
use serde_json::Value;
use socketio_axum::SocketIoRouterExt;
use socketio_core::{SocketIo, SocketRef};
use socketio_redis::node::{RedisAdapter, RedisAdapterConfig};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut builder = SocketIo::builder();
    if let Ok(url) = std::env::var("REDIS_URL") {
        let client = redis::Client::open(url).map_err(std::io::Error::other)?;
        let mut config = RedisAdapterConfig::default();
        if let Ok(key) = std::env::var("REDIS_KEY") {
            config.key = key;
        }
        let factory = RedisAdapter::factory(client, config)
            .await
            .map_err(std::io::Error::other)?;
        builder = builder.adapter(factory);
    }
    let io = builder.build();
    let ns = io.ns("/");
    let room = ns.clone();
    ns.on("echo", |_s: SocketRef, data: Value| async move { data })
        .on("join", |s: SocketRef, name: Option<String>| async move {
            s.join(name.unwrap_or_else(|| "bench".to_owned()))
        })
        // to every member of room "bench" or data.room (the emitter is not one), on every node
        .on("broadcast", move |_s: SocketRef, data: Value| {
            let to = data["room"].as_str().unwrap_or("bench").to_owned();
            let _ = room.to(to).emit("msg", &data);
            async {}
        });
    if std::env::var_os("AXUM_SERVE").is_some() {
        let app = Router::new().socketio(&io);
        return axum::serve(socketio_bench::listener().await?, app).await;
    }
    // socketio_axum::Server sets TCP_NODELAY on every connection itself.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", socketio_bench::port())).await?;
    socketio_axum::Server::new(listener, io)
        .router(Router::new())
        .run()
        .await
}
