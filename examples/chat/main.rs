//! A browser chat on axum + socket.io, written with `#[namespace]`, showing the framework's
//! features a newcomer looks for:
//!
//! - a namespace **middleware** (`#[middleware]`) that checks the nickname (1 to 32
//!   characters, counted as Unicode scalar values, not bytes) before the socket connects;
//! - shared **state** (`State<Nicknames>`) so a nickname in use is refused;
//! - per-socket **data** (`socket.set_data` / `socket.data`), kept for recovery;
//! - **connection state recovery**: a page whose network drops comes back within two minutes
//!   with the same socket, its room and the messages it missed (`socket.recovered()`);
//! - **rooms**: switch rooms without reloading, with the member list of the current room;
//! - **typed emits** (`#[derive(ServerEvents)]`, `TypedSocket<ChatEvents>`) and the
//!   **TypeScript** declarations of the chat (`--emit-ts`);
//! - a graceful shutdown on Ctrl-C or SIGTERM (`socketio_axum::Server`): pages reconnect by themselves
//!   when the server comes back.
//!
//! Run `cargo run --example chat` and open http://127.0.0.1:3000 in two browser tabs.
//! Set `PORT` to listen elsewhere and `RUST_LOG=debug` for protocol logs. The page
//! (`static/index.html`) uses the browser build of socket.io-client served next to it.
//!
//! Two servers sharing one chat through Redis (users on either port see each other's
//! messages): `REDIS_URL=redis://127.0.0.1:6379 PORT=3001 cargo run --example chat` and the same
//! with `PORT=3002`. Nicknames and member lists are then per server: the cluster's socket
//! listing (`fetch_sockets`) does not carry `socket.data` yet.
//!
//! `cargo run --example chat -- --emit-ts chat.d.ts` writes the TypeScript declarations of the
//! chat (`ClientToServerEvents`, `ServerToClientEvents`, `SocketAuth`) for a typed
//! socket.io-client, and exits.
//!
//! `tests/browser.rs` drives this page in headless Chromium, `tests/interop.rs` the server with
//! the Node socket.io-client, `tests/typescript.rs` its declarations with `tsc`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, Weak};

use axum::response::{Html, IntoResponse};
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use socketio_core::adapter::RecoveryConfig;
use socketio_core::{
    ConnectError, DisconnectReason, Namespace, Socket, SocketIo, SocketRef, State, TypedBroadcast,
    TypedSocket,
};
use socketio_macros::{namespace, ServerEvents};
use ts_rs::TS;

/// The rooms of the chat. Clients cannot make up rooms: a socket's own room is named by its id,
/// and joining another socket's id would read its private messages.
pub const ROOMS: [&str; 3] = ["lobby", "rust", "random"];

/// The most characters (Unicode scalar values, not bytes) in a nickname.
pub const MAX_NICKNAME: usize = 32;

/// The most characters in a message.
pub const MAX_MESSAGE: usize = 2000;

/// What the page sends when it connects.
#[derive(Deserialize, TS)]
pub struct Auth {
    name: String,
}

/// What the chat keeps of a user on its socket (socket.io's `socket.data`): serializable, so a
/// recovered socket has it back without going through the middleware again.
#[derive(Serialize, Deserialize)]
struct User {
    name: String,
}

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

/// Who is in a room, sorted: sent to the room's members whenever someone joins or leaves it.
#[derive(Serialize, TS)]
pub struct Members {
    room: String,
    names: Vec<String>,
}

/// What the chat sends to the page: a typed socket emits nothing else.
#[derive(ServerEvents)]
#[server_events(typescript)]
pub enum ChatEvents {
    /// A line from someone in the room.
    #[event("message")]
    Message(Line),
    /// A notice: someone joined, left or came back.
    #[event("system")]
    System(String),
    /// The members of the room, after a change.
    #[event("members")]
    Members(Members),
}

/// The nicknames in use on this server, each with the socket holding it: the chat's shared
/// state (`SocketIo::builder().state(..)`, read by a `State<Nicknames>` parameter).
///
/// A name is free again when its socket leaves (the disconnect handler releases it, through a
/// handle the connect handler left on the socket: disconnect handlers take no `State`) or,
/// should that handler never run (a connection closed while its connect handler ran), as soon
/// as the socket is gone: the entry holds the socket weakly and checks [`Socket::connected`].
#[derive(Default)]
pub struct Nicknames(Mutex<HashMap<String, Weak<Socket>>>);

impl Nicknames {
    /// Gives `name` to `socket` unless another connected socket has it.
    fn claim(&self, name: &str, socket: &SocketRef) -> bool {
        let mut names = self.0.lock().unwrap();
        let held = names
            .get(name)
            .and_then(Weak::upgrade)
            .is_some_and(|holder| holder.connected() && holder.id() != socket.id());
        if !held {
            names.insert(name.to_owned(), Arc::downgrade(socket));
        }
        !held
    }

    /// Frees `name` if `socket` holds it.
    fn release(&self, name: &str, socket: &SocketRef) {
        let mut names = self.0.lock().unwrap();
        if names
            .get(name)
            .is_some_and(|held| std::ptr::eq(held.as_ptr(), Arc::as_ptr(socket)))
        {
            names.remove(name);
        }
    }
}

/// The nickname given at connection, or an empty string for a socket without one.
fn nick(socket: &SocketRef) -> String {
    socket.data::<User>().map(|u| u.name).unwrap_or_default()
}

/// The one chat room a socket is in (besides its own id room).
fn current_room(socket: &SocketRef) -> Option<String> {
    let own = socket.id().to_string();
    socket.rooms().into_iter().find(|r| *r != own)
}

/// Who is in `room` now (on this server).
fn members(ns: &Arc<Namespace>, room: &str) -> Members {
    let mut names: Vec<String> = ns.to(room).sockets().iter().map(nick).collect();
    names.sort_by_key(|n| n.to_lowercase());
    Members {
        room: room.to_owned(),
        names,
    }
}

/// Sends the member list of `room` to everyone in it.
fn send_members(ns: &Arc<Namespace>, room: &str) {
    let _ = TypedBroadcast::new(ns.to(room)).emit(ChatEvents::Members(members(ns, room)));
}

/// The chat: one shared instance handles every socket of the main namespace.
#[derive(Default)]
pub struct Chat;

#[namespace("/", typescript, emits = ChatEvents)]
impl Chat {
    /// Runs before the socket connects (not for a recovered socket, which keeps its checked
    /// name in its data): refuses a nickname that is empty or longer than [`MAX_NICKNAME`]
    /// characters, or that holds control characters; the page shows the message in red.
    #[middleware]
    fn nickname(&self, socket: SocketRef, auth: Auth) -> Result<(), ConnectError> {
        let name = auth.name.trim();
        let chars = name.chars().count();
        if chars == 0 || chars > MAX_NICKNAME {
            return Err(ConnectError::new(format!(
                "pick a nickname of 1 to {MAX_NICKNAME} characters"
            )));
        }
        if name.chars().any(char::is_control) {
            return Err(ConnectError::new(
                "a nickname cannot hold control characters",
            ));
        }
        socket
            .set_data(&User {
                name: name.to_owned(),
            })
            .map_err(|_| ConnectError::new("internal server error"))
    }

    /// Claims the nickname, refusing one in use. A recovered socket is back in its room: the
    /// others are told and get the new member list.
    #[on_connect]
    fn connect(
        &self,
        socket: TypedSocket<ChatEvents>,
        _auth: Auth,
        names: State<Nicknames>,
    ) -> Result<(), ConnectError> {
        let name = nick(socket.untyped());
        if !names.claim(&name, socket.untyped()) {
            return Err(ConnectError::new(format!(
                "the nickname {name} is in use, pick another"
            )));
        }
        socket.insert_extension(names);
        if socket.recovered() {
            if let Some(room) = current_room(socket.untyped()) {
                let _ = socket
                    .to(room.clone())
                    .emit(ChatEvents::System(format!("{name} is back")));
                send_members(socket.namespace(), &room);
            }
        }
        Ok(())
    }

    /// Moves the socket to `room` (one of [`ROOMS`]); acks with the room the socket is in
    /// afterwards (its former one, or `""`, for a room that does not exist).
    #[on("join")]
    fn join(&self, socket: TypedSocket<ChatEvents>, room: String) -> String {
        let old = current_room(socket.untyped());
        if !ROOMS.contains(&room.as_str()) || old.as_deref() == Some(room.as_str()) {
            if let Some(old) = &old {
                let _ = socket.emit(ChatEvents::Members(members(socket.namespace(), old)));
            }
            return old.unwrap_or_default();
        }
        let name = nick(socket.untyped());
        if let Some(old) = old {
            socket.leave(&old);
            let _ = socket
                .to(old.clone())
                .emit(ChatEvents::System(format!("{name} left {old}")));
            send_members(socket.namespace(), &old);
        }
        socket.join(room.clone());
        let _ = socket
            .to(room.clone())
            .emit(ChatEvents::System(format!("{name} joined {room}")));
        send_members(socket.namespace(), &room);
        room
    }

    /// Sends a line to the others in the room; acks with how many got it, or refuses an
    /// empty line or one over [`MAX_MESSAGE`] characters.
    #[on("message")]
    fn message(&self, socket: TypedSocket<ChatEvents>, text: String) -> Result<Delivered, String> {
        let room = current_room(socket.untyped()).ok_or("join a room first")?;
        if text.trim().is_empty() {
            return Err("an empty message".into());
        }
        if text.chars().count() > MAX_MESSAGE {
            return Err(format!("a message has {MAX_MESSAGE} characters at most"));
        }
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

    /// Frees the nickname and tells the room. After a lost connection the socket may come
    /// back (recovery), then `connect` claims the name again.
    #[on_disconnect]
    async fn gone(&self, socket: TypedSocket<ChatEvents>, reason: DisconnectReason) {
        let name = nick(socket.untyped());
        tracing::info!(nick = name, %reason, "left");
        if let Some(names) = socket.extension::<State<Nicknames>>() {
            names.release(&name, socket.untyped());
        }
        if let Some(room) = current_room(socket.untyped()) {
            let _ = socket
                .to(room.clone())
                .emit(ChatEvents::System(format!("{name} left")));
            send_members(socket.namespace(), &room);
        }
    }
}

/// The chat server, also started by `tests/interop.rs` and `tests/browser.rs`: the `Chat`
/// namespace, the nicknames in use, and connection state recovery (default: two minutes).
pub fn chat_server() -> SocketIo {
    let io = SocketIo::builder()
        .state(Nicknames::default())
        .connection_state_recovery(RecoveryConfig::default())
        .build();
    io.register(Chat);
    io
}

/// The page, its script and its icon (the Socket.IO path is added by the server).
pub fn pages() -> Router {
    Router::new()
        .route("/", get(index))
        .route("/socket.io.min.js", get(client_js))
        .route("/favicon.svg", get(favicon))
        .route("/favicon.ico", get(favicon))
}

/// The HTTP server of the chat: `io` and [`pages`] on `listener`. `.run()` serves until Ctrl-C
/// or SIGTERM, `.run_until(signal)` until `signal`; then it shuts down gracefully: pages see
/// their connection close and reconnect when a server is back.
pub fn http_server(listener: tokio::net::TcpListener, io: SocketIo) -> socketio_axum::Server {
    socketio_axum::Server::new(listener, io).router(pages())
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

async fn favicon() -> impl IntoResponse {
    (
        [
            ("content-type", "image/svg+xml"),
            ("cache-control", "max-age=86400"),
        ],
        include_str!("static/favicon.svg"),
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
    let port: u16 = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(3000);
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let listener = tokio::net::TcpListener::bind(addr).await?;
    tracing::info!("chat on http://{}", listener.local_addr()?);
    http_server(listener, io).run().await
}
