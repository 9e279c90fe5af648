//! Opening command connections to Redis, for every adapter, emitter and the bus of this crate.
//!
//! redis-rs gives each command a 500 ms response timeout by default. A `PUBLISH` or `XADD` that
//! times out has usually reached Redis all the same (the reply was merely slow, e.g. on a loaded
//! machine), so retrying it delivers the message twice. Connections opened here wait for replies
//! as long as the connection lives unless the caller asks for a bound: a dead connection still
//! fails at once (the socket errors), and callers that must not wait forever (requests between
//! nodes) bound the wait themselves.

use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::AsyncConnectionConfig;

/// A multiplexed connection to `client`'s server, named `name` with `CLIENT SETNAME` when
/// given (so `CLIENT LIST` shows which adapter holds it), whose commands wait at most
/// `response_timeout` for their reply (`None`: no bound).
///
/// Errors: connecting (1 s connection timeout, redis-rs's default) or the `CLIENT SETNAME`.
pub(crate) async fn connect(
    client: &redis::Client,
    name: Option<&str>,
    response_timeout: Option<Duration>,
) -> redis::RedisResult<MultiplexedConnection> {
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
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reply slower than redis-rs's default 500 ms response timeout is awaited (a `PUBLISH`
    /// answered late was being retried and delivered twice on a loaded machine). `BLPOP` on an
    /// empty key blocks only this connection, for 0.8 s. Needs the local Redis.
    #[tokio::test]
    async fn a_reply_slower_than_500_ms_is_awaited() {
        let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
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
