//! Handler traits: what the namespace tables store, and the closure forms that convert into
//! them. The `socketio-macros` crate generates implementations of the same traits.
//!
//! Also where a panic in user code is contained: `CatchPanic`, `HandlerSite` and the error ack
//! an [`AckSender`] sends when a panic drops it.

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use crate::args::{ArgError, Args};
use crate::error::{ConnectError, EmitError};
use crate::socket::state::State;
use crate::socket::{DisconnectReason, SocketRef};

use crate::future::BoxFuture;

/// An event received by a socket: its name, arguments and (when the client asked for one) the
/// means to acknowledge it.
#[derive(Debug)]
pub struct Event {
    /// The event name.
    pub name: String,
    /// The arguments.
    pub args: Args,
    /// Present when the client expects an ack.
    pub ack: Option<AckSender>,
}

/// Answers a client's ack request once. When the client did not ask for an ack, sending does
/// nothing.
///
/// Dropping it without sending answers nothing, unless a panic drops it (the handler holding it
/// panicked, before or after its first `.await`): the client then gets the error ack
/// `{"error": "internal server error"}`, the same shape as for arguments that did not extract.
/// An `AckSender` moved into a task of your own is not covered when that task panics (tokio
/// drops its state after the panic).
#[derive(Debug)]
pub struct AckSender {
    socket: SocketRef,
    id: Option<u64>,
}

impl AckSender {
    pub(crate) fn new(socket: SocketRef, id: u64) -> Self {
        AckSender {
            socket,
            id: Some(id),
        }
    }

    /// Whether the client asked for an ack.
    pub fn requested(&self) -> bool {
        self.id.is_some()
    }

    /// Sends the ack; `data` follows the argument rules of [`crate::args`].
    pub fn send<T: Serialize + ?Sized>(mut self, data: &T) -> Result<(), EmitError> {
        let Some(id) = self.id else { return Ok(()) };
        // Still unanswered while `data` serializes: if its `Serialize` panics, the drop answers.
        let sent = self.socket.send_ack_data(id, data);
        self.id = None;
        sent
    }

    /// Sends already-built arguments.
    pub fn send_args(mut self, args: Args) -> Result<(), EmitError> {
        match self.id.take() {
            Some(id) => self.socket.send_ack(id, args),
            None => Ok(()),
        }
    }

    /// Sends the error ack `[{"error": message}]`: the one shape for every event the server
    /// could not handle (arguments that did not extract, a handler that panicked).
    pub(crate) fn send_error(mut self, message: &str) -> Result<(), EmitError> {
        match self.id.take() {
            Some(id) => send_error_ack(&self.socket, id, message),
            None => Ok(()),
        }
    }
}

impl Drop for AckSender {
    fn drop(&mut self) {
        // Unanswered and dropped by a panic: the handler will never answer, so the server does.
        if let Some(id) = self.id.take() {
            if std::thread::panicking() || DROPPING_PANICKED.get() {
                let _ = send_error_ack(&self.socket, id, INTERNAL_ERROR);
            }
        }
    }
}

/// The body of an error ack.
#[derive(Serialize)]
struct ErrorAck<'a> {
    error: &'a str,
}

fn send_error_ack(socket: &SocketRef, id: u64, message: &str) -> Result<(), EmitError> {
    socket.send_ack_data(id, &ErrorAck { error: message })
}

/// What a client is told when user code panicked while handling its event or connection: the
/// error ack's message and the CONNECT_ERROR message. The panic message itself only goes to the
/// server log.
pub(crate) const INTERNAL_ERROR: &str = "internal server error";

thread_local! {
    /// Set while the state of a handler future that panicked is dropped (see [`drop_panicked`]):
    /// an unanswered [`AckSender`] dropped then was abandoned by the panic.
    static DROPPING_PANICKED: Cell<bool> = const { Cell::new(false) };
}

/// Drops what a panic left behind (a handler future's state), with [`DROPPING_PANICKED`] set
/// so the acks it holds answer with the error ack. A panic while dropping is contained too.
pub(crate) fn drop_panicked<T>(value: T) {
    let was = DROPPING_PANICKED.replace(true);
    let _ = catch_unwind(AssertUnwindSafe(move || drop(value)));
    DROPPING_PANICKED.set(was);
}

/// Where user code runs, for the log line when it panics: the socket (namespace and id) and the
/// event, or `connect` / `disconnect` for those handlers.
pub(crate) struct HandlerSite {
    socket: SocketRef,
    what: What,
}

enum What {
    Event(Arc<str>),
    Connect,
    Middleware,
    Disconnect,
}

impl HandlerSite {
    /// The handler of event `name` on `socket`.
    pub(crate) fn event(socket: SocketRef, name: Arc<str>) -> Self {
        HandlerSite {
            socket,
            what: What::Event(name),
        }
    }

    /// The connect handler of `socket`'s namespace.
    pub(crate) fn connect(socket: SocketRef) -> Self {
        HandlerSite {
            socket,
            what: What::Connect,
        }
    }

    /// A middleware of `socket`'s namespace.
    pub(crate) fn middleware(socket: SocketRef) -> Self {
        HandlerSite {
            socket,
            what: What::Middleware,
        }
    }

    /// The disconnect handler of `socket`'s namespace.
    pub(crate) fn disconnect(socket: SocketRef) -> Self {
        HandlerSite {
            socket,
            what: What::Disconnect,
        }
    }

    /// Logs a panic of the user code that ran here, at error level (a bug of the application,
    /// not of the client), with the panic message when it is a string.
    pub(crate) fn log_panic(&self, payload: &(dyn Any + Send)) {
        let event = match &self.what {
            What::Event(name) => name,
            What::Connect => "connect",
            What::Middleware => "middleware",
            What::Disconnect => "disconnect",
        };
        let message = crate::panic::message(payload);
        tracing::error!(
            ns = self.socket.ns(),
            event,
            sid = %self.socket.id(),
            panic = message,
            "handler panicked"
        );
    }
}

/// Polls a future with its panics contained: a panic ends it with `Err(payload)`, and what the
/// future held is dropped right away through [`drop_panicked`]. Costs nothing more than the
/// `catch_unwind` around each poll (no allocation).
pub(crate) struct CatchPanic<F> {
    fut: Option<F>,
}

impl<F: Future + Unpin> CatchPanic<F> {
    pub(crate) fn new(fut: F) -> Self {
        CatchPanic { fut: Some(fut) }
    }
}

impl<F: Future + Unpin> Future for CatchPanic<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Some(fut) = this.fut.as_mut() else {
            return Poll::Pending;
        };
        match catch_unwind(AssertUnwindSafe(|| Pin::new(fut).poll(cx))) {
            Ok(Poll::Ready(out)) => {
                this.fut = None;
                Poll::Ready(Ok(out))
            }
            Ok(Poll::Pending) => Poll::Pending,
            Err(payload) => {
                drop_panicked(this.fut.take());
                Poll::Ready(Err(payload))
            }
        }
    }
}

/// Runs a connect handler or a middleware (`site` says which, for the log) with panics
/// contained: a panic (in `call` or in its future) is logged and refuses the connection with
/// [`INTERNAL_ERROR`].
pub(crate) async fn call_connect(
    site: HandlerSite,
    handler: &dyn ConnectHandler,
    socket: SocketRef,
    auth: Option<Value>,
) -> Result<(), ConnectError> {
    let outcome = match catch_unwind(AssertUnwindSafe(|| handler.call(socket, auth))) {
        Ok(fut) => CatchPanic::new(fut).await,
        Err(payload) => Err(payload),
    };
    outcome.unwrap_or_else(|payload| {
        site.log_panic(&*payload);
        Err(ConnectError::new(INTERNAL_ERROR))
    })
}

/// Handles one event name of a namespace.
///
/// A panic in `call` or in the future it returns (before or after its first `.await`) is
/// contained: logged at error level with the namespace, event and socket id, answered with the
/// error ack `{"error": "internal server error"}` when the client asked for an ack and the
/// handler had not answered, and the socket carries on with its next event.
pub trait EventHandler: Send + Sync + 'static {
    /// Runs the handler. It owns the ack: answer it (or drop it) as you see fit. It receives
    /// the shared handle the dispatcher holds, so a handler with state can move it into its
    /// future without another reference count.
    fn call(self: Arc<Self>, socket: SocketRef, event: Event) -> BoxFuture<()>;
}

/// Decides whether a client may connect to a namespace.
///
/// A panic in `call` or its future is logged at error level and refuses the connection with
/// the CONNECT_ERROR message `"internal server error"`; the client's other namespaces are not
/// affected.
pub trait ConnectHandler: Send + Sync + 'static {
    /// Accepts with `Ok(())` or refuses with a [`ConnectError`] the client receives.
    fn call(&self, socket: SocketRef, auth: Option<Value>) -> BoxFuture<Result<(), ConnectError>>;
}

/// Runs when a socket leaves its namespace.
///
/// A panic in `call` or its future is logged at error level; the socket has already left the
/// namespace and its rooms.
pub trait DisconnectHandler: Send + Sync + 'static {
    /// Called once per socket, after it left its rooms.
    fn call(&self, socket: SocketRef, reason: DisconnectReason) -> BoxFuture<()>;
}

/// A value extracted from an event for one handler parameter (after the leading `SocketRef`).
///
/// Any `DeserializeOwned` type takes the next positional argument; [`AckSender`] takes the ack
/// (the handler's return value is then not sent); [`Args`] takes all arguments; [`EventName`]
/// the event's name (useful in a catch-all handler); [`State`] the server's shared state.
/// Arguments are owned: write `String`, not `&str`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a handler argument",
    label = "not extractable from an event",
    note = "handler arguments after the socket must implement `serde::Deserialize` (the next event \
            argument, owned: `String` rather than `&str`), or be `AckSender` (the ack), `Args` (all \
            arguments), `EventName` (the event's name) or `State<T>` (shared state)"
)]
pub trait FromEvent: Sized {
    /// Extracts the value.
    fn from_event(parts: &mut EventParts<'_>) -> Result<Self, ArgError>;
}

/// The event being taken apart by [`FromEvent`] extractors.
pub struct EventParts<'a> {
    socket: &'a SocketRef,
    name: &'a str,
    args: &'a Args,
    next: usize,
    ack: &'a mut Option<AckSender>,
}

#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned> FromEvent for T {
    fn from_event(parts: &mut EventParts<'_>) -> Result<Self, ArgError> {
        let index = parts.next;
        parts.next += 1;
        parts.args.get(index)
    }
}

impl FromEvent for AckSender {
    fn from_event(parts: &mut EventParts<'_>) -> Result<Self, ArgError> {
        Ok(parts.ack.take().unwrap_or_else(|| AckSender {
            socket: parts.socket.clone(),
            id: None,
        }))
    }
}

impl FromEvent for Args {
    fn from_event(parts: &mut EventParts<'_>) -> Result<Self, ArgError> {
        Ok(parts.args.clone())
    }
}

impl<T: Send + Sync + 'static> FromEvent for State<T> {
    fn from_event(parts: &mut EventParts<'_>) -> Result<Self, ArgError> {
        Ok(State::from_map(&parts.socket.ns.config().state))
    }
}

/// The name of the event being handled, as the client sent it: the extractor for a handler
/// of several events, a catch-all (`#[fallback]`, [`crate::Namespace::fallback`]) or a listener
/// (`#[on_any]`, [`crate::Namespace::on_any`]). It takes
/// no event argument.
///
/// ```
/// # let io = socketio_core::SocketIo::new();
/// use socketio_core::{EventName, SocketRef};
/// io.ns("/").on("ping", |_s: SocketRef, name: EventName| async move { name.to_string() });
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EventName(pub String);

impl EventName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for EventName {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for EventName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for EventName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<EventName> for String {
    fn from(name: EventName) -> String {
        name.0
    }
}

impl FromEvent for EventName {
    fn from_event(parts: &mut EventParts<'_>) -> Result<Self, ArgError> {
        Ok(EventName(parts.name.to_owned()))
    }
}

/// The event parts extractors read (for generated code).
pub fn event_parts<'a>(
    socket: &'a SocketRef,
    name: &'a str,
    args: &'a Args,
    ack: &'a mut Option<AckSender>,
) -> EventParts<'a> {
    EventParts {
        socket,
        name,
        args,
        next: 0,
        ack,
    }
}

/// What an event handler may return: the ack, sent when the client asked for one and the
/// handler did not take the [`AckSender`].
///
/// Implemented for every `Serialize` type, following the argument rules of [`crate::args`]:
/// `()` sends no argument, a tuple several, anything else one; `Result<T, E>` (both
/// `Serialize`) sends `Ok(t)` like `t` and `Err(e)` as `{"error": e}`.
///
/// An error type that is only `Display` (`std::io::Error`, a thiserror enum, `anyhow::Error`)
/// is not `Serialize`, so `Result<T, io::Error>` is not an ack: map the error to its message
/// (`.map_err(|e| e.to_string())`, acked as `{"error": "<message>"}`), or derive `Serialize`
/// for your error type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent as an ack",
    label = "the return value of an event handler is its ack",
    note = "an ack must implement `serde::Serialize`; for `Result<T, E>` both `T` and `E` must: \
            when `E` is only `Display` (`std::io::Error`, a thiserror enum, `anyhow::Error`), map it to \
            its message with `.map_err(|e| e.to_string())` (acked as `{{\"error\": \"<message>\"}}`) or \
            derive `Serialize` for it"
)]
pub trait IntoAck {
    /// Sends `self` through `ack`.
    fn send_ack(&self, ack: AckSender) -> Result<(), EmitError>;
}

#[diagnostic::do_not_recommend]
impl<T: Serialize + ?Sized> IntoAck for T {
    fn send_ack(&self, ack: AckSender) -> Result<(), EmitError> {
        ack.send(self)
    }
}

/// Sends a handler's return value as the ack, when the client asked for one and the handler did
/// not take the [`AckSender`].
pub fn send_return<R: IntoAck + ?Sized>(ack: Option<AckSender>, out: &R) {
    if let Some(ack) = ack {
        let sid = ack.socket.id();
        if let Err(err) = out.send_ack(ack) {
            tracing::debug!(%sid, %err, "ack not sent");
        }
    }
}

/// Decodes a connect handler's auth parameter; a mismatch refuses the connection.
pub(crate) fn decode_auth<A: DeserializeOwned>(auth: Option<Value>) -> Result<A, ConnectError> {
    Args::new(auth.into_iter().collect(), Vec::new())
        .get::<A>(0)
        .map_err(|err| ConnectError::new(format!("invalid auth payload: {}", err.source)))
}

/// Answers an event whose arguments did not extract: logged at debug level (a client fault a
/// client could repeat at will), and sent as the error ack `{"error": "<the ArgError>"}` when
/// the client asked for one.
pub fn reject_event(socket: &SocketRef, name: &str, ack: Option<AckSender>, err: ArgError) {
    tracing::debug!(sid = %socket.id(), ns = socket.ns(), event = name, %err, "event arguments rejected");
    if let Some(ack) = ack {
        let _ = ack.send_error(&err.to_string());
    }
}

/// Converts a closure into an [`EventHandler`]. `M` only tells the impls apart.
///
/// Implemented for `async` closures `Fn(SocketRef, A1, …, An) -> impl Future<Output = R>` with
/// up to 8 [`FromEvent`] parameters and `R:` [`IntoAck`] (any `Serialize` type: the return value
/// is the ack, sent when the client asked for one and the handler did not take the
/// [`AckSender`]).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not an event handler",
    note = "an event handler is an async closure `|socket: SocketRef, a: A, b: B, ..| async move {{ .. }}` \
            whose parameters after the socket are owned `Deserialize` types, `AckSender`, `Args` or \
            `EventName`, and whose output is `Serialize` (it becomes the ack; for `Result<T, E>` both \
            `T` and `E`: map a `Display`-only error with `.map_err(|e| e.to_string())`)"
)]
pub trait IntoEventHandler<M>: Send + Sync + 'static {
    /// Erases the closure.
    fn into_handler(self) -> Box<dyn EventHandler>;
}

/// Adapts a closure of a given arity.
struct FnEvent<F, M> {
    f: F,
    _marker: std::marker::PhantomData<fn() -> M>,
}

macro_rules! impl_event_handler {
    ($($ty:ident),*) => {
        #[allow(non_snake_case, unused_mut, unused_variables)]
        impl<F, Fut, R, $($ty,)*> EventHandler for FnEvent<F, ($($ty,)*)>
        where
            F: Fn(SocketRef, $($ty,)*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = R> + Send + 'static,
            R: IntoAck + Send + 'static,
            $($ty: FromEvent + Send + 'static,)*
        {
            fn call(self: Arc<Self>, socket: SocketRef, event: Event) -> BoxFuture<()> {
                let Event { name, args, mut ack } = event;
                let mut parts = EventParts { socket: &socket, name: &name, args: &args, next: 0, ack: &mut ack };
                $(
                    let $ty = match $ty::from_event(&mut parts) {
                        Ok(v) => v,
                        Err(err) => {
                            reject_event(&socket, &name, ack, err);
                            return Box::pin(async {});
                        }
                    };
                )*
                let fut = (self.f)(socket, $($ty,)*);
                Box::pin(async move {
                    let out = fut.await;
                    send_return(ack, &out);
                })
            }
        }

        impl<F, Fut, R, $($ty,)*> IntoEventHandler<($($ty,)*)> for F
        where
            F: Fn(SocketRef, $($ty,)*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = R> + Send + 'static,
            R: IntoAck + Send + 'static,
            $($ty: FromEvent + Send + 'static,)*
        {
            fn into_handler(self) -> Box<dyn EventHandler> {
                Box::new(FnEvent { f: self, _marker: std::marker::PhantomData::<fn() -> ($($ty,)*)> })
            }
        }
    };
}

impl_event_handler!();
impl_event_handler!(A1);
impl_event_handler!(A1, A2);
impl_event_handler!(A1, A2, A3);
impl_event_handler!(A1, A2, A3, A4);
impl_event_handler!(A1, A2, A3, A4, A5);
impl_event_handler!(A1, A2, A3, A4, A5, A6);
impl_event_handler!(A1, A2, A3, A4, A5, A6, A7);
impl_event_handler!(A1, A2, A3, A4, A5, A6, A7, A8);

/// What a connect closure may return: `()` (accept) or `Result<(), E>` with
/// `E: Into<ConnectError>` (e.g. a `&str` or `String` message).
pub trait IntoConnectResult: Send + 'static {
    /// Converts to the accept/refuse decision.
    fn into_connect_result(self) -> Result<(), ConnectError>;
}

impl IntoConnectResult for () {
    fn into_connect_result(self) -> Result<(), ConnectError> {
        Ok(())
    }
}

impl<E: Into<ConnectError> + Send + 'static> IntoConnectResult for Result<(), E> {
    fn into_connect_result(self) -> Result<(), ConnectError> {
        self.map_err(Into::into)
    }
}

/// A value extracted from a connection request for one parameter of a connect handler or a
/// namespace middleware (after the leading `SocketRef`).
///
/// Any `DeserializeOwned` type is the CONNECT packet's auth payload (use `Option<A>` when it
/// may be absent; a payload that does not fit refuses the connection with
/// `"invalid auth payload: .."`); [`State`] is the server's shared state.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a connect handler or middleware argument",
    label = "not extractable from a connection",
    note = "connect handler and middleware arguments after the socket must implement \
            `serde::Deserialize` (the auth payload, e.g. `Option<Auth>`) or be `State<T>`"
)]
pub trait FromConnect: Sized {
    /// Extracts the value from the socket being connected and the auth payload.
    fn from_connect(socket: &SocketRef, auth: &Option<Value>) -> Result<Self, ConnectError>;
}

#[diagnostic::do_not_recommend]
impl<T: DeserializeOwned> FromConnect for T {
    fn from_connect(_socket: &SocketRef, auth: &Option<Value>) -> Result<Self, ConnectError> {
        decode_auth(auth.clone())
    }
}

impl<T: Send + Sync + 'static> FromConnect for State<T> {
    fn from_connect(socket: &SocketRef, _auth: &Option<Value>) -> Result<Self, ConnectError> {
        Ok(State::from_map(&socket.ns.config().state))
    }
}

/// Converts a closure into a [`ConnectHandler`] (a connect handler or a namespace middleware):
/// `Fn(SocketRef, A1, .., An)` with up to 4 [`FromConnect`] parameters (the auth payload as any
/// `Deserialize` type, [`State`]), returning `()` or `Result<(), E: Into<ConnectError>>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a connect handler or middleware",
    note = "a connect handler or middleware is an async closure `|socket: SocketRef, auth: Auth| async move {{ .. }}` \
            whose parameters after the socket are `Deserialize` (the auth payload) or `State<T>`, and \
            whose output is `()` or `Result<(), E>` with `E: Into<ConnectError>`"
)]
pub trait IntoConnectHandler<M>: Send + Sync + 'static {
    /// Erases the closure.
    fn into_handler(self) -> Box<dyn ConnectHandler>;
}

struct FnConnect<F, M> {
    f: F,
    _marker: std::marker::PhantomData<fn() -> M>,
}

macro_rules! impl_connect_handler {
    ($($ty:ident),*) => {
        #[allow(non_snake_case, unused_variables)]
        impl<F, Fut, $($ty,)*> ConnectHandler for FnConnect<F, ($($ty,)*)>
        where
            F: Fn(SocketRef, $($ty,)*) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 'static,
            Fut::Output: IntoConnectResult,
            $($ty: FromConnect + Send + 'static,)*
        {
            fn call(&self, socket: SocketRef, auth: Option<Value>) -> BoxFuture<Result<(), ConnectError>> {
                $(
                    let $ty = match $ty::from_connect(&socket, &auth) {
                        Ok(v) => v,
                        Err(err) => return Box::pin(async move { Err(err) }),
                    };
                )*
                let fut = (self.f)(socket, $($ty,)*);
                Box::pin(async move { fut.await.into_connect_result() })
            }
        }

        impl<F, Fut, $($ty,)*> IntoConnectHandler<($($ty,)*)> for F
        where
            F: Fn(SocketRef, $($ty,)*) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 'static,
            Fut::Output: IntoConnectResult,
            $($ty: FromConnect + Send + 'static,)*
        {
            fn into_handler(self) -> Box<dyn ConnectHandler> {
                Box::new(FnConnect::<F, ($($ty,)*)> {
                    f: self,
                    _marker: std::marker::PhantomData,
                })
            }
        }
    };
}

impl_connect_handler!();
impl_connect_handler!(A1);
impl_connect_handler!(A1, A2);
impl_connect_handler!(A1, A2, A3);
impl_connect_handler!(A1, A2, A3, A4);

/// A value given to one parameter of a disconnect handler (after the leading `SocketRef`):
/// [`DisconnectReason`] (why the socket left) or [`State`] (the server's shared state).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a disconnect handler argument",
    label = "not available when a socket disconnects",
    note = "disconnect handler arguments after the socket are `DisconnectReason` or `State<T>`"
)]
pub trait FromDisconnect: Sized {
    /// Extracts the value from the socket that left and the reason. A [`State`] the server
    /// does not have panics, as in event handlers (logged, the handler does not run).
    fn from_disconnect(socket: &SocketRef, reason: DisconnectReason) -> Self;
}

impl FromDisconnect for DisconnectReason {
    fn from_disconnect(_socket: &SocketRef, reason: DisconnectReason) -> Self {
        reason
    }
}

impl<T: Send + Sync + 'static> FromDisconnect for State<T> {
    fn from_disconnect(socket: &SocketRef, _reason: DisconnectReason) -> Self {
        State::from_map(&socket.ns.config().state)
    }
}

/// Converts a closure into a [`DisconnectHandler`]: `Fn(SocketRef, A1, .., An)` with up to 3
/// [`FromDisconnect`] parameters ([`DisconnectReason`], [`State`]), in any order.
///
/// ```
/// # let io = socketio_core::SocketIo::builder().state(std::sync::atomic::AtomicUsize::new(0)).build();
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use socketio_core::{DisconnectReason, SocketRef, State};
/// io.ns("/").on_disconnect(
///     |_s: SocketRef, online: State<AtomicUsize>, reason: DisconnectReason| async move {
///         online.fetch_sub(1, Ordering::Relaxed);
///         println!("gone: {reason}");
///     },
/// );
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a disconnect handler",
    note = "a disconnect handler is an async closure `|socket: SocketRef, reason: DisconnectReason| async move {{ .. }}` \
            whose parameters after the socket are `DisconnectReason` or `State<T>`, returning `()`"
)]
pub trait IntoDisconnectHandler<M>: Send + Sync + 'static {
    /// Erases the closure.
    fn into_handler(self) -> Box<dyn DisconnectHandler>;
}

struct FnDisconnect<F, M> {
    f: F,
    _marker: std::marker::PhantomData<fn() -> M>,
}

macro_rules! impl_disconnect_handler {
    ($($ty:ident),*) => {
        #[allow(non_snake_case, unused_variables)]
        impl<F, Fut, $($ty,)*> DisconnectHandler for FnDisconnect<F, ($($ty,)*)>
        where
            F: Fn(SocketRef, $($ty,)*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = ()> + Send + 'static,
            $($ty: FromDisconnect + Send + 'static,)*
        {
            fn call(&self, socket: SocketRef, reason: DisconnectReason) -> BoxFuture<()> {
                $(let $ty = $ty::from_disconnect(&socket, reason);)*
                Box::pin((self.f)(socket, $($ty,)*))
            }
        }

        impl<F, Fut, $($ty,)*> IntoDisconnectHandler<($($ty,)*)> for F
        where
            F: Fn(SocketRef, $($ty,)*) -> Fut + Send + Sync + 'static,
            Fut: Future<Output = ()> + Send + 'static,
            $($ty: FromDisconnect + Send + 'static,)*
        {
            fn into_handler(self) -> Box<dyn DisconnectHandler> {
                Box::new(FnDisconnect::<F, ($($ty,)*)> {
                    f: self,
                    _marker: std::marker::PhantomData,
                })
            }
        }
    };
}

impl_disconnect_handler!();
impl_disconnect_handler!(A1);
impl_disconnect_handler!(A1, A2);
impl_disconnect_handler!(A1, A2, A3);

/// The extractors that are not event arguments, as TypeScript sees them.
#[cfg(feature = "typescript")]
mod describe {
    use super::{AckSender, EventName};
    use crate::args::Args;
    use crate::typescript::{DescribeArg, EventTypes};

    /// Takes the ack: what the handler sends through it is not known from the types.
    impl DescribeArg for AckSender {
        fn describe_arg(types: &mut EventTypes, _name: Option<&'static str>) {
            types.ack_unknown();
        }
    }

    /// Takes every argument: `...rest: any[]`.
    impl DescribeArg for Args {
        fn describe_arg(types: &mut EventTypes, _name: Option<&'static str>) {
            types.push_rest();
        }
    }

    /// Takes no argument.
    impl DescribeArg for EventName {
        fn describe_arg(_types: &mut EventTypes, _name: Option<&'static str>) {}
    }
}
