//! Connection state recovery (`SocketIoBuilder::connection_state_recovery`) with the official
//! `socket.io-client` 4.8 (tests/interop/js/recovery.mjs) on both transports: a client whose
//! connection is lost gets its id, rooms, data and the packets it missed back, in order, with
//! `socket.recovered` true, through closures and a `#[namespace]` type; not after either side
//! disconnected on purpose, with an unknown pid, or too late; volatile packets are not
//! replayed. Plus the raw packets: the CONNECT answer's `pid` and the offsets appended to
//! broadcasts.

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{json, Value};
use socketio_core::adapter::RecoveryConfig;
use socketio_core::{DisconnectReason, SocketIo, SocketIoBuilder, SocketRef};
use socketio_macros::namespace;
use support::client::{Conn, Transport};

#[derive(Deserialize)]
struct Auth {
    user: Option<String>,
}

/// A fresh socket gets `{user}` as data and joins `room-a`; every socket, recovered or not,
/// is greeted with `hello(recovered)` (which gives the client its first offset).
fn welcome(socket: &SocketRef, auth: Option<Auth>) {
    if !socket.recovered() {
        let user = auth.and_then(|a| a.user);
        socket.set_data(&json!({ "user": user })).unwrap();
        socket.join("room-a");
    }
    socket.emit("hello", &socket.recovered()).ok();
}

fn whoami(socket: &SocketRef) -> Value {
    json!({
        "id": socket.id().to_string(),
        "rooms": socket.rooms(),
        "data": socket.data_value(),
        "recovered": socket.recovered(),
    })
}

/// Tells the observers of `/` that a socket left (after its session was persisted).
fn gone(io: &SocketIo, socket: &SocketRef) {
    io.ns("/")
        .to("observers")
        .emit("gone", &socket.id().to_string())
        .ok();
}

/// The same as `/` in a `#[namespace]` type.
struct Macro {
    io: SocketIo,
}

#[namespace("/macro")]
impl Macro {
    #[on_connect]
    async fn connect(&self, socket: SocketRef, auth: Option<Auth>) {
        welcome(&socket, auth);
    }

    #[on("whoami")]
    fn whoami(&self, socket: SocketRef) -> Value {
        whoami(&socket)
    }

    #[on_disconnect]
    async fn gone(&self, socket: SocketRef, _reason: DisconnectReason) {
        gone(&self.io, &socket);
    }
}

async fn serve(recovery: RecoveryConfig) -> (SocketAddr, SocketIo) {
    serve_with(SocketIo::builder().connection_state_recovery(recovery)).await
}

/// The test server on `builder` (with recovery and maybe an adapter).
async fn serve_with(builder: SocketIoBuilder) -> (SocketAddr, SocketIo) {
    let io = builder
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .build();
    let observed = io.clone();
    io.ns("/")
        .on_connect(|socket: SocketRef, auth: Option<Auth>| async move {
            welcome(&socket, auth);
        })
        .on("whoami", |socket: SocketRef| async move { whoami(&socket) })
        .on("join", |socket: SocketRef, room: String| async move {
            socket.join(room);
            socket.rooms()
        })
        .on("set-score", |socket: SocketRef, score: u32| async move {
            let mut data = socket.data_value();
            data["score"] = score.into();
            socket.set_data(&data).unwrap();
        })
        .on("observe", |socket: SocketRef| async move {
            socket.join("observers");
            true
        })
        .on("disconnect-me", |socket: SocketRef| async move {
            socket.disconnect();
        })
        // what a socket away in room-a and room-c gets back: 1, 2, 3, 4 (in that order)
        .on("spread", |socket: SocketRef, target: String| async move {
            let ns = socket.namespace();
            ns.to("room-a").emit("news", &1).unwrap();
            ns.to("room-a").volatile().emit("news", &99).unwrap();
            ns.to("room-c").emit("news", &2).unwrap();
            ns.to("room-z").emit("news", &98).unwrap();
            ns.to("room-a").except("room-c").emit("news", &97).unwrap();
            ns.to(target).emit("news", &3).unwrap();
            ns.emit("news", &4).unwrap();
            true
        })
        .on_disconnect(move |socket: SocketRef| {
            let io = observed.clone();
            async move { gone(&io, &socket) }
        });
    io.register(Macro { io: io.clone() });
    let addr = support::server::serve(&io).await;
    (addr, io)
}

/// Everything the JS client checks (see recovery.mjs), on both transports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_client_recovers_its_session() {
    let (addr, _io) = serve(RecoveryConfig::default()).await;
    let (short, _short_io) = serve(RecoveryConfig {
        max_disconnection_duration: Duration::from_millis(300),
        ..Default::default()
    })
    .await;
    let (addr, short) = (format!("http://{addr}"), format!("http://{short}"));
    for transport in ["websocket", "polling"] {
        support::script::run_js("recovery.mjs", &["single", &addr, &short, transport]).await;
    }
}

/// Runs `recovery.mjs cluster` against two nodes, on both transports.
async fn js_client_moves(a: SocketAddr, b: SocketAddr) {
    let (a, b) = (format!("http://{a}"), format!("http://{b}"));
    for transport in ["websocket", "polling"] {
        support::script::run_js("recovery.mjs", &["cluster", &a, &b, transport]).await;
    }
}

fn unique(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("rs-recovery-{test}-{}-{nanos}", std::process::id())
}

/// Two of our nodes on the Redis Streams adapter (real Redis on 6379): sessions in Redis,
/// offsets are stream entry ids, so a client recovers on the other node with what both nodes
/// broadcast while it was away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_client_recovers_on_another_node_through_redis_streams() {
    use socketio_redis::streams::{RedisStreamsAdapter, RedisStreamsConfig};
    let name = unique("streams");
    let config = RedisStreamsConfig {
        stream_name: name.clone(),
        channel_prefix: name.clone(),
        session_key_prefix: format!("{name}:session:"),
        ..Default::default()
    };
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
        let factory = RedisStreamsAdapter::factory(client, config.clone())
            .await
            .expect("Redis on 6379 (scripts/services.sh starts it)");
        let builder = SocketIo::builder()
            .adapter(factory)
            .connection_state_recovery(RecoveryConfig::default());
        nodes.push(serve_with(builder).await);
    }
    js_client_moves(nodes[0].0, nodes[1].0).await;
    let client = redis::Client::open("redis://127.0.0.1:6379").unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let _: () = redis::cmd("DEL")
        .arg(&name)
        .query_async(&mut conn)
        .await
        .unwrap();
}

/// Two of our nodes on the Postgres adapter (real PostgreSQL on 5432, database `test`):
/// sessions in the session table, kept broadcasts through the attachment table whose row ids
/// are the offsets, so a client recovers on the other node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_client_recovers_on_another_node_through_postgres() {
    use socketio_postgres::{create_attachment_table, PostgresAdapter, PostgresAdapterConfig};
    const PG: &str = "host=127.0.0.1 port=5432 user=postgres dbname=test";
    let name = unique("pg").replace('-', "_");
    let config = PostgresAdapterConfig {
        channel_prefix: name.clone(),
        table_name: format!("{name}_attachments"),
        session_table_name: format!("{name}_sessions"),
        ..Default::default()
    };
    let (client, conn) = tokio_postgres::connect(PG, tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL on 127.0.0.1:5432 (scripts/services.sh starts it)");
    tokio::spawn(conn);
    create_attachment_table(&client, &config.table_name)
        .await
        .unwrap();
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let factory = PostgresAdapter::factory(PG.parse().unwrap(), config.clone())
            .await
            .unwrap();
        let builder = SocketIo::builder()
            .adapter(factory)
            .connection_state_recovery(RecoveryConfig::default());
        nodes.push(serve_with(builder).await);
    }
    js_client_moves(nodes[0].0, nodes[1].0).await;
    client
        .batch_execute(&format!(
            "DROP TABLE {}; DROP TABLE IF EXISTS {}",
            config.table_name, config.session_table_name
        ))
        .await
        .unwrap();
}

/// The packet's JSON after its type digit.
fn body(packet: &str, kind: char) -> Value {
    let json = packet
        .strip_prefix(kind)
        .unwrap_or_else(|| panic!("{packet}"));
    serde_json::from_str(json).unwrap_or_else(|e| panic!("{packet}: {e}"))
}

/// Raw packets: the CONNECT answer carries `pid`, events without ack carry an offset as last
/// argument (the socket's own emits too, even from the connect handler), acks do not; a
/// recovered socket gets its missed packets right after the CONNECT answer, before what its
/// connect handler emits.
async fn connect_answer_has_pid_and_events_have_offsets(transport: Transport) {
    let (addr, _io) = serve(RecoveryConfig::default()).await;
    let (mut c, _) = Conn::open(addr, transport).await;
    c.send_sio(r#"0{"user":"raw"}"#).await;
    let answer = body(&c.expect_sio().await, '0');
    let (sid, pid) = (
        answer["sid"].as_str().unwrap(),
        answer["pid"].as_str().unwrap(),
    );
    assert_eq!((sid.len(), pid.len()), (20, 20), "{answer}");
    assert_ne!(sid, pid);
    let hello = body(&c.expect_sio().await, '2');
    assert_eq!(
        (&hello[0], &hello[1]),
        (&json!("hello"), &json!(false)),
        "{hello}"
    );
    let offset = hello[2].as_str().expect("an offset").to_owned();
    c.send_sio(r#"21["join","room-c"]"#).await;
    let joined = body(c.expect_sio().await.strip_prefix('3').unwrap(), '1');
    assert_eq!(
        joined.as_array().unwrap().len(),
        1,
        "an ack has no offset: {joined}"
    );

    // lose the connection; another client spreads news; come back with pid and offset
    drop(c);
    let (mut d, _) = Conn::open(addr, transport).await;
    d.send_sio("0").await;
    d.expect_sio().await; // CONNECT answer
    d.expect_sio().await; // hello
    let mut waited = 0;
    loop {
        // the first client's socket may take a moment to be seen gone
        d.send_sio(&format!(r#"2{waited}["spread","{sid}"]"#)).await;
        let mut acked = false;
        while !acked {
            acked = d.expect_sio().await.starts_with('3');
        }
        waited += 1;
        let (mut e, _) = Conn::open(addr, transport).await;
        e.send_sio(&format!(r#"0{{"pid":"{pid}","offset":"{offset}"}}"#))
            .await;
        let answer = body(&e.expect_sio().await, '0');
        if answer["sid"] != sid {
            assert!(waited < 50, "never recovered: {answer}");
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        assert_eq!(answer["pid"], pid);
        let mut got = Vec::new();
        for _ in 0..4 * waited {
            let news = body(&e.expect_sio().await, '2');
            assert_eq!(news[0], "news", "{news}");
            assert!(news[2].is_string(), "offset: {news}");
            got.push(news[1].as_u64().unwrap());
        }
        assert_eq!(&got[got.len() - 4..], [1, 2, 3, 4]);
        let hello = body(&e.expect_sio().await, '2');
        assert_eq!(
            (&hello[0], &hello[1]),
            (&json!("hello"), &json!(true)),
            "{hello}"
        );
        break;
    }
}

on_both_transports!(connect_answer_has_pid_and_events_have_offsets);

/// Without the option nothing changes: no pid, no offsets, a client's pid is ignored.
async fn off_by_default(transport: Transport) {
    let io = SocketIo::new();
    io.ns("/")
        .on_connect(|socket: SocketRef| async move {
            socket.emit("hello", &1).ok();
        })
        .on("all", |socket: SocketRef| async move {
            socket.namespace().emit("all", &2).ok();
        });
    let addr = support::server::serve(&io).await;
    let (mut c, _) = Conn::open(addr, transport).await;
    c.send_sio(r#"0{"pid":"x","offset":"0"}"#).await;
    let answer = body(&c.expect_sio().await, '0');
    assert!(answer.get("pid").is_none(), "{answer}");
    c.expect_sio_eq(r#"2["hello",1]"#).await;
    c.send_sio(r#"2["all"]"#).await;
    c.expect_sio_eq(r#"2["all",2]"#).await;
}

on_both_transports!(off_by_default);
