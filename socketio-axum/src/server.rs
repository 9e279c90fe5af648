//! The standalone HTTP server: hyper's HTTP/1 connection handling with the timeouts and limits a
//! server facing the internet needs, and a graceful shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use socketio_core::SocketIo;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};

use crate::SocketIoRouterExt;

/// What a refused connection reads before it is closed (over [`Server::max_connections`]).
const BUSY: &[u8] =
    b"HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";

/// A standalone HTTP server for a [`SocketIo`] (and optionally your own routes), with bounds
/// against hostile clients and a graceful shutdown. [`crate::serve`] and
/// [`crate::serve_with_shutdown`] are this with the defaults.
///
/// Bounds (each an option below; the reference is Node's `http.Server`, which socket.io
/// attaches to):
///
/// - **request headers** must arrive within [`header_read_timeout`](Self::header_read_timeout)
///   (default 60 s, Node's `headersTimeout`); an idle keep-alive connection is closed after the
///   same time (the timer runs while waiting for the next request's headers). Slow-loris
///   clients that send half a header and then nothing are cut off.
/// - **headers size**: at most [`max_header_size`](Self::max_header_size) bytes (default
///   16 KiB, Node's `maxHeaderSize`); larger ones get `431` and the connection closes.
/// - **connections**: at most [`max_connections`](Self::max_connections) at once (default
///   none, as Node's `maxConnections`): each one over the limit gets a `503` and is closed at
///   once, so a flood of half-open connections cannot use up the process's file descriptors
///   and lock everyone out. Set it below the file limit (`ulimit -n`) less what the program
///   needs otherwise.
/// - **polling request bodies** are bounded in time and size by the engine itself
///   ([`socketio_core::SocketIoBuilder::http_body_timeout`] and `max_payload`), and sessions by
///   the heartbeat, `connect_timeout` and `upgrade_timeout`: those hold on any server.
///
/// If you mount [`SocketIo::service`] on your own hyper or axum server instead, give it the
/// same header timeout: `axum::serve` sets none, so half-open connections stay open for good.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// use std::time::Duration;
/// let io = socketio_core::SocketIo::new();
/// let listener = tokio::net::TcpListener::bind("0.0.0.0:3000").await?;
/// socketio_axum::Server::new(listener, io)
///     .header_read_timeout(Duration::from_secs(20))
///     .max_connections(50_000)
///     .run_until(async { tokio::signal::ctrl_c().await.unwrap() })
///     .await
/// # }
/// ```
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    io: SocketIo,
    router: Router,
    header_read_timeout: Duration,
    max_header_size: usize,
    max_connections: Option<usize>,
}

impl Server {
    /// A server for `io` (on its path) on `listener`, with the default bounds.
    pub fn new(listener: TcpListener, io: SocketIo) -> Self {
        Server {
            listener,
            router: Router::new().socketio(&io),
            io,
            header_read_timeout: Duration::from_secs(60),
            max_header_size: 16 * 1024,
            max_connections: None,
        }
    }

    /// Binds `addr` and makes a server for `io` on it.
    pub async fn bind(addr: SocketAddr, io: SocketIo) -> std::io::Result<Self> {
        Ok(Self::new(TcpListener::bind(addr).await?, io))
    }

    /// Serves `router` too (your routes; the Socket.IO path is added to it).
    pub fn router(mut self, router: Router) -> Self {
        self.router = router.socketio(&self.io);
        self
    }

    /// How long a client may take to send a request's headers, and how long a keep-alive
    /// connection may stay idle (default 60 s, Node's `headersTimeout`). Must be above zero.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Largest request head (request line and headers), in bytes (default 16 KiB, Node's
    /// `maxHeaderSize`); a larger one is answered `431` and the connection closed.
    pub fn max_header_size(mut self, bytes: usize) -> Self {
        self.max_header_size = bytes;
        self
    }

    /// Most connections served at once, WebSockets included (a slot is free when its socket is
    /// closed; default: no limit, as Node). A connection over the limit is answered
    /// `503 Service Unavailable` and closed.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.max_connections = Some(connections);
        self
    }

    /// The address the server listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until Ctrl-C or (on Unix) SIGTERM, then shuts down as [`Server::run_until`].
    pub async fn run(self) -> std::io::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `signal` completes, then shuts down gracefully: stops accepting, closes
    /// the Socket.IO server with [`SocketIo::close`] (clients disconnected with "server
    /// shutting down", disconnect handlers run, queued packets flushed, the cluster left, all
    /// within its `shutdown_timeout`), then lets the HTTP requests in flight finish within the
    /// same time again.
    pub async fn run_until(self, signal: impl Future<Output = ()> + Send) -> std::io::Result<()> {
        let Server {
            listener,
            io,
            router,
            header_read_timeout,
            max_header_size,
            max_connections,
        } = self;
        tracing::info!(addr = %listener.local_addr()?, path = io.path(), "socket.io server listening");
        let slots = max_connections.map(|n| Arc::new(Semaphore::new(n)));
        // `true` once shutting down: each connection then finishes its request in flight
        // and closes. Each connection task holds a `live` receiver; all gone = all closed.
        let (stopping_tx, stopping) = watch::channel(false);
        let (live_tx, live) = watch::channel(());
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(header_read_timeout)
            .max_header_size(max_header_size);
        let mut signal = std::pin::pin!(signal);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(err) => {
                        accept_error(err).await;
                        continue;
                    }
                },
                _ = &mut signal => break,
            };
            let permit = match &slots {
                None => None,
                Some(slots) => match slots.clone().try_acquire_owned() {
                    Ok(permit) => Some(permit),
                    Err(_) => {
                        tracing::debug!(%peer, "connection refused: max_connections reached");
                        refuse(stream);
                        continue;
                    }
                },
            };
            let _ = stream.set_nodelay(true);
            // The permit goes with the socket, into the upgraded connection if it becomes a
            // WebSocket: the slot is free when the socket is closed, whatever served it.
            let stream = Counted {
                stream,
                _permit: permit,
            };
            let conn = builder
                .serve_connection(
                    TokioIo::new(stream),
                    TowerToHyperService::new(WithPeer {
                        router: router.clone(),
                        peer,
                    }),
                )
                .with_upgrades();
            let mut stopping = stopping.clone();
            let live = live.clone();
            tokio::spawn(async move {
                let mut conn = std::pin::pin!(conn);
                let result = tokio::select! {
                    result = conn.as_mut() => result,
                    _ = async { stopping.wait_for(|stop| *stop).await.map(|_| ()) } => {
                        conn.as_mut().graceful_shutdown();
                        conn.await
                    }
                };
                if let Err(err) = result {
                    tracing::debug!(%peer, %err, "connection ended with an error");
                }
                drop(live);
            });
        }
        drop(listener);
        tracing::info!("shutting down");
        let timeout = io.shutdown_timeout();
        io.close().await;
        stopping_tx.send_replace(true);
        drop(live);
        if tokio::time::timeout(timeout, live_tx.closed())
            .await
            .is_err()
        {
            tracing::warn!("HTTP connections still open after the shutdown timeout");
        }
        Ok(())
    }
}

/// A TCP stream holding its slot of [`Server::max_connections`] (if any) until it is dropped.
struct Counted {
    stream: TcpStream,
    _permit: Option<OwnedSemaphorePermit>,
}

impl AsyncRead for Counted {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

/// Answers a connection over the limit with a 503 if its socket takes it at once, then drops
/// it (never waits on the client).
fn refuse(stream: TcpStream) {
    let _ = stream.try_write(BUSY);
}

/// Accept failures: a connection that went away before it was accepted is nothing; anything
/// else (e.g. `EMFILE`, out of file descriptors) is logged and retried after a pause, as hyper
/// 0.14's server and axum do, instead of spinning.
async fn accept_error(err: std::io::Error) {
    use std::io::ErrorKind::*;
    if matches!(
        err.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    ) {
        return;
    }
    tracing::error!(%err, "accept failed");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = ctrl_c => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => ctrl_c.await,
        }
    }
    #[cfg(not(unix))]
    ctrl_c.await;
}

/// The router of one connection: each request gets the peer's address as the extensions
/// [`SocketAddr`] (read by socketio-core for `Handshake::address`) and axum's
/// [`ConnectInfo<SocketAddr>`](axum::extract::ConnectInfo) (for the application's own routes),
/// as `axum::serve` does with `into_make_service_with_connect_info`.
#[derive(Clone)]
struct WithPeer {
    router: Router,
    peer: SocketAddr,
}

impl<B> tower_service::Service<axum::http::Request<B>> for WithPeer
where
    Router: tower_service::Service<axum::http::Request<B>>,
{
    type Response = <Router as tower_service::Service<axum::http::Request<B>>>::Response;
    type Error = <Router as tower_service::Service<axum::http::Request<B>>>::Error;
    type Future = <Router as tower_service::Service<axum::http::Request<B>>>::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        tower_service::Service::<axum::http::Request<B>>::poll_ready(&mut self.router, cx)
    }

    fn call(&mut self, mut request: axum::http::Request<B>) -> Self::Future {
        let extensions = request.extensions_mut();
        extensions.insert(self.peer);
        extensions.insert(axum::extract::ConnectInfo(self.peer));
        self.router.call(request)
    }
}
