//! One Engine.IO session: its outbound queue, current transport and lifecycle.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

use tokio::sync::{watch, Mutex, Notify};

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
}

/// Request details kept from the handshake, for connect handlers.
#[derive(Debug, Clone)]
pub(crate) struct HandshakeRequest {
    pub(crate) uri: http::Uri,
    pub(crate) headers: http::HeaderMap,
}

/// One Engine.IO session. `D` is the data the layer above keeps per connection.
pub(crate) struct EngineSocket<D> {
    pub(crate) sid: Sid,
    pub(crate) protocol: Protocol,
    pub(crate) data: D,
    pub(crate) request: HandshakeRequest,
    transport: AtomicU8,
    pub(crate) upgrading: AtomicBool,
    /// Set while a POST is being processed, to reject overlapping ones.
    pub(crate) posting: AtomicBool,
    /// Frames waiting for the transport; only the holder of `outbox` takes from it.
    pub(crate) queue: FrameQueue,
    pub(crate) outbox: Mutex<Outbox>,
    /// Woken when the upgrade completes, so a polling GET in flight returns.
    pub(crate) upgraded: Notify,
    /// Woken by each pong.
    pub(crate) pong: Notify,
    /// Signalled when a polling GET carried the close packet to the client.
    pub(crate) close_delivered: Notify,
    closed: watch::Sender<Option<CloseReason>>,
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
            posting: AtomicBool::new(false),
            queue: FrameQueue::new(buffer),
            outbox: Mutex::new(Outbox { held: None }),
            upgraded: Notify::new(),
            pong: Notify::new(),
            close_delivered: Notify::new(),
            closed: watch::channel(None).0,
        }
    }

    /// The transport in use now.
    pub(crate) fn transport(&self) -> Transport {
        Transport::from_u8(self.transport.load(Ordering::Acquire))
    }

    pub(crate) fn set_transport(&self, t: Transport) {
        self.transport.store(t as u8, Ordering::Release);
    }

    /// Queues a frame without waiting.
    pub(crate) fn send(&self, frame: Frame) -> Result<(), QueueError> {
        self.queue.push(frame)
    }

    /// Ends the session (idempotent: the first reason wins). The lifecycle task then removes it
    /// from the engine and tells the layer above.
    pub(crate) fn close(&self, reason: CloseReason) {
        self.closed.send_if_modified(|current| {
            if current.is_none() {
                *current = Some(reason);
                self.queue.close();
                true
            } else {
                false
            }
        });
    }

    pub(crate) fn is_closed(&self) -> bool {
        // The queue learns of the close first thing (see `close`); no second flag to keep in step.
        self.queue.is_closed()
    }

    /// Why the session closed, once it has.
    pub(crate) fn close_reason(&self) -> Option<CloseReason> {
        *self.closed.borrow()
    }

    /// Resolves once the session is closed, with the reason.
    pub(crate) async fn closed(&self) -> CloseReason {
        let mut rx = self.closed.subscribe();
        let reason = match rx.wait_for(Option::is_some).await {
            Ok(r) => *r,
            Err(_) => None,
        };
        reason.unwrap_or(CloseReason::ServerClose)
    }
}

/// A shared handle on a session.
pub(crate) type SocketHandle<D> = Arc<EngineSocket<D>>;
