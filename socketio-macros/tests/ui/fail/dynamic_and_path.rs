use socketio_core::SocketRef;
use socketio_macros::namespace;

struct Both;

#[namespace("/room", dynamic = "^/room-[0-9]+$")]
impl Both {
    #[on("a")]
    fn a(&self, _socket: SocketRef) {}
}

struct Neither;

#[namespace(crate = "socketio_core")]
impl Neither {
    #[on("a")]
    fn a(&self, _socket: SocketRef) {}
}

fn main() {}
