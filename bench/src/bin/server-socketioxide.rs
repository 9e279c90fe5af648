//! The benchmark server on socketioxide (the Rust peer), mounted on axum the same way.

use serde_json::Value;
use socketioxide::extract::{AckSender, Data, SocketRef};
use socketioxide::SocketIo;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let (layer, io) = SocketIo::new_layer();
    io.ns("/", async |s: SocketRef| {
        s.on("echo", async |Data(data): Data<Value>, ack: AckSender| {
            let _ = ack.send(&data);
        });
        s.on("join", async |s: SocketRef, ack: AckSender| {
            s.join("bench");
            let _ = ack.send(&());
        });
        // to every member of room "bench" (the emitter is not one)
        s.on(
            "broadcast",
            async |s: SocketRef, Data(data): Data<Value>| {
                let _ = s.within("bench").emit("msg", &data).await;
            },
        );
    });
    let app = axum::Router::new().layer(layer);
    axum::serve(socketio_bench::listener().await?, app).await
}
