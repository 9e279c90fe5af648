//! Interop: the official JavaScript `socket.io-client` (npm) and Python `python-socketio` (pip)
//! clients run their scenario scripts (tests/interop/) against our server, over each transport
//! mode. Install the clients first with `scripts/setup-interop.sh` (the test command does it).

mod support;

#[allow(dead_code)]
#[path = "../examples/chat/main.rs"]
mod chat_example;

use support::server;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use socketio_axum::SocketIoRouterExt;
use tokio::process::Command;

fn interop_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// Runs one client script against a fresh test server and fails with its output unless it
/// passed.
async fn run_client(program: PathBuf, script: &str, extra: &[&str]) {
    let server = server::start_interop_server().await;
    run_script(program, script, &server.http_url(), extra).await;
}

/// Runs one client script against the server at `url`.
async fn run_script(program: PathBuf, script: &str, url: &str, extra: &[&str]) {
    assert!(
        program.exists() || program.components().count() == 1,
        "{} is missing: run scripts/setup-interop.sh first",
        program.display()
    );
    let mut cmd = Command::new(&program);
    cmd.arg(interop_dir().join(script))
        .arg(url)
        .args(extra)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(150), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{script} {extra:?} did not finish in 150 s"))
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "{script} {extra:?} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
}

async fn js(mode: &str) {
    let modules = interop_dir().join("js/node_modules/socket.io-client");
    assert!(
        modules.exists(),
        "socket.io-client is not installed: run scripts/setup-interop.sh first"
    );
    run_client(PathBuf::from("node"), "js/client.mjs", &[mode]).await;
}

async fn python(mode: &str, flavour: &str) {
    let python = interop_dir().join("python/.venv/bin/python");
    run_client(python, "python/client.py", &[mode, flavour]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_client_polling() {
    js("polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_client_websocket() {
    js("websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_client_upgrade() {
    js("upgrade").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sync_client_polling() {
    python("polling", "sync").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sync_client_websocket() {
    python("websocket", "sync").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sync_client_upgrade() {
    python("upgrade", "sync").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_async_client_polling() {
    python("polling", "async").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_async_client_websocket() {
    python("websocket", "async").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_async_client_upgrade() {
    python("upgrade", "async").await;
}

/// The chat example (written with `#[namespace]`) with the real socket.io-client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_client_chat_example() {
    let modules = interop_dir().join("js/node_modules/socket.io-client");
    assert!(
        modules.exists(),
        "socket.io-client is not installed: run scripts/setup-interop.sh first"
    );
    let io = chat_example::chat_server();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().socketio(&io);
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    run_script(PathBuf::from("node"), "js/chat.mjs", &url, &[]).await;
    server.abort();
}

/// The legacy socket.io-client 2.x (Engine.IO v3 / Socket.IO protocol v4).
async fn js_legacy(mode: &str) {
    let modules = interop_dir().join("js-legacy/node_modules/socket.io-client");
    assert!(
        modules.exists(),
        "socket.io-client@2 is not installed: run scripts/setup-interop.sh first"
    );
    run_client(PathBuf::from("node"), "js-legacy/client.js", &[mode]).await;
}

/// The legacy python-socketio 4.x sync client.
async fn python_legacy(mode: &str) {
    let python = interop_dir().join("python-legacy/.venv/bin/python");
    run_client(python, "python-legacy/client.py", &[mode]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_legacy_client_polling() {
    js_legacy("polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_legacy_client_websocket() {
    js_legacy("websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_legacy_client_upgrade() {
    js_legacy("upgrade").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_legacy_client_polling() {
    python_legacy("polling").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_legacy_client_websocket() {
    python_legacy("websocket").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_legacy_client_upgrade() {
    python_legacy("upgrade").await;
}
