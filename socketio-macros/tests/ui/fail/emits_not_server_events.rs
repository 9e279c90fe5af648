use socketio_core::SocketRef;
use socketio_macros::namespace;

struct NotEvents;

struct Chat;

#[namespace("/chat", emits = NotEvents)]
impl Chat {
    #[on("n")]
    fn n(&self, _socket: SocketRef) {}
}

fn main() {}
