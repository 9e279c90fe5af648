//! Small raw clients for the protocol tests: an Engine.IO v4 long-polling client, a WebSocket
//! client, and a transport-independent [`Conn`] with Socket.IO v5 packet helpers.
//!
//! Nothing here speaks "socket.io-client": every packet is written and read as raw text or bytes so
//! the tests can check the exact wire format.
//!
//! Every wait is time-bounded: [`WAIT`] for things that must arrive, [`QUIET`] only where a test
//! asserts that nothing arrives. Helpers named `expect_*` are test assertions: they panic with a
//! message describing what was expected and what came instead.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::stream::SplitSink;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Mutex};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long something that should arrive may take (generous: the machine may be loaded).
pub const WAIT: Duration = Duration::from_secs(5);
/// How long to watch when asserting that nothing arrives.
pub const QUIET: Duration = Duration::from_millis(400);
/// The Engine.IO v4 payload separator (polling transport).
pub const SEP: char = '\u{1e}';

// ---------------------------------------------------------------------------------------------
// base64 (standard alphabet, padded): the polling transport carries binary packets as `b<base64>`.
// ---------------------------------------------------------------------------------------------

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard padded base64 encoding.
pub fn b64_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            B64[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            B64[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// Standard base64 decoding (padding optional).
pub fn b64_decode(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.trim_end_matches('=').bytes() {
        let v = B64
            .iter()
            .position(|&x| x == c)
            .ok_or_else(|| format!("invalid base64 character {:?} in {text:?}", c as char))?;
        acc = (acc << 6) | v as u32;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Engine.IO packets and the v4 polling payload format
// ---------------------------------------------------------------------------------------------

/// One Engine.IO packet as seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EioPacket {
    /// A text packet, type digit included (`"4hello"`, `"2"`, `"0{...}"`).
    Text(String),
    /// A binary message (no type byte in v4: `b<base64>` on polling, a binary frame on websocket).
    Binary(Vec<u8>),
}

impl EioPacket {
    /// A text packet.
    pub fn text(s: impl Into<String>) -> Self {
        EioPacket::Text(s.into())
    }

    /// A binary message packet.
    pub fn binary(b: impl Into<Vec<u8>>) -> Self {
        EioPacket::Binary(b.into())
    }
}

/// Encodes packets as one v4 polling payload: joined by `\x1e`, binary as `b` + base64.
pub fn encode_payload(packets: &[EioPacket]) -> String {
    let parts: Vec<String> = packets
        .iter()
        .map(|p| match p {
            EioPacket::Text(t) => t.clone(),
            EioPacket::Binary(b) => format!("b{}", b64_encode(b)),
        })
        .collect();
    parts.join(&SEP.to_string())
}

/// Decodes one v4 polling payload.
pub fn decode_payload(body: &str) -> Result<Vec<EioPacket>, String> {
    if body.is_empty() {
        return Err("empty polling payload".to_string());
    }
    body.split(SEP)
        .map(|part| match part.strip_prefix('b') {
            Some(b64) => b64_decode(b64).map(EioPacket::Binary),
            None if part.is_empty() => Err(format!("empty packet in payload {body:?}")),
            None => Ok(EioPacket::Text(part.to_string())),
        })
        .collect()
}

/// Parses an Engine.IO open packet (`0{...}`) and returns its JSON object.
pub fn parse_open_packet(text: &str) -> serde_json::Value {
    let json = text
        .strip_prefix('0')
        .unwrap_or_else(|| panic!("expected an Engine.IO open packet `0{{...}}`, got {text:?}"));
    let value: serde_json::Value = serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("open packet is not JSON ({e}): {text:?}"));
    assert!(
        value.is_object(),
        "open packet payload is not an object: {text:?}"
    );
    value
}

// ---------------------------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------------------------

/// A complete HTTP response.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Response headers.
    pub headers: http::HeaderMap,
    /// Full body.
    pub body: Bytes,
}

impl HttpResponse {
    /// The body as (lossy) UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header value as a string, if present and valid.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }

    /// The body parsed as JSON (assertion).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "expected a JSON body ({e}), got status {} body {:?}",
                self.status,
                self.text()
            )
        })
    }

    /// Asserts an Engine.IO error response: `status` and a JSON body `{"code": code, "message": message}`.
    pub fn assert_engine_error(&self, status: u16, code: i64, message: &str) {
        assert_eq!(
            self.status,
            status,
            "expected HTTP {status} (engine.io error code {code}), got {} with body {:?}",
            self.status,
            self.text()
        );
        let json = self.json();
        assert_eq!(
            json.get("code").and_then(|c| c.as_i64()),
            Some(code),
            "wrong engine.io error code in {json}"
        );
        assert_eq!(
            json.get("message").and_then(|m| m.as_str()),
            Some(message),
            "wrong engine.io error message in {json}"
        );
    }
}

/// A small HTTP/1.1 client (hyper-util legacy client, connection pool per instance).
#[derive(Clone)]
pub struct Http {
    client: Client<HttpConnector, Full<Bytes>>,
}

impl Default for Http {
    fn default() -> Self {
        Self::new()
    }
}

impl Http {
    /// A new client with its own connection pool.
    pub fn new() -> Self {
        Http {
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Sends one request and reads the whole response, within `timeout`.
    pub async fn try_request_within(
        &self,
        method: http::Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Bytes,
        timeout: Duration,
    ) -> Result<HttpResponse, String> {
        let mut builder = http::Request::builder().method(method.clone()).uri(url);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        let request = builder
            .body(Full::new(body))
            .map_err(|e| format!("bad request: {e}"))?;
        let fut = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| format!("{method} {url}: {e:?}"))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| format!("{method} {url}: reading body: {e:?}"))?
                .to_bytes();
            Ok(HttpResponse {
                status,
                headers,
                body,
            })
        };
        tokio::time::timeout(timeout, fut)
            .await
            .map_err(|_| format!("{method} {url}: no complete response within {timeout:?}"))?
    }

    /// Sends one request (within [`WAIT`]); `Err` on transport failure or timeout.
    pub async fn try_request(
        &self,
        method: http::Method,
        url: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> Result<HttpResponse, String> {
        self.try_request_within(method, url, headers, body.into(), WAIT)
            .await
    }

    /// Sends one request (within [`WAIT`]); a transport failure fails the test.
    pub async fn request(
        &self,
        method: http::Method,
        url: &str,
        headers: &[(&str, &str)],
        body: impl Into<Bytes>,
    ) -> HttpResponse {
        match self.try_request(method, url, headers, body).await {
            Ok(r) => r,
            Err(e) => panic!("HTTP request failed: {e}"),
        }
    }

    /// `GET url`.
    pub async fn get(&self, url: &str) -> HttpResponse {
        self.request(http::Method::GET, url, &[], Bytes::new())
            .await
    }

    /// `POST url` with a `text/plain` body.
    pub async fn post(&self, url: &str, body: impl Into<Bytes>) -> HttpResponse {
        self.request(
            http::Method::POST,
            url,
            &[("content-type", "text/plain;charset=UTF-8")],
            body,
        )
        .await
    }
}

// ---------------------------------------------------------------------------------------------
// Engine.IO long-polling client
// ---------------------------------------------------------------------------------------------

/// `http://ADDR/socket.io/?EIO=4&transport=polling` (the handshake URL).
pub fn polling_url(addr: SocketAddr) -> String {
    format!("http://{addr}/socket.io/?EIO=4&transport=polling")
}

/// `http://ADDR/socket.io/?{query}` (for malformed requests).
pub fn engine_url(addr: SocketAddr, query: &str) -> String {
    format!("http://{addr}/socket.io/?{query}")
}

/// An open Engine.IO session over HTTP long-polling, driven by hand: each call is one request.
#[derive(Clone)]
pub struct Polling {
    /// The HTTP client (its own connection pool).
    pub http: Http,
    /// The server address.
    pub addr: SocketAddr,
    /// The session id from the open packet.
    pub sid: String,
    /// The open packet's JSON object.
    pub open: serde_json::Value,
    /// Serialises POSTs: engine.io rejects overlapping data requests on one session.
    post_lock: Arc<Mutex<()>>,
}

impl Polling {
    /// Handshakes (`GET ...&transport=polling`) and asserts a well-formed open packet.
    pub async fn open(addr: SocketAddr) -> Polling {
        let http = Http::new();
        let response = http.get(&polling_url(addr)).await;
        assert_eq!(
            response.status,
            200,
            "polling handshake failed: {:?}",
            response.text()
        );
        let body = response.text();
        assert!(
            !body.contains(SEP),
            "the handshake response must hold only the open packet, got {body:?}"
        );
        let open = parse_open_packet(&body);
        let sid = open
            .get("sid")
            .and_then(|s| s.as_str())
            .unwrap_or_else(|| panic!("open packet without a string sid: {open}"))
            .to_string();
        Polling {
            http,
            addr,
            sid,
            open,
            post_lock: Arc::new(Mutex::new(())),
        }
    }

    /// The session URL (`...&transport=polling&sid=SID`).
    pub fn url(&self) -> String {
        format!("{}&sid={}", polling_url(self.addr), self.sid)
    }

    /// One raw GET on the session.
    pub async fn get(&self) -> HttpResponse {
        self.http.get(&self.url()).await
    }

    /// One raw GET on the session; `Err` on transport failure.
    pub async fn try_get(&self) -> Result<HttpResponse, String> {
        self.http
            .try_request(http::Method::GET, &self.url(), &[], Bytes::new())
            .await
    }

    /// One raw POST on the session.
    pub async fn post(&self, body: impl Into<Bytes>) -> HttpResponse {
        let _guard = self.post_lock.lock().await;
        self.http.post(&self.url(), body).await
    }

    /// GET that must succeed: the decoded packets.
    pub async fn poll(&self) -> Vec<EioPacket> {
        let response = self.get().await;
        assert_eq!(response.status, 200, "poll failed: {:?}", response.text());
        decode_payload(&response.text())
            .unwrap_or_else(|e| panic!("bad polling payload from the server: {e}"))
    }

    /// POST of `packets` as one payload that must be accepted (`200 ok`).
    pub async fn send(&self, packets: &[EioPacket]) {
        let response = self.post(encode_payload(packets)).await;
        assert_eq!(
            response.status,
            200,
            "POST of {packets:?} rejected: {:?}",
            response.text()
        );
        assert_eq!(response.text(), "ok", "a successful POST answers `ok`");
    }

    /// POST of one text packet that must be accepted.
    pub async fn send_text(&self, packet: &str) {
        self.send(&[EioPacket::text(packet)]).await;
    }

    /// Polls (answering pings with pongs) until a packet that `pred` accepts arrives, within `within`.
    /// Returns that packet and the other non-ping packets read meanwhile (in arrival order; this
    /// includes those after it in the same payload).
    pub async fn poll_until(
        &self,
        within: Duration,
        mut pred: impl FnMut(&EioPacket) -> bool,
    ) -> (EioPacket, Vec<EioPacket>) {
        let deadline = Instant::now() + within;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "expected packet did not arrive within {within:?}; saw {seen:?}"
            );
            let response = self
                .http
                .try_request_within(http::Method::GET, &self.url(), &[], Bytes::new(), left)
                .await
                .unwrap_or_else(|e| panic!("expected packet did not arrive ({e}); saw {seen:?}"));
            assert_eq!(
                response.status,
                200,
                "poll failed: {:?}; saw {seen:?}",
                response.text()
            );
            let packets = decode_payload(&response.text())
                .unwrap_or_else(|e| panic!("bad polling payload from the server: {e}"));
            let mut found = None;
            let mut ping = false;
            for p in packets {
                if found.is_some() {
                    seen.push(p);
                } else if p == EioPacket::text("2") {
                    ping = true;
                } else if pred(&p) {
                    found = Some(p);
                } else {
                    seen.push(p);
                }
            }
            if ping {
                self.send_text("3").await;
            }
            if let Some(p) = found {
                return (p, seen);
            }
        }
    }

    /// Hands the session to a background task that keeps a GET pending, answers pings (when
    /// `auto_pong`) and forwards everything else as [`Event`]s.
    pub fn into_background(self, auto_pong: bool) -> PolledSession {
        let (tx, rx) = mpsc::unbounded_channel();
        let poller = self.clone();
        let task = tokio::spawn(async move {
            loop {
                let response = match poller
                    .http
                    .try_request_within(
                        http::Method::GET,
                        &poller.url(),
                        &[],
                        Bytes::new(),
                        Duration::from_secs(60),
                    )
                    .await
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = tx.send(Event::Closed(format!("poll failed: {e}")));
                        return;
                    }
                };
                if response.status != 200 {
                    let _ = tx.send(Event::Closed(format!(
                        "poll answered HTTP {} {:?}",
                        response.status,
                        response.text()
                    )));
                    return;
                }
                let packets = match decode_payload(&response.text()) {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = tx.send(Event::Closed(format!("bad payload from the server: {e}")));
                        return;
                    }
                };
                for packet in packets {
                    match packet {
                        EioPacket::Text(t) if t == "2" && auto_pong => {
                            let r = poller.post("3").await;
                            if r.status != 200 {
                                let _ =
                                    tx.send(Event::Closed(format!("pong rejected: {}", r.status)));
                                return;
                            }
                        }
                        EioPacket::Text(t) if t == "1" => {
                            let _ = tx.send(Event::Closed("close packet".to_string()));
                            return;
                        }
                        EioPacket::Text(t) => {
                            let _ = tx.send(Event::Text(t));
                        }
                        EioPacket::Binary(b) => {
                            let _ = tx.send(Event::Binary(b));
                        }
                    }
                }
            }
        });
        PolledSession {
            polling: self,
            rx,
            task,
        }
    }
}

/// Something received on a connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A text Engine.IO packet (type digit included).
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// The connection/session ended (the reason, for messages).
    Closed(String),
}

/// A polling session whose GETs run in a background task (see [`Polling::into_background`]).
pub struct PolledSession {
    /// The underlying session (for raw requests and its sid).
    pub polling: Polling,
    rx: mpsc::UnboundedReceiver<Event>,
    task: JoinHandle<()>,
}

impl Drop for PolledSession {
    fn drop(&mut self) {
        self.task.abort();
    }
}

// ---------------------------------------------------------------------------------------------
// WebSocket client
// ---------------------------------------------------------------------------------------------

type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// `ws://ADDR/socket.io/?EIO=4&transport=websocket[&sid=SID]`.
pub fn ws_url(addr: SocketAddr, sid: Option<&str>) -> String {
    match sid {
        Some(sid) => format!("ws://{addr}/socket.io/?EIO=4&transport=websocket&sid={sid}"),
        None => format!("ws://{addr}/socket.io/?EIO=4&transport=websocket"),
    }
}

/// Why a WebSocket connection could not be opened.
#[derive(Debug)]
pub enum WsConnectError {
    /// The server answered the upgrade request with this HTTP status instead of 101.
    Status(u16, String),
    /// Anything else (I/O error, timeout, ...).
    Other(String),
}

/// A WebSocket connection whose reads run in a background task (so pings can be answered even
/// while the test is busy); received frames are forwarded as [`Event`]s.
pub struct Ws {
    sink: Arc<Mutex<SplitSink<WsStream, Message>>>,
    rx: mpsc::UnboundedReceiver<Event>,
    auto_pong: Arc<AtomicBool>,
    task: JoinHandle<()>,
}

impl Drop for Ws {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Ws {
    /// Opens a WebSocket to `url` (within [`WAIT`]). With `auto_pong`, Engine.IO pings (`2`) are
    /// answered (`3`) by the reader task and not forwarded.
    pub async fn try_connect(url: &str, auto_pong: bool) -> Result<Ws, WsConnectError> {
        let (stream, _response) =
            match tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(url)).await {
                Err(_) => {
                    return Err(WsConnectError::Other(format!(
                        "no upgrade answer within {WAIT:?}"
                    )))
                }
                Ok(Err(tungstenite::Error::Http(response))) => {
                    let body = response
                        .body()
                        .as_ref()
                        .map(|b| String::from_utf8_lossy(b).into_owned())
                        .unwrap_or_default();
                    return Err(WsConnectError::Status(response.status().as_u16(), body));
                }
                Ok(Err(e)) => return Err(WsConnectError::Other(format!("{e:?}"))),
                Ok(Ok(ok)) => ok,
            };
        let (sink, mut stream) = stream.split();
        let sink = Arc::new(Mutex::new(sink));
        let auto_pong = Arc::new(AtomicBool::new(auto_pong));
        let (tx, rx) = mpsc::unbounded_channel();
        let task = {
            let sink = sink.clone();
            let auto_pong = auto_pong.clone();
            tokio::spawn(async move {
                loop {
                    let event = match stream.next().await {
                        None => Event::Closed("stream ended".to_string()),
                        Some(Err(e)) => Event::Closed(format!("error: {e}")),
                        Some(Ok(Message::Text(t))) => {
                            if t.as_str() == "2" && auto_pong.load(Ordering::SeqCst) {
                                let mut sink = sink.lock().await;
                                // A failed pong shows up as a close on the next read.
                                let _ = sink.send(Message::text("3")).await;
                                continue;
                            }
                            Event::Text(t.as_str().to_string())
                        }
                        Some(Ok(Message::Binary(b))) => Event::Binary(b.to_vec()),
                        Some(Ok(Message::Close(frame))) => Event::Closed(match frame {
                            Some(f) => {
                                format!("close frame {} {:?}", u16::from(f.code), f.reason.as_str())
                            }
                            None => "close frame without code".to_string(),
                        }),
                        Some(Ok(_)) => continue, // websocket-level ping/pong frames
                    };
                    let closed = matches!(event, Event::Closed(_));
                    if tx.send(event).is_err() || closed {
                        return;
                    }
                }
            })
        };
        Ok(Ws {
            sink,
            rx,
            auto_pong,
            task,
        })
    }

    /// Opens a WebSocket that must succeed.
    pub async fn connect(url: &str, auto_pong: bool) -> Ws {
        match Self::try_connect(url, auto_pong).await {
            Ok(ws) => ws,
            Err(e) => panic!("websocket connection to {url} failed: {e:?}"),
        }
    }

    /// Opens a new Engine.IO session directly over websocket and reads its open packet.
    pub async fn open(addr: SocketAddr, auto_pong: bool) -> (Ws, serde_json::Value) {
        let mut ws = Self::connect(&ws_url(addr, None), auto_pong).await;
        let open = match ws.recv(WAIT).await {
            Some(Event::Text(t)) => parse_open_packet(&t),
            other => panic!("expected the open packet as the first frame, got {other:?}"),
        };
        (ws, open)
    }

    /// Turns automatic pong answers on or off.
    pub fn set_auto_pong(&self, on: bool) {
        self.auto_pong.store(on, Ordering::SeqCst);
    }

    /// Sends one text frame; `false` if the connection is gone.
    pub async fn try_send_text(&self, text: &str) -> bool {
        let mut sink = self.sink.lock().await;
        matches!(
            tokio::time::timeout(WAIT, sink.send(Message::text(text))).await,
            Ok(Ok(()))
        )
    }

    /// Sends one binary frame; `false` if the connection is gone.
    pub async fn try_send_binary(&self, data: &[u8]) -> bool {
        let mut sink = self.sink.lock().await;
        matches!(
            tokio::time::timeout(WAIT, sink.send(Message::binary(data.to_vec()))).await,
            Ok(Ok(()))
        )
    }

    /// Sends one text frame (assertion: the connection is open).
    pub async fn send_text(&self, text: &str) {
        assert!(
            self.try_send_text(text).await,
            "could not send text frame {text:?}"
        );
    }

    /// Sends one binary frame (assertion: the connection is open).
    pub async fn send_binary(&self, data: &[u8]) {
        assert!(
            self.try_send_binary(data).await,
            "could not send a binary frame"
        );
    }

    /// Closes the websocket (close frame), ignoring errors.
    pub async fn close(&self) {
        let mut sink = self.sink.lock().await;
        let _ = tokio::time::timeout(WAIT, sink.close()).await;
    }

    /// The next event within `timeout` (`None` on timeout). After the close, returns `Closed`.
    pub async fn recv(&mut self, timeout: Duration) -> Option<Event> {
        recv_event(&mut self.rx, timeout).await
    }
}

async fn recv_event(rx: &mut mpsc::UnboundedReceiver<Event>, timeout: Duration) -> Option<Event> {
    match tokio::time::timeout(timeout, rx.recv()).await {
        Err(_) => None,
        Ok(Some(event)) => Some(event),
        Ok(None) => Some(Event::Closed("connection already closed".to_string())),
    }
}

// ---------------------------------------------------------------------------------------------
// Transport-independent connection with Socket.IO helpers
// ---------------------------------------------------------------------------------------------

/// Which transport a [`Conn`] uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// HTTP long-polling only (no upgrade).
    Polling,
    /// WebSocket from the start.
    WebSocket,
}

/// An Engine.IO session (either transport) seen as a stream of [`Event`]s; pings are answered
/// automatically unless disabled at creation.
#[allow(clippy::large_enum_variant)]
pub enum Conn {
    /// Over websocket.
    Ws(Ws),
    /// Over long-polling, GETs in the background.
    Polling(PolledSession),
}

impl Conn {
    /// Opens a new Engine.IO session (pings answered automatically) and returns it with its open
    /// packet.
    pub async fn open(addr: SocketAddr, transport: Transport) -> (Conn, serde_json::Value) {
        match transport {
            Transport::WebSocket => {
                let (ws, open) = Ws::open(addr, true).await;
                (Conn::Ws(ws), open)
            }
            Transport::Polling => {
                let polling = Polling::open(addr).await;
                let open = polling.open.clone();
                (Conn::Polling(polling.into_background(true)), open)
            }
        }
    }

    /// Sends one Engine.IO text packet (type digit included, e.g. `"42[\"echo\"]"`).
    pub async fn send_eio(&self, packet: &str) {
        match self {
            Conn::Ws(ws) => ws.send_text(packet).await,
            Conn::Polling(s) => s.polling.send_text(packet).await,
        }
    }

    /// Sends one Engine.IO text packet; `false` if refused (connection closed / HTTP error).
    pub async fn try_send_eio(&self, packet: &str) -> bool {
        match self {
            Conn::Ws(ws) => ws.try_send_text(packet).await,
            Conn::Polling(s) => s.polling.post(packet.to_string()).await.status == 200,
        }
    }

    /// Sends a Socket.IO packet (as an Engine.IO message: `4` + packet).
    pub async fn send_sio(&self, packet: &str) {
        self.send_eio(&format!("4{packet}")).await;
    }

    /// Sends a Socket.IO packet followed by its binary attachments. Over polling everything goes
    /// in one payload (`b<base64>` for the attachments); over websocket as separate frames.
    pub async fn send_sio_with_binary(&self, packet: &str, attachments: &[&[u8]]) {
        match self {
            Conn::Ws(ws) => {
                ws.send_text(&format!("4{packet}")).await;
                for a in attachments {
                    ws.send_binary(a).await;
                }
            }
            Conn::Polling(s) => {
                let mut packets = vec![EioPacket::text(format!("4{packet}"))];
                packets.extend(attachments.iter().map(|a| EioPacket::binary(a.to_vec())));
                s.polling.send(&packets).await;
            }
        }
    }

    /// The next event within `timeout` (`None` on timeout).
    pub async fn recv(&mut self, timeout: Duration) -> Option<Event> {
        match self {
            Conn::Ws(ws) => ws.recv(timeout).await,
            Conn::Polling(s) => recv_event(&mut s.rx, timeout).await,
        }
    }

    /// The next event that is not an Engine.IO noop (`6`), within [`WAIT`].
    async fn next_meaningful(&mut self, what: &str) -> Event {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left).await {
                None => panic!("expected {what} within {WAIT:?}, nothing arrived"),
                Some(Event::Text(t)) if t == "6" => continue,
                Some(event) => return event,
            }
        }
    }

    /// The next Socket.IO packet (text, without the Engine.IO `4`), within [`WAIT`].
    pub async fn expect_sio(&mut self) -> String {
        match self.next_meaningful("a Socket.IO packet").await {
            Event::Text(t) => match t.strip_prefix('4') {
                Some(sio) => sio.to_string(),
                None => {
                    panic!("expected an Engine.IO message carrying a Socket.IO packet, got {t:?}")
                }
            },
            other => panic!("expected a Socket.IO text packet, got {other:?}"),
        }
    }

    /// Asserts that the next Socket.IO packet is exactly `expected`.
    pub async fn expect_sio_eq(&mut self, expected: &str) {
        let got = self.expect_sio().await;
        assert_eq!(got, expected, "unexpected Socket.IO packet");
    }

    /// The next binary message (a Socket.IO attachment), within [`WAIT`].
    pub async fn expect_binary(&mut self) -> Vec<u8> {
        match self.next_meaningful("a binary attachment").await {
            Event::Binary(b) => b,
            other => panic!("expected a binary attachment, got {other:?}"),
        }
    }

    /// Asserts that the connection/session ends within `within`; any other traffic is ignored.
    /// Returns the close description.
    pub async fn expect_closed(&mut self, within: Duration) -> String {
        let deadline = Instant::now() + within;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left).await {
                None => panic!("the connection was not closed within {within:?} (saw {seen:?})"),
                Some(Event::Closed(why)) => return why,
                Some(other) => seen.push(other),
            }
        }
    }

    /// Asserts that no Socket.IO packet arrives for [`QUIET`] (noops are ignored). The connection
    /// closing is reported as `true` (allowed: the caller decides).
    pub async fn expect_no_sio(&mut self) -> bool {
        let deadline = Instant::now() + QUIET;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.recv(left).await {
                None => return false,
                Some(Event::Text(t)) if t == "6" => continue,
                Some(Event::Closed(_)) => return true,
                Some(other) => panic!("expected no Socket.IO packet, got {other:?}"),
            }
        }
    }

    /// CONNECTs to namespace `nsp` (`"/"` or `"/name"`) with an optional auth JSON text, asserts
    /// the CONNECT answer and the server's `"auth"` event, and returns the Socket.IO sid.
    pub async fn connect_ns(&mut self, nsp: &str, auth: Option<&str>) -> String {
        let prefix = nsp_prefix(nsp);
        self.send_sio(&format!("0{prefix}{}", auth.unwrap_or("")))
            .await;
        let answer = self.expect_sio().await;
        let sid = parse_connect_answer(&answer, nsp);
        let expected_auth = auth.unwrap_or("null");
        let event = self.expect_sio().await;
        let args = parse_event(&event, nsp, None);
        let expected: serde_json::Value = serde_json::from_str(expected_auth).expect("auth JSON");
        assert_eq!(
            args,
            serde_json::json!(["auth", expected]),
            "expected the \"auth\" event after connecting to {nsp}, got {event:?}"
        );
        sid
    }
}

/// `""` for `/`, `"/name,"` otherwise: the namespace part of a Socket.IO packet.
pub fn nsp_prefix(nsp: &str) -> String {
    if nsp == "/" {
        String::new()
    } else {
        format!("{nsp},")
    }
}

/// Parses a CONNECT answer `0[nsp,]{"sid":"..."}` for `nsp` and returns the sid (assertion).
pub fn parse_connect_answer(packet: &str, nsp: &str) -> String {
    let expected_prefix = format!("0{}", nsp_prefix(nsp));
    let json = packet.strip_prefix(&expected_prefix).unwrap_or_else(|| {
        panic!("expected a CONNECT packet for {nsp} ({expected_prefix}{{...}}), got {packet:?}")
    });
    let value: serde_json::Value = serde_json::from_str(json)
        .unwrap_or_else(|e| panic!("CONNECT payload is not JSON ({e}): {packet:?}"));
    value
        .get("sid")
        .and_then(|s| s.as_str())
        .unwrap_or_else(|| panic!("CONNECT payload without a string sid: {packet:?}"))
        .to_string()
}

/// Parses an EVENT packet `2[nsp,][id][...]` for `nsp`, asserting the ack id (`None` = absent),
/// and returns its JSON array.
pub fn parse_event(packet: &str, nsp: &str, id: Option<u64>) -> serde_json::Value {
    let (got_id, value) = parse_with_id(packet, '2', nsp);
    assert_eq!(got_id, id, "unexpected ack id in EVENT {packet:?}");
    value
}

/// Splits a `T[nsp,][id]JSON` packet of type `ty` for `nsp` into its id and JSON (assertion).
pub fn parse_with_id(packet: &str, ty: char, nsp: &str) -> (Option<u64>, serde_json::Value) {
    let prefix = format!("{ty}{}", nsp_prefix(nsp));
    let rest = packet
        .strip_prefix(&prefix)
        .unwrap_or_else(|| panic!("expected a packet starting with {prefix:?}, got {packet:?}"));
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let id = if digits.is_empty() {
        None
    } else {
        Some(digits.parse().expect("ack id"))
    };
    let value: serde_json::Value = serde_json::from_str(&rest[digits.len()..])
        .unwrap_or_else(|e| panic!("packet payload is not JSON ({e}): {packet:?}"));
    (id, value)
}
