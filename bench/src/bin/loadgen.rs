//! Load generator speaking Engine.IO v4 / Socket.IO v5 by hand (open packet `0{..}`, server
//! pings `2` answered with `3`, CONNECT `40`, events `42[..]`, acks `43N[..]`), over WebSocket
//! or HTTP long-polling. It only talks to 127.0.0.1, every loop is bounded in count and time,
//! and it prints one JSON line per result.
//!
//! ```text
//! loadgen echo      port=3190 [pid=N] [clients=50] [secs=10] [warmup=1] [transport=websocket]
//! loadgen broadcast port=3190 [pid=N] [receivers=200] [secs=10] [window=20] [max_messages=2000000]
//!                   [receivers_port=P] [pid2=N] [name=broadcast] [room=R] [transport=websocket]
//! loadgen connect   port=3190 [pid=N] [count=2000] [concurrency=50]
//! loadgen idle      port=3190 pid=N   [count=1000] [transport=websocket]
//! ```
//!
//! `transport=polling` speaks Engine.IO v4 long-polling over HTTP/1.1 (plain tokio TCP, no
//! HTTP library): each client keeps one GET pending on a keep-alive connection of its own
//! (pings answered by POSTing `3`), and POSTs its packets, joined with `\x1e`, one POST at a
//! time (servers refuse overlapping ones). In echo and broadcast the POSTs use a second
//! keep-alive connection; in idle each POST (the CONNECT, the pongs) uses a short-lived one,
//! so that an idle client holds one descriptor: 19 000 of them fit a 20 000 file limit. The
//! scenario names in the JSON lines get `-polling` appended (`echo-polling`, ...).
//!
//! `room=R` (broadcast): the receivers join room R (`["join","R"]`) and the emitter's events
//! carry `"room":"R"` in their argument, so that several load generator processes each
//! broadcast to a room of their own; without it, the servers' default room "bench".
//!
//! `broadcast` with `receivers_port=` connects the receivers to that port (another node of a
//! cluster, e.g. two servers on one Redis) and the emitter to `port=`; `pid2=` is the second
//! node's process id (its CPU time is added to the first's) and `name=` the scenario name in
//! the JSON line (`broadcast-redis`, say).
//!
//! With `pid=` (the server's process id) it also reports the server's CPU use over the run and
//! its CPU time per operation, user and system apart, read from `/proc/<pid>/stat`. On loopback
//! most of a small message's cost is the kernel's (system time); the user time is what the
//! server's own code spends. When the server is below 100 % the load generator (one core) was
//! the limit, and the CPU time per operation is the fairer comparison.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::stream::FuturesUnordered;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufStream};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::sync::Notify;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Hard bound on any single wait.
const WAIT: Duration = Duration::from_secs(10);
/// Hard bound on any whole scenario (beyond its configured duration).
const SCENARIO_LIMIT: Duration = Duration::from_secs(240);

/// The payload every event carries besides its counter.
const TEXT: &str = "hello world, this is a benchmark message";

struct Opts(HashMap<String, String>);

impl Opts {
    fn parse() -> (String, Opts) {
        let mut args = std::env::args().skip(1);
        let scenario = args.next().unwrap_or_else(|| usage());
        let map = args
            .map(|a| match a.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => usage(),
            })
            .collect();
        (scenario, Opts(map))
    }

    fn get_str<'a>(&'a self, key: &str, default: &'a str) -> &'a str {
        self.0.get(key).map_or(default, String::as_str)
    }

    fn get(&self, key: &str, default: u64) -> u64 {
        self.0
            .get(key)
            .map(|v| v.parse().unwrap_or_else(|_| usage()))
            .unwrap_or(default)
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: loadgen echo|broadcast|connect|idle port=P [pid=N] [clients=|secs=|warmup=|\
         receivers=|window=|max_messages=|receivers_port=|pid2=|name=|count=|concurrency=]"
    );
    std::process::exit(2)
}

/// CPU time (user, system) of a process in microseconds, from `/proc/<pid>/stat`.
fn cpu_us(pid: &str) -> Option<(u64, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // the command name may hold spaces: the fields after it start behind the last ')'
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let field = |i: usize| fields.get(i)?.parse::<u64>().ok();
    // USER_HZ is 100 on Linux: one tick is 10 ms
    Some((field(11)? * 10_000, field(12)? * 10_000))
}

/// Busy CPU time of the whole machine (all cores) in microseconds, from `/proc/stat`.
fn machine_busy_us() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let fields: Vec<u64> = stat
        .lines()
        .next()?
        .split_whitespace()
        .skip(1)
        .take(8)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: all but idle and iowait
    let busy: u64 = fields.iter().sum::<u64>() - fields.get(3)? - fields.get(4)?;
    Some(busy * 10_000)
}

/// CPU time (user, system) of several processes together, in microseconds; `None` when one of
/// them cannot be read.
fn cpu_us_sum(pids: &[String]) -> Option<(u64, u64)> {
    pids.iter().try_fold((0, 0), |(u, s), pid| {
        let (pu, ps) = cpu_us(pid)?;
        Some((u + pu, s + ps))
    })
}

/// Measures the CPU time of the server (when its pid is known; of all its processes together
/// when it has several, e.g. the nodes of a cluster), of this process and of the whole machine
/// (to tell whether anything else ran meanwhile).
struct CpuMeter {
    pids: Option<Vec<String>>,
    server: Option<(u64, u64)>,
    me: (u64, u64),
    machine: Option<u64>,
    wall: Instant,
}

impl CpuMeter {
    fn start(pid: u64) -> Self {
        Self::start_all(&[pid])
    }

    /// Measures the processes `pids` together (zeros are left out; none left: no server).
    fn start_all(pids: &[u64]) -> Self {
        let pids: Vec<String> = pids
            .iter()
            .filter(|&&p| p != 0)
            .map(u64::to_string)
            .collect();
        let pids = (!pids.is_empty()).then_some(pids);
        CpuMeter {
            server: pids.as_deref().and_then(cpu_us_sum),
            pids,
            me: cpu_us("self").unwrap_or_default(),
            machine: machine_busy_us(),
            wall: Instant::now(),
        }
    }

    /// `,"loadgen_cpu_util":..,"others_cpu_util":..,"server_cpu_util":..,
    /// "server_user_us_per_op":..,"server_sys_us_per_op":..` for `ops` operations.
    fn json(&self, ops: u64) -> String {
        let wall_us = self.wall.elapsed().as_micros() as f64;
        let me = cpu_us("self").unwrap_or_default();
        let me = (me.0 + me.1).saturating_sub(self.me.0 + self.me.1) as f64;
        let machine = match (self.machine, machine_busy_us()) {
            (Some(before), Some(after)) => after.saturating_sub(before) as f64,
            _ => f64::NAN,
        };
        let mut out = format!(r#","loadgen_cpu_util":{:.2}"#, me / wall_us);
        if let (Some(pids), Some(before)) = (&self.pids, self.server) {
            if let Some(after) = cpu_us_sum(pids) {
                let user = after.0.saturating_sub(before.0) as f64;
                let sys = after.1.saturating_sub(before.1) as f64;
                // what neither the server nor the load generator used, in cores
                let others = ((machine - user - sys - me) / wall_us).max(0.0);
                if others.is_finite() {
                    let _ = write!(out, r#","others_cpu_util":{others:.2}"#);
                }
                let ops = ops.max(1) as f64;
                let _ = write!(
                    out,
                    r#","server_cpu_util":{:.2},"server_user_us_per_op":{:.3},"server_sys_us_per_op":{:.3}"#,
                    (user + sys) / wall_us,
                    user / ops,
                    sys / ops
                );
            }
        }
        out
    }
}

/// Connects and joins the main namespace (WS connect, open packet, CONNECT and its answer).
/// `TCP_NODELAY` is on, as in browsers and the official Node client (`ws`). The read buffer is
/// 4 KiB: tungstenite zero-fills its whole read buffer (128 KiB by default) before every read,
/// which would make the load generator, not the server, the bottleneck.
async fn ws_client(port: u64) -> Ws {
    let url = format!("ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket");
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let connecting = tokio_tungstenite::connect_async_with_config(url, Some(config), true);
    let (mut ws, _) = tokio::time::timeout(WAIT, connecting)
        .await
        .expect("connect timeout")
        .expect("connect");
    let open = next_text(&mut ws).await;
    assert!(open.starts_with('0'), "open packet: {open}");
    ws.send(Message::text("40")).await.expect("send CONNECT");
    for _ in 0..100 {
        if next_text(&mut ws).await.starts_with("40") {
            return ws;
        }
    }
    panic!("no CONNECT answer")
}

/// The next text frame, answering Engine.IO pings on the way.
async fn next_text(ws: &mut Ws) -> Utf8Bytes {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("no frame within 10 s")
            .expect("connection closed")
            .expect("read error");
        if let Message::Text(t) = msg {
            if t.as_str() == "2" {
                ws.send(Message::text("3")).await.expect("send pong");
                continue;
            }
            return t;
        }
    }
}

/// The transport the clients use: `transport=websocket` (default) or `transport=polling`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Transport {
    Websocket,
    /// HTTP long-polling; `keep_post`: the POSTs go over a keep-alive connection of their own
    /// (echo, broadcast), or each over a short-lived one (idle: one descriptor per client).
    Polling {
        keep_post: bool,
    },
}

impl Transport {
    /// What the scenario names get appended: `-polling` for polling, nothing for WebSocket.
    fn suffix(self) -> &'static str {
        match self {
            Transport::Websocket => "",
            Transport::Polling { .. } => "-polling",
        }
    }
}

/// How long a long-polling GET may stay pending: above any server's ping interval (25 s by
/// default) with room to spare.
const POLL_WAIT: Duration = Duration::from_secs(60);
/// The most packets one POST carries: python-engineio refuses a payload of more than 16
/// (`Payload.max_decode_packets`).
const MAX_POST_PACKETS: usize = 16;
/// A POST stops taking packets at this size (the servers' default limits are 1 MB or more).
const MAX_POST_BYTES: usize = 64 << 10;
/// How many short-lived POST connections (idle clients' CONNECT and pongs) may be open at
/// once: the server pings every idle client within the same few seconds, and 19 000 pending
/// GETs plus thousands of POST connections would pass a 20 000 descriptor limit.
static SHORT_POSTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(200);
/// The largest response body accepted (a broadcast batch of many packets stays far below).
const MAX_BODY: usize = 64 << 20;

/// One HTTP/1.1 connection to the server, kept alive between requests while the server allows.
struct HttpConn(BufStream<TcpStream>);

fn bad(what: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what.into())
}

impl HttpConn {
    async fn open(port: u64) -> std::io::Result<Self> {
        let tcp = TcpStream::connect(("127.0.0.1", port as u16)).await?;
        tcp.set_nodelay(true)?;
        Ok(HttpConn(BufStream::with_capacity(4096, 1024, tcp)))
    }

    /// Closes with a TCP reset (see [`abort`]): thousands of short-lived POST connections leave
    /// no TIME_WAIT behind.
    fn reset(self) {
        let _ = self.0.get_ref().set_zero_linger();
    }

    /// One request; the status, the body (`Content-Length` or chunked, else up to the close)
    /// and whether the server keeps the connection open.
    async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> std::io::Result<(u16, Vec<u8>, bool)> {
        let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        if method == "POST" {
            let _ = write!(
                head,
                "Content-Type: text/plain;charset=UTF-8\r\nContent-Length: {}\r\n",
                body.len()
            );
        }
        head.push_str("\r\n");
        self.0.write_all(head.as_bytes()).await?;
        self.0.write_all(body).await?;
        self.0.flush().await?;
        let mut line = String::new();
        if self.0.read_line(&mut line).await? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let status = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(format!("status line {line:?}")))?;
        let mut keep = !line.starts_with("HTTP/1.0");
        let (mut len, mut chunked) = (None, false);
        for _ in 0..100 {
            line.clear();
            if self.0.read_line(&mut line).await? == 0 {
                return Err(std::io::ErrorKind::UnexpectedEof.into());
            }
            let Some((name, value)) = line.split_once(':') else {
                if line.trim().is_empty() {
                    break;
                }
                return Err(bad(format!("header line {line:?}")));
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                len = Some(value.parse::<usize>().map_err(|_| bad("content-length"))?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                keep = !value.eq_ignore_ascii_case("close");
            }
        }
        let mut out = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.0.read_line(&mut line).await?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| bad(format!("chunk size {line:?}")))?;
                if size == 0 {
                    // trailers, up to the empty line
                    for _ in 0..100 {
                        line.clear();
                        if self.0.read_line(&mut line).await? == 0 || line.trim().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                if out.len() + size > MAX_BODY {
                    return Err(bad("body too large"));
                }
                let at = out.len();
                out.resize(at + size, 0);
                self.0.read_exact(&mut out[at..]).await?;
                line.clear();
                self.0.read_line(&mut line).await?;
            }
        } else if let Some(len) = len {
            if len > MAX_BODY {
                return Err(bad("body too large"));
            }
            out.resize(len, 0);
            self.0.read_exact(&mut out).await?;
        } else {
            (&mut self.0)
                .take(MAX_BODY as u64)
                .read_to_end(&mut out)
                .await?;
            keep = false;
        }
        Ok((status, out, keep))
    }
}

/// A long-polling client: a reader task keeps one GET pending on its own keep-alive connection
/// (answering pings), a writer task sends the queued packets in one POST at a time (Engine.IO
/// servers refuse overlapping POSTs), joined with `\x1e`.
struct Poll {
    /// Packets received (pings and noops taken out).
    rx: mpsc::UnboundedReceiver<Utf8Bytes>,
    /// Packets to send.
    tx: mpsc::UnboundedSender<String>,
    tasks: [tokio::task::JoinHandle<()>; 2],
}

impl Drop for Poll {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

/// Opens a polling session: the handshake GET, the CONNECT `40` POSTed on the same connection,
/// then that connection becomes the one the GETs wait on.
async fn poll_client(port: u64, keep_post: bool) -> Poll {
    let go = async {
        let mut conn = HttpConn::open(port).await?;
        let (status, body, keep) = conn
            .request("GET", "/socket.io/?EIO=4&transport=polling", b"")
            .await?;
        let body = String::from_utf8(body).map_err(|_| bad("open packet not UTF-8"))?;
        let open = body.split('\x1e').next().unwrap_or("");
        if status != 200 || !open.starts_with('0') {
            return Err(bad(format!("handshake: {status} {body:?}")));
        }
        let sid = serde_json::from_str::<serde_json::Value>(&open[1..])
            .ok()
            .and_then(|v| v["sid"].as_str().map(str::to_owned))
            .ok_or_else(|| bad(format!("no sid in {open:?}")))?;
        let url: Arc<str> = format!("/socket.io/?EIO=4&transport=polling&sid={sid}").into();
        if !keep {
            conn = HttpConn::open(port).await?;
        }
        let (status, body, keep) = conn.request("POST", &url, b"40").await?;
        if status != 200 {
            let body = String::from_utf8_lossy(&body).into_owned();
            return Err(bad(format!("CONNECT POST: {status} {body:?}")));
        }
        if !keep {
            conn = HttpConn::open(port).await?;
        }
        Ok::<_, std::io::Error>((conn, url))
    };
    let (conn, url) = tokio::time::timeout(WAIT, go)
        .await
        .expect("polling handshake timeout")
        .expect("polling handshake");
    let (in_tx, rx) = mpsc::unbounded_channel();
    let (tx, out_rx) = mpsc::unbounded_channel();
    let reader = tokio::spawn(poll_reader(port, conn, url.clone(), in_tx, tx.clone()));
    let writer = tokio::spawn(poll_writer(port, url, out_rx, keep_post));
    Poll {
        rx,
        tx,
        tasks: [reader, writer],
    }
}

/// The GET loop: packets to `out`, pongs to `pong` (the writer). Ends on a close packet, an
/// error (reported) or when no response came within [`POLL_WAIT`]; the client then sees its
/// channel closed.
async fn poll_reader(
    port: u64,
    mut conn: HttpConn,
    url: Arc<str>,
    out: mpsc::UnboundedSender<Utf8Bytes>,
    pong: mpsc::UnboundedSender<String>,
) {
    loop {
        let (status, body, keep) =
            match tokio::time::timeout(POLL_WAIT, conn.request("GET", &url, b"")).await {
                Ok(Ok(r)) => r,
                Ok(Err(e)) => return eprintln!("polling GET: {e}"),
                Err(_) => return eprintln!("polling GET: no response within {POLL_WAIT:?}"),
            };
        if status != 200 {
            let body = String::from_utf8_lossy(&body);
            return eprintln!("polling GET: {status} {body:?}");
        }
        let Ok(body) = String::from_utf8(body) else {
            return eprintln!("polling GET: payload not UTF-8");
        };
        for packet in body.split('\x1e') {
            match packet {
                "2" => {
                    let _ = pong.send("3".to_owned());
                }
                "6" => {}
                "1" => return,
                p => {
                    let _ = out.send(Utf8Bytes::from(p.to_owned()));
                }
            }
        }
        if !keep {
            conn = match HttpConn::open(port).await {
                Ok(c) => c,
                Err(e) => return eprintln!("polling GET reconnect: {e}"),
            };
        }
    }
}

/// The POST loop: what is queued so far (up to [`MAX_POST_PACKETS`]) in one payload, one POST
/// at a time. A request that
/// fails on a kept-alive connection (the server may close an idle one) is sent once more on a
/// new connection.
async fn poll_writer(
    port: u64,
    url: Arc<str>,
    mut rx: mpsc::UnboundedReceiver<String>,
    keep_post: bool,
) {
    let mut conn: Option<HttpConn> = None;
    let mut body = String::with_capacity(256);
    while let Some(first) = rx.recv().await {
        body.clear();
        body.push_str(&first);
        let mut packets = 1;
        while packets < MAX_POST_PACKETS && body.len() < MAX_POST_BYTES {
            let Ok(more) = rx.try_recv() else { break };
            body.push('\x1e');
            body.push_str(&more);
            packets += 1;
        }
        let mut reused = conn.is_some();
        let _slot = match keep_post {
            true => None,
            false => Some(SHORT_POSTS.acquire().await.expect("never closed")),
        };
        loop {
            let c = match &mut conn {
                Some(c) => c,
                None => match HttpConn::open(port).await {
                    Ok(c) => conn.insert(c),
                    Err(e) => return eprintln!("polling POST connect: {e}"),
                },
            };
            match tokio::time::timeout(WAIT, c.request("POST", &url, body.as_bytes())).await {
                Ok(Ok((200, _, keep))) => {
                    if !keep_post || !keep {
                        if let Some(c) = conn.take() {
                            c.reset();
                        }
                    }
                    break;
                }
                Ok(Ok((status, b, _))) => {
                    let b = String::from_utf8_lossy(&b);
                    return eprintln!("polling POST: {status} {b:?}");
                }
                Ok(Err(_)) if reused => {
                    conn = None;
                    reused = false;
                }
                Ok(Err(e)) => return eprintln!("polling POST: {e}"),
                Err(_) => return eprintln!("polling POST: no response within {WAIT:?}"),
            }
        }
    }
}

/// A connected client (namespace "/" joined) on either transport. Not boxed: the WebSocket
/// stays inline, as before polling came (no pointer chase per frame; 19 000 clients take 6 MB).
#[allow(clippy::large_enum_variant)]
enum Client {
    Ws(Ws),
    Poll(Poll),
}

impl Client {
    async fn send(&mut self, text: &str) {
        match self {
            Client::Ws(ws) => ws.send(Message::text(text)).await.expect("send"),
            Client::Poll(p) => p.tx.send(text.to_owned()).expect("polling writer ended"),
        }
    }

    /// The next packet, answering Engine.IO pings on the way.
    async fn next_text(&mut self) -> Utf8Bytes {
        match self {
            Client::Ws(ws) => next_text(ws).await,
            Client::Poll(p) => tokio::time::timeout(WAIT, p.rx.recv())
                .await
                .expect("no packet within 10 s")
                .expect("polling reader ended"),
        }
    }

    async fn close(self) {
        match self {
            Client::Ws(mut ws) => {
                let _ = ws.close(None).await;
            }
            Client::Poll(p) => drop(p),
        }
    }
}

/// Connects and joins the main namespace on `transport`.
async fn client(port: u64, transport: Transport) -> Client {
    match transport {
        Transport::Websocket => Client::Ws(ws_client(port).await),
        Transport::Polling { keep_post } => {
            let mut c = Client::Poll(poll_client(port, keep_post).await);
            for _ in 0..100 {
                if c.next_text().await.starts_with("40") {
                    return c;
                }
            }
            panic!("no CONNECT answer")
        }
    }
}

/// Opens `count` clients, `concurrency` at a time.
async fn open_clients(
    port: u64,
    count: u64,
    concurrency: usize,
    transport: Transport,
) -> Vec<Client> {
    let mut held = Vec::with_capacity(count as usize);
    let mut pending = FuturesUnordered::new();
    for _ in 0..count {
        pending.push(client(port, transport));
        if pending.len() >= concurrency {
            held.push(pending.next().await.unwrap());
        }
    }
    while let Some(ws) = pending.next().await {
        held.push(ws);
    }
    held
}

/// (a) C clients each sending `42N["echo",{..}]` and awaiting `43N[..]`, one in flight each.
/// The first `warmup` seconds are not counted.
async fn echo(port: u64, pid: u64, clients: u64, secs: u64, warmup: u64, transport: Transport) {
    let conns = open_clients(port, clients, 50, transport).await;
    let measure_from = Instant::now() + Duration::from_secs(warmup);
    let deadline = measure_from + Duration::from_secs(secs);
    let meter: Arc<Mutex<Option<CpuMeter>>> = Arc::default();
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|mut ws| {
            let meter = meter.clone();
            tokio::spawn(async move {
                let mut latencies = Vec::with_capacity(1 << 16);
                let mut frame = String::with_capacity(128);
                let mut prefix = String::with_capacity(32);
                for id in 1u64.. {
                    let start = Instant::now();
                    if start >= deadline {
                        break;
                    }
                    let measured = start >= measure_from;
                    if measured && latencies.is_empty() {
                        let mut m = meter.lock().unwrap();
                        if m.is_none() {
                            *m = Some(CpuMeter::start(pid));
                        }
                    }
                    frame.clear();
                    let _ = write!(frame, r#"42{id}["echo",{{"n":{id},"text":"{TEXT}"}}]"#);
                    prefix.clear();
                    let _ = write!(prefix, "43{id}[");
                    ws.send(&frame).await;
                    while !ws.next_text().await.starts_with(prefix.as_str()) {}
                    if measured {
                        latencies.push(start.elapsed().as_micros() as u32);
                    }
                }
                ws.close().await;
                latencies
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        let done = tokio::time::timeout(SCENARIO_LIMIT, t).await;
        all.extend(done.expect("echo clients finish").expect("echo client"));
    }
    let meter = meter.lock().unwrap().take().expect("measurement started");
    let elapsed = meter.wall.elapsed().as_secs_f64();
    let cpu = meter.json(all.len() as u64);
    all.sort_unstable();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .copied()
            .unwrap_or(0)
    };
    println!(
        r#"{{"scenario":"echo{}","clients":{clients},"secs":{secs},"round_trips":{},"round_trips_per_s":{:.0},"p50_us":{},"p99_us":{}{cpu}}}"#,
        transport.suffix(),
        all.len(),
        all.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99)
    );
}

/// The counter `n` of a `42["msg",{"n":N,..}]` frame.
fn msg_counter(text: &str) -> Option<usize> {
    let rest = text.strip_prefix(r#"42["msg",{"#)?;
    // `{"room":"..","n":..}` when the load generator named its room
    let at = rest.find(r#""n":"#)? + 4;
    let digits = &rest[at..];
    let end = digits
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end].parse().ok()
}

/// (b) N receivers join room "bench"; one emitter (not in the room) sends "broadcast" for
/// `secs` seconds (at most `max_messages`), with at most `window` messages not yet received by
/// every receiver. Deliveries are counted at the receivers.
async fn broadcast(b: Broadcast) {
    let Broadcast {
        port,
        receivers_port,
        pids,
        receivers,
        secs,
        window,
        max_messages,
        name,
        room,
        transport,
    } = b;
    // arrived[n]: how many receivers have message n; `all_in` wakes the emitter
    let arrived: Arc<Vec<AtomicU32>> =
        Arc::new((0..max_messages).map(|_| AtomicU32::new(0)).collect());
    let delivered = Arc::new(AtomicU64::new(0));
    let all_in = Arc::new(Notify::new());
    let mut conns = open_clients(receivers_port, receivers, 50, transport).await;
    // the room of this load generator (several processes: one each), or the servers' default
    let (join, room_field) = match &room {
        Some(r) => (format!(r#"421["join","{r}"]"#), format!(r#""room":"{r}","#)),
        None => (r#"421["join"]"#.to_owned(), String::new()),
    };
    // every join sent before the first answer is awaited: 10 000 members join in one pass
    for ws in &mut conns {
        ws.send(&join).await;
    }
    for ws in &mut conns {
        while !ws.next_text().await.starts_with("431") {}
    }
    let tasks: Vec<_> = conns
        .into_iter()
        .map(|mut ws| {
            let (arrived, delivered, all_in) = (arrived.clone(), delivered.clone(), all_in.clone());
            tokio::spawn(async move {
                // ends when aborted (or panics after 10 s without a frame)
                loop {
                    let text = ws.next_text().await;
                    if let Some(n) = msg_counter(&text) {
                        delivered.fetch_add(1, Ordering::Relaxed);
                        if arrived[n].fetch_add(1, Ordering::AcqRel) + 1 == receivers as u32 {
                            all_in.notify_one();
                        }
                    }
                }
            })
        })
        .collect();
    let mut emitter = client(port, transport).await;
    let meter = CpuMeter::start_all(&pids);
    let deadline = Instant::now() + Duration::from_secs(secs);
    let hard_stop = deadline + SCENARIO_LIMIT;
    // waits until every receiver has message `n` (each connection delivers in order)
    let wait_for = |n: u64| {
        let (arrived, all_in) = (arrived.clone(), all_in.clone());
        async move {
            while arrived[n as usize].load(Ordering::Acquire) < receivers as u32 {
                let left = hard_stop.saturating_duration_since(Instant::now());
                assert!(!left.is_zero(), "receivers stalled");
                let _ = tokio::time::timeout(left.min(WAIT), all_in.notified()).await;
            }
        }
    };
    let mut frame = String::with_capacity(128);
    let mut sent = 0;
    while sent < max_messages && Instant::now() < deadline {
        if sent >= window {
            wait_for(sent - window).await;
        }
        frame.clear();
        let _ = write!(
            frame,
            r#"42["broadcast",{{{room_field}"n":{sent},"text":"{TEXT}"}}]"#
        );
        emitter.send(&frame).await;
        sent += 1;
    }
    if sent > 0 {
        wait_for(sent - 1).await;
    }
    let elapsed = meter.wall.elapsed().as_secs_f64();
    let total = delivered.load(Ordering::Relaxed);
    let cpu = meter.json(total);
    for t in &tasks {
        t.abort();
    }
    // Every receiver should get every message once; a server that drops (or repeats)
    // deliveries under load is reported, not hidden in the rate.
    let expected = receivers * sent;
    let (lost, extra) = (
        expected.saturating_sub(total),
        total.saturating_sub(expected),
    );
    if lost + extra > 0 {
        eprintln!("{name}: {lost} deliveries lost, {extra} extra, of {expected}");
    }
    emitter.close().await;
    let name = format!("{name}{}", transport.suffix());
    println!(
        r#"{{"scenario":"{name}","receivers":{receivers},"receivers_port":{receivers_port},"messages":{sent},"window":{window},"deliveries_per_s":{:.0},"expected":{expected},"lost":{lost},"extra":{extra}{cpu}}}"#,
        total as f64 / elapsed
    );
}

/// The parameters of [`broadcast`].
struct Broadcast {
    /// The emitter's server.
    port: u64,
    /// The receivers' server (`port` but for a cluster run).
    receivers_port: u64,
    /// The server processes whose CPU time is measured (0: none).
    pids: [u64; 2],
    receivers: u64,
    secs: u64,
    window: u64,
    max_messages: u64,
    /// The scenario name in the JSON line (`-polling` appended for polling).
    name: String,
    /// The room the receivers join and the emitter names in its events (`"room"` in the
    /// argument); none: the servers' default room "bench".
    room: Option<String>,
    transport: Transport,
}

/// (c) M connection set-ups (WS connect, open, CONNECT answer), `concurrency` at a time; each
/// connection is then reset (see [`abort`]).
async fn connect(port: u64, pid: u64, count: u64, concurrency: u64) {
    let meter = CpuMeter::start(pid);
    let next = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let next = next.clone();
            tokio::spawn(async move {
                while next.fetch_add(1, Ordering::Relaxed) < count {
                    let ws = ws_client(port).await;
                    abort(ws);
                }
            })
        })
        .collect();
    for t in tasks {
        tokio::time::timeout(SCENARIO_LIMIT, t)
            .await
            .expect("connections finish")
            .expect("connector");
    }
    let elapsed = meter.wall.elapsed().as_secs_f64();
    let cpu = meter.json(count);
    println!(
        r#"{{"scenario":"connect","count":{count},"concurrency":{concurrency},"connections_per_s":{:.0}{cpu}}}"#,
        count as f64 / elapsed
    );
}

/// Drops a connection with a TCP reset (`SO_LINGER` 0), so that thousands of set-ups in a row
/// leave no TIME_WAIT behind: on loopback a new connection whose port collides with one of the
/// server's TIME_WAIT entries waits a 1 s SYN retransmission, which made the rate depend on the
/// runs before it.
fn abort(ws: Ws) {
    if let MaybeTlsStream::Plain(tcp) = ws.get_ref() {
        let _ = tcp.set_zero_linger();
    }
}

fn rss_kib(pid: u64) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("server pid");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// (d) N idle connected clients: the server's RSS growth per connection.
async fn idle(port: u64, pid: u64, count: u64, transport: Transport) {
    assert!(pid != 0, "idle needs pid=<server pid>");
    let before = rss_kib(pid);
    let started = Instant::now();
    let held = tokio::time::timeout(SCENARIO_LIMIT, open_clients(port, count, 100, transport))
        .await
        .expect("connections within the limit");
    let open_secs = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid);
    println!(
        r#"{{"scenario":"idle{}","count":{count},"open_secs":{open_secs:.1},"rss_before_kib":{before},"rss_after_kib":{after},"bytes_per_connection":{:.0}}}"#,
        transport.suffix(),
        (after.saturating_sub(before) * 1024) as f64 / count as f64
    );
    drop(held);
}

fn main() {
    let (scenario, o) = Opts::parse();
    let port = o.get("port", 3190);
    let pid = o.get("pid", 0);
    let polling = match o.get_str("transport", "websocket") {
        "websocket" => false,
        "polling" => true,
        _ => usage(),
    };
    // idle clients POST on short-lived connections: one descriptor per client
    let transport = |keep_post| {
        if polling {
            Transport::Polling { keep_post }
        } else {
            Transport::Websocket
        }
    };
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        match scenario.as_str() {
            "echo" => {
                let (c, s, w) = (o.get("clients", 50), o.get("secs", 10), o.get("warmup", 1));
                echo(port, pid, c, s, w, transport(true)).await
            }
            "broadcast" => {
                broadcast(Broadcast {
                    port,
                    receivers_port: o.get("receivers_port", port),
                    pids: [pid, o.get("pid2", 0)],
                    receivers: o.get("receivers", 200),
                    secs: o.get("secs", 10),
                    window: o.get("window", 20).max(1),
                    max_messages: o.get("max_messages", 2_000_000),
                    name: o.get_str("name", "broadcast").to_owned(),
                    room: o.0.get("room").cloned(),
                    transport: transport(true),
                })
                .await
            }
            "connect" if polling => usage(),
            "connect" => {
                let (n, c) = (o.get("count", 2000), o.get("concurrency", 50));
                connect(port, pid, n, c).await
            }
            "idle" => idle(port, pid, o.get("count", 1000), transport(false)).await,
            _ => usage(),
        }
    });
}
