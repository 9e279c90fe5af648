//! The WebSocket transport: direct WebSocket sessions and the polling → WebSocket upgrade.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;

use tokio::time;
use tungstenite::Message;

use super::packet::{Frame, Incoming};
use super::queue::Next;
use super::socket::{CloseReason, HandshakeRequest, Protocol, SocketHandle, Transport};
use super::ws_conn::WsConn;
use super::{Engine, EngineHandler};

impl<H: EngineHandler> Engine<H> {
    /// A session that starts on WebSocket: the open packet is the first frame.
    pub(crate) async fn serve_new_websocket(
        self: Arc<Self>,
        mut ws: WsConn,
        request: HandshakeRequest,
        protocol: Protocol,
    ) {
        let (socket, open) = self.open_session(Transport::Websocket, protocol, request);
        if ws.send(Message::text(open)).await.is_err() {
            socket.close(CloseReason::TransportError);
            return;
        }
        self.spawn_serve(socket, ws);
    }

    /// Serves the session in a task of its own, sized for the serving loop alone: the task that
    /// accepted the WebSocket (and its upgrade handshake) ends, so what it needed is freed
    /// instead of being kept for the connection's whole life.
    fn spawn_serve(self: Arc<Self>, socket: SocketHandle<H::Data>, ws: WsConn) {
        tokio::spawn(self.serve(socket, ws));
    }

    /// A WebSocket that cannot upgrade its session now (another upgrade in progress, already
    /// upgraded, closing): its handshake is done, so it is closed with a close frame, and the
    /// client's answer is waited for (within `ping_timeout`).
    pub(crate) async fn refuse_websocket(&self, socket: SocketHandle<H::Data>, mut ws: WsConn) {
        tracing::debug!(sid = %socket.sid, "websocket refused: no upgrade possible now");
        let closing = async {
            ws.close().await.ok()?;
            while ws.next().await.is_some() {}
            Some(())
        };
        let _ = time::timeout(self.config.ping_timeout, closing).await;
    }

    /// Upgrades a polling session: `2probe` → `3probe` (from then on a polling GET is answered
    /// with a noop within the fast-upgrade interval, so the client can pause polling), then wait
    /// for `5` and switch. As in the reference server, `5` without a probe also upgrades, and any
    /// other packet, a WebSocket that closes or fails, or the upgrade timeout abandons the
    /// upgrade: the WebSocket is dropped and the session stays on polling.
    ///
    /// A server-side close during the upgrade: before the probe, the polling transport delivers
    /// it. After the probe the client has paused polling and only listens on the WebSocket, so
    /// the upgrade is completed (within the upgrade timeout) and the close goes out there.
    pub(crate) async fn upgrade(self: Arc<Self>, socket: SocketHandle<H::Data>, ws: WsConn) {
        let upgraded = self.upgrade_handshake(&socket, ws).await;
        let Some(ws) = upgraded else {
            tracing::debug!(sid = %socket.sid, "upgrade abandoned");
            socket.upgrading.store(false, Ordering::Release);
            socket.poll_wake.notify_waiters();
            return;
        };
        // `upgrading` stays set: the session is upgraded for good, a later WebSocket is refused.
        socket.set_transport(Transport::Websocket);
        socket.poll_wake.notify_waiters();
        tracing::debug!(sid = %socket.sid, "upgraded to websocket");
        self.spawn_serve(socket, ws);
    }

    /// The upgrade handshake of [`Engine::upgrade`]: the WebSocket once it sent `5`, or `None`
    /// when the upgrade is abandoned.
    async fn upgrade_handshake(
        &self,
        socket: &SocketHandle<H::Data>,
        mut ws: WsConn,
    ) -> Option<WsConn> {
        let socket_ref = socket;
        let handshake = async move {
            while let Some(Ok(msg)) = ws.next().await {
                let Message::Text(text) = msg else { continue };
                match Incoming::decode(&text) {
                    Ok(Incoming::Ping { probe: true }) => {
                        ws.send(Message::text("3probe")).await.ok()?;
                        socket_ref.probed.store(true, Ordering::Release);
                        // A polling GET in flight now answers with a noop shortly.
                        socket_ref.poll_wake.notify_waiters();
                    }
                    Ok(Incoming::Upgrade) => return Some(ws),
                    _ => return None,
                }
            }
            None
        };
        let deadline = time::sleep(self.config.upgrade_timeout);
        tokio::pin!(deadline);
        let mut handshake = Box::pin(handshake);
        let upgraded = tokio::select! {
            ws = &mut handshake => ws,
            _ = &mut deadline => None,
            reason = socket.closed() => {
                if socket.probed.load(Ordering::Acquire) && reason.is_graceful() {
                    tokio::select! {
                        ws = &mut handshake => ws,
                        _ = &mut deadline => None,
                    }
                } else {
                    None
                }
            }
        };
        drop(handshake);
        socket.probed.store(false, Ordering::Release);
        upgraded
    }

    /// Pumps frames both ways until the session closes. One loop in one task: each incoming
    /// message is handled, then everything queued meanwhile (e.g. its ack) is written with a
    /// single flush, so an echo costs one read and one write, with no task hand-off and no
    /// wake-up of this task by its own handlers.
    async fn serve(self: Arc<Self>, socket: SocketHandle<H::Data>, mut ws: WsConn) {
        // Only polled while a write is blocked: the main wait learns of the close from the queue.
        let closed = socket.closed();
        tokio::pin!(closed);
        let mut outbox = socket.outbox.lock().await;
        let mut next = outbox.held.take();
        'serving: loop {
            if next.is_none() {
                next = socket.queue.try_pop();
            }
            if let Some(first) = next.take() {
                let queued = async {
                    let mut frame = first;
                    loop {
                        feed_frame(&mut ws, frame, socket.protocol).await?;
                        match socket.queue.try_pop() {
                            Some(more) => frame = more,
                            None => return Ok::<(), tungstenite::Error>(()),
                        }
                    }
                };
                // A client that stopped reading must not keep a closed session's task alive.
                let fed = tokio::select! {
                    biased;
                    r = queued => r.is_ok(),
                    _ = &mut closed => return,
                };
                if !fed {
                    socket.close(CloseReason::TransportError);
                    return;
                }
                // Flush, still reading while the client's receive window is full: a client that
                // writes before it reads again must not deadlock with us.
                loop {
                    let step = tokio::select! {
                        biased;
                        step = flush_or_read(&mut ws) => step,
                        _ = &mut closed => return,
                    };
                    match step {
                        FlushStep::Flushed(Ok(())) => break,
                        FlushStep::Flushed(Err(_)) => {
                            socket.close(CloseReason::TransportError);
                            return;
                        }
                        FlushStep::Read(msg) => {
                            if !self.on_ws_message(&socket, msg) {
                                break 'serving;
                            }
                        }
                    }
                }
            }
            let keep_going = tokio::select! {
                biased;
                msg = ws.next() => self.on_ws_message(&socket, msg),
                queued = socket.queue.next() => match queued {
                    Next::Frame(frame) => {
                        next = Some(frame);
                        true
                    }
                    Next::Closed => false,
                },
            };
            if !keep_going {
                break;
            }
        }
        // Closing: flush what was queued before the close (e.g. a DISCONNECT packet), without
        // waiting forever on a client that stopped reading.
        let goodbye = async {
            while let Some(frame) = socket.queue.try_pop() {
                if feed_frame(&mut ws, frame, socket.protocol).await.is_err() {
                    return;
                }
            }
            let _ = ws.close().await;
        };
        // Boxed: only needed once, at the end, it would otherwise enlarge the serving loop's
        // state for the connection's whole life.
        let goodbye = Box::pin(time::timeout(self.config.ping_timeout, goodbye));
        let _ = goodbye.await;
        // The close went out here: the session need not wait for a polling GET to take it.
        socket.close_delivered.notify_one();
    }

    /// Handles one read from the WebSocket. Returns `false` when the session ended.
    fn on_ws_message(
        &self,
        socket: &SocketHandle<H::Data>,
        msg: Option<Result<Message, tungstenite::Error>>,
    ) -> bool {
        // Whatever the handlers queue now, the serving loop writes when this returns: it need
        // not be woken for it.
        socket.queue.quiet();
        match msg {
            Some(Ok(Message::Text(text))) => match Incoming::decode(&text) {
                Ok(packet) => self.on_packet(socket, packet),
                Err(err) => {
                    tracing::debug!(sid = %socket.sid, %err, "bad websocket packet");
                    socket.close(CloseReason::ParseError);
                    false
                }
            },
            Some(Ok(Message::Binary(data))) => match binary_message(socket.protocol, data) {
                Some(data) => self.on_packet(socket, Incoming::Binary(data)),
                None => {
                    socket.close(CloseReason::ParseError);
                    false
                }
            },
            Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => true,
            Some(Ok(Message::Close(_))) | None => {
                socket.close(CloseReason::TransportClose);
                false
            }
            Some(Err(err)) => {
                tracing::debug!(sid = %socket.sid, %err, "websocket read failed");
                socket.close(read_error_reason(&err));
                false
            }
        }
    }
}

/// What happened while flushing: the flush ended, or a message arrived first.
enum FlushStep {
    Flushed(Result<(), tungstenite::Error>),
    Read(Option<Result<Message, tungstenite::Error>>),
}

/// Flushes `ws`, or returns the next incoming message if one arrives before the flush ends.
async fn flush_or_read(ws: &mut WsConn) -> FlushStep {
    std::future::poll_fn(|cx| {
        if let Poll::Ready(r) = ws.poll_flush(cx) {
            return Poll::Ready(FlushStep::Flushed(r));
        }
        ws.poll_next(cx).map(FlushStep::Read)
    })
    .await
}

/// A connection that simply went away is a "transport close", as in the reference server;
/// anything else (oversized or invalid frames) is a "transport error".
fn read_error_reason(err: &tungstenite::Error) -> CloseReason {
    use tungstenite::error::{Error, ProtocolError};
    match err {
        Error::ConnectionClosed
        | Error::AlreadyClosed
        | Error::Io(_)
        | Error::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            CloseReason::TransportClose
        }
        _ => CloseReason::TransportError,
    }
}

/// The payload of a binary WebSocket message: as is in v4; in v3 it starts with the packet type
/// byte, which must be 4 (message).
fn binary_message(protocol: Protocol, data: bytes::Bytes) -> Option<bytes::Bytes> {
    match protocol {
        Protocol::V4 => Some(data),
        Protocol::V3 => (data.first() == Some(&4)).then(|| data.slice(1..)),
    }
}

/// A binary WebSocket message for `data` (v3 prefixes the message type byte).
fn binary_frame(protocol: Protocol, data: bytes::Bytes) -> Message {
    match protocol {
        Protocol::V4 => Message::Binary(data),
        Protocol::V3 => {
            let mut framed = Vec::with_capacity(data.len() + 1);
            framed.push(4);
            framed.extend_from_slice(&data);
            Message::Binary(framed.into())
        }
    }
}

/// Writes a frame (without flushing) as one or more WebSocket messages.
async fn feed_frame(
    ws: &mut WsConn,
    frame: Frame,
    protocol: Protocol,
) -> Result<(), tungstenite::Error> {
    match frame {
        Frame::Text(text) => ws.feed(Message::Text(text.into_ws_text())).await,
        Frame::Binary(data) => ws.feed(binary_frame(protocol, data)).await,
        Frame::WithAttachments(text, atts) => {
            ws.feed(Message::Text(text.into_ws_text())).await?;
            for data in atts {
                ws.feed(binary_frame(protocol, data)).await?;
            }
            Ok(())
        }
    }
}
