//! Engine.IO v4: sessions, heartbeat, and the two transports (HTTP long-polling and WebSocket,
//! with the polling → WebSocket upgrade). The Socket.IO layer plugs in through [`EngineHandler`].

pub(crate) mod config;
pub(crate) mod http;
pub(crate) mod packet;
pub(crate) mod payload;
pub(crate) mod payload_v3;
pub(crate) mod queue;
pub(crate) mod sid;
pub(crate) mod socket;
pub(crate) mod str;
pub(crate) mod ws;
pub(crate) mod ws_conn;

use foldhash::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use bytes::Bytes;
use tokio::time;

use self::config::EngineConfig;
use self::packet::{Frame, Incoming};
use self::sid::Sid;
use self::socket::{
    CloseReason, EngineSocket, HandshakeRequest, Protocol, SocketHandle, Transport,
};

/// How long a session closed by the client's close packet on polling stays reachable for a GET
/// sent concurrently with that packet (see [`socket::EngineSocket::reachable_when_closed`]).
const CLIENT_CLOSE_LINGER: std::time::Duration = std::time::Duration::from_secs(1);

/// The layer above Engine.IO (Socket.IO) as the engine sees it.
pub(crate) trait EngineHandler: Send + Sync + 'static {
    /// Per-session data kept inside each [`EngineSocket`].
    type Data: Send + Sync + 'static;

    /// Data for a new session.
    fn new_data(&self) -> Self::Data;
    /// A session opened (its open packet is already queued or sent).
    fn on_open(&self, socket: &SocketHandle<Self::Data>);
    /// A text message arrived.
    fn on_message(&self, socket: &SocketHandle<Self::Data>, text: &str);
    /// A binary message arrived.
    fn on_binary(&self, socket: &SocketHandle<Self::Data>, data: Bytes);
    /// The session ended; called exactly once, after it left the session table.
    fn on_close(&self, socket: &SocketHandle<Self::Data>, reason: CloseReason);
}

/// The Engine.IO server: configuration, the session table and the handler above.
pub(crate) struct Engine<H: EngineHandler> {
    pub(crate) config: EngineConfig,
    pub(crate) handler: H,
    sessions: RwLock<HashMap<Sid, SocketHandle<H::Data>>>,
    /// Set by [`Engine::close_all`]: new sessions are refused from then on.
    closing: AtomicBool,
}

impl<H: EngineHandler> Engine<H> {
    pub(crate) fn new(config: EngineConfig, handler: H) -> Self {
        Engine {
            config,
            handler,
            sessions: RwLock::new(HashMap::default()),
            closing: AtomicBool::new(false),
        }
    }

    /// Whether the server is shutting down (new sessions are refused).
    pub(crate) fn is_closing(&self) -> bool {
        self.closing.load(Ordering::Acquire)
    }

    /// Shutting down: refuses new sessions from now on.
    pub(crate) fn stop_accepting(&self) {
        self.closing.store(true, Ordering::Release);
    }

    /// Shutting down: refuses new sessions from now on and closes every open one with
    /// [`CloseReason::ServerClose`] (graceful: each client gets what was queued before the
    /// close, then the close). Returns at once; [`Engine::session_count`] tells when they are
    /// gone.
    pub(crate) fn close_all(&self) {
        self.closing.store(true, Ordering::Release);
        let sessions: Vec<_> = self.sessions.read().unwrap().values().cloned().collect();
        for socket in sessions {
            socket.close(CloseReason::ServerClose);
        }
    }

    pub(crate) fn session(&self, sid: &Sid) -> Option<SocketHandle<H::Data>> {
        self.sessions.read().unwrap().get(sid).cloned()
    }

    /// Number of open sessions.
    pub(crate) fn session_count(&self) -> usize {
        self.sessions.read().unwrap().len()
    }

    /// Opens a session on `transport` and starts its lifecycle task. The caller delivers the
    /// open packet (returned) on its transport.
    pub(crate) fn open_session(
        self: &Arc<Self>,
        transport: Transport,
        protocol: Protocol,
        request: HandshakeRequest,
    ) -> (SocketHandle<H::Data>, String) {
        let sid = Sid::new();
        let socket = Arc::new(EngineSocket::new(
            sid,
            protocol,
            self.handler.new_data(),
            transport,
            request,
            self.config.max_buffer_size,
        ));
        self.sessions.write().unwrap().insert(sid, socket.clone());
        let upgrades: &[&str] = if transport == Transport::Polling
            && self.config.allow_upgrades
            && self.config.transports.websocket
        {
            &["websocket"]
        } else {
            &[]
        };
        let open = serde_json::json!({
            "sid": sid,
            "upgrades": upgrades,
            "pingInterval": self.config.ping_interval.as_millis() as u64,
            "pingTimeout": self.config.ping_timeout.as_millis() as u64,
            "maxPayload": self.config.max_payload,
        });
        tracing::debug!(%sid, %transport, ?protocol, "engine session opened");
        tokio::spawn(self.clone().lifecycle(socket.clone()));
        self.handler.on_open(&socket);
        (socket, format!("0{open}"))
    }

    /// Runs the heartbeat until the session closes, then removes it and notifies the handler.
    async fn lifecycle(self: Arc<Self>, socket: SocketHandle<H::Data>) {
        let reason = tokio::select! {
            reason = socket.closed() => reason,
            reason = self.heartbeat(&socket) => reason,
        };
        socket.close(reason);
        socket.set_pong_deadline(None);
        // Release a polling GET in flight so it can answer with the close packet.
        socket.poll_wake.notify_waiters();
        tracing::debug!(sid = %socket.sid, ?reason, "engine session closed");
        self.handler.on_close(&socket, reason);
        if socket.reachable_when_closed() {
            // A polling client learns of a server close from its next GET: keep the session
            // known until that GET took the close packet (as the reference server does), within
            // a bound, so the client sees a clean close rather than "unknown sid". After a
            // client's close packet, only a GET racing with it is waited for, briefly.
            let grace = if reason.is_graceful() {
                self.config.ping_interval + self.config.ping_timeout
            } else {
                CLIENT_CLOSE_LINGER
            };
            // Boxed: this wait's state would otherwise enlarge the task for the session's life.
            let delivered = Box::pin(time::timeout(grace, socket.close_delivered.notified()));
            let _ = delivered.await;
        }
        self.sessions.write().unwrap().remove(&socket.sid);
    }

    /// The heartbeat; returns when the client missed it. Engine.IO v4: the server pings and
    /// expects a pong within `ping_timeout`. v3: the client pings and the server expects one
    /// within `ping_interval + ping_timeout` (any packet counts as a sign of life).
    ///
    /// v4 deadlines are computed from when the ping was due (not when the timer fired), and
    /// published in [`socket::EngineSocket::pong_deadline`] so that a request arriving after
    /// the deadline finds the session timed out even if this task has not run yet.
    async fn heartbeat(&self, socket: &EngineSocket<H::Data>) -> CloseReason {
        if socket.protocol == Protocol::V3 {
            let window = self.config.ping_interval + self.config.ping_timeout;
            while time::timeout(window, socket.pong.notified()).await.is_ok() {}
            return CloseReason::PingTimeout;
        }
        loop {
            let ping_at = time::Instant::now() + self.config.ping_interval;
            time::sleep_until(ping_at).await;
            let deadline = ping_at + self.config.ping_timeout;
            socket.set_pong_deadline(Some(deadline.into_std()));
            if socket.send(Frame::PING).is_err() {
                return CloseReason::TransportError;
            }
            if time::timeout_at(deadline, socket.pong.notified())
                .await
                .is_err()
            {
                return CloseReason::PingTimeout;
            }
            socket.set_pong_deadline(None);
        }
    }

    /// Handles one decoded packet from either transport. Returns `false` when the session ended.
    pub(crate) fn on_packet(&self, socket: &SocketHandle<H::Data>, packet: Incoming<'_>) -> bool {
        if socket.is_closed() {
            return false;
        }
        if socket.protocol == Protocol::V3 {
            socket.pong.notify_one();
            if packet == (Incoming::Ping { probe: false }) {
                return socket.send(Frame::PONG).is_ok();
            }
        }
        match packet {
            Incoming::Close => {
                socket.close(CloseReason::TransportClose);
                return false;
            }
            Incoming::Pong { probe: false } => {
                socket.set_pong_deadline(None);
                socket.pong.notify_one();
            }
            Incoming::Message(text) => self.handler.on_message(socket, text),
            Incoming::Binary(data) => self.handler.on_binary(socket, data),
            Incoming::Noop => {}
            // Ping and probes belong to the upgrade handshake; an upgrade outside it is a
            // protocol error.
            Incoming::Ping { .. } | Incoming::Pong { probe: true } | Incoming::Upgrade => {
                tracing::debug!(sid = %socket.sid, ?packet, "unexpected packet");
                socket.close(CloseReason::ParseError);
                return false;
            }
        }
        !socket.is_closed()
    }
}
