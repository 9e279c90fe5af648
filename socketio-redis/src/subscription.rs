//! Subscription tasks shared by the adapters of this crate: every adapter on a Redis Cluster
//! ([`run_cluster_subscriber`]: redis-rs's cluster connection carries the subscriptions as
//! RESP3 push messages, sends each to the node that serves it and restores them when a node's
//! connection comes back or a slot moves), and sharded pub/sub on a single Redis 7 server
//! ([`run_sharded_subscriber`]: redis-rs's `PubSub` has no `SSUBSCRIBE`, so this reads the
//! RESP2 replies itself). Classic pub/sub on a single server is each adapter's own loop on
//! redis-rs's `PubSub`.

use std::collections::BTreeSet;
use std::time::Duration;

use redis::cluster_async::ClusterConnection;
use redis::{Msg, PushInfo, PushKind};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::sync::mpsc;

use crate::connection::{named_stream, RedisStream};

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
/// How long after a node's disconnection the sharded channels are subscribed again (several
/// nodes' disconnections are handled together).
const RESUBSCRIBE_DELAY: Duration = Duration::from_millis(100);
const MIN_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// Owns a cluster subscription connection ([`crate::connection::subscriber`]):
/// applies the changes received on `subs` (each turned into a [`SubCommand`] by `command`
/// when it is applied, `None` to skip it), hands every message to `on_message`, and pings the
/// primaries every [`KEEPALIVE`]. A change that fails (a node down) is retried with a growing
/// delay until it succeeds, the other channels' messages still delivered meanwhile. `label` names the adapter in logs. Ends when `subs` closes (every
/// adapter and the factory gone).
///
/// After a node's connection drops, redis-rs reconnects it and resubscribes its channels and
/// patterns, but it sends the node's sharded channels in one `SSUBSCRIBE`, which Redis refuses
/// (`CROSSSLOT`) when they hash to different slots: so this task subscribes every sharded
/// channel again itself, one at a time, [`RESUBSCRIBE_DELAY`] after a disconnection.
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
    let mut state = ClusterState {
        label,
        sharded: BTreeSet::new(),
        resubscribe_at: None,
    };
    loop {
        let resubscribe_at = state.resubscribe_at;
        let resubscribe = async {
            match resubscribe_at {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            sub = subs.recv() => {
                let Some(sub) = sub else { return };
                if let Some(cmd) = command(sub) {
                    match &cmd {
                        SubCommand::SSubscribe(c) => state.sharded.extend(c.iter().cloned()),
                        SubCommand::SUnsubscribe(c) => c.iter().for_each(|ch| { state.sharded.remove(ch); }),
                        _ => {}
                    }
                    if !state.apply(&mut conn, cmd, &mut pushes, &mut on_message).await {
                        return;
                    }
                }
            }
            push = pushes.recv() => {
                if !state.on_push(push, &mut on_message) {
                    return;
                }
            }
            () = resubscribe => {
                state.resubscribe_at = None;
                if !state.sharded.is_empty() {
                    let channels = state.sharded.iter().cloned().collect();
                    if !state.apply(&mut conn, SubCommand::SSubscribe(channels), &mut pushes, &mut on_message).await {
                        return;
                    }
                    tracing::info!(label, "sharded subscriptions restored");
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

/// What [`run_cluster_subscriber`] keeps between events.
struct ClusterState {
    label: &'static str,
    /// The sharded channels subscribed, to subscribe again after a disconnection.
    sharded: BTreeSet<String>,
    /// When to subscribe them again, after a node's connection dropped.
    resubscribe_at: Option<tokio::time::Instant>,
}

impl ClusterState {
    /// Handles one push (a message, or a node's disconnection); `false` when the push channel
    /// closed (the connection is gone for good).
    fn on_push(&mut self, push: Option<PushInfo>, on_message: &mut impl FnMut(&Msg)) -> bool {
        let label = self.label;
        let Some(push) = push else {
            tracing::warn!(label, "redis cluster subscription closed");
            return false;
        };
        if push.kind == PushKind::Disconnection {
            tracing::info!(
                label,
                "a redis cluster node's subscription connection dropped"
            );
            self.resubscribe_at
                .get_or_insert_with(|| tokio::time::Instant::now() + RESUBSCRIBE_DELAY);
        } else if let Some(msg) = Msg::from_push_info(push) {
            on_message(&msg);
        }
        true
    }

    /// Applies `cmd` one channel at a time (a sharded command's channels must share a slot,
    /// and each channel's subscription goes to the node that serves it), retrying each until
    /// it succeeds; while it waits to retry, the messages of the channels already subscribed
    /// keep being delivered (the push queue is drained, not left to grow). `false` when the
    /// push channel closed.
    async fn apply(
        &mut self,
        conn: &mut ClusterConnection,
        cmd: SubCommand,
        pushes: &mut mpsc::UnboundedReceiver<PushInfo>,
        on_message: &mut impl FnMut(&Msg),
    ) -> bool {
        let label = self.label;
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
                let Err(err) = result else { break };
                tracing::warn!(label, %err, command = name, channel, "redis cluster subscription change failed, retrying");
                let pause = tokio::time::sleep(backoff);
                tokio::pin!(pause);
                loop {
                    tokio::select! {
                        () = &mut pause => break,
                        push = pushes.recv() => {
                            if !self.on_push(push, on_message) {
                                return false;
                            }
                        }
                    }
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
        true
    }
}

/// The pacing of a subscription loop's reconnections on a single server: no wait before
/// reconnecting a subscription that had been up for [`STABLE`] (every message published
/// meanwhile is lost, so at once), a delay doubling from `min` to `max` after a failed attempt
/// or a subscription lost soon after it was made.
pub(crate) struct Reconnect {
    min: Duration,
    max: Duration,
    backoff: Duration,
    wait: bool,
}

impl Reconnect {
    pub(crate) fn new(min: Duration, max: Duration) -> Reconnect {
        Reconnect {
            min,
            max,
            backoff: min,
            wait: false,
        }
    }

    /// Before an attempt to reconnect: waits when it should (see the type).
    pub(crate) async fn pace(&mut self) {
        if self.wait {
            tokio::time::sleep(self.backoff).await;
            self.backoff = (self.backoff * 2).min(self.max);
        }
        self.wait = true;
    }

    /// A subscription that had been up since `up` was lost.
    pub(crate) fn lost(&mut self, up: tokio::time::Instant) {
        if up.elapsed() >= STABLE {
            self.wait = false;
            self.backoff = self.min;
        }
    }
}

/// Largest bulk string read from a sharded subscription (Redis's own `proto-max-bulk-len`
/// default).
const MAX_BULK: usize = 512 * 1024 * 1024;
/// How long a subscription on a single server must have been up for its loss to be followed
/// by an immediate reconnect (else the next attempt waits its backoff; see [`Reconnect`]).
const STABLE: Duration = Duration::from_secs(1);

/// Owns a sharded pub/sub connection to one Redis 7 server (`first`, opened with
/// [`named_stream`]): sends the `SSUBSCRIBE`/`SUNSUBSCRIBE` of the changes received on `subs`
/// (turned into [`SubCommand::SSubscribe`]/[`SubCommand::SUnsubscribe`] by `command`; other
/// kinds are ignored), hands every `smessage` to `on_message(channel, payload)`, and when
/// Redis drops the connection reconnects (named `name`) and subscribes `channels()` again.
/// `label` names the adapter in logs. Ends when `subs` closes.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn run_sharded_subscriber<S>(
    label: &'static str,
    client: redis::Client,
    name: String,
    first: Box<dyn RedisStream>,
    mut subs: mpsc::UnboundedReceiver<S>,
    mut command: impl FnMut(S) -> Option<SubCommand> + Send,
    channels: impl Fn() -> Vec<String> + Send,
    mut on_message: impl FnMut(&str, &[u8]) + Send,
) {
    let mut next = Some(first);
    let mut reconnect = Reconnect::new(MIN_BACKOFF, MAX_BACKOFF);
    loop {
        let stream = match next.take() {
            Some(s) => s,
            None => {
                if subs.is_closed() {
                    return;
                }
                reconnect.pace().await;
                match named_stream(&client, &name).await {
                    Ok(Some(s)) => s,
                    Ok(None) => return,
                    Err(err) => {
                        tracing::warn!(label, %err, "reconnecting the sharded subscription failed");
                        continue;
                    }
                }
            }
        };
        let (read, mut write) = tokio::io::split(stream);
        let mut read = BufReader::new(read);
        let wanted = channels();
        if !wanted.is_empty() {
            if let Err(err) = write.write_all(&packed("SSUBSCRIBE", &wanted)).await {
                tracing::warn!(label, %err, "resubscribing the sharded channels failed");
                continue;
            }
            tracing::info!(label, "sharded subscription restored");
        }
        let up = tokio::time::Instant::now();
        loop {
            tokio::select! {
                sub = subs.recv() => {
                    let Some(sub) = sub else { return };
                    let bytes = match command(sub) {
                        Some(SubCommand::SSubscribe(c)) => packed("SSUBSCRIBE", &c),
                        Some(SubCommand::SUnsubscribe(c)) => packed("SUNSUBSCRIBE", &c),
                        _ => continue,
                    };
                    if let Err(err) = write.write_all(&bytes).await {
                        tracing::warn!(label, %err, "sharded subscription lost, reconnecting");
                        break;
                    }
                }
                frame = read_frame(&mut read) => match frame {
                    Ok(Frame::Array(items)) => {
                        if let [Some(kind), Some(channel), Some(payload)] = &items[..] {
                            if kind == b"smessage" {
                                if let Ok(channel) = std::str::from_utf8(channel) {
                                    on_message(channel, payload);
                                }
                            }
                        }
                    }
                    Ok(Frame::Error(err)) => tracing::warn!(label, err, "redis refused a sharded subscription command"),
                    Ok(Frame::Other) => {}
                    Err(err) => {
                        tracing::warn!(label, %err, "sharded subscription lost, reconnecting");
                        break;
                    }
                }
            }
        }
        reconnect.lost(up);
    }
}

/// One RESP2 reply on the subscription: an array of bulk strings / integers (a pub/sub
/// message or confirmation), or anything else (ignored).
enum Frame {
    Array(Vec<Option<Vec<u8>>>),
    Error(String),
    Other,
}

async fn read_line<R: AsyncBufReadExt + Unpin>(r: &mut R) -> std::io::Result<Vec<u8>> {
    let mut line = Vec::new();
    // A line is a type byte and a number or short text: refuse runaway ones.
    let n = (&mut *r)
        .take(64 * 1024)
        .read_until(b'\n', &mut line)
        .await?;
    if n == 0 || !line.ends_with(b"\r\n") {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "redis closed the subscription (or sent a malformed line)",
        ));
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

fn bad(what: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned())
}

fn number(bytes: &[u8]) -> std::io::Result<i64> {
    std::str::from_utf8(bytes)
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("malformed RESP length"))
}

/// Reads one element of an array: a bulk string (`None` when nil), or an integer / simple
/// string as its text.
async fn read_element<R: AsyncBufReadExt + Unpin>(r: &mut R) -> std::io::Result<Option<Vec<u8>>> {
    let line = read_line(r).await?;
    match line.first() {
        Some(b'$') => {
            let len = number(&line[1..])?;
            if len < 0 {
                return Ok(None);
            }
            let len = usize::try_from(len).map_err(|_| bad("bad bulk length"))?;
            if len > MAX_BULK {
                return Err(bad("bulk string too long"));
            }
            let mut buf = vec![0; len + 2];
            r.read_exact(&mut buf).await?;
            buf.truncate(len);
            Ok(Some(buf))
        }
        Some(b':' | b'+') => Ok(Some(line[1..].to_vec())),
        _ => Err(bad("unexpected RESP element on the subscription")),
    }
}

async fn read_frame<R: AsyncBufReadExt + Unpin>(r: &mut R) -> std::io::Result<Frame> {
    let line = read_line(r).await?;
    match line.first() {
        Some(b'*') => {
            let n = number(&line[1..])?;
            if !(0..=16).contains(&n) {
                return Err(bad("unexpected array length on the subscription"));
            }
            let mut items = Vec::with_capacity(n as usize);
            for _ in 0..n {
                items.push(read_element(r).await?);
            }
            Ok(Frame::Array(items))
        }
        Some(b'-') => Ok(Frame::Error(
            String::from_utf8_lossy(&line[1..]).into_owned(),
        )),
        _ => Ok(Frame::Other),
    }
}

fn packed(command: &str, channels: &[String]) -> Vec<u8> {
    redis::cmd(command).arg(channels).get_packed_command()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::{connect, subscriber, RedisClient, Subscriber};

    const CLUSTER: [&str; 3] = [
        "redis://127.0.0.1:7000",
        "redis://127.0.0.1:7001",
        "redis://127.0.0.1:7002",
    ];

    /// Publishes `round` on every channel (sharded ones with `SPUBLISH`, the classic one with
    /// `PUBLISH`) until each has delivered it, within 15 s.
    async fn every_channel_delivers(
        commands: &mut crate::connection::Commands,
        sharded: &[String],
        classic: &str,
        got: &mut mpsc::UnboundedReceiver<(String, Vec<u8>)>,
        round: &str,
    ) {
        let want: BTreeSet<String> = sharded
            .iter()
            .cloned()
            .chain([classic.to_owned()])
            .collect();
        let mut seen = BTreeSet::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while seen != want {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{round}: only {seen:?} of {want:?} delivered"
            );
            let batch: Vec<(String, Vec<u8>)> = sharded
                .iter()
                .filter(|c| !seen.contains(*c))
                .map(|c| (c.clone(), round.as_bytes().to_vec()))
                .collect();
            if !batch.is_empty() {
                commands.publish_batch("SPUBLISH", &batch).await.unwrap();
            }
            if !seen.contains(classic) {
                let one = [(classic.to_owned(), round.as_bytes().to_vec())];
                commands.publish_batch("PUBLISH", &one).await.unwrap();
            }
            let until = tokio::time::Instant::now() + Duration::from_millis(300);
            while let Ok(Some((channel, payload))) =
                tokio::time::timeout_at(until, got.recv()).await
            {
                if payload == round.as_bytes() {
                    seen.insert(channel);
                }
            }
        }
    }

    /// On the local Redis Cluster (`scripts/services.sh`): sharded channels spread over every
    /// primary and a classic channel are subscribed, counted (`SHARDNUMSUB`/`NUMSUB` summed
    /// over the primaries) and delivered (`SPUBLISH` pipelined per slot); then every pub/sub
    /// connection of the cluster is killed (`CLIENT KILL TYPE pubsub` on each primary), and
    /// the subscriptions come back by themselves (redis-rs reconnects the node on the next
    /// ping and resubscribes).
    #[tokio::test]
    async fn cluster_subscriptions_deliver_from_every_slot_and_survive_a_killed_connection() {
        let client = RedisClient::cluster(CLUSTER).unwrap();
        let Subscriber::Cluster(conn, pushes) = subscriber(&client).await.unwrap() else {
            panic!("a cluster client subscribes through a cluster connection");
        };
        let (subs, sub_rx) = mpsc::unbounded_channel();
        let (tx, mut got) = mpsc::unbounded_channel();
        tokio::spawn(run_cluster_subscriber(
            "test",
            conn,
            pushes,
            sub_rx,
            Some,
            move |msg: &Msg| {
                let _ = tx.send((
                    msg.get_channel_name().to_owned(),
                    msg.get_payload_bytes().to_vec(),
                ));
            },
        ));
        let tag = format!("subscription-test-{}", std::process::id());
        let sharded: Vec<String> = (0..12).map(|i| format!("{tag}-s{i}")).collect();
        let classic = format!("{tag}-c");
        subs.send(SubCommand::SSubscribe(sharded.clone())).unwrap();
        subs.send(SubCommand::Subscribe(vec![classic.clone()]))
            .unwrap();

        let mut commands = connect(&client, None, None).await.unwrap();
        // The channels' slots cover all three primaries (`redis-cli --cluster create` gives
        // each a third of the 16 384 slots).
        let mut slots = BTreeSet::new();
        for channel in &sharded {
            let slot: u16 = redis::cmd("CLUSTER")
                .arg("KEYSLOT")
                .arg(channel)
                .query_async(&mut commands)
                .await
                .unwrap();
            slots.insert(slot / 5462);
        }
        assert_eq!(slots.len(), 3, "channels on every third of the slots");

        every_channel_delivers(&mut commands, &sharded, &classic, &mut got, "before").await;
        for channel in &sharded {
            assert_eq!(
                commands.pubsub_count("SHARDNUMSUB", channel).await.unwrap(),
                1
            );
        }
        assert_eq!(commands.pubsub_count("NUMSUB", &classic).await.unwrap(), 1);

        for url in CLUSTER {
            let mut node = redis::Client::open(url)
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .unwrap();
            let killed: i64 = redis::cmd("CLIENT")
                .arg("KILL")
                .arg("TYPE")
                .arg("pubsub")
                .query_async(&mut node)
                .await
                .unwrap();
            assert!(killed >= 1, "{url}: no pub/sub connection to kill");
        }
        every_channel_delivers(&mut commands, &sharded, &classic, &mut got, "after").await;
    }
}
