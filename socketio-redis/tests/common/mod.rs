//! What the mixed-cluster tests of the Node-compatible adapters share: the Node side (a
//! `mixed.mjs` of `tests/interop/node-*`, driven over stdin/stdout as JSON lines) and our
//! server. socketio-postgres's `tests/node_cluster.rs` includes this file too (`#[path]`).

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use socketio_axum::SocketIoRouterExt;
use socketio_core::adapter::{Adapter, LocalSockets};
use socketio_core::{Args, SocketIo, SocketRef};

use serde_json::{json, Value as Json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, ChildStdin, Command};
use tokio::sync::mpsc;

pub(crate) const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// The local Redis Cluster `scripts/services.sh` starts: three primaries on 7000-7002, no
/// replicas.
pub(crate) const REDIS_CLUSTER: [&str; 3] = [
    "redis://127.0.0.1:7000",
    "redis://127.0.0.1:7001",
    "redis://127.0.0.1:7002",
];

/// Where a test's servers meet: the single Redis on 6379 or the local Redis Cluster (our
/// client for it: `common/redis.rs`, kept apart because socketio-postgres's tests include
/// this file and have no socketio-redis).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Deployment {
    Standalone,
    Cluster,
}

impl Deployment {
    /// The environment that points a `mixed.mjs` at it (`REDIS_CLUSTER` for the cluster).
    pub(crate) fn env(self) -> Vec<(&'static str, String)> {
        match self {
            Deployment::Standalone => Vec::new(),
            Deployment::Cluster => vec![("REDIS_CLUSTER", REDIS_CLUSTER.join(","))],
        }
    }
}

pub(crate) fn node_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/interop/node-cluster");
    assert!(
        dir.join("node_modules/@socket.io/redis-adapter").is_dir(),
        "{} has no node_modules: run scripts/setup-interop.sh",
        dir.display()
    );
    dir
}

/// The Node side (a `mixed.mjs` of tests/interop/node-*); killed when dropped.
pub(crate) struct NodeSide {
    /// What it runs (the Redis adapter, `"classic"`, `"sharded"`, `"streams"`), named in
    /// failures.
    label: &'static str,
    /// Whether client event lines are kept for [`NodeSide::wait_for`] (a flood's are not:
    /// they are counted by the script instead, see [`NodeSide::drop_client_lines`]).
    keep_client_lines: bool,
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
    /// Starts `mixed.mjs` with a Node server on the `adapter` (`"classic"` or `"sharded"`)
    /// Redis adapter for `key`, against our server on `rust_port`. With `clients_only`, no
    /// Node server: clients "c1" (room1) and "c2" (room1, room2) on our server only.
    pub(crate) async fn start_script(
        adapter: &'static str,
        key: &str,
        rust_port: u16,
        clients_only: bool,
    ) -> NodeSide {
        Self::start_script_on(
            Deployment::Standalone,
            adapter,
            key,
            rust_port,
            clients_only,
        )
        .await
    }

    /// [`NodeSide::start_script`] on `deployment` (the Node side's Redis clients are
    /// `createCluster` ones on the cluster).
    pub(crate) async fn start_script_on(
        deployment: Deployment,
        adapter: &'static str,
        key: &str,
        rust_port: u16,
        clients_only: bool,
    ) -> NodeSide {
        let mut env = vec![
            ("ADAPTER", adapter.to_owned()),
            (
                "CLIENTS_ONLY",
                if clients_only { "1" } else { "" }.to_owned(),
            ),
            ("KEY", key.to_owned()),
            ("RUST_PORT", rust_port.to_string()),
        ];
        env.extend(deployment.env());
        Self::spawn(node_dir(), adapter, &env).await
    }

    /// Starts `mixed.mjs` of the npm folder `dir` (any of tests/interop/node-*, which all
    /// speak this line protocol) with `env` and `REDIS_URL`, and waits for its `ready` line;
    /// `label` names it in failures.
    pub(crate) async fn spawn(
        dir: PathBuf,
        label: &'static str,
        env: &[(&str, String)],
    ) -> NodeSide {
        let mut child = Command::new("node")
            .arg("mixed.mjs")
            .current_dir(dir)
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
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
            label,
            keep_client_lines: true,
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

    /// Every client's socket id, by client name.
    pub(crate) fn ids(&self) -> &BTreeMap<String, String> {
        &self.ids
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
                Ok(Some(line)) if !self.keep_client_lines && line.get("client").is_some() => {}
                Ok(Some(line)) => self.backlog.push(line),
                Ok(None) => panic!(
                    "mixed.mjs ({}) exited; backlog {:?}",
                    self.label, self.backlog
                ),
                Err(_) => panic!(
                    "no expected line from mixed.mjs ({}) in 15 s; backlog {:?}",
                    self.label, self.backlog
                ),
            }
        }
    }

    /// From now on, client event lines not waited for are dropped instead of kept (a
    /// flood's thousands of them would fill the backlog).
    pub(crate) fn drop_client_lines(&mut self) {
        self.keep_client_lines = false;
        self.backlog.retain(|l| l.get("client").is_none());
    }

    /// Whether a line `pick` accepts has arrived already (without waiting).
    pub(crate) fn has_seen(&mut self, pick: impl Fn(&Json) -> bool) -> bool {
        while let Ok(line) = self.lines.try_recv() {
            if self.keep_client_lines || line.get("client").is_none() {
                self.backlog.push(line);
            }
        }
        self.backlog.iter().any(pick)
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

/// Our server on the Redis adapter, serving on an ephemeral port; clients join the rooms
/// their auth names; server-side `node-sse` events are reported on `server_events` and acked
/// with `{"from": "rust"}`.
pub(crate) struct RustSide {
    pub(crate) io: SocketIo,
    pub(crate) key: String,
    pub(crate) port: u16,
    pub(crate) server_events: mpsc::UnboundedReceiver<Json>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for RustSide {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Our server with `factory`'s adapter (see [`RustSide`]).
pub(crate) async fn rust_side_with<A, F>(key: &str, factory: F) -> RustSide
where
    A: Adapter,
    F: Fn(LocalSockets) -> Arc<A> + Send + Sync + 'static,
{
    let io = SocketIo::builder()
        .adapter(factory)
        .max_buffer_size(64 * 1024)
        .build();
    io.ns("/")
        .on_connect(|socket: SocketRef, auth: Option<Json>| async move {
            let rooms = auth.unwrap_or_default()["rooms"].clone();
            // what fetchSockets on another node should see as socket.data
            socket
                .set_data(&json!({"from": "rust", "rooms": rooms}))
                .unwrap();
            for room in rooms.as_array().cloned().unwrap_or_default() {
                socket.join(room.as_str().unwrap().to_owned());
            }
            Ok::<(), socketio_core::ConnectError>(())
        });
    let (tx, server_events) = mpsc::unbounded_channel();
    io.ns("/").on_server_event("node-sse", move |args: Args| {
        let _ = tx.send(Json::Array(args.values().to_vec()));
        async { Args::from_serialize(&json!({"from": "rust"})).unwrap() }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let app = Router::new().socketio(&io);
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    RustSide {
        io,
        key: key.to_owned(),
        port,
        server_events,
        task,
    }
}

pub(crate) fn ids(sockets: &[socketio_core::adapter::SocketInfo]) -> BTreeSet<String> {
    sockets.iter().map(|s| s.id.clone()).collect()
}

pub(crate) fn set(node: &NodeSide, names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| node.id(n)).collect()
}

/// Polls `check` (every 50 ms, 5 s at most) until it holds.
pub(crate) async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(5);
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within 5 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) async fn node_fetch(node: &mut NodeSide, rooms: &[&str]) -> BTreeSet<String> {
    let reply = node.cmd(json!({"cmd": "fetch", "rooms": rooms})).await;
    reply["sockets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

/// Polls Node's fetchSockets of `room` (5 s at most) until it finds `want`.
pub(crate) async fn node_fetch_until(node: &mut NodeSide, room: &str, want: &BTreeSet<String>) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let found = node_fetch(node, &[room]).await;
        if found == *want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "Node fetch {room}: {found:?}, want {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub(crate) const ALL: [&str; 4] = ["n1", "n2", "r1", "r2"];
