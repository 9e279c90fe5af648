//! The benchmark server on socketioxide (the Rust peer) as one node of a cluster on
//! `socketioxide-redis` (its redis-crate driver, RESP3: `?protocol=resp3` is added to the URL
//! when absent): Redis at `REDIS_URL` (default `redis://127.0.0.1:6379`), the channel prefix
//! from `REDIS_KEY` (default `socket.io`).

use socketioxide::SocketIo;
use socketioxide_redis::{RedisAdapter, RedisAdapterConfig, RedisAdapterCtr};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut url =
        std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    if !url.contains("protocol=") {
        url.push_str(if url.contains('?') { "&" } else { "?" });
        url.push_str("protocol=resp3");
    }
    let client = redis::Client::open(url).map_err(std::io::Error::other)?;
    let mut config = RedisAdapterConfig::new();
    if let Ok(key) = std::env::var("REDIS_KEY") {
        config = config.with_prefix(key);
    }
    let ctr = RedisAdapterCtr::new_with_redis_config(&client, config)
        .await
        .map_err(std::io::Error::other)?;
    let (layer, io) = SocketIo::builder()
        .with_adapter::<RedisAdapter<_>>(ctr)
        .build_layer();
    socketio_bench::socketioxide_handlers!(io, RedisAdapter<_>)
        .await
        .map_err(std::io::Error::other)?;
    let app = axum::Router::new().layer(layer);
    axum::serve(socketio_bench::listener().await?, app).await
}
