//! The benchmark server on this project's crates (see `socketio_bench::ours`) as one node of a
//! cluster on `socketio_redis::node::RedisAdapter` (the Node `@socket.io/redis-adapter`
//! protocol): Redis at `REDIS_URL` (default `redis://127.0.0.1:6379`), the channel prefix from
//! `REDIS_KEY` (default `socket.io`). Two such processes on two ports with the same key
//! broadcast to each other's sockets.

use socketio_redis::node::{RedisAdapter, RedisAdapterConfig};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let client = redis::Client::open(url).map_err(std::io::Error::other)?;
    let mut config = RedisAdapterConfig::default();
    if let Ok(key) = std::env::var("REDIS_KEY") {
        config.key = key;
    }
    let factory = RedisAdapter::factory(client, config)
        .await
        .map_err(std::io::Error::other)?;
    socketio_bench::ours::serve(socketio_core::SocketIo::builder().adapter(factory)).await
}
