//! Attribute macros for `socketio-core`: declare a namespace as an `impl` block whose methods
//! handle its events.
//!
//! ```
//! use socketio_core::{AckSender, ConnectError, DisconnectReason, SocketIo, SocketRef};
//! use socketio_macros::namespace;
//!
//! #[derive(Default)]
//! struct Chat;
//!
//! #[derive(serde::Deserialize)]
//! struct Auth { name: String }
//!
//! #[namespace("/chat")]
//! impl Chat {
//!     #[on_connect]
//!     async fn connect(&self, socket: SocketRef, auth: Auth) -> Result<(), ConnectError> {
//!         if auth.name.is_empty() { return Err(ConnectError::new("name required")); }
//!         socket.join("lobby");
//!         Ok(())
//!     }
//!
//!     /// The return value is the ack: here one argument.
//!     #[on("message")]
//!     async fn message(&self, socket: SocketRef, text: String) -> usize {
//!         socket.to("lobby").emit("message", &text).ok();
//!         text.len()
//!     }
//!
//!     /// Sync methods work too; a tuple acks with several arguments.
//!     #[on("add numbers")]
//!     fn add(&self, _socket: SocketRef, a: i64, b: Option<i64>) -> (&'static str, i64) {
//!         ("sum", a + b.unwrap_or(0))
//!     }
//!
//!     /// Take the `AckSender` to answer later (the return value is then not sent).
//!     #[on("slow")]
//!     async fn slow(&self, _socket: SocketRef, ack: AckSender) {
//!         let _ = ack.send(&"done");
//!     }
//!
//!     #[on_disconnect]
//!     async fn gone(&self, socket: SocketRef, reason: DisconnectReason) {
//!         println!("{} left: {reason}", socket.id());
//!     }
//!
//!     fn not_a_handler(&self) {}
//! }
//!
//! let io = SocketIo::new();
//! io.register(Chat);        // or: io.auto_namespaces() registers every Default namespace
//! ```
//!
//! Rules, checked at compile time with errors at the offending span (all of them reported in
//! one compile; the impl block and a stub registration are still emitted, so the rest of the
//! program adds no errors of its own):
//! - `#[namespace("/path")]` goes on an inherent impl block; the path starts with `/` and has no
//!   whitespace. `#[namespace("/path", crate = "socketio_axum::socketio_core")]` names the core
//!   crate through a re-export: generated code only uses `<crate>::__private`.
//! - `#[namespace(dynamic = "^/room-\\d+$")]` instead of a path declares a dynamic namespace
//!   (`SocketIo::dynamic_ns`): every path the regular expression matches gets a child
//!   namespace with these handlers on first connection (an invalid pattern panics at
//!   registration).
//! - `#[on("event")]` (any string: it is the wire name; several: `#[on("join", "leave")]`),
//!   `#[on_any]` (a listener of every event, before its handler: socket.io's `onAny`; its
//!   return value is not an ack), `#[fallback]` (every event without a handler of its own),
//!   `#[on_connect]`, `#[middleware]` and `#[on_disconnect]` go on its methods, sync or async,
//!   which take `&self` then a `SocketRef`. An event name, `#[fallback]`, `#[on_connect]` and
//!   `#[on_disconnect]` appear at most once per impl (methods under `#[cfg]` are exempt: a
//!   method's `#[cfg]` applies to its registration too); `#[on_any]`, `#[middleware]` and
//!   `#[packet_middleware]` and `#[on_any_outgoing]` any number of times, run in declaration
//!   order.
//! - `#[packet_middleware]` methods are sync and take `&self, socket: &SocketRef, event: &str,
//!   args: &mut Args`, returning `Result<(), PacketRejection>` (socket.io's `socket.use`);
//!   `#[on_any_outgoing]` methods are sync and take `&self, socket: &Socket, event: &str,
//!   args: &Args` (socket.io's `onAnyOutgoing`). The names
//!   `connect`, `connect_error`, `disconnect`, `disconnecting`, `newListener` and
//!   `removeListener` are reserved (the Node server's lifecycle events).
//! - The other parameters of an `#[on]`/`#[on_any]`/`#[fallback]` method are extracted in order with
//!   `socketio_core::FromEvent`: any owned `Deserialize` type takes the next argument
//!   (`Option<T>` accepts a missing one; `serde_json::Value` and `bytes::Bytes` work; `&str` is
//!   rejected at the parameter: write `String`), `AckSender` the ack, `Args` all arguments,
//!   `EventName` the event's name. Parameters may be patterns (`(a, b): (i64, i64)`). A payload
//!   that does not deserialize is logged and, when the client asked for an ack, answered with
//!   `{"error": "..."}`; the method is not called.
//! - The return type must be `Serialize` (`socketio_core::IntoAck`); it is the ack (`()`: no
//!   argument, a tuple: several, `Result<T, E>`: `Ok` like `T`, `Err(e)` as `{"error": e}`). An
//!   error type that is only `Display` (`std::io::Error`, ..) is refused with a note: map it
//!   with `.map_err(|e| e.to_string())`.
//! - `#[on_connect]` and `#[middleware]` take `socketio_core::FromConnect` parameters (the auth
//!   payload as a `Deserialize` type, e.g. `Option<Auth>`; `State<T>`, the server's shared
//!   state) and return `()` or `Result<(), E: Into<ConnectError>>`; `#[on_disconnect]`
//!   `socketio_core::FromDisconnect` parameters (`DisconnectReason`, `State<T>`) and returns
//!   nothing. Middlewares (any number) run in declaration order before the connect handler;
//!   the first refusal is the client's CONNECT_ERROR.
//! - `State<T>` (`SocketIo::builder().state(value)`) works as a parameter of every kind of
//!   method.
//!
//! - Options after the path: `typescript` describes the handlers for
//!   `socketio_core::typescript` (cargo feature `typescript`: argument types and the ack need
//!   `TS`, the `#[on_connect]` auth parameter becomes `SocketAuth`), and `emits = ChatEvents`
//!   declares the namespace's server → client events (a `#[derive(ServerEvents)]` type, checked;
//!   with `typescript` they become `ServerToClientEvents`).
//! - The socket parameter may be a `TypedSocket<ChatEvents>` instead of `SocketRef`: its `emit`,
//!   `to` and `broadcast` take only `ChatEvents`, so an undeclared event or a wrong payload is a
//!   compile error.
//!
//! `self` is one shared instance for the whole namespace, like a python-socketio class-based
//! namespace; keep per-socket state on the socket (`Socket::insert_extension`).

mod ctxt;
mod namespace;
mod server_events;

use proc_macro::TokenStream;

/// Declares the handlers of a namespace; see the crate documentation.
#[proc_macro_attribute]
pub fn namespace(attr: TokenStream, item: TokenStream) -> TokenStream {
    namespace::expand(attr.into(), item.into()).into()
}

/// Declares the events a server emits (`socketio_core::ServerEvents`) on an enum: one variant
/// per event, named by `#[event("name")]` (the variant's name by default); its fields, unnamed
/// or named, are the event's arguments in order.
///
/// `#[server_events(typescript)]` also describes them for `ServerToClientEvents` (the fields
/// need `TS`; cargo feature `typescript` of socketio-core), and
/// `#[server_events(crate = "..")]` names socketio-core through a re-export.
///
/// ```
/// use socketio_macros::ServerEvents;
///
/// #[derive(ServerEvents)]
/// enum ChatEvents {
///     #[event("message")]
///     Message { from: String, text: String },
///     #[event("system")]
///     System(String),
/// }
/// ```
#[proc_macro_derive(ServerEvents, attributes(event, server_events))]
pub fn derive_server_events(item: TokenStream) -> TokenStream {
    server_events::expand(item.into()).into()
}

/// Marks a method of a `#[namespace]` impl as the handler of an event.
#[proc_macro_attribute]
pub fn on(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_namespace("on", item)
}

/// Marks a method of a `#[namespace]` impl as an any-event listener (socket.io's `onAny`):
/// it sees every event, handled or not, before its handler (take the name with an
/// `EventName` parameter); its return value is not an ack.
#[proc_macro_attribute]
pub fn on_any(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_namespace("on_any", item)
}

/// Marks a method of a `#[namespace]` impl as an outgoing listener (socket.io's
/// `onAnyOutgoing`): `fn sent(&self, socket: &Socket, event: &str, args: &Args)`, sync, called
/// for every event sent to a socket of the namespace.
#[proc_macro_attribute]
pub fn on_any_outgoing(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_namespace("on_any_outgoing", item)
}

/// Marks a method of a `#[namespace]` impl as its catch-all: it handles every event that has no
/// handler of its own (take the name with an `EventName` parameter); its return value is the
/// ack.
#[proc_macro_attribute]
pub fn fallback(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_namespace("fallback", item)
}

/// Marks a method of a `#[namespace]` impl as a packet middleware (socket.io's `socket.use`):
/// `fn check(&self, socket: &SocketRef, event: &str, args: &mut Args) -> Result<(),
/// PacketRejection>`, sync, run for every incoming event before its handler, in declaration
/// order.
#[proc_macro_attribute]
pub fn packet_middleware(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_namespace("packet_middleware", item)
}

/// Marks a method of a `#[namespace]` impl as its connect handler.
#[proc_macro_attribute]
pub fn on_connect(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_namespace("on_connect", item)
}

/// Marks a method of a `#[namespace]` impl as a namespace middleware: it runs when a client
/// connects, before the connect handler, after the middlewares declared above it (and any
/// added earlier with `ns.use_middleware`); it can refuse the connection with a
/// `ConnectError`. It takes the same parameters as `#[on_connect]`.
#[proc_macro_attribute]
pub fn middleware(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_namespace("middleware", item)
}

/// Marks a method of a `#[namespace]` impl as its disconnect handler.
#[proc_macro_attribute]
pub fn on_disconnect(_attr: TokenStream, item: TokenStream) -> TokenStream {
    outside_namespace("on_disconnect", item)
}

/// The attributes only mean something inside `#[namespace]`, which removes them before they
/// expand; reaching here means they were used elsewhere.
fn outside_namespace(name: &str, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    let msg = format!(
        "#[{name}] only works on a method of an impl block marked #[namespace(\"/path\")]\n\
         help: add #[namespace(\"/\")] (or another path) to the enclosing impl block"
    );
    let err = syn::Error::new(proc_macro2::Span::call_site(), msg).to_compile_error();
    quote::quote!(#err #item).into()
}
