//! The HTTP side of Engine.IO: request validation, CORS, the polling transport, and the
//! hand-off of WebSocket upgrades to [`super::ws`].

use std::future::Future;
use std::io::Write as _;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use futures_util::FutureExt as _;

use bytes::Bytes;
use http::{header, HeaderMap, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use tokio::time;

use super::config::Cors;
use super::packet::Frame;
use super::packet::Incoming;
use super::queue::Next;
use super::sid::Sid;
use super::socket::{
    CloseReason, HandshakeRequest, Protocol, SocketHandle, Transport, FAST_UPGRADE_POLL,
};
use super::ws_conn::WsConn;
use super::{payload, payload_v3};
use super::{Engine, EngineHandler};

/// The body type of every response the server produces.
pub type ResponseBody = Full<Bytes>;

/// Engine.IO's error codes, sent as `{"code": N, "message": "…"}` with a 400.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum EngineError {
    UnknownTransport = 0,
    UnknownSid = 1,
    BadHandshakeMethod = 2,
    BadRequest = 3,
    Forbidden = 4,
    UnsupportedProtocolVersion = 5,
}

impl EngineError {
    fn message(self) -> &'static str {
        match self {
            EngineError::UnknownTransport => "Transport unknown",
            EngineError::UnknownSid => "Session ID unknown",
            EngineError::BadHandshakeMethod => "Bad handshake method",
            EngineError::BadRequest => "Bad request",
            EngineError::Forbidden => "Forbidden",
            EngineError::UnsupportedProtocolVersion => "Unsupported protocol version",
        }
    }

    fn status(self) -> StatusCode {
        match self {
            EngineError::Forbidden => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// The query parameters Engine.IO reads.
#[derive(Debug, Default)]
struct Query {
    eio: Option<String>,
    transport: Option<String>,
    sid: Option<String>,
}

impl Query {
    fn parse(query: Option<&str>) -> Self {
        let mut q = Query::default();
        for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            match &*k {
                "EIO" => q.eio = Some(v.into_owned()),
                "transport" => q.transport = Some(v.into_owned()),
                "sid" => q.sid = Some(v.into_owned()),
                _ => {}
            }
        }
        q
    }
}

impl<H: EngineHandler> Engine<H> {
    /// Entry point for every HTTP request addressed to the Engine.IO path.
    pub(crate) fn handle_request<B>(
        self: Arc<Self>,
        req: Request<B>,
    ) -> impl Future<Output = Response<ResponseBody>> + Send + 'static
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let cors = (self.config.cors != Cors::Disabled).then(|| CorsRequest::read(req.headers()));
        let engine = self.clone();
        // A combinator, not an `async` block or `async fn`: the request then lives in the
        // routing future only (each `async` layer would keep its own copy of what it passes on,
        // for as long as the request is pending, e.g. a long-polling GET).
        self.route(req).map(move |routed| {
            let mut response = match routed {
                Ok(resp) => resp,
                Err(err) => error_response(err),
            };
            if let Some(cors) = cors {
                engine.apply_cors(&cors, response.headers_mut());
            }
            response
        })
    }

    async fn route<B>(
        self: Arc<Self>,
        mut req: Request<B>,
    ) -> Result<Response<ResponseBody>, EngineError>
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if !self.origin_allowed(req.headers()) {
            return Err(EngineError::Forbidden);
        }
        if req.method() == Method::OPTIONS {
            return Ok(Response::builder()
                .status(StatusCode::NO_CONTENT)
                .body(Full::default())
                .unwrap());
        }
        let query = Query::parse(req.uri().query());
        let protocol = match query.eio.as_deref() {
            Some("4") => Protocol::V4,
            Some("3") if self.config.allow_eio3 => Protocol::V3,
            _ => return Err(EngineError::UnsupportedProtocolVersion),
        };
        let transport = match query.transport.as_deref() {
            Some("polling") if self.config.transports.polling => Transport::Polling,
            Some("websocket") if self.config.transports.websocket => Transport::Websocket,
            _ => return Err(EngineError::UnknownTransport),
        };
        let session = match &query.sid {
            None => None,
            Some(sid) => Some(
                sid.parse::<Sid>()
                    .ok()
                    .and_then(|sid| self.session(&sid))
                    // A session past its pong deadline is over, even if the heartbeat timer
                    // has not fired yet.
                    .inspect(|s| {
                        if s.pong_overdue(std::time::Instant::now()) {
                            s.close(CloseReason::PingTimeout);
                        }
                    })
                    // A session that ended on an error is gone for new requests, as in the
                    // reference server (which forgets it at once); see
                    // `EngineSocket::reachable_when_closed` for the closes that linger.
                    .filter(|s| s.reachable_when_closed())
                    .ok_or(EngineError::UnknownSid)?,
            ),
        };
        if session.as_ref().is_some_and(|s| s.protocol != protocol) {
            return Err(EngineError::BadRequest);
        }
        if session.is_none() && self.is_closing() {
            // Shutting down: no new session (503, so a client's reconnection backs off).
            return Ok(Response::builder()
                .status(StatusCode::SERVICE_UNAVAILABLE)
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Full::new(Bytes::from_static(b"server shutting down")))
                .unwrap());
        }
        match (transport, session) {
            (Transport::Websocket, session) => self.websocket(&mut req, session, protocol),
            (Transport::Polling, None) if req.method() == Method::GET => {
                Ok(self.handshake(&req, protocol))
            }
            (Transport::Polling, None) => Err(EngineError::BadHandshakeMethod),
            (Transport::Polling, Some(socket)) => {
                if socket.transport() != Transport::Polling {
                    return Err(EngineError::BadRequest);
                }
                let method = req.method().clone();
                match method {
                    Method::GET => {
                        // The request goes before the wait: its header values are slices of
                        // hyper's read buffer (8 KiB), which it would keep alive for as long as
                        // the GET waits, beside the buffer hyper reads the next request into.
                        let accept_encoding = req.headers().get(header::ACCEPT_ENCODING).map(own);
                        drop(req);
                        self.poll(&socket, accept_encoding).await
                    }
                    Method::POST => {
                        // Boxed: reading and decoding a payload needs a large state, which would
                        // otherwise be part of every request's future, including the GET that
                        // waits for the whole life of an idle polling session.
                        let posting = Box::pin(self.post(&socket, req));
                        posting.await
                    }
                    _ => Err(EngineError::BadHandshakeMethod),
                }
            }
        }
    }

    fn handshake<B>(
        self: &Arc<Self>,
        req: &Request<B>,
        protocol: Protocol,
    ) -> Response<ResponseBody> {
        let (socket, open) =
            self.open_session(Transport::Polling, protocol, handshake_request(req));
        let mut body = String::new();
        encode_frame(protocol, &mut body, &Frame::Text(open.into()));
        let mut resp = self.text_response(body, req.headers().get(header::ACCEPT_ENCODING), true);
        if let Some(name) = &self.config.cookie {
            let cookie = format!("{name}={}; Path=/; HttpOnly; SameSite=Lax", socket.sid);
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                resp.headers_mut().insert(header::SET_COOKIE, v);
            }
        }
        resp
    }

    /// A long-polling GET: waits for at least one frame, then sends all that fit in
    /// `max_payload`. During an upgrade (after the probe) a GET with nothing to send is answered
    /// with a noop within [`FAST_UPGRADE_POLL`]; if the upgrade completes while it waits, it
    /// gets the 400 "Bad request" of any polling request after the upgrade.
    ///
    /// A GET whose connection goes away before it is answered (hyper then drops this future)
    /// ends the session with "transport error", as the reference server does ("poll
    /// connection closed prematurely").
    async fn poll(
        &self,
        socket: &SocketHandle<H::Data>,
        accept_encoding: Option<HeaderValue>,
    ) -> Result<Response<ResponseBody>, EngineError> {
        let Ok(mut outbox) = socket.outbox.try_lock() else {
            tracing::debug!(sid = %socket.sid, "overlapping polling GET");
            socket.close(CloseReason::TransportError);
            return Err(EngineError::BadRequest);
        };
        let mut abandoned = AbandonedPoll(Some(socket));
        let mut next = outbox.held.take();
        // Whether `next` may be compressed (socket.io's `compress` option of its packet).
        let mut next_compress = outbox.held_compress;
        let waiting = PollWaiting::new(socket);
        loop {
            // Register for the wake-up before checking the state, so it cannot be missed.
            let woken = socket.poll_wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if next.is_none() {
                next = socket.queue.try_pop();
                next_compress = socket.queue.last_compress();
            }
            if next.is_some() || socket.is_closed() || socket.transport() != Transport::Polling {
                break;
            }
            let probed = socket.probed.load(Ordering::Acquire);
            tokio::select! {
                queued = socket.queue.next() => match queued {
                    Next::Frame(frame) => {
                        next = Some(frame);
                        next_compress = socket.queue.last_compress();
                    }
                    Next::Closed => break,
                },
                // The upgrade state changed or the session closed: look again.
                _ = &mut woken => {}
                _ = tokio::time::sleep(FAST_UPGRADE_POLL), if probed => break,
            }
        }
        drop(waiting);
        abandoned.0 = None;
        if next.is_none() && !socket.is_closed() && socket.transport() != Transport::Polling {
            // The upgrade completed while this GET waited with nothing to send: polling is no
            // longer the session's transport, as for a GET arriving after the upgrade. (A
            // conforming client never has a GET pending then: it waits for its poll to end
            // before it sends `5`.)
            return Err(EngineError::BadRequest);
        }
        let mut body = String::new();
        // As engine.io: compressed if any packet of the payload may be (the noop and close
        // packets added below are not counted).
        let mut compress = false;
        while let Some(frame) = next.take() {
            if !body.is_empty() && body.len() + 1 + frame.payload_len() > self.config.max_payload {
                outbox.held = Some(frame);
                outbox.held_compress = next_compress;
                break;
            }
            encode_frame(socket.protocol, &mut body, &frame);
            compress |= next_compress;
            next = socket.queue.try_pop();
            next_compress = socket.queue.last_compress();
        }
        // A session the server ended tells the client with a close packet; one the client
        // closed itself just gets its pending GET released (a noop, as the reference does).
        if let Some(reason) = socket.close_reason().filter(|_| outbox.held.is_none()) {
            if reason != CloseReason::TransportClose {
                encode_frame(socket.protocol, &mut body, &Frame::CLOSE);
            }
            socket.close_answered.store(true, Ordering::Release);
            socket.close_delivered.notify_one();
        }
        if body.is_empty() {
            encode_frame(socket.protocol, &mut body, &Frame::NOOP);
        }
        Ok(self.text_response(body, accept_encoding.as_ref(), compress))
    }

    /// A polling POST: decodes the payload and handles each packet.
    async fn post<B>(
        &self,
        socket: &SocketHandle<H::Data>,
        req: Request<B>,
    ) -> Result<Response<ResponseBody>, EngineError>
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        if socket.posting.swap(true, Ordering::AcqRel) {
            tracing::debug!(sid = %socket.sid, "overlapping polling POST");
            socket.close(CloseReason::TransportError);
            return Err(EngineError::BadRequest);
        }
        let result = self.read_post(socket, req).await;
        socket.posting.store(false, Ordering::Release);
        result
    }

    async fn read_post<B>(
        &self,
        socket: &SocketHandle<H::Data>,
        req: Request<B>,
    ) -> Result<Response<ResponseBody>, EngineError>
    where
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        let limit = self.config.max_payload;
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        let too_large = || {
            tracing::debug!(sid = %socket.sid, "polling payload over max_payload");
            socket.close(CloseReason::TransportError);
            Ok(status_response(StatusCode::PAYLOAD_TOO_LARGE))
        };
        if let Some(declared) = declared.filter(|&n| n > limit) {
            // Read (and drop) a moderately oversized body first, so the client finishes writing
            // and reads the 413 instead of a reset connection; a huge one is refused at once.
            if declared <= limit.saturating_mul(4) {
                let mut body = std::pin::pin!(req.into_body());
                let drain = async { while let Some(Ok(_)) = body.frame().await {} };
                let grace = std::time::Duration::from_secs(5).min(self.config.http_body_timeout);
                let _ = tokio::time::timeout(grace, drain).await;
            }
            return too_large();
        }
        // Bounded in size while streaming (not only by Content-Length) and in time: a client
        // that sends its body slowly (slow loris) loses its session after `http_body_timeout`.
        let body = Limited::new(req.into_body(), limit).collect();
        let bytes = match time::timeout(self.config.http_body_timeout, body).await {
            Ok(Ok(collected)) => collected.to_bytes(),
            Ok(Err(err)) if err.is::<http_body_util::LengthLimitError>() => return too_large(),
            Ok(Err(_)) => {
                socket.close(CloseReason::TransportError);
                return Err(EngineError::BadRequest);
            }
            Err(_) => {
                tracing::debug!(sid = %socket.sid, "polling POST body not received in time");
                socket.close(CloseReason::TransportError);
                return Ok(status_response(StatusCode::REQUEST_TIMEOUT));
            }
        };
        let packets: Result<Vec<Incoming<'_>>, _> = match socket.protocol {
            Protocol::V3 if is_binary_payload(&bytes) => payload_v3::decode_binary(&bytes),
            protocol => match std::str::from_utf8(&bytes) {
                Ok(text) if protocol == Protocol::V3 => payload_v3::decode_text(text),
                Ok(text) => payload::decode(text).collect(),
                Err(_) => Err(super::packet::PacketError::Framing),
            },
        };
        let packets = match packets {
            Ok(packets) => packets,
            Err(err) => {
                tracing::debug!(sid = %socket.sid, %err, "bad polling payload");
                socket.close(CloseReason::ParseError);
                return Err(EngineError::BadRequest);
            }
        };
        for packet in packets {
            if !self.on_packet(socket, packet) {
                break;
            }
        }
        Ok(Response::builder()
            .header(header::CONTENT_TYPE, "text/html")
            .body(Full::new(Bytes::from_static(b"ok")))
            .unwrap())
    }

    /// Validates a WebSocket request and answers 101; the connection itself runs in a task.
    ///
    /// The handshake is checked as the `ws` library behind the reference server does: a GET
    /// with `Upgrade: websocket`, a well-formed `Sec-WebSocket-Key` and `Sec-WebSocket-Version`
    /// 13 (or 8, whose framing is the same); a wrong version gets a 400 naming the supported
    /// ones in `Sec-WebSocket-Version`. A WebSocket for a session that cannot be upgraded now
    /// (another upgrade in progress, already upgraded, closing) completes its handshake and is
    /// then closed at once, as the reference does, while the session carries on; with
    /// `allow_upgrades(false)` the request is refused with a 400.
    fn websocket<B>(
        self: &Arc<Self>,
        req: &mut Request<B>,
        session: Option<SocketHandle<H::Data>>,
        protocol: Protocol,
    ) -> Result<Response<ResponseBody>, EngineError>
    where
        B: Send + 'static,
    {
        let headers = req.headers();
        let is_upgrade = req.method() == Method::GET
            && header_has_token(headers, header::UPGRADE, "websocket")
            && header_has_token(headers, header::CONNECTION, "upgrade");
        let key = headers
            .get(header::SEC_WEBSOCKET_KEY)
            .filter(|k| is_websocket_key(k.as_bytes()))
            .cloned();
        let (true, Some(key)) = (is_upgrade, key) else {
            return Err(EngineError::BadRequest);
        };
        let version = headers.get(header::SEC_WEBSOCKET_VERSION);
        if !version.is_some_and(|v| v == "13" || v == "8") {
            return Ok(Response::builder()
                .status(StatusCode::BAD_REQUEST)
                .header(header::SEC_WEBSOCKET_VERSION, "13, 8")
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Full::new(Bytes::from_static(
                    b"Missing or invalid Sec-WebSocket-Version header",
                )))
                .unwrap());
        }
        // `Some(true)`: this WebSocket upgrades the session; `Some(false)`: it is refused after
        // its handshake.
        let upgrades = match &session {
            None => None,
            Some(_) if !self.config.allow_upgrades => return Err(EngineError::BadRequest),
            Some(socket) => Some(
                !socket.is_closed()
                    && socket.transport() == Transport::Polling
                    && !socket.upgrading.swap(true, Ordering::AcqRel),
            ),
        };
        let request = handshake_request(req);
        let on_upgrade = hyper::upgrade::on(&mut *req);
        let engine = self.clone();
        // This task ends once the session is served by a task of its own (see
        // `Engine::spawn_serve`).
        tokio::spawn(async move {
            let upgraded = match on_upgrade.await {
                Ok(upgraded) => upgraded,
                Err(err) => {
                    tracing::debug!(%err, "websocket upgrade failed");
                    if let (Some(socket), Some(true)) = (session, upgrades) {
                        socket.upgrading.store(false, Ordering::Release);
                    }
                    return;
                }
            };
            let ws = WsConn::accept(
                upgraded,
                engine.config.max_payload,
                engine.config.ws_read_buffer_size,
            );
            match (session, upgrades) {
                (Some(socket), Some(true)) => engine.upgrade(socket, ws).await,
                (Some(socket), _) => engine.refuse_websocket(socket, ws).await,
                (None, _) => engine.serve_new_websocket(ws, request, protocol).await,
            }
        });
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        Ok(Response::builder()
            .status(StatusCode::SWITCHING_PROTOCOLS)
            .header(header::UPGRADE, "websocket")
            .header(header::CONNECTION, "Upgrade")
            .header(header::SEC_WEBSOCKET_ACCEPT, accept)
            .body(Full::default())
            .unwrap())
    }

    /// A `text/plain` response, compressed when `compressible` (some packet in it was not sent with
    /// `compress(false)`), compression is on, the client accepts it (the request's
    /// `accept_encoding`) and it is large enough.
    fn text_response(
        &self,
        body: String,
        accept_encoding: Option<&HeaderValue>,
        compressible: bool,
    ) -> Response<ResponseBody> {
        let builder = Response::builder().header(header::CONTENT_TYPE, "text/plain; charset=UTF-8");
        if compressible
            && self.config.http_compression
            && body.len() >= self.config.compression_threshold
        {
            if let Some((encoding, compressed)) = compress(body.as_bytes(), accept_encoding) {
                return builder
                    .header(header::CONTENT_ENCODING, encoding)
                    .header(header::VARY, "Accept-Encoding")
                    .body(Full::new(Bytes::from(compressed)))
                    .unwrap();
            }
        }
        builder.body(Full::new(Bytes::from(body))).unwrap()
    }

    fn origin_allowed(&self, headers: &HeaderMap) -> bool {
        match (&self.config.cors, headers.get(header::ORIGIN)) {
            (Cors::Origins(list), Some(origin)) => is_listed(list, origin),
            _ => true,
        }
    }

    fn apply_cors(&self, req: &CorsRequest, resp: &mut HeaderMap) {
        let allow = match (&self.config.cors, &req.origin) {
            (Cors::Disabled, _) => return,
            (Cors::Origins(list), Some(origin)) if !is_listed(list, origin) => return,
            (Cors::Any, None) if !self.config.cors_credentials => HeaderValue::from_static("*"),
            (_, Some(origin)) => origin.clone(),
            (_, None) => return,
        };
        resp.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, allow);
        resp.insert(header::VARY, HeaderValue::from_static("Origin"));
        if self.config.cors_credentials {
            resp.insert(
                header::ACCESS_CONTROL_ALLOW_CREDENTIALS,
                HeaderValue::from_static("true"),
            );
        }
        if req.method.is_some() {
            resp.insert(
                header::ACCESS_CONTROL_ALLOW_METHODS,
                HeaderValue::from_static("GET, POST, OPTIONS"),
            );
            if let Some(h) = &req.headers {
                resp.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, h.clone());
            }
            resp.insert(
                header::ACCESS_CONTROL_MAX_AGE,
                HeaderValue::from_static("86400"),
            );
        }
    }
}

/// Ends the session when a polling GET is dropped before it produced its response (the client
/// closed the connection while waiting).
struct AbandonedPoll<'a, D>(Option<&'a SocketHandle<D>>);

impl<D> Drop for AbandonedPoll<'_, D> {
    fn drop(&mut self) {
        if let Some(socket) = self.0.take() {
            tracing::debug!(sid = %socket.sid, "poll connection closed prematurely");
            socket.close(CloseReason::TransportError);
        }
    }
}

/// Whether `origin` is one of the allowed origins.
fn is_listed(origins: &[String], origin: &HeaderValue) -> bool {
    origins
        .iter()
        .any(|allowed| allowed.as_bytes() == origin.as_bytes())
}

/// Appends a frame to a polling payload in the session's framing.
fn encode_frame(protocol: Protocol, out: &mut String, frame: &Frame) {
    match protocol {
        Protocol::V3 => payload_v3::encode_into(out, frame),
        Protocol::V4 => payload::encode_into(out, frame),
    }
}

/// A v3 binary payload starts with a kind byte (0 or 1); a text one with a length digit.
fn is_binary_payload(body: &[u8]) -> bool {
    matches!(body.first(), Some(0 | 1))
}

/// The request headers CORS answers depend on, copied (see [`own`]): kept until the response,
/// which for a polling GET is as long as it waits.
struct CorsRequest {
    origin: Option<HeaderValue>,
    method: Option<HeaderValue>,
    headers: Option<HeaderValue>,
}

impl CorsRequest {
    fn read(h: &HeaderMap) -> Self {
        CorsRequest {
            origin: h.get(header::ORIGIN).map(own),
            method: h.get(header::ACCESS_CONTROL_REQUEST_METHOD).map(own),
            headers: h.get(header::ACCESS_CONTROL_REQUEST_HEADERS).map(own),
        }
    }
}

/// The handshake request's URI and headers, kept with the session for connect handlers.
///
/// The copy owns its bytes: hyper's URI and header values are slices of the connection's read
/// buffer (8 to 16 KiB), which a plain clone would keep alive as long as the session (the bulk
/// of an idle WebSocket connection's memory). All header values share one allocation.
///
/// The peer's address is the request's [`std::net::SocketAddr`] extension, if the server set
/// one (`socketio_axum::Server` does).
fn handshake_request<B>(req: &Request<B>) -> HandshakeRequest {
    HandshakeRequest {
        uri: owned_uri(req.uri()),
        headers: Arc::new(owned_headers(req.headers())),
        address: req.extensions().get::<std::net::SocketAddr>().copied(),
    }
}

/// `uri` with its own copy of the bytes.
fn owned_uri(uri: &http::Uri) -> http::Uri {
    let mut parts = uri.clone().into_parts();
    if let Some(pq) = &parts.path_and_query {
        let copy = Bytes::copy_from_slice(pq.as_str().as_bytes());
        parts.path_and_query = http::uri::PathAndQuery::from_maybe_shared(copy).ok();
    }
    if let Some(authority) = &parts.authority {
        let copy = Bytes::copy_from_slice(authority.as_str().as_bytes());
        parts.authority = http::uri::Authority::from_maybe_shared(copy).ok();
    }
    http::Uri::from_parts(parts).unwrap_or_else(|_| uri.clone())
}

/// A header value with its own copy of the bytes (hyper's are slices of the connection's read
/// buffer: a clone kept while a request waits keeps that whole buffer).
fn own(value: &HeaderValue) -> HeaderValue {
    let mut owned = HeaderValue::from_maybe_shared(Bytes::copy_from_slice(value.as_bytes()))
        .unwrap_or_else(|_| value.clone());
    owned.set_sensitive(value.is_sensitive());
    owned
}

/// `headers` with their values copied into one buffer of their own.
fn owned_headers(headers: &HeaderMap) -> HeaderMap {
    let total = headers.values().map(|v| v.len()).sum();
    let mut buf = Vec::with_capacity(total);
    for value in headers.values() {
        buf.extend_from_slice(value.as_bytes());
    }
    let buf = Bytes::from(buf);
    let mut owned = HeaderMap::with_capacity(headers.len());
    let mut at = 0;
    for (name, value) in headers {
        let end = at + value.len();
        // These bytes were a valid header value already; the fallback is never taken.
        let mut copy =
            HeaderValue::from_maybe_shared(buf.slice(at..end)).unwrap_or_else(|_| value.clone());
        copy.set_sensitive(value.is_sensitive());
        owned.append(name.clone(), copy);
        at = end;
    }
    owned
}

/// A `Sec-WebSocket-Key`: 16 bytes in base64 (22 characters and `==`), as the `ws` library
/// requires.
fn is_websocket_key(key: &[u8]) -> bool {
    key.len() == 24
        && key.ends_with(b"==")
        && key[..22]
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'+' || c == b'/')
}

fn header_has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
            .unwrap_or(false)
    })
}

/// Compresses with gzip or deflate, whichever the client's `Accept-Encoding` rates higher
/// (RFC 9110 §12.5.3: q-values, `*` for any coding not listed, `q=0` refuses); on a tie gzip.
/// `None` (send as is) when neither is acceptable or the header is missing or unreadable.
fn compress(body: &[u8], accept_encoding: Option<&HeaderValue>) -> Option<(&'static str, Vec<u8>)> {
    let accepted = accept_encoding?.to_str().ok()?;
    let gzip = coding_quality(accepted, "gzip");
    let deflate = coding_quality(accepted, "deflate");
    let level = flate2::Compression::default();
    if gzip > 0 && gzip >= deflate {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), level);
        enc.write_all(body).ok()?;
        return Some(("gzip", enc.finish().ok()?));
    }
    if deflate > 0 {
        let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), level);
        enc.write_all(body).ok()?;
        return Some(("deflate", enc.finish().ok()?));
    }
    None
}

/// The quality (0..=1000) an `Accept-Encoding` value gives `coding`: its own entry's, else the
/// `*` entry's, else 0. A missing q counts as 1; a malformed one as 0.
fn coding_quality(accepted: &str, coding: &str) -> u16 {
    let mut star = None;
    for item in accepted.split(',') {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        let mut q = 1000;
        for param in parts {
            let Some((key, value)) = param.split_once('=') else {
                continue;
            };
            if key.trim().eq_ignore_ascii_case("q") {
                q = parse_qvalue(value.trim()).unwrap_or(0);
            }
        }
        if name.eq_ignore_ascii_case(coding) {
            return q;
        }
        if name == "*" {
            star = Some(q);
        }
    }
    star.unwrap_or(0)
}

/// An RFC 9110 qvalue (`0`, `0.5`, `1.000`, at most three decimals) in thousandths.
fn parse_qvalue(text: &str) -> Option<u16> {
    let (int, frac) = text.split_once('.').unwrap_or((text, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{frac:0<3}").parse().ok()?;
    match int {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

fn error_response(err: EngineError) -> Response<ResponseBody> {
    let body = serde_json::json!({ "code": err as u8, "message": err.message() }).to_string();
    Response::builder()
        .status(err.status())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap()
}

fn status_response(status: StatusCode) -> Response<ResponseBody> {
    Response::builder()
        .status(status)
        .body(Full::default())
        .unwrap()
}

/// Marks a session's polling transport writable while a GET waits (cleared when it stops
/// waiting, or when the GET is dropped).
struct PollWaiting<'a>(&'a std::sync::atomic::AtomicBool);

impl<'a> PollWaiting<'a> {
    fn new<D>(socket: &'a SocketHandle<D>) -> Self {
        socket.poll_waiting.store(true, Ordering::Release);
        PollWaiting(&socket.poll_waiting)
    }
}

impl Drop for PollWaiting<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parsing() {
        let q = Query::parse(Some("EIO=4&transport=polling&sid=abc&t=N8hyd6w"));
        assert_eq!(q.eio.as_deref(), Some("4"));
        assert_eq!(q.transport.as_deref(), Some("polling"));
        assert_eq!(q.sid.as_deref(), Some("abc"));
    }

    fn negotiated(accept: &'static str) -> Option<&'static str> {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(accept));
        compress(b"aaaa", h.get(header::ACCEPT_ENCODING)).map(|(coding, _)| coding)
    }

    #[test]
    fn compression_weighs_q_values() {
        assert_eq!(negotiated("gzip;q=0.5, deflate;q=0.9"), Some("deflate"));
        assert_eq!(negotiated("gzip;q=0.9, deflate;q=0.5"), Some("gzip"));
        assert_eq!(negotiated("deflate, gzip"), Some("gzip"), "tie: gzip");
        assert_eq!(negotiated("gzip;q=0"), None);
        assert_eq!(negotiated("gzip;q=0.000, deflate;q=0"), None);
        assert_eq!(negotiated("gzip; q=0, *"), Some("deflate"));
        assert_eq!(negotiated("*;q=0.1"), Some("gzip"));
        assert_eq!(negotiated("*;q=0.1, gzip;q=0"), Some("deflate"));
        assert_eq!(negotiated("*;q=0"), None);
        assert_eq!(negotiated("identity"), None);
        assert_eq!(negotiated("identity, *;q=0"), None);
        assert_eq!(negotiated("br, identity;q=0.5"), None);
        assert_eq!(negotiated("GZIP;Q=1.0"), Some("gzip"));
        // Malformed q-values refuse the coding rather than accept it.
        assert_eq!(negotiated("gzip;q=2, deflate;q=abc"), None);
        assert_eq!(negotiated("gzip;q=0.1234"), None);
    }

    #[test]
    fn compression_follows_accept_encoding() {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("deflate, gzip;q=0"),
        );
        assert_eq!(
            compress(b"aaaa", h.get(header::ACCEPT_ENCODING)).unwrap().0,
            "deflate"
        );
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip, deflate, br"),
        );
        assert_eq!(
            compress(b"aaaa", h.get(header::ACCEPT_ENCODING)).unwrap().0,
            "gzip"
        );
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("br"));
        assert!(compress(b"aaaa", h.get(header::ACCEPT_ENCODING)).is_none());
    }
}
