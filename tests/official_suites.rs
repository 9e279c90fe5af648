//! The official protocol test suites (socketio/engine.io-protocol and socketio/socket.io-protocol,
//! `test-suite/`, vendored unmodified under tests/protocol-suites/), run with mocha against our
//! two conformance example servers, started in process from the examples' own `server()`.
//!
//! The suites connect to `localhost:3000`, hard-coded: this test waits for the port to be free,
//! serves one suite's server there, runs that suite, then the other, one after the other in one
//! test. Install the suites first with `scripts/setup-interop.sh` (the test command does it).

#[allow(dead_code)]
#[path = "../examples/conformance-engineio.rs"]
mod conformance_engineio;
#[allow(dead_code)]
#[path = "../examples/conformance-socketio.rs"]
mod conformance_socketio;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use axum::Router;
use socketio_axum::SocketIoRouterExt;
use tokio::net::TcpListener;
use tokio::process::Command;
use tokio::task::JoinHandle;

/// The port the suites use.
const PORT: u16 = 3000;
/// How long to wait for another process to free the port.
const PORT_WAIT: Duration = Duration::from_secs(120);
/// Each suite takes a few seconds; this bounds a hung run.
const SUITE_TIMEOUT: Duration = Duration::from_secs(120);

fn suite_dir(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/protocol-suites")
        .join(name)
}

/// Serves `app` on port 3000 of the IPv4 loopback (and of the IPv6 one when there is one: Node
/// may resolve `localhost` to `::1` first), waiting for the port to be free.
async fn serve_on_3000(app: Router) -> Vec<JoinHandle<()>> {
    let deadline = Instant::now() + PORT_WAIT;
    let v4 = loop {
        match TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], PORT))).await {
            Ok(listener) => break listener,
            Err(err) if Instant::now() < deadline => {
                eprintln!("port {PORT} busy ({err}), waiting");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(err) => panic!("port {PORT} stayed busy for {PORT_WAIT:?}: {err}"),
        }
    };
    let mut listeners = vec![v4];
    if let Ok(v6) = TcpListener::bind(SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, PORT))).await
    {
        listeners.push(v6);
    }
    listeners
        .into_iter()
        .map(|listener| {
            let app = app.clone();
            tokio::spawn(async move { axum::serve(listener, app).await.unwrap() })
        })
        .collect()
}

/// Runs mocha on one suite; returns its output, or panics with it if a case failed.
async fn run_suite(name: &str) -> String {
    let dir = suite_dir(name);
    let mocha = dir.join("node_modules/.bin/mocha");
    assert!(
        mocha.exists(),
        "{} is missing: run scripts/setup-interop.sh first",
        mocha.display()
    );
    let mut cmd = Command::new(&mocha);
    cmd.arg("test-suite.js")
        .current_dir(&dir)
        .stdin(Stdio::null())
        .kill_on_drop(true);
    let output = tokio::time::timeout(SUITE_TIMEOUT, cmd.output())
        .await
        .unwrap_or_else(|_| panic!("the {name} suite did not finish in {SUITE_TIMEOUT:?}"))
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", mocha.display()));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the official {name} protocol suite failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains("passing") && !stdout.contains("failing"),
        "unexpected mocha output for {name}:\n{stdout}"
    );
    stdout
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_engineio_and_socketio_suites_pass() {
    let eio = conformance_engineio::server();
    let servers = serve_on_3000(Router::new().route_service(eio.path(), eio.service())).await;
    let out = run_suite("engine.io").await;
    println!("engine.io suite:\n{out}");
    for server in servers {
        server.abort();
        let _ = server.await;
    }

    let io = conformance_socketio::server();
    let servers = serve_on_3000(Router::new().socketio(&io)).await;
    let out = run_suite("socket.io").await;
    println!("socket.io suite:\n{out}");
    for server in servers {
        server.abort();
        let _ = server.await;
    }
}
