//! Where the adapters, emitters and the bus of this crate reach Redis ([`RedisClient`]: one
//! server or a Redis Cluster), and opening command connections to it ([`connect`], [`Commands`]).
//!
//! redis-rs gives each command a 500 ms response timeout by default. A `PUBLISH` or `XADD` that
//! times out has usually reached Redis all the same (the reply was merely slow, e.g. on a loaded
//! machine), so retrying it delivers the message twice. Connections opened here wait for replies
//! as long as the connection lives unless the caller asks for a bound: a dead connection still
//! fails at once (the socket errors), and callers that must not wait forever (requests between
//! nodes) bound the wait themselves.

use std::collections::HashMap;
use std::time::Duration;

use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::cluster::{ClusterClient, ClusterClientBuilder};
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{
    MultipleNodeRoutingInfo, ResponsePolicy, Route, RoutingInfo, SingleNodeRoutingInfo, Slot,
    SlotAddr,
};
use redis::{AsyncConnectionConfig, IntoConnectionInfo, PushInfo, RedisFuture, Value};

/// The Redis deployment an adapter or emitter talks to: one Redis server, or a Redis Cluster.
///
/// Node's `@socket.io/redis-adapter`, `@socket.io/redis-streams-adapter` and
/// `@socket.io/redis-emitter` take either a standalone client or a cluster client (`redis`'s
/// `createCluster`, ioredis's `Cluster`); so do this crate's adapters, through this type:
/// `RedisAdapter::factory(redis::Client::open(url)?, ..)` (a [`redis::Client`] converts) or
/// `RedisAdapter::factory(RedisClient::cluster(["redis://10.0.0.1:7000", ..])?, ..)`.
///
/// On a cluster:
/// - classic pub/sub (`PUBLISH`, `SUBSCRIBE`, `PSUBSCRIBE`) reaches every node of the cluster,
///   so a subscription on any primary sees every message; `PUBSUB NUMSUB` is summed over the
///   primaries, as Node's adapter does;
/// - sharded pub/sub (`SPUBLISH`, `SSUBSCRIBE`) goes to the primary owning the channel's hash
///   slot, and `PUBSUB SHARDNUMSUB` is summed over the primaries too;
/// - stream and key commands go to the primary owning the key's slot;
/// - subscriptions are restored when a node's connection is re-established or the slots move
///   (redis-rs's RESP3 push messages, so the cluster must run Redis 6 or later; sharded pub/sub
///   needs 7); messages published while a node's connection is down are lost, as with any
///   Redis pub/sub (the Streams adapter resumes from its last stream id).
///
/// Redis orders the messages of one channel, not those of two channels on two primaries: on a
/// cluster, sharded broadcasts to different rooms (each room its channel, in the sharded
/// adapter's `dynamic` mode) may reach a client in another order than they were emitted, as
/// with Node's sharded adapter. Connections to a cluster are not named with `CLIENT SETNAME`
/// (the standalone ones are).
#[derive(Clone)]
pub struct RedisClient(Target);

#[derive(Clone)]
enum Target {
    Standalone(redis::Client),
    Cluster(Vec<redis::ConnectionInfo>),
}

impl std::fmt::Debug for RedisClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.0 {
            Target::Standalone(client) => f
                .debug_tuple("RedisClient::Standalone")
                .field(&client.get_connection_info().addr().to_string())
                .finish(),
            Target::Cluster(nodes) => f
                .debug_tuple("RedisClient::Cluster")
                .field(
                    &nodes
                        .iter()
                        .map(|n| n.addr().to_string())
                        .collect::<Vec<_>>(),
                )
                .finish(),
        }
    }
}

impl From<redis::Client> for RedisClient {
    fn from(client: redis::Client) -> Self {
        RedisClient(Target::Standalone(client))
    }
}

impl RedisClient {
    /// One Redis server at `url` (e.g. `redis://127.0.0.1:6379`, `redis://:password@host/2`).
    /// Nothing is connected yet.
    ///
    /// # Errors
    /// An invalid URL.
    pub fn open(url: impl IntoConnectionInfo) -> redis::RedisResult<RedisClient> {
        Ok(redis::Client::open(url)?.into())
    }

    /// A Redis Cluster reached through `nodes` (URLs of one or more of its nodes, e.g.
    /// `["redis://127.0.0.1:7000", "redis://127.0.0.1:7001"]`; the rest of the cluster is found
    /// with `CLUSTER SLOTS`). Nothing is connected yet. Every node must take the same password.
    ///
    /// # Errors
    /// No node, an invalid URL, or nodes with different credentials.
    pub fn cluster<T: IntoConnectionInfo>(
        nodes: impl IntoIterator<Item = T>,
    ) -> redis::RedisResult<RedisClient> {
        let nodes = nodes
            .into_iter()
            .map(IntoConnectionInfo::into_connection_info)
            .collect::<redis::RedisResult<Vec<_>>>()?;
        // Checks the list (non-empty, one set of credentials) now rather than on connecting.
        ClusterClientBuilder::new(nodes.clone()).build()?;
        Ok(RedisClient(Target::Cluster(nodes)))
    }

    /// Whether this is a Redis Cluster ([`RedisClient::cluster`]).
    pub fn is_cluster(&self) -> bool {
        matches!(self.0, Target::Cluster(_))
    }
}

/// A command connection to a [`RedisClient`]: a multiplexed connection to one server, or a
/// cluster connection that routes each command to the node owning its key. Cheap to clone
/// (clones share the connection).
#[derive(Clone)]
pub(crate) enum Commands {
    Standalone(MultiplexedConnection),
    Cluster(ClusterConnection),
}

impl ConnectionLike for Commands {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a redis::Cmd) -> RedisFuture<'a, Value> {
        match self {
            Commands::Standalone(conn) => conn.req_packed_command(cmd),
            Commands::Cluster(conn) => conn.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a redis::Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Commands::Standalone(conn) => conn.req_packed_commands(pipeline, offset, count),
            Commands::Cluster(conn) => conn.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Commands::Standalone(conn) => conn.get_db(),
            Commands::Cluster(conn) => conn.get_db(),
        }
    }
}

impl Commands {
    /// `PUBSUB {sub} {channel}` (`NUMSUB` or `SHARDNUMSUB`): the channel's subscriber count; on
    /// a cluster, summed over the primaries (as `@socket.io/redis-adapter`'s `PUBSUB` helper
    /// does with `redis`'s `masters` or ioredis's `nodes()`).
    pub(crate) async fn pubsub_count(
        &mut self,
        sub: &str,
        channel: &str,
    ) -> redis::RedisResult<usize> {
        let mut cmd = redis::cmd("PUBSUB");
        cmd.arg(sub).arg(channel);
        let reply = match self {
            Commands::Standalone(conn) => cmd.query_async::<Value>(conn).await?,
            Commands::Cluster(conn) => {
                conn.route_command(
                    cmd,
                    RoutingInfo::MultiNode((
                        MultipleNodeRoutingInfo::AllMasters,
                        Some(ResponsePolicy::CombineMaps),
                    )),
                )
                .await?
            }
        };
        subscriber_count(reply, channel)
    }

    /// Sends `command` (`PUBLISH` or `SPUBLISH`) for each `(channel, payload)` of `batch`, in
    /// order, and waits for Redis to take them all.
    ///
    /// One pipeline on a single server. On a cluster, `PUBLISH`es go as one pipeline to one
    /// fixed primary (the owner of slot 0: classic pub/sub reaches the whole cluster from any
    /// node, and one node keeps their order); `SPUBLISH`es go as one pipeline per hash slot to
    /// the slot's primary, all at once (the order within a channel is kept).
    pub(crate) async fn publish_batch(
        &mut self,
        command: &'static str,
        batch: &[(String, Vec<u8>)],
    ) -> redis::RedisResult<()> {
        let pipeline = |items: &mut dyn Iterator<Item = &(String, Vec<u8>)>| {
            let mut pipe = redis::pipe();
            for (channel, payload) in items {
                pipe.cmd(command).arg(channel).arg(payload).ignore();
            }
            pipe
        };
        match self {
            Commands::Standalone(conn) => pipeline(&mut batch.iter()).query_async(conn).await,
            Commands::Cluster(conn) if command == "PUBLISH" => {
                let pipe = pipeline(&mut batch.iter());
                conn.route_pipeline(
                    pipe,
                    0,
                    batch.len(),
                    SingleNodeRoutingInfo::SpecificNode(Route::new(0, SlotAddr::Master)),
                )
                .await
                .map(drop)
            }
            Commands::Cluster(conn) => {
                let mut by_slot: HashMap<Slot, Vec<&(String, Vec<u8>)>> = HashMap::new();
                for item in batch {
                    by_slot
                        .entry(Slot::for_key(&item.0))
                        .or_default()
                        .push(item);
                }
                let sends = by_slot.into_values().map(|items| {
                    let mut conn = conn.clone();
                    let pipe = pipeline(&mut items.into_iter());
                    async move { pipe.query_async::<()>(&mut conn).await }
                });
                futures_util::future::try_join_all(sends).await.map(drop)
            }
        }
    }

    /// Runs `cmds` and returns their replies in order: one pipeline on a single server; on a
    /// cluster each command goes to the node owning its key, all at once (commands on one key
    /// or channel keep their order: they go to one node, in order).
    ///
    /// Errors: the first failed command (an error reply or a lost connection).
    pub(crate) async fn query_each(
        &mut self,
        cmds: &[redis::Cmd],
    ) -> redis::RedisResult<Vec<Value>> {
        match self {
            Commands::Standalone(conn) => {
                let mut pipe = redis::pipe();
                for cmd in cmds {
                    pipe.add_command(cmd.clone());
                }
                pipe.query_async(conn).await
            }
            Commands::Cluster(conn) => {
                let sends = cmds.iter().map(|cmd| {
                    let mut conn = conn.clone();
                    async move { cmd.query_async::<Value>(&mut conn).await }
                });
                futures_util::future::try_join_all(sends).await
            }
        }
    }
}

/// The count in a `PUBSUB NUMSUB`/`SHARDNUMSUB` reply: `[channel, count]`, or a map of it (a
/// cluster's combined reply).
fn subscriber_count(reply: Value, channel: &str) -> redis::RedisResult<usize> {
    let pairs: Vec<(Value, Value)> = match reply {
        Value::Array(items) => {
            let mut items = items.into_iter();
            let mut pairs = Vec::new();
            while let (Some(k), Some(v)) = (items.next(), items.next()) {
                pairs.push((k, v));
            }
            pairs
        }
        Value::Map(pairs) => pairs,
        other => {
            return Err(redis::RedisError::from((
                redis::ErrorKind::UnexpectedReturnType,
                "PUBSUB NUMSUB: unexpected reply",
                format!("{other:?}"),
            )))
        }
    };
    for (key, count) in pairs {
        let key: String = redis::from_redis_value(key)?;
        if key == channel {
            let count: i64 = redis::from_redis_value(count)?;
            return Ok(usize::try_from(count).unwrap_or(0));
        }
    }
    Ok(0)
}

/// A command connection to `client`, named `name` with `CLIENT SETNAME` when given and the
/// server is standalone (so `CLIENT LIST` shows which adapter holds it), whose commands wait at
/// most `response_timeout` for their reply (`None`: no bound).
///
/// Errors: connecting (1 s connection timeout, redis-rs's default; on a cluster, to none of
/// its nodes) or the `CLIENT SETNAME`.
pub(crate) async fn connect(
    client: &RedisClient,
    name: Option<&str>,
    response_timeout: Option<Duration>,
) -> redis::RedisResult<Commands> {
    match &client.0 {
        Target::Standalone(client) => {
            let config = AsyncConnectionConfig::new().set_response_timeout(response_timeout);
            let mut conn = client
                .get_multiplexed_async_connection_with_config(&config)
                .await?;
            if let Some(name) = name {
                redis::cmd("CLIENT")
                    .arg("SETNAME")
                    .arg(name)
                    .query_async::<()>(&mut conn)
                    .await?;
            }
            Ok(Commands::Standalone(conn))
        }
        Target::Cluster(nodes) => {
            let mut builder = ClusterClientBuilder::new(nodes.clone());
            if let Some(timeout) = response_timeout {
                builder = builder.response_timeout(timeout);
            }
            Ok(Commands::Cluster(
                builder.build()?.get_async_connection().await?,
            ))
        }
    }
}

/// A command connection opened on first use, and again on the next use after a failure: a
/// write-only emitter's, or an adapter's for its occasional commands. The lock is held only
/// while connecting; commands run on a clone (the connection multiplexes).
pub(crate) struct LazyCommands {
    client: RedisClient,
    /// `CLIENT SETNAME` of the connection (on one server), if any.
    name: Option<String>,
    conn: tokio::sync::Mutex<Option<Commands>>,
}

impl LazyCommands {
    pub(crate) fn new(client: RedisClient, name: Option<String>) -> LazyCommands {
        LazyCommands {
            client,
            name,
            conn: tokio::sync::Mutex::new(None),
        }
    }

    /// The connection, opened now when there is none.
    ///
    /// Errors: connecting.
    pub(crate) async fn get(&self) -> redis::RedisResult<Commands> {
        let mut guard = self.conn.lock().await;
        if let Some(conn) = guard.as_ref() {
            return Ok(conn.clone());
        }
        let conn = connect(&self.client, self.name.as_deref(), None).await?;
        *guard = Some(conn.clone());
        Ok(conn)
    }

    /// Drops the connection after a failure: the next use opens a new one.
    pub(crate) async fn forget(&self) {
        *self.conn.lock().await = None;
    }

    async fn query_once(&self, cmd: &redis::Cmd) -> redis::RedisResult<Value> {
        let mut conn = self.get().await?;
        let result = cmd.query_async(&mut conn).await;
        if result.is_err() {
            self.forget().await;
        }
        result
    }

    /// Runs `cmd` and returns its reply, after one retry on a new connection when it failed
    /// (so a command whose reply was lost with the connection may run twice, see the module
    /// docs); `what` names the caller in the log.
    ///
    /// Errors: the retry's (connecting, an error reply, a lost connection).
    pub(crate) async fn query(&self, cmd: &redis::Cmd, what: &str) -> redis::RedisResult<Value> {
        match self.query_once(cmd).await {
            Ok(reply) => Ok(reply),
            Err(first) => {
                tracing::warn!(err = %first, "{what}: write failed, retrying on a new connection");
                self.query_once(cmd).await
            }
        }
    }
}

/// Where an adapter's subscriptions go: a standalone server (the adapter opens its own
/// pub/sub connection to it), or a cluster connection already open
/// ([`open_cluster_subscription`]).
pub(crate) enum Subscriber<'a> {
    Standalone(&'a redis::Client),
    Cluster(
        ClusterConnection,
        tokio::sync::mpsc::UnboundedReceiver<PushInfo>,
    ),
}

/// The [`Subscriber`] of `client`: on a Redis Cluster its subscription connection is opened
/// now.
///
/// Errors: connecting to none of the cluster's nodes.
pub(crate) async fn subscriber(client: &RedisClient) -> redis::RedisResult<Subscriber<'_>> {
    match &client.0 {
        Target::Standalone(standalone) => Ok(Subscriber::Standalone(standalone)),
        Target::Cluster(nodes) => {
            let (conn, pushes) =
                open_cluster_subscription(ClusterClientBuilder::new(nodes.clone())).await?;
            Ok(Subscriber::Cluster(conn, pushes))
        }
    }
}

/// A cluster connection for subscriptions (RESP3), with the receiver of its push messages
/// (`message`, `pmessage`, `smessage`, and the (un)subscribe confirmations). redis-rs
/// resubscribes every channel subscribed through it when a node's connection comes back or a
/// slot moves.
///
/// Errors: connecting to none of the cluster's nodes.
async fn open_cluster_subscription(
    builder: ClusterClientBuilder,
) -> redis::RedisResult<(
    ClusterConnection,
    tokio::sync::mpsc::UnboundedReceiver<PushInfo>,
)> {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let cluster: ClusterClient = builder
        .use_protocol(redis::ProtocolVersion::RESP3)
        .push_sender(tx)
        .build()?;
    Ok((cluster.get_async_connection().await?, rx))
}

/// Longest wait for Redis to accept a new subscription connection and answer its `AUTH` and
/// `CLIENT SETNAME`.
const SETUP_TIMEOUT: Duration = Duration::from_secs(10);

/// A byte stream to Redis (TCP or Unix socket).
pub(crate) trait RedisStream:
    tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send
{
}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> RedisStream for T {}

/// A raw connection to Redis named `name`, for a subscription: `AUTH` (when the client has a
/// password) and `CLIENT SETNAME` sent and their replies read, within [`SETUP_TIMEOUT`].
/// `Ok(None)` for addresses other than TCP and Unix sockets (TLS).
pub(crate) async fn named_stream(
    client: &redis::Client,
    name: &str,
) -> redis::RedisResult<Option<Box<dyn RedisStream>>> {
    let info = client.get_connection_info();
    let settings = info.redis_settings();
    let mut prelude = Vec::new();
    let mut replies = 1;
    if let Some(password) = settings.password() {
        let mut auth = redis::cmd("AUTH");
        if let Some(user) = settings.username() {
            auth.arg(user);
        }
        prelude.extend(auth.arg(password).get_packed_command());
        replies += 1;
    }
    prelude.extend(
        redis::cmd("CLIENT")
            .arg("SETNAME")
            .arg(name)
            .get_packed_command(),
    );
    let setup = async {
        let mut stream: Box<dyn RedisStream> = match info.addr() {
            redis::ConnectionAddr::Tcp(host, port) => {
                let stream = tokio::net::TcpStream::connect((host.as_str(), *port)).await?;
                stream.set_nodelay(true)?;
                Box::new(stream)
            }
            #[cfg(unix)]
            redis::ConnectionAddr::Unix(path) => {
                Box::new(tokio::net::UnixStream::connect(path).await?)
            }
            _ => return Ok(None),
        };
        exchange(&mut stream, &prelude, replies).await?;
        Ok::<_, redis::RedisError>(Some(stream))
    };
    tokio::time::timeout(SETUP_TIMEOUT, setup)
        .await
        .map_err(|_| {
            redis::RedisError::from(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "redis did not answer the subscription's setup in time",
            ))
        })?
}

/// Writes `prelude` and reads `replies` one-line replies (`+OK` or an error, returned).
async fn exchange<S>(stream: &mut S, prelude: &[u8], replies: usize) -> redis::RedisResult<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(prelude).await?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 512];
    while buf.windows(2).filter(|w| w == b"\r\n").count() < replies {
        let n = stream.read(&mut chunk).await?;
        if n == 0 || buf.len() > 64 * 1024 {
            return Err(redis::RedisError::from(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "redis closed the subscription connection during its setup",
            )));
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    for line in buf.split_inclusive(|b| *b == b'\n') {
        redis::parse_redis_value(line)?.extract_error()?;
    }
    Ok(())
}

/// The error of a sharded subscription on a single server reached neither over TCP nor a Unix
/// socket (TLS: [`named_stream`] gives `None`).
pub(crate) fn sharded_unsupported() -> redis::RedisError {
    redis::RedisError::from(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "sharded pub/sub on a single Redis server is reached over TCP or a Unix socket only",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply slower than redis-rs's default 500 ms response timeout is awaited (a `PUBLISH`
    /// answered late was being retried and delivered twice on a loaded machine). `BLPOP` on an
    /// empty key blocks only this connection, for 0.8 s. Needs the local Redis.
    #[tokio::test]
    async fn a_reply_slower_than_500_ms_is_awaited() {
        let client = RedisClient::open("redis://127.0.0.1:6379").unwrap();
        let mut conn = connect(&client, Some("connection-test"), None)
            .await
            .unwrap();
        let key = format!("socketio-redis-test-empty-{}", std::process::id());
        let reply: Option<(String, String)> = redis::cmd("BLPOP")
            .arg(&key)
            .arg(0.8)
            .query_async(&mut conn)
            .await
            .expect("a slow reply is not a timeout");
        assert_eq!(reply, None);

        // A bound given by the caller still applies.
        let mut bounded = connect(&client, None, Some(Duration::from_millis(200)))
            .await
            .unwrap();
        let err = redis::cmd("BLPOP")
            .arg(&key)
            .arg(0.8)
            .query_async::<Option<(String, String)>>(&mut bounded)
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err}");
    }
}
