//! [`Emitter`]: a write-only client of a `@socket.io/postgres-adapter` cluster, speaking
//! `@socket.io/postgres-emitter` 0.1's format (plus the envelope's `nsp`, see the crate docs).

use std::sync::Arc;

use socketio_core::node_compat::emitter::{ReservedEvent, Selection};
use socketio_core::Args;
use tokio_postgres::Client;

use crate::adapter::{publish_all, Outgoing};
use crate::message::ClusterBody;

/// Why an [`Emitter`] call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmitterError {
    /// The data could not be serialized as event arguments.
    #[error("cannot serialize the event data: {0}")]
    Serialize(#[from] serde_json::Error),
    /// socket.io reserves this event name.
    #[error("\"{0}\" is a reserved event name")]
    Reserved(String),
    /// The message could not be published (see the log for PostgreSQL's reason).
    #[error("the message could not be published")]
    NotPublished,
}

/// Emits to the clients and servers of a `@socket.io/postgres-adapter` cluster (Node servers
/// and our [`crate::PostgresAdapter`] alike) from a process that has no sockets, as
/// `new Emitter(pool, nsp, {channelPrefix, tableName, payloadThreshold})` does.
///
/// Selecting methods return a new emitter (cheap: the client is shared); the operations
/// publish once and return when PostgreSQL took the message. The emitter never LISTENs, so
/// it is not counted as a node, and nothing is acknowledged. A message with binary arguments,
/// or whose JSON is longer than the threshold, goes through the attachment table (which must
/// exist).
///
/// ```no_run
/// # async fn run(client: tokio_postgres::Client) -> Result<(), socketio_postgres::EmitterError> {
/// use socketio_postgres::Emitter;
/// let emitter = Emitter::new(client, "socket.io", "socket_io_attachments");
/// emitter.of("/chat").to("lobby").except("muted").emit("news", &("hello", 1)).await?;
/// emitter.to("lobby").sockets_join(&["lobby-2"]).await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Emitter {
    client: Arc<Client>,
    prefix: Arc<str>,
    table: Arc<str>,
    threshold: usize,
    selection: Selection,
}

impl std::fmt::Debug for Emitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emitter")
            .field("prefix", &self.prefix)
            .field("nsp", &self.selection.nsp())
            .field("rooms", &self.selection.rooms())
            .field("except", &self.selection.except_rooms())
            .finish()
    }
}

impl Emitter {
    /// An emitter for namespace `/` on `client` (its connection must be driven, as usual with
    /// tokio-postgres), with channel prefix `prefix` (`"socket.io"` by default in Node) and
    /// attachment table `table` (`"socket_io_attachments"`), and a payload threshold of 8000
    /// bytes.
    pub fn new(client: Client, prefix: &str, table: &str) -> Emitter {
        Emitter {
            client: Arc::new(client),
            prefix: prefix.into(),
            table: table.into(),
            threshold: 8000,
            selection: Selection::default(),
        }
    }

    /// The same emitter with another payload threshold in bytes (`payloadThreshold`).
    pub fn with_payload_threshold(mut self, bytes: usize) -> Emitter {
        self.threshold = bytes;
        self
    }

    fn with(&self, selection: Selection) -> Emitter {
        Emitter {
            selection,
            ..self.clone()
        }
    }

    /// An emitter for namespace `nsp` (a leading `/` is added when missing), with no rooms.
    pub fn of(&self, nsp: &str) -> Emitter {
        self.with(Selection::of(nsp))
    }

    /// Targets the sockets in `room` too.
    pub fn to(&self, room: impl Into<String>) -> Emitter {
        self.with(self.selection.to(room))
    }

    /// Leaves out the sockets in `room`.
    pub fn except(&self, room: impl Into<String>) -> Emitter {
        self.with(self.selection.except(room))
    }

    /// Marks broadcasts volatile.
    pub fn volatile(&self) -> Emitter {
        self.with(self.selection.volatile())
    }

    fn channel(&self) -> String {
        format!("{}#{}", self.prefix, self.selection.nsp())
    }

    async fn publish(&self, body: ClusterBody) -> Result<(), EmitterError> {
        let msg = self.selection.message(body);
        let out = Outgoing::of(&self.channel(), &msg, self.threshold);
        if publish_all(&self.client, &self.table, "", vec![out])
            .await
            .is_empty()
        {
            Ok(())
        } else {
            Err(EmitterError::NotPublished)
        }
    }

    /// Emits `event` with `args` (serialized as a tuple: `&("a", 1)` gives two arguments;
    /// `bytes::Bytes` values are binary) to the selected clients.
    ///
    /// # Errors
    /// A reserved event name, arguments that cannot be serialized, or PostgreSQL failing.
    pub async fn emit<T: serde::Serialize + ?Sized>(
        &self,
        event: &str,
        args: &T,
    ) -> Result<(), EmitterError> {
        self.emit_args(event, Args::from_serialize(args)?).await
    }

    /// Emits `event` with `args` to the selected clients.
    ///
    /// # Errors
    /// A reserved event name, or PostgreSQL failing.
    pub async fn emit_args(&self, event: &str, args: Args) -> Result<(), EmitterError> {
        let body = self
            .selection
            .broadcast(event, &args)
            .map_err(|ReservedEvent(name)| EmitterError::Reserved(name))?;
        self.publish(body).await
    }

    /// Makes the selected sockets join `rooms`.
    ///
    /// # Errors
    /// PostgreSQL failing.
    pub async fn sockets_join(&self, rooms: &[&str]) -> Result<(), EmitterError> {
        self.publish(self.selection.sockets_join(rooms)).await
    }

    /// Makes the selected sockets leave `rooms`.
    ///
    /// # Errors
    /// PostgreSQL failing.
    pub async fn sockets_leave(&self, rooms: &[&str]) -> Result<(), EmitterError> {
        self.publish(self.selection.sockets_leave(rooms)).await
    }

    /// Disconnects the selected sockets (`close`: their whole connection).
    ///
    /// # Errors
    /// PostgreSQL failing.
    pub async fn disconnect_sockets(&self, close: bool) -> Result<(), EmitterError> {
        self.publish(self.selection.disconnect_sockets(close)).await
    }

    /// Emits `event` to the server-side handlers of every node (no acks).
    ///
    /// # Errors
    /// PostgreSQL failing.
    pub async fn server_side_emit(&self, event: &str, args: Args) -> Result<(), EmitterError> {
        self.publish(self.selection.server_side_emit(event, &args))
            .await
    }
}
