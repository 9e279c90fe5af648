//! What a client sends is what a handler sees and relays: `null` stays an argument, object keys
//! keep their order, binary stays binary through a dynamic value, every argument of an ack is
//! reachable, and an argument that does not fit gets an error ack a client can read.
//!
//! Raw Socket.IO packets over real loopback sockets (both transports), plus the official
//! `socket.io-client` (tests/interop/js/values.mjs) for what a JS user sees.

#[macro_use]
mod support;

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use socketio_axum::SocketIoRouterExt;
use socketio_core::{Args, SocketIo, SocketRef, Value};
use support::client::{parse_with_id, Conn, Transport};

/// A dynamic value a handler keeps for later.
#[derive(Clone)]
struct Stored(Value);

/// Serves a namespace `/` whose handlers relay values as dynamic data.
async fn start() -> (SocketAddr, SocketIo, tokio::task::JoinHandle<()>) {
    let io = SocketIo::builder()
        .ping_interval(Duration::from_millis(300))
        .ping_timeout(Duration::from_millis(200))
        .build();
    io.ns("/")
        // what `Conn::connect_ns` expects of a test server (tests/TEST_SERVER.md)
        .on_connect(
            |socket: SocketRef, auth: Option<serde_json::Value>| async move {
                socket.emit("auth", &auth).ok();
            },
        )
        // keeps any argument as a dynamic value, and later gives it back (event and ack)
        .on("store", |socket: SocketRef, value: Value| async move {
            socket.insert_extension(Stored(value));
        })
        .on("give-back", |socket: SocketRef| async move {
            let stored = socket
                .extension::<Stored>()
                .map(|s| s.0)
                .unwrap_or_default();
            socket.emit("stored", &stored).ok();
            stored
        })
        // echoes plain JSON through serde_json::Value
        .on(
            "echo-json",
            |_: SocketRef, value: serde_json::Value| async move { value },
        )
        // null as an event argument and as the ack
        .on("null-json", |socket: SocketRef| async move {
            socket.emit("null", &serde_json::Value::Null).ok();
            serde_json::Value::Null
        })
        .on("null-value", |socket: SocketRef| async move {
            socket.emit("null", &Value::Null).ok();
            Value::Null
        })
        .on("nothing", |_: SocketRef| async move {})
        // asks the client, and acks with every argument of its answer (as one array)
        .on("ask-all", |socket: SocketRef| async move {
            let answer: Args = socket
                .emit_with_ack("question", &())
                .timeout(Duration::from_secs(5))
                .await
                .expect("answer");
            all_values(&answer)
        })
        .on("ask-room-all", |socket: SocketRef| async move {
            // the room of its own id: a client of an earlier run may linger in shared rooms
            let answers = socket
                .namespace()
                .to(socket.id().to_string())
                .timeout(Duration::from_secs(5))
                .emit_with_ack::<Args, _>("question", &())
                .await
                .expect("emit");
            let (_, answer) = answers.into_iter().next().expect("one socket in the room");
            all_values(&answer.expect("answer"))
        })
        .on("typed", |_: SocketRef, n: u32| async move { n + 1 });
    let (addr, task) = support::server::serve_router(Router::new().socketio(&io)).await;
    (addr, io, task)
}

fn all_values(args: &Args) -> Vec<Value> {
    (0..args.len()).map(|i| args.get(i).unwrap()).collect()
}

on_both_transports!(
    null_is_sent_as_an_argument,
    object_key_order_survives_an_echo,
    binary_kept_as_a_dynamic_value_goes_back_as_binary,
    every_argument_of_an_ack_is_reachable,
    error_ack_names_argument_and_type,
);

/// `emit("null", &Value::Null)` → `2["null",null]`; a handler returning null acks `[null]`
/// (serde_json's and our dynamic `Value` alike); returning `()` acks with no argument.
async fn null_is_sent_as_an_argument(transport: Transport) {
    let (addr, _io, _task) = start().await;
    let (mut c, _) = Conn::open(addr, transport).await;
    c.connect_ns("/", None).await;
    for event in ["null-json", "null-value"] {
        c.send_sio(&format!(r#"21["{event}"]"#)).await;
        c.expect_sio_eq(r#"2["null",null]"#).await;
        c.expect_sio_eq("31[null]").await;
    }
    c.send_sio(r#"22["nothing"]"#).await;
    c.expect_sio_eq("32[]").await;
}

/// An object echoed through `serde_json::Value` or kept as a `Value` comes back with its keys
/// in the order they were sent.
async fn object_key_order_survives_an_echo(transport: Transport) {
    let (addr, _io, _task) = start().await;
    let (mut c, _) = Conn::open(addr, transport).await;
    c.connect_ns("/", None).await;
    let object = r#"{"id":42,"body":{"zeta":1,"alpha":[{"y":1,"b":2}]},"created":"now"}"#;
    c.send_sio(&format!(r#"21["echo-json",{object}]"#)).await;
    c.expect_sio_eq(&format!("31[{object}]")).await;
    c.send_sio(&format!(r#"2["store",{object}]"#)).await;
    c.send_sio(r#"22["give-back"]"#).await;
    c.expect_sio_eq(&format!(r#"2["stored",{object}]"#)).await;
    c.expect_sio_eq(&format!("32[{object}]")).await;
}

/// A client's binary argument kept as a dynamic value goes back as a binary attachment (event
/// and ack), not as an array of numbers; so does binary nested in an object.
async fn binary_kept_as_a_dynamic_value_goes_back_as_binary(transport: Transport) {
    let (addr, _io, _task) = start().await;
    let (mut c, _) = Conn::open(addr, transport).await;
    c.connect_ns("/", None).await;
    let data: &[u8] = &[1, 2, 255];
    c.send_sio_with_binary(r#"51-["store",{"_placeholder":true,"num":0}]"#, &[data])
        .await;
    c.send_sio(r#"21["give-back"]"#).await;
    c.expect_sio_eq(r#"51-["stored",{"_placeholder":true,"num":0}]"#)
        .await;
    assert_eq!(c.expect_binary().await, data);
    c.expect_sio_eq(r#"61-1[{"_placeholder":true,"num":0}]"#)
        .await;
    assert_eq!(c.expect_binary().await, data);

    let nested = r#"{"name":"a.bin","file":{"_placeholder":true,"num":0},"n":1}"#;
    c.send_sio_with_binary(&format!(r#"51-["store",{nested}]"#), &[data])
        .await;
    c.send_sio(r#"22["give-back"]"#).await;
    c.expect_sio_eq(&format!(r#"51-["stored",{nested}]"#)).await;
    assert_eq!(c.expect_binary().await, data);
    c.expect_sio_eq(&format!("61-2[{nested}]")).await;
    assert_eq!(c.expect_binary().await, data);
}

/// `emit_with_ack::<Args>` (socket and room broadcast) gives every argument of a
/// multi-argument answer (`cb("a", 1, buffer)`), binary included.
async fn every_argument_of_an_ack_is_reachable(transport: Transport) {
    let (addr, _io, _task) = start().await;
    let (mut c, _) = Conn::open(addr, transport).await;
    c.connect_ns("/", None).await;
    for (ask, id) in [("ask-all", 1), ("ask-room-all", 2)] {
        c.send_sio(&format!(r#"2{id}["{ask}"]"#)).await;
        let question = c.expect_sio().await;
        let (qid, args) = parse_with_id(&question, '2', "/");
        assert_eq!(args, serde_json::json!(["question"]));
        let qid = qid.expect("the question asks for an ack");
        c.send_sio_with_binary(
            &format!(r#"61-{qid}["a",1,{{"_placeholder":true,"num":0}}]"#),
            &[&[9, 8]],
        )
        .await;
        c.expect_sio_eq(&format!(
            r#"61-{id}[["a",1,{{"_placeholder":true,"num":0}}]]"#
        ))
        .await;
        assert_eq!(c.expect_binary().await, [9, 8]);
    }
}

/// An argument that does not fit the handler's type: the error ack names the argument's index
/// and the expected type, without serde_json's line/column.
async fn error_ack_names_argument_and_type(transport: Transport) {
    let (addr, _io, _task) = start().await;
    let (mut c, _) = Conn::open(addr, transport).await;
    c.connect_ns("/", None).await;
    c.send_sio(r#"21["typed", "seven"]"#).await;
    c.expect_sio_eq(
        r#"31[{"error":"argument 0 does not fit u32: invalid type: string \"seven\", expected u32"}]"#,
    )
    .await;
    c.send_sio(r#"22["typed",  41]"#).await;
    c.expect_sio_eq("32[42]").await;
}

/// The official JS client: a Buffer stored and given back is a Buffer, null arrives as null,
/// key order holds, and a multi-argument callback reaches the server whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_client_sees_values_as_sent() {
    let (addr, _io, _task) = start().await;
    let url = format!("http://{addr}");
    for transport in ["polling", "websocket"] {
        support::script::run_js("values.mjs", &[&url, transport]).await;
    }
}
