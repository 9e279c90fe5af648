//! The benchmark server on socketioxide (the Rust peer), mounted on axum the same way.
//!
//! With `REDIS_URL` set (e.g. `redis://127.0.0.1:6379`) it is one node of a cluster on
//! `socketioxide-redis` (its redis-crate driver, RESP3: `?protocol=resp3` is added to the URL
//! when absent), with the channel prefix from `REDIS_KEY` (default `socket.io`).

use serde_json::Value;
use socketioxide::adapter::LocalAdapter;
use socketioxide::extract::{AckSender, Data, SocketRef, TryData};
use socketioxide::SocketIo;
use socketioxide_redis::{RedisAdapter, RedisAdapterConfig, RedisAdapterCtr};

/// The same handlers on namespace "/" of `$io` (a `SocketIo<$adapter>`); a macro, as the
/// adapter-generic bound socketioxide needs (`DefinedAdapter`) is not re-exported by it.
macro_rules! handlers {
    ($io:expr, $adapter:ty) => {
        $io.ns("/", async |s: SocketRef<$adapter>| {
            s.on(
                "echo",
                async |Data(data): Data<Value>, ack: AckSender<$adapter>| {
                    let _ = ack.send(&data);
                },
            );
            s.on(
                "join",
                async |s: SocketRef<$adapter>,
                       TryData(name): TryData<String>,
                       ack: AckSender<$adapter>| {
                    // `["join"]` has no argument to extract: room "bench"
                    s.join(name.unwrap_or_else(|_| "bench".to_owned()));
                    let _ = ack.send(&());
                },
            );
            // to every member of room "bench" or data.room (the emitter is not one), on every node
            s.on(
                "broadcast",
                async |s: SocketRef<$adapter>, Data(data): Data<Value>| {
                    let to = data["room"].as_str().unwrap_or("bench").to_owned();
                    let _ = s.within(to).emit("msg", &data).await;
                },
            );
        })
    };
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let app = if let Ok(mut url) = std::env::var("REDIS_URL") {
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
        handlers!(io, RedisAdapter<_>)
            .await
            .map_err(std::io::Error::other)?;
        axum::Router::new().layer(layer)
    } else {
        let (layer, io) = SocketIo::new_layer();
        handlers!(io, LocalAdapter);
        axum::Router::new().layer(layer)
    };
    axum::serve(socketio_bench::listener().await?, app).await
}
