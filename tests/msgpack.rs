//! The msgpack parser (`SocketIo::builder().parser(Parser::MsgPack)`): the official
//! `socket.io-client` 4.8 configured with `socket.io-msgpack-parser` (tests/interop/js/msgpack.mjs)
//! over polling and websocket, against the server below; plus raw msgpack packets over real
//! loopback sockets for what a client cannot be made to send (text packets, garbage).

#[macro_use]
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use socketio_axum::SocketIoRouterExt;
use socketio_core::{Args, ConnectError, Parser, SocketIo, SocketRef, Value};
use support::client::{Conn, EioPacket, Event, Transport};

#[derive(Deserialize, Serialize)]
struct Point {
    x: i64,
    y: f64,
}

#[derive(Deserialize)]
struct Auth {
    token: String,
}

fn all_values(args: &Args) -> Vec<Value> {
    (0..args.len()).map(|i| args.get(i).unwrap()).collect()
}

/// What msgpack.mjs expects of the server (each handler names the check it serves).
async fn start() -> (SocketAddr, SocketIo, tokio::task::JoinHandle<()>) {
    let io = SocketIo::builder()
        .parser(Parser::MsgPack)
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(2000))
        .build();
    io.ns("/")
        // connect with auth: sent back as the "auth" event
        .on_connect(|socket: SocketRef, auth: Option<Value>| async move {
            socket.emit("auth", &auth).ok();
        })
        // typed arguments; the tuple acks with two arguments
        .on(
            "typed",
            |_: SocketRef, name: String, n: u32, p: Point| async move {
                (
                    format!("{name}:{n}"),
                    Point {
                        x: p.x - 1,
                        y: p.y * 2.0,
                    },
                )
            },
        )
        // dynamic arguments acked back as one array, binary included
        .on("dynamic", |_: SocketRef, args: Args| async move {
            all_values(&args)
        })
        // binary into `Bytes` and back as an event
        .on(
            "blob",
            |socket: SocketRef, blob: Bytes, meta: Value| async move {
                let inner = meta.get("inner").cloned().unwrap_or_default();
                let inner_len = inner.as_bytes().map_or(0, |b| b.len());
                let mut back = socketio_core::args::Map::new();
                back.insert("name".into(), Value::String("blob".into()));
                back.insert("inner".into(), inner);
                socket
                    .emit("blob", &(blob.clone(), Value::Object(back)))
                    .ok();
                vec![blob.len(), inner_len]
            },
        )
        // numbers keep their kind: what each argument arrived as, and a mix sent out
        .on("kinds", |_: SocketRef, args: Args| async move {
            args.values()
                .iter()
                .map(|v| match v {
                    serde_json::Value::Number(n) if n.is_f64() => "float",
                    serde_json::Value::Number(_) => "int",
                    _ => "other",
                })
                .collect::<Vec<_>>()
        })
        .on("numbers", |socket: SocketRef| async move {
            socket
                .emit("numbers", &(7_i64, 2.0_f64, 2.5_f64, -1_i32, 1_u64 << 53))
                .ok();
        })
        // server → client ack, every argument of the answer acked back as one array
        .on("ask", |socket: SocketRef| async move {
            let answer: Args = socket
                .emit_with_ack("question", &"q?")
                .timeout(Duration::from_secs(5))
                .await
                .expect("answer");
            all_values(&answer)
        })
        // rooms: join, broadcast to a room (binary included), broadcast with acks
        .on("join", |socket: SocketRef, room: String| async move {
            socket.join(room);
            "joined"
        })
        .on(
            "shout",
            |socket: SocketRef, room: String, text: String, bin: Bytes| async move {
                socket.to(room).emit("news", &(text, bin)).ok();
            },
        )
        .on("poll", |socket: SocketRef, room: String| async move {
            let answers = socket
                .namespace()
                .to(room)
                .timeout(Duration::from_secs(5))
                .emit_with_ack::<Args, _>("poll", &())
                .await
                .expect("emit");
            answers
                .into_iter()
                .map(|(_, answer)| all_values(&answer.expect("answer")))
                .collect::<Vec<_>>()
        })
        .on("bye", |socket: SocketRef| async move {
            socket.disconnect();
        });
    // a refusing connect handler
    io.ns("/private")
        .on_connect(|_: SocketRef, auth: Auth| async move {
            if auth.token == "secret" {
                Ok(())
            } else {
                Err(ConnectError::new("unauthorized")
                    .with_data(&serde_json::json!({"reason": "bad token"})))
            }
        });
    let (addr, task) = support::server::serve_router(Router::new().socketio(&io)).await;
    (addr, io, task)
}

/// socket.io-client 4.8 with socket.io-msgpack-parser, on each transport and through the
/// upgrade: connect with auth,
/// typed and dynamic arguments, binary both ways, number kinds, acks both ways, a room
/// broadcast (with and without acks), connect_error, a server-side disconnect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_client_with_msgpack_parser() {
    support::script::js_dir("socket.io-msgpack-parser");
    let (addr, _io, _task) = start().await;
    let url = format!("http://{addr}");
    for transport in ["polling", "websocket", "upgrade"] {
        support::script::run_js("msgpack.mjs", &[&url, transport]).await;
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

async fn send_binary(c: &Conn, data: &[u8]) {
    match c {
        Conn::Ws(ws) => ws.send_binary(data).await,
        Conn::Polling(s) => s.polling.send(&[EioPacket::binary(data.to_vec())]).await,
    }
}

/// The next Engine.IO message that is not a noop.
async fn next(c: &mut Conn) -> Event {
    loop {
        match c.recv(Duration::from_secs(5)).await {
            Some(Event::Text(t)) if t == "6" => continue,
            Some(event) => return event,
            None => panic!("nothing arrived"),
        }
    }
}

/// A msgpack packet from its fields, as socket.io-client would send it.
fn packet(fields: &[(&str, rmpv::Value)]) -> Vec<u8> {
    let map = fields
        .iter()
        .map(|(k, v)| (rmpv::Value::from(*k), v.clone()))
        .collect();
    let mut out = Vec::new();
    rmpv::encode::write_value(&mut out, &rmpv::Value::Map(map)).unwrap();
    out
}

/// The next packet, read as a msgpack map.
async fn next_packet(c: &mut Conn) -> rmpv::Value {
    match next(c).await {
        Event::Binary(bytes) => rmpv::decode::read_value(&mut &bytes[..]).expect("msgpack"),
        other => panic!("expected a binary packet, got {other:?}"),
    }
}

fn field<'a>(packet: &'a rmpv::Value, key: &str) -> &'a rmpv::Value {
    packet
        .as_map()
        .and_then(|m| m.iter().find(|(k, _)| k.as_str() == Some(key)))
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("no {key} in {packet}"))
}

/// A msgpack node and a default-parser node in one cluster (the real Redis): broadcasts,
/// with binary and with acks, cross in both directions, each node writing its own clients'
/// encoding (a packet from the other node is re-encoded once on delivery).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cluster_of_a_msgpack_node_and_a_default_node() {
    use rmpv::Value as Mp;
    let channel = format!("socketio-test-{}", socketio_core::Sid::new());
    let (addr, msgpack_io, _task) = start().await;
    msgpack_io
        .join_cluster(support::cluster::redis(), &channel)
        .await
        .expect("is Redis running? (scripts/services.sh starts it)");
    let default_node = support::server::start_interop_server().await;
    default_node
        .io
        .join_cluster(support::cluster::redis(), &channel)
        .await
        .expect("redis");

    // a msgpack client on the msgpack node, in room "r"
    let (mut m, _) = Conn::open(addr, Transport::WebSocket).await;
    send_binary(&m, &packet(&[("type", 0.into()), ("nsp", "/".into())])).await;
    assert_eq!(field(&next_packet(&mut m).await, "type"), &Mp::from(0));
    next_packet(&mut m).await; // "auth"
    let join = [
        ("type", Mp::from(2)),
        ("nsp", "/".into()),
        ("data", Mp::Array(vec!["join".into(), "r".into()])),
        ("id", 1.into()),
    ];
    send_binary(&m, &packet(&join)).await;
    assert_eq!(
        field(&next_packet(&mut m).await, "data"),
        &Mp::Array(vec!["joined".into()])
    );

    // a default client on the default node, in room "d"
    let (mut d, _) = support::cluster::client(&default_node).await;
    support::cluster::join(&mut d, "d", 1).await;

    // default node → msgpack client
    default_node
        .io
        .to("r")
        .emit("news", &("from default", Bytes::from_static(&[1, 2])))
        .unwrap();
    let news = next_packet(&mut m).await;
    assert_eq!(
        field(&news, "data"),
        &Mp::Array(vec![
            "news".into(),
            "from default".into(),
            Mp::Binary(vec![1, 2])
        ])
    );

    // msgpack node → default client
    msgpack_io
        .to("d")
        .emit("news", &("from msgpack", Bytes::from_static(&[3])))
        .unwrap();
    d.expect_sio_eq(r#"51-["news","from msgpack",{"_placeholder":true,"num":0}]"#)
        .await;
    assert_eq!(d.expect_binary().await, [3]);

    // a broadcast with acks from the default node, answered by the msgpack client
    let asking = default_node.io.clone();
    let answers = tokio::spawn(async move {
        asking
            .ns("/")
            .to("r")
            .timeout(Duration::from_secs(5))
            .emit_with_ack::<Args, _>("question", &"q?")
            .await
            .unwrap()
    });
    let question = next_packet(&mut m).await;
    assert_eq!(
        field(&question, "data"),
        &Mp::Array(vec!["question".into(), "q?".into()])
    );
    let id = field(&question, "id").clone();
    let answer = [
        ("type", Mp::from(3)),
        ("nsp", "/".into()),
        ("data", Mp::Array(vec!["ok".into(), Mp::Binary(vec![9])])),
        ("id", id),
    ];
    send_binary(&m, &packet(&answer)).await;
    let answers = answers.await.unwrap();
    assert_eq!(answers.len(), 1);
    let args = answers[0].1.as_ref().expect("answered");
    assert_eq!(args.get::<String>(0).unwrap(), "ok");
    assert_eq!(args.get::<Bytes>(1).unwrap(), Bytes::from_static(&[9]));
}

on_both_transports!(
    raw_connect_and_event,
    text_packet_closes_the_connection,
    garbage_closes_the_connection,
    overlong_event_name_closes_the_connection,
);

/// `{type: 0, data: undefined, nsp: "/"}` as socket.io-client sends it: the CONNECT answer and
/// every later packet are single binary messages.
async fn raw_connect_and_event(transport: Transport) {
    let (addr, _io, _task) = start().await;
    let (mut c, _) = Conn::open(addr, transport).await;
    send_binary(&c, &hex("83a47479706500a464617461d40000a36e7370a12f")).await;
    let Event::Binary(answer) = next(&mut c).await else {
        panic!("the CONNECT answer is binary")
    };
    // {type: 0, nsp: "/", data: {sid: "<20 chars>"}}
    assert!(
        answer.starts_with(&hex("83a47479706500a36e7370a12fa46461746181a3736964b4")),
        "{answer:02x?}"
    );
    // the "auth" event: {type: 2, nsp: "/", data: ["auth", null]}
    let Event::Binary(auth) = next(&mut c).await else {
        panic!("the event is binary")
    };
    assert_eq!(
        auth,
        hex("83a47479706502a36e7370a12fa46461746192a461757468c0")
    );
    // {type: 2, data: ["kinds", 1, 1.5], nsp: "/", id: 4} → {type: 3, nsp, data: [["int","float"]], id: 4}
    send_binary(
        &c,
        &hex("84a47479706502a46461746193a56b696e647301cb3ff8000000000000a36e7370a12fa2696404"),
    )
    .await;
    let Event::Binary(ack) = next(&mut c).await else {
        panic!("the ack is binary")
    };
    assert_eq!(
        ack,
        hex("84a47479706503a36e7370a12fa4646174619192a3696e74a5666c6f6174a2696404")
    );
}

/// A msgpack server has no text packets: one closes the connection (a parse error).
async fn text_packet_closes_the_connection(transport: Transport) {
    let (addr, _io, _task) = start().await;
    let (mut c, _) = Conn::open(addr, transport).await;
    c.send_sio("0").await;
    c.expect_closed(Duration::from_secs(5)).await;
}

/// Bytes that are not a valid packet close the connection, whatever they declare.
async fn garbage_closes_the_connection(transport: Transport) {
    for bad in [
        "c1",
        "dfffffffff",
        "83a47479706502a36e7370a12fa464617461ddfffffff0c0",
    ] {
        let (addr, _io, _task) = start().await;
        let (mut c, _) = Conn::open(addr, transport).await;
        send_binary(&c, &hex(bad)).await;
        c.expect_closed(Duration::from_secs(5)).await;
    }
}

/// `max_name_len` holds for msgpack packets too: an event name over it closes the connection
/// ("parse error"), as with the default parser (tests/hostile.rs).
async fn overlong_event_name_closes_the_connection(transport: Transport) {
    let (addr, _io, _task) = start().await;
    let (mut c, _) = Conn::open(addr, transport).await;
    send_binary(&c, &packet(&[("type", 0.into()), ("nsp", "/".into())])).await;
    let Event::Binary(_) = next(&mut c).await else {
        panic!("the CONNECT answer is binary")
    };
    let long = "e".repeat(2000);
    let event = rmpv::Value::Array(vec![long.as_str().into(), 1.into()]);
    send_binary(
        &c,
        &packet(&[("type", 2.into()), ("nsp", "/".into()), ("data", event)]),
    )
    .await;
    c.expect_closed(Duration::from_secs(5)).await;
}
