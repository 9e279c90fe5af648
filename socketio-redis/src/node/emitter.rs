//! [`Emitter`]: a write-only client of a Node `@socket.io/redis-adapter` cluster, speaking
//! `@socket.io/redis-emitter` 5.x's format.

use std::sync::Arc;

use socketio_core::node_compat::emitter::{check_event, server_event, ReservedEvent, Selection};
use socketio_core::Args;

use super::{BroadcastMessage, ClassicChannels, Request, EMITTER_UID};
use crate::connection::{LazyCommands, RedisClient};

/// Why a call of an emitter failed: this [`Emitter`] or the Streams adapter's
/// [`crate::streams::Emitter`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmitterError {
    /// The data could not be serialized as event arguments.
    #[error("cannot serialize the event data: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The event name is one socket.io reserves (`connect`, `connect_error`, `disconnect`,
    /// `disconnecting`, `newListener`, `removeListener`), as the Node emitters refuse it.
    #[error("\"{0}\" is a reserved event name")]
    Reserved(String),
    /// Redis refused the write (`PUBLISH`; `XADD` for the Streams emitter) or could not be
    /// reached (after one retry on a new connection).
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// [`EmitterError::Reserved`] of the shared check's refusal. Our Redis emitters check the name
/// of a `server_side_emit` too (Node's `serverSideEmit` does not).
pub(crate) fn reserved(err: ReservedEvent) -> EmitterError {
    EmitterError::Reserved(err.0)
}

/// Emits to the clients and servers of a Node `@socket.io/redis-adapter` cluster (Node
/// servers and our [`super::RedisAdapter`] alike) from a process that has no sockets, as
/// `@socket.io/redis-emitter` 5.x does: `new Emitter(redisClient, {key})`.
///
/// Selecting methods return a new emitter (cheap: the connection is shared); the operations
/// publish once and return when Redis took the message. It never subscribes, so it is not
/// counted as a node, and nothing is acknowledged.
///
/// ```no_run
/// # async fn run() -> Result<(), socketio_redis::node::EmitterError> {
/// use socketio_redis::node::Emitter;
/// let emitter = Emitter::new(redis::Client::open("redis://127.0.0.1:6379")?, "socket.io");
/// emitter.of("/chat").to("lobby").except("muted").emit("news", &("hello", 1)).await?;
/// emitter.to("lobby").sockets_join(&["lobby-2"]).await?;
/// emitter.server_side_emit("reload", socketio_core::Args::from_serialize(&"config")?).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Emitter {
    commands: Arc<LazyCommands>,
    key: Arc<str>,
    selection: Selection,
}

impl std::fmt::Debug for Emitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitter")
            .field("key", &self.key)
            .field("nsp", &self.selection.nsp())
            .field("rooms", &self.selection.rooms())
            .field("except", &self.selection.except_rooms())
            .finish()
    }
}

impl Emitter {
    /// An emitter for namespace `/` of the cluster whose channels start with `key` (Node's
    /// default is [`DEFAULT_PREFIX`](super::DEFAULT_PREFIX), `"socket.io"`), on a single Redis
    /// server or a Redis Cluster ([`RedisClient`]; a [`redis::Client`] converts). Connects on
    /// the first publish.
    pub fn new(client: impl Into<RedisClient>, key: &str) -> Emitter {
        Emitter {
            commands: Arc::new(LazyCommands::new(client.into(), None)),
            key: key.into(),
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

    /// Marks broadcasts volatile: a client that cannot take one now misses it.
    pub fn volatile(&self) -> Emitter {
        self.with(self.selection.volatile())
    }

    fn channels(&self) -> ClassicChannels {
        ClassicChannels::new(&self.key, self.selection.nsp())
    }

    async fn publish(&self, channel: &str, payload: &[u8]) -> Result<(), EmitterError> {
        let mut cmd = redis::cmd("PUBLISH");
        cmd.arg(channel).arg(payload);
        self.commands.query(&cmd, "redis emitter").await?;
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
        let msg = BroadcastMessage {
            uid: EMITTER_UID.to_owned(),
            packet: self.selection.event(event, &args).map_err(reserved)?,
            opts: self.selection.options(true),
        };
        let channel = self.channels().broadcast_for(self.selection.rooms());
        self.publish(&channel, &msg.encode()).await
    }

    async fn request(&self, request: Request) -> Result<(), EmitterError> {
        let channels = self.channels();
        self.publish(channels.request(), &request.encode()).await
    }

    /// Makes the selected sockets of every node join `rooms` (`socketsJoin`).
    ///
    /// # Errors
    /// [`EmitterError::Redis`].
    pub async fn sockets_join(&self, rooms: &[&str]) -> Result<(), EmitterError> {
        self.request(Request::SocketsJoin {
            uid: None,
            opts: self.selection.options(false),
            rooms: rooms.iter().map(|r| r.to_string()).collect(),
        })
        .await
    }

    /// Makes the selected sockets of every node leave `rooms` (`socketsLeave`).
    ///
    /// # Errors
    /// [`EmitterError::Redis`].
    pub async fn sockets_leave(&self, rooms: &[&str]) -> Result<(), EmitterError> {
        self.request(Request::SocketsLeave {
            uid: None,
            opts: self.selection.options(false),
            rooms: rooms.iter().map(|r| r.to_string()).collect(),
        })
        .await
    }

    /// Disconnects the selected sockets of every node (`close`: their whole connection).
    ///
    /// # Errors
    /// [`EmitterError::Redis`].
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), EmitterError> {
        self.request(Request::DisconnectSockets {
            uid: None,
            opts: self.selection.options(false),
            close,
        })
        .await
    }

    /// Emits `event` to the server-side handlers of every node of the namespace
    /// (`serverSideEmit`; no acks). JSON on the wire: binary arguments arrive as
    /// `{"type":"Buffer","data":[..]}`.
    ///
    /// # Errors
    /// [`EmitterError`]: reserved name, Redis failure.
    pub async fn server_side_emit(&self, event: &str, args: Args) -> Result<(), EmitterError> {
        check_event(event).map_err(reserved)?;
        self.request(Request::ServerSideEmit {
            uid: EMITTER_UID.to_owned(),
            request_id: None,
            data: server_event(event, &args),
        })
        .await
    }
}
