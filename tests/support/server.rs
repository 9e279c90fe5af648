//! The test server of tests/TEST_SERVER.md, on our own crates, in process.

use std::net::SocketAddr;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use socketio_axum::SocketIoRouterExt;
use socketio_core::{
    AckError, AckSender, Args, ConnectError, Cors, SocketIo, SocketIoBuilder, SocketRef,
};

/// A running test server; dropping it stops accepting connections.
pub struct TestServer {
    /// Where it listens (127.0.0.1, OS-chosen port).
    pub addr: SocketAddr,
    /// The server handle, for tests that look inside.
    pub io: SocketIo,
    task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    /// `http://127.0.0.1:PORT`.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The server with the "protocol tests" options (fast timers).
pub async fn start_protocol_server() -> TestServer {
    start_protocol_server_with(|b| b).await
}

/// The server with the "interop tests" options (default timers).
pub async fn start_interop_server() -> TestServer {
    start(defaults(SocketIo::builder())).await
}

/// The protocol-test server with extra settings applied to its builder.
pub async fn start_protocol_server_with(
    configure: impl FnOnce(SocketIoBuilder) -> SocketIoBuilder,
) -> TestServer {
    start(configure(
        defaults(SocketIo::builder())
            .ping_interval(Duration::from_millis(300))
            .ping_timeout(Duration::from_millis(200))
            .connect_timeout(Duration::from_millis(1000)),
    ))
    .await
}

/// The options both columns of TEST_SERVER.md share.
fn defaults(builder: SocketIoBuilder) -> SocketIoBuilder {
    builder.max_payload(1_000_000).cors(Cors::Any)
}

async fn start(builder: SocketIoBuilder) -> TestServer {
    let io = builder.build();
    install_handlers(&io);
    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .socketio(&io);
    let (addr, task) = serve_router(app).await;
    TestServer { addr, io, task }
}

/// Serves `io` alone on 127.0.0.1 (an OS-chosen port) until the test's runtime ends.
pub async fn serve(io: &SocketIo) -> SocketAddr {
    serve_router(Router::new().socketio(io)).await.0
}

/// Serves `app` on 127.0.0.1 (an OS-chosen port): its address and the task serving it (abort
/// it to stop). Logs go to the test's output with `RUST_LOG` (e.g.
/// `RUST_LOG=socketio_core=debug cargo test ..` shows the server's side of a failing test).
pub async fn serve_router(app: Router) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.expect("serve");
    });
    (addr, task)
}

fn install_handlers(io: &SocketIo) {
    for path in ["/", "/custom"] {
        io.ns(path)
            .on_connect(|socket: SocketRef, auth: Option<Value>| async move {
                if auth.as_ref().and_then(|a| a.get("reject")) == Some(&Value::Bool(true)) {
                    return Err(ConnectError::new("rejected by server"));
                }
                socket
                    .emit("auth", &auth)
                    .map_err(|e| ConnectError::new(e.to_string()))
            });
        install_events(io, path);
    }
    io.ns("/admin")
        .on_connect(|socket: SocketRef, auth: Option<Value>| async move {
            if auth != Some(json!({ "token": "secret" })) {
                return Err(ConnectError::new("unauthorized"));
            }
            socket
                .emit("auth", &auth)
                .map_err(|e| ConnectError::new(e.to_string()))
        });
    install_events(io, "/admin");
}

fn install_events(io: &SocketIo, path: &str) {
    io.ns(path)
        .on("echo", |socket: SocketRef, args: Args| async move {
            let _ = socket.emit_args("echo", args);
        })
        .on(
            "ack",
            |_socket: SocketRef, args: Args, ack: AckSender| async move {
                let _ = ack.send_args(args);
            },
        )
        .on("join", |socket: SocketRef, room: String| async move {
            socket.join(room);
            socket.rooms()
        })
        .on("leave", |socket: SocketRef, room: String| async move {
            socket.leave(&room);
            socket.rooms()
        })
        .on("rooms", |socket: SocketRef| async move { socket.rooms() })
        .on(
            "to-room",
            |socket: SocketRef, room: String, payload: Value| async move {
                socket.to(room).emit("room-message", &payload).is_ok()
            },
        )
        .on(
            "to-room-all",
            |socket: SocketRef, room: String, payload: Value| async move {
                socket
                    .namespace()
                    .to(room)
                    .emit("room-message", &payload)
                    .is_ok()
            },
        )
        .on("ask", |socket: SocketRef, payload: Value| async move {
            let answer = socket
                .emit_with_ack::<Value, _>("question", &payload)
                .timeout(Duration::from_secs(5))
                .await;
            match answer {
                Ok(a0) => a0,
                Err(AckError::Timeout(_)) => json!({ "error": "timeout" }),
                Err(err) => json!({ "error": err.to_string() }),
            }
        })
        .on("transport", |socket: SocketRef| async move {
            socket.transport().as_str()
        })
        .on("disconnect-me", |socket: SocketRef| async move {
            socket.disconnect()
        })
        .on("close-me", |socket: SocketRef| async move {
            socket.close_connection()
        });
}
