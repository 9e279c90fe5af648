//! [`Emitter`]: a write-only client of a Node `@socket.io/redis-streams-adapter` cluster, as
//! `@socket.io/redis-streams-emitter` 0.1.

use std::sync::Arc;

use socketio_core::node_compat::emitter::{check_event, Selection};
use socketio_core::Args;

use super::{encode_entry_as, stream_for, xadd, RedisStreamsConfig, DEFAULT_MAX_LEN};
use crate::connection::{LazyCommands, RedisClient};
use crate::node::{reserved, ClusterBody, EmitterError, DEFAULT_PREFIX};

/// Settings of a Streams [`Emitter`], as `new Emitter(redisClient, opts)`'s options; they must
/// match the cluster's adapters ([`EmitterConfig::from`] a [`RedisStreamsConfig`] copies them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmitterConfig {
    /// The stream the cluster's nodes read (`streamName`; default `"socket.io"`), or the
    /// streams' common prefix with [`EmitterConfig::stream_count`].
    pub stream_name: String,
    /// How many streams the cluster spreads its namespaces over (the adapters' `streamCount`;
    /// default 1): a namespace's messages go to the stream its adapters write to, see
    /// [`RedisStreamsConfig::stream_count`]. 0 counts as 1.
    pub stream_count: usize,
    /// The approximate length the stream is trimmed to on each write (`maxLen`; default
    /// 10 000 entries): `XADD ... MAXLEN ~ max_len`.
    pub max_len: usize,
    /// Writes `data` as JSON even when it holds binary (the adapters' `onlyPlaintext`; default
    /// `false`): binary then arrives as `{"type":"Buffer","data":[..]}` objects. Every node
    /// reads both forms.
    pub only_plaintext: bool,
}

impl Default for EmitterConfig {
    fn default() -> Self {
        EmitterConfig {
            stream_name: DEFAULT_PREFIX.to_owned(),
            stream_count: 1,
            max_len: DEFAULT_MAX_LEN,
            only_plaintext: false,
        }
    }
}

impl From<&RedisStreamsConfig> for EmitterConfig {
    /// The stream name, stream count, `maxLen` and `onlyPlaintext` of an adapter's settings.
    fn from(config: &RedisStreamsConfig) -> Self {
        EmitterConfig {
            stream_name: config.stream_name.clone(),
            stream_count: config.stream_count,
            max_len: config.max_len,
            only_plaintext: config.only_plaintext,
        }
    }
}

impl EmitterConfig {
    /// The stream namespace `nsp`'s messages are written to (as
    /// [`RedisStreamsConfig::stream_for`]).
    pub fn stream_for(&self, nsp: &str) -> String {
        stream_for(&self.stream_name, self.stream_count, nsp)
    }
}

/// Emits to the clients and servers of a Node `@socket.io/redis-streams-adapter` cluster (Node
/// servers and our [`super::RedisStreamsAdapter`] alike) from a process that has no sockets,
/// as `@socket.io/redis-streams-emitter` 0.1 does: `new Emitter(redisClient, {streamName,
/// maxLen})`.
///
/// Every operation appends one socket.io-adapter `ClusterAdapter` message to the namespace's
/// stream, as the adapters write theirs (see the [module docs](super)): `XADD {stream} MAXLEN ~
/// {max_len} * uid emitter nsp <nsp> type <type> data <data>`, `data` being JSON text, or the
/// base64 of its msgpack when it holds binary (unless [`EmitterConfig::only_plaintext`]). The
/// nodes read it like any other node's entry (the uid `"emitter"` is no node's own). That
/// covers `serverSideEmit` too (`SERVER_SIDE_EMIT`, which the adapters send over pub/sub: a
/// node handles it from either). A broadcast gets the entry id as its offset on the nodes
/// with connection state recovery, and is restored to a recovering client like theirs.
///
/// Selecting methods return a new emitter (cheap: the connection is shared); the operations
/// return when Redis appended the entry. The emitter reads nothing and subscribes to nothing,
/// so it is not counted as a node, and nothing is acknowledged. Its connection (one server or
/// a Redis Cluster, [`RedisClient`]) is opened on the first write; a write that fails is
/// retried once on a new connection.
///
/// ```no_run
/// # async fn run() -> Result<(), socketio_redis::streams::EmitterError> {
/// use socketio_redis::streams::{Emitter, EmitterConfig};
/// let client = redis::Client::open("redis://127.0.0.1:6379")?;
/// let emitter = Emitter::new(client, EmitterConfig::default());
/// emitter.of("/chat").to("lobby").except("muted").emit("news", &("hello", 1)).await?;
/// emitter.to("lobby").sockets_join(&["lobby-2"]).await?;
/// emitter.server_side_emit("reload", socketio_core::Args::from_serialize(&"config")?).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Emitter {
    commands: Arc<LazyCommands>,
    config: Arc<EmitterConfig>,
    selection: Selection,
}

impl std::fmt::Debug for Emitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitter")
            .field("stream", &self.config.stream_for(self.selection.nsp()))
            .field("nsp", &self.selection.nsp())
            .field("rooms", &self.selection.rooms())
            .field("except", &self.selection.except_rooms())
            .finish()
    }
}

impl Emitter {
    /// An emitter for namespace `/` of the cluster on the streams of `config`, on a single
    /// Redis server or a Redis Cluster ([`RedisClient`]; a [`redis::Client`] converts).
    /// Connects on the first write.
    pub fn new(client: impl Into<RedisClient>, config: EmitterConfig) -> Emitter {
        Emitter {
            commands: Arc::new(LazyCommands::new(client.into(), None)),
            config: Arc::new(config),
            selection: Selection::default(),
        }
    }

    fn with(&self, selection: Selection) -> Emitter {
        Emitter {
            selection,
            ..self.clone()
        }
    }

    /// The same emitter for namespace `nsp` (a leading `/` is added when missing), with no
    /// room selected.
    pub fn of(&self, nsp: &str) -> Emitter {
        self.with(Selection::of(nsp))
    }

    /// Selects the sockets in `room` too (all sockets while no room is selected).
    pub fn to(&self, room: impl Into<String>) -> Emitter {
        self.with(self.selection.to(room))
    }

    /// Leaves out the sockets in `room` (or with that id).
    pub fn except(&self, room: impl Into<String>) -> Emitter {
        self.with(self.selection.except(room))
    }

    /// Marks broadcasts volatile (`flags.volatile`): a client that cannot take one now misses
    /// it, and it carries no offset.
    pub fn volatile(&self) -> Emitter {
        self.with(self.selection.volatile())
    }

    /// Appends `body` from the emitter to this namespace's stream.
    async fn write(&self, body: ClusterBody) -> Result<(), EmitterError> {
        let msg = self.selection.message(body);
        let fields = encode_entry_as(&msg, self.config.only_plaintext);
        let stream = self.config.stream_for(self.selection.nsp());
        let cmd = xadd(&stream, self.config.max_len, &fields);
        self.commands.query(&cmd, "redis streams emitter").await?;
        Ok(())
    }

    /// Broadcasts `event` with `data` (a tuple for several arguments; binary as
    /// `bytes::Bytes`) to the selected clients of every node.
    ///
    /// # Errors
    /// [`EmitterError`]: reserved name, unserializable data, Redis failure.
    pub async fn emit<T: serde::Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), EmitterError> {
        self.emit_args(event, Args::from_serialize(data)?).await
    }

    /// [`Emitter::emit`] with ready-made arguments.
    ///
    /// # Errors
    /// [`EmitterError`]: reserved name, Redis failure.
    pub async fn emit_args(&self, event: &str, args: Args) -> Result<(), EmitterError> {
        let body = self.selection.broadcast(event, &args).map_err(reserved)?;
        self.write(body).await
    }

    /// Makes the selected sockets of every node join `rooms` (`socketsJoin`).
    ///
    /// # Errors
    /// [`EmitterError::Redis`].
    pub async fn sockets_join(&self, rooms: &[&str]) -> Result<(), EmitterError> {
        self.write(self.selection.sockets_join(rooms)).await
    }

    /// Makes the selected sockets of every node leave `rooms` (`socketsLeave`).
    ///
    /// # Errors
    /// [`EmitterError::Redis`].
    pub async fn sockets_leave(&self, rooms: &[&str]) -> Result<(), EmitterError> {
        self.write(self.selection.sockets_leave(rooms)).await
    }

    /// Disconnects the selected sockets of every node (`close`: their whole connection).
    ///
    /// # Errors
    /// [`EmitterError::Redis`].
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), EmitterError> {
        self.write(self.selection.disconnect_sockets(close)).await
    }

    /// Emits `event` to the server-side handlers of every node of the namespace
    /// (`serverSideEmit`; no acks). Binary arguments stay binary (msgpack), unless
    /// [`EmitterConfig::only_plaintext`].
    ///
    /// # Errors
    /// [`EmitterError`]: reserved name, Redis failure.
    pub async fn server_side_emit(&self, event: &str, args: Args) -> Result<(), EmitterError> {
        check_event(event).map_err(reserved)?;
        self.write(self.selection.server_side_emit(event, &args))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The emitter's defaults are the adapter's, so both find the same streams untold.
    #[test]
    fn defaults_are_the_adapters() {
        let adapter = RedisStreamsConfig::default();
        let config = EmitterConfig::default();
        assert_eq!(EmitterConfig::from(&adapter), config);
        assert_eq!(
            (config.stream_name.as_str(), config.max_len),
            ("socket.io", 10_000)
        );
        let three = EmitterConfig {
            stream_count: 3,
            ..config
        };
        let adapter = RedisStreamsConfig {
            stream_count: 3,
            ..adapter
        };
        for nsp in ["/", "/chat", "/namespace-with-a-long-name"] {
            assert_eq!(three.stream_for(nsp), adapter.stream_for(nsp), "{nsp}");
        }
    }
}
