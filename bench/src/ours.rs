//! The benchmark server on this project's crates, mounted on an axum `Router` like an
//! application would, served by `socketio_axum::Server` (the server the README recommends:
//! hyper's HTTP/1 with a header timeout and the peer address); with `AXUM_SERVE=1` by
//! `axum::serve` instead (as the socketioxide server is). `server-ours` runs it on the
//! in-memory adapter, `server-ours-redis` on the Node-compatible Redis adapter.

use axum::Router;
use serde_json::Value;
use socketio_axum::SocketIoRouterExt;
use socketio_core::{SocketIoBuilder, SocketRef};

/// Builds the server from `builder` (its adapter already chosen), installs the benchmark
/// handlers on namespace "/" and serves it on 127.0.0.1:[`crate::port`] until killed.
pub async fn serve(builder: SocketIoBuilder) -> std::io::Result<()> {
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
        return axum::serve(crate::listener().await?, app).await;
    }
    // socketio_axum::Server sets TCP_NODELAY on every connection itself.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", crate::port())).await?;
    socketio_axum::Server::new(listener, io)
        .router(Router::new())
        .run()
        .await
}
