//! The admin UI's instrumentation (`socketio_core::admin`, cargo feature `admin-ui`) driven by
//! the real `socket.io-client` the way @socket.io/admin-ui 0.5's UI drives it
//! (tests/interop/js/admin.mjs), on both transports and in the three modes; and the UI itself,
//! the package's built `ui/dist` in headless Chromium (tests/browser/admin-ui.mjs).

mod support;

use std::path::PathBuf;
use std::time::Duration;

use axum::Router;
use serde_json::json;
use socketio_axum::SocketIoRouterExt;
use socketio_core::admin::{instrument, AdminError, AdminMode, AdminOptions, BasicAuth};
use socketio_core::{SocketIo, SocketRef};

/// bcrypt of "s3cret" (cost 4: fast in tests), made by bcryptjs as the package's docs suggest.
const HASH: &str = "$2a$04$ifUSnQgTW6S9xcGrYo2xieO80wMjdyxtugwGfJLyHvAwlMUHGb0Ea";

/// "/" (joins "lobby", sets data, answers echo/enter/exit/rooms) and "/chat" (joins "early"),
/// instrumented as `mode` says; served on a loopback port.
async fn start(mode: &str) -> (SocketIo, std::net::SocketAddr) {
    start_with(mode, Router::new()).await
}

/// The same, `extra` routes beside the Socket.IO service.
async fn start_with(mode: &str, extra: Router) -> (SocketIo, std::net::SocketAddr) {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let io = SocketIo::builder().cors_allowed_origins(["*"]).build();
    io.ns("/")
        .on_connect(|socket: SocketRef| async move {
            socket.join("lobby");
            socket.set_data(&json!({"user": "ann"})).ok();
        })
        .on(
            "echo",
            |socket: SocketRef, value: serde_json::Value| async move {
                socket.emit("echoed", &value).ok();
                "ok"
            },
        )
        .on("enter", |socket: SocketRef, room: String| async move {
            socket.join(room);
            "ok"
        })
        .on("exit", |socket: SocketRef, room: String| async move {
            socket.leave(&room);
            "ok"
        })
        .on("rooms", |socket: SocketRef| async move { socket.rooms() });
    io.ns("/chat").on_connect(|socket: SocketRef| async move {
        socket.join("early");
    });
    instrument(
        &io,
        AdminOptions {
            auth: Some(BasicAuth::new("admin", HASH)),
            readonly: mode == "readonly",
            server_id: Some("test-node".into()),
            mode: if mode == "production" {
                AdminMode::Production
            } else {
                AdminMode::Development
            },
            stats_interval: Duration::from_millis(200),
            ..AdminOptions::default()
        },
    )
    .unwrap();
    let (addr, _task) = support::server::serve_router(extra.socketio(&io)).await;
    (io, addr)
}

async fn run(args: &[String], dir: &std::path::Path) {
    let (program, args) = (
        std::path::Path::new("node"),
        args.iter().map(String::as_str),
    );
    support::script::run(program, &args.collect::<Vec<_>>(), dir).await;
}

fn root() -> PathBuf {
    support::script::root()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_namespace_as_the_ui_drives_it() {
    let dir = support::script::js_dir("socket.io-client");
    for mode in ["development", "readonly", "production"] {
        for transport in ["polling", "websocket"] {
            let (_io, addr) = start(mode).await;
            let args = [
                dir.join("admin.mjs").display().to_string(),
                format!("http://{addr}"),
                transport.to_owned(),
                mode.to_owned(),
            ];
            run(&args, &dir).await;
        }
    }
}

#[test]
fn a_password_that_is_not_a_bcrypt_hash_is_refused() {
    let io = SocketIo::new();
    let err = instrument(
        &io,
        AdminOptions {
            auth: Some(BasicAuth::new("admin", "s3cret")),
            ..AdminOptions::default()
        },
    )
    .unwrap_err();
    assert!(matches!(err, AdminError::InvalidHash));
}

/// The built UI of @socket.io/admin-ui (its `ui/dist`), file by file.
async fn ui_file(
    uri: http::Uri,
) -> (
    http::StatusCode,
    [(http::header::HeaderName, &'static str); 1],
    Vec<u8>,
) {
    let dist = root().join("tests/browser/node_modules/@socket.io/admin-ui/ui/dist");
    let path = match uri.path().trim_start_matches('/') {
        "" => "index.html",
        p => p,
    };
    let file = dist.join(path);
    let kind = match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript",
        Some("css") => "text/css",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    let content_type = http::header::CONTENT_TYPE;
    match (path.contains(".."), std::fs::read(&file)) {
        (false, Ok(body)) => (http::StatusCode::OK, [(content_type, kind)], body),
        _ => (
            http::StatusCode::NOT_FOUND,
            [(content_type, "text/plain")],
            b"not found".to_vec(),
        ),
    }
}

/// The real UI in headless Chromium: it connects to our server with the form, lists our sockets
/// and rooms, and sees a room joined after it connected. `ADMIN_UI_SCREENSHOT=path.png` keeps a
/// screenshot of the sockets page (socketio-core/docs/admin-ui.png was made so).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_ui_in_headless_chromium_lists_our_sockets_and_rooms() {
    let dir = root().join("tests/browser");
    assert!(
        dir.join("node_modules/@socket.io/admin-ui/ui/dist/index.html")
            .exists()
            && dir.join("node_modules/playwright-core").exists(),
        "the browser test parts are not installed: run scripts/setup-browser.sh first"
    );
    let (_io, addr) = start_with("development", Router::new().fallback(ui_file)).await;
    let mut args = vec![
        dir.join("admin-ui.mjs").display().to_string(),
        format!("http://{addr}"),
        "admin".to_owned(),
        "s3cret".to_owned(),
    ];
    if let Ok(path) = std::env::var("ADMIN_UI_SCREENSHOT") {
        args.push(path);
    }
    run(&args, &dir).await;
}

/// Namespaces made after `instrument` (a static one and dynamic children) are watched too:
/// tests/interop/js/admin-late.mjs drives the admin namespace as the UI does, on both
/// transports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn namespaces_made_after_instrument_are_watched() {
    for transport in ["polling", "websocket"] {
        let io = SocketIo::builder().cors_allowed_origins(["*"]).build();
        instrument(
            &io,
            AdminOptions {
                stats_interval: Duration::from_millis(200),
                ..AdminOptions::default()
            },
        )
        .unwrap();
        io.ns("/late")
            .on("ping", |_s: SocketRef, _n: u32| async move { "pong" });
        io.dynamic_ns(r"^/room-\d+$").unwrap().on(
            "hi",
            |socket: SocketRef, _text: String| async move {
                socket.join("fans");
                socket.emit("welcome", &socket.ns()).ok();
                "hello"
            },
        );
        let addr = support::server::serve(&io).await;
        let url = format!("http://{addr}");
        support::script::run_js("admin-late.mjs", &[&url, transport]).await;
    }
}

/// Two nodes of one cluster (our Redis bus), each instrumented with its own server id: a UI
/// connected to one node gets both nodes' `server_stats` (tests/interop/js/admin-cluster.mjs),
/// as @socket.io/admin-ui shows several servers sharing an adapter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ui_sees_every_nodes_stats() {
    for transport in ["polling", "websocket"] {
        let (nodes, _channel) = support::cluster::nodes(support::cluster::redis, 2).await;
        for (node, id) in nodes.iter().zip(["node-a", "node-b"]) {
            instrument(
                &node.io,
                AdminOptions {
                    // the test server has an "/admin" namespace of its own
                    namespace_name: "/monitor".into(),
                    server_id: Some(id.into()),
                    stats_interval: Duration::from_millis(200),
                    ..AdminOptions::default()
                },
            )
            .unwrap();
        }
        let (a, b) = (nodes[0].http_url(), nodes[1].http_url());
        support::script::run_js("admin-cluster.mjs", &[&a, &b, transport]).await;
    }
}
