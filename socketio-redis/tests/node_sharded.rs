//! A mixed sharded cluster: one Node socket.io 4.8 server on `@socket.io/redis-adapter` 8.3's
//! `createShardedAdapter` (subscriptionMode "dynamic") and one of ours on
//! `socketio_redis::node::ShardedRedisAdapter`, sharing real Redis 7 (6379, SSUBSCRIBE /
//! SPUBLISH), with real socket.io-client clients on each (driven by
//! `tests/interop/node-cluster/mixed.mjs` with `ADAPTER=sharded`: "n1", "n2" on Node, "r1", "r2" on ours; all in
//! "room1", n2 and r2 in "room2"). Every operation crosses both ways. Each test has its own
//! channel prefix; the Node process is killed when a test ends, failed or not. No spying
//! subscriber: `SHARDNUMSUB` would count it as a node.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{json, Value as Json};
use socketio_core::Args;
use socketio_redis::node::{ShardedRedisAdapter, ShardedRedisAdapterConfig, SubscriptionMode};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);

mod common;
#[path = "common/redis.rs"]
mod redis_side;
use common::*;

impl NodeSide {
    async fn start(deployment: Deployment, key: &str, rust_port: u16) -> NodeSide {
        Self::start_script_on(deployment, "sharded", key, rust_port, false).await
    }
}

fn unique_key(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("rs-node-sharded-{test}-{}-{nanos}", std::process::id())
}

async fn rust_side(deployment: Deployment, key: &str) -> RustSide {
    let client = redis_side::client(deployment);
    let config = ShardedRedisAdapterConfig {
        channel_prefix: key.to_owned(),
        subscription_mode: SubscriptionMode::Dynamic,
        request_timeout: REQUEST_TIMEOUT,
        connection_name: None,
    };
    let factory = ShardedRedisAdapter::factory(client, config).await.unwrap();
    rust_side_with(key, factory).await
}

/// Both sides up, each counting two nodes.
async fn mixed(deployment: Deployment, test: &str) -> (RustSide, NodeSide) {
    let key = unique_key(test);
    let rust = rust_side(deployment, &key).await;
    let mut node = NodeSide::start(deployment, &key, rust.port).await;
    assert_eq!(rust.io.ns("/").server_count().await, 2);
    assert_eq!(node.cmd(json!({"cmd": "count"})).await["count"], json!(2));
    (rust, node)
}

/// Broadcasts with `except` and binary (on the dynamic room channel), acks gathered across
/// nodes, fetchSockets, socketsJoin/Leave, serverSideEmit with and without ack and
/// disconnectSockets, each from the Node side to ours and from ours to the Node side.
#[tokio::test]
async fn every_operation_crosses_a_sharded_cluster_both_ways() {
    every_operation_crosses(Deployment::Standalone).await;
}

/// The same on a Redis Cluster (three primaries): each channel's `SSUBSCRIBE`/`SPUBLISH` goes
/// to the primary owning its slot, on both sides; `SHARDNUMSUB` is summed over the primaries.
#[tokio::test]
async fn every_operation_crosses_a_sharded_cluster_on_redis_cluster() {
    every_operation_crosses(Deployment::Cluster).await;
}

async fn every_operation_crosses(deployment: Deployment) {
    let (mut rust, mut node) = mixed(deployment, "ops").await;
    let io = rust.io.clone();

    // Node -> everyone: to room1 except room2, with binary; n1 and r1 only.
    node.cmd(json!({"cmd": "emit", "rooms": ["room1"], "except": ["room2"], "event": "from-node", "args": ["hi", {"$bin": "0102"}]})).await;
    // Each marker goes on the same channel as the event before it (room1's): on a Redis Cluster
    // two channels may live on two primaries, and Redis orders nothing across them.
    node.cmd(json!({"cmd": "emit", "rooms": ["room1"], "event": "mark1"}))
        .await;
    for name in ALL {
        let got = node.events_until(name, "mark1").await;
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
        let got = node.events_until(name, "mark2").await;
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

    // disconnectSockets both ways: Node disconnects r1, we disconnect n1.
    node.cmd(json!({"cmd": "disconnect", "rooms": [node.id("r1")]}))
        .await;
    node.wait_for(|l| l["client"] == json!("r1") && l["event"] == json!("$disconnect"))
        .await;
    io.to(node.id("n1")).disconnect();
    node.wait_for(|l| l["client"] == json!("n1") && l["event"] == json!("$disconnect"))
        .await;
    assert_eq!(
        ids(&io.ns("/").to("room1").fetch_sockets().await),
        set(&node, &["n2", "r2"])
    );
}
