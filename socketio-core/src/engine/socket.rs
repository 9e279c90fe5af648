//! One Engine.IO session: its outbound queue, current transport and lifecycle.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{Mutex, Notify};

use super::packet::Frame;
use super::queue::FrameQueue;
use super::sid::Sid;

/// The transport a session currently uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// HTTP long-polling.
    Polling,
    /// WebSocket.
    Websocket,
}

impl Transport {
    /// The name used in the protocol and by python-socketio's `transport()`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Polling => "polling",
            Transport::Websocket => "websocket",
        }
    }

    fn from_u8(v: u8) -> Self {
        if v == 1 {
            Transport::Websocket
        } else {
            Transport::Polling
        }
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The Engine.IO protocol revision a session speaks, chosen by the `EIO` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protocol {
    /// Engine.IO v3 (socket.io-client 1.x/2.x, python-socketio 4.x): client-driven heartbeat,
    /// length-prefixed polling payloads; carries Socket.IO protocol v4.
    V3,
    /// Engine.IO v4: server-driven heartbeat, `\x1e`-separated payloads; carries Socket.IO v5.
    V4,
}

/// Why an Engine.IO session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CloseReason {
    /// The client sent a close packet or closed its WebSocket.
    TransportClose,
    /// The transport failed (bad frame, oversized message, overlapping requests…).
    TransportError,
    /// No pong within `ping_timeout`.
    PingTimeout,
    /// The server closed the session on purpose.
    ServerClose,
    /// The client did not connect to any namespace in time.
    ConnectTimeout,
    /// A packet that could not be decoded.
    ParseError,
}

impl CloseReason {
    /// Every reason, indexed by [`CloseReason::code`] - 1.
    const ALL: [CloseReason; 6] = [
        CloseReason::TransportClose,
        CloseReason::TransportError,
        CloseReason::PingTimeout,
        CloseReason::ServerClose,
        CloseReason::ConnectTimeout,
        CloseReason::ParseError,
    ];

    /// A non-zero code for the reason (zero stands for "not closed").
    fn code(self) -> u8 {
        Self::ALL.iter().position(|&r| r == self).unwrap_or(0) as u8 + 1
    }

    fn from_code(code: u8) -> Option<Self> {
        Self::ALL.get(usize::from(code).checked_sub(1)?).copied()
    }

    /// Whether the server closed the session on purpose (not because of an error): the client
    /// is then told with a close packet, after what was queued before it.
    pub(crate) fn is_graceful(self) -> bool {
        matches!(self, CloseReason::ServerClose | CloseReason::ConnectTimeout)
    }
}

/// What can go wrong when queueing a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueueError {
    /// The client is not reading fast enough: `max_buffer_size` frames are waiting.
    Full,
    /// The session is closed.
    Closed,
}

/// The right to consume the outbound queue: taken by the polling GET in flight, or by the
/// WebSocket writer, never both (the mutex decides).
pub(crate) struct Outbox {
    /// A frame taken from the queue that did not fit in the last polling payload.
    pub(crate) held: Option<Frame>,
    /// Whether `held` may be compressed ([`FrameQueue::last_compress`] when it was taken).
    pub(crate) held_compress: bool,
}

/// Request details kept from the handshake, for connect handlers.
#[derive(Debug, Clone)]
pub(crate) struct HandshakeRequest {
    pub(crate) uri: http::Uri,
    /// Shared with every `Handshake` of the connection's sockets (one copy per connection).
    pub(crate) headers: Arc<http::HeaderMap>,
    /// The peer's address, when the server put it in the request's extensions.
    pub(crate) address: Option<SocketAddr>,
}

/// One Engine.IO session. `D` is the data the layer above keeps per connection.
pub(crate) struct EngineSocket<D> {
    pub(crate) sid: Sid,
    pub(crate) protocol: Protocol,
    pub(crate) data: D,
    pub(crate) request: HandshakeRequest,
    transport: AtomicU8,
    /// Set while a WebSocket with this sid is trying to upgrade the session (from its 101 until
    /// `5`, a failure or the upgrade timeout); a second one meanwhile is closed at once.
    pub(crate) upgrading: AtomicBool,
    /// Set once the upgrading WebSocket got `2probe`: from then on a polling GET is answered
    /// with a noop within [`FAST_UPGRADE_POLL`], so the client can pause polling.
    pub(crate) probed: AtomicBool,
    /// Set while a polling GET waits for something to send: the polling transport is writable
    /// (Engine.IO's `transport.writable`).
    pub(crate) poll_waiting: AtomicBool,
    /// Set while a POST is being processed, to reject overlapping ones.
    pub(crate) posting: AtomicBool,
    /// Frames waiting for the transport; only the holder of `outbox` takes from it.
    pub(crate) queue: FrameQueue,
    pub(crate) outbox: Mutex<Outbox>,
    /// Woken when the upgrade state changes (probe received, upgrade done) or the session
    /// closes, so a polling GET in flight looks again at what it should answer.
    pub(crate) poll_wake: Notify,
    /// Woken by each pong.
    pub(crate) pong: Notify,
    /// When the pong for the ping in flight is due (`None` while no ping is awaiting its pong).
    /// Requests compare against it, so a session past its deadline is treated as timed out even
    /// if the heartbeat timer has not fired yet.
    pub(crate) pong_deadline: std::sync::Mutex<Option<Instant>>,
    /// Signalled when a polling GET carried the close packet to the client.
    pub(crate) close_delivered: Notify,
    /// Set when a polling GET answered a closed session (close packet or noop): requests after
    /// that find the session unknown, even before the lifecycle task removed it.
    pub(crate) close_answered: AtomicBool,
    /// [`CloseReason::code`] of why the session closed; 0 while it is open. (An atomic and a
    /// `Notify` rather than a `watch` channel: a channel's shared state is ~350 bytes per
    /// session, and waiting on it takes a larger future.)
    close_reason: AtomicU8,
    /// Woken when the session closes.
    close_wake: Notify,
}

impl<D> EngineSocket<D> {
    pub(crate) fn new(
        sid: Sid,
        protocol: Protocol,
        data: D,
        transport: Transport,
        request: HandshakeRequest,
        buffer: usize,
    ) -> Self {
        EngineSocket {
            sid,
            protocol,
            data,
            request,
            transport: AtomicU8::new(transport as u8),
            upgrading: AtomicBool::new(false),
            probed: AtomicBool::new(false),
            posting: AtomicBool::new(false),
            poll_waiting: AtomicBool::new(false),
            queue: FrameQueue::new(buffer),
            outbox: Mutex::new(Outbox {
                held: None,
                held_compress: true,
            }),
            poll_wake: Notify::new(),
            pong: Notify::new(),
            pong_deadline: std::sync::Mutex::new(None),
            close_delivered: Notify::new(),
            close_answered: AtomicBool::new(false),
            close_reason: AtomicU8::new(0),
            close_wake: Notify::new(),
        }
    }

    /// The transport in use now.
    pub(crate) fn transport(&self) -> Transport {
        Transport::from_u8(self.transport.load(Ordering::Acquire))
    }

    pub(crate) fn set_transport(&self, t: Transport) {
        self.transport.store(t as u8, Ordering::Release);
    }

    /// Whether a frame queued now would be written at once (Engine.IO's `transport.writable`,
    /// what decides whether a volatile packet is sent): nothing is waiting in the queue, and
    /// the transport is WebSocket, or polling with a GET waiting and no upgrade under way.
    pub(crate) fn writable(&self) -> bool {
        if self.is_closed() || !self.queue.is_empty() {
            return false;
        }
        match self.transport() {
            Transport::Websocket => true,
            Transport::Polling => {
                self.poll_waiting.load(Ordering::Acquire) && !self.upgrading.load(Ordering::Acquire)
            }
        }
    }

    /// Queues a frame without waiting.
    pub(crate) fn send(&self, frame: Frame) -> Result<(), QueueError> {
        self.queue.push(frame)
    }

    /// Queues a frame without waiting; `compress: false` keeps a polling response made only of
    /// such frames uncompressed (socket.io's `compress(false)`).
    pub(crate) fn send_with(&self, frame: Frame, compress: bool) -> Result<(), QueueError> {
        self.queue.push_with(frame, compress)
    }

    /// Ends the session (idempotent: the first reason wins). The lifecycle task then removes it
    /// from the engine and tells the layer above.
    pub(crate) fn close(&self, reason: CloseReason) {
        let first = self
            .close_reason
            .compare_exchange(0, reason.code(), Ordering::AcqRel, Ordering::Acquire)
            .is_ok();
        if first {
            // The reason is set before the queue closes: whoever sees the session closed
            // (`is_closed`) also sees why.
            self.queue.close();
            self.close_wake.notify_waiters();
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        // The queue learns of the close first thing (see `close`); no second flag to keep in step.
        self.queue.is_closed()
    }

    /// Why the session closed, once it has.
    pub(crate) fn close_reason(&self) -> Option<CloseReason> {
        CloseReason::from_code(self.close_reason.load(Ordering::Acquire))
    }

    /// Resolves once the session is closed, with the reason.
    pub(crate) async fn closed(&self) -> CloseReason {
        loop {
            // Registered before the check, so a close in between is not missed.
            let woken = self.close_wake.notified();
            tokio::pin!(woken);
            woken.as_mut().enable();
            if let Some(reason) = self.close_reason() {
                return reason;
            }
            woken.await;
        }
    }

    /// Whether requests may still reach this session although it is closed: a close the server
    /// chose (the client learns of it from its next GET), or a client's close packet on polling
    /// (a GET it sent at the same time as that POST may be handled just after it, and is
    /// answered with the noop it would have got had it arrived first). Either way only until a
    /// GET has answered the closed session.
    pub(crate) fn reachable_when_closed(&self) -> bool {
        if self.close_answered.load(Ordering::Acquire) {
            return false;
        }
        match self.close_reason() {
            None => true,
            Some(CloseReason::TransportClose) => self.transport() == Transport::Polling,
            Some(reason) => reason.is_graceful(),
        }
    }

    /// Whether the pong awaited for the last ping is overdue.
    pub(crate) fn pong_overdue(&self, now: Instant) -> bool {
        let deadline = *self.pong_deadline.lock().unwrap_or_else(|e| e.into_inner());
        deadline.is_some_and(|d| now >= d)
    }

    pub(crate) fn set_pong_deadline(&self, deadline: Option<Instant>) {
        *self.pong_deadline.lock().unwrap_or_else(|e| e.into_inner()) = deadline;
    }
}

/// During an upgrade (after `2probe`), how long a polling GET with nothing to send waits before
/// it is answered with a noop: the reference server's "fast upgrade" check interval.
pub(crate) const FAST_UPGRADE_POLL: std::time::Duration = std::time::Duration::from_millis(100);

/// A shared handle on a session.
pub(crate) type SocketHandle<D> = Arc<EngineSocket<D>>;
