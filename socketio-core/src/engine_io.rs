//! A bare Engine.IO server: sessions and messages without the Socket.IO layer (what
//! python-engineio is to python-socketio). Built with [`crate::SocketIoBuilder::build_engine_io`].

use std::sync::Arc;

use bytes::Bytes;

use crate::engine::packet::Frame;
use crate::engine::sid::Sid;
use crate::engine::socket::{CloseReason, QueueError, SocketHandle, Transport};
use crate::engine::{Engine, EngineHandler};
use crate::error::EmitError;
use crate::service::SocketIoService;

/// A message received from, or sent to, an Engine.IO client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineMessage {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Bytes),
}

type OnMessage = dyn Fn(EngineIoSocket, EngineMessage) + Send + Sync;

/// The handler side of a bare Engine.IO server.
pub(crate) struct EngineIoCore {
    on_message: Box<OnMessage>,
}

impl EngineIoCore {
    pub(crate) fn new(on_message: Box<OnMessage>) -> Self {
        EngineIoCore { on_message }
    }
}

impl EngineIoCore {
    /// Runs the user's callback; a panic in it is logged at error level and the session carries
    /// on with its next message (as for Socket.IO handlers).
    fn deliver(&self, socket: &SocketHandle<()>, message: EngineMessage) {
        let call = || (self.on_message)(EngineIoSocket(socket.clone()), message);
        if let Err(payload) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)) {
            let panic = crate::panic::message(&*payload);
            tracing::error!(sid = %socket.sid, panic, "engine.io message callback panicked");
        }
    }
}

impl EngineHandler for EngineIoCore {
    type Data = ();

    fn new_data(&self) {}

    fn on_open(&self, _socket: &SocketHandle<()>) {}

    fn on_message(&self, socket: &SocketHandle<()>, text: &str) {
        self.deliver(socket, EngineMessage::Text(text.to_owned()));
    }

    fn on_binary(&self, socket: &SocketHandle<()>, data: Bytes) {
        self.deliver(socket, EngineMessage::Binary(data));
    }

    fn on_close(&self, _socket: &SocketHandle<()>, _reason: CloseReason) {}
}

/// A bare Engine.IO server; cheap to clone.
///
/// ```no_run
/// use socketio_core::{EngineMessage, SocketIo};
/// // an echo server
/// let eio = SocketIo::builder().build_engine_io(|socket, msg| {
///     let _ = socket.send(msg);
/// });
/// let service = eio.service();
/// ```
#[derive(Clone)]
pub struct EngineIo {
    engine: Arc<Engine<EngineIoCore>>,
}

impl std::fmt::Debug for EngineIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineIo")
            .field("path", &self.engine.config.path)
            .finish()
    }
}

impl EngineIo {
    pub(crate) fn new(engine: Arc<Engine<EngineIoCore>>) -> Self {
        EngineIo { engine }
    }

    /// The HTTP endpoint as a tower `Service`.
    pub fn service(&self) -> SocketIoService {
        SocketIoService::new(self.engine.clone())
    }

    /// The path the service answers on.
    pub fn path(&self) -> &str {
        &self.engine.config.path
    }
}

/// One Engine.IO session, as handed to the message handler.
#[derive(Clone)]
pub struct EngineIoSocket(SocketHandle<()>);

impl std::fmt::Debug for EngineIoSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("EngineIoSocket").field(&self.0.sid).finish()
    }
}

impl EngineIoSocket {
    /// The session id.
    pub fn sid(&self) -> Sid {
        self.0.sid
    }

    /// The transport in use.
    pub fn transport(&self) -> Transport {
        self.0.transport()
    }

    /// Queues a message for the client.
    pub fn send(&self, msg: EngineMessage) -> Result<(), EmitError> {
        let frame = match msg {
            EngineMessage::Text(text) => {
                let mut packet = String::with_capacity(text.len() + 1);
                packet.push('4');
                packet.push_str(&text);
                Frame::Text(packet.into())
            }
            EngineMessage::Binary(data) => Frame::Binary(data),
        };
        self.0.send(frame).map_err(|e| match e {
            QueueError::Full => EmitError::Full,
            QueueError::Closed => EmitError::Closed,
        })
    }

    /// Closes the session.
    pub fn close(&self) {
        self.0.close(CloseReason::ServerClose);
    }
}
