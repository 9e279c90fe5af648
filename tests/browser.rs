//! The example chat in a real browser: headless Chromium (Debian's `chromium` package, or the
//! one `CHROMIUM` names) driven by playwright-core (npm, tests/browser) runs
//! `tests/browser/chat.mjs` against the chat server (examples/chat: its page, script, icon and
//! Socket.IO server), started here on a free port. The script asks this test to stop the server
//! and, later, to start a fresh one on the same port: a real restart, with every connection
//! closed and every session lost.
//!
//! Install the parts with `scripts/setup-interop.sh` (it runs `scripts/setup-browser.sh`).

#[path = "../examples/chat/main.rs"]
#[allow(dead_code)]
mod chat_example;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::Command;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A running chat server and the way to stop it.
struct Running {
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

fn start(listener: TcpListener) -> Running {
    let (stop, stopped) = oneshot::channel::<()>();
    let server = chat_example::http_server(listener, chat_example::chat_server());
    let task = tokio::spawn(server.run_until(async move {
        let _ = stopped.await;
    }));
    Running { stop, task }
}

impl Running {
    /// Shuts the server down gracefully (clients see their connection close) and waits.
    async fn shutdown(self) {
        let _ = self.stop.send(());
        tokio::time::timeout(Duration::from_secs(15), self.task)
            .await
            .expect("the chat server did not stop within 15 s")
            .expect("server task")
            .expect("server");
    }
}

/// Binds `addr` again, retrying a little while the old listener's port is released.
async fn rebind(addr: SocketAddr) -> TcpListener {
    for _ in 0..50 {
        if let Ok(listener) = TcpListener::bind(addr).await {
            return listener;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("cannot bind {addr} again");
}

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_page_in_headless_chromium() {
    let dir = browser_dir();
    assert!(
        dir.join("node_modules/playwright-core").exists(),
        "playwright-core is not installed: run scripts/setup-interop.sh (npm ci in tests/browser)"
    );
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    assert!(
        chromium.exists(),
        "{} is missing: run scripts/setup-browser.sh (apt-get install chromium) or set CHROMIUM",
        chromium.display()
    );

    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut server = Some(start(listener));

    let mut child = Command::new("node")
        .arg(dir.join("chat.mjs"))
        .arg(format!("http://{addr}"))
        .env("CHROMIUM", &chromium)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("run node");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();

    let mut output = Vec::new();
    let driven = async {
        while let Some(line) = stdout.next_line().await.expect("read the script's output") {
            println!("{line}");
            let answer = match line.as_str() {
                "STOP" => {
                    server.take().expect("STOP while stopped").shutdown().await;
                    "STOPPED\n"
                }
                "START" => {
                    assert!(server.is_none(), "START while running");
                    server = Some(start(rebind(addr).await));
                    "STARTED\n"
                }
                _ => {
                    output.push(line);
                    continue;
                }
            };
            stdin.write_all(answer.as_bytes()).await.unwrap();
            stdin.flush().await.unwrap();
        }
        child.wait().await.expect("wait for node")
    };
    let status = tokio::time::timeout(Duration::from_secs(90), driven)
        .await
        .expect("the browser test did not finish within 90 s");
    assert!(
        status.success(),
        "tests/browser/chat.mjs failed ({status}):\n{}",
        output.join("\n")
    );
    assert!(
        output
            .iter()
            .any(|l| l == "browser chat: 1 passed, 0 failed"),
        "{}",
        output.join("\n")
    );
    if let Some(server) = server {
        server.shutdown().await;
    }
}
