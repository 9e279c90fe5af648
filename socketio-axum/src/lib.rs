//! Mount a [`socketio_core::SocketIo`] server on an axum [`Router`], or run it standalone.
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use socketio_axum::SocketIoRouterExt;
//! use socketio_core::{SocketIo, SocketRef};
//!
//! # async fn run() -> std::io::Result<()> {
//! let io = SocketIo::new();
//! io.ns("/").on("echo", |_s: SocketRef, msg: String| async move { msg });
//!
//! let app = Router::new()
//!     .route("/health", get(|| async { "ok" })) // your routes keep working
//!     .socketio(&io);
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await
//! # }
//! ```

mod server;

use std::future::Future;
use std::net::SocketAddr;

use axum::Router;
use socketio_core::SocketIo;

pub use server::Server;

use axum::extract::{ConnectInfo, Request};
use axum::middleware::Next;
use axum::response::Response;
pub use socketio_core;

/// Adds the Socket.IO endpoint to a router.
pub trait SocketIoRouterExt {
    /// Routes the server's path (default `/socket.io/`, with or without the trailing slash) to
    /// the Socket.IO service.
    fn socketio(self, io: &SocketIo) -> Self;
}

impl<S: Clone + Send + Sync + 'static> SocketIoRouterExt for Router<S> {
    fn socketio(self, io: &SocketIo) -> Self {
        let path = io.path().to_owned();
        let bare = path.trim_end_matches('/').to_owned();
        let router = self.route_service(&path, io.service());
        if bare.is_empty() || bare == path {
            router
        } else {
            router.route_service(&bare, io.service())
        }
    }
}

/// Serves `io` alone on `addr` until Ctrl-C or SIGTERM, then shuts down gracefully (see
/// [`Server::run_until`]): for programs without a web app of their own. The HTTP server has
/// [`Server`]'s default bounds (60 s to send request headers, 16 KiB of headers).
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let io = socketio_core::SocketIo::new();
/// socketio_axum::serve(([127, 0, 0, 1], 3000).into(), io).await
/// # }
/// ```
pub async fn serve(addr: SocketAddr, io: SocketIo) -> std::io::Result<()> {
    Server::bind(addr, io).await?.run().await
}

/// Serves `io` alone on `addr` until `signal` completes, then shuts down gracefully: stops
/// accepting, [`SocketIo::close`]s the server (every client disconnected with "server shutting
/// down", disconnect handlers run, queued packets flushed, the cluster left, within the
/// builder's `shutdown_timeout`) and returns.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let io = socketio_core::SocketIo::new();
/// let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
/// # drop(stop);
/// socketio_axum::serve_with_shutdown(([127, 0, 0, 1], 3000).into(), io, async {
///     let _ = stopped.await;
/// })
/// .await
/// # }
/// ```
pub async fn serve_with_shutdown(
    addr: SocketAddr,
    io: SocketIo,
    signal: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    Server::bind(addr, io).await?.run_until(signal).await
}

/// An axum middleware that gives socket.io the client's address when the app is served by
/// `axum::serve` (which [`Server`] does not need): it copies the request's
/// [`ConnectInfo<SocketAddr>`] into the [`SocketAddr`] extension that socketio-core reads for
/// [`Handshake::address`](socketio_core::Handshake::address) (socket.io's
/// `socket.handshake.address`). Without `ConnectInfo` (the app not served with
/// `into_make_service_with_connect_info::<SocketAddr>()`) it does nothing. Add it after
/// [`socketio`](SocketIoRouterExt::socketio), so that it wraps the socket.io routes.
///
/// ```no_run
/// use std::net::SocketAddr;
/// use axum::{middleware, Router};
/// use socketio_axum::SocketIoRouterExt;
///
/// # async fn run() -> std::io::Result<()> {
/// let io = socketio_core::SocketIo::new();
/// let app = Router::new()
///     .socketio(&io)
///     .layer(middleware::from_fn(socketio_axum::peer_address));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>()).await
/// # }
/// ```
pub async fn peer_address(mut request: Request, next: Next) -> Response {
    if let Some(ConnectInfo(peer)) = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .copied()
    {
        request.extensions_mut().insert(peer);
    }
    next.run(request).await
}
