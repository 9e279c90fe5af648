//! A Redis pub/sub [`Bus`] for `socketio-core` clusters and write-only emitters.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use socketio_core::SocketIo;
//! use socketio_redis::RedisBus;
//!
//! let io = SocketIo::new();
//! io.join_cluster(RedisBus::open("redis://127.0.0.1:6379")?, "socket.io").await?;
//!
//! // elsewhere, in a process with no sockets:
//! let emitter = socketio_core::cluster::Emitter::new(RedisBus::open("redis://127.0.0.1:6379")?, "socket.io");
//! emitter.to("lobby").emit("news", &"hello from a worker").await?;
//! # Ok(()) }
//! ```
//!
//! To join a cluster of **Node** socket.io servers on `@socket.io/redis-adapter` 8.x instead
//! (our servers and Node's side by side, one Redis), use [`node::RedisAdapter`] as the
//! adapter factory; [`node::Emitter`] speaks `@socket.io/redis-emitter`'s format to such a
//! cluster. [`node`]'s module docs describe that wire protocol.
//!
//! Those adapters and emitters, [`streams::RedisStreamsAdapter`] and its emitter
//! [`streams::Emitter`] (`@socket.io/redis-streams-emitter`), take a [`RedisClient`]: one
//! Redis server (a [`redis::Client`] converts) or a Redis Cluster
//! ([`RedisClient::cluster`]), as Node's adapters take a `createClient` or a `createCluster`.
//!
//! A subscription that loses its connection reconnects by itself (with a growing delay, logged
//! with `tracing`); messages published while it was down are lost, as with any Redis pub/sub.

mod connection;
pub mod node;
pub mod streams;
mod subscription;

pub use connection::RedisClient;

/// Entry points of the fuzz targets (`socketio-core/fuzz/`); not a public API, compiled only
/// with the `fuzzing` feature.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod __fuzz;

use std::sync::Arc;

use bytes::Bytes;
use futures_util::StreamExt;
use socketio_core::cluster::{reconnecting_stream, retry_once, Bus, BusError, BusStream};
use socketio_core::BoxFuture;
use tokio::sync::Mutex;

/// Redis pub/sub as a message bus, on one Redis server (the Node-compatible adapters of
/// [`node`] and [`streams`] also take a Redis Cluster, see [`RedisClient`]). Cheap to clone;
/// connections are opened lazily.
#[derive(Clone)]
pub struct RedisBus {
    client: redis::Client,
    publisher: Arc<Mutex<Option<connection::Commands>>>,
}

impl std::fmt::Debug for RedisBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisBus")
            .field("server", &self.client.get_connection_info().addr())
            .finish()
    }
}

impl RedisBus {
    /// A bus on the Redis server at `url` (e.g. `redis://127.0.0.1:6379`). Nothing is
    /// connected until the first publish or subscribe.
    pub fn open(url: &str) -> Result<Self, BusError> {
        Ok(RedisBus {
            client: redis::Client::open(url).map_err(BusError::new)?,
            publisher: Arc::default(),
        })
    }

    async fn publish_once(&self, channel: &str, payload: &[u8]) -> redis::RedisResult<()> {
        let mut guard = self.publisher.lock().await;
        if guard.is_none() {
            *guard = Some(connection::connect(&self.client.clone().into(), None, None).await?);
        }
        let conn = guard.as_mut().expect("connected above");
        let result: redis::RedisResult<i64> = redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload)
            .query_async(conn)
            .await;
        if result.is_err() {
            // Reconnect on the next publish.
            *guard = None;
        }
        result.map(|_| ())
    }
}

impl Bus for RedisBus {
    fn publish(&self, channel: String, payload: Bytes) -> BoxFuture<Result<(), BusError>> {
        let bus = self.clone();
        Box::pin(async move { retry_once("redis", || bus.publish_once(&channel, &payload)).await })
    }

    fn subscribe(&self, channel: String) -> BoxFuture<Result<BusStream, BusError>> {
        let client = self.client.clone();
        Box::pin(reconnecting_stream(channel.clone(), move || {
            let (client, channel) = (client.clone(), channel.clone());
            async move {
                let mut pubsub = client.get_async_pubsub().await?;
                pubsub.subscribe(&channel).await?;
                Ok::<_, redis::RedisError>(
                    pubsub
                        .into_on_message()
                        .map(|msg| Bytes::copy_from_slice(msg.get_payload_bytes())),
                )
            }
        }))
    }
}
