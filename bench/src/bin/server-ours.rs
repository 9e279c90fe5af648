//! The benchmark server on this project's crates, with the in-memory adapter (see
//! `socketio_bench::ours`).

#[tokio::main]
async fn main() -> std::io::Result<()> {
    socketio_bench::ours::serve(socketio_core::SocketIo::builder()).await
}
