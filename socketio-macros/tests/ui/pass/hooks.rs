use socketio_core::{ConnectError, DisconnectReason, SocketRef};
use socketio_macros::namespace;

#[derive(serde::Deserialize)]
struct Auth {
    token: String,
}

struct WithAuth;

#[namespace("/with-auth")]
impl WithAuth {
    #[on_connect]
    async fn connect(&self, _socket: SocketRef, auth: Option<Auth>) -> Result<(), ConnectError> {
        auth.filter(|a| a.token == "t").map(|_| ()).ok_or_else(|| ConnectError::new("no"))
    }

    #[on_disconnect]
    async fn gone(&self, _socket: SocketRef, _reason: DisconnectReason) {}
}

struct Plain;

#[namespace("/plain")]
impl Plain {
    #[on_connect]
    fn connect(&self, socket: SocketRef) {
        socket.join("everyone");
    }

    #[on_disconnect]
    fn gone(&self, _socket: SocketRef) {}
}

struct StrError;

#[namespace("/str-error")]
impl StrError {
    #[on_connect]
    async fn connect(&self, _socket: SocketRef, auth: serde_json::Value) -> Result<(), &'static str> {
        if auth.is_object() { Ok(()) } else { Err("auth must be an object") }
    }
}

fn main() {
    let io = socketio_core::SocketIo::new();
    io.register(WithAuth);
    io.register(Plain);
    io.register(StrError);
}
