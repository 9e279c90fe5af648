//! The benchmark server on socketioxide (the Rust peer), mounted on axum the same way, with its
//! in-memory adapter (`server-socketioxide-redis` is the Redis node).

use socketioxide::adapter::LocalAdapter;
use socketioxide::SocketIo;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let (layer, io) = SocketIo::new_layer();
    socketio_bench::socketioxide_handlers!(io, LocalAdapter);
    let app = axum::Router::new().layer(layer);
    axum::serve(socketio_bench::listener().await?, app).await
}
