//! A mixed cluster: one Node socket.io 4.8 server on `@socket.io/postgres-adapter` 0.5 and one
//! of ours on `socketio_postgres::PostgresAdapter`, sharing the real PostgreSQL (127.0.0.1:5432,
//! database `test`), with real socket.io-client clients on each (driven by
//! `tests/interop/node-postgres/mixed.mjs`: "n1", "n2" on Node, "r1", "r2" on ours; all in
//! "room1", n2 and r2 in "room2"). Every operation crosses both ways. Each test has its own
//! channel prefix, so they run in parallel; the Node process is killed when a test ends,
//! failed or not. Heartbeats are shortened (every 500 ms, dropped after 1.5 s) on both sides.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::Router;
use serde_json::{json, Value as Json};
use socketio_axum::SocketIoRouterExt;
use socketio_core::{Args, SocketIo, SocketRef};
use socketio_postgres::{create_attachment_table, Emitter, PostgresAdapter, PostgresAdapterConfig};
use tokio::sync::mpsc;

#[path = "../../socketio-redis/tests/common/mod.rs"]
mod common;
use common::NodeSide;

const PG: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test";
const HEARTBEAT: Duration = Duration::from_millis(500);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

fn node_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/node-postgres");
    assert!(
        dir.join("node_modules/@socket.io/postgres-adapter")
            .is_dir(),
        "{} has no node_modules: run scripts/setup-interop.sh",
        dir.display()
    );
    dir
}

fn unique_key(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    // A channel name must fit in 63 bytes: `{prefix}#/` stays well below.
    format!(
        "rs-pg-{test}-{}-{}",
        std::process::id(),
        nanos % 1_000_000_000
    )
}

/// The Node side: `mixed.mjs` of tests/interop/node-postgres on the harness the Redis
/// adapters' mixed-cluster tests use.
struct PgNode;

impl PgNode {
    async fn start(key: &str, rust_port: u16) -> NodeSide {
        Self::start_with(key, rust_port, false).await
    }

    async fn start_with(key: &str, rust_port: u16, clients_only: bool) -> NodeSide {
        NodeSide::spawn(
            node_dir(),
            "postgres",
            &[
                (
                    "CLIENTS_ONLY",
                    if clients_only { "1" } else { "" }.to_owned(),
                ),
                ("PREFIX", key.to_owned()),
                ("RUST_PORT", rust_port.to_string()),
                ("HB_MS", HEARTBEAT.as_millis().to_string()),
                ("PGHOST", "127.0.0.1".to_owned()),
                ("PGPORT", "5432".to_owned()),
                ("PGUSER", "postgres".to_owned()),
                ("PGDATABASE", "test".to_owned()),
            ],
        )
        .await
    }
}

/// A plain connection (driven in the background).
async fn pg_client() -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(PG, tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL on 127.0.0.1:5432");
    tokio::spawn(conn);
    client
}

/// The attachment table, created once per test process (tests run in parallel, and a
/// concurrent `CREATE TABLE IF NOT EXISTS` can still collide: retried).
async fn ensure_table() {
    static DONE: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    DONE.get_or_init(|| async {
        let client = pg_client().await;
        for _ in 0..5 {
            if create_attachment_table(&client, "socket_io_attachments")
                .await
                .is_ok()
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("cannot create socket_io_attachments");
    })
    .await;
}

/// Our server on the Postgres adapter, serving on an ephemeral port; clients join the rooms
/// their auth names; server-side `node-sse` events are reported on `server_events` and acked
/// with `{"from": "rust"}`.
struct RustSide {
    io: SocketIo,
    key: String,
    port: u16,
    server_events: mpsc::UnboundedReceiver<Json>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RustSide {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn rust_side(key: &str) -> RustSide {
    ensure_table().await;
    let config = PostgresAdapterConfig {
        channel_prefix: key.to_owned(),
        request_timeout: REQUEST_TIMEOUT,
        heartbeat_interval: HEARTBEAT,
        heartbeat_timeout: HEARTBEAT * 3,
        listener_application_name: Some(format!("{key}-listen")),
        ..PostgresAdapterConfig::default()
    };
    let factory = PostgresAdapter::factory(PG.parse().unwrap(), config)
        .await
        .unwrap();
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
    let (tx, server_events) = mpsc::unbounded_channel();
    io.ns("/").on_server_event("node-sse", move |args: Args| {
        let _ = tx.send(Json::Array(args.values().to_vec()));
        async { Args::from_serialize(&json!({"from": "rust"})).unwrap() }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new().socketio(&io);
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    RustSide {
        io,
        key: key.to_owned(),
        port,
        server_events,
        task,
    }
}

/// Both sides up, each counting two nodes (from heartbeats: within a few hundred ms).
async fn mixed(test: &str) -> (RustSide, NodeSide) {
    let key = unique_key(test);
    let rust = rust_side(&key).await;
    let mut node = PgNode::start(&key, rust.port).await;
    eventually("ours counts two nodes", || async {
        rust.io.ns("/").server_count().await == 2
    })
    .await;
    let deadline = Instant::now() + Duration::from_secs(5);
    while node.cmd(json!({"cmd": "count"})).await["count"] != json!(2) {
        assert!(Instant::now() < deadline, "Node does not count two nodes");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (rust, node)
}

fn ids(sockets: &[socketio_core::adapter::SocketInfo]) -> BTreeSet<String> {
    sockets.iter().map(|s| s.id.clone()).collect()
}

fn set(node: &NodeSide, names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| node.id(n)).collect()
}

/// Polls `check` (every 50 ms, 5 s at most) until it holds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(5);
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within 5 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn node_fetch(node: &mut NodeSide, rooms: &[&str]) -> BTreeSet<String> {
    let reply = node.cmd(json!({"cmd": "fetch", "rooms": rooms})).await;
    reply["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls Node's fetchSockets of `room` (5 s at most) until it finds `want`.
async fn node_fetch_until(node: &mut NodeSide, room: &str, want: &BTreeSet<String>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let found = node_fetch(node, &[room]).await;
        if found == *want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "Node fetch {room}: {found:?}, want {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const ALL: [&str; 4] = ["n1", "n2", "r1", "r2"];

/// Waits for each `(client, event, args)` of `want` (in any order: Node delivers to its own
/// clients only once its publish is done, so a message through the attachment table can
/// overtake nothing and be overtaken), then checks, with a marker broadcast from Node, that
/// no client got anything else.
async fn expect_exactly(node: &mut NodeSide, want: &[(&str, &str, Json)], mark: &str) {
    for (client, event, args) in want {
        let line = node
            .wait_for(|l| l["client"] == json!(client) && l["event"] == json!(event))
            .await;
        assert_eq!(line["args"], *args, "{client} {event}");
    }
    node.cmd(json!({"cmd": "emit", "event": mark})).await;
    for name in ALL {
        let got = node.events_until(name, mark).await;
        assert!(got.is_empty(), "{name} also got {got:?}");
    }
}

/// Broadcasts with `except`, binary and over 8000 bytes (the attachment table), acks gathered
/// across nodes, fetchSockets, socketsJoin/Leave, serverSideEmit with and without ack (with
/// binary), both emitters and disconnectSockets, each from the Node side to ours and from ours
/// to the Node side.
#[tokio::test]
async fn every_operation_crosses_a_mixed_cluster_both_ways() {
    let (mut rust, mut node) = mixed("ops").await;
    let io = rust.io.clone();
    let big = "x".repeat(9000);

    // Node -> everyone: to room1 except room2, with binary (attachment), then a big JSON one.
    node.cmd(json!({"cmd": "emit", "rooms": ["room1"], "except": ["room2"], "event": "from-node", "args": ["hi", {"$bin": "0102"}]})).await;
    node.cmd(json!({"cmd": "emit", "rooms": ["room2"], "event": "big-node", "args": [big, 1]}))
        .await;
    let hi = json!(["hi", {"$bin": "0102"}]);
    let big_node = json!([big, 1]);
    expect_exactly(
        &mut node,
        &[
            ("n1", "from-node", hi.clone()),
            ("r1", "from-node", hi),
            ("n2", "big-node", big_node.clone()),
            ("r2", "big-node", big_node),
        ],
        "mark1",
    )
    .await;

    // Ours -> everyone: the same.
    io.to("room1")
        .except("room2")
        .emit("from-rust", &("yo", bytes::Bytes::from_static(&[3, 4])))
        .unwrap();
    io.to("room2").emit("big-rust", &(&big, 2.5)).unwrap();
    let yo = json!(["yo", {"$bin": "0304"}]);
    let big_rust = json!([big, 2.5]);
    expect_exactly(
        &mut node,
        &[
            ("n1", "from-rust", yo.clone()),
            ("r1", "from-rust", yo),
            ("n2", "big-rust", big_rust.clone()),
            ("r2", "big-rust", big_rust),
        ],
        "mark2",
    )
    .await;

    // Acks gathered across nodes, both ways: each client acks with its name.
    let answers = io
        .to("room1")
        .timeout(Duration::from_secs(3))
        .emit_with_ack::<String, _>("ask", &"q")
        .await
        .unwrap();
    let names: BTreeSet<String> = answers.into_iter().map(|(_, a)| a.unwrap()).collect();
    assert_eq!(names, ALL.iter().map(|s| s.to_string()).collect());
    let reply = node
        .cmd(json!({"cmd": "ack", "rooms": ["room1"], "timeout": 3000}))
        .await;
    let mut node_names: Vec<String> = serde_json::from_value(reply["answers"].clone()).unwrap();
    node_names.sort();
    assert_eq!(node_names, ALL);
    for name in ALL {
        for _ in 0..2 {
            node.wait_for(|l| l["client"] == json!(name) && l["event"] == json!("ask"))
                .await;
        }
    }

    // fetchSockets both ways.
    assert_eq!(
        ids(&io.to("room2").fetch_sockets().await),
        set(&node, &["n2", "r2"])
    );
    let all = io.to("room1").fetch_sockets().await;
    assert_eq!(ids(&all), set(&node, &ALL));
    let n2 = all.iter().find(|s| s.id == node.id("n2")).unwrap();
    assert_eq!(
        n2.rooms.iter().cloned().collect::<BTreeSet<_>>(),
        [node.id("n2"), "room1".into(), "room2".into()].into()
    );
    assert_eq!(
        node_fetch(&mut node, &["room2"]).await,
        set(&node, &["n2", "r2"])
    );

    // socketsJoin / socketsLeave both ways.
    io.to("room2").join("room3");
    let want = set(&node, &["n2", "r2"]);
    node_fetch_until(&mut node, "room3", &want).await;
    node.cmd(json!({"cmd": "join", "rooms": ["room2"], "room": "room4"}))
        .await;
    eventually("Node joined room4 on both nodes", || async {
        ids(&io.to("room4").fetch_sockets().await) == want
    })
    .await;
    node.cmd(json!({"cmd": "leave", "rooms": [], "room": "room4"}))
        .await;
    eventually("Node left room4 on both nodes", || async {
        io.to("room4").fetch_sockets().await.is_empty()
    })
    .await;
    io.to("room3").leave("room3");
    node_fetch_until(&mut node, "room3", &BTreeSet::new()).await;

    // serverSideEmit, without and with ack, both ways; binary crosses (attachment table).
    io.ns("/")
        .server_side_emit(
            "rs-sse",
            Args::from_serialize(&(1, "a", bytes::Bytes::from_static(&[7]))).unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(
        node.server_event("rs-sse").await,
        json!([1, "a", {"$bin": "07"}])
    );
    let acks = io
        .ns("/")
        .server_side_emit_with_ack(
            "rs-sse",
            Args::from_serialize(&(2, "b")).unwrap(),
            REQUEST_TIMEOUT,
        )
        .await
        .unwrap();
    assert_eq!(acks.len(), 1);
    assert_eq!(
        acks[0].get::<Json>(0).unwrap(),
        json!({"from": "node", "got": 2})
    );
    assert_eq!(node.server_event("rs-sse").await, json!([2, "b"]));
    node.cmd(json!({"cmd": "sse", "args": [7, {"$bin": "08"}]}))
        .await;
    let got = tokio::time::timeout(Duration::from_secs(5), rust.server_events.recv())
        .await
        .unwrap()
        .unwrap();
    // our handler sees the binary argument as a placeholder-free value: compare its bytes
    assert_eq!(got[0], json!(7));
    let reply = node.cmd(json!({"cmd": "sseack", "args": [8]})).await;
    assert_eq!(reply["answers"], json!([{"from": "rust"}]));
    assert_eq!(rust.server_events.recv().await.unwrap(), json!([8]));

    // A Node @socket.io/postgres-emitter reaches our clients (Node's postgres-adapter 0.5 drops
    // its messages: they carry no `nsp`), with binary through the attachment table.
    node.cmd(json!({"cmd": "emitter", "rooms": ["room1"], "except": ["room2"], "event": "from-node-emitter", "args": [{"$bin": "ff"}]})).await;
    node.cmd(
        json!({"cmd": "emitter", "rooms": ["room2"], "event": "big-node-emitter", "args": [big]}),
    )
    .await;
    expect_exactly(
        &mut node,
        &[
            ("r1", "from-node-emitter", json!([{"$bin": "ff"}])),
            ("r2", "big-node-emitter", json!([big])),
        ],
        "mark3",
    )
    .await;
    // Our Emitter reaches both sides.
    let emitter = Emitter::new(pg_client().await, &rust.key, "socket_io_attachments");
    emitter
        .to("room2")
        .except(node.id("r2"))
        .emit("from-rust-emitter", &(bytes::Bytes::from_static(&[9]), 1.5))
        .await
        .unwrap();
    emitter
        .to("room1")
        .except("room2")
        .emit("big-rust-emitter", &(&big,))
        .await
        .unwrap();
    expect_exactly(
        &mut node,
        &[
            ("n2", "from-rust-emitter", json!([{"$bin": "09"}, 1.5])),
            ("n1", "big-rust-emitter", json!([big])),
            ("r1", "big-rust-emitter", json!([big])),
        ],
        "mark4",
    )
    .await;
    emitter.to("room2").sockets_join(&["room5"]).await.unwrap();
    let want = set(&node, &["n2", "r2"]);
    eventually("the emitter's socketsJoin", || async {
        ids(&io.to("room5").fetch_sockets().await) == want
    })
    .await;
    emitter.sockets_leave(&["room5"]).await.unwrap();
    eventually("the emitter's socketsLeave", || async {
        io.to("room5").fetch_sockets().await.is_empty()
    })
    .await;
    emitter
        .server_side_emit("rs-sse", Args::from_serialize(&"from-emitter").unwrap())
        .await
        .unwrap();
    assert_eq!(node.server_event("rs-sse").await, json!(["from-emitter"]));
    assert!(matches!(
        emitter.emit("connect", &()).await,
        Err(socketio_postgres::EmitterError::Reserved(_))
    ));

    // disconnectSockets both ways: Node disconnects r1, we disconnect n1, the emitter n2.
    node.cmd(json!({"cmd": "disconnect", "rooms": [node.id("r1")]}))
        .await;
    node.wait_for(|l| l["client"] == json!("r1") && l["event"] == json!("$disconnect"))
        .await;
    io.to(node.id("n1")).disconnect();
    node.wait_for(|l| l["client"] == json!("n1") && l["event"] == json!("$disconnect"))
        .await;
    emitter
        .to(node.id("n2"))
        .disconnect_sockets(false)
        .await
        .unwrap();
    node.wait_for(|l| l["client"] == json!("n2") && l["event"] == json!("$disconnect"))
        .await;
    assert_eq!(
        ids(&io.ns("/").to("room1").fetch_sockets().await),
        set(&node, &["r2"])
    );
}

/// Polls the flood counts until every client got `want` or they stop moving (20 s at most).
async fn flood_counts(node: &mut NodeSide, want: u64) -> Json {
    let mut last = Json::Null;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let counts = node.cmd(json!({"cmd": "counts"})).await["counts"].clone();
        let done = counts
            .as_object()
            .unwrap()
            .values()
            .all(|c| c[0].as_u64() >= Some(want));
        if done || Instant::now() > deadline || (counts == last && last != Json::Null) {
            return counts;
        }
        last = counts;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// 10 000 broadcasts from each side to room1: every client (two per node) gets each of the
/// 20 000 exactly once.
#[tokio::test]
async fn ten_thousand_broadcasts_each_way_lose_and_duplicate_nothing() {
    let (rust, mut node) = mixed("flood").await;
    const N: u64 = 10_000;
    node.cmd(json!({"cmd": "flood", "count": N})).await;
    for i in 0..N {
        rust.io.to("room1").emit("flood", &(i + N)).unwrap();
    }
    let counts = flood_counts(&mut node, 2 * N).await;
    eprintln!("flood counts [received, duplicates, in order]: {counts}");
    for name in ALL {
        assert_eq!(counts[name][0], json!(2 * N), "{name} received {counts}");
        assert_eq!(counts[name][1], json!(0), "{name} duplicates {counts}");
    }
}

/// A Node node killed with SIGKILL: once its heartbeat times out (1.5 s here), fetch_sockets,
/// acked broadcasts and acked server-side emits of ours stop waiting for it, well before their
/// own (long) timeouts, and the server count drops to 1.
#[tokio::test]
async fn a_killed_node_leaves_the_count_within_the_heartbeat_timeout() {
    let (rust, mut node) = mixed("kill").await;
    // Clients of ours that live in another process, to outlive the killed one.
    let survivors = PgNode::start_with(&rust.key, rust.port, true).await;
    let c2 = survivors.id("c2");
    let ours = set(&survivors, &["c1", "c2"]);
    let theirs = set(&node, &["n1", "n2"]);
    let dying = set(&node, &["r1", "r2"]);
    node.child.start_kill().unwrap();
    node.child.wait().await.unwrap();
    let io = rust.io.clone();
    let started = Instant::now();
    let found = ids(&io.to("room1").fetch_sockets().await);
    let fetch_took = started.elapsed();
    assert!(found.is_superset(&ours), "{found:?}");
    assert!(found.is_disjoint(&theirs), "{found:?}");
    assert!(
        fetch_took < HEARTBEAT * 3 + Duration::from_secs(1),
        "{fetch_took:?}"
    );
    assert_eq!(io.ns("/").server_count().await, 1);

    // Killed again from a fresh start: an acked broadcast and an acked server-side emit with
    // long timeouts end once the heartbeat times out.
    let (rust, mut node) = mixed("kill2").await;
    let survivors = PgNode::start_with(&rust.key, rust.port, true).await;
    let c2 = {
        let _ = c2;
        survivors.id("c2")
    };
    let io = rust.io.clone();
    node.cmd(json!({"cmd": "count"})).await;
    node.child.start_kill().unwrap();
    node.child.wait().await.unwrap();
    let started = Instant::now();
    let op = io.to("room2").timeout(Duration::from_secs(20));
    let ns = io.ns("/");
    let (answers, acks) = tokio::join!(
        op.emit_with_ack::<String, _>("ask", &"q"),
        ns.server_side_emit_with_ack(
            "rs-sse",
            Args::from_serialize(&1).unwrap(),
            Duration::from_secs(20)
        )
    );
    let took = started.elapsed();
    let answers = answers.unwrap();
    assert!(
        answers
            .iter()
            .any(|(sid, a)| sid.to_string() == c2 && a.as_deref().ok() == Some("c2")),
        "{answers:?}"
    );
    assert!(acks.unwrap().is_empty());
    assert!(took < HEARTBEAT * 3 + Duration::from_secs(1), "{took:?}");
    let _ = dying;
}

/// Our LISTEN connection terminated mid-stream (pg_terminate_backend of our own backend,
/// found by its application_name): the adapter reconnects by itself, LISTENs again, and
/// broadcasts cross again. Deliveries lost during the cut are counted and reported, never
/// duplicated.
#[tokio::test]
async fn our_listen_connection_reconnects_after_being_terminated() {
    let (rust, mut node) = mixed("cut").await;
    let admin = pg_client().await;
    const N: u64 = 2000;
    let flood = node.cmd(json!({"cmd": "flood", "count": N}));
    let app = format!("{}-listen", rust.key);
    let terminate = async {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let rows = admin
            .query(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                &[&app],
            )
            .await
            .unwrap();
        assert_eq!(rows.len(), 1, "exactly our listener");
    };
    let (_, ()) = tokio::join!(flood, terminate);
    let counts = flood_counts(&mut node, N).await;
    eprintln!("during the cut [received, duplicates, in order]: {counts}");
    for name in ALL {
        assert_eq!(counts[name][1], json!(0), "{name} duplicates {counts}");
        if name.starts_with('n') {
            assert_eq!(counts[name][0], json!(N), "{name}: {counts}");
        }
    }
    // Back: Node's broadcasts reach our clients again, ours reach Node's.
    eventually("the listener is back", || async {
        let rows = admin
            .query(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1",
                &[&app],
            )
            .await
            .unwrap();
        rows.len() == 1
    })
    .await;
    node.cmd(json!({"cmd": "reset"})).await;
    node.cmd(json!({"cmd": "flood", "count": 100})).await;
    for i in 0..100u64 {
        rust.io.to("room1").emit("flood", &(i + 100)).unwrap();
    }
    let counts = flood_counts(&mut node, 200).await;
    for name in ALL {
        assert_eq!(
            counts[name],
            json!([200, 0, counts[name][2]]),
            "{name}: {counts}"
        );
    }
    assert_eq!(rust.io.ns("/").server_count().await, 2);
}
