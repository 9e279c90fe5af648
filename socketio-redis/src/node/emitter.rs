//! [`Emitter`]: a write-only client of a Node `@socket.io/redis-adapter` cluster, speaking
//! `@socket.io/redis-emitter` 5.x's format.

use std::sync::Arc;

use socketio_core::Args;

use super::{
    BroadcastFlags, BroadcastMessage, BroadcastOptions, ClassicChannels, Packet, Request, Value,
    EMITTER_UID,
};
use crate::connection::{Commands, RedisClient};
use socketio_core::node_compat::args_to_node;

/// Why an [`Emitter`] call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmitterError {
    /// The data could not be serialized as event arguments.
    #[error("cannot serialize the event data: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The event name is one socket.io reserves (`connect`, `connect_error`, `disconnect`,
    /// `disconnecting`, `newListener`, `removeListener`), as the Node emitter refuses it.
    #[error("\"{0}\" is a reserved event name")]
    Reserved(String),
    /// Redis refused the publish or could not be reached (after one retry on a new connection).
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// The event names socket.io reserves (the Node emitter refuses them too).
const RESERVED: [&str; 6] = socketio_core::Namespace::RESERVED_EVENTS;

struct Connection {
    client: RedisClient,
    key: String,
    conn: tokio::sync::Mutex<Option<Commands>>,
}

impl Connection {
    async fn publish_once(&self, channel: &str, payload: &[u8]) -> redis::RedisResult<()> {
        let mut guard = self.conn.lock().await;
        if guard.is_none() {
            *guard = Some(crate::connection::connect(&self.client, None, None).await?);
        }
        let conn = guard.as_mut().expect("connected above");
        let result: redis::RedisResult<i64> = redis::cmd("PUBLISH")
            .arg(channel)
            .arg(payload)
            .query_async(conn)
            .await;
        if result.is_err() {
            *guard = None;
        }
        result.map(drop)
    }

    async fn publish(&self, channel: &str, payload: &[u8]) -> Result<(), EmitterError> {
        match self.publish_once(channel, payload).await {
            Ok(()) => Ok(()),
            Err(first) => {
                tracing::warn!(err = %first, "emitter publish failed, retrying on a new connection");
                Ok(self.publish_once(channel, payload).await?)
            }
        }
    }
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
    connection: Arc<Connection>,
    nsp: String,
    rooms: Vec<String>,
    except: Vec<String>,
    flags: BroadcastFlags,
}

impl std::fmt::Debug for Emitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitter")
            .field("key", &self.connection.key)
            .field("nsp", &self.nsp)
            .field("rooms", &self.rooms)
            .field("except", &self.except)
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
            connection: Arc::new(Connection {
                client: client.into(),
                key: key.to_owned(),
                conn: tokio::sync::Mutex::new(None),
            }),
            nsp: "/".to_owned(),
            rooms: Vec::new(),
            except: Vec::new(),
            flags: BroadcastFlags::default(),
        }
    }

    /// The same emitter for namespace `nsp` (a leading `/` is added when missing), with no
    /// room selected.
    pub fn of(&self, nsp: &str) -> Emitter {
        let nsp = if nsp.starts_with('/') {
            nsp.to_owned()
        } else {
            format!("/{nsp}")
        };
        Emitter {
            connection: self.connection.clone(),
            nsp,
            rooms: Vec::new(),
            except: Vec::new(),
            flags: BroadcastFlags::default(),
        }
    }

    /// Selects the sockets in `room` too (all sockets while no room is selected).
    pub fn to(&self, room: impl Into<String>) -> Emitter {
        let mut next = self.clone();
        let room = room.into();
        if !next.rooms.contains(&room) {
            next.rooms.push(room);
        }
        next
    }

    /// Leaves out the sockets in `room` (or with that id).
    pub fn except(&self, room: impl Into<String>) -> Emitter {
        let mut next = self.clone();
        let room = room.into();
        if !next.except.contains(&room) {
            next.except.push(room);
        }
        next
    }

    /// Marks broadcasts volatile: a client that cannot take one now misses it.
    pub fn volatile(&self) -> Emitter {
        let mut next = self.clone();
        next.flags.set("volatile", true);
        next
    }

    fn channels(&self) -> ClassicChannels {
        ClassicChannels::new(&self.connection.key, &self.nsp)
    }

    fn options(&self, flags: bool) -> BroadcastOptions {
        BroadcastOptions {
            rooms: self.rooms.clone(),
            except: self.except.clone(),
            flags: flags.then(|| self.flags.clone()),
        }
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
        if RESERVED.contains(&event) {
            return Err(EmitterError::Reserved(event.to_owned()));
        }
        let msg = BroadcastMessage {
            uid: EMITTER_UID.to_owned(),
            packet: Packet::event(self.nsp.as_str(), event, args_to_node(&args)),
            opts: self.options(true),
        };
        let channel = self.channels().broadcast_for(&self.rooms);
        self.connection.publish(&channel, &msg.encode()).await
    }

    async fn request(&self, request: Request) -> Result<(), EmitterError> {
        let channels = self.channels();
        self.connection
            .publish(channels.request(), &request.encode())
            .await
    }

    /// Makes the selected sockets of every node join `rooms` (`socketsJoin`).
    ///
    /// # Errors
    /// [`EmitterError::Redis`].
    pub async fn sockets_join(&self, rooms: &[&str]) -> Result<(), EmitterError> {
        self.request(Request::SocketsJoin {
            uid: None,
            opts: self.options(false),
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
            opts: self.options(false),
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
            opts: self.options(false),
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
        if RESERVED.contains(&event) {
            return Err(EmitterError::Reserved(event.to_owned()));
        }
        let mut data = vec![Value::from(event)];
        data.extend(args_to_node(&args));
        self.request(Request::ServerSideEmit {
            uid: EMITTER_UID.to_owned(),
            request_id: None,
            data,
        })
        .await
    }
}
