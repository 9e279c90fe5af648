//! Faults of a mixed cluster (issue #12): one Node socket.io 4.8 server on
//! `@socket.io/redis-adapter` 8.3 and one of ours on `socketio_redis::node::RedisAdapter`,
//! sharing the real Redis (6379), with real socket.io-client clients on each (driven by
//! `tests/interop/node-cluster/mixed.mjs`: "n1", "n2" on Node, "r1", "r2" on ours; all in
//! "room1"). One of OUR Redis connections (found by its `CLIENT SETNAME`, see
//! [`RedisAdapterConfig::connection_name`]) is killed with `CLIENT KILL ID` in the middle of a
//! flood of room broadcasts; no other connection is touched (other tests share this Redis).
//! Each test has its own key prefix and connection name; lost and duplicated deliveries
//! during the cut are printed per client (`cargo test -- --nocapture` shows them).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use axum::Router;
use serde_json::{json, Value as Json};
use socketio_axum::SocketIoRouterExt;
use socketio_core::{SocketIo, SocketRef};
use socketio_redis::node::{RedisAdapter, RedisAdapterConfig};

mod common;
use common::{NodeSide, REDIS_URL};

const ALL: [&str; 4] = ["n1", "n2", "r1", "r2"];
/// Broadcasts per flood.
const N: u64 = 5_000;

fn unique_key(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("rs-node-reconnect-{test}-{}-{nanos}", std::process::id())
}

impl NodeSide {
    /// `{client: {received, duplicates, missing}}` for the flood numbers in `[from, to)`.
    async fn tally(&mut self, from: u64, to: u64) -> Json {
        self.cmd(json!({"cmd": "tally", "from": from, "to": to}))
            .await["tally"]
            .clone()
    }

    /// Polls the tally of `[from, to)` until it stops changing for 500 ms (or every client
    /// has all of it), 10 s at most.
    async fn settled_tally(&mut self, from: u64, to: u64) -> Json {
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut last = self.tally(from, to).await;
        let mut since = Instant::now();
        loop {
            let complete = ALL
                .iter()
                .all(|c| last[c]["received"].as_u64() == Some(to - from));
            if complete || since.elapsed() > Duration::from_millis(500) {
                return last;
            }
            assert!(Instant::now() < deadline, "never settled: {last}");
            tokio::time::sleep(Duration::from_millis(50)).await;
            let now = self.tally(from, to).await;
            if now != last {
                last = now;
                since = Instant::now();
            }
        }
    }

    async fn fetch(&mut self) -> BTreeSet<String> {
        let reply = self.cmd(json!({"cmd": "fetch", "rooms": ["room1"]})).await;
        reply["sockets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// Our server on the Redis adapter (connections named `name`-pub/-sub/-cmd), on an
/// ephemeral port; clients join the rooms their auth names.
struct RustSide {
    io: SocketIo,
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RustSide {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn rust_side(key: &str, name: &str) -> RustSide {
    let client = redis::Client::open(REDIS_URL).unwrap();
    let config = RedisAdapterConfig {
        key: key.to_owned(),
        request_timeout: Duration::from_secs(2),
        connection_name: Some(name.to_owned()),
        ..RedisAdapterConfig::default()
    };
    let factory = RedisAdapter::factory(client, config).await.unwrap();
    let io = SocketIo::builder()
        .adapter(factory)
        .max_buffer_size(64 * 1024)
        .build();
    io.ns("/")
        .on_connect(|socket: SocketRef, auth: Option<Json>| async move {
            for room in auth.unwrap_or_default()["rooms"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                socket.join(room.as_str().unwrap().to_owned());
            }
            Ok::<(), socketio_core::ConnectError>(())
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new().socketio(&io);
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    RustSide { io, port, task }
}

/// Both sides up, each counting two nodes; returns our connection name too.
async fn mixed(test: &str) -> (RustSide, NodeSide, String) {
    let key = unique_key(test);
    let name = format!("socketio-rs-{key}");
    let rust = rust_side(&key, &name).await;
    let mut node = NodeSide::start_script("classic", &key, rust.port, false).await;
    node.drop_client_lines();
    assert_eq!(rust.io.ns("/").server_count().await, 2);
    assert_eq!(node.cmd(json!({"cmd": "count"})).await["count"], json!(2));
    (rust, node, name)
}

async fn redis_conn() -> redis::aio::MultiplexedConnection {
    redis::Client::open(REDIS_URL)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// The ids of the Redis connections named `name` (CLIENT LIST).
async fn connections_named(name: &str) -> Vec<String> {
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(&mut redis_conn().await)
        .await
        .unwrap();
    list.lines()
        .filter(|l| l.split(' ').any(|f| f == format!("name={name}")))
        .filter_map(|l| {
            l.split(' ')
                .find_map(|f| f.strip_prefix("id="))
                .map(str::to_owned)
        })
        .collect()
}

/// Kills the one connection named `name` and returns its id.
async fn kill_the_one_named(name: &str) -> String {
    let ids = connections_named(name).await;
    assert_eq!(ids.len(), 1, "connections named {name}: {ids:?}");
    let killed: u64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(&ids[0])
        .query_async(&mut redis_conn().await)
        .await
        .unwrap();
    assert_eq!(killed, 1);
    ids[0].clone()
}

/// Polls `check` (every 20 ms, 10 s at most) until it holds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until client `who` got some (not all) of the flood `[from, from + N)`.
async fn wait_for_some(node: &mut NodeSide, who: &str, from: u64) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let tally = node.tally(from, from + N).await;
        let got = tally[who]["received"].as_u64().unwrap();
        if got > 0 {
            assert!(got < N, "too late to cut: {tally}");
            return;
        }
        assert!(Instant::now() < deadline, "nothing arrived: {tally}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Prints a flood's tally as lost/duplicated per client; returns the lost counts.
fn report(what: &str, tally: &Json) -> BTreeMap<&'static str, u64> {
    let mut lost = BTreeMap::new();
    for c in ALL {
        let received = tally[c]["received"].as_u64().unwrap();
        lost.insert(c, N - received);
        eprintln!(
            "{what}: {c}: lost {} of {N}, duplicated {} (missing ranges {})",
            N - received,
            tally[c]["duplicates"],
            tally[c]["missing"]
        );
    }
    lost
}

/// Both ways again: Node's flood `[from, from + N)` and ours `[from + N, from + 2N)` reach
/// every client, none more than once (no duplicates beyond those of `before`, a tally of the
/// cut), and each side's fetch_sockets sees all four clients.
async fn all_crosses_again(rust: &RustSide, node: &mut NodeSide, from: u64, before: &Json) {
    node.cmd(json!({"cmd": "floodfrom", "start": from, "count": N}))
        .await;
    node.wait_for(|l| l["flooded"] == json!(from)).await;
    for i in from + N..from + 2 * N {
        rust.io.to("room1").emit("flood", &i).unwrap();
    }
    let tally = node.settled_tally(from, from + 2 * N).await;
    for c in ALL {
        assert_eq!(
            tally[c]["received"],
            json!(2 * N),
            "{c} lost some after recovery: {tally}"
        );
        assert_eq!(
            tally[c]["duplicates"], before[c]["duplicates"],
            "{c} duplicated after recovery: {tally}"
        );
    }
    let everyone: BTreeSet<String> = node.ids().values().cloned().collect();
    let ours: BTreeSet<String> = rust
        .io
        .to("room1")
        .fetch_sockets()
        .await
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(ours, everyone, "our fetch_sockets after recovery");
    assert_eq!(
        node.fetch().await,
        everyone,
        "Node's fetchSockets after recovery"
    );
}

/// Our subscription connection (and only it) is killed while Node floods 5 000 room
/// broadcasts (50 every 2 ms): it reconnects by itself (a new connection with our name, before
/// it subscribes), Node counts two nodes again, and then broadcasts and fetch_sockets cross
/// both ways with nothing lost. Pub/sub has no replay: what Redis published to us during the
/// cut is lost for our clients (printed); nothing is duplicated; Node's clients lose nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_subscription_reconnects_by_itself_after_its_connection_is_killed() {
    let (rust, mut node, name) = mixed("sub").await;
    let sub = format!("{name}-sub");
    node.cmd(json!({"cmd": "floodfrom", "start": 0, "count": N, "batch": 50, "every": 2}))
        .await;
    wait_for_some(&mut node, "r1", 0).await;
    let killed = kill_the_one_named(&sub).await;
    assert!(
        !node.has_seen(|l| l["flooded"] == json!(0)),
        "the flood ended before the cut"
    );
    node.wait_for(|l| l["flooded"] == json!(0)).await;
    eventually("a new subscription connection named after us", || async {
        let ids = connections_named(&sub).await;
        ids.len() == 1 && ids[0] != killed
    })
    .await;
    eventually("Node counts two nodes again", || {
        let io = rust.io.clone();
        async move { io.ns("/").server_count().await == 2 }
    })
    .await;
    let tally = node.settled_tally(0, N).await;
    let lost = report("subscription cut", &tally);
    for c in ALL {
        assert_eq!(tally[c]["duplicates"], json!(0), "{c} duplicated: {tally}");
    }
    assert_eq!((lost["n1"], lost["n2"]), (0, 0), "Node's clients: {tally}");
    all_crosses_again(&rust, &mut node, N, &tally).await;
}

/// Our publishing connection (and only it) is killed while we flood 5 000 room broadcasts
/// (50 every 2 ms): the batch that failed is retried once on a new connection (named after
/// us), later ones go through it. Lost and duplicated deliveries at Node's clients are printed
/// (a batch Redis had partly published before the cut is published again whole); our own
/// clients get everything once (local delivery). Afterwards everything crosses both ways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_publisher_reconnects_by_itself_after_its_connection_is_killed() {
    let (rust, mut node, name) = mixed("pub").await;
    let publisher = format!("{name}-pub");
    let io = rust.io.clone();
    let flood = tokio::spawn(async move {
        for i in 0..N {
            io.to("room1").emit("flood", &i).unwrap();
            if i % 50 == 49 {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }
    });
    wait_for_some(&mut node, "n1", 0).await;
    let killed = kill_the_one_named(&publisher).await;
    assert!(!flood.is_finished(), "the flood ended before the cut");
    flood.await.unwrap();
    let tally = node.settled_tally(0, N).await;
    let lost = report("publisher cut", &tally);
    assert_eq!((lost["r1"], lost["r2"]), (0, 0), "our clients: {tally}");
    eventually("a new publishing connection named after us", || async {
        let ids = connections_named(&publisher).await;
        ids.len() == 1 && ids[0] != killed
    })
    .await;
    all_crosses_again(&rust, &mut node, N, &tally).await;
}
