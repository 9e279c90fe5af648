//! Server nodes sharing their clients through a real message bus — Redis on 127.0.0.1:6379
//! (`REDIS_URL`) and RabbitMQ on 127.0.0.1:5672 (`AMQP_URL`) — plus write-only emitters. Every
//! scenario runs on both buses; each test uses its own channel.

mod support;

use std::time::Duration;

use socketio_core::cluster::{Bus, Emitter};
use support::client::{Conn, Event};
use support::cluster::{amqp, client, join, nodes, redis};

/// Counts `room-message` events until `quiet` passes without any.
async fn count_room_messages(c: &mut Conn, quiet: Duration) -> usize {
    let mut n = 0;
    while let Some(event) = c.recv(quiet).await {
        match event {
            Event::Text(t) if t.starts_with(r#"42["room-message""#) => n += 1,
            Event::Closed(why) => panic!("connection closed: {why}"),
            _ => {}
        }
    }
    n
}

async fn room_broadcast_reaches_other_nodes_once_and_skips_the_sender<B: Bus>(bus: fn() -> B) {
    let (n, _) = nodes(bus, 2).await;
    let (n1, n2) = (&n[0], &n[1]);
    let (mut a, _) = client(n1).await;
    let (mut b, _) = client(n2).await;
    let (mut c, _) = client(n2).await;
    join(&mut a, "r", 1).await;
    join(&mut b, "r", 1).await;
    a.send_sio(r#"22["to-room","r",{"m":1}]"#).await;
    assert_eq!(a.expect_sio().await, "32[true]");
    assert_eq!(b.expect_sio().await, r#"2["room-message",{"m":1}]"#);
    let quiet = Duration::from_millis(500);
    assert_eq!(
        count_room_messages(&mut b, quiet).await,
        0,
        "B got it twice"
    );
    assert_eq!(
        count_room_messages(&mut a, quiet).await,
        0,
        "the sender got it"
    );
    assert_eq!(
        count_room_messages(&mut c, quiet).await,
        0,
        "C is not in the room"
    );
}

/// An emitter reaches clients on three nodes.
async fn emitter_reaches_clients_on_every_node<B: Bus>(bus: fn() -> B) {
    let (n, channel) = nodes(bus, 3).await;
    let mut clients = Vec::new();
    for node in &n {
        let (mut c, _) = client(node).await;
        join(&mut c, "r", 1).await;
        clients.push(c);
    }
    let emitter = Emitter::new(bus(), &channel);
    emitter
        .to("r")
        .emit("room-message", &serde_json::json!({"from": "worker"}))
        .await
        .unwrap();
    for c in &mut clients {
        assert_eq!(
            c.expect_sio().await,
            r#"2["room-message",{"from":"worker"}]"#
        );
    }
    // Binary attachments cross the bus too.
    emitter
        .to("r")
        .emit("room-message", &bytes::Bytes::from_static(&[1, 2, 3]))
        .await
        .unwrap();
    for c in &mut clients {
        assert_eq!(
            c.expect_sio().await,
            r#"51-["room-message",{"_placeholder":true,"num":0}]"#
        );
        assert_eq!(c.expect_binary().await, vec![1, 2, 3]);
    }
}

async fn remote_join_leave_disconnect_and_close_room<B: Bus>(bus: fn() -> B) {
    let (n, channel) = nodes(bus, 2).await;
    let (n1, n2) = (&n[0], &n[1]);
    let (mut b, b_sid) = client(n2).await;
    // Node 1 makes socket B (on node 2) join "vip", selecting it by its id room.
    n1.io.ns("/").to(b_sid.clone()).join("vip");
    tokio::time::sleep(Duration::from_millis(300)).await;
    b.send_sio(r#"21["rooms"]"#).await;
    let rooms = b.expect_sio().await;
    assert!(rooms.contains("\"vip\""), "{rooms}");
    // close_room on node 1 empties it on node 2 too.
    n1.io.ns("/").close_room("vip");
    tokio::time::sleep(Duration::from_millis(300)).await;
    b.send_sio(r#"22["rooms"]"#).await;
    let rooms = b.expect_sio().await;
    assert!(!rooms.contains("\"vip\""), "{rooms}");
    // An emitter disconnects everyone in B's id room.
    Emitter::new(bus(), &channel)
        .to(b_sid)
        .disconnect(false)
        .await
        .unwrap();
    assert_eq!(b.expect_sio().await, "1");
}

/// 10 000 messages from node 1 to a room spread over both nodes: every client gets each one
/// exactly once.
async fn ten_thousand_cross_node_messages_no_loss_no_duplicates<B: Bus>(bus: fn() -> B) {
    let (n, _) = nodes(bus, 2).await;
    let (n1, n2) = (&n[0], &n[1]);
    let mut clients = Vec::new();
    for node in [n1, n2, n2] {
        let (mut c, _) = client(node).await;
        join(&mut c, "bulk", 1).await;
        clients.push(c);
    }
    let counters: Vec<_> = clients
        .into_iter()
        .map(|mut c| {
            tokio::spawn(async move {
                let mut seen = vec![0u32; 10_000];
                while let Some(event) = c.recv(Duration::from_secs(3)).await {
                    if let Event::Text(t) = event {
                        if let Some(n) = t
                            .strip_prefix(r#"42["room-message","#)
                            .and_then(|r| r.strip_suffix(']'))
                        {
                            seen[n.parse::<usize>().unwrap()] += 1;
                        }
                    }
                }
                seen
            })
        })
        .collect();
    let ns = n1.io.ns("/");
    for batch in 0..100 {
        for i in 0..100 {
            ns.to("bulk")
                .emit("room-message", &(batch * 100 + i))
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    for (i, counter) in counters.into_iter().enumerate() {
        let seen = counter.await.unwrap();
        let lost = seen.iter().filter(|&&n| n == 0).count();
        let duplicated = seen.iter().filter(|&&n| n > 1).count();
        println!("client {i}: lost {lost}, duplicated {duplicated}");
        assert_eq!((lost, duplicated), (0, 0), "client {i}");
    }
}

/// Answers every `question` with `answer-<name>` (unless `name` is empty: then never answers),
/// until the connection closes.
fn answer_questions(mut c: Conn, name: &'static str) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        while let Some(event) = c.recv(Duration::from_secs(20)).await {
            let Event::Text(t) = event else { continue };
            let Some(rest) = t.strip_prefix("42") else {
                continue;
            };
            let Some((id, _)) = rest.split_once(r#"["question""#) else {
                continue;
            };
            if !name.is_empty() {
                c.send_sio(&format!(r#"3{id}["answer-{name}"]"#)).await;
            }
        }
    })
}

/// emit_with_ack to a room spread over three nodes gathers one answer per socket; a socket
/// that never answers gets a timeout. fetch_sockets and all_rooms see every node.
async fn acks_sockets_and_rooms_across_nodes<B: Bus>(bus: fn() -> B) {
    let (n, _) = nodes(bus, 3).await;
    let mut expected = std::collections::BTreeMap::new();
    let mut tasks = Vec::new();
    for (node, name) in [(&n[0], "a"), (&n[1], "b"), (&n[2], "c"), (&n[1], "")] {
        let (mut c, sid) = client(node).await;
        join(&mut c, "q", 1).await;
        join(&mut c, &format!("only-{sid}"), 2).await;
        expected.insert(sid, name);
        tasks.push(answer_questions(c, name));
    }
    // Let the nodes hear each other's heartbeats.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let answers = n[0]
        .io
        .ns("/")
        .to("q")
        .timeout(Duration::from_secs(1))
        .emit_with_ack::<String, _>("question", &"ready?")
        .await
        .unwrap();
    assert_eq!(answers.len(), 4, "{answers:?}");
    for (sid, answer) in &answers {
        let name = expected[&sid.to_string()];
        match answer {
            Ok(text) => assert_eq!(text, &format!("answer-{name}")),
            Err(err) => assert!(name.is_empty(), "{name}: {err}"),
        }
    }
    let errors = answers.iter().filter(|(_, a)| a.is_err()).count();
    assert_eq!(errors, 1, "exactly the silent socket times out");

    let sockets = n[2].io.ns("/").to("q").fetch_sockets().await;
    let mut ids: Vec<_> = sockets.iter().map(|s| s.id.clone()).collect();
    ids.sort();
    assert_eq!(ids, expected.keys().cloned().collect::<Vec<_>>());
    assert!(sockets.iter().all(|s| s.rooms.contains(&"q".to_string())));

    let rooms = n[1].io.ns("/").all_rooms().await;
    for sid in expected.keys() {
        assert!(rooms.contains(&format!("only-{sid}")), "{rooms:?}");
    }
    tasks.iter().for_each(|t| t.abort());
}

macro_rules! on_every_bus {
    ($($scenario:ident),* $(,)?) => {
        mod redis {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(super::redis).await;
                }
            )*
        }
        mod amqp {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    super::$scenario(super::amqp).await;
                }
            )*
        }
    };
}

on_every_bus!(
    room_broadcast_reaches_other_nodes_once_and_skips_the_sender,
    emitter_reaches_clients_on_every_node,
    remote_join_leave_disconnect_and_close_room,
    ten_thousand_cross_node_messages_no_loss_no_duplicates,
    acks_sockets_and_rooms_across_nodes,
);
