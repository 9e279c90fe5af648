//! The server of the README's "Writing a server" section, kept compiling here.
//!
//! `cargo run --example quickstart`, then connect a socket.io client to
//! `http://127.0.0.1:3000/chat` with `auth: { token: "secret" }`.

use axum::Router;
use serde::Deserialize;
use socketio_axum::SocketIoRouterExt;
use socketio_core::{ConnectError, DisconnectReason, SocketIo, SocketRef};

#[derive(Deserialize)]
struct Auth {
    token: String,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let io = SocketIo::builder().cors_allowed_origins(["*"]).build();

    io.ns("/chat")
        // refuse a connection with a message the client receives as connect_error
        .on_connect(|socket: SocketRef, auth: Auth| async move {
            if auth.token != "secret" {
                return Err(ConnectError::new("unauthorized"));
            }
            socket.join("lobby");
            Ok(())
        })
        // typed arguments; the return value is the ack (a tuple acks with several arguments)
        .on(
            "message",
            |socket: SocketRef, room: String, text: String| async move {
                socket.to(room).emit("message", &text).ok();
                ("delivered", 1)
            },
        )
        .on_disconnect(|_socket: SocketRef, reason: DisconnectReason| async move {
            println!("gone: {reason}");
        });

    let app = Router::new().socketio(&io);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    axum::serve(listener, app).await
}
