//! Typed server → client events: a [`ServerEvents`] type (an enum with
//! `#[derive(ServerEvents)]` from socketio-macros) lists what a namespace emits, and a
//! [`TypedSocket`] only emits those, so an undeclared event or a wrong payload is a compile
//! error.

use std::marker::PhantomData;
use std::ops::Deref;

use serde::{Serialize, Serializer};

use crate::broadcast::BroadcastOperator;
use crate::error::EmitError;
use crate::socket::{Socket, SocketRef};

/// The events a server emits to its clients in a namespace, one value per event.
///
/// Derive it on an enum with `#[derive(socketio_macros::ServerEvents)]`: each variant is an
/// event, named by `#[event("name")]` (the variant's name by default), and its fields are the
/// event's arguments in order (none, one, or several). With `#[server_events(typescript)]`
/// (cargo feature `typescript`) the enum also describes them for `ServerToClientEvents`.
///
/// ```
/// use socketio_core::{ServerEvents, TypedSocket};
///
/// // What `#[derive(ServerEvents)]` writes for
/// // `enum ChatEvents { #[event("system")] System(String), #[event("position")] Position { x: f64, y: f64 } }`
/// enum ChatEvents {
///     System(String),
///     Position { x: f64, y: f64 },
/// }
///
/// impl ServerEvents for ChatEvents {
///     fn event_name(&self) -> &'static str {
///         match self {
///             ChatEvents::System(..) => "system",
///             ChatEvents::Position { .. } => "position",
///         }
///     }
///     fn serialize_args<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
///         match self {
///             ChatEvents::System(text) => serde::Serialize::serialize(&(text,), s),
///             ChatEvents::Position { x, y } => serde::Serialize::serialize(&(x, y), s),
///         }
///     }
/// }
///
/// fn greet(socket: &TypedSocket<ChatEvents>) {
///     socket.emit(ChatEvents::System("welcome".into())).ok();
///     socket.broadcast().emit(ChatEvents::Position { x: 1.0, y: 2.0 }).ok();
/// }
/// ```
///
/// The untyped form is not offered by a typed socket:
///
/// ```compile_fail,E0061
/// # struct ChatEvents;
/// # impl socketio_core::ServerEvents for ChatEvents {
/// #     fn event_name(&self) -> &'static str { "system" }
/// #     fn serialize_args<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
/// #         serde::Serialize::serialize(&(), s)
/// #     }
/// # }
/// fn greet(socket: &socketio_core::TypedSocket<ChatEvents>) {
///     socket.emit("system", &"welcome").ok();
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not declare server events",
    label = "not a `ServerEvents` type",
    note = "declare the events with `#[derive(socketio_macros::ServerEvents)]` on an enum: one variant \
            per event, its fields the event's arguments"
)]
pub trait ServerEvents: Send + Sync + 'static {
    /// The event's name.
    fn event_name(&self) -> &'static str;

    /// Serializes the event's arguments following the rules of [`crate::args`] (a tuple for
    /// several, `()` for none).
    fn serialize_args<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>;
}

/// The arguments of a [`ServerEvents`] value, as `Serialize`.
struct EventArgs<'a, E>(&'a E);

impl<E: ServerEvents> Serialize for EventArgs<'_, E> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_args(serializer)
    }
}

/// A socket that emits only the events of `E`: take it instead of `SocketRef` as the socket
/// parameter of a `#[namespace]` method, or make one with `TypedSocket::from(socket)` (in a
/// closure handler).
///
/// It dereferences to [`Socket`] for everything else (`id`, `join`, `rooms`, extensions..),
/// but its own [`TypedSocket::emit`], [`TypedSocket::to`] and [`TypedSocket::broadcast`] take
/// the place of the untyped ones, so `socket.emit("event", &data)` does not compile.
/// [`TypedSocket::untyped`] gives the plain socket back where an untyped emit is meant.
pub struct TypedSocket<E> {
    socket: SocketRef,
    _events: PhantomData<fn(E)>,
}

impl<E> Clone for TypedSocket<E> {
    fn clone(&self) -> Self {
        TypedSocket {
            socket: self.socket.clone(),
            _events: PhantomData,
        }
    }
}

impl<E> std::fmt::Debug for TypedSocket<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.socket.fmt(f)
    }
}

impl<E> From<SocketRef> for TypedSocket<E> {
    fn from(socket: SocketRef) -> Self {
        TypedSocket {
            socket,
            _events: PhantomData,
        }
    }
}

impl<E> Deref for TypedSocket<E> {
    type Target = Socket;
    fn deref(&self) -> &Socket {
        &self.socket
    }
}

impl<E: ServerEvents> TypedSocket<E> {
    /// Sends `event` to this client.
    ///
    /// # Errors
    ///
    /// As [`Socket::emit`]: the client is gone, its queue is full, or a payload does not
    /// serialize.
    pub fn emit(&self, event: E) -> Result<(), EmitError> {
        self.socket.emit(event.event_name(), &EventArgs(&event))
    }

    /// Emits with socket.io's `compress` flag (as [`Socket::compress`]):
    /// `socket.compress(false).emit(event)`.
    pub fn compress(&self, compress: bool) -> TypedEmitter<'_, E> {
        TypedEmitter {
            socket: &self.socket,
            compress,
            _events: PhantomData,
        }
    }

    /// Selects the members of `room` but this socket (as [`Socket::to`]).
    pub fn to(&self, room: impl Into<String>) -> TypedBroadcast<E> {
        TypedBroadcast::new(self.socket.to(room))
    }

    /// Selects every socket of the namespace but this one (as [`Socket::broadcast`]).
    pub fn broadcast(&self) -> TypedBroadcast<E> {
        TypedBroadcast::new(self.socket.broadcast())
    }
}

impl<E> TypedSocket<E> {
    /// The plain socket, whose `emit` takes any event.
    pub fn untyped(&self) -> &SocketRef {
        &self.socket
    }
}

/// An emit of `E`'s events to one socket with socket.io's `compress` flag:
/// [`TypedSocket::compress`].
pub struct TypedEmitter<'a, E> {
    socket: &'a SocketRef,
    compress: bool,
    _events: PhantomData<fn(E)>,
}

impl<E: ServerEvents> TypedEmitter<'_, E> {
    /// Sends `event` to this client (as [`TypedSocket::emit`]).
    ///
    /// # Errors
    ///
    /// As [`Socket::emit`].
    pub fn emit(&self, event: E) -> Result<(), EmitError> {
        self.socket
            .compress(self.compress)
            .emit(event.event_name(), &EventArgs(&event))
    }
}

/// A [`BroadcastOperator`] that emits only the events of `E`.
pub struct TypedBroadcast<E> {
    op: BroadcastOperator,
    _events: PhantomData<fn(E)>,
}

impl<E: ServerEvents> TypedBroadcast<E> {
    /// Wraps a selection.
    pub fn new(op: BroadcastOperator) -> Self {
        TypedBroadcast {
            op,
            _events: PhantomData,
        }
    }

    /// Adds a room to the selection.
    pub fn to(self, room: impl Into<String>) -> Self {
        Self::new(self.op.to(room))
    }

    /// Leaves out the members of `room`.
    pub fn except(self, room: impl Into<String>) -> Self {
        Self::new(self.op.except(room))
    }

    /// Sets socket.io's `compress` flag (as [`BroadcastOperator::compress`]).
    pub fn compress(self, compress: bool) -> Self {
        Self::new(self.op.compress(compress))
    }

    /// Emits `event` to the selection (as [`BroadcastOperator::emit`]).
    ///
    /// # Errors
    ///
    /// As [`BroadcastOperator::emit`]: a payload that does not serialize.
    pub fn emit(&self, event: E) -> Result<(), EmitError> {
        self.op.emit(event.event_name(), &EventArgs(&event))
    }

    /// The plain selection (for `sockets()`, `local()`, acks, ..).
    pub fn untyped(self) -> BroadcastOperator {
        self.op
    }
}
