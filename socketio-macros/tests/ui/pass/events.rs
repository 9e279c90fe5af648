use socketio_core::{AckSender, Args, SocketRef};
use socketio_macros::namespace;

#[derive(serde::Deserialize, serde::Serialize)]
struct Msg {
    text: String,
}

#[derive(Default)]
struct Events;

#[namespace("/events")]
impl Events {
    #[on("no args")]
    async fn no_args(&self, _socket: SocketRef) {}

    #[on("one")]
    async fn one(&self, _socket: SocketRef, msg: Msg) -> Msg {
        msg
    }

    #[on("several")]
    fn several(&self, _socket: SocketRef, a: i32, b: String, c: Option<bool>) -> (i32, String, Option<bool>) {
        (a, b, c)
    }

    #[on("escape hatches")]
    fn escape(&self, _socket: SocketRef, v: serde_json::Value, data: bytes::Bytes) -> (serde_json::Value, usize) {
        (v, data.len())
    }

    #[on("everything")]
    fn everything(&self, _socket: SocketRef, all: Args) -> usize {
        all.len()
    }

    #[on("later")]
    async fn later(&self, _socket: SocketRef, name: String, ack: AckSender) {
        let _ = ack.send(&name);
    }

    #[on("fallible")]
    async fn fallible(&self, _socket: SocketRef, n: u8) -> Result<u8, String> {
        n.checked_add(1).ok_or_else(|| "overflow".to_string())
    }

    /// Not a handler.
    fn helper(&self) -> u8 {
        1
    }
}

fn main() {
    let io = socketio_core::SocketIo::new();
    io.register(Events);
    let _ = Events.helper();
}
