//! The benchmark server on this project's crates, mounted on axum like an application would.

use axum::Router;
use serde_json::Value;
use socketio_axum::SocketIoRouterExt;
use socketio_core::{SocketIo, SocketRef};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let io = SocketIo::builder().build();
    let ns = io.ns("/");
    let room = ns.clone();
    ns.on("echo", |_s: SocketRef, data: Value| async move { data })
        .on("join", |s: SocketRef| async move { s.join("bench") })
        // to every member of room "bench" (the emitter is not one)
        .on("broadcast", move |_s: SocketRef, data: Value| {
            let _ = room.to("bench").emit("msg", &data);
            async {}
        });
    let app = Router::new().socketio(&io);
    axum::serve(socketio_bench::listener().await?, app).await
}
