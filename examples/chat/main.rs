//! A browser chat on axum + socket.io, written with `#[namespace]`: nicknames checked at
//! connect, rooms, message acks.
//!
//! Run `cargo run --example chat` and open http://127.0.0.1:3000 in two browser tabs.
//! Set `PORT` to listen elsewhere and `RUST_LOG=debug` for protocol logs.
//!
//! Two servers sharing one chat through Redis (users on either port see each other):
//! `REDIS_URL=redis://127.0.0.1:6379 PORT=3001 cargo run --example chat` and the same with
//! `PORT=3002`.
//!
//! `cargo run --example chat -- --emit-ts chat.d.ts` writes the TypeScript declarations of the
//! chat (`ClientToServerEvents`, `ServerToClientEvents`, `SocketAuth`) for a typed
//! socket.io-client, and exits.

use std::net::SocketAddr;

use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use socketio_axum::SocketIoRouterExt;
use socketio_core::{ConnectError, DisconnectReason, SocketIo, SocketRef, TypedSocket};
use socketio_macros::{namespace, ServerEvents};
use ts_rs::TS;

/// What the page sends when it connects.
#[derive(Deserialize, TS)]
pub struct Auth {
    name: String,
}

/// The nickname, kept on the socket.
#[derive(Clone)]
struct Nick(String);

/// A chat line as the page shows it.
#[derive(Serialize, TS)]
pub struct Line {
    from: String,
    text: String,
    room: String,
}

/// The ack of a sent message: how many other people were in the room.
#[derive(Serialize, TS)]
pub struct Delivered {
    recipients: usize,
}

/// What the chat sends to the page: a typed socket emits nothing else.
#[derive(ServerEvents)]
#[server_events(typescript)]
pub enum ChatEvents {
    /// A line from someone in the room.
    #[event("message")]
    Message(Line),
    /// A notice: someone joined or left.
    #[event("system")]
    System(String),
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

#[namespace("/", typescript, emits = ChatEvents)]
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
    fn join(&self, socket: TypedSocket<ChatEvents>, room: String) -> String {
        let name = nick(socket.untyped());
        if let Some(old) = current_room(socket.untyped()) {
            socket.leave(&old);
            let _ = socket
                .to(old.clone())
                .emit(ChatEvents::System(format!("{name} left {old}")));
        }
        socket.join(room.clone());
        let _ = socket
            .to(room.clone())
            .emit(ChatEvents::System(format!("{name} joined {room}")));
        room
    }

    /// Sends a line to the others in the room; acks with how many got it.
    #[on("message")]
    fn message(
        &self,
        socket: TypedSocket<ChatEvents>,
        text: String,
    ) -> Result<Delivered, &'static str> {
        let room = current_room(socket.untyped()).ok_or("join a room first")?;
        let others = socket.to(room.clone());
        let _ = others.emit(ChatEvents::Message(Line {
            from: nick(socket.untyped()),
            text,
            room,
        }));
        Ok(Delivered {
            recipients: others.untyped().sockets().len(),
        })
    }

    #[on_disconnect]
    async fn gone(&self, socket: TypedSocket<ChatEvents>, reason: DisconnectReason) {
        let name = nick(socket.untyped());
        tracing::info!(nick = name, %reason, "left");
        if let Some(room) = current_room(socket.untyped()) {
            let _ = socket
                .to(room)
                .emit(ChatEvents::System(format!("{name} left")));
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
    let args: Vec<String> = std::env::args().collect();
    if let [_, flag, path] = &args[..] {
        if flag == "--emit-ts" {
            let dts = io.typescript().map_err(std::io::Error::other)?;
            std::fs::write(path, dts)?;
            tracing::info!(path, "TypeScript declarations written");
            return Ok(());
        }
    }
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
