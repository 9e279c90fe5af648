//! A panic in user code never cuts a client off: every place that runs handler code (sync and
//! async `#[on]` methods, closures, the fallback, `FromEvent` extractors, the part of a handler
//! after its first `.await`, connect and disconnect handlers) is served over loopback to a raw
//! Socket.IO client, made to panic, and then checked: the client got the error ack it asked
//! for (or CONNECT_ERROR), the same socket answers its next event and is still listed in the
//! namespace, and the panic was logged at error level with namespace, event and socket id.

mod support;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use axum::Router;
use serde_json::Value;
use socketio_axum::SocketIoRouterExt;
use socketio_core::{
    AckSender, ArgError, BoxFuture, ConnectError, DisconnectReason, Event, EventHandler,
    EventParts, FromEvent, SocketIo, SocketRef,
};
use socketio_macros::namespace;
use support::client::{nsp_prefix, parse_connect_answer, Conn, Transport, WAIT};

const ERROR_ACK: &str = r#"[{"error":"internal server error"}]"#;

// ---------------------------------------------------------------------------------------------
// Log capture: every test of this binary logs into one buffer; each looks for its own line.
// ---------------------------------------------------------------------------------------------

fn log_buffer() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Arc::new(Mutex::new(Vec::new()));
        let sink = logs.clone();
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new("socketio_core=debug"))
            .with_ansi(false)
            .with_writer(move || LogWriter(sink.clone()))
            .init();
        logs
    })
}

struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Waits (up to [`WAIT`]) for an ERROR line about a panic holding every one of `parts`.
async fn expect_panic_logged(parts: &[&str]) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let logs = String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned();
        let found = logs.lines().any(|line| {
            line.contains("ERROR")
                && line.contains("panicked")
                && parts.iter().all(|p| line.contains(p))
        });
        if found {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no ERROR log line with {parts:?}; the logs:\n{logs}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Asserts no log line of `level` holds every one of `parts` (for things logged at debug).
fn assert_not_logged_at(level: &str, parts: &[&str]) {
    let logs = String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned();
    for line in logs.lines() {
        assert!(
            !(line.contains(level) && parts.iter().all(|p| line.contains(p))),
            "logged at {level}: {line}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Server and client helpers
// ---------------------------------------------------------------------------------------------

async fn serve(io: &SocketIo) -> SocketAddr {
    log_buffer();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().socketio(io);
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// Connects `c` to `ns` (auth JSON or "") and returns the socket id.
async fn join(c: &mut Conn, ns: &str, auth: &str) -> String {
    c.send_sio(&format!("0{}{auth}", nsp_prefix(ns))).await;
    parse_connect_answer(&c.expect_sio().await, ns)
}

/// A panic in user code: a `String` payload (`panic!` with arguments).
fn explode(what: &str) {
    if !what.is_empty() {
        panic!("{what} panicked");
    }
}

/// The socket is fine: its next event (`ok`, ack id `id`) is answered on the same connection,
/// and the namespace still lists it.
async fn assert_socket_alive(io: &SocketIo, c: &mut Conn, ns: &str, sid: &str, id: u32) {
    let p = nsp_prefix(ns);
    c.send_sio(&format!(r#"2{p}{id}["ok"]"#)).await;
    c.expect_sio_eq(&format!(r#"3{p}{id}["ok"]"#)).await;
    let listed: Vec<String> = io
        .of(ns)
        .unwrap()
        .sockets()
        .iter()
        .map(|s| s.id().to_string())
        .collect();
    assert!(listed.iter().any(|s| s == sid), "{sid} not in {listed:?}");
}

/// Waits until the namespace no longer lists `sid`.
async fn assert_socket_gone(io: &SocketIo, ns: &str, sid: &str) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while io
        .of(ns)
        .unwrap()
        .sockets()
        .iter()
        .any(|s| s.id().to_string() == sid)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{sid} still in {ns}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------------------------
// Panicking user code
// ---------------------------------------------------------------------------------------------

/// `#[namespace]` methods that panic.
#[derive(Default)]
struct Methods;

#[namespace("/methods")]
impl Methods {
    #[on_connect]
    fn connect(&self, _socket: SocketRef, auth: Option<Value>) -> Result<(), ConnectError> {
        if auth.is_some_and(|a| a["panic"] == true) {
            panic!("connect method panicked");
        }
        Ok(())
    }

    #[on("ok")]
    fn ok(&self, _socket: SocketRef) -> &'static str {
        "ok"
    }

    #[on("sync")]
    fn sync(&self, _socket: SocketRef, n: u32) -> u32 {
        if n > 0 {
            panic!("sync method panicked");
        }
        n
    }

    #[on("async first")]
    async fn async_first(&self, _socket: SocketRef, n: u32) -> u32 {
        explode("async method before its first await");
        tokio::time::sleep(Duration::from_millis(5)).await;
        n
    }

    #[on("async later")]
    async fn async_later(&self, _socket: SocketRef, n: u32) -> u32 {
        tokio::time::sleep(Duration::from_millis(5)).await;
        explode("async method after an await");
        n
    }

    #[on("ack later")]
    async fn ack_later(&self, _socket: SocketRef, ack: AckSender) {
        tokio::time::sleep(Duration::from_millis(5)).await;
        explode("async method holding its AckSender");
        let _ = ack.send(&"unreachable");
    }

    #[on_disconnect]
    async fn gone(&self, _socket: SocketRef, reason: DisconnectReason) {
        if reason == DisconnectReason::ClientNamespaceDisconnect {
            explode("disconnect method");
        }
    }
}

/// An extractor that panics.
struct Exploding;

impl FromEvent for Exploding {
    fn from_event(_parts: &mut EventParts<'_>) -> Result<Self, ArgError> {
        panic!("extractor panicked");
    }
}

/// A fallback that panics in `call` for `"fallback sync"`, in its future after an await
/// otherwise (holding the ack).
struct PanickingFallback;

impl EventHandler for PanickingFallback {
    fn call(self: Arc<Self>, _socket: SocketRef, event: Event) -> BoxFuture<()> {
        if event.name == "fallback sync" {
            explode("fallback call");
        }
        Box::pin(async move {
            let ack = event.ack;
            tokio::time::sleep(Duration::from_millis(5)).await;
            explode("fallback future");
            drop(ack);
        })
    }
}

/// A return value whose `Serialize` panics (user code run while the ack is encoded).
struct BadReturn;

impl serde::Serialize for BadReturn {
    fn serialize<S: serde::Serializer>(&self, _s: S) -> Result<S::Ok, S::Error> {
        panic!("Serialize panicked");
    }
}

fn server_with_closures() -> SocketIo {
    let io = SocketIo::new();
    io.register(Methods);
    io.ns("/closures")
        .on("ok", |_s: SocketRef| async { "ok" })
        .on("closure sync", |_s: SocketRef, n: u32| {
            explode("closure body");
            async move { n }
        })
        .on("closure async", |_s: SocketRef, n: u32| async move {
            explode("closure future");
            n
        })
        .on(
            "ask then panic",
            |s: SocketRef, ack: AckSender| async move {
                let answer: Result<String, _> = s.emit_with_ack("question", &()).await;
                explode(&format!("after the client's ack {}", answer.unwrap()));
                let _ = ack.send(&"unreachable");
            },
        )
        .on("extract", |_s: SocketRef, _e: Exploding| async {
            "unreachable"
        })
        .on("bad return", |_s: SocketRef| async { BadReturn })
        .on("bad ack data", |_s: SocketRef, ack: AckSender| async move {
            let _ = ack.send(&BadReturn);
        });
    io.ns("/fallback")
        .on("ok", |_s: SocketRef| async { "ok" })
        .on_fallback(Arc::new(PanickingFallback));
    io.ns("/connect")
        .on("ok", |_s: SocketRef| async { "ok" })
        .on_connect(|_s: SocketRef, auth: Option<Value>| async move {
            if auth.is_some_and(|a| a["panic"] == true) {
                explode("connect closure");
            }
        });
    io.ns("/disconnect")
        .on("ok", |_s: SocketRef| async { "ok" })
        .on_disconnect(|_s: SocketRef| {
            // Panics in the closure itself, before it returns its future.
            explode("disconnect closure");
            async {}
        });
    io.ns("/").on("ok", |_s: SocketRef| async { "ok" });
    io
}

/// Sends `event` (ack id `id`, then without an ack), expects the error ack for the first, and
/// checks the socket and the log.
async fn check_event_panic(
    io: &SocketIo,
    c: &mut Conn,
    ns: &str,
    sid: &str,
    event: &str,
    args: &str,
    message: &str,
) {
    c.send_sio(&format!(r#"2{ns},7["{event}"{args}]"#)).await;
    c.expect_sio_eq(&format!("3{ns},7{ERROR_ACK}")).await;
    expect_panic_logged(&[
        &format!("ns=\"{ns}\""),
        &format!("event=\"{event}\""),
        sid,
        message,
    ])
    .await;
    assert_socket_alive(io, c, ns, sid, 8).await;
    // Without an ack: nothing is sent, and the socket still carries on.
    c.send_sio(&format!(r#"2{ns},["{event}"{args}]"#)).await;
    assert_socket_alive(io, c, ns, sid, 9).await;
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_method_panic() {
    let io = server_with_closures();
    let addr = serve(&io).await;
    for transport in [Transport::WebSocket, Transport::Polling] {
        let (mut c, _) = Conn::open(addr, transport).await;
        let sid = join(&mut c, "/methods", "").await;
        check_event_panic(
            &io,
            &mut c,
            "/methods",
            &sid,
            "sync",
            ",1",
            "sync method panicked",
        )
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_method_panic_before_its_first_await() {
    let io = server_with_closures();
    let addr = serve(&io).await;
    let (mut c, _) = Conn::open(addr, Transport::WebSocket).await;
    let sid = join(&mut c, "/methods", "").await;
    let message = "async method before its first await panicked";
    check_event_panic(&io, &mut c, "/methods", &sid, "async first", ",1", message).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_method_panic_after_an_await() {
    let io = server_with_closures();
    let addr = serve(&io).await;
    let (mut c, _) = Conn::open(addr, Transport::WebSocket).await;
    let sid = join(&mut c, "/methods", "").await;
    let message = "async method after an await panicked";
    check_event_panic(&io, &mut c, "/methods", &sid, "async later", ",1", message).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_method_panic_while_holding_its_ack_sender() {
    let io = server_with_closures();
    let addr = serve(&io).await;
    let (mut c, _) = Conn::open(addr, Transport::WebSocket).await;
    let sid = join(&mut c, "/methods", "").await;
    let message = "async method holding its AckSender panicked";
    check_event_panic(&io, &mut c, "/methods", &sid, "ack later", "", message).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closure_panic_in_its_body_and_in_its_future() {
    let io = server_with_closures();
    let addr = serve(&io).await;
    let (mut c, _) = Conn::open(addr, Transport::WebSocket).await;
    let sid = join(&mut c, "/closures", "").await;
    let ns = "/closures";
    check_event_panic(
        &io,
        &mut c,
        ns,
        &sid,
        "closure sync",
        ",1",
        "closure body panicked",
    )
    .await;
    let message = "closure future panicked";
    check_event_panic(&io, &mut c, ns, &sid, "closure async", ",1", message).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_after_awaiting_an_ack_from_the_client() {
    let io = server_with_closures();
    let addr = serve(&io).await;
    let (mut c, _) = Conn::open(addr, Transport::WebSocket).await;
    let sid = join(&mut c, "/closures", "").await;
    c.send_sio(r#"2/closures,7["ask then panic"]"#).await;
    c.expect_sio_eq(r#"2/closures,0["question"]"#).await;
    c.send_sio(r#"3/closures,0["yes"]"#).await;
    c.expect_sio_eq(&format!("3/closures,7{ERROR_ACK}")).await;
    let message = "after the client's ack yes panicked";
    expect_panic_logged(&["event=\"ask then panic\"", &sid, message]).await;
    assert_socket_alive(&io, &mut c, "/closures", &sid, 8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn extractor_panic() {
    let io = server_with_closures();
    let addr = serve(&io).await;
    let (mut c, _) = Conn::open(addr, Transport::WebSocket).await;
    let sid = join(&mut c, "/closures", "").await;
    let ns = "/closures";
    check_event_panic(&io, &mut c, ns, &sid, "extract", "", "extractor panicked").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serialize_panic_while_sending_the_ack() {
    let io = server_with_closures();
    let addr = serve(&io).await;
    let (mut c, _) = Conn::open(addr, Transport::WebSocket).await;
    let sid = join(&mut c, "/closures", "").await;
    let ns = "/closures";
    check_event_panic(
        &io,
        &mut c,
        ns,
        &sid,
        "bad return",
        "",
        "Serialize panicked",
    )
    .await;
    check_event_panic(
        &io,
        &mut c,
        ns,
        &sid,
        "bad ack data",
        "",
        "Serialize panicked",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fallback_panic_in_call_and_in_its_future() {
    let io = server_with_closures();
    let addr = serve(&io).await;
    let (mut c, _) = Conn::open(addr, Transport::WebSocket).await;
    let sid = join(&mut c, "/fallback", "").await;
    let ns = "/fallback";
    let message = "fallback call panicked";
    check_event_panic(&io, &mut c, ns, &sid, "fallback sync", "", message).await;
    let message = "fallback future panicked";
    check_event_panic(&io, &mut c, ns, &sid, "anything else", ",1", message).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_handler_panic_refuses_that_connection_only() {
    let io = server_with_closures();
    let addr = serve(&io).await;
    for (ns, message) in [
        ("/connect", "connect closure panicked"),
        ("/methods", "connect method panicked"),
    ] {
        let (mut c, _) = Conn::open(addr, Transport::WebSocket).await;
        c.send_sio(&format!(r#"0{ns},{{"panic":true}}"#)).await;
        c.expect_sio_eq(&format!(r#"4{ns},{{"message":"internal server error"}}"#))
            .await;
        expect_panic_logged(&[&format!("ns=\"{ns}\""), "event=\"connect\"", message]).await;
        assert!(io.of(ns).unwrap().sockets().is_empty());
        // The Engine.IO session is still usable: for another namespace, and for this one.
        let root = join(&mut c, "/", "").await;
        assert_socket_alive(&io, &mut c, "/", &root, 1).await;
        if ns == "/connect" {
            let sid = join(&mut c, ns, "{}").await;
            assert_socket_alive(&io, &mut c, ns, &sid, 2).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_handler_panic_still_removes_the_socket() {
    let io = server_with_closures();
    let addr = serve(&io).await;
    for ns in ["/disconnect", "/methods"] {
        let (mut c, _) = Conn::open(addr, Transport::WebSocket).await;
        let root = join(&mut c, "/", "").await;
        let sid = join(&mut c, ns, "").await;
        io.of(ns)
            .unwrap()
            .socket(sid.parse().unwrap())
            .unwrap()
            .join("room");
        c.send_sio(&format!("1{ns},")).await;
        expect_panic_logged(&[&format!("ns=\"{ns}\""), "event=\"disconnect\"", &sid]).await;
        assert_socket_gone(&io, ns, &sid).await;
        assert!(io.of(ns).unwrap().rooms().is_empty());
        // The connection and its other namespace carry on.
        assert_socket_alive(&io, &mut c, "/", &root, 1).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rejected_arguments_are_logged_at_debug_not_warn() {
    let io = server_with_closures();
    let addr = serve(&io).await;
    let (mut c, _) = Conn::open(addr, Transport::WebSocket).await;
    let sid = join(&mut c, "/methods", "").await;
    c.send_sio(r#"2/methods,1["sync","not a number"]"#).await;
    let ack = c.expect_sio().await;
    assert!(ack.starts_with(r#"3/methods,1[{"error":"#), "{ack}");
    assert_socket_alive(&io, &mut c, "/methods", &sid, 2).await;
    let logs = String::from_utf8_lossy(&log_buffer().lock().unwrap()).into_owned();
    assert!(
        logs.lines().any(|l| l.contains("DEBUG")
            && l.contains("event arguments rejected")
            && l.contains(&sid)),
        "{logs}"
    );
    assert_not_logged_at("WARN", &["event arguments rejected", &sid]);
}

/// The real socket.io-client (npm, installed by scripts/setup-interop.sh): error acks for
/// panicking handlers (sync method, async method after an await), the socket carries on without
/// a disconnect, and a panicking connect handler of another namespace of the same connection is
/// reported as `connect_error` with "internal server error".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_client_sees_error_acks_and_stays_connected() {
    const SCRIPT: &str = r#"
const { io } = require("socket.io-client");
const url = process.argv[1];
const fail = (m) => { console.error(m); process.exit(1); };
setTimeout(() => fail("timeout"), 10000);
const s = io(url + "/methods", { transports: ["websocket"] });
s.on("connect_error", (e) => fail("connect_error: " + e.message));
s.on("disconnect", (r) => fail("disconnected: " + r));
s.once("connect", async () => {
  const id = s.id;
  for (const [event, arg] of [["sync", 1], ["async later", 1], ["ack later", undefined]]) {
    const args = arg === undefined ? [event] : [event, arg];
    const answer = await s.timeout(5000).emitWithAck(...args);
    if (JSON.stringify(answer) !== '{"error":"internal server error"}') {
      fail(event + ": " + JSON.stringify(answer));
    }
  }
  if ((await s.timeout(5000).emitWithAck("ok")) !== "ok" || s.id !== id) fail("not the same socket");
  const other = io(url + "/connect", { auth: { panic: true } });
  other.on("connect", () => fail("connected despite the panic"));
  other.on("connect_error", async (e) => {
    if (e.message !== "internal server error") fail("connect_error: " + e.message);
    if ((await s.timeout(5000).emitWithAck("ok")) !== "ok") fail("no answer after connect_error");
    console.log("passed");
    process.exit(0);
  });
});
"#;
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/js");
    assert!(
        dir.join("node_modules/socket.io-client").exists(),
        "socket.io-client is missing: run scripts/setup-interop.sh first"
    );
    let io = server_with_closures();
    let addr = serve(&io).await;
    let output = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::process::Command::new("node")
            .arg("-e")
            .arg(SCRIPT)
            .arg(format!("http://{addr}"))
            .current_dir(&dir)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .expect("the client script did not finish in 30 s")
    .expect("cannot run node");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stdout.contains("passed"),
        "socket.io-client script failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
}

/// The bare Engine.IO server's message callback: a panic is logged and the session carries on
/// (the next message is echoed on the same WebSocket).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_io_callback_panic_keeps_the_session() {
    use socketio_core::EngineMessage;
    use support::client::{Event, Ws};
    log_buffer();
    let eio = SocketIo::builder().build_engine_io(|socket, message| {
        if matches!(&message, EngineMessage::Text(t) if t == "boom") {
            explode("engine.io callback");
        }
        let _ = socket.send(message);
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route_service(eio.path(), eio.service());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let (mut ws, _open) = Ws::open(addr, true).await;
    ws.send_text("4boom").await;
    expect_panic_logged(&["engine.io message callback", "engine.io callback panicked"]).await;
    ws.send_text("4hello").await;
    loop {
        match ws.recv(WAIT).await {
            Some(Event::Text(t)) if t == "4hello" => break,
            Some(Event::Text(t)) if t == "2" || t == "6" => continue,
            other => panic!("expected the echo of 4hello, got {other:?}"),
        }
    }
}
