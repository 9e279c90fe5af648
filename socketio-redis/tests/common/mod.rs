//! What the mixed-cluster tests of the Node-compatible Redis adapters share: the Node side
//! (a script of `tests/interop/node-cluster/` driven over stdin/stdout as JSON lines).

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::{json, Value as Json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

pub(crate) const REDIS_URL: &str = "redis://127.0.0.1:6379";

pub(crate) fn node_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/node-cluster");
    assert!(
        dir.join("node_modules/@socket.io/redis-adapter").is_dir(),
        "{} has no node_modules: run scripts/setup-interop.sh",
        dir.display()
    );
    dir
}

/// The Node side (a script of tests/interop/node-cluster); killed when dropped.
pub(crate) struct NodeSide {
    script: &'static str,
    pub(crate) child: Child,
    stdin: ChildStdin,
    lines: mpsc::UnboundedReceiver<Json>,
    /// Lines read while looking for others, not yet consumed.
    backlog: Vec<Json>,
    next_id: u64,
    ids: BTreeMap<String, String>,
}

impl Drop for NodeSide {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

impl NodeSide {
    /// Starts `script` (`mixed.mjs`, `sharded.mjs`) for `key` against our server on
    /// `rust_port`. With `clients_only`, no Node server: clients "c1" (room1) and "c2" (room1,
    /// room2) on our server only.
    pub(crate) async fn start_script(
        script: &'static str,
        key: &str,
        rust_port: u16,
        clients_only: bool,
    ) -> NodeSide {
        let mut child = Command::new("node")
            .arg(script)
            .current_dir(node_dir())
            .env("CLIENTS_ONLY", if clients_only { "1" } else { "" })
            .env("KEY", key)
            .env("RUST_PORT", rust_port.to_string())
            .env("REDIS_URL", REDIS_URL)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("node is installed");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let (tx, lines) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Ok(Some(line)) = stdout.next_line().await {
                if let Ok(v) = serde_json::from_str::<Json>(&line) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            }
        });
        let mut node = NodeSide {
            script,
            child,
            stdin,
            lines,
            backlog: Vec::new(),
            next_id: 0,
            ids: BTreeMap::new(),
        };
        let ready = node.wait_for(|l| l.get("ready").is_some()).await;
        node.ids = serde_json::from_value(ready["ids"].clone()).unwrap();
        node
    }

    pub(crate) fn id(&self, client: &str) -> String {
        self.ids[client].clone()
    }

    /// The first line (backlog first) that `pick` accepts, within 15 s.
    pub(crate) async fn wait_for(&mut self, pick: impl Fn(&Json) -> bool) -> Json {
        if let Some(i) = self.backlog.iter().position(&pick) {
            return self.backlog.remove(i);
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) if pick(&line) => return line,
                Ok(Some(line)) => self.backlog.push(line),
                Ok(None) => panic!("{} exited; backlog {:?}", self.script, self.backlog),
                Err(_) => panic!(
                    "no expected line from {} in 15 s; backlog {:?}",
                    self.script, self.backlog
                ),
            }
        }
    }

    /// Sends command `cmd` and returns its reply.
    pub(crate) async fn cmd(&mut self, mut cmd: Json) -> Json {
        self.next_id += 1;
        let id = self.next_id;
        cmd["id"] = json!(id);
        self.stdin
            .write_all(format!("{cmd}\n").as_bytes())
            .await
            .unwrap();
        self.stdin.flush().await.unwrap();
        let reply = self.wait_for(|l| l["reply"] == json!(id)).await;
        assert!(reply.get("error").is_none(), "{cmd}: {reply}");
        reply
    }

    /// The events `client` received up to (without) `marker`, as `[event, args]`.
    pub(crate) async fn events_until(&mut self, client: &str, marker: &str) -> Vec<(String, Json)> {
        let mut out = Vec::new();
        loop {
            let line = self.wait_for(|l| l["client"] == json!(client)).await;
            let event = line["event"].as_str().unwrap().to_owned();
            if event == marker {
                return out;
            }
            out.push((event, line["args"].clone()));
        }
    }

    pub(crate) async fn server_event(&mut self, event: &str) -> Json {
        self.wait_for(|l| l["server"] == json!(event)).await["args"].clone()
    }
}
