//! A browser chat on axum + socket.io, written with `#[namespace]`: nicknames checked at
//! connect, rooms, message acks.
//!
//! Run `cargo run --example chat` and open http://127.0.0.1:3000 in two browser tabs.
//! Set `PORT` to listen elsewhere and `RUST_LOG=debug` for protocol logs.
//!
//! Two servers sharing one chat through Redis (users on either port see each other):
//! `REDIS_URL=redis://127.0.0.1:6379 PORT=3001 cargo run --example chat` and the same with
//! `PORT=3002`.

use std::net::SocketAddr;

use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use socketio_axum::SocketIoRouterExt;
use socketio_core::{ConnectError, DisconnectReason, SocketIo, SocketRef};
use socketio_macros::namespace;

/// What the page sends when it connects.
#[derive(Deserialize)]
struct Auth {
    name: String,
}

/// The nickname, kept on the socket.
#[derive(Clone)]
struct Nick(String);

/// A chat line as the page shows it.
#[derive(Serialize)]
struct Line<'a> {
    from: &'a str,
    text: &'a str,
    room: &'a str,
}

/// The ack of a sent message: how many other people were in the room.
#[derive(Serialize)]
struct Delivered {
    recipients: usize,
}

fn nick(socket: &SocketRef) -> String {
    socket.extension::<Nick>().map(|n| n.0).unwrap_or_default()
}

/// The one chat room a socket is in (besides its own id room).
fn current_room(socket: &SocketRef) -> Option<String> {
    let own = socket.id().to_string();
    socket.rooms().into_iter().find(|r| *r != own)
}

/// The chat: one shared instance handles every socket of the main namespace.
#[derive(Default)]
pub struct Chat;

#[namespace("/")]
impl Chat {
    /// Refuses empty or long nicknames; the page shows the message.
    #[on_connect]
    async fn connect(&self, socket: SocketRef, auth: Auth) -> Result<(), ConnectError> {
        let name = auth.name.trim().to_owned();
        if name.is_empty() || name.len() > 32 {
            return Err(ConnectError::new("pick a nickname of 1 to 32 characters"));
        }
        socket.insert_extension(Nick(name));
        Ok(())
    }

    /// Moves the socket to `room`; acks with the room joined.
    #[on("join")]
    fn join(&self, socket: SocketRef, room: String) -> String {
        if let Some(old) = current_room(&socket) {
            socket.leave(&old);
            let _ = socket
                .to(old.clone())
                .emit("system", &format!("{} left {old}", nick(&socket)));
        }
        socket.join(room.clone());
        let _ = socket
            .to(room.clone())
            .emit("system", &format!("{} joined {room}", nick(&socket)));
        room
    }

    /// Sends a line to the others in the room; acks with how many got it.
    #[on("message")]
    fn message(&self, socket: SocketRef, text: String) -> Result<Delivered, &'static str> {
        let room = current_room(&socket).ok_or("join a room first")?;
        let name = nick(&socket);
        let others = socket.to(room.clone());
        let _ = others.emit(
            "message",
            &Line {
                from: &name,
                text: &text,
                room: &room,
            },
        );
        Ok(Delivered {
            recipients: others.sockets().len(),
        })
    }

    #[on_disconnect]
    async fn gone(&self, socket: SocketRef, reason: DisconnectReason) {
        tracing::info!(nick = nick(&socket), %reason, "left");
        if let Some(room) = current_room(&socket) {
            let _ = socket
                .to(room)
                .emit("system", &format!("{} left", nick(&socket)));
        }
    }
}

/// The chat server, also started by `tests/interop.rs`.
pub fn chat_server() -> SocketIo {
    let io = SocketIo::new();
    io.register(Chat);
    io
}

async fn index() -> impl IntoResponse {
    Html(include_str!("static/index.html"))
}

async fn client_js() -> impl IntoResponse {
    (
        [("content-type", "application/javascript")],
        include_str!("static/socket.io.min.js"),
    )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let io = chat_server();
    // Several chat servers share their users through Redis when REDIS_URL is set.
    if let Ok(url) = std::env::var("REDIS_URL") {
        let bus = socketio_redis::RedisBus::open(&url).map_err(std::io::Error::other)?;
        io.join_cluster(bus, "chat")
            .await
            .map_err(std::io::Error::other)?;
        tracing::info!(%url, "sharing the chat through redis");
    }
    let app = Router::new()
        .route("/", get(index))
        .route("/socket.io.min.js", get(client_js))
        .socketio(&io);
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("chat on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}
