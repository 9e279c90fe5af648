//! `#[namespace]` types served over loopback and driven by a raw Socket.IO client: argument
//! extraction, acks from return values, errors, hooks, and how registration works.

mod support;

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use serde::{Deserialize, Serialize};
use socketio_axum::SocketIoRouterExt;
use socketio_core::{
    AckSender, Args, ConnectError, DisconnectReason, EventName, Namespace, SocketIo, SocketRef,
};
use socketio_macros::namespace;
use support::client::{Conn, Transport};

#[derive(Debug, Deserialize, Serialize)]
struct Msg {
    text: String,
    n: u32,
}

#[derive(Deserialize)]
struct Token {
    token: String,
}

/// Shared state of the namespace: counts disconnects.
#[derive(Default)]
struct Typed {
    gone: Arc<AtomicUsize>,
}

#[namespace("/typed")]
impl Typed {
    #[on_connect]
    async fn connect(&self, socket: SocketRef, auth: Option<Token>) -> Result<(), ConnectError> {
        match auth {
            Some(t) if t.token == "ok" => {
                socket.join("members");
                Ok(())
            }
            _ => Err(ConnectError::new("bad token")),
        }
    }

    #[on("message")]
    async fn message(&self, _socket: SocketRef, msg: Msg) -> Msg {
        Msg {
            text: msg.text.to_uppercase(),
            n: msg.n + 1,
        }
    }

    #[on("sum with spaces")]
    fn sum(&self, _socket: SocketRef, a: i64, b: Option<i64>) -> (&'static str, i64) {
        ("sum", a + b.unwrap_or(0))
    }

    #[on("checked")]
    fn checked(&self, _socket: SocketRef, n: i32) -> Result<i32, String> {
        if n >= 0 {
            Ok(n)
        } else {
            Err(format!("{n} is negative"))
        }
    }

    #[on("raw")]
    fn raw(
        &self,
        _socket: SocketRef,
        v: serde_json::Value,
        data: bytes::Bytes,
    ) -> (serde_json::Value, usize) {
        (v, data.len())
    }

    #[on("later")]
    async fn later(&self, _socket: SocketRef, ack: AckSender) {
        tokio::time::sleep(Duration::from_millis(20)).await;
        let _ = ack.send(&"later");
    }

    #[on("nothing")]
    fn nothing(&self, _socket: SocketRef) {}

    #[on("replaced")]
    fn replaced(&self, _socket: SocketRef) -> &'static str {
        "method"
    }

    #[on_disconnect]
    async fn gone(&self, _socket: SocketRef, _reason: DisconnectReason) {
        self.gone.fetch_add(1, Ordering::SeqCst);
    }

    /// Not a handler: stays an ordinary method.
    fn gone_count(&self) -> usize {
        self.gone.load(Ordering::SeqCst)
    }
}

/// A namespace without `Default`: auto_namespaces skips it, register() works.
struct Manual(&'static str);

#[namespace("/manual")]
impl Manual {
    #[on("who")]
    fn who(&self, _socket: SocketRef) -> &'static str {
        self.0
    }
}

/// Several events on one method, the event name, a catch-all, a `#[cfg]`'d-out method, and
/// every generated path going through a re-export (`crate = ..`). No `Default`, so
/// `auto_namespaces` skips it.
struct Routed(&'static str);

#[namespace("/routed", crate = "socketio_axum::socketio_core")]
impl Routed {
    #[on("join", "leave")]
    fn membership(&self, _socket: SocketRef, event: EventName, room: String) -> String {
        format!("{}:{event}:{room}", self.0)
    }

    #[fallback]
    async fn any(&self, _socket: SocketRef, event: EventName, all: Args) -> (String, usize) {
        (event.to_string(), all.len())
    }

    /// Per-socket state, mutated in place: each socket counts its own calls.
    #[on("count")]
    fn count(&self, socket: SocketRef) -> u32 {
        let calls = socket.extension_or_insert_with(|| AtomicU32::new(0));
        calls.fetch_add(1, Ordering::SeqCst) + 1
    }

    /// Compiled out: "hidden" reaches the catch-all.
    #[cfg(any())]
    #[on("hidden")]
    fn hidden(&self, _socket: SocketRef) -> &'static str {
        "hidden"
    }
}

async fn serve(io: &SocketIo) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().socketio(io);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

async fn connected(addr: std::net::SocketAddr, ns: &str, auth: &str) -> Conn {
    let (mut c, _) = Conn::open(addr, Transport::WebSocket).await;
    c.send_sio(&format!("0{ns},{auth}")).await;
    let answer = c.expect_sio().await;
    assert!(answer.starts_with(&format!("0{ns},{{\"sid\"")), "{answer}");
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn typed_arguments_and_acks() {
    let io = SocketIo::new();
    io.register(Typed::default());
    let addr = serve(&io).await;
    let mut c = connected(addr, "/typed", r#"{"token":"ok"}"#).await;
    let cases = [
        (
            r#"1["message",{"text":"hi","n":1}]"#,
            r#"1[{"text":"HI","n":2}]"#,
        ),
        (r#"2["sum with spaces",2,3]"#, r#"2["sum",5]"#),
        (r#"3["sum with spaces",2]"#, r#"3["sum",2]"#),
        (r#"4["checked",7]"#, "4[7]"),
        (r#"5["checked",-1]"#, r#"5[{"error":"-1 is negative"}]"#),
        (r#"6["later"]"#, r#"6["later"]"#),
        (r#"7["nothing"]"#, "7[]"),
    ];
    for (send, expect) in cases {
        c.send_sio(&format!("2/typed,{send}")).await;
        assert_eq!(c.expect_sio().await, format!("3/typed,{expect}"));
    }
    // Binary arguments and the raw Value escape hatch.
    c.send_sio_with_binary(
        r#"51-/typed,8["raw",{"a":1},{"_placeholder":true,"num":0}]"#,
        &[&[1, 2, 3]],
    )
    .await;
    assert_eq!(c.expect_sio().await, r#"3/typed,8[{"a":1},3]"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payload_that_does_not_deserialize_gets_an_error_ack() {
    let io = SocketIo::new();
    io.register(Typed::default());
    let addr = serve(&io).await;
    let mut c = connected(addr, "/typed", r#"{"token":"ok"}"#).await;
    c.send_sio(r#"2/typed,9["message",{"text":5}]"#).await;
    let ack = c.expect_sio().await;
    // the argument's index and the handler's type, without serde_json's line/column
    assert!(
        ack.starts_with(r#"3/typed,9[{"error":"argument 0 does not fit "#),
        "{ack}"
    );
    assert!(!ack.contains(" at line "), "{ack}");
    // The connection is fine afterwards.
    c.send_sio(r#"2/typed,10["sum with spaces",1,1]"#).await;
    assert_eq!(c.expect_sio().await, r#"3/typed,10["sum",2]"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_hook_refuses_and_disconnect_hook_runs() {
    let io = SocketIo::new();
    let typed = Typed::default();
    let gone = typed.gone.clone();
    io.register(typed);
    let addr = serve(&io).await;
    let (mut c, _) = Conn::open(addr, Transport::WebSocket).await;
    c.send_sio(r#"0/typed,{"token":"nope"}"#).await;
    assert_eq!(c.expect_sio().await, r#"4/typed,{"message":"bad token"}"#);
    let c = connected(addr, "/typed", r#"{"token":"ok"}"#).await;
    c.send_sio("1/typed,").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while gone.load(Ordering::SeqCst) == 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "disconnect hook never ran"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(Typed { gone }.gone_count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_registration_wins_between_closures_and_methods() {
    let io = SocketIo::new();
    io.register(Typed::default());
    io.ns("/typed")
        .on("replaced", |_s: SocketRef| async { "closure" });
    let addr = serve(&io).await;
    let mut c = connected(addr, "/typed", r#"{"token":"ok"}"#).await;
    c.send_sio(r#"2/typed,1["replaced"]"#).await;
    assert_eq!(c.expect_sio().await, r#"3/typed,1["closure"]"#);
    // Registering the type again puts the method back.
    io.register(Typed::default());
    c.send_sio(r#"2/typed,2["replaced"]"#).await;
    assert_eq!(c.expect_sio().await, r#"3/typed,2["method"]"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_namespaces_registers_default_types_and_register_the_rest() {
    let io = SocketIo::new();
    // Typed (Default) is registered; Manual (no Default) is skipped, and so is any `#[namespace]`
    // of the ui tests (not linked into this binary).
    assert_eq!(io.auto_namespaces(), 1);
    assert!(io.of("/typed").is_some());
    assert!(io.of("/manual").is_none());
    io.register(Manual("manual"));
    let addr = serve(&io).await;
    let mut c = connected(addr, "/manual", "").await;
    c.send_sio(r#"2/manual,1["who"]"#).await;
    assert_eq!(c.expect_sio().await, r#"3/manual,1["manual"]"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn several_events_one_method_the_event_name_and_a_catch_all() {
    let io = SocketIo::new();
    io.register(Routed("r"));
    io.ns("/routed").on(
        "closure",
        |_s: SocketRef, name: EventName, n: u32| async move { format!("{name}{n}") },
    );
    let addr = serve(&io).await;
    let mut c = connected(addr, "/routed", "").await;
    let cases = [
        (r#"1["join","lobby"]"#, r#"1["r:join:lobby"]"#),
        (r#"2["leave","lobby"]"#, r#"2["r:leave:lobby"]"#),
        (r#"3["anything else",1,{"a":2}]"#, r#"3["anything else",2]"#),
        (r#"4["hidden"]"#, r#"4["hidden",0]"#),
        (r#"5["closure",7]"#, r#"5["closure7"]"#),
    ];
    for (send, expect) in cases {
        c.send_sio(&format!("2/routed,{send}")).await;
        assert_eq!(c.expect_sio().await, format!("3/routed,{expect}"));
    }
}

/// The closure form of the catch-all: `ns.fallback` gets every event without a handler, with
/// its name, and acks like any handler; named handlers still win.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closure_catch_all_gets_unhandled_events_with_their_name() {
    let io = SocketIo::new();
    io.ns("/any")
        .on("named", |_s: SocketRef| async { "named" })
        .fallback(|_s: SocketRef, name: EventName, all: Args| async move {
            (format!("any:{name}"), all.len())
        });
    let addr = serve(&io).await;
    let mut c = connected(addr, "/any", "").await;
    c.send_sio(r#"2/any,1["named"]"#).await;
    assert_eq!(c.expect_sio().await, r#"3/any,1["named"]"#);
    c.send_sio(r#"2/any,2["other",1,2]"#).await;
    assert_eq!(c.expect_sio().await, r#"3/any,2["any:other",2]"#);
    // a numeric event name (socket.io-parser accepts it) reaches the catch-all as "7"
    c.send_sio(r#"2/any,3[7,"x"]"#).await;
    assert_eq!(c.expect_sio().await, r#"3/any,3["any:7",1]"#);
}

#[test]
fn reserved_event_names_cannot_be_registered() {
    let io = SocketIo::new();
    let ns = io.ns("/");
    for name in Namespace::RESERVED_EVENTS {
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ns.on(name, |_s: SocketRef| async {});
        }));
        let payload = result.expect_err(name);
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .unwrap_or_default();
        assert!(
            message.contains(&format!("\"{name}\" is a reserved event name")),
            "{message}"
        );
        assert!(ns.handler(name).is_none(), "{name} was registered");
    }
    // An ordinary name is fine.
    ns.on("connected", |_s: SocketRef| async {});
    assert!(ns.handler("connected").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_socket_state_is_mutated_in_place() {
    let io = SocketIo::new();
    io.register(Routed("r"));
    let addr = serve(&io).await;
    let mut socks = [
        connected(addr, "/routed", "").await,
        connected(addr, "/routed", "").await,
    ];
    for (which, id, expect) in [(0, 1, 1), (0, 2, 2), (1, 3, 1), (0, 4, 3)] {
        let c = &mut socks[which];
        c.send_sio(&format!(r#"2/routed,{id}["count"]"#)).await;
        assert_eq!(c.expect_sio().await, format!("3/routed,{id}[{expect}]"));
    }
}
