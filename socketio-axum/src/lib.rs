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

use std::net::SocketAddr;

use axum::Router;
use socketio_core::SocketIo;

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

/// Serves `io` alone on `addr` until Ctrl-C: for programs without a web app of their own.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let io = socketio_core::SocketIo::new();
/// socketio_axum::serve(([127, 0, 0, 1], 3000).into(), io).await
/// # }
/// ```
pub async fn serve(addr: SocketAddr, io: SocketIo) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!(addr = %listener.local_addr()?, path = io.path(), "socket.io server listening");
    axum::serve(listener, Router::new().socketio(&io))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
