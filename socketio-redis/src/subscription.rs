//! The subscription task of every adapter of this crate on a Redis Cluster
//! ([`run_cluster_subscriber`]). On a single server each adapter keeps its own subscription
//! loop (a RESP2 connection it reconnects and resubscribes itself); on a cluster, redis-rs's
//! cluster connection carries the subscriptions (RESP3 push messages), sends each to the node
//! that serves it and restores them when a node's connection comes back or a slot moves.

use std::time::Duration;

use redis::cluster_async::ClusterConnection;
use redis::{Msg, PushInfo};
use tokio::sync::mpsc;

/// A change to the subscriptions, as an adapter asks for it.
pub(crate) enum SubCommand {
    /// `SUBSCRIBE`: classic pub/sub channels.
    Subscribe(Vec<String>),
    /// `PSUBSCRIBE`: classic pub/sub patterns.
    PSubscribe(Vec<String>),
    /// `SSUBSCRIBE`: sharded channels (Redis 7).
    SSubscribe(Vec<String>),
    /// `UNSUBSCRIBE`.
    Unsubscribe(Vec<String>),
    /// `PUNSUBSCRIBE`.
    PUnsubscribe(Vec<String>),
    /// `SUNSUBSCRIBE`.
    SUnsubscribe(Vec<String>),
}

/// How often the subscription connection pings every primary: a node whose connection was
/// lost is reconnected (and its subscriptions restored) by redis-rs when a command needs it,
/// and a subscription connection sends no other command.
const KEEPALIVE: Duration = Duration::from_secs(2);
/// The longest wait for a ping's answer.
const PING_TIMEOUT: Duration = Duration::from_secs(5);
const MIN_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Owns a cluster subscription connection ([`crate::connection::cluster_subscription`]):
/// applies the changes received on `subs` (each turned into a [`SubCommand`] by `command`
/// when it is applied, `None` to skip it), hands every message to `on_message`, and pings the
/// primaries every [`KEEPALIVE`]. A change that fails (a node down) is retried with a growing
/// delay until it succeeds. `label` names the adapter in logs. Ends when `subs` closes (every
/// adapter and the factory gone).
pub(crate) async fn run_cluster_subscriber<S>(
    label: &'static str,
    mut conn: ClusterConnection,
    mut pushes: mpsc::UnboundedReceiver<PushInfo>,
    mut subs: mpsc::UnboundedReceiver<S>,
    mut command: impl FnMut(S) -> Option<SubCommand> + Send,
    mut on_message: impl FnMut(&Msg) + Send,
) {
    let mut keepalive = tokio::time::interval(KEEPALIVE);
    keepalive.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            sub = subs.recv() => {
                let Some(sub) = sub else { return };
                if let Some(cmd) = command(sub) {
                    apply(label, &mut conn, cmd).await;
                }
            }
            push = pushes.recv() => {
                let Some(push) = push else {
                    tracing::warn!(label, "redis cluster subscription closed");
                    return;
                };
                if let Some(msg) = Msg::from_push_info(push) {
                    on_message(&msg);
                }
            }
            _ = keepalive.tick() => {
                let ping = redis::cmd("PING");
                match tokio::time::timeout(PING_TIMEOUT, ping.query_async::<redis::Value>(&mut conn)).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(err)) => tracing::debug!(label, %err, "redis cluster ping failed"),
                    Err(_) => tracing::debug!(label, "redis cluster ping timed out"),
                }
            }
        }
    }
}

/// Applies `cmd` one channel at a time (a sharded command's channels must share a slot, and
/// each channel's subscription goes to the node that serves it), retrying each until it
/// succeeds.
async fn apply(label: &'static str, conn: &mut ClusterConnection, cmd: SubCommand) {
    let (name, channels) = match &cmd {
        SubCommand::Subscribe(c) => ("SUBSCRIBE", c),
        SubCommand::PSubscribe(c) => ("PSUBSCRIBE", c),
        SubCommand::SSubscribe(c) => ("SSUBSCRIBE", c),
        SubCommand::Unsubscribe(c) => ("UNSUBSCRIBE", c),
        SubCommand::PUnsubscribe(c) => ("PUNSUBSCRIBE", c),
        SubCommand::SUnsubscribe(c) => ("SUNSUBSCRIBE", c),
    };
    for channel in channels {
        let mut backoff = MIN_BACKOFF;
        loop {
            let result = match &cmd {
                SubCommand::Subscribe(_) => conn.subscribe(channel).await,
                SubCommand::PSubscribe(_) => conn.psubscribe(channel).await,
                SubCommand::SSubscribe(_) => conn.ssubscribe(channel).await,
                SubCommand::Unsubscribe(_) => conn.unsubscribe(channel).await,
                SubCommand::PUnsubscribe(_) => conn.punsubscribe(channel).await,
                SubCommand::SUnsubscribe(_) => conn.sunsubscribe(channel).await,
            };
            match result {
                Ok(()) => break,
                Err(err) => {
                    tracing::warn!(label, %err, command = name, channel, "redis cluster subscription change failed, retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }
}
