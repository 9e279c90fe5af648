//! A mixed cluster on Redis Streams: one Node socket.io 4.8 server on
//! `@socket.io/redis-streams-adapter` 0.3.1 and one of ours on
//! `socketio_redis::streams::RedisStreamsAdapter`, sharing real Redis (6379), with real
//! socket.io-client clients on each (driven by `tests/interop/node-streams/mixed.mjs`: "n1", "n2"
//! on Node, "r1", "r2" on ours; all in "room1", n2 and r2 in "room2"). Every operation crosses
//! both ways. Each test has its own stream (and channel prefix and session keys), so they run in
//! parallel; the Node process is killed when a test ends, failed or not.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use serde_json::{json, Value as Json};
use socketio_axum::SocketIoRouterExt;
use socketio_core::adapter::{Adapter, Session};
use socketio_core::{Args, SocketIo, SocketRef};
use socketio_redis::streams::{
    Emitter, EmitterConfig, EmitterError, RedisStreamsAdapter, RedisStreamsConfig,
};
use tokio::sync::mpsc;

mod common;
#[path = "common/redis.rs"]
mod redis_side;
use common::{Deployment, NodeSide, REDIS_CLUSTER, REDIS_URL};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

fn node_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/node-streams");
    assert!(
        dir.join("node_modules/@socket.io/redis-streams-adapter")
            .is_dir(),
        "{} has no node_modules: run scripts/setup-interop.sh",
        dir.display()
    );
    dir
}

fn unique_stream(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("rs-streams-{test}-{}-{nanos}", std::process::id())
}

/// The adapter options a test sets on both sides (Node's `streamCount`, `useShardedPubSub`,
/// `onlyPlaintext`).
#[derive(Clone, Copy, Debug, Default)]
struct Options {
    stream_count: usize,
    sharded: bool,
    only_plaintext: bool,
}

impl Options {
    fn env(self) -> Vec<(&'static str, String)> {
        vec![
            ("STREAM_COUNT", self.stream_count.max(1).to_string()),
            (
                "SHARDED_PUBSUB",
                if self.sharded { "1" } else { "" }.to_owned(),
            ),
            (
                "ONLY_PLAINTEXT",
                if self.only_plaintext { "1" } else { "" }.to_owned(),
            ),
        ]
    }
}

impl NodeSide {
    async fn start(stream: &str, rust_port: u16, clients_only: bool) -> NodeSide {
        Self::start_with(
            Deployment::Standalone,
            Options::default(),
            stream,
            rust_port,
            clients_only,
            10_000,
        )
        .await
    }

    async fn start_with(
        deployment: Deployment,
        options: Options,
        stream: &str,
        rust_port: u16,
        clients_only: bool,
        max_len: usize,
    ) -> NodeSide {
        let mut env = vec![
            (
                "CLIENTS_ONLY",
                if clients_only { "1" } else { "" }.to_owned(),
            ),
            ("STREAM", stream.to_owned()),
            ("MAXLEN", max_len.to_string()),
            ("RUST_PORT", rust_port.to_string()),
        ];
        env.extend(deployment.env());
        env.extend(options.env());
        Self::spawn(node_dir(), "streams", &env).await
    }

    async fn fetch(&mut self, rooms: &[&str]) -> BTreeSet<String> {
        let reply = self.cmd(json!({"cmd": "fetch", "rooms": rooms})).await;
        reply["sockets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Polls Node's fetchSockets of `room` (5 s at most) until it finds `want`.
    async fn fetch_until(&mut self, room: &str, want: &BTreeSet<String>) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let found = self.fetch(&[room]).await;
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

    /// Polls the flood counters until every client in `names` received `n` (20 s at most);
    /// returns the last counters `{client: [received, duplicates]}`.
    async fn flood_counts(&mut self, names: &[&str], n: u64) -> Json {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let counts = self.cmd(json!({"cmd": "counts"})).await["counts"].clone();
            let done = names.iter().all(|c| counts[c][0].as_u64() >= Some(n));
            if done || Instant::now() > deadline {
                return counts;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// Our server on the streams adapter, on an ephemeral port; clients join the rooms their auth
/// names; server-side `node-sse` events are reported on `server_events` and acked with
/// `{"from": "rust"}`. `adapter` is the "/" namespace's adapter.
struct RustSide {
    io: SocketIo,
    port: u16,
    name: String,
    adapter: Arc<RedisStreamsAdapter>,
    server_events: mpsc::UnboundedReceiver<Json>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RustSide {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn rust_side(
    deployment: Deployment,
    options: Options,
    stream: &str,
    max_len: usize,
) -> RustSide {
    let name = format!("socketio-streams-{stream}");
    let config = RedisStreamsConfig {
        stream_name: stream.to_owned(),
        channel_prefix: stream.to_owned(),
        session_key_prefix: format!("{stream}:session:"),
        request_timeout: REQUEST_TIMEOUT,
        connection_name: Some(name.clone()),
        max_len,
        stream_count: options.stream_count.max(1),
        use_sharded_pub_sub: options.sharded,
        only_plaintext: options.only_plaintext,
        ..RedisStreamsConfig::default()
    };
    let factory = RedisStreamsAdapter::factory(redis_side::client(deployment), config)
        .await
        .unwrap();
    let slot: Arc<Mutex<Option<Arc<RedisStreamsAdapter>>>> = Arc::default();
    let keep = slot.clone();
    let io = SocketIo::builder()
        .adapter(move |sockets| {
            let root = sockets.nsp() == "/";
            let adapter = factory(sockets);
            if root {
                *keep.lock().unwrap() = Some(adapter.clone());
            }
            adapter
        })
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
    let adapter = slot
        .lock()
        .unwrap()
        .clone()
        .expect("the / namespace exists");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new().socketio(&io);
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    RustSide {
        io,
        port,
        name,
        adapter,
        server_events,
        task,
    }
}

/// Both sides up, each counting two nodes.
async fn mixed(test: &str) -> (RustSide, NodeSide, String) {
    mixed_with(Deployment::Standalone, Options::default(), test, 10_000).await
}

/// The same on `deployment`, with the stream trimmed to about `max_len` entries on both sides.
async fn mixed_with(
    deployment: Deployment,
    options: Options,
    test: &str,
    max_len: usize,
) -> (RustSide, NodeSide, String) {
    let stream = unique_stream(test);
    let rust = rust_side(deployment, options, &stream, max_len).await;
    let mut node =
        NodeSide::start_with(deployment, options, &stream, rust.port, false, max_len).await;
    assert_eq!(rust.io.ns("/").server_count().await, 2);
    assert_eq!(node.cmd(json!({"cmd": "count"})).await["count"], json!(2));
    (rust, node, stream)
}

fn ids(sockets: &[socketio_core::adapter::SocketInfo]) -> BTreeSet<String> {
    sockets.iter().map(|s| s.id.clone()).collect()
}

fn set(node: &NodeSide, names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| node.id(n)).collect()
}

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

const ALL: [&str; 4] = ["n1", "n2", "r1", "r2"];

/// Broadcasts with `except` and binary, acks gathered across nodes, fetchSockets,
/// socketsJoin/Leave, serverSideEmit with and without ack, disconnectSockets, and sessions
/// persisted by one side and restored by the other, each from the Node side to ours and back.
#[tokio::test]
async fn every_operation_crosses_a_mixed_streams_cluster_both_ways() {
    every_operation_crosses(Deployment::Standalone, Options::default()).await;
}

/// The same with `streamCount: 3` (namespace `/` on stream `-2`, every node reading three
/// streams) and `useShardedPubSub`, on one Redis.
#[tokio::test]
async fn every_operation_crosses_with_three_streams_and_sharded_pub_sub() {
    let options = Options {
        stream_count: 3,
        sharded: true,
        only_plaintext: false,
    };
    every_operation_crosses(Deployment::Standalone, options).await;
}

/// The same on a Redis Cluster, where the three streams and the sharded channels spread over
/// the primaries.
#[tokio::test]
async fn every_operation_crosses_with_three_streams_and_sharded_pub_sub_on_redis_cluster() {
    let options = Options {
        stream_count: 3,
        sharded: true,
        only_plaintext: false,
    };
    every_operation_crosses(Deployment::Cluster, options).await;
}

/// The same on a Redis Cluster (three primaries): the stream and each session key live on the
/// primary owning their slot; Node's client is a `createCluster` one.
#[tokio::test]
async fn every_operation_crosses_a_mixed_streams_cluster_on_redis_cluster() {
    every_operation_crosses(Deployment::Cluster, Options::default()).await;
}

async fn every_operation_crosses(deployment: Deployment, options: Options) {
    let (mut rust, mut node, _stream) = mixed_with(deployment, options, "ops", 10_000).await;
    let io = rust.io.clone();

    // Node -> everyone: to room1 except room2, with binary; n1 and r1 only.
    node.cmd(json!({"cmd": "emit", "rooms": ["room1"], "except": ["room2"], "event": "from-node", "args": ["hi", {"$bin": "0102"}]})).await;
    node.cmd(json!({"cmd": "emit", "event": "mark1"})).await;
    for name in ALL {
        let got = node.events_until(name, "mark1").await;
        if name.ends_with('1') {
            // Node's own clients get the stream offset appended (connection state recovery).
            assert_eq!(got.len(), 1, "{name} got {got:?}");
            assert_eq!(got[0].0, "from-node");
            let args = got[0].1.as_array().unwrap();
            assert_eq!(args[0..2], [json!("hi"), json!({"$bin": "0102"})], "{name}");
        } else {
            assert!(got.is_empty(), "{name} got {got:?}");
        }
    }

    // Ours -> everyone: the same selection, with binary.
    io.to("room1")
        .except("room2")
        .emit("from-rust", &("yo", bytes::Bytes::from_static(&[3, 4])))
        .unwrap();
    io.emit("mark2", &()).unwrap();
    for name in ALL {
        let got = node.events_until(name, "mark2").await;
        if name.ends_with('1') {
            assert_eq!(got.len(), 1, "{name} got {got:?}");
            let args = got[0].1.as_array().unwrap();
            assert_eq!(args[0..2], [json!("yo"), json!({"$bin": "0304"})], "{name}");
        } else {
            assert!(got.is_empty(), "{name} got {got:?}");
        }
    }

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
    assert_eq!(node.fetch(&["room2"]).await, set(&node, &["n2", "r2"]));

    // socketsJoin / socketsLeave both ways.
    io.to("room2").join("room3");
    let want = set(&node, &["n2", "r2"]);
    node.fetch_until("room3", &want).await;
    node.cmd(json!({"cmd": "join", "rooms": ["room2"], "room": "room4"}))
        .await;
    eventually("Node's socketsJoin on both nodes", || async {
        ids(&io.to("room4").fetch_sockets().await) == want
    })
    .await;
    node.cmd(json!({"cmd": "leave", "rooms": [], "room": "room4"}))
        .await;
    eventually("Node's socketsLeave on both nodes", || async {
        io.to("room4").fetch_sockets().await.is_empty()
    })
    .await;
    io.to("room3").leave("room3");
    node.fetch_until("room3", &BTreeSet::new()).await;

    // serverSideEmit, without and with ack, both ways.
    io.ns("/")
        .server_side_emit("rs-sse", Args::from_serialize(&(1, "a")).unwrap())
        .await
        .unwrap();
    assert_eq!(node.server_event("rs-sse").await, json!([1, "a"]));
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
    node.cmd(json!({"cmd": "sse", "args": [7, "x"]})).await;
    let got = tokio::time::timeout(Duration::from_secs(5), rust.server_events.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(got, json!([7, "x"]));
    let reply = node.cmd(json!({"cmd": "sseack", "args": [8]})).await;
    assert_eq!(reply["answers"], json!([{"from": "rust"}]));
    assert_eq!(rust.server_events.recv().await.unwrap(), json!([8]));

    // Sessions: persisted by Node, restored by ours, with the broadcasts it missed.
    let offset = node.cmd(json!({"cmd": "offset"})).await["offset"]
        .as_str()
        .unwrap()
        .to_owned();
    let sid = socketio_core::Sid::new().to_string();
    node.cmd(json!({"cmd": "persist", "pid": "pid-node", "sid": sid, "rooms": [sid, "room2"], "data": {"user": "ann", "n": 3}})).await;
    // (Each sender waits until the other's entries are in the stream: a fixed order.)
    node.cmd(json!({"cmd": "emit", "rooms": ["room2"], "event": "missed-a", "args": [1]}))
        .await;
    node.wait_for(|l| l["client"] == json!("r2") && l["event"] == json!("missed-a"))
        .await;
    io.to("room1").emit("not-for-room2", &2).unwrap();
    io.to("room2")
        .emit("missed-b", &(bytes::Bytes::from_static(&[5]),))
        .unwrap();
    io.ns("/").except("room2").emit("not-either", &()).unwrap();
    node.wait_for(|l| l["client"] == json!("n1") && l["event"] == json!("not-either"))
        .await;
    node.cmd(json!({"cmd": "emit", "event": "mark-s"})).await;
    node.events_until("n2", "mark-s").await;
    let restored = rust
        .adapter
        .restore_session("pid-node", &offset)
        .await
        .expect("Node's session restored by ours");
    assert_eq!(restored.session.sid.to_string(), sid);
    assert_eq!(restored.session.rooms, [sid.clone(), "room2".into()]);
    assert_eq!(restored.session.data, json!({"user": "ann", "n": 3}));
    let missed: Vec<String> = restored
        .missed
        .iter()
        .map(|(_, p)| p.text().to_owned())
        .collect();
    // room2 and everyone; not room1 alone, not "all but room2".
    assert_eq!(missed.len(), 3, "{missed:?}");
    assert!(missed[0].contains("\"missed-a\",1"), "{missed:?}");
    assert!(missed[1].contains("missed-b"), "{missed:?}");
    assert!(missed[2].contains("mark-s"), "{missed:?}");
    assert_eq!(
        restored.missed[1].1.attachments(),
        [bytes::Bytes::from_static(&[5])]
    );
    assert_ne!(restored.missed[0].0, offset);
    assert!(
        rust.adapter
            .restore_session("pid-node", &offset)
            .await
            .is_none(),
        "a session is restored once"
    );

    // Persisted by ours, restored by Node.
    let sid2 = socketio_core::Sid::new();
    rust.adapter.persist_session(Session {
        sid: sid2,
        pid: "pid-rust".into(),
        rooms: vec!["room1".into()],
        data: json!({"k": [1, 2]}),
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    node.cmd(json!({"cmd": "emit", "rooms": ["room1"], "event": "missed-c", "args": ["z"]}))
        .await;
    node.events_until("n1", "missed-c").await;
    let reply = node
        .cmd(json!({"cmd": "restore", "pid": "pid-rust", "offset": offset}))
        .await;
    let session = &reply["session"];
    assert_eq!(session["sid"], json!(sid2.to_string()), "{reply}");
    assert_eq!(session["rooms"], json!(["room1"]));
    assert_eq!(session["data"], json!({"k": [1, 2]}));
    let missed: Vec<Json> = session["missedPackets"].as_array().unwrap().clone();
    let events: Vec<&str> = missed.iter().map(|p| p[0].as_str().unwrap()).collect();
    // What went to room1 or everyone after `offset`, each with its entry id appended.
    assert_eq!(
        events,
        ["not-for-room2", "not-either", "mark-s", "missed-c"],
        "{missed:?}"
    );
    assert!(missed
        .iter()
        .all(|p| p.as_array().unwrap().last().unwrap().is_string()));

    // disconnectSockets both ways: Node disconnects r1, we disconnect n1.
    node.cmd(json!({"cmd": "disconnect", "rooms": [node.id("r1")]}))
        .await;
    node.wait_for(|l| l["client"] == json!("r1") && l["event"] == json!("$disconnect"))
        .await;
    io.to(node.id("n1")).disconnect();
    node.wait_for(|l| l["client"] == json!("n1") && l["event"] == json!("$disconnect"))
        .await;
    eventually("both gone from fetchSockets", || async {
        ids(&io.to("room1").fetch_sockets().await) == set(&node, &["n2", "r2"])
    })
    .await;
}

/// Our Streams [`Emitter`] (no sockets, not a node) writing into the mixed cluster: a room
/// broadcast with `except` and binary reaches exactly n1 and r1, on both nodes (Node's client
/// with the entry id as offset); socketsJoin, socketsLeave, serverSideEmit (with binary) and
/// disconnectSockets act on both nodes; its entries are the adapters' format with uid
/// `"emitter"`, binary as base64 msgpack.
#[tokio::test]
async fn the_streams_emitter_reaches_both_nodes() {
    emitter_reaches_both_nodes(Deployment::Standalone, Options::default()).await;
}

/// The same with `streamCount: 3` on a Redis Cluster: namespace `/` goes to stream `-2`, on
/// the primary owning its slot.
#[tokio::test]
async fn the_streams_emitter_reaches_both_nodes_with_three_streams_on_redis_cluster() {
    let options = Options {
        stream_count: 3,
        ..Options::default()
    };
    emitter_reaches_both_nodes(Deployment::Cluster, options).await;
}

/// Every entry of `stream` (on `deployment`), as field maps, oldest first.
async fn stream_entries(
    deployment: Deployment,
    stream: &str,
) -> Vec<std::collections::HashMap<String, String>> {
    let mut cmd = redis::cmd("XRANGE");
    cmd.arg(stream).arg("-").arg("+");
    let reply: redis::streams::StreamRangeReply = match deployment {
        Deployment::Standalone => {
            let client = redis::Client::open(REDIS_URL).unwrap();
            let mut conn = client.get_multiplexed_async_connection().await.unwrap();
            cmd.query_async(&mut conn).await.unwrap()
        }
        Deployment::Cluster => {
            let client = redis::cluster::ClusterClient::new(REDIS_CLUSTER.to_vec()).unwrap();
            let mut conn = client.get_async_connection().await.unwrap();
            cmd.query_async(&mut conn).await.unwrap()
        }
    };
    reply
        .ids
        .iter()
        .map(|e| {
            e.map
                .keys()
                .map(|k| (k.clone(), e.get::<String>(k).unwrap()))
                .collect()
        })
        .collect()
}

async fn emitter_reaches_both_nodes(deployment: Deployment, options: Options) {
    let (rust, mut node, stream) = mixed_with(deployment, options, "emitter", 10_000).await;
    let config = EmitterConfig {
        stream_name: stream.clone(),
        stream_count: options.stream_count.max(1),
        ..EmitterConfig::default()
    };
    let emitter = Emitter::new(redis_side::client(deployment), config.clone());
    let (tx, mut rust_events) = mpsc::unbounded_channel();
    rust.io
        .ns("/")
        .on_server_event("rs-sse", move |args: Args| {
            let _ = tx.send(args);
            async { Args::default() }
        });

    // Node's adapter starts reading at "$" once its reader connections are up, which may be
    // after its clients connected (on a cluster, it connects one client per stream): until
    // then, entries are lost to it. So: emit until n1 gets one, then drain every client.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !node.has_seen(|l| l["client"] == json!("n1") && l["event"] == json!("warm")) {
        assert!(Instant::now() < deadline, "Node does not read the stream");
        emitter.emit("warm", &()).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    emitter.emit("warm-done", &()).await.unwrap();
    for name in ALL {
        node.events_until(name, "warm-done").await;
    }

    // To room1 except room2, with binary: n1 and r1 only.
    emitter
        .to("room1")
        .except("room2")
        .emit("from-emitter", &("hey", bytes::Bytes::from_static(&[9, 8])))
        .await
        .unwrap();
    emitter.of("/").emit("mark1", &()).await.unwrap();
    for name in ALL {
        let got = node.events_until(name, "mark1").await;
        if name.ends_with('1') {
            assert_eq!(got.len(), 1, "{name} got {got:?}");
            assert_eq!(got[0].0, "from-emitter");
            let args = got[0].1.as_array().unwrap();
            assert_eq!(
                args[0..2],
                [json!("hey"), json!({"$bin": "0908"})],
                "{name}"
            );
            if name == "n1" {
                // Node's server keeps packets for recovery: the entry id comes last.
                let offset = args[2].as_str().unwrap_or_default();
                assert!(offset.split_once('-').is_some(), "{args:?}");
            } else {
                assert_eq!(args.len(), 2, "{args:?}");
            }
        } else {
            assert!(got.is_empty(), "{name} got {got:?}");
        }
    }
    // On the wire: the namespace's stream, uid "emitter", binary as base64 msgpack.
    let entries = stream_entries(deployment, &config.stream_for("/")).await;
    let ours: Vec<_> = entries
        .iter()
        .filter(|e| e["uid"] == "emitter")
        .skip_while(|e| !e["data"].contains("warm-done"))
        .skip(1)
        .collect();
    assert_eq!(ours.len(), 2, "{entries:?}");
    assert_eq!(
        (ours[0]["nsp"].as_str(), ours[0]["type"].as_str()),
        ("/", "3")
    );
    assert!(!ours[0]["data"].starts_with('{'), "{:?}", ours[0]);
    assert!(ours[1]["data"].starts_with('{'), "{:?}", ours[1]);

    assert!(matches!(
        emitter.emit("connect", &()).await,
        Err(EmitterError::Reserved(_))
    ));

    // socketsJoin / socketsLeave on both nodes.
    emitter.to("room2").sockets_join(&["room5"]).await.unwrap();
    node.fetch_until("room5", &set(&node, &["n2", "r2"])).await;
    emitter.sockets_leave(&["room5"]).await.unwrap();
    node.fetch_until("room5", &BTreeSet::new()).await;

    // serverSideEmit, with binary, to both servers.
    let args = Args::from_serialize(&(3, "c", bytes::Bytes::from_static(&[7]))).unwrap();
    emitter.server_side_emit("rs-sse", args).await.unwrap();
    assert_eq!(
        node.server_event("rs-sse").await,
        json!([3, "c", {"$bin": "07"}])
    );
    let got = tokio::time::timeout(Duration::from_secs(5), rust_events.recv())
        .await
        .expect("our server's handler called")
        .unwrap();
    assert_eq!(got.get::<i64>(0).unwrap(), 3);
    assert_eq!(got.get::<String>(1).unwrap(), "c");
    assert_eq!(got.attachments(), [bytes::Bytes::from_static(&[7])]);

    // disconnectSockets: room2 (n2, r2) on both nodes, no one else.
    emitter.to("room2").disconnect_sockets(false).await.unwrap();
    for name in ["n2", "r2"] {
        node.wait_for(|l| l["client"] == json!(name) && l["event"] == json!("$disconnect"))
            .await;
    }
    eventually("room2 gone from fetchSockets", || async {
        ids(&rust.io.to("room1").fetch_sockets().await) == set(&node, &["n1", "r1"])
    })
    .await;
    assert!(!node.has_seen(|l| l["event"] == json!("$disconnect")
        && (l["client"] == json!("n1") || l["client"] == json!("r1"))));
}

/// `maxLen` trims the stream as Node's `XADD ... MAXLEN ~`: 300 emits with `max_len` 10 leave
/// a stream far shorter than 300 (Redis trims whole nodes of 100 entries at most, hence `~`).
#[tokio::test]
async fn the_streams_emitter_trims_the_stream_to_max_len() {
    let stream = unique_stream("trim");
    let emitter = Emitter::new(
        redis::Client::open(REDIS_URL).unwrap(),
        EmitterConfig {
            stream_name: stream.clone(),
            max_len: 10,
            ..EmitterConfig::default()
        },
    );
    for i in 0..300 {
        emitter.to("room1").emit("n", &i).await.unwrap();
    }
    let len = stream_entries(Deployment::Standalone, &stream).await.len();
    assert!((10..=200).contains(&len), "{len} entries");
}

/// `onlyPlaintext` on both sides: a broadcast's binary crosses the stream as JSON, so the other
/// node's clients get `{"type": "Buffer", "data": [..]}` (what `JSON.stringify` makes of a
/// Node `Buffer`) while the sender's own clients get the binary; our entries' `data` is JSON
/// text, not base64 msgpack.
#[tokio::test]
async fn only_plaintext_sends_binary_as_json_both_ways() {
    let options = Options {
        stream_count: 1,
        sharded: false,
        only_plaintext: true,
    };
    let (rust, mut node, stream) =
        mixed_with(Deployment::Standalone, options, "plain", 10_000).await;

    node.cmd(json!({"cmd": "emit", "rooms": ["room2"], "event": "from-node", "args": [{"$bin": "0102"}]}))
        .await;
    node.cmd(json!({"cmd": "emit", "event": "mark1"})).await;
    let from_node = |name: &str| {
        if name.starts_with('n') {
            json!({"$bin": "0102"})
        } else {
            json!({"type": "Buffer", "data": [1, 2]})
        }
    };
    for name in ["n2", "r2"] {
        let got = node.events_until(name, "mark1").await;
        assert_eq!(got.len(), 1, "{name} got {got:?}");
        assert_eq!(got[0].1[0], from_node(name), "{name}");
    }

    rust.io
        .to("room2")
        .emit("from-rust", &(bytes::Bytes::from_static(&[3, 4]),))
        .unwrap();
    let mut conn = redis::Client::open(REDIS_URL)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    // Our entry: the last one with our uid (within 5 s).
    let deadline = Instant::now() + Duration::from_secs(5);
    let data: String = loop {
        let last: redis::streams::StreamRangeReply = redis::cmd("XREVRANGE")
            .arg(&stream)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query_async(&mut conn)
            .await
            .unwrap();
        if let Some(entry) = last.ids.first() {
            if entry.get::<String>("uid").as_deref() == Some(rust.adapter.uid()) {
                break entry.get("data").unwrap_or_default();
            }
        }
        assert!(Instant::now() < deadline, "our entry is not in the stream");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(data.starts_with('{'), "our entry's data is JSON: {data}");
    assert!(data.contains(r#"{"type":"Buffer","data":[3,4]}"#), "{data}");
    rust.io.emit("mark2", &()).unwrap();
    for name in ["n2", "r2"] {
        let got = node.events_until(name, "mark2").await;
        assert_eq!(got.len(), 1, "{name} got {got:?}");
        let want = if name.starts_with('r') {
            json!({"$bin": "0304"})
        } else {
            json!({"type": "Buffer", "data": [3, 4]})
        };
        assert_eq!(got[0].1[0], want, "{name}");
    }
}

/// 10 000 room broadcasts from each side: every client (two per node) gets each of the
/// 20 000 exactly once. (The stream is kept to ~100 000 entries here: with the default
/// `maxLen` of 10 000, a reader more than 10 000 entries behind loses the trimmed ones, on
/// either side; that is the protocol, not a fault of the reader.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_broadcasts_each_way_lose_and_duplicate_nothing() {
    flood(Deployment::Standalone).await;
}

/// The same on a Redis Cluster.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_broadcasts_each_way_on_redis_cluster() {
    flood(Deployment::Cluster).await;
}

async fn flood(deployment: Deployment) {
    let (rust, mut node, _stream) =
        mixed_with(deployment, Options::default(), "flood", 100_000).await;
    const N: u64 = 10_000;
    node.cmd(json!({"cmd": "flood", "count": N})).await;
    for i in 0..N {
        rust.io.to("room1").emit("flood", &(i + N)).unwrap();
    }
    let counts = node.flood_counts(&ALL, 2 * N).await;
    for name in ALL {
        assert_eq!(counts[name][0], json!(2 * N), "{name} received {counts}");
        assert_eq!(counts[name][1], json!(0), "{name} duplicates {counts}");
    }
}

/// A Node node killed with SIGKILL: fetch_sockets, acked broadcasts and acked server-side
/// emits of ours leave it out at once (it is no longer counted), with no hang.
#[tokio::test]
async fn a_killed_node_is_left_out_without_a_hang() {
    let (rust, mut node, stream) = mixed("kill").await;
    let survivors = NodeSide::start(&stream, rust.port, true).await;
    let c2 = survivors.id("c2");
    let ours = set(&survivors, &["c1", "c2"]);
    let theirs = set(&node, &["n1", "n2"]);
    let dying = set(&node, &["r1", "r2"]);
    node.child.start_kill().unwrap();
    node.child.wait().await.unwrap();
    let io = rust.io.clone();
    let started = Instant::now();
    eventually("the dead node uncounted", || async {
        io.ns("/").server_count().await == 1
    })
    .await;
    let found = ids(&io.to("room1").fetch_sockets().await);
    assert!(found.is_superset(&ours), "{found:?}");
    assert!(found.is_disjoint(&theirs), "{found:?}");
    let answers = io
        .to("room2")
        .timeout(Duration::from_secs(1))
        .emit_with_ack::<String, _>("ask", &"q")
        .await
        .unwrap();
    assert!(
        answers
            .iter()
            .any(|(sid, a)| sid.to_string() == c2 && a.as_deref().ok() == Some("c2")),
        "{answers:?}"
    );
    for (sid, _) in &answers {
        let sid = sid.to_string();
        assert!(sid == c2 || dying.contains(&sid), "{answers:?}");
    }
    let acks = io
        .ns("/")
        .server_side_emit_with_ack("rs-sse", Args::from_serialize(&1).unwrap(), REQUEST_TIMEOUT)
        .await
        .unwrap();
    assert!(acks.is_empty());
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

/// The ids of the Redis connections named `name` (CLIENT LIST).
async fn connections_named(name: &str) -> Vec<String> {
    let mut conn = redis::Client::open(REDIS_URL)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(&mut conn)
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

/// Our reader's Redis connection (and only it) is killed while Node floods 10 000 broadcasts
/// into the stream: it reconnects by itself and resumes after the last entry it read, so our
/// clients get every broadcast exactly once. (Stream kept to ~100 000 entries, so that only the
/// cut can lose anything; see the flood test.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reader_resumes_after_its_connection_is_killed_and_loses_nothing() {
    let (rust, mut node, _stream) =
        mixed_with(Deployment::Standalone, Options::default(), "cut", 100_000).await;
    let reader = format!("{}-reader", rust.name);
    let before = connections_named(&reader).await;
    assert_eq!(before.len(), 1, "{before:?}");
    const N: u64 = 10_000;
    node.cmd(json!({"cmd": "flood", "count": N})).await;
    // Cut once some (not all) have arrived at our clients.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let counts = node.cmd(json!({"cmd": "counts"})).await["counts"].clone();
        if counts["r1"][0].as_u64() > Some(0) {
            assert!(
                counts["r1"][0].as_u64() < Some(N),
                "too late to cut: {counts}"
            );
            break;
        }
        assert!(Instant::now() < deadline, "nothing arrived: {counts}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut conn = redis::Client::open(REDIS_URL)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap();
    let killed: u64 = redis::cmd("CLIENT")
        .arg("KILL")
        .arg("ID")
        .arg(&before[0])
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(killed, 1);
    // And a second batch written while it reconnects.
    node.cmd(json!({"cmd": "flood", "count": N, "start": N}))
        .await;
    let counts = node.flood_counts(&ALL, 2 * N).await;
    eprintln!("after the cut: {counts} ([received, duplicated] per client)");
    for name in ALL {
        assert_eq!(counts[name][0], json!(2 * N), "{name} lost some: {counts}");
        assert_eq!(
            counts[name][1],
            json!(0),
            "{name} duplicated some: {counts}"
        );
    }
    let after = connections_named(&reader).await;
    assert_eq!(after.len(), 1, "{after:?}");
    assert_ne!(after, before, "a new reader connection");
}
