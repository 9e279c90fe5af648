//! A mixed cluster: one Node socket.io 4.8 server on `@socket.io/redis-adapter` 8.3 and one of
//! ours on `socketio_redis::node::RedisAdapter`, sharing real Redis (6379), with real
//! socket.io-client clients on each (driven by `tests/interop/node-cluster/mixed.mjs`:
//! "n1", "n2" on Node, "r1", "r2" on ours; all in "room1", n2 and r2 in "room2"). Every
//! operation crosses both ways. Each test has its own key prefix, so they run in parallel;
//! the Node process is killed when a test ends, failed or not.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value as Json};
use socketio_core::Args;
use socketio_redis::node::{Emitter, RedisAdapter, RedisAdapterConfig};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

mod common;
#[path = "common/redis.rs"]
mod redis_side;
use common::*;

impl NodeSide {
    async fn start(deployment: Deployment, key: &str, rust_port: u16) -> NodeSide {
        Self::start_script_on(deployment, "classic", key, rust_port, false).await
    }
}

fn unique_key(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("rs-node-cluster-{test}-{}-{nanos}", std::process::id())
}

async fn rust_side(key: &str) -> RustSide {
    rust_side_on(Deployment::Standalone, key).await
}

async fn rust_side_on(deployment: Deployment, key: &str) -> RustSide {
    let client = redis_side::client(deployment);
    let config = RedisAdapterConfig {
        key: key.to_owned(),
        request_timeout: REQUEST_TIMEOUT,
        publish_on_specific_response_channel: false,
        connection_name: None,
    };
    let factory = RedisAdapter::factory(client, config).await.unwrap();
    rust_side_with(key, factory).await
}

/// Both sides up on `deployment`, each counting two nodes.
async fn mixed_on(deployment: Deployment, test: &str) -> (RustSide, NodeSide) {
    let key = unique_key(test);
    let rust = rust_side_on(deployment, &key).await;
    let mut node = NodeSide::start(deployment, &key, rust.port).await;
    assert_eq!(rust.io.ns("/").server_count().await, 2);
    assert_eq!(node.cmd(json!({"cmd": "count"})).await["count"], json!(2));
    (rust, node)
}

/// Broadcasts with `except` and binary, acks gathered across nodes, fetchSockets,
/// socketsJoin/Leave, allRooms, serverSideEmit with and without ack, both emitters and
/// disconnectSockets, each from the Node side to ours and from ours to the Node side.
#[tokio::test]
async fn every_operation_crosses_a_mixed_cluster_both_ways() {
    every_operation_crosses(Deployment::Standalone).await;
}

/// The same on a Redis Cluster (three primaries): Node's clients are `createCluster` ones,
/// ours [`socketio_redis::RedisClient::cluster`]; node counts are `PUBSUB NUMSUB` summed over
/// the primaries on both sides.
#[tokio::test]
async fn every_operation_crosses_a_mixed_cluster_on_redis_cluster() {
    every_operation_crosses(Deployment::Cluster).await;
}

/// The events `client` got before `marker`, and after it as many more as it takes to have
/// `expected`: on a Redis Cluster a Node client may publish two messages through two primaries
/// (node-redis's cluster client does not route PUBLISH by channel), and the cluster bus orders
/// nothing across them, so an event can arrive after the marker sent after it.
async fn events_around(
    node: &mut NodeSide,
    client: &str,
    marker: &str,
    expected: usize,
) -> Vec<(String, Json)> {
    let mut got = node.events_until(client, marker).await;
    while got.len() < expected {
        let line = node.wait_for(|l| l["client"] == json!(client)).await;
        let event = line["event"].as_str().unwrap().to_owned();
        got.push((event, line["args"].clone()));
    }
    got
}

async fn every_operation_crosses(deployment: Deployment) {
    let (mut rust, mut node) = mixed_on(deployment, "ops").await;
    let io = rust.io.clone();

    // Node -> everyone: to room1 except room2, with binary; n1 and r1 only.
    node.cmd(json!({"cmd": "emit", "rooms": ["room1"], "except": ["room2"], "event": "from-node", "args": ["hi", {"$bin": "0102"}]})).await;
    // Each marker goes on the channel of the event before it (room1's: every client is in
    // room1); on a Redis Cluster it may still arrive first (see `events_around`).
    node.cmd(json!({"cmd": "emit", "rooms": ["room1"], "event": "mark1"}))
        .await;
    for name in ALL {
        let got = events_around(&mut node, name, "mark1", usize::from(name.ends_with('1'))).await;
        if name.ends_with('1') {
            assert_eq!(
                got,
                vec![("from-node".to_owned(), json!(["hi", {"$bin": "0102"}]))],
                "{name}"
            );
        } else {
            assert!(got.is_empty(), "{name} got {got:?}");
        }
    }

    // Ours -> everyone: the same selection, with binary.
    io.to("room1")
        .except("room2")
        .emit("from-rust", &("yo", bytes::Bytes::from_static(&[3, 4])))
        .unwrap();
    io.to("room1").emit("mark2", &()).unwrap();
    for name in ALL {
        let got = events_around(&mut node, name, "mark2", usize::from(name.ends_with('1'))).await;
        if name.ends_with('1') {
            assert_eq!(
                got,
                vec![("from-rust".to_owned(), json!(["yo", {"$bin": "0304"}]))],
                "{name}"
            );
        } else {
            assert!(got.is_empty(), "{name} got {got:?}");
        }
    }

    // Acks gathered across nodes, both ways: each client acks with its name. On one server
    // our request is also captured off the request channel, to be played again below.
    let mut requests = match deployment {
        Deployment::Standalone => {
            let mut sub = redis::Client::open(REDIS_URL)
                .unwrap()
                .get_async_pubsub()
                .await
                .unwrap();
            // A pattern: a channel subscriber would count as a node (PUBSUB NUMSUB).
            sub.psubscribe(format!("{}-request#/#", rust.key))
                .await
                .unwrap();
            Some(sub)
        }
        Deployment::Cluster => None,
    };
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
    // Our request, captured on one server, to be played again below.
    let ours = match requests.take() {
        Some(sub) => Some(sub.into_on_message().next().await.unwrap()),
        None => None,
    };

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
    // socket.data crosses too: ours set with Socket::set_data, Node's with socket.data = ..
    assert_eq!(
        n2.data,
        json!({"from": "node", "rooms": ["room1", "room2"]})
    );
    let r2 = all.iter().find(|s| s.id == node.id("r2")).unwrap();
    assert_eq!(
        r2.data,
        json!({"from": "rust", "rooms": ["room1", "room2"]})
    );
    let seen = node.cmd(json!({"cmd": "fetch", "rooms": ["room2"]})).await;
    let data_of = |client: &str| {
        let id = node.id(client);
        seen["sockets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == json!(id))
            .map(|s| s["data"].clone())
    };
    assert_eq!(
        data_of("r2"),
        Some(json!({"from": "rust", "rooms": ["room1", "room2"]}))
    );
    assert_eq!(
        data_of("n2"),
        Some(json!({"from": "node", "rooms": ["room1", "room2"]}))
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

    // allRooms both ways (socket-id rooms of the other side included).
    let rooms = io.ns("/").all_rooms().await;
    assert!(
        rooms.contains(&node.id("n1")) && rooms.contains(&"room2".to_owned()),
        "{rooms:?}"
    );
    let node_rooms = node.cmd(json!({"cmd": "rooms"})).await["rooms"].clone();
    assert!(
        node_rooms
            .as_array()
            .unwrap()
            .contains(&json!(node.id("r1"))),
        "{node_rooms}"
    );

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

    // Our own ack request coming back after it was answered (on a Redis Cluster the echo can
    // be that late) is still ours: our clients must not get "ask" a third time. Played again
    // on one server, where it precedes what follows. Node's adapter takes it for a new request
    // (it only checks its pending ids), so its clients do get it.
    let replayed = ours.is_some();
    if let Some(ours) = ours {
        let mut conn = redis::Client::open(REDIS_URL)
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        redis::cmd("PUBLISH")
            .arg(ours.get_channel_name())
            .arg(ours.get_payload_bytes())
            .query_async::<()>(&mut conn)
            .await
            .unwrap();
    }

    // A Node @socket.io/redis-emitter reaches our clients; our Emitter reaches Node's.
    node.cmd(json!({"cmd": "emitter", "rooms": ["room1"], "except": ["room2"], "event": "from-node-emitter", "args": [{"$bin": "ff"}]})).await;
    node.cmd(json!({"cmd": "emitter", "rooms": ["room1"], "event": "mark3"}))
        .await;
    for name in ALL {
        let mut want = Vec::new();
        if replayed && name.starts_with('n') {
            want.push(("ask".to_owned(), json!(["q"])));
        }
        if name.ends_with('1') {
            want.push(("from-node-emitter".to_owned(), json!([{"$bin": "ff"}])));
        }
        let got = events_around(&mut node, name, "mark3", want.len()).await;
        assert_eq!(got, want, "{name}");
    }
    let emitter = Emitter::new(redis_side::client(deployment), &rust.key);
    emitter
        .to("room2")
        .except(node.id("r2"))
        .emit("from-rust-emitter", &(bytes::Bytes::from_static(&[9]), 1.5))
        .await
        .unwrap();
    // room2's members get the marker on room2's channel, the others on the namespace's.
    emitter.to("room2").emit("mark4", &()).await.unwrap();
    emitter.except("room2").emit("mark4", &()).await.unwrap();
    for name in ALL {
        let got = events_around(&mut node, name, "mark4", usize::from(name == "n2")).await;
        if name == "n2" {
            assert_eq!(
                got,
                vec![("from-rust-emitter".to_owned(), json!([{"$bin": "09"}, 1.5]))]
            );
        } else {
            assert!(got.is_empty(), "{name} got {got:?}");
        }
    }
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
        Err(socketio_redis::node::EmitterError::Reserved(_))
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

/// 10 000 broadcasts from each side to room1: every client (two per node) gets each of the
/// 20 000 exactly once, and those of one sender in order.
#[tokio::test]
async fn ten_thousand_broadcasts_each_way_lose_and_duplicate_nothing() {
    flood(Deployment::Standalone).await;
}

/// The same on a Redis Cluster.
#[tokio::test]
async fn ten_thousand_broadcasts_each_way_on_redis_cluster() {
    flood(Deployment::Cluster).await;
}

async fn flood(deployment: Deployment) {
    let (rust, mut node) = mixed_on(deployment, "flood").await;
    const N: u64 = 10_000;
    node.cmd(json!({"cmd": "flood", "count": N})).await;
    for i in 0..N {
        rust.io.to("room1").emit("flood", &(i + N)).unwrap();
    }
    let mut last = Json::Null;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let counts = node.cmd(json!({"cmd": "counts"})).await["counts"].clone();
        let done = ALL.iter().all(|n| counts[n][0].as_u64() >= Some(2 * N));
        if done || Instant::now() > deadline {
            last = counts;
            break;
        }
        if counts == last {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        last = counts;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for name in ALL {
        assert_eq!(last[name][0], json!(2 * N), "{name} received {last}");
        assert_eq!(last[name][1], json!(0), "{name} duplicates {last}");
    }
}

/// A Node node killed with SIGKILL: fetch_sockets, all_rooms, acked broadcasts and acked
/// server-side emits of ours end within the request timeout and leave it out.
#[tokio::test]
async fn a_killed_node_is_left_out_without_a_hang() {
    killed_node_left_out(Deployment::Standalone).await;
}

/// The same on a Redis Cluster: the dead node's subscriptions vanish from every primary, so the
/// `PUBSUB NUMSUB` sum drops at once.
#[tokio::test]
async fn a_killed_node_is_left_out_on_redis_cluster() {
    killed_node_left_out(Deployment::Cluster).await;
}

async fn killed_node_left_out(deployment: Deployment) {
    let (rust, mut node) = mixed_on(deployment, "kill").await;
    // Clients of ours that live in another process, to outlive the killed one.
    let survivors =
        NodeSide::start_script_on(deployment, "classic", &rust.key, rust.port, true).await;
    let c2 = survivors.id("c2");
    let ours = set(&survivors, &["c1", "c2"]);
    let theirs = set(&node, &["n1", "n2"]);
    // r1 and r2 live in the killed process too: ours may still hold them for a moment.
    let dying = set(&node, &["r1", "r2"]);
    node.child.start_kill().unwrap();
    node.child.wait().await.unwrap();
    let io = rust.io.clone();
    let started = Instant::now();
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
    // Nothing from the dead node (its answers would carry fresh ids).
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
    let rooms = io.ns("/").all_rooms().await;
    assert!(
        rooms.contains(&c2) && !rooms.contains(&node.id("n1")),
        "{rooms:?}"
    );
    assert!(
        started.elapsed() < REQUEST_TIMEOUT * 3 + Duration::from_secs(1),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(io.ns("/").server_count().await, 1);
}

/// A node that is counted (subscribed to the request channel) but never answers, as a hung
/// Node server: fetch_sockets, all_rooms and an acked server-side emit of ours give up after
/// the request timeout with what they have, instead of hanging.
#[tokio::test]
async fn a_silent_node_costs_one_request_timeout_not_a_hang() {
    let key = unique_key("silent");
    let rust = rust_side(&key).await;
    let client = redis::Client::open(REDIS_URL).unwrap();
    let mut silent = client.get_async_pubsub().await.unwrap();
    silent.subscribe(format!("{key}-request#/#")).await.unwrap();
    eventually("the silent node counted", || async {
        rust.io.ns("/").server_count().await == 2
    })
    .await;
    let ns = rust.io.ns("/");
    let started = Instant::now();
    assert!(ns.to("room1").fetch_sockets().await.is_empty());
    let waited = started.elapsed();
    assert!(
        waited >= REQUEST_TIMEOUT && waited < REQUEST_TIMEOUT + Duration::from_secs(1),
        "{waited:?}"
    );
    let started = Instant::now();
    assert!(ns.all_rooms().await.is_empty());
    let acks = ns
        .server_side_emit_with_ack(
            "x",
            Args::from_serialize(&1).unwrap(),
            Duration::from_millis(300),
        )
        .await
        .unwrap();
    assert!(acks.is_empty());
    let waited = started.elapsed();
    assert!(
        waited < REQUEST_TIMEOUT + Duration::from_millis(300) + Duration::from_secs(1),
        "{waited:?}"
    );
    drop(silent);
}
