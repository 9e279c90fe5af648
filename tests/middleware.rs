//! Namespace middlewares, shared state, packet middlewares, any-event listeners (incoming and
//! outgoing), dynamic namespaces and volatile emits: with closures and with `#[namespace]`,
//! driven by the real `socket.io-client` (tests/interop/js/middleware.mjs), the real
//! python-socketio client (tests/interop/python/middleware.py) and the raw test client where
//! the wire matters.

mod support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use socketio_core::{
    Args, ConnectError, DisconnectReason, EventName, PacketRejection, Socket, SocketIo,
    SocketIoBuilder, SocketRef, State,
};
use socketio_macros::namespace;
use support::client::{Conn, EioPacket, Polling, Transport};

/// The server's shared state.
struct Config {
    token: String,
    /// Hits per namespace.
    hits: Mutex<HashMap<String, u32>>,
    /// Middleware calls, all namespaces together.
    middleware_calls: AtomicUsize,
}

#[derive(Deserialize)]
struct Auth {
    token: String,
}

/// Per-socket records, kept as socket extensions.
#[derive(Default)]
struct Order(Mutex<Vec<&'static str>>);
#[derive(Default)]
struct Seen(Mutex<Vec<String>>);
#[derive(Default)]
struct Sent(Mutex<Vec<String>>);
#[derive(Clone)]
struct Role(&'static str);

fn check_token(socket: &SocketRef, config: &Config, auth: &Auth) -> Result<(), ConnectError> {
    config.middleware_calls.fetch_add(1, Ordering::SeqCst);
    if auth.token != config.token {
        return Err(
            ConnectError::new("unauthorized").with_data(&json!({ "code": 401, "ns": socket.ns() }))
        );
    }
    socket
        .extension_or_insert_with(Order::default)
        .0
        .lock()
        .unwrap()
        .push("first");
    Ok(())
}

fn second(socket: &SocketRef) {
    socket
        .extension_or_insert_with(Order::default)
        .0
        .lock()
        .unwrap()
        .push("second");
    socket.insert_extension(Role("member"));
}

fn welcome(socket: &SocketRef) {
    let order = socket
        .extension_or_insert_with(Order::default)
        .0
        .lock()
        .unwrap()
        .clone();
    let role = socket.extension::<Role>().map(|r| r.0);
    socket.emit("welcome", &(order, role)).unwrap();
}

fn hit(socket: &SocketRef, config: &Config) -> u32 {
    let mut hits = config.hits.lock().unwrap();
    let n = hits.entry(socket.ns().to_owned()).or_default();
    *n += 1;
    *n
}

fn filter(_socket: &SocketRef, event: &str, args: &mut Args) -> Result<(), PacketRejection> {
    match event {
        "blocked" => Err(PacketRejection::Error("blocked by middleware".into())),
        "dropped" => Err(PacketRejection::Drop),
        "rewrite" => {
            let text: String = args.get(0).unwrap_or_default();
            *args = Args::from_serialize(&text.to_uppercase()).unwrap();
            Ok(())
        }
        _ => Ok(()),
    }
}

fn record_seen(socket: &SocketRef, event: &str) {
    socket
        .extension_or_insert_with(Seen::default)
        .0
        .lock()
        .unwrap()
        .push(event.to_owned());
}

fn record_sent(socket: &Socket, event: &str) {
    socket
        .extension_or_insert_with(Sent::default)
        .0
        .lock()
        .unwrap()
        .push(event.to_owned());
}

fn seen(socket: &SocketRef) -> Vec<String> {
    socket
        .extension_or_insert_with(Seen::default)
        .0
        .lock()
        .unwrap()
        .clone()
}

fn sent(socket: &SocketRef) -> Vec<String> {
    socket
        .extension_or_insert_with(Sent::default)
        .0
        .lock()
        .unwrap()
        .clone()
}

/// The closure form, on `/guarded`.
fn install_closures(io: &SocketIo) {
    io.ns("/guarded")
        .use_middleware(
            |socket: SocketRef, config: State<Config>, auth: Auth| async move {
                check_token(&socket, &config, &auth)
            },
        )
        .use_middleware(|socket: SocketRef| async move { second(&socket) })
        .on_connect(|socket: SocketRef| async move { welcome(&socket) })
        .use_packet_middleware(filter)
        .on_any(|socket: SocketRef, name: EventName| async move { record_seen(&socket, &name) })
        .on_any_outgoing(|socket: &Socket, event: &str, _args: &Args| record_sent(socket, event))
        .on(
            "hits",
            |socket: SocketRef, config: State<Config>| async move { hit(&socket, &config) },
        )
        .on("rewrite", |_s: SocketRef, text: String| async move {
            vec![text]
        })
        .on("blocked", |_s: SocketRef| async { "not blocked" })
        .on("dropped", |_s: SocketRef| async { "not dropped" })
        .on("seen", |socket: SocketRef| async move { seen(&socket) })
        .on("sent", |socket: SocketRef| async move { sent(&socket) })
        .on("shout", |socket: SocketRef, text: String| async move {
            socket.emit("shout", &text).unwrap();
        });
}

/// The same with `#[namespace]`, on `/guarded-macro`.
#[derive(Default)]
struct Guarded;

#[namespace("/guarded-macro")]
impl Guarded {
    #[middleware]
    fn check(
        &self,
        socket: SocketRef,
        config: State<Config>,
        auth: Auth,
    ) -> Result<(), ConnectError> {
        check_token(&socket, &config, &auth)
    }

    #[middleware]
    async fn second(&self, socket: SocketRef) {
        second(&socket)
    }

    #[on_connect]
    fn connect(&self, socket: SocketRef) {
        welcome(&socket)
    }

    #[packet_middleware]
    fn filter(
        &self,
        socket: &SocketRef,
        event: &str,
        args: &mut Args,
    ) -> Result<(), PacketRejection> {
        filter(socket, event, args)
    }

    #[on_any]
    fn any(&self, socket: SocketRef, name: EventName) {
        record_seen(&socket, &name)
    }

    #[on_any_outgoing]
    fn sent_to(&self, socket: &Socket, event: &str, _args: &Args) {
        record_sent(socket, event)
    }

    #[on("hits")]
    fn hits(&self, socket: SocketRef, config: State<Config>) -> u32 {
        hit(&socket, &config)
    }

    #[on("rewrite")]
    fn rewrite(&self, _socket: SocketRef, text: String) -> Vec<String> {
        vec![text]
    }

    #[on("blocked", "dropped")]
    fn not_reached(&self, _socket: SocketRef) -> &'static str {
        "not stopped"
    }

    #[on("seen")]
    fn seen(&self, socket: SocketRef) -> Vec<String> {
        seen(&socket)
    }

    #[on("sent")]
    fn sent(&self, socket: SocketRef) -> Vec<String> {
        sent(&socket)
    }

    #[on("shout")]
    fn shout(&self, socket: SocketRef, text: String) {
        socket.emit("shout", &text).unwrap();
    }
}

/// Rooms by number: a dynamic namespace declared with the macro.
#[derive(Default)]
struct Rooms;

#[namespace(dynamic = r"^/room-\d+$")]
impl Rooms {
    #[middleware]
    fn check(
        &self,
        socket: SocketRef,
        config: State<Config>,
        auth: Auth,
    ) -> Result<(), ConnectError> {
        check_token(&socket, &config, &auth)
    }

    #[on("where")]
    fn where_(&self, socket: SocketRef) -> String {
        socket.ns().to_owned()
    }

    #[on("broadcast")]
    fn broadcast(&self, socket: SocketRef, text: String) -> bool {
        socket
            .namespace()
            .emit("news", &(text, socket.ns()))
            .is_ok()
    }
}

fn builder() -> SocketIoBuilder {
    SocketIo::builder().state(Config {
        token: "s3cret".into(),
        hits: Mutex::default(),
        middleware_calls: AtomicUsize::new(0),
    })
}

async fn serve(io: &SocketIo) -> std::net::SocketAddr {
    support::server::serve(io).await
}

/// Everything installed, children of `/room-N` cleaned up when empty.
async fn start() -> (SocketIo, std::net::SocketAddr) {
    let io = builder().cleanup_empty_child_namespaces(true).build();
    install_closures(&io);
    io.register(Guarded);
    io.register(Rooms);
    let addr = serve(&io).await;
    (io, addr)
}

fn interop_dir() -> PathBuf {
    support::script::root().join("tests/interop")
}

/// Waits until no child of the dynamic namespace is left (the clients' disconnects are handled
/// asynchronously).
async fn children_gone(io: &SocketIo, paths: &[&str]) {
    for _ in 0..100 {
        if paths.iter().all(|p| io.of(p).is_none()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let left: Vec<_> = paths.iter().filter(|p| io.of(p).is_some()).collect();
    panic!("children still there: {left:?}");
}

/// The official JS client, both transports: closures and `#[namespace]` behave the same, and
/// children made by its connections are removed once it leaves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_client_through_middlewares_listeners_and_dynamic_namespaces() {
    for transport in ["polling", "websocket"] {
        let (io, addr) = start().await;
        let url = format!("http://{addr}");
        let args = [url.as_str(), transport, "/guarded", "/guarded-macro"];
        support::script::run_js("middleware.mjs", &args).await;
        // wrong token and accepted in each namespace (without auth the payload does not
        // decode: the middleware is not called), room-1, room-2, room-3
        assert_eq!(
            io.state::<Config>()
                .unwrap()
                .middleware_calls
                .load(Ordering::SeqCst),
            7
        );
        children_gone(&io, &["/room-1", "/room-2", "/room-3"]).await;
    }
}

/// The official python-socketio client (asyncio): a middleware's refusal with data, a packet
/// middleware's error ack, shared state and a dynamic namespace.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_client_through_middlewares_and_dynamic_namespaces() {
    let python = interop_dir().join("python/.venv/bin/python");
    assert!(
        python.exists(),
        "python-socketio is not installed: run scripts/setup-interop.sh first"
    );
    let (io, addr) = start().await;
    let dir = interop_dir().join("python");
    let url = format!("http://{addr}");
    support::script::run(&python, &["middleware.py", &url], &dir).await;
    children_gone(&io, &["/room-7"]).await;
}

async fn connected(addr: std::net::SocketAddr, ns: &str, auth: &str) -> Conn {
    let (mut c, _) = Conn::open(addr, Transport::WebSocket).await;
    let prefix = if ns == "/" {
        String::new()
    } else {
        format!("{ns},")
    };
    c.send_sio(&format!("0{prefix}{auth}")).await;
    let answer = c.expect_sio().await;
    assert!(
        answer.starts_with(&format!("0{prefix}{{\"sid\"")),
        "{answer}"
    );
    c
}

/// On the wire: CONNECT_ERROR `{"message","data"}` from the first refusing middleware; the
/// later middlewares and the connect handler do not run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusing_middleware_stops_the_chain() {
    let io = builder().build();
    let later = Arc::new(AtomicUsize::new(0));
    let (l1, l2) = (later.clone(), later.clone());
    io.ns("/")
        .use_middleware(|_s: SocketRef, auth: Option<Auth>| async move {
            match auth {
                Some(a) if a.token == "ok" => Ok(()),
                _ => Err(ConnectError::new("nope").with_data(&json!([1, "two"]))),
            }
        })
        .use_middleware(move |_s: SocketRef| {
            let l1 = l1.clone();
            async move {
                l1.fetch_add(1, Ordering::SeqCst);
            }
        })
        .on_connect(move |_s: SocketRef| {
            let l2 = l2.clone();
            async move {
                l2.fetch_add(1, Ordering::SeqCst);
            }
        });
    let addr = serve(&io).await;
    let (mut c, _) = Conn::open(addr, Transport::WebSocket).await;
    c.send_sio(r#"0{"token":"bad"}"#).await;
    c.expect_sio_eq(r#"4{"message":"nope","data":[1,"two"]}"#)
        .await;
    assert_eq!(later.load(Ordering::SeqCst), 0);
    c.send_sio(r#"0{"token":"ok"}"#).await;
    assert!(c.expect_sio().await.starts_with(r#"0{"sid""#));
    assert_eq!(later.load(Ordering::SeqCst), 2);
}

/// A panicking middleware or packet middleware, and `State` of a type the server was not
/// given, are contained: CONNECT_ERROR or error ack "internal server error".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panics_in_middlewares_and_missing_state_are_contained() {
    struct Missing;
    let io = builder().build();
    io.ns("/mw").use_middleware(|_s: SocketRef| async move {
        if true {
            panic!("middleware bug");
        }
    });
    io.ns("/")
        .use_packet_middleware(|_s: &SocketRef, event: &str, _a: &mut Args| {
            if event == "boom" {
                panic!("packet middleware bug");
            }
            Ok(())
        })
        .on("boom", |_s: SocketRef| async { "unreached" })
        .on("missing", |_s: SocketRef, _m: State<Missing>| async {
            "unreached"
        })
        .on("fine", |_s: SocketRef| async { "fine" });
    let addr = serve(&io).await;
    let (mut c, _) = Conn::open(addr, Transport::WebSocket).await;
    c.send_sio("0/mw,").await;
    c.expect_sio_eq(r#"4/mw,{"message":"internal server error"}"#)
        .await;
    c.send_sio("0").await;
    assert!(c.expect_sio().await.starts_with(r#"0{"sid""#));
    c.send_sio(r#"21["boom"]"#).await;
    c.expect_sio_eq(r#"31[{"error":"internal server error"}]"#)
        .await;
    c.send_sio(r#"22["missing"]"#).await;
    c.expect_sio_eq(r#"32[{"error":"internal server error"}]"#)
        .await;
    c.send_sio(r#"23["fine"]"#).await;
    c.expect_sio_eq(r#"33["fine"]"#).await;
}

/// Listeners run in order (`prepend_any` first), see events without a handler too, and do not
/// answer acks; the fallback still does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_listeners_run_in_order_before_the_handler() {
    let io = SocketIo::new();
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let (a, b, h) = (log.clone(), log.clone(), log.clone());
    io.ns("/")
        .on_any(move |_s: SocketRef, name: EventName| {
            let a = a.clone();
            async move { a.lock().unwrap().push(format!("any:{name}")) }
        })
        .prepend_any(move |_s: SocketRef, name: EventName| {
            let b = b.clone();
            async move { b.lock().unwrap().push(format!("first:{name}")) }
        })
        .on("known", move |_s: SocketRef| {
            let h = h.clone();
            async move {
                h.lock().unwrap().push("handler".into());
                "handled"
            }
        })
        .fallback(|_s: SocketRef, name: EventName| async move { format!("fallback:{name}") });
    let addr = serve(&io).await;
    let mut c = connected(addr, "/", "").await;
    c.send_sio(r#"21["known"]"#).await;
    c.expect_sio_eq(r#"31["handled"]"#).await;
    c.send_sio(r#"22["unknown"]"#).await;
    c.expect_sio_eq(r#"32["fallback:unknown"]"#).await;
    assert_eq!(
        *log.lock().unwrap(),
        [
            "first:known",
            "any:known",
            "handler",
            "first:unknown",
            "any:unknown"
        ]
    );
}

/// Outgoing listeners see direct emits, broadcasts and emits with an ack, not acks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outgoing_listeners_see_emits_and_broadcasts() {
    let io = SocketIo::new();
    let log = Arc::new(Mutex::new(Vec::<String>::new()));
    let l = log.clone();
    io.ns("/")
        .on_any_outgoing(move |_s: &Socket, event: &str, args: &Args| {
            l.lock().unwrap().push(format!("{event}/{}", args.len()));
        })
        .on("go", |socket: SocketRef| async move {
            socket.emit("direct", &(1, 2)).unwrap();
            socket.namespace().emit("everyone", &"x").unwrap();
            drop(socket.emit_with_ack::<Args, _>("question", &()));
            "acked"
        });
    let addr = serve(&io).await;
    let mut c = connected(addr, "/", "").await;
    c.send_sio(r#"21["go"]"#).await;
    c.expect_sio_eq(r#"2["direct",1,2]"#).await;
    c.expect_sio_eq(r#"2["everyone","x"]"#).await;
    assert!(c.expect_sio().await.starts_with(r#"20["question"]"#));
    c.expect_sio_eq(r#"31["acked"]"#).await;
    assert_eq!(
        *log.lock().unwrap(),
        ["direct/2", "everyone/1", "question/0"]
    );
}

/// A volatile emit is dropped while a polling client has no GET waiting, and sent once one
/// waits; a plain emit meanwhile is queued. The same for a volatile broadcast.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volatile_emits_are_dropped_when_the_transport_is_not_writable() {
    let io = SocketIo::new();
    let addr = serve(&io).await;
    let polling = Arc::new(Polling::open(addr).await);
    polling.send_text("40").await;
    let answer = polling.poll().await;
    assert!(
        matches!(&answer[..], [EioPacket::Text(t)] if t.starts_with(r#"40{"sid""#)),
        "{answer:?}"
    );
    let socket = io.of("/").unwrap().sockets().pop().expect("connected");
    // no GET waiting: dropped
    assert!(!socket.volatile().emit("tick", &1).unwrap());
    io.of("/")
        .unwrap()
        .to(socket.id().as_str())
        .volatile()
        .emit("tick", &2)
        .unwrap();
    socket.emit("plain", &3).unwrap();
    // queued frames: dropped even though a GET will come
    assert!(!socket.volatile().emit("tick", &4).unwrap());
    let got = polling.poll().await;
    assert_eq!(got, [EioPacket::text(r#"42["plain",3]"#)]);
    // a GET waiting: the volatile emit goes out with it
    let waiting = tokio::spawn({
        let polling = polling.clone();
        async move { polling.poll().await }
    });
    let mut sent = false;
    for _ in 0..200 {
        if socket.volatile().emit("tick", &5).unwrap() {
            sent = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(sent, "the volatile emit was never sent while a GET waited");
    assert_eq!(waiting.await.unwrap(), [EioPacket::text(r#"42["tick",5]"#)]);
}

/// Without `cleanup_empty_child_namespaces` children stay; with it, a child goes with its last
/// socket, and a refused connection leaves no child behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_children_stay_unless_cleanup_is_on() {
    for cleanup in [false, true] {
        let io = builder().cleanup_empty_child_namespaces(cleanup).build();
        let parent = io.dynamic_ns_with(|path| path.starts_with("/t/"));
        parent
            .use_middleware(|_s: SocketRef, auth: Option<Auth>| async move {
                match auth {
                    Some(_) => Ok(()),
                    None => Err(ConnectError::new("auth required")),
                }
            })
            .on("where", |socket: SocketRef| async move {
                socket.ns().to_owned()
            });
        let addr = serve(&io).await;
        let mut c = connected(addr, "/t/a", r#"{"token":""}"#).await;
        c.send_sio(r#"2/t/a,1["where"]"#).await;
        c.expect_sio_eq(r#"3/t/a,1["/t/a"]"#).await;
        assert_eq!(parent.children().len(), 1);
        assert!(io.of("/t/a").unwrap().parent().is_some());
        c.send_sio("0/t/b,").await;
        c.expect_sio_eq(r#"4/t/b,{"message":"auth required"}"#)
            .await;
        c.send_sio("1/t/a,").await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        if cleanup {
            children_gone(&io, &["/t/a", "/t/b"]).await;
            assert!(parent.children().is_empty());
        } else {
            assert!(io.of("/t/a").is_some() && io.of("/t/b").is_some());
            assert_eq!(parent.children().len(), 2);
        }
        // a new connection makes the child again, with the same handlers
        let mut c = connected(addr, "/t/a", r#"{"token":""}"#).await;
        c.send_sio(r#"2/t/a,2["where"]"#).await;
        c.expect_sio_eq(r#"3/t/a,2["/t/a"]"#).await;
    }
}

/// A namespace of its own wins over a dynamic one; dynamic namespaces are tried in order; an
/// invalid pattern is an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_namespaces_win_and_dynamic_ones_go_in_order() {
    let io = SocketIo::new();
    assert!(io.dynamic_ns("(unclosed").is_err());
    io.ns("/x-1").on("who", |_s: SocketRef| async { "static" });
    io.dynamic_ns(r"^/x-\d$")
        .unwrap()
        .on("who", |_s: SocketRef| async { "first" });
    io.dynamic_ns(r"^/x-")
        .unwrap()
        .on("who", |_s: SocketRef| async { "second" });
    let addr = serve(&io).await;
    for (path, who) in [("/x-1", "static"), ("/x-2", "first"), ("/x-22", "second")] {
        let mut c = connected(addr, path, "").await;
        c.send_sio(&format!(r#"2{path},1["who"]"#)).await;
        c.expect_sio_eq(&format!(r#"3{path},1["{who}"]"#)).await;
    }
}

/// What one socket's own hooks saw, in order (a socket extension).
#[derive(Default)]
struct OwnLog(Mutex<Vec<String>>);

fn own_log(socket: &Socket, entry: String) {
    socket
        .extension_or_insert_with(OwnLog::default)
        .0
        .lock()
        .unwrap()
        .push(entry);
}

/// The id of the socket's outgoing listener, for `off`.
#[derive(Clone)]
struct OwnOutgoing(socketio_core::ListenerId);

/// `/own`: namespace-wide hooks, and in the connect handler the socket's own (socket.io's
/// `socket.onAny`, `prependAny`, `onAnyOutgoing`, `socket.use`); `sockets` keeps a weak
/// handle on each socket, to see it dropped after it leaves.
fn install_own_hooks(io: &SocketIo, sockets: Arc<Mutex<Vec<std::sync::Weak<Socket>>>>) {
    io.ns("/own")
        .on_any(|s: SocketRef, ev: EventName| async move { own_log(&s, format!("ns-any:{ev}")) })
        .use_packet_middleware(|s: &SocketRef, ev: &str, _args: &mut Args| {
            own_log(s, format!("ns-mw:{ev}"));
            Ok(())
        })
        .on_any_outgoing(|s: &Socket, ev: &str, _args: &Args| own_log(s, format!("ns-out:{ev}")))
        .on_connect(move |socket: SocketRef| {
            let sockets = sockets.clone();
            async move {
                sockets.lock().unwrap().push(Arc::downgrade(&socket));
                socket.on_any(|s: SocketRef, ev: EventName| async move {
                    own_log(&s, format!("own-any:{ev}"))
                });
                socket.prepend_any(|s: SocketRef, ev: EventName| async move {
                    own_log(&s, format!("own-first:{ev}"))
                });
                let out = socket.on_any_outgoing(|s: &Socket, ev: &str, _args: &Args| {
                    own_log(s, format!("own-out:{ev}"))
                });
                socket.insert_extension(OwnOutgoing(out));
                // Holds its own socket: the socket must still go when it leaves.
                let me = socket.clone();
                socket.use_packet_middleware(move |_s: &SocketRef, ev: &str, _args: &mut Args| {
                    own_log(&me, format!("own-mw:{ev}"));
                    match ev {
                        "secret" => Err(PacketRejection::Error("no secrets here".into())),
                        "muted" => Err(PacketRejection::Drop),
                        _ => Ok(()),
                    }
                });
            }
        })
        .on("hello", |s: SocketRef| async move {
            s.emit("pong", &()).unwrap();
            s.namespace()
                .to(s.id().to_string())
                .emit("news", &())
                .unwrap();
            "hi"
        })
        .on("secret", |_s: SocketRef| async move { "should not run" })
        .on("muted", |s: SocketRef| async move {
            own_log(&s, "muted ran".into())
        })
        .on("log", |s: SocketRef| async move {
            std::mem::take(
                &mut *s
                    .extension_or_insert_with(OwnLog::default)
                    .0
                    .lock()
                    .unwrap(),
            )
        })
        .on("bye", |s: SocketRef| async move { s.disconnect() })
        .on("off", |s: SocketRef| async move {
            let out = s.extension::<OwnOutgoing>().unwrap().0;
            // one argument: a tuple would ack with three
            vec![
                s.off_any(None),
                s.off_any_outgoing(Some(out)),
                s.off_any_outgoing(Some(out)),
            ]
        });
}

/// A socket's own listeners and packet middlewares with socket.io-client on both transports
/// (tests/interop/js/own-hooks.mjs): they run after the namespace's, in order, `prepend_any`
/// first, refuse and drop events, see emits and broadcasts to the socket, go with
/// `off_any`/`off_any_outgoing`, and are dropped with the socket (one holds its own socket).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_client_and_a_sockets_own_listeners_and_middlewares() {
    let io = builder().build();
    let sockets = Arc::new(Mutex::new(Vec::new()));
    install_own_hooks(&io, sockets.clone());
    let addr = serve(&io).await;
    for transport in ["polling", "websocket"] {
        support::script::run_js("own-hooks.mjs", &[&format!("http://{addr}"), transport]).await;
    }
    let mut left = usize::MAX;
    for _ in 0..100 {
        left = sockets
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.upgrade().is_some())
            .count();
        if left == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(sockets.lock().unwrap().len(), 2);
    assert_eq!(left, 0, "sockets kept alive by their own hooks");
}

/// Disconnections seen by disconnect handlers through `State`, with their reason.
#[derive(Default)]
struct Departures {
    list: Mutex<Vec<String>>,
}

/// `#[on_disconnect]` with `State<T>` and the reason, in either order.
#[derive(Default)]
struct Leaving;

#[namespace("/leaving-macro")]
impl Leaving {
    #[on_disconnect]
    async fn gone(&self, socket: SocketRef, log: State<Departures>, reason: DisconnectReason) {
        let entry = format!("{}:{reason}", socket.ns());
        log.list.lock().unwrap().push(entry);
    }
}

/// Disconnect handlers take `State<T>` like connect and event handlers: a closure and a
/// `#[namespace]` method, each with the reason too; without `State` the closure forms of
/// before still work.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disconnect_handlers_take_state() {
    let io = SocketIo::builder().state(Departures::default()).build();
    io.register(Leaving);
    io.ns("/leaving").on_disconnect(
        |socket: SocketRef, reason: DisconnectReason, log: State<Departures>| async move {
            let entry = format!("{}:{reason}", socket.ns());
            log.list.lock().unwrap().push(entry);
        },
    );
    io.ns("/plain")
        .on_disconnect(|socket: SocketRef| async move {
            socket.emit("never", &()).ok();
        });
    let addr = serve(&io).await;
    for ns in ["/leaving", "/leaving-macro", "/plain"] {
        let c = connected(addr, ns, "").await;
        c.send_sio(&format!("1{ns},")).await;
        drop(c);
    }
    let log = io.state::<Departures>().unwrap();
    for _ in 0..100 {
        if log.list.lock().unwrap().len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut seen = log.list.lock().unwrap().clone();
    seen.sort();
    assert_eq!(
        seen,
        [
            "/leaving-macro:client namespace disconnect",
            "/leaving:client namespace disconnect"
        ]
    );
}

/// A client that leaves a namespace as soon as it reads the CONNECT answer still gets its
/// disconnect handler run, every time. The answer and the socket's "connected" mark were once
/// two steps, with the packets the connect handler emitted sent between them, and a DISCONNECT
/// handled in that gap was taken for a refused socket's: no disconnect handler. Here the
/// connect handler emits many packets, which widens that gap.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_disconnect_right_after_the_connect_answer_runs_the_handler() {
    const ROUNDS: usize = 40;
    let io = SocketIo::new();
    let (connects, disconnects) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let seen = connects.clone();
    let gone = disconnects.clone();
    io.ns("/quick")
        .on_connect(move |socket: SocketRef| {
            let seen = seen.clone();
            async move {
                for i in 0..2_000 {
                    socket.emit("early", &i).ok();
                }
                seen.fetch_add(1, Ordering::SeqCst);
            }
        })
        .on_disconnect(move |_: SocketRef| {
            let gone = gone.clone();
            async move {
                gone.fetch_add(1, Ordering::SeqCst);
            }
        });
    let addr = serve(&io).await;
    for _ in 0..ROUNDS {
        let (mut c, _) = Conn::open(addr, Transport::WebSocket).await;
        c.send_sio("0/quick,").await;
        let answer = c.expect_sio().await;
        assert!(answer.starts_with("0/quick,{\"sid\""), "{answer}");
        c.send_sio("1/quick,").await;
    }
    for _ in 0..250 {
        if disconnects.load(Ordering::SeqCst) == ROUNDS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(connects.load(Ordering::SeqCst), ROUNDS);
    assert_eq!(disconnects.load(Ordering::SeqCst), ROUNDS);
}

/// A socket that joins a room after it left its namespace (here from its disconnect handler,
/// and from an event handler still running when the client went away) is in no room after:
/// rooms hold their sockets, and none may keep a gone one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_that_left_joins_no_room() {
    let io = SocketIo::new();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    let (gone_tx, mut gone) = tokio::sync::mpsc::unbounded_channel::<()>();
    io.ns("/late")
        .on_connect(|socket: SocketRef| async move {
            socket.join("while-connected");
        })
        .on("slow", move |socket: SocketRef| {
            let tx = tx.clone();
            async move {
                // Until the client is gone.
                while socket.connected() {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                socket.join("from-a-handler");
                let _ = tx.send(());
            }
        })
        .on_disconnect(move |socket: SocketRef| {
            let gone_tx = gone_tx.clone();
            async move {
                socket.join("from-disconnect");
                let _ = gone_tx.send(());
            }
        });
    let addr = serve(&io).await;
    let ns = io.ns("/late");
    for _ in 0..20 {
        let c = connected(addr, "/late", "").await;
        c.send_sio("2/late,[\"slow\"]").await;
        drop(c);
        tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("the handler saw the client go")
            .unwrap();
    }
    for _ in 0..20 {
        tokio::time::timeout(Duration::from_secs(5), gone.recv())
            .await
            .expect("every disconnect handler ran")
            .unwrap();
    }
    assert!(ns.sockets().is_empty());
    assert_eq!(ns.rooms(), Vec::<String>::new());
}

/// `on_new_namespace` (socket.io's `io.on("new_namespace")`) hears each namespace once, when
/// it is made: by `io.ns` and by a dynamic namespace's first connection to a child, before
/// that connection's connect handler; a panicking listener does not stop the others or the
/// connection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_namespace_listeners_hear_each_namespace_once() {
    let io = SocketIo::new();
    let heard = Arc::new(Mutex::new(Vec::<String>::new()));
    io.on_new_namespace(|ns| {
        if ns.path() == "/boom" {
            panic!("listener panic");
        }
    });
    let log = heard.clone();
    io.on_new_namespace(move |ns| log.lock().unwrap().push(format!("new:{}", ns.path())));
    io.ns("/a");
    io.ns("/a");
    io.ns("/boom");
    let log = heard.clone();
    io.dynamic_ns(r"^/d-\d+$")
        .unwrap()
        .on_connect(move |socket: SocketRef| {
            let log = log.clone();
            async move { log.lock().unwrap().push(format!("connect:{}", socket.ns())) }
        });
    let addr = serve(&io).await;
    let _c1 = connected(addr, "/d-1", "").await;
    let _c2 = connected(addr, "/d-1", "").await;
    let _c3 = connected(addr, "/d-2", "").await;
    let _c4 = connected(addr, "/boom", "").await;
    assert_eq!(
        *heard.lock().unwrap(),
        [
            "new:/a",
            "new:/boom",
            "new:/d-1",
            "connect:/d-1",
            "connect:/d-1",
            "new:/d-2",
            "connect:/d-2"
        ]
    );
}
