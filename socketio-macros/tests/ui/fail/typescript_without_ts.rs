use socketio_core::SocketRef;
use socketio_macros::namespace;

#[derive(serde::Deserialize)]
struct NoTs {
    n: u32,
}

struct Chat;

#[namespace("/chat", typescript)]
impl Chat {
    #[on("n")]
    fn n(&self, _socket: SocketRef, value: NoTs) -> u32 {
        value.n
    }
}

fn main() {}
