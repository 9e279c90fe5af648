//! Soak with churn against `soak-server` (issue #16 item 2; run by `scripts/soak.sh`).
//!
//! ```text
//! soak [port=3190] [secs=600] [warmup=secs/2, at most 120] [concurrency=200] [stable=24]
//!      [rss_growth_pct=20]
//! ```
//!
//! Clients speak Engine.IO v4 / Socket.IO v5 by hand over three transports: WebSocket,
//! HTTP long-polling (HTTP/1.0 requests, one per TCP connection, binary as `b<base64>`) and
//! polling upgraded to WebSocket (`2probe` / `3probe` / `5`). Two runs, a warm-up of `warmup`
//! seconds and the measured run of `secs` seconds, each of:
//!
//! - **churn**: `concurrency` clients at a time, each a random transport, living 0.3–3 s, doing
//!   text echoes with acks, binary echoes with acks (an attachment of random bytes), joining and
//!   leaving rooms `r0`..`r9`, shouting to those rooms; each ack must come back with the payload
//!   sent (else `acks_bad`) within 10 s while the connection is up (else `acks_lost`). A client
//!   ends cleanly (`41`, then a WebSocket close or a polling `1`) or abruptly (its TCP
//!   connections dropped, sometimes with an ack in flight); a few drop right after the
//!   Engine.IO handshake, before joining the namespace.
//! - **stable**: `stable` clients (the three transports in turn) join room `stable` and stay
//!   for the whole run while one ticker client emits `tick` N every 20 ms; the server emits
//!   each to room `stable` and acks it. Afterwards every stable client must have received every
//!   acked tick exactly once, and none may have been disconnected.
//!
//! After each run and a settle period (the server's ping interval + ping timeout, which find the
//! abandoned clients, + 1 s; then polled up to 15 s more), the server's
//! `/stats` must show 0 sessions, 0 sockets, 0 rooms and at most 5 tokio tasks more than when
//! idle before the first run. The resident set size after the measured run may exceed the one
//! after the warm-up run by at most `rss_growth_pct` % (default 20 %): the allocator keeps freed
//! pages and its arenas for reuse, so RSS after the warm-up is the fair baseline, and a second
//! run doing the same work must not need much more; a leak of even 1 KiB per client
//! (thousands of clients per minute) would show. Prints one JSON line per run and a verdict;
//! exits 1 on any failure.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use futures_util::{SinkExt, StreamExt};
use rand::Rng;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

/// Bound on any single wait for the server (an ack, a handshake, an HTTP answer).
const WAIT: Duration = Duration::from_secs(10);
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ws,
    Polling,
    Upgrade,
}

const KINDS: [Kind; 3] = [Kind::Ws, Kind::Polling, Kind::Upgrade];

/// One Engine.IO message from the server (pings are answered by the transport tasks).
enum In {
    Text(String),
    Bin(Vec<u8>),
}

/// One Engine.IO message to the server.
enum Out {
    Text(String),
    Bin(Vec<u8>),
    /// A clean close: WebSocket close frame, or polling `1`.
    Close,
}

type Res<T> = Result<T, String>;

/// A connected client: messages in, messages out, and the transport tasks (aborted to drop
/// the TCP connections without a close).
struct Conn {
    out: mpsc::UnboundedSender<Out>,
    inc: mpsc::UnboundedReceiver<In>,
    tasks: Vec<JoinHandle<()>>,
    next_ack: u64,
}

impl Drop for Conn {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// One HTTP/1.0 request on its own TCP connection; the status and the body.
async fn http(port: u16, method: &str, pq: &str, body: &[u8]) -> Res<(u16, Vec<u8>)> {
    let go = async {
        let mut tcp = TcpStream::connect(("127.0.0.1", port))
            .await
            .map_err(|e| format!("connect: {e}"))?;
        let head = format!(
            "{method} {pq} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        tcp.write_all(head.as_bytes())
            .await
            .map_err(|e| format!("write: {e}"))?;
        tcp.write_all(body)
            .await
            .map_err(|e| format!("write: {e}"))?;
        let mut buf = Vec::new();
        tcp.read_to_end(&mut buf)
            .await
            .map_err(|e| format!("read: {e}"))?;
        let split = buf
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or("no response head")?;
        let head = String::from_utf8_lossy(&buf[..split]).to_string();
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or("bad status line")?;
        let mut body = buf[split + 4..].to_vec();
        for line in head.lines() {
            if let Some((k, v)) = line.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    if let Ok(n) = v.trim().parse::<usize>() {
                        body.truncate(n);
                    }
                }
            }
        }
        Ok((status, body))
    };
    tokio::time::timeout(WAIT, go)
        .await
        .map_err(|_| format!("{method} timed out"))?
}

fn polling_url(sid: Option<&str>) -> String {
    match sid {
        Some(sid) => format!("/socket.io/?EIO=4&transport=polling&sid={sid}"),
        None => "/socket.io/?EIO=4&transport=polling".to_owned(),
    }
}

/// Engine.IO v4 polling payload: packets separated by `\x1e`, binary as `b<base64>`.
fn decode_payload(body: &[u8]) -> Res<Vec<In>> {
    let text = std::str::from_utf8(body).map_err(|_| "payload not UTF-8")?;
    text.split('\x1e')
        .filter(|p| !p.is_empty())
        .map(|p| match p.strip_prefix('b') {
            Some(b) => B64
                .decode(b)
                .map(In::Bin)
                .map_err(|e| format!("base64: {e}")),
            None => Ok(In::Text(p.to_owned())),
        })
        .collect()
}

fn sid_of_open(open: &str) -> Res<String> {
    let v: Value = serde_json::from_str(open.strip_prefix('0').ok_or("not an open packet")?)
        .map_err(|e| format!("open packet: {e}"))?;
    v["sid"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| "open packet without sid".into())
}

/// Polling handshake: the session id.
async fn polling_handshake(port: u16) -> Res<String> {
    let (status, body) = http(port, "GET", &polling_url(None), b"").await?;
    if status != 200 {
        return Err(format!("handshake status {status}"));
    }
    match decode_payload(&body)?.into_iter().next() {
        Some(In::Text(open)) => sid_of_open(&open),
        _ => Err("handshake without open packet".into()),
    }
}

/// The reader (long-polling GETs, pings answered) and writer (one POST at a time) of a polling
/// session.
fn polling_tasks(port: u16, sid: String) -> Conn {
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Out>();
    let (in_tx, in_rx) = mpsc::unbounded_channel::<In>();
    let url = polling_url(Some(&sid));
    let pong = out_tx.clone();
    let get_url = url.clone();
    let reader = tokio::spawn(async move {
        loop {
            let Ok((200, body)) = http(port, "GET", &get_url, b"").await else {
                return;
            };
            let Ok(packets) = decode_payload(&body) else {
                return;
            };
            for p in packets {
                match p {
                    In::Text(t) if t == "2" => {
                        let _ = pong.send(Out::Text("3".into()));
                    }
                    In::Text(t) if t == "6" => {}
                    In::Text(t) if t == "1" => return,
                    other => {
                        if in_tx.send(other).is_err() {
                            return;
                        }
                    }
                }
            }
        }
    });
    let writer = tokio::spawn(async move {
        while let Some(first) = out_rx.recv().await {
            let mut batch = vec![first];
            while let Ok(more) = out_rx.try_recv() {
                batch.push(more);
            }
            let mut closing = false;
            let parts: Vec<String> = batch
                .into_iter()
                .map(|o| match o {
                    Out::Text(t) => t,
                    Out::Bin(b) => format!("b{}", B64.encode(b)),
                    Out::Close => {
                        closing = true;
                        "1".into()
                    }
                })
                .collect();
            let body = parts.join("\x1e");
            if !matches!(
                http(port, "POST", &url, body.as_bytes()).await,
                Ok((200, _))
            ) || closing
            {
                return;
            }
        }
    });
    Conn {
        out: out_tx,
        inc: in_rx,
        tasks: vec![reader, writer],
        next_ack: 0,
    }
}

/// The reader and writer tasks of a WebSocket connection whose open packet was read.
fn ws_tasks(
    ws: tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
) -> Conn {
    let (out_tx, mut out_rx) = mpsc::unbounded_channel::<Out>();
    let (in_tx, in_rx) = mpsc::unbounded_channel::<In>();
    let (mut sink, mut stream) = ws.split();
    let pong = out_tx.clone();
    let reader = tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            let item = match msg {
                Message::Text(t) if t.as_str() == "2" => {
                    let _ = pong.send(Out::Text("3".into()));
                    continue;
                }
                Message::Text(t) => In::Text(t.as_str().to_owned()),
                Message::Binary(b) => In::Bin(b.to_vec()),
                Message::Close(_) => return,
                _ => continue,
            };
            if in_tx.send(item).is_err() {
                return;
            }
        }
    });
    let writer = tokio::spawn(async move {
        while let Some(o) = out_rx.recv().await {
            let msg = match o {
                Out::Text(t) => Message::text(t),
                Out::Bin(b) => Message::binary(b),
                Out::Close => {
                    let _ = sink.send(Message::Close(None)).await;
                    // let the server answer the close before the TCP connection goes
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    return;
                }
            };
            if sink.send(msg).await.is_err() {
                return;
            }
        }
    });
    Conn {
        out: out_tx,
        inc: in_rx,
        tasks: vec![reader, writer],
        next_ack: 0,
    }
}

async fn ws_open(
    port: u16,
    sid: Option<&str>,
) -> Res<tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>> {
    let mut url = format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket");
    if let Some(sid) = sid {
        url.push_str("&sid=");
        url.push_str(sid);
    }
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let connecting = tokio_tungstenite::connect_async_with_config(url, Some(config), true);
    let (ws, _) = tokio::time::timeout(WAIT, connecting)
        .await
        .map_err(|_| "ws connect timed out")?
        .map_err(|e| format!("ws connect: {e}"))?;
    Ok(ws)
}

async fn ws_next_text(
    ws: &mut tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>>,
) -> Res<String> {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await {
            Err(_) => return Err("ws read timed out".into()),
            Ok(None) | Ok(Some(Err(_))) => return Err("ws closed".into()),
            Ok(Some(Ok(Message::Text(t)))) => return Ok(t.as_str().to_owned()),
            Ok(Some(Ok(_))) => continue,
        }
    }
}

/// Opens an Engine.IO session of `kind` (not yet in a namespace).
async fn open(port: u16, kind: Kind) -> Res<Conn> {
    match kind {
        Kind::Ws => {
            let mut ws = ws_open(port, None).await?;
            let open = ws_next_text(&mut ws).await?;
            sid_of_open(&open)?;
            Ok(ws_tasks(ws))
        }
        Kind::Polling => Ok(polling_tasks(port, polling_handshake(port).await?)),
        Kind::Upgrade => {
            let sid = polling_handshake(port).await?;
            let mut ws = ws_open(port, Some(&sid)).await?;
            ws.send(Message::text("2probe"))
                .await
                .map_err(|e| format!("probe: {e}"))?;
            loop {
                let t = ws_next_text(&mut ws).await?;
                if t == "3probe" {
                    break;
                }
            }
            ws.send(Message::text("5"))
                .await
                .map_err(|e| format!("upgrade: {e}"))?;
            Ok(ws_tasks(ws))
        }
    }
}

/// A Socket.IO packet from the server, attachments put back.
struct Packet {
    kind: u8,
    id: Option<u64>,
    data: Value,
    bins: Vec<Vec<u8>>,
}

fn parse_packet(text: &str) -> Res<(Packet, usize)> {
    let b = text.as_bytes();
    let kind = *b.first().ok_or("empty packet")?;
    let mut i = 1;
    let mut attachments = 0;
    if kind == b'5' || kind == b'6' {
        let dash = text[i..].find('-').ok_or("binary packet without '-'")? + i;
        attachments = text[i..dash].parse().map_err(|_| "bad attachment count")?;
        i = dash + 1;
    }
    if b.get(i) == Some(&b'/') {
        i = text[i..].find(',').map_or(text.len(), |c| i + c + 1);
    }
    let start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let id = text[start..i].parse().ok();
    let data = if i < b.len() {
        serde_json::from_str(&text[i..]).map_err(|e| format!("packet JSON: {e}"))?
    } else {
        Value::Null
    };
    Ok((
        Packet {
            kind: kind - b'0',
            id,
            data,
            bins: Vec::new(),
        },
        attachments,
    ))
}

/// What one client saw of the events the server emits to it.
#[derive(Default)]
struct Seen {
    ticks: Vec<u64>,
    shouts: u64,
}

impl Conn {
    /// The next Socket.IO packet; `Err` when the connection ended or nothing came in time.
    async fn packet(&mut self) -> Res<Packet> {
        loop {
            let next = tokio::time::timeout(WAIT, self.inc.recv())
                .await
                .map_err(|_| "nothing from the server within 10 s".to_owned())?;
            let In::Text(t) = next.ok_or("closed")? else {
                return Err("binary frame out of place".into());
            };
            let Some(sio) = t.strip_prefix('4') else {
                continue;
            };
            let (mut p, n) = parse_packet(sio)?;
            for _ in 0..n {
                match tokio::time::timeout(WAIT, self.inc.recv()).await {
                    Ok(Some(In::Bin(b))) => p.bins.push(b),
                    Ok(None) => return Err("closed".into()),
                    _ => return Err("missing attachment".into()),
                }
            }
            return Ok(p);
        }
    }

    /// Sends CONNECT to `/` and waits for its answer.
    async fn connect(&mut self) -> Res<()> {
        self.send("40");
        let p = self.packet().await?;
        if p.kind == 0 {
            Ok(())
        } else {
            Err(format!("CONNECT answered with type {}", p.kind))
        }
    }

    fn send(&self, text: &str) {
        let _ = self.out.send(Out::Text(text.to_owned()));
    }

    /// Emits `event` with `args` (JSON array text without the event) and attachments,
    /// asking for an ack; its id.
    fn emit_ack(&mut self, event: &str, args: &str, bins: Vec<Vec<u8>>) -> u64 {
        let id = self.next_ack;
        self.next_ack += 1;
        let sep = if args.is_empty() { "" } else { "," };
        if bins.is_empty() {
            self.send(&format!("42{id}[\"{event}\"{sep}{args}]"));
        } else {
            self.send(&format!("45{}-{id}[\"{event}\"{sep}{args}]", bins.len()));
            for b in bins {
                let _ = self.out.send(Out::Bin(b));
            }
        }
        id
    }

    /// Waits for the ack `id`, recording events that come meanwhile.
    async fn ack(&mut self, id: u64, seen: &mut Seen) -> Res<Packet> {
        loop {
            let p = self.packet().await?;
            match p.kind {
                3 | 6 if p.id == Some(id) => return Ok(p),
                2 | 5 => seen.record(&p),
                1 => return Err("closed".into()),
                k => return Err(format!("unexpected packet type {k}")),
            }
        }
    }
}

impl Seen {
    fn record(&mut self, p: &Packet) {
        match p.data.get(0).and_then(Value::as_str) {
            Some("tick") => {
                if let Some(n) = p.data.get(1).and_then(Value::as_u64) {
                    self.ticks.push(n)
                }
            }
            Some("shout") => self.shouts += 1,
            _ => {}
        }
    }
}

/// Counters of one run.
#[derive(Default)]
struct Counts {
    clients: AtomicU64,
    by_kind: [AtomicU64; 3],
    connect_failures: AtomicU64,
    early_drops: AtomicU64,
    text_acks: AtomicU64,
    binary_acks: AtomicU64,
    acks_bad: AtomicU64,
    acks_lost: AtomicU64,
    dropped_by_server: AtomicU64,
    joins: AtomicU64,
    leaves: AtomicU64,
    shouts: AtomicU64,
    shouts_received: AtomicU64,
    clean_closes: AtomicU64,
    abrupt_closes: AtomicU64,
    abrupt_in_flight: AtomicU64,
    first_errors: Mutex<Vec<String>>,
}

impl Counts {
    fn error(&self, counter: &AtomicU64, what: String) {
        counter.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_errors.lock().unwrap();
        if first.len() < 10 {
            first.push(what);
        }
    }
}

/// The result of waiting for an ack: fine, or counted as lost (connection up) or dropped.
fn ack_failed(counts: &Counts, conn_err: String, what: &str) {
    if conn_err == "closed" {
        counts.dropped_by_server.fetch_add(1, Ordering::Relaxed);
    } else {
        counts.error(&counts.acks_lost, format!("{what}: {conn_err}"));
    }
}

/// A text echo (`true`) or a binary echo (`false`), checked. `false` when the client is done.
async fn echo(conn: &mut Conn, counts: &Counts, seen: &mut Seen, n: u64, binary: bool) -> bool {
    let (args, bins) = if binary {
        let len = rand::rng().random_range(1..2048);
        let bytes: Vec<u8> = (0..len).map(|_| rand::rng().random()).collect();
        (
            json!({"n": n, "b": {"_placeholder": true, "num": 0}}).to_string(),
            vec![bytes],
        )
    } else {
        (json!({"n": n, "s": "soak ✓ text"}).to_string(), vec![])
    };
    let id = conn.emit_ack("echo", &args, bins.clone());
    match conn.ack(id, seen).await {
        Ok(p) => {
            let want: Value = serde_json::from_str(&format!("[{args}]")).unwrap();
            if p.data == want && p.bins == bins {
                let c = if binary {
                    &counts.binary_acks
                } else {
                    &counts.text_acks
                };
                c.fetch_add(1, Ordering::Relaxed);
            } else {
                counts.error(
                    &counts.acks_bad,
                    format!("echo ack {} (+{} bins) for {args}", p.data, p.bins.len()),
                );
            }
            true
        }
        Err(e) => {
            ack_failed(counts, e, "echo");
            false
        }
    }
}

/// Acks `true` of join/leave/shout; `false` when the client is done.
async fn simple(conn: &mut Conn, counts: &Counts, seen: &mut Seen, ev: &str, args: &str) -> bool {
    let id = conn.emit_ack(ev, args, vec![]);
    match conn.ack(id, seen).await {
        Ok(p) if p.data == json!([true]) => true,
        Ok(p) => {
            counts.error(&counts.acks_bad, format!("{ev} ack {}", p.data));
            true
        }
        Err(e) => {
            ack_failed(counts, e, ev);
            false
        }
    }
}

/// One churn client, start to end.
async fn churn_client(port: u16, counts: Arc<Counts>) {
    let (kind, life, ending, early) = {
        let mut r = rand::rng();
        (
            KINDS[r.random_range(0..3)],
            Duration::from_millis(r.random_range(300..3000)),
            r.random_range(0..4u8),
            r.random_range(0..20u8) == 0,
        )
    };
    counts.clients.fetch_add(1, Ordering::Relaxed);
    counts.by_kind[kind as usize].fetch_add(1, Ordering::Relaxed);
    let mut conn = match open(port, kind).await {
        Ok(c) => c,
        Err(e) => return counts.error(&counts.connect_failures, format!("{kind:?} open: {e}")),
    };
    if early {
        counts.early_drops.fetch_add(1, Ordering::Relaxed);
        return; // dropped before joining a namespace
    }
    if let Err(e) = conn.connect().await {
        return counts.error(&counts.connect_failures, format!("{kind:?} CONNECT: {e}"));
    }
    let mut seen = Seen::default();
    let mut joined: Vec<u32> = Vec::new();
    let end = Instant::now() + life;
    let mut n = 0;
    while Instant::now() < end {
        n += 1;
        let (op, room) = {
            let mut r = rand::rng();
            (r.random_range(0..100u8), r.random_range(0..10u32))
        };
        let alive = match op {
            0..40 => echo(&mut conn, &counts, &mut seen, n, false).await,
            40..65 => echo(&mut conn, &counts, &mut seen, n, true).await,
            65..80 => {
                joined.push(room);
                counts.joins.fetch_add(1, Ordering::Relaxed);
                simple(
                    &mut conn,
                    &counts,
                    &mut seen,
                    "join",
                    &format!("\"r{room}\""),
                )
                .await
            }
            80..90 => match joined.pop() {
                Some(room) => {
                    counts.leaves.fetch_add(1, Ordering::Relaxed);
                    simple(
                        &mut conn,
                        &counts,
                        &mut seen,
                        "leave",
                        &format!("\"r{room}\""),
                    )
                    .await
                }
                None => true,
            },
            _ => {
                counts.shouts.fetch_add(1, Ordering::Relaxed);
                let args = format!("\"r{room}\",{}", json!({"from": n, "b": [1, 2, 3]}));
                simple(&mut conn, &counts, &mut seen, "shout", &args).await
            }
        };
        if !alive {
            counts
                .shouts_received
                .fetch_add(seen.shouts, Ordering::Relaxed);
            return;
        }
    }
    counts
        .shouts_received
        .fetch_add(seen.shouts, Ordering::Relaxed);
    match ending {
        0 | 1 => {
            counts.clean_closes.fetch_add(1, Ordering::Relaxed);
            conn.send("41");
            let _ = conn.out.send(Out::Close);
            // let the writer send both before the tasks go
            let tasks = std::mem::take(&mut conn.tasks);
            drop(conn);
            for t in tasks {
                let _ = tokio::time::timeout(Duration::from_secs(2), t).await;
            }
        }
        2 => {
            counts.abrupt_closes.fetch_add(1, Ordering::Relaxed);
        }
        _ => {
            counts.abrupt_in_flight.fetch_add(1, Ordering::Relaxed);
            conn.emit_ack("echo", "\"left behind\"", vec![]);
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

/// A stable member of room `stable`: echoes now and then, records ticks until `stop`.
async fn stable_client(
    port: u16,
    kind: Kind,
    stop: Arc<AtomicBool>,
    counts: Arc<Counts>,
) -> Res<Seen> {
    let born = Instant::now();
    let mut conn = open(port, kind).await?;
    conn.connect().await?;
    let mut seen = Seen::default();
    if !simple(&mut conn, &counts, &mut seen, "join", "\"stable\"").await {
        return Err("join failed".into());
    }
    let mut n = 0;
    let mut last_echo = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if last_echo.elapsed() > Duration::from_millis(500) {
            n += 1;
            if !echo(&mut conn, &counts, &mut seen, n, n % 2 == 0).await {
                return Err(format!(
                    "{kind:?} stable client lost its connection after {:.1} s",
                    born.elapsed().as_secs_f64()
                ));
            }
            last_echo = Instant::now();
        }
        match tokio::time::timeout(Duration::from_millis(100), conn.packet()).await {
            Ok(Ok(p)) => seen.record(&p),
            Ok(Err(e)) if e.starts_with("nothing") => {}
            Ok(Err(e)) => {
                return Err(format!(
                    "{kind:?} stable client: {e} after {:.1} s",
                    born.elapsed().as_secs_f64()
                ))
            }
            Err(_) => {}
        }
    }
    // drain the ticks still on their way
    while let Ok(Ok(p)) = tokio::time::timeout(Duration::from_secs(2), conn.packet()).await {
        seen.record(&p);
    }
    if n % 2 == 0 {
        conn.send("41");
        let _ = conn.out.send(Out::Close);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Ok(seen)
}

/// Emits `tick` N every 20 ms until `stop`; the ticks acked as sent to room `stable`.
async fn ticker(port: u16, stop: Arc<AtomicBool>, counts: Arc<Counts>) -> Res<Vec<u64>> {
    let mut conn = open(port, Kind::Ws).await?;
    conn.connect().await?;
    let mut seen = Seen::default();
    let mut acked = Vec::new();
    let mut seq = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let id = conn.emit_ack("tick", &seq.to_string(), vec![]);
        match conn.ack(id, &mut seen).await {
            Ok(p) if p.data == json!([seq, true]) => acked.push(seq),
            Ok(p) => counts.error(&counts.acks_bad, format!("tick ack {}", p.data)),
            Err(e) => return Err(format!("ticker: {e}")),
        }
        seq += 1;
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    Ok(acked)
}

async fn stats(port: u16) -> Res<Value> {
    let (status, body) = http(port, "GET", "/stats", b"").await?;
    if status != 200 {
        return Err(format!("/stats status {status}"));
    }
    serde_json::from_slice(&body).map_err(|e| format!("/stats: {e}"))
}

fn num(v: &Value, k: &str) -> u64 {
    v[k].as_u64().unwrap_or(u64::MAX)
}

/// One run: churn and stable clients for `secs`, then the settle; its report and failures.
async fn run(port: u16, name: &str, secs: u64, opts: &Opts, idle: &Value) -> (Value, Vec<String>) {
    let idle_tasks = num(idle, "tasks");
    let heartbeat_ms = idle["heartbeat_ms"].as_u64().unwrap_or(3000);
    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut failures = Vec::new();
    let stable: Vec<_> = (0..opts.stable)
        .map(|i| {
            tokio::spawn(stable_client(
                port,
                KINDS[i % 3],
                stop.clone(),
                counts.clone(),
            ))
        })
        .collect();
    // let the stable clients join before the first tick
    tokio::time::sleep(Duration::from_secs(1)).await;
    let tick = tokio::spawn(ticker(port, stop.clone(), counts.clone()));
    let started = Instant::now();
    let permits = Arc::new(Semaphore::new(opts.concurrency));
    let mut peak_sessions = 0;
    let mut last_sample = Instant::now();
    while started.elapsed() < Duration::from_secs(secs) {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let counts = counts.clone();
        tokio::spawn(async move {
            churn_client(port, counts).await;
            drop(permit);
        });
        if last_sample.elapsed() > Duration::from_secs(2) {
            last_sample = Instant::now();
            if let Ok(s) = stats(port).await {
                peak_sessions = peak_sessions.max(num(&s, "sessions"));
            }
        }
    }
    // every churn client done
    let _ = tokio::time::timeout(
        Duration::from_secs(30),
        permits.acquire_many(opts.concurrency as u32),
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    let acked = match tick.await.unwrap() {
        Ok(a) => a,
        Err(e) => {
            failures.push(e);
            Vec::new()
        }
    };
    let mut stable_missing = 0;
    let mut stable_dups = 0;
    let mut stable_ok = 0;
    for s in stable {
        match s.await.unwrap() {
            Ok(seen) => {
                let got: HashSet<u64> = seen.ticks.iter().copied().collect();
                stable_dups += seen.ticks.len() - got.len();
                stable_missing += acked.iter().filter(|t| !got.contains(t)).count();
                stable_ok += 1;
            }
            Err(e) => failures.push(e),
        }
    }
    // settle: abandoned sessions end after ping interval + ping timeout
    let settle_start = Instant::now();
    tokio::time::sleep(Duration::from_millis(heartbeat_ms + 1000)).await;
    let mut after = stats(port).await.unwrap_or(Value::Null);
    while settle_start.elapsed() < Duration::from_millis(heartbeat_ms + 15_000)
        && (num(&after, "sessions") != 0
            || num(&after, "sockets") != 0
            || num(&after, "rooms") != 0
            || num(&after, "tasks") > idle_tasks + 5)
    {
        tokio::time::sleep(Duration::from_millis(250)).await;
        after = stats(port).await.unwrap_or(Value::Null);
    }
    let c = &counts;
    let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
    for (what, n) in [
        ("acks with a wrong payload", g(&c.acks_bad)),
        ("acks lost on a live connection", g(&c.acks_lost)),
        ("failed connects", g(&c.connect_failures)),
        ("ticks missing at stable clients", stable_missing as u64),
        ("ticks received twice by stable clients", stable_dups as u64),
    ] {
        if n > 0 {
            failures.push(format!("{name}: {n} {what}"));
        }
    }
    if acked.is_empty() {
        failures.push(format!("{name}: no tick acked"));
    }
    for k in ["sessions", "sockets", "rooms"] {
        if num(&after, k) != 0 {
            failures.push(format!("{name}: {k} = {} after settling", after[k]));
        }
    }
    if num(&after, "tasks") > idle_tasks + 5 {
        failures.push(format!(
            "{name}: {} tokio tasks after settling, {idle_tasks} when idle",
            after["tasks"]
        ));
    }
    let report = json!({
        "run": name,
        "secs": secs,
        "clients": g(&c.clients),
        "ws": g(&c.by_kind[0]), "polling": g(&c.by_kind[1]), "upgrade": g(&c.by_kind[2]),
        "peak_sessions": peak_sessions,
        "text_acks": g(&c.text_acks),
        "binary_acks": g(&c.binary_acks),
        "joins": g(&c.joins), "leaves": g(&c.leaves),
        "shouts": g(&c.shouts), "shouts_received": g(&c.shouts_received),
        "clean_closes": g(&c.clean_closes),
        "abrupt_closes": g(&c.abrupt_closes),
        "abrupt_with_ack_in_flight": g(&c.abrupt_in_flight),
        "dropped_before_connect": g(&c.early_drops),
        "dropped_by_server": g(&c.dropped_by_server),
        "connect_failures": g(&c.connect_failures),
        "acks_bad": g(&c.acks_bad),
        "acks_lost": g(&c.acks_lost),
        "ticks_acked": acked.len(),
        "stable_clients_ok": stable_ok,
        "stable_ticks_missing": stable_missing,
        "stable_ticks_duplicated": stable_dups,
        "settle_ms": settle_start.elapsed().as_millis() as u64,
        "after": after,
        "first_errors": *c.first_errors.lock().unwrap(),
    });
    (report, failures)
}

struct Opts {
    port: u16,
    secs: u64,
    warmup: u64,
    concurrency: usize,
    stable: usize,
    rss_growth_pct: u64,
}

fn opts() -> Opts {
    let map: HashMap<String, String> = std::env::args()
        .skip(1)
        .filter_map(|a| a.split_once('=').map(|(k, v)| (k.to_owned(), v.to_owned())))
        .collect();
    let get = |k: &str, d: u64| -> u64 {
        map.get(k).map_or(d, |v| {
            v.parse().unwrap_or_else(|_| {
                eprintln!("soak: {k}={v} is not a number");
                std::process::exit(2)
            })
        })
    };
    let secs = get("secs", 600);
    Opts {
        port: get("port", 3190) as u16,
        secs,
        warmup: get("warmup", (secs / 2).min(120)),
        concurrency: get("concurrency", 200).max(1) as usize,
        stable: get("stable", 24).max(1) as usize,
        rss_growth_pct: get("rss_growth_pct", 20),
    }
}

#[tokio::main]
async fn main() {
    let opts = opts();
    let port = opts.port;
    let deadline = Instant::now() + Duration::from_secs(30);
    let idle = loop {
        match stats(port).await {
            Ok(s) => break s,
            Err(e) if Instant::now() > deadline => {
                eprintln!("soak: server on port {port} not answering: {e}");
                std::process::exit(1)
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    let idle_tasks = num(&idle, "tasks");
    println!("{}", json!({"run": "idle", "stats": idle}));
    let mut failures = Vec::new();
    let (warm, f) = run(port, "warmup", opts.warmup, &opts, &idle).await;
    println!("{warm}");
    failures.extend(f);
    let (main_run, f) = run(port, "main", opts.secs, &opts, &idle).await;
    println!("{main_run}");
    failures.extend(f);
    let rss_warm = num(&warm["after"], "rss_kib");
    let rss_main = num(&main_run["after"], "rss_kib");
    let bound = rss_warm + rss_warm * opts.rss_growth_pct / 100;
    if rss_main > bound {
        failures.push(format!(
            "RSS grew from {rss_warm} KiB after the warm-up to {rss_main} KiB after the main run \
             (bound {bound} KiB, +{} %)",
            opts.rss_growth_pct
        ));
    }
    println!(
        "{}",
        json!({
            "summary": {
                "clients": num(&warm, "clients") + num(&main_run, "clients"),
                "rss_kib_idle": num(&idle, "rss_kib"),
                "rss_kib_after_warmup": rss_warm,
                "rss_kib_after_main": rss_main,
                "tasks_idle": idle_tasks,
                "tasks_after_main": num(&main_run["after"], "tasks"),
                "failures": failures,
            }
        })
    );
    if failures.is_empty() {
        println!("soak: PASS");
    } else {
        println!("soak: FAIL");
        std::process::exit(1);
    }
}
